"""``/products/attributes`` (groups and values) and ``/products/{id}/variants`` (combinations).

Tables: ``product_attributes`` (``ref``, ``ref_ext``, ``label``, ``position``),
``product_attribute_values`` (``fk_product_attribute``, ``ref``, ``value``, ``position``),
``product_combinations`` (``fk_product_parent``, ``fk_product_child``, ``variation_price``,
``variation_price_percentage`` bool, ``variation_weight``, ``variation_ref_ext``,
``attributes``: list of ``[attr_id, value_id]``).

Recorded quirks reproduced (API.md §3.3): a missing attribute answers 200 with an all-null
object; posting a feature set that already exists re-points the combination to a *new* child
product (the old child stays, orphaned) and overwrites the impacts; ``PUT
/products/variants/{id}`` answers ``1`` even for an unknown id; the child's price is the
parent's price plus the impact in the parent's price base.
"""

from __future__ import annotations

from typing import Any

from dolisync.emulators.dolibarr.cat_templates import template
from dolisync.emulators.dolibarr.catalog import new_product_row, num_str, serialize_product
from dolisync.emulators.dolibarr.core import (
    ApiError, Call, DolibarrRouter, ListQuery, as_bool, as_decimal, as_int, as_str, fmt_amount, list_answer, success,
)
from dolisync.emulators.dolibarr.setup_api import note_extrafields_write
from dolisync.emulators.dolibarr.state import DolibarrState, Row
from dolisync.emulators.dolibarr.stock import stock_by_warehouse
from dolisync.mapping.money import r5

__all__ = ["register", "create_variant", "recompute_child_price"]


# ---- attributes --------------------------------------------------------------------------------
def _attribute_full(row: Row, *, entity: Any = "1", rang: Any = None, used: Any = None) -> dict[str, Any]:
    out = template("attribute_full")
    out.update({"id": str(row["id"]), "entity": entity, "ref": row["ref"], "ref_ext": row.get("ref_ext") or "",
                "label": row["label"], "rang": rang, "position": str(row["position"]), "is_used_by_products": used})
    return out


def _is_used(state: DolibarrState, attribute_id: int) -> int:
    return int(any(pair[0] == attribute_id for combo in state.table("product_combinations").values()
                   for pair in combo["attributes"]))


def list_attributes(call: Call) -> Any:
    columns = lambda r: {"t.rowid": r["id"], "t.ref": r["ref"], "t.ref_ext": r.get("ref_ext"),  # noqa: E731
                         "t.label": r["label"], "t.position": r["position"], "t.rang": r["position"]}
    return list_answer(call.state.table("product_attributes").values(), ListQuery.from_call(call),
                       columns=columns, serialize=_attribute_full, default_sort="t.ref",
                       error_prefix="Error when retrieve product attribute list")


def get_attribute(call: Call) -> Any:
    row = call.state.get("product_attributes", call.params["id"])
    if row is None:
        return {"id": None, "entity": 1, "ref": None, "ref_ext": None, "label": None, "position": None,
                "is_used_by_products": 0}
    return {"id": str(row["id"]), "entity": 1, "ref": row["ref"], "ref_ext": row.get("ref_ext") or "",
            "label": row["label"], "position": str(row["position"]), "is_used_by_products": _is_used(call.state, row["id"])}


def get_attribute_by_ref(call: Call) -> Any:
    for row in call.state.table("product_attributes").values():
        if row["ref"].casefold() == call.params["ref"].casefold():
            return {"id": row["id"], "ref": row["ref"], "ref_ext": row.get("ref_ext") or "", "label": row["label"],
                    "rang": row["position"], "position": row["position"], "entity": "1",
                    "is_used_by_products": _is_used(call.state, row["id"])}
    raise ApiError(404, "Attribute not found")


