"""Shipments: ``POST /orders/{id}/shipment/{warehouse}``, ``GET /orders/{id}/shipment``, ``/shipments``.

A shipment is created as a draft ``(PROVn)`` with every product line of the order; validate
gives ``SH{yymm}-{nnnn}`` (304 when not a draft) and moves the order to "shipping in progress"
(status 2) like Dolibarr; close sets the shipment to 2 and the order to 3 (delivered). The
header amounts are printed as PHP floats (``22.889999999999997``-style noise is not
reproduced: plain numbers). Triggers: ``SHIPPING_CREATE``, ``SHIPPING_VALIDATE``, ``SHIPPING_CLOSED``.
"""

from __future__ import annotations

from typing import Any

from dolisync.emulators.dolibarr.com_common import fire, shape
from dolisync.emulators.dolibarr.com_lines import serialize_line
from dolisync.emulators.dolibarr.invoices import float_totals
from dolisync.emulators.dolibarr.core import ApiError, Call, DolibarrRouter, not_modified
from dolisync.emulators.dolibarr.orders import CLOSED, SHIPPING, get_order_row
from dolisync.emulators.dolibarr.state import DolibarrState, Row

__all__ = ["register", "serialize_shipment"]


def register(router: DolibarrRouter) -> None:
    """Shipment routes."""
    router.add("POST", "/orders/{id:int}/shipment/{warehouse_id:int}", create_shipment, perm="expedition.creer")
    router.add("GET", "/orders/{id:int}/shipment", order_shipments, perm="expedition.lire")
    router.add("GET", "/shipments/{id:int}", get_shipment, perm="expedition.lire")
    router.add("POST", "/shipments/{id:int}/validate", validate_shipment, perm="expedition.creer")
    router.add("POST", "/shipments/{id:int}/close", close_shipment, perm="expedition.creer")


def _shipment_row(state: DolibarrState, shipment_id: int) -> Row:
    row = state.get("shipments", shipment_id)
    if row is None:
        raise ApiError(404, "Shipment not found")
    return row


def create_shipment(call: Call) -> int:
    """``POST /orders/{id}/shipment/{warehouse_id}`` -> the draft shipment id."""
    state = call.state
    order = get_order_row(state, call.params["id"])
    warehouse_id = call.params["warehouse_id"]
    if state.get("warehouses", warehouse_id) is None and state.tables.get("warehouses"):
        raise ApiError(404, "Warehouse not found")
    link_id = state.next_id("element_element")
    row: Row = {"order_id": order["id"], "link_id": link_id, "warehouse_id": warehouse_id, "statut": 0, "datec": state.now(),
                "date_valid": None, "date_shipping": None, "ref": None, "tracking_number": "",
                "lines": [{"id": state.next_id("shipmentlines"), "order_line_id": line["id"], "qty": line["qty"]}
                          for line in order.get("lines", [])]}
    shipment_id = state.insert("shipments", row)
    row["ref"] = state.draft_ref(shipment_id)
    fire(state, "SHIPPING_CREATE", row, {}, undo=lambda: state.delete("shipments", shipment_id))
    return shipment_id


def get_shipment(call: Call) -> dict[str, Any]:
    """``GET /shipments/{id}``."""
    return serialize_shipment(call.state, _shipment_row(call.state, call.params["id"]))


def order_shipments(call: Call) -> list[dict[str, Any]]:
    """``GET /orders/{id}/shipment``."""
    order = get_order_row(call.state, call.params["id"])
    rows = [r for r in call.state.table("shipments").values() if r["order_id"] == order["id"]]
    return [serialize_shipment(call.state, r, template="order_shipment") for r in sorted(rows, key=lambda r: r["id"])]


def validate_shipment(call: Call) -> Any:
    """``POST /shipments/{id}/validate`` -> the shipment with ``SH...``."""
    state = call.state
    row = _shipment_row(state, call.params["id"])
    if row["statut"] != 0:
        return not_modified()
    row.update({"statut": 1, "date_valid": state.now(), "ref": state.next_ref("SH")})
    order = state.get("orders", row["order_id"])
    if order is not None and order["statut"] == 1:
        order["statut"] = SHIPPING
    fire(state, "SHIPPING_VALIDATE", row, {})
    out = serialize_shipment(state, row)
    out.pop("actiontypecode", None)
    out["trackid"] = f"shi{row['id']}"
    return out


