"""A simulated trading day with both directions running: orders in PrestaShop, stock
movements, price edits and shipments in Dolibarr, concurrently. At the end every shop stock is
Dolibarr's figure for the shop's rule, every price is the owner's, and every shipped order shows
its tracking number (and the shipped state) in PrestaShop."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import httpx2
import pytest

from dolisync.clients.dolibarr import DolibarrClient
from dolisync.clients.prestashop import PrestaShopClient
from dolisync.emulators.activity import ActivityConfig, ActivitySimulator
from dolisync.emulators.generator import DEFAULT_API_KEY
from dolisync.mapping.reverse import shop_quantity, stock_figures
from dolisync.sync.binder import Binder
from dolisync.sync.engine import sync_catalog
from dolisync.sync.plan import SyncSummary
from dolisync.sync.reverse import sync_reverse
from tests.e2e.test_orders_world import DOLIBARR_KEY, DOLIBARR_URL, SHOP_URL, OrderWorld

pytestmark = pytest.mark.anyio

SHIPPED, DELIVERED = 4, 5


async def catalog(world: OrderWorld, entities: list[str]) -> SyncSummary:
    shop = world.settings.shop[0]
    transports = world.transports()
    async with PrestaShopClient.from_settings(shop, transport=transports["prestashop"]) as ps, \
            DolibarrClient.from_settings(world.settings.dolibarr, transport=transports["dolibarr"]) as doli:
        return await sync_catalog(world.settings, shop, world.store, prestashop=ps, dolibarr=doli, entities=entities)


async def reverse(world: OrderWorld) -> SyncSummary:
    shop = world.settings.shop[0]
    transports = world.transports()
    async with PrestaShopClient.from_settings(shop, transport=transports["prestashop"]) as ps, \
            DolibarrClient.from_settings(world.settings.dolibarr, transport=transports["dolibarr"]) as doli:
        return await sync_reverse(world.settings, shop, world.store, prestashop=ps, dolibarr=doli)


def carriers_record_tracking_numbers(world: OrderWorld) -> None:
    """Dolibarr users type the carrier's tracking number on validated shipments."""
    for shipment in world.erp.table("shipments").values():
        if int(shipment.get("statut") or 0) >= 1 and not shipment.get("tracking_number"):
            shipment["tracking_number"] = f"TRK{shipment['id']:06d}"


async def round_trip(world: OrderWorld) -> list[SyncSummary]:
    carriers_record_tracking_numbers(world)
    return [await catalog(world, ["categories", "attributes", "features", "products"]),
            await world.sync(), await reverse(world)]