def create_attribute(call: Call) -> int:
    body = call.body_dict()
    ref, label = as_str(body.get("ref")), as_str(body.get("label"))
    if not ref or not label:
        raise ApiError(400, f"{'ref' if not ref else 'label'} field missing")
    table = call.state.table("product_attributes")
    if any(r["ref"].casefold() == ref.casefold() for r in table.values()):
        raise ApiError(500, "Error creating new attribute")
    position = max((r["position"] for r in table.values()), default=0) + 1
    row = {"ref": ref, "label": label, "ref_ext": as_str(body.get("ref_ext"), None), "position": position}
    attribute_id = call.state.insert("product_attributes", row)
    call.state.emit("PRODUCT_ATTRIBUTE_CREATE", _attribute_full(row), {"caller": body["caller"]} if body.get("caller") else {})
    return attribute_id


def update_attribute(call: Call) -> Any:
    row = call.state.get("product_attributes", call.params["id"])
    if row is None:
        raise ApiError(404, "Attribute not found")
    body = call.body_dict()
    for key in ("ref", "label", "ref_ext"):
        if key in body and as_str(body[key]) is not None:
            row[key] = as_str(body[key])
    if "position" in body:
        row["position"] = as_int(body["position"], row["position"])
    return _attribute_full(row, entity=1, rang=str(row["position"]))


def delete_attribute(call: Call) -> Any:
    """``DELETE /products/attributes/{id}`` -> bare ``1`` (even for an unknown id); 500 when used by a variant.

    Checked on a real 23.0.0-beta.
    """
    state = call.state
    if _is_used(state, call.params["id"]):
        raise ApiError(500, "Error deleting attribute")
    state.delete("product_attributes", call.params["id"])
    values = state.table("product_attribute_values")
    for value_id, value in list(values.items()):
        if value["fk_product_attribute"] == call.params["id"]:
            del values[value_id]
    return 1


def _value_full(row: Row) -> dict[str, Any]:
    out = template("attribute_value_full")
    out.update({"id": str(row["id"]), "entity": 1, "ref": row["ref"], "value": row["value"],
                "fk_product_attribute": str(row["fk_product_attribute"]), "position": None})
    return out


def list_values(call: Call) -> Any:
    if call.state.get("product_attributes", call.params["id"]) is None:
        raise ApiError(404, "Attribute not found")
    rows = [r for r in call.state.table("product_attribute_values").values()
            if r["fk_product_attribute"] == call.params["id"]]
    return [_value_full(r) for r in sorted(rows, key=lambda r: (r["position"], r["id"]))]


def create_value(call: Call) -> int:
    state = call.state
    if state.get("product_attributes", call.params["id"]) is None:
        raise ApiError(404, "Attribute not found")
    body = call.body_dict()
    ref, value = as_str(body.get("ref")), as_str(body.get("value"))
    if not ref or not value:
        raise ApiError(400, f"{'ref' if not ref else 'value'} field missing")
    siblings = [r for r in state.table("product_attribute_values").values()
                if r["fk_product_attribute"] == call.params["id"]]
    if any(r["ref"].casefold() == ref.casefold() for r in siblings):
        raise ApiError(500, "Error creating new attribute value")
    position = max((r["position"] for r in siblings), default=-1) + 1
    return state.insert("product_attribute_values", {"fk_product_attribute": call.params["id"], "ref": ref,
                                                     "value": value, "position": position})


def get_value(call: Call) -> Any:
    row = call.state.get("product_attribute_values", call.params["id"])
    if row is None:
        raise ApiError(404, "Attribute value not found")
    return {"id": row["id"], "fk_product_attribute": row["fk_product_attribute"], "ref": row["ref"], "value": row["value"]}


def delete_value(call: Call) -> Any:
    if call.state.delete("product_attribute_values", call.params["id"]) is None:
        raise ApiError(404, "Attribute value not found")
    return success("Object deleted")


