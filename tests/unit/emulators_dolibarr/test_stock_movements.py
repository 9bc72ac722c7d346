"""The stock helper other areas call (order validation with a warehouse) and its errors."""

from __future__ import annotations

from decimal import Decimal

import pytest

from dolisync.emulators.dataset import DolibarrSetup
from dolisync.emulators.dolibarr.catalog import new_product_row
from dolisync.emulators.dolibarr.core import ApiError
from dolisync.emulators.dolibarr.state import DolibarrState
from dolisync.emulators.dolibarr.stock import move_stock, stock_by_warehouse


def _state() -> tuple[DolibarrState, int, int, int]:
    state = DolibarrState.from_setup(DolibarrSetup(warehouses=[{"ref": "A", "label": "A"}, {"ref": "B", "label": "B"}]))
    product = state.insert("products", new_product_row(state, {"ref": "P", "label": "p"}))
    return state, product, 1, 2


def test_movements_update_per_warehouse_stock_and_pmp() -> None:
    state, product, first, second = _state()
    move_stock(state, product, first, 10, price=Decimal("5"))
    move_stock(state, product, first, 10, price=Decimal("7"))
    move_stock(state, product, second, 3)
    move_stock(state, product, first, -4, label="order", origintype="commande", fk_origin=9)
    assert stock_by_warehouse(state, product) == {first: Decimal(16), second: Decimal(3)}
    assert state.table("products")[product]["pmp"] == Decimal(6)
    last = state.table("stock_movements")[max(state.table("stock_movements"))]
    assert (last["type"], last["origintype"], last["fk_origin"]) == (2, "commande", 9)
    assert [e.triggercode for e in state.events].count("STOCK_MOVEMENT") == 4


@pytest.mark.parametrize(("qty", "product_ok", "warehouse_ok", "fragment"), [
    (0, True, True, "quantity of 0"),
    (1, False, True, "Error when create stock movement : "),
    (1, True, False, "foreign key constraint"),
    (-1, True, True, "does not allow negative stocks"),
])
def test_errors_are_503(qty: int, product_ok: bool, warehouse_ok: bool, fragment: str) -> None:
    state, product, warehouse, _ = _state()
    with pytest.raises(ApiError) as info:
        move_stock(state, product if product_ok else 999, warehouse if warehouse_ok else 999, qty)
    assert info.value.status == 503 and fragment in info.value.text
    assert stock_by_warehouse(state, product) == {}


def test_negative_stock_allowed_on_request() -> None:
    state, product, warehouse, _ = _state()
    move_stock(state, product, warehouse, -2, allow_negative=True)
    assert stock_by_warehouse(state, product) == {warehouse: Decimal(-2)}
