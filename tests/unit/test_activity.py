"""Activity simulator against the PrestaShop store/emulator and the Dolibarr emulator."""

from __future__ import annotations

import asyncio
import base64
from decimal import Decimal

import httpx2
import pytest

from dolisync.emulators.activity import ActivityConfig, ActivitySimulator
from dolisync.emulators.dolibarr import DolibarrState
from dolisync.emulators.dolibarr import create_app as create_dolibarr_app
from dolisync.emulators.dolibarr.state import DEFAULT_API_KEY as DOLI_KEY
from dolisync.emulators.generator import DEFAULT_API_KEY, GeneratedStore, generate_store
from dolisync.emulators.prestashop import PrestaShopStore
from dolisync.emulators.prestashop import create_app as create_prestashop_app

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def generated() -> GeneratedStore:
    return generate_store(seed=21, products=40, orders=60, customers=20, shops=1)


def only(**weights: float) -> dict[str, float]:
    return dict(weights)


def ps_client(store: PrestaShopStore) -> httpx2.AsyncClient:
    app = create_prestashop_app(store, base_url="http://shop.test")
    token = base64.b64encode(f"{DEFAULT_API_KEY}:".encode()).decode()
    return httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://shop.test/api/",
                              headers={"Authorization": f"Basic {token}"}, timeout=10)


async def test_orders_and_state_changes_land_in_the_store(generated: GeneratedStore) -> None:
    store = PrestaShopStore.from_dataset(generated.prestashop)
    orders_before = len(store.rows("orders"))
    customers_before = len(store.rows("customers"))
    config = ActivityConfig(rate_per_s=1000, seed=3, max_events=40, weights=only(order=2, order_state=1),
                            new_customer_share=0.5)
    simulator = ActivitySimulator(config=config, store=store)
    await simulator.start()
    events = await asyncio.wait_for(simulator.wait(), timeout=20)
    assert len(events) == 40 and not simulator.running
    created = [e for e in events if e.kind == "order"]
    moved = [e for e in events if e.kind == "order_state" and e.ok]
    assert created and moved
    assert len(store.rows("orders")) == orders_before + len(created)
    assert len(store.rows("customers")) == customers_before + sum(e.data["new_customer"] for e in created)
    for event in created:
        order = store.get("orders", event.data["id_order"])
        assert order is not None and order["reference"] == event.data["reference"]
        assert order["total_paid_tax_incl"] == event.data["total_paid_tax_incl"]
        details = [d for d in store.rows("order_details") if d["id_order"] == order["id"]]
        assert len(details) == len(event.data["lines"])
        assert [r["id"] for r in order["associations"]["order_rows"]] == [d["id"] for d in details]
        address = store.get("addresses", int(order["id_address_delivery"]))
        assert address is not None and address["id_customer"] == order["id_customer"]
        for stock_id, quantity in event.data["stock"]:
            assert store.get("stock_availables", stock_id) is not None
    last_state: dict[int, int] = {}
    for event in moved:
        last_state[event.data["id_order"]] = event.data["to_state"]
    for order_id, state in last_state.items():
        assert store.get("orders", order_id)["current_state"] == str(state)  # type: ignore[index]
    assert all(e.started_at <= e.finished_at for e in events)
    assert [e.seq for e in events] == list(range(1, 41))
    numbers = [int(i["number"]) for i in store.rows("order_invoices")]
    assert len(numbers) == len(set(numbers)), "invoice numbers stay unique across factory and state changes"
    summary = simulator.summary()
    assert summary["order"]["ok"] == len(created)
    assert sum(sum(c.values()) for c in summary.values()) == 40


async def test_stock_decrement_follows_orders(generated: GeneratedStore) -> None:
    store = PrestaShopStore.from_dataset(generated.prestashop)
    simulator = ActivitySimulator(config=ActivityConfig(seed=9, weights=only(order=1)), store=store)
    before = {int(s["id"]): int(s["quantity"]) for s in store.rows("stock_availables")}
    event = await simulator.step()
    assert event.ok and event.data["stock"]
    for (_pid, _attr, qty), (stock_id, quantity) in zip(event.data["lines"], event.data["stock"], strict=False):
        assert quantity == before[stock_id] - int(qty)
        assert store.get("stock_availables", stock_id)["quantity"] == str(quantity)  # type: ignore[index]


async def test_an_order_never_takes_stock_below_zero(generated: GeneratedStore) -> None:
    from dolisync.emulators.activity import RESTOCK

    store = PrestaShopStore.from_dataset(generated.prestashop)
    for row in store.rows("stock_availables"):
        store.update("stock_availables", int(row["id"]), {"quantity": "0"})
    simulator = ActivitySimulator(config=ActivityConfig(seed=9, weights=only(order=1)), store=store)
    event = await simulator.step()
    assert event.ok and event.data["stock"]
    assert {stock_id for stock_id, _ in event.data["restocked"]} == {stock_id for stock_id, _ in event.data["stock"]}
    for stock_id, quantity in event.data["stock"]:  # restocked by ordered + RESTOCK, then decremented
        assert quantity == RESTOCK
        assert store.get("stock_availables", stock_id)["quantity"] == str(RESTOCK)  # type: ignore[index]
    assert all(int(r["quantity"]) >= 0 for r in store.rows("stock_availables"))