async def test_trading_day_ends_with_both_sides_agreeing(tmp_path: Path) -> None:
    world = OrderWorld.build(tmp_path, orders=6, products=12, customers=10, seed=11, shop={
        "erp_to_shop": ["stock", "prices", "order_states", "invoice_numbers"],
        "ownership": {"stock": "dolibarr", "price": "dolibarr"}, "stock_buffer": 1})
    first = await catalog(world, ["categories", "attributes", "features", "products", "stock"])
    assert first.ok, first.to_dict()
    for summary in await round_trip(world):
        assert summary.error is None, summary.to_dict()

    transports = world.transports()
    async with httpx2.AsyncClient(transport=transports["prestashop"], base_url=f"{SHOP_URL}/api/",
                                  auth=(DEFAULT_API_KEY, ""), timeout=30) as ps_http, \
            httpx2.AsyncClient(transport=transports["dolibarr"], base_url=f"{DOLIBARR_URL}/",
                               headers={"DOLAPIKEY": DOLIBARR_KEY}, timeout=30) as doli_http:
        simulator = ActivitySimulator(
            config=ActivityConfig(rate_per_s=0, seed=5, max_events=70, weights={
                "order": 3.0, "order_state": 2.0, "ps_stock": 0.0, "ps_price": 0.0, "doli_stock": 3.0,
                "doli_price": 2.0, "doli_shipment": 2.0}),
            store=world.shop, prestashop=ps_http, dolibarr=doli_http)

        async def trading() -> None:
            for _ in range(70):
                await simulator.step()
                await asyncio.sleep(0)

        async def syncing(done: asyncio.Event) -> None:
            while not done.is_set():
                await round_trip(world)

        done = asyncio.Event()
        sync_task = asyncio.create_task(syncing(done))
        await trading()
        done.set()
        await sync_task
    kinds = simulator.summary()
    assert kinds.get("doli_shipment", {}).get("ok", 0) >= 1, kinds
    assert kinds.get("doli_price", {}).get("ok", 0) >= 1 and kinds.get("doli_stock", {}).get("ok", 0) >= 1, kinds
    for _ in range(3):  # the day is over: let both directions catch up
        summaries = await round_trip(world)
    assert all(s.error is None for s in summaries), [s.to_dict() for s in summaries]
    final = summaries[-1]
    assert final.ok and not final.parked, final.to_dict()
    # settled: a quiet round writes nothing on either side, in any direction
    assert [(s.requests["prestashop"].writes, s.requests["dolibarr"].writes) for s in summaries] == [(0, 0)] * 3

    # -- every stock is Dolibarr's figure for the shop's rule ---------------------------------
    binder = Binder(world.store, "main")
    products = {sid: b.target_id for sid, b in binder.all("product").items()}
    combinations = {sid: b.target_id for sid, b in binder.all("combination").items()}
    warehouse_id = next(int(w["id"]) for w in world.erp.table("warehouses").values() if w["ref"] == "WH-MAIN")
    async with DolibarrClient.from_settings(world.settings.dolibarr, transport=world.transports()["dolibarr"]) as erp:
        doli = {str(row["id"]): row async for row in erp.list_raw("products", params={"includestockdata": 1},
                                                                  page_size=500)}
    with_combinations = {r["id_product"] for r in world.shop.rows("combinations")}
    checked = 0
    for row in world.shop.rows("stock_availables"):
        pid, paid = row["id_product"], row["id_product_attribute"]
        target = combinations.get(paid) if paid != "0" else (None if pid in with_combinations else products.get(pid))
        if target is None:
            continue
        per, physical, virtual = stock_figures(doli[target])
        expected = shop_quantity(per, warehouse_ids=frozenset({warehouse_id}), buffer=1)
        assert int(row["quantity"]) == expected, (pid, paid, row["quantity"], expected)
        checked += 1
    assert checked >= 10

    # -- every price is Dolibarr's --------------------------------------------------------------
    for pid, target in products.items():
        shop_price = Decimal(str(world.shop.get("products", int(pid))["price"]))
        assert shop_price == Decimal(str(doli[target]["price"])), (pid, shop_price, doli[target]["price"])

    combinations_checked = 0
    for combination in world.shop.rows("combinations"):
        child = combinations.get(combination["id"])
        if child is None:
            continue
        product_price = Decimal(str(world.shop.get("products", int(combination["id_product"]))["price"]))
        assert product_price + Decimal(str(combination["price"])) == Decimal(str(doli[child]["price"])), combination
        combinations_checked += 1
    assert combinations_checked >= 5

    # -- every shipped order shows its tracking number and the shipped state --------------------
    orders = {b.target_id: sid for sid, b in binder.all("order").items()}
    shipped = [s for s in world.erp.table("shipments").values() if int(s.get("statut") or 0) >= 1]
    assert shipped
    for shipment in shipped:
        ps_order = orders[str(shipment["order_id"])]
        carrier = min((c for c in world.shop.rows("order_carriers") if c["id_order"] == ps_order),
                      key=lambda c: int(c["id"]))
        assert shipment["tracking_number"] in str(carrier.get("tracking_number")), (ps_order, carrier)
        states = {h["id_order_state"] for h in world.shop.rows("order_histories") if h["id_order"] == ps_order}
        assert str(SHIPPED) in states or str(DELIVERED) in states, (ps_order, states)