# ---- variants -----------------------------------------------------------------------------------
def recompute_child_price(state: DolibarrState, combo: Row) -> None:
    """Child price = parent price + impact, in the parent's price base; weight likewise."""
    parent = state.get("products", combo["fk_product_parent"])
    child = state.get("products", combo["fk_product_child"])
    if parent is None or child is None:
        return
    impact = as_decimal(combo["variation_price"])
    percent = bool(combo["variation_price_percentage"])
    base = parent.get("price_base_type") or "HT"
    factor = 1 + as_decimal(parent["tva_tx"]) / 100
    if base == "TTC":
        start = as_decimal(parent["price_ttc"])
        ttc = r5(start * (1 + impact / 100) if percent else start + impact)
        child.update(price_ttc=ttc, price=r5(ttc / factor), price_base_type="TTC")
    else:
        start = as_decimal(parent["price"])
        price = r5(start * (1 + impact / 100) if percent else start + impact)
        child.update(price=price, price_ttc=r5(price * factor), price_base_type="HT")
    child["tva_tx"] = parent["tva_tx"]
    weight = parent.get("weight")
    child["weight"] = None if weight is None and not combo["variation_weight"] else (
        as_decimal(weight) + as_decimal(combo["variation_weight"]))
    child["tms"] = state.now()


def create_variant(state: DolibarrState, parent_id: int, body: dict[str, Any]) -> int:
    """Create the child product of a feature set and (re)point its combination; returns the child id."""
    parent = state.get("products", parent_id)
    if parent is None:
        raise ApiError(404, "Product not found")
    features = body.get("features")
    if not isinstance(features, dict) or not features:
        raise ApiError(400, "Features is mandatory and should be IDs of attribute values indexed by IDs of attributes")
    pairs: list[list[int]] = []
    for attr_key, value_key in features.items():
        attribute = state.get("product_attributes", as_int(attr_key, 0) or 0)
        value = state.get("product_attribute_values", as_int(value_key, 0) or 0)
        if attribute is None or value is None or value["fk_product_attribute"] != attribute["id"]:
            raise ApiError(404, "Attributes or values not found")
        pairs.append([attribute["id"], value["id"]])
    values = [state.get("product_attribute_values", v) for _, v in pairs]
    attributes = [state.get("product_attributes", a) for a, _ in pairs]
    reference = as_str(body.get("reference")) or "_".join([parent["ref"], *(v["ref"] for v in values if v)])
    child = new_product_row(state, {})
    # "<br>" only between non-empty parts (the first one has no line break)
    description = "<br>".join([part for part in [parent.get("description") or ""] if part] + [
        f"<strong>{a['label']}:</strong> {v['value']}" for a, v in zip(attributes, values) if a and v])
    child.update({
        "ref": reference, "label": " ".join([parent["label"], *(v["value"] for v in values if v)]),
        "description": description, "type": parent["type"], "status": parent["status"],
        "status_buy": parent["status_buy"], "ref_ext": parent.get("ref_ext"),
        "array_options": dict(parent.get("array_options") or {}), "tva_tx": parent["tva_tx"],
        "weight_units": parent.get("weight_units"), "note_public": parent.get("note_public"), "duration": "0",
        "cost_price": parent.get("cost_price"), "barcode_type": parent.get("barcode_type"),
    })
    for key in ("length", "width", "height"):
        child[key] = parent.get(key)
    for key in ("weight_units", "length_units", "width_units", "height_units"):  # written by the child's create
        child[key] = parent.get(key) if parent.get(key) is not None else 0
    note_extrafields_write(state, "product", child, None, update=True)  # a clone of the fetched parent
    child_id = state.insert("products", child)
    combo_fields = {
        "fk_product_child": child_id, "variation_price": as_decimal(body.get("price_impact")),
        "variation_price_percentage": as_bool(body.get("price_impact_is_percent")),
        "variation_weight": as_decimal(body.get("weight_impact")),
        "variation_ref_ext": as_str(body.get("ref_ext"), "") or "",
    }
    wanted = sorted(map(tuple, pairs))
    existing = next((c for c in state.lookup("product_combinations", "parent", parent_id)
                     if sorted(map(tuple, c["attributes"])) == wanted), None)
    if existing is not None:
        existing.update(combo_fields)
        combo = existing
    else:
        combo = {"fk_product_parent": parent_id, "attributes": pairs, **combo_fields}
        state.insert("product_combinations", combo)
    recompute_child_price(state, combo)
    context = {"caller": body["caller"]} if body.get("caller") else {}
    state.emit("PRODUCT_CREATE", serialize_product(state, child), context)
    state.emit("PRODUCT_MODIFY", serialize_product(state, child), context)
    return child_id


