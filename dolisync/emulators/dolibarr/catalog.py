"""``/products``: create, read (id/ref/ref_ext/barcode), update, delete, lists, stock, prices.

Table ``products`` rows hold native values: ``ref``, ``label``, ``description``, ``type`` (0/1),
``price``/``price_ttc``/``price_min``/``price_min_ttc`` (Decimal, 5 decimals), ``price_base_type``
("HT", "TTC" or "" while no base was ever sent), ``tva_tx`` (Decimal), ``status``/``status_buy``
(0/1), ``barcode``, ``barcode_type``, dimensions and their units, ``cost_price``, ``pmp``,
``ref_ext``, notes, ``array_options`` (dict name -> value), ``datec``/``tms`` (timestamps).

Rules reproduced (API.md §3.2): TTC base reads the amount from ``price_ttc`` only; HT base
computes ``price_ttc``; a PUT re-prices only when price/base/VAT changed and then also prints the
``multiprices*`` arrays; ``stock_reel`` in a PUT is refused; a duplicate ref is refused before
insert, a duplicate barcode after (it consumes an id, like MySQL's auto-increment); a product
used in a sales document cannot be deleted (409); without ``includestockdata`` ``stock_reel`` is
the ``llx_product.stock`` column (null until the first movement, then a string like ``"5"``).
Public helpers for other areas:
:func:`serialize_product`, :func:`product_columns`, :func:`find_product_by_ref`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from dolisync.emulators.dolibarr import stock
from dolisync.emulators.dolibarr.cat_templates import template
from dolisync.emulators.dolibarr.core import (
    ApiError, Call, DolibarrRouter, ListQuery, as_decimal, as_int, as_str, fmt_amount, fmt_datetime, fmt_int,
    fmt_rate, list_answer, success,
)
from dolisync.emulators.dolibarr.setup_api import (
    array_options_in, array_options_out, extrafield_names, modification_stamp, note_extrafields_write,
)
from dolisync.emulators.dolibarr.state import DolibarrState, Row
from dolisync.mapping.money import r5

__all__ = ["register", "serialize_product", "product_columns", "find_product_by_ref", "num_str",
           "apply_price", "SALES_DOCUMENT_TABLES"]

#: Tables whose rows carry ``lines`` with ``fk_product`` (a product used there cannot be deleted).
SALES_DOCUMENT_TABLES = ("orders", "invoices", "shipments", "proposals")

_DIMENSIONS = ("weight", "length", "width", "height")
_TEXT_FIELDS = ("label", "description", "note_public", "note_private", "customcode", "url", "ref_ext",
                "accountancy_code_sell", "accountancy_code_buy")


def num_str(value: Any) -> str | None:
    """A float column as PHP prints it: ``"0.25"``, ``"30"`` (``None`` stays ``None``)."""
    if value is None or value == "":
        return None
    number = as_decimal(value)
    if number == number.to_integral_value():
        return str(int(number))
    return format(number.normalize(), "f")


def _tax_factor(tva_tx: Decimal) -> Decimal:
    return 1 + tva_tx / 100


def apply_price(row: Row, body: dict[str, Any]) -> bool:
    """Set the price fields of ``row`` from ``body`` (create or update). Returns True if changed.

    Prices are computed HT unless the base is ``TTC``; a base never sent stays ``""`` in the row,
    like Dolibarr stores it (checked on a real 23.0.0-beta).
    """
    given = str(body.get("price_base_type") or row.get("price_base_type") or "").upper()
    base = "TTC" if given == "TTC" else ("HT" if given else "")
    tva = as_decimal(body["tva_tx"]) if "tva_tx" in body else as_decimal(row.get("tva_tx"))
    before = (row.get("price"), row.get("price_ttc"), row.get("price_base_type"), row.get("tva_tx"))
    factor = _tax_factor(tva)
    if base == "TTC":
        price_ttc = r5(as_decimal(body.get("price_ttc", row.get("price_ttc"))))
        price = r5(price_ttc / factor)
    else:
        price = r5(as_decimal(body.get("price", row.get("price"))))
        price_ttc = r5(price * factor)
    price_min = as_decimal(body.get("price_min", row.get("price_min")))
    if base == "TTC" and "price_min_ttc" in body:
        price_min_ttc = r5(as_decimal(body["price_min_ttc"]))
        price_min = r5(price_min_ttc / factor)
    else:
        price_min = r5(price_min)
        price_min_ttc = r5(price_min * factor)
    row.update(price=price, price_ttc=price_ttc, price_base_type=base, tva_tx=tva,
               price_min=price_min, price_min_ttc=price_min_ttc)
    return before != (price, price_ttc, base, tva)


def _has_price_fields(body: dict[str, Any]) -> bool:
    return any(k in body for k in ("price", "price_ttc", "price_base_type", "tva_tx"))


def _assign_fields(state: DolibarrState, row: Row, body: dict[str, Any]) -> None:
    for key in _TEXT_FIELDS:
        if key in body:
            row[key] = as_str(body[key], None)
    if "ref" in body:
        row["ref"] = as_str(body["ref"], "") or row.get("ref")
    if "type" in body:
        row["type"] = 1 if as_int(body["type"], 0) == 1 else 0
    for key, column in (("status", "status"), ("tosell", "status"), ("status_buy", "status_buy"), ("tobuy", "status_buy")):
        if key in body:
            row[column] = 1 if as_int(body[key], 0) else 0
    if "barcode" in body:
        row["barcode"] = as_str(body["barcode"], None) or None
    if "barcode_type" in body:
        row["barcode_type"] = as_int(body["barcode_type"], None)
    for key in _DIMENSIONS:
        if key in body:
            row[key] = None if body[key] in (None, "") else as_decimal(body[key])
        if f"{key}_units" in body:
            row[f"{key}_units"] = as_int(body[f"{key}_units"], 0)
    if "cost_price" in body:
        row["cost_price"] = None if body["cost_price"] in (None, "") else as_decimal(body["cost_price"])
    for key in ("seuil_stock_alerte", "desiredstock"):
        if key in body:
            row[key] = as_int(body[key], 0)
    if "array_options" in body:
        row["array_options"] = array_options_in(state, "product", body["array_options"], row.get("array_options"))


def new_product_row(state: DolibarrState, body: dict[str, Any]) -> Row:
    """A product row with defaults, filled from a create body (prices included)."""
    now = state.now()
    row: Row = {
        "ref": "", "label": "", "description": "", "type": 0, "price": Decimal(0), "price_ttc": Decimal(0),
        "price_min": Decimal(0), "price_min_ttc": Decimal(0), "price_base_type": "", "tva_tx": Decimal(0),
        "status": 0, "status_buy": 0, "barcode": None, "barcode_type": None, "cost_price": None,
        "pmp": Decimal(0), "ref_ext": None, "note_public": None, "note_private": None, "array_options": {},
        "weight": None, "length": None, "width": None, "height": None, "weight_units": None,
        "length_units": None, "width_units": None, "height_units": None, "seuil_stock_alerte": 0,
        "desiredstock": 0, "customcode": "", "url": None, "datec": now, "tms": now, "duration": "",
    }
    _assign_fields(state, row, body)
    if _has_price_fields(body):
        apply_price(row, body)
    return row


def _surface_volume(row: Row) -> tuple[str | None, Any, str | None, Any]:
    length, width, height = row.get("length"), row.get("width"), row.get("height")
    lu = row.get("length_units")
    surface = volume = None
    su: Any = 0 if lu is None else "0"
    vu: Any = su
    if length is not None and width is not None and lu is not None and lu == row.get("width_units"):
        surface, su = num_str(length * width), str(lu * 2)
        if height is not None and lu == row.get("height_units"):
            volume, vu = num_str(length * width * height), str(lu * 3)
    return surface, su, volume, vu


def serialize_product(state: DolibarrState, row: Row, *, include_stock: bool = False) -> dict[str, Any]:
    """A product as ``GET /products/{id}`` prints it (string scalars, ~160 keys)."""
    out = template("product")
    surface, surface_units, volume, volume_units = _surface_volume(row)
    out.update({
        "id": str(row["id"]), "entity": "1", "array_options": array_options_out(state, "product", row.get("array_options")),
        "ref": row["ref"], "ref_ext": row.get("ref_ext"), "status": str(row["status"]),
        "barcode_type": fmt_int(row.get("barcode_type")), "note_public": row.get("note_public"),
        "note_private": row.get("note_private"), "date_creation": row["datec"],
        "date_modification": modification_stamp(row),
        "label": row["label"], "description": row.get("description") or "", "type": str(row["type"]),
        "price": fmt_amount(row["price"]), "price_ttc": fmt_amount(row["price_ttc"]),
        "price_min": fmt_amount(row["price_min"]), "price_min_ttc": fmt_amount(row["price_min_ttc"]),
        "price_base_type": row["price_base_type"], "tva_tx": fmt_rate(row["tva_tx"]),
        "cost_price": row.get("cost_price"), "pmp": fmt_amount(row.get("pmp") or 0),
        "seuil_stock_alerte": str(row.get("seuil_stock_alerte") or 0), "desiredstock": str(row.get("desiredstock") or 0),
        "duration": row.get("duration", ""), "status_buy": str(row["status_buy"]),
        "customcode": row.get("customcode") or "", "url": row.get("url"), "barcode": row.get("barcode"),
        "surface": surface, "surface_units": surface_units, "volume": volume, "volume_units": volume_units,
    })
    for key in _DIMENSIONS:
        out[key] = num_str(row.get(key))
        units = row.get(f"{key}_units")
        out[f"{key}_units"] = 0 if units is None else str(units)  # never-written units print as int 0
    per_warehouse = stock.stock_by_warehouse(state, row["id"])
    total = sum(per_warehouse.values(), Decimal(0))
    # without includestockdata: the llx_product.stock column, NULL until the first movement (real 23.0.0-beta)
    out["stock_reel"] = num_str(total) if per_warehouse else None
    if include_stock:
        out["stock_reel"] = total
        out["stock_theorique"] = total
        out["stock_warehouse"] = {str(wid): {"real": num_str(qty), "id": str(wid)}
                                  for wid, qty in per_warehouse.items()} or []
        out["stats_expedition"] = {"customers": "0", "nb": "0", "rows": "0", "qty": 0}
    return out


def product_columns(state: DolibarrState, row: Row, extrafields: list[str] | None = None) -> dict[str, Any]:
    """DB columns of a product for sqlfilters/sortfield (``t.*`` and ``ef.*``).

    ``extrafields`` (the product extrafield names) may be passed to avoid looking them up per row.
    """
    names = extrafield_names(state, "product") if extrafields is None else extrafields
    values = row.get("array_options") or {}
    return {
        "t.rowid": row["id"], "t.ref": row["ref"], "t.label": row["label"], "t.ref_ext": row.get("ref_ext"),
        "t.tosell": row["status"], "t.tobuy": row["status_buy"], "t.fk_product_type": row["type"],
        "t.barcode": row.get("barcode"), "t.fk_barcode_type": row.get("barcode_type"),
        "t.tms": fmt_datetime(row["tms"]), "t.datec": fmt_datetime(row["datec"]), "t.price": row["price"],
        "t.price_ttc": row["price_ttc"], "t.tva_tx": row["tva_tx"], "t.price_base_type": row["price_base_type"],
        "t.description": row.get("description"), "t.note_public": row.get("note_public"),
        "t.note": row.get("note_private"), "t.entity": 1, "t.weight": row.get("weight"),
        "t.cost_price": row.get("cost_price"), "t.pmp": row.get("pmp"), "t.import_key": None,
        **{f"ef.{name}": values.get(name) for name in names},
    }


def find_product_by_ref(state: DolibarrState, ref: str) -> Row | None:
    """The product whose ``ref`` equals ``ref`` (case-insensitive, like MySQL), or ``None``."""
    found = state.lookup("products", "ref", ref.casefold())
    return found[0] if found else None


def _product_or_404(state: DolibarrState, product_id: int) -> Row:
    row = state.get("products", product_id)
    if row is None:
        raise ApiError(404, "Product not found")
    return row


def _emit(state: DolibarrState, code: str, row: Row, caller: Any = None) -> None:
    context = {"caller": caller} if caller else {}
    state.emit(code, serialize_product(state, row), context)


# ---- handlers -------------------------------------------------------------------------------
def create_product(call: Call) -> int:
    body = call.body_dict()
    state = call.state
    for field in ("ref", "label"):
        if not as_str(body.get(field)):
            raise ApiError(400, f"{field} field missing")
    if find_product_by_ref(state, str(body["ref"])) is not None:
        raise ApiError(500, "Error creating product", "ErrorProductAlreadyExists")
    row = new_product_row(state, body)
    note_extrafields_write(state, "product", row, body.get("array_options"), update=False)
    barcode = row.get("barcode")
    if barcode and any(p.get("barcode") == barcode for p in state.lookup("products", "barcode", _fold(barcode))):
        state.next_id("products")  # the failed INSERT consumed an auto-increment value
        text = f"Error : The product barcode {barcode} already exists on another product reference."
        raise ApiError(500, "Error creating product", text, text)
    product_id = state.insert("products", row)
    _emit(state, "PRODUCT_CREATE", row, body.get("caller"))
    return product_id


def get_product(call: Call) -> Any:
    row = _product_or_404(call.state, call.params["id"])
    return serialize_product(call.state, row, include_stock=call.qbool("includestockdata"))


def _fold(value: Any) -> str:
    return str(value).casefold()


def _first(state: DolibarrState, field: str, value: str) -> Row:
    """The lowest-id product whose ``field`` (ref, ref_ext or barcode) equals ``value`` case-insensitively."""
    for row in state.lookup("products", field, value.casefold()):
        if row.get(field) is not None:
            return row
    raise ApiError(404, "Product not found")


def get_by_ref(call: Call) -> Any:
    row = _first(call.state, "ref", call.params["ref"])
    return serialize_product(call.state, row, include_stock=call.qbool("includestockdata"))


def get_by_ref_ext(call: Call) -> Any:
    row = _first(call.state, "ref_ext", call.params["ref_ext"])
    return serialize_product(call.state, row, include_stock=call.qbool("includestockdata"))


def get_by_barcode(call: Call) -> Any:
    row = _first(call.state, "barcode", call.params["barcode"])
    return serialize_product(call.state, row, include_stock=call.qbool("includestockdata"))


def update_product(call: Call) -> Any:
    state = call.state
    row = _product_or_404(state, call.params["id"])
    body = call.body_dict()
    if "stock_reel" in body:
        raise ApiError(400, "Stock reel cannot be updated here. Use the /stockmovements endpoint instead")
    new_ref = as_str(body.get("ref"))
    if new_ref and new_ref != row["ref"]:
        other = find_product_by_ref(state, new_ref)
        if other is not None and other["id"] != row["id"]:
            text = "Error : ErrorProductAlreadyExists"
            raise ApiError(500, "Error updating product", text, text)
    _assign_fields(state, row, body)
    state.reindex("products", row)  # ref, ref_ext or barcode may have changed
    note_extrafields_write(state, "product", row, None, update=True)
    for key in _DIMENSIONS:  # an update writes every column back: unset units become 0
        if row.get(f"{key}_units") is None:
            row[f"{key}_units"] = 0
    price_changed = False
    if _has_price_fields(body):
        snapshot = dict(row)
        price_changed = apply_price(row, body)
        if not price_changed:
            row.update({k: snapshot[k] for k in ("price", "price_ttc", "price_min", "price_min_ttc")})
    row["tms"] = state.now()
    row["duration"] = row.get("duration") or "0"
    out = serialize_product(state, row)
    if price_changed:
        tva_given = body.get("tva_tx")
        out.update({
            "multiprices": [row["price"]], "multiprices_ttc": [row["price_ttc"]],
            "multiprices_base_type": [row["price_base_type"]], "multiprices_default_vat_code": [None],
            "multiprices_min": [row["price_min"]], "multiprices_min_ttc": [row["price_min_ttc"]],
            "multiprices_tva_tx": [str(tva_given) if tva_given is not None else fmt_rate(row["tva_tx"])],
            "level": 0,
        })
        _emit(state, "PRODUCT_PRICE_MODIFY", row, body.get("caller"))
    return out


def product_is_used(state: DolibarrState, product_id: int) -> bool:
    """True when a line of an order/invoice/shipment/proposal points to the product."""
    for table in SALES_DOCUMENT_TABLES:
        for document in state.table(table).values():
            for line in document.get("lines") or ():
                if as_int(line.get("fk_product"), 0) == product_id:
                    return True
    return False


def delete_product(call: Call) -> Any:
    state = call.state
    row = _product_or_404(state, call.params["id"])
    if product_is_used(state, row["id"]):
        raise ApiError(409, "Can't delete, that product is probably used")
    state.delete("products", row["id"])
    for link in state.lookup("category_links", "object", ("product", row["id"])):
        state.delete("category_links", link["id"])
    _emit(state, "PRODUCT_DELETE", row)
    return success("Object deleted")


def _variant_sets(state: DolibarrState) -> tuple[set[int], set[int]]:
    parents: set[int] = set()
    children: set[int] = set()
    for combo in state.table("product_combinations").values():
        parents.add(combo["fk_product_parent"])
        children.add(combo["fk_product_child"])
    return parents, children


def list_products(call: Call) -> Any:
    state = call.state
    query = ListQuery.from_call(call)
    rows: list[Row] = list(state.table("products").values())
    mode = call.qint("mode", 0)
    if mode in (1, 2):
        rows = [r for r in rows if r["type"] == mode - 1]
    category = call.qint("category", 0)
    if category:
        linked = {l["fk_object"] for l in state.lookup("category_links", "category", category)
                  if l["type"] == "product"}
        rows = [r for r in rows if r["id"] in linked]
    variant_filter = call.qint("variant_filter", 0)
    if variant_filter in (1, 2, 3):
        parents, children = _variant_sets(state)
        if variant_filter == 1:
            rows = [r for r in rows if r["id"] not in children]
        elif variant_filter == 2:
            rows = [r for r in rows if r["id"] in parents]
        else:
            rows = [r for r in rows if r["id"] in children]
    include_stock = call.qbool("includestockdata")
    if call.qbool("ids_only"):
        def serialize(row: Row) -> Any:
            return str(row["id"])
        query.properties = None
    else:
        def serialize(row: Row) -> Any:
            return serialize_product(state, row, include_stock=include_stock)
    names = extrafield_names(state, "product")
    return list_answer(rows, query, columns=lambda r: product_columns(state, r, names), serialize=serialize,
                       default_sort="t.ref", error_prefix="Error when retrieve product list")


def product_stock(call: Call) -> Any:
    state = call.state
    row = _product_or_404(state, call.params["id"])
    per_warehouse = stock.stock_by_warehouse(state, row["id"])
    selected = call.qint("selected_warehouse_id")
    shown = {wid: qty for wid, qty in per_warehouse.items() if not selected or wid == selected}
    total = sum(per_warehouse.values(), Decimal(0))
    return {"stock_reel": total, "stock_theorique": total,
            "stock_warehouses": {str(wid): {"real": num_str(qty), "id": str(wid)} for wid, qty in shown.items()} or []}


def multiprices_disabled(call: Call) -> Any:
    _product_or_404(call.state, call.params["id"])
    raise ApiError(400, "API not available: this mode of pricing is not enabled by setup")


def register(router: DolibarrRouter) -> None:
    """Routes of ``/products`` (attributes and variants: ``cat_variants``; categories: ``cat_categories``)."""
    read, write = "produit.read", "produit.write"
    router.add("GET", "/products", list_products, perm=read)
    router.add("POST", "/products", create_product, perm=write, forbidden_text="Insufficiant rights")
    router.add("GET", "/products/{id:int}", get_product, perm=read)
    router.add("PUT", "/products/{id:int}", update_product, perm=write, forbidden_text="Insufficiant rights")
    router.add("DELETE", "/products/{id:int}", delete_product, perm=write, forbidden_text="Insufficiant rights")
    router.add("GET", "/products/ref/{ref}", get_by_ref, perm=read)
    router.add("GET", "/products/ref_ext/{ref_ext}", get_by_ref_ext, perm=read)
    router.add("GET", "/products/barcode/{barcode}", get_by_barcode, perm=read)
    router.add("GET", "/products/{id:int}/stock", product_stock, perm=read)
    for mode in ("per_segment", "per_customer", "per_quantity"):
        router.add("GET", f"/products/{{id:int}}/selling_multiprices/{mode}", multiprices_disabled, perm=read)