def close_shipment(call: Call) -> Any:
    """``POST /shipments/{id}/close`` -> the shipment (status 2); the order becomes delivered."""
    state = call.state
    row = _shipment_row(state, call.params["id"])
    if row["statut"] == 2:
        return not_modified()
    now = state.now()
    row.update({"statut": 2, "date_shipping": now, "date_valid": row.get("date_valid") or now})
    order = state.get("orders", row["order_id"])
    if order is not None:
        order["statut"] = CLOSED
        order["date_cloture"] = now
    fire(state, "SHIPPING_CLOSED", row, {})
    return serialize_shipment(state, row)


def _float(value: Any) -> Any:
    number = float(value)
    return int(number) if number.is_integer() else number


def serialize_shipment(state: DolibarrState, row: Row, *, template: str = "shipment") -> dict[str, Any]:
    """A shipment as ``GET /shipments/{id}`` prints it (``order_shipment``: as listed by an order)."""
    out = shape(template)
    order = state.get("orders", row["order_id"]) or {"lines": [], "socid": None, "id": row["order_id"]}
    by_id = {line["id"]: line for line in order.get("lines", [])}
    shipped = [by_id[l["order_line_id"]] for l in row["lines"] if l["order_line_id"] in by_id]
    totals = float_totals({"lines": shipped})
    lines = []
    for item in row["lines"]:
        source = by_id.get(item["order_line_id"])
        if source is None:
            continue
        line = shape("order_shipment_line" if template == "order_shipment" else "shipment_line")
        printed = serialize_line(state, source, "order_line", order["id"])
        for key in line:
            if key in printed:
                line[key] = printed[key]
        qty = printed["qty"]
        line["ref_ext"] = None
        line["product_desc"] = None
        line["product_custom_code"] = None
        product = state.get("products", source["fk_product"]) if source.get("fk_product") else None
        if product is not None:
            from dolisync.emulators.dolibarr.catalog import serialize_product

            dims = serialize_product(state, product)
            for key in ("length", "length_units", "width", "width_units", "height", "height_units", "surface",
                        "surface_units", "volume", "volume_units", "weight", "weight_units"):
                if key in line:
                    line[key] = dims.get(key) if dims.get(key.replace("_units", "")) is not None else None
        line.update({
            "id": str(item["id"]), "rowid": str(item["id"]), "line_id": str(item["id"]),
            "fk_elementdet": str(source["id"]), "origin_line_id": str(source["id"]), "element_type": "commande",
            "fk_origin": "orderline", "fk_expedition": row["id"], "qty_shipped": qty, "qty_asked": qty,
            "details_entrepot": [{"entrepot_id": str(row["warehouse_id"]), "qty_shipped": qty, "line_id": str(item["id"])}],
            "entrepot_id": str(row["warehouse_id"]), "parent_element": "expedition",
            "fk_parent_attribute": "fk_expedition", "stockable_product": "1" if product is not None else None,
            "multicurrency_total_ht": printed["multicurrency_total_ht"],
            "multicurrency_total_tva": printed["multicurrency_total_tva"],
            "multicurrency_total_ttc": printed["multicurrency_total_ttc"],
        })
        for key in ("total_ht", "total_tva", "total_ttc", "total_localtax1", "total_localtax2"):
            if key in line:
                line[key] = _float(source[key])
        lines.append(line)
    shipping = row.get("date_shipping")
    valid = row.get("date_valid")
    out.update({
        "id": row["id"], "entity": "1",
        "linkedObjectsIds": {"commande": {str(row.get("link_id", row["id"])): str(order["id"])}} if template == "shipment" else None,
        "origin_type": "commande", "origin_id": str(order["id"]), "ref": row["ref"], "statut": str(row["statut"]),
        "status": str(row["statut"]), "multicurrency_code": order.get("multicurrency_code") or state.setup.currency,
        "multicurrency_total_ht": totals["multicurrency_total_ht"],
        "multicurrency_total_tva": totals["multicurrency_total_tva"],
        "multicurrency_total_ttc": totals["multicurrency_total_ttc"], "total_ht": totals["total_ht"],
        "total_tva": totals["total_tva"], "total_localtax1": totals["total_localtax1"],
        "total_localtax2": totals["total_localtax2"], "total_ttc": totals["total_ttc"],
        "date_creation": row["datec"], "user_creation_id": "1", "user_author_id": "1", "fk_user_author": "1",
        "socid": str(order.get("socid")), "tracking_number": row.get("tracking_number") or "", "tracking_url": "",
        "billed": "0", "trueSize": "xx", "date_delivery": "", "date": shipping or "", "date_expedition": shipping or "",
        "date_shipping": shipping or "", "date_valid": valid or "", "fk_incoterms": "0", "location_incoterms": "",
        "signed_status": "0", "lines": lines,
    })
    return out
