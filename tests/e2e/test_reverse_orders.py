"""Order state and tracking number back to PrestaShop when Dolibarr ships and closes an order;
targets can be switched off; re-runs write nothing; the invoice number lands on the order."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dolisync.clients.dolibarr import DolibarrClient
from dolisync.clients.prestashop import PrestaShopClient
from dolisync.emulators.activity import ActivityConfig, ActivitySimulator
from dolisync.sync.binder import Binder
from dolisync.sync.plan import SyncSummary
from dolisync.sync.reverse import sync_reverse
from tests.e2e.test_orders_world import OrderWorld

pytestmark = pytest.mark.anyio


async def reverse(world: OrderWorld, entities: list[str]) -> SyncSummary:
    shop = world.settings.shop[0]
    transports = world.transports()
    async with PrestaShopClient.from_settings(shop, transport=transports["prestashop"]) as ps, \
            DolibarrClient.from_settings(world.settings.dolibarr, transport=transports["dolibarr"]) as doli:
        return await sync_reverse(world.settings, shop, world.store, prestashop=ps, dolibarr=doli, entities=entities)


async def doli(world: OrderWorld, method: str, path: str, body: Any = None) -> Any:
    async with DolibarrClient.from_settings(world.settings.dolibarr, transport=world.transports()["dolibarr"]) as erp:
        return await erp.request_json(method, path, body=body)


async def synced_world(tmp_path: Path, **shop: Any) -> OrderWorld:
    world = OrderWorld.build(tmp_path, orders=2, products=10, customers=5, seed=4, shop=shop or None)
    assert (await world.sync_catalog()).ok
    checkout = ActivitySimulator(config=ActivityConfig(seed=8), store=world.shop)
    for _ in range(4):  # fresh orders, not yet shipped
        assert (await checkout.step("order")).ok
    summary = await world.sync()
    assert summary.error is None, summary.to_dict()
    return world


def validated_order(world: OrderWorld) -> tuple[str, str]:
    """(PrestaShop order id, Dolibarr order id) of a bound order Dolibarr has validated, not shipped."""
    for source_id, binding in Binder(world.store, "main").all("order").items():
        row = world.erp.get("orders", int(binding.target_id))
        if row is not None and row["statut"] == 1:
            return source_id, binding.target_id
    raise AssertionError("no validated order in Dolibarr")


def history(world: OrderWorld, order_id: str) -> list[str]:
    return [h["id_order_state"] for h in sorted(world.shop.rows("order_histories"), key=lambda h: int(h["id"]))
            if h["id_order"] == order_id]


def tracking(world: OrderWorld, order_id: str) -> str:
    rows = [c for c in world.shop.rows("order_carriers") if c["id_order"] == order_id]
    return str(min(rows, key=lambda c: int(c["id"])).get("tracking_number") or "")


async def test_shipment_then_close_move_the_shop_order_with_its_tracking_number(tmp_path: Path) -> None:
    world = await synced_world(tmp_path)
    ps_order, doli_order = validated_order(world)
    warehouse = next(iter(world.erp.table("warehouses")))
    shipment = int(await doli(world, "POST", f"/orders/{doli_order}/shipment/{warehouse}"))
    await doli(world, "POST", f"/shipments/{shipment}/validate", {"notrigger": 0})
    world.erp.get("shipments", shipment)["tracking_number"] = "6A123456789"

    summary = await reverse(world, ["order_states"])
    assert summary.ok and summary.counts("erp_order_state").updated == 1, summary.to_dict()
    assert history(world, ps_order)[-1] == "4"
    assert tracking(world, ps_order) == "6A123456789"
    assert world.shop.get("orders", int(ps_order))["current_state"] == "4"

    world.shop_writes.count = 0
    again = await reverse(world, ["order_states"])
    assert again.requests["prestashop"].writes == 0 and again.counts("erp_order_state").updated == 0

    await doli(world, "POST", f"/shipments/{shipment}/close")
    closed = await reverse(world, ["order_states"])
    assert closed.requests["prestashop"].writes == 1, closed.to_dict()
    assert history(world, ps_order)[-2:] == ["4", "5"]


async def test_a_target_set_to_nothing_is_off(tmp_path: Path) -> None:
    world = await synced_world(tmp_path, order_state_rules={"shipped": None})
    ps_order, doli_order = validated_order(world)
    before = history(world, ps_order)
    warehouse = next(iter(world.erp.table("warehouses")))
    shipment = int(await doli(world, "POST", f"/orders/{doli_order}/shipment/{warehouse}"))
    await doli(world, "POST", f"/shipments/{shipment}/validate", {"notrigger": 0})
    summary = await reverse(world, ["order_states"])
    assert summary.ok and summary.requests["prestashop"].writes == 0, summary.to_dict()
    assert history(world, ps_order) == before


async def test_invoice_number_and_pdf_link_on_the_order_note(tmp_path: Path) -> None:
    world = await synced_world(tmp_path)
    invoices = Binder(world.store, "main").all("invoice")
    assert invoices, "the order flow invoiced no order"
    ps_order, binding = next(iter(invoices.items()))
    world.shop.get("orders", int(ps_order))["note"] = "gift for Ann"  # the link line was lost
    summary = await reverse(world, ["invoice_numbers"])
    assert summary.ok, summary.to_dict()
    ref = world.erp.get("invoices", int(binding.target_id))["ref"]
    note = world.shop.get("orders", int(ps_order))["note"]
    assert note.splitlines()[0] == "gift for Ann"
    assert note.splitlines()[1].startswith(f"Dolibarr invoice {ref}: http://erp.test/document.php?")
    again = await reverse(world, ["invoice_numbers"])
    assert again.requests["prestashop"].writes == 0