async def test_same_seed_same_events(generated: GeneratedStore) -> None:
    async def run() -> list[tuple[str, dict]]:
        store = PrestaShopStore.from_dataset(generated.prestashop)
        store.clock = lambda: "2026-11-28 10:00:00"
        sim = ActivitySimulator(config=ActivityConfig(seed=5, weights=only(order=1, order_state=1)), store=store)
        return [(e.kind, e.data) for e in [await sim.step() for _ in range(15)]]

    assert await run() == await run()


async def test_webservice_edits_reach_the_store(generated: GeneratedStore) -> None:
    store = PrestaShopStore.from_dataset(generated.prestashop)
    async with ps_client(store) as client:
        simulator = ActivitySimulator(config=ActivityConfig(seed=2), prestashop=client)
        stock_event = await simulator.step("ps_stock")
        price_event = await simulator.step("ps_price")
    assert stock_event.ok, stock_event.error
    assert price_event.ok, price_event.error
    row = store.get("stock_availables", stock_event.data["id_stock_available"])
    assert row is not None and row["quantity"] == str(stock_event.data["quantity"])
    product = store.get("products", price_event.data["id_product"])
    assert product is not None and Decimal(product["price"]) == Decimal(price_event.data["price"])
    with_combinations = {c["id_product"] for c in store.rows("combinations")}
    async with ps_client(store) as client:
        simulator = ActivitySimulator(config=ActivityConfig(seed=6), prestashop=client)
        for _ in range(15):
            event = await simulator.step("ps_stock")
            edited = store.get("stock_availables", event.data["id_stock_available"])
            assert edited is not None and event.ok
            # never the product row of a product with combinations (PrestaShop sums those)
            assert edited["id_product_attribute"] != "0" or edited["id_product"] not in with_combinations


async def test_duration_bound_and_stop(generated: GeneratedStore) -> None:
    store = PrestaShopStore.from_dataset(generated.prestashop)
    timed = ActivitySimulator(config=ActivityConfig(rate_per_s=50, seed=1, duration_s=0.3,
                                                    weights=only(order=1)), store=store)
    async with timed:
        await asyncio.wait_for(timed.wait(), timeout=5)
    assert 1 <= len(timed.events) <= 40
    endless = ActivitySimulator(config=ActivityConfig(rate_per_s=20, seed=1, weights=only(order_state=1)), store=store)
    await endless.start()
    await asyncio.sleep(0.2)
    await asyncio.wait_for(endless.stop(), timeout=2)
    assert not endless.running
    count = len(endless.events)
    await asyncio.sleep(0.1)
    assert len(endless.events) == count


async def test_no_runnable_kind_is_an_error() -> None:
    simulator = ActivitySimulator(config=ActivityConfig(weights=only(order=1)))
    with pytest.raises(RuntimeError):
        await simulator.step()


async def test_dolibarr_stock_price_and_shipment(generated: GeneratedStore) -> None:
    state = DolibarrState.from_setup(generated.dolibarr)
    app = create_dolibarr_app(state)
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://erp.test/api/index.php/",
                                  headers={"DOLAPIKEY": DOLI_KEY}, timeout=10) as client:
        simulator = ActivitySimulator(config=ActivityConfig(seed=4), dolibarr=client)
        skipped = await simulator.step("doli_stock")
        assert skipped.skipped and "no product" in skipped.error
        product = (await client.post("products", json={"ref": "REF-1", "label": "Mug", "price": "10",
                                                        "price_base_type": "HT", "tva_tx": "20"})).json()
        customer = (await client.post("thirdparties", json={"name": "ACME", "client": 1,
                                                            "code_client": "-1"})).json()
        order = (await client.post("orders", json={"socid": customer, "date": 1764320000, "lines": [
            {"fk_product": product, "qty": 2, "subprice": "10", "tva_tx": "20", "product_type": 0}]})).json()
        assert (await client.post(f"orders/{order}/validate", json={"idwarehouse": 0})).status_code == 200
        simulator = ActivitySimulator(config=ActivityConfig(seed=4), dolibarr=client)
        stock = await simulator.step("doli_stock")
        price = await simulator.step("doli_price")
        shipment = await simulator.step("doli_shipment")
        assert stock.ok and price.ok and shipment.ok, (stock.error, price.error, shipment.error)
        levels = (await client.get(f"products/{product}/stock")).json()
        assert levels["stock_reel"] == stock.data["qty"]
        fetched = (await client.get(f"products/{product}")).json()
        assert Decimal(fetched["price"]) == Decimal(price.data["price"])
        shipments = (await client.get(f"orders/{order}/shipment")).json()
        assert shipment.data["shipment_id"] in [int(s["id"]) for s in shipments]