def _combination_out(state: DolibarrState, combo: Row, include_stock: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": str(combo["id"]), "fk_product_parent": str(combo["fk_product_parent"]),
        "fk_product_child": str(combo["fk_product_child"]), "variation_price": fmt_amount(combo["variation_price"]),
        "variation_price_percentage": "1" if combo["variation_price_percentage"] else "0",
        "variation_weight": num_str(combo["variation_weight"]), "entity": 1, "combination_price_levels": None,
        "variation_ref_ext": combo.get("variation_ref_ext") or "",
        "attributes": [{"id": str(index + 1), "fk_prod_combination": str(combo["id"]), "fk_prod_attr": str(a),
                        "fk_prod_attr_val": str(v), "error": None, "errors": []}
                       for index, (a, v) in enumerate(combo["attributes"])],
    }
    if include_stock:
        per_warehouse = stock_by_warehouse(state, combo["fk_product_child"])
        out["stock_warehouse"] = {str(w): {"real": num_str(q), "id": str(w)} for w, q in per_warehouse.items()} or []
    return out


def list_variants(call: Call) -> Any:
    state = call.state
    if state.get("products", call.params["id"]) is None:
        raise ApiError(404, "Product not found")
    combos = state.lookup("product_combinations", "parent", call.params["id"])
    include_stock = call.qbool("includestock")
    return [_combination_out(state, c, include_stock) for c in sorted(combos, key=lambda c: c["id"])]


def post_variant(call: Call) -> int:
    return create_variant(call.state, call.params["id"], call.body_dict())


def update_variant(call: Call) -> int:
    state = call.state
    combo = state.get("product_combinations", call.params["id"])
    if combo is None:
        return 1
    body = call.body_dict()
    if "variation_price" in body:
        combo["variation_price"] = as_decimal(body["variation_price"])
    if "variation_price_percentage" in body:
        combo["variation_price_percentage"] = as_bool(body["variation_price_percentage"])
    if "variation_weight" in body:
        combo["variation_weight"] = as_decimal(body["variation_weight"])
    if "variation_ref_ext" in body:
        combo["variation_ref_ext"] = as_str(body["variation_ref_ext"], "") or ""
    recompute_child_price(state, combo)
    return 1


def delete_variant(call: Call) -> int:
    if call.state.delete("product_combinations", call.params["id"]) is None:
        raise ApiError(404, "Variant not found")
    return 1


def register(router: DolibarrRouter) -> None:
    """Routes of attributes, attribute values and variants."""
    read, write = "produit.read", "produit.write"
    router.add("GET", "/products/attributes", list_attributes, perm=read)
    router.add("POST", "/products/attributes", create_attribute, perm=write)
    router.add("GET", "/products/attributes/{id:int}", get_attribute, perm=read)
    router.add("PUT", "/products/attributes/{id:int}", update_attribute, perm=write)
    router.add("DELETE", "/products/attributes/{id:int}", delete_attribute, perm=write)
    router.add("GET", "/products/attributes/ref/{ref}", get_attribute_by_ref, perm=read)
    router.add("GET", "/products/attributes/{id:int}/values", list_values, perm=read)
    router.add("POST", "/products/attributes/{id:int}/values", create_value, perm=write)
    router.add("GET", "/products/attributes/values/{id:int}", get_value, perm=read)
    router.add("DELETE", "/products/attributes/values/{id:int}", delete_value, perm=write)
    router.add("GET", "/products/{id:int}/variants", list_variants, perm=read)
    router.add("POST", "/products/{id:int}/variants", post_variant, perm=write)
    router.add("PUT", "/products/variants/{id:int}", update_variant, perm=write)
    router.add("DELETE", "/products/variants/{id:int}", delete_variant, perm=write)
