"""``/warehouses`` and ``/stockmovements``; per-warehouse stock moved only by movements.

Tables: ``warehouses`` (``ref``/``label``, ``description``, ``statut``, address fields, ``datec``),
``stock_movements`` (``fk_product``, ``fk_entrepot``, ``qty`` Decimal signed, ``type`` 2 output /
3 input, ``datem``, ``price``, ``label``, ``inventorycode``, ``origintype``, ``fk_origin``) and
``product_stock`` (one row per product and warehouse: ``fk_product``, ``fk_entrepot``, ``reel``).

Public helpers for other areas (e.g. order validation with a warehouse):

* :func:`move_stock` — record one movement and update stock; raises ``ApiError`` 503 exactly as
  ``POST /stockmovements`` does (qty 0, unknown product/warehouse, stock going below zero);
* :func:`stock_by_warehouse` — ``{warehouse_id: qty}`` for a product (only warehouses that
  ever held it, like ``llx_product_stock``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from dolisync.emulators.dolibarr.cat_templates import template
from dolisync.emulators.dolibarr.core import (
    ApiError, Call, DolibarrRouter, ListQuery, as_decimal, as_int, as_str, fmt_amount,
    fmt_datetime, list_answer, success,
)
from dolisync.emulators.dolibarr.state import DolibarrState, Row

__all__ = ["register", "move_stock", "stock_by_warehouse", "serialize_warehouse", "serialize_movement"]

_STAGES_VALIDATE = {"success": ["get", "route", "negotiate", "authenticate"], "failure": ["validate", "message"]}


def _num(value: Any) -> str:
    number = as_decimal(value)
    return str(int(number)) if number == number.to_integral_value() else format(number.normalize(), "f")


def stock_by_warehouse(state: DolibarrState, product_id: int) -> dict[int, Decimal]:
    """Stock of ``product_id`` per warehouse id, in warehouse id order."""
    rows = state.lookup("product_stock", "product", product_id)
    return {r["fk_entrepot"]: r["reel"] for r in sorted(rows, key=lambda r: r["fk_entrepot"])}


def _stock_row(state: DolibarrState, product_id: int, warehouse_id: int) -> Row | None:
    for row in state.lookup("product_stock", "product", product_id):
        if row["fk_entrepot"] == warehouse_id:
            return row
    return None


def move_stock(state: DolibarrState, product_id: int, warehouse_id: int, qty: Decimal | int, *,
               label: str = "", inventorycode: str = "", price: Decimal | None = None,
               origintype: str = "", fk_origin: int = 0, allow_negative: bool = False,
               when: int | None = None) -> int:
    """Record a movement of signed ``qty`` and return its id (see module docstring)."""
    quantity = as_decimal(qty)
    if quantity == 0:
        raise ApiError(503, "Making a stock movement with a quantity of 0 is not possible")
    product = state.get("products", product_id)
    if product is None:
        raise ApiError(503, "Error when create stock movement : ")
    if state.get("warehouses", warehouse_id) is None:
        raise ApiError(503, "Error when create stock movement : Cannot add or update a child row: a foreign key "
                       "constraint fails (`dolibarr`.`llx_product_stock`, CONSTRAINT `fk_entrepot_entrepot_rowid` "
                       "FOREIGN KEY (`fk_entrepot`) REFERENCES `llx_entrepot` (`rowid`))")
    current = _stock_row(state, product_id, warehouse_id)
    on_hand = current["reel"] if current else Decimal(0)
    if quantity < 0 and on_hand + quantity < 0 and not allow_negative:
        state.next_id("stock_movements")  # the movement row was inserted, then rolled back
        raise ApiError(503, "Error when create stock movement : You don't have enough stock from your source "
                       f"warehouse and your setup does not allow negative stocks. : {product['ref']}")
    now = state.now() if when is None else when
    if quantity > 0 and price is not None:
        total_before = sum(stock_by_warehouse(state, product_id).values(), Decimal(0))
        old_pmp = as_decimal(product.get("pmp"))
        if total_before + quantity > 0:
            product["pmp"] = ((total_before * old_pmp if total_before > 0 else Decimal(0)) + quantity * price) / (
                (total_before if total_before > 0 else Decimal(0)) + quantity)
    if current is None:
        state.insert("product_stock", {"fk_product": product_id, "fk_entrepot": warehouse_id, "reel": quantity})
    else:
        current["reel"] = on_hand + quantity
    movement = {
        "fk_product": product_id, "fk_entrepot": warehouse_id, "qty": quantity, "type": 3 if quantity > 0 else 2,
        "datem": now, "price": price if price is not None else Decimal(0), "label": label,
        "inventorycode": inventorycode, "origintype": origintype, "fk_origin": fk_origin, "batch": "",
    }
    movement_id = state.insert("stock_movements", movement)
    state.emit("STOCK_MOVEMENT", serialize_movement(movement), {})
    return movement_id


# ---- serialization ----------------------------------------------------------------------------
def serialize_warehouse(row: Row) -> dict[str, Any]:
    """A warehouse as ``GET /warehouses/{id}`` prints it."""
    out = template("warehouse")
    created = fmt_datetime(row["datec"])
    out.update({
        "id": str(row["id"]), "ref": row["ref"], "statut": str(row["statut"]), "status": str(row["statut"]),
        "country_id": None if row.get("country_id") is None else str(row["country_id"]),
        "date_creation": created, "date_modification": fmt_datetime(row.get("tms") or row["datec"]),
        "warehouse_id": str(row["id"]), "label": row["label"], "description": row.get("description") or "",
        "lieu": row.get("lieu") or "", "address": row.get("address"), "zip": row.get("zip"), "town": row.get("town"),
        "phone": row.get("phone") or "", "fax": row.get("fax") or "",
        "fk_parent": None if not row.get("fk_parent") else str(row["fk_parent"]),
    })
    return out


def serialize_movement(row: Row) -> dict[str, Any]:
    """A stock movement as ``GET /stockmovements/{id}`` prints it."""
    out = template("stockmovement")
    out.update({
        "id": str(row.get("id", "")), "origin_type": row.get("origintype") or "", "origin_id": str(row.get("fk_origin") or 0),
        "tms": row["datem"], "warehouse_id": str(row["fk_entrepot"]), "product_id": str(row["fk_product"]),
        "qty": _num(row["qty"]), "type": str(row["type"]), "datem": row["datem"], "price": fmt_amount(row["price"]),
        "label": row.get("label") or "", "fk_origin": str(row.get("fk_origin") or 0),
        "origintype": row.get("origintype") or "", "inventorycode": row.get("inventorycode") or "",
        "movementcode": row.get("inventorycode") or "", "batch": row.get("batch") or "",
    })
    return out


def _warehouse_columns(row: Row) -> dict[str, Any]:
    return {"t.rowid": row["id"], "t.ref": row["ref"], "t.label": row["label"], "t.statut": row["statut"],
            "t.description": row.get("description"), "t.lieu": row.get("lieu"), "t.town": row.get("town"),
            "t.zip": row.get("zip"), "t.fk_parent": row.get("fk_parent"), "t.datec": fmt_datetime(row["datec"]),
            "t.tms": fmt_datetime(row.get("tms") or row["datec"]), "t.entity": 1}


def _movement_columns(row: Row) -> dict[str, Any]:
    return {"t.rowid": row["id"], "t.fk_product": row["fk_product"], "t.fk_entrepot": row["fk_entrepot"],
            "t.value": row["qty"], "t.type_mouvement": row["type"], "t.datem": fmt_datetime(row["datem"]),
            "t.tms": fmt_datetime(row["datem"]), "t.label": row.get("label"), "t.inventorycode": row.get("inventorycode"),
            "t.price": row["price"], "t.fk_origin": row.get("fk_origin"), "t.origintype": row.get("origintype"),
            "t.batch": row.get("batch")}


# ---- handlers ----------------------------------------------------------------------------------
def _warehouse_or_404(state: DolibarrState, warehouse_id: int) -> Row:
    row = state.get("warehouses", warehouse_id)
    if row is None:
        raise ApiError(404, "warehouse not found")
    return row


def list_warehouses(call: Call) -> Any:
    rows = call.state.table("warehouses").values()
    category = call.qint("category", 0)
    if category:
        linked = {l["fk_object"] for l in call.state.table("category_links").values()
                  if l["fk_categorie"] == category and l["type"] == "warehouse"}
        rows = [r for r in rows if r["id"] in linked]
    return list_answer(rows, ListQuery.from_call(call), columns=_warehouse_columns, serialize=serialize_warehouse,
                       error_prefix="Error when retrieving warehouse list")


def get_warehouse(call: Call) -> Any:
    return serialize_warehouse(_warehouse_or_404(call.state, call.params["id"]))


_WAREHOUSE_FIELDS = ("description", "lieu", "address", "zip", "town", "phone", "fax")


def create_warehouse(call: Call) -> int:
    body = call.body_dict()
    label = as_str(body.get("label"))
    if not label:
        raise ApiError(400, "label field missing")
    state = call.state
    if any(r["label"].casefold() == label.casefold() for r in state.table("warehouses").values()):
        raise ApiError(500, "Error creating warehouse", f"Duplicate entry '{label}-1' for key 'uk_entrepot_label'")
    now = state.now()
    row: Row = {"ref": label, "label": label, "statut": as_int(body.get("statut", body.get("status")), 1),
                "country_id": as_int(body.get("country_id"), 0), "fk_parent": as_int(body.get("fk_parent"), None),
                "datec": now, "tms": now}
    for key in _WAREHOUSE_FIELDS:
        row[key] = as_str(body.get(key), "") or ""
    return state.insert("warehouses", row)


def update_warehouse(call: Call) -> Any:
    row = _warehouse_or_404(call.state, call.params["id"])
    body = call.body_dict()
    label = as_str(body.get("label"))
    if label:
        row["label"] = row["ref"] = label
    for key in _WAREHOUSE_FIELDS:
        if key in body:
            row[key] = as_str(body[key], None)
    for key in ("statut", "country_id", "fk_parent"):
        if key in body:
            row[key] = as_int(body[key], None)
    row["tms"] = call.state.now()
    return serialize_warehouse(row)


def delete_warehouse(call: Call) -> Any:
    row = _warehouse_or_404(call.state, call.params["id"])
    call.state.delete("warehouses", row["id"])
    return success("Warehouse deleted")


def warehouse_products(call: Call) -> Any:
    from dolisync.emulators.dolibarr.catalog import product_columns, serialize_product

    state = call.state
    warehouse = _warehouse_or_404(state, call.params["id"])
    quantities = {r["fk_product"]: r["reel"] for r in state.table("product_stock").values()
                  if r["fk_entrepot"] == warehouse["id"]}
    rows = [p for p in state.table("products").values() if p["id"] in quantities]

    def serialize(product: Row) -> dict[str, Any]:
        out = serialize_product(state, product)
        out["stock_reel"] = _num(quantities[product["id"]])
        return out

    return list_answer(rows, ListQuery.from_call(call), columns=lambda p: product_columns(state, p),
                       serialize=serialize, error_prefix="Error when retrieve product list")


def list_movements(call: Call) -> Any:
    return list_answer(call.state.table("stock_movements").values(), ListQuery.from_call(call),
                       columns=_movement_columns, serialize=serialize_movement,
                       error_prefix="Error when retrieve stock movement list")


def get_movement(call: Call) -> Any:
    row = call.state.get("stock_movements", call.params["id"])
    if row is None:
        raise ApiError(404, "Stock movement not found")
    return serialize_movement(row)


def create_movement(call: Call) -> int:
    body = call.body_dict()
    for field in ("product_id", "warehouse_id", "qty"):
        if body.get(field) in (None, ""):
            raise ApiError(400, f"`{field}` is required.", stages=_STAGES_VALIDATE, source="Validator.php:436")
    price = body.get("price")
    return move_stock(
        call.state, as_int(body["product_id"], 0) or 0, as_int(body["warehouse_id"], 0) or 0,
        as_decimal(body["qty"]), label=as_str(body.get("label"), "") or "",
        inventorycode=as_str(body.get("movementcode"), "") or "",
        price=None if price in (None, "") else as_decimal(price),
        origintype=as_str(body.get("origin_type"), "") or "", fk_origin=as_int(body.get("origin_id"), 0) or 0,
        when=as_int(body.get("datem"), None),
    )


def register(router: DolibarrRouter) -> None:
    """Routes of ``/warehouses`` and ``/stockmovements``."""
    router.add("GET", "/warehouses", list_warehouses, perm="stock.read")
    router.add("POST", "/warehouses", create_warehouse, perm="stock.write", forbidden_text="Insufficiant rights")
    router.add("GET", "/warehouses/{id:int}", get_warehouse, perm="stock.read")
    router.add("PUT", "/warehouses/{id:int}", update_warehouse, perm="stock.write")
    router.add("DELETE", "/warehouses/{id:int}", delete_warehouse, perm="stock.write")
    router.add("GET", "/warehouses/{id:int}/products", warehouse_products, perm="stock.read")
    router.add("GET", "/stockmovements", list_movements, perm="stock.read")
    router.add("GET", "/stockmovements/{id:int}", get_movement, perm="stock.read")
    router.add("POST", "/stockmovements", create_movement, perm="stock.write", forbidden_text="Insufficiant rights")
