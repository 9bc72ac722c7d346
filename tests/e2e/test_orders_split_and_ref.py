"""Split carts and ``order_ref_mode = "ref"`` end to end, against both emulators.

A split cart is what PrestaShop makes when one cart ships as several packages: several orders
with one shared ``reference`` and **one** ``order_payments`` row for the whole cart (placed here
with :meth:`OrderFactory.build_split`). In Dolibarr the cart's payment must be one payment spread
over the invoices of its orders, and in ``ref`` mode the orders are named ``REF``, ``REF-2``…
by id order — the same after any crash, never a duplicate.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from dolisync.sync.orders import retry_orders
from tests.e2e.test_orders_replay_crash import _no_duplicates, _snapshot
from tests.e2e.test_orders_world import Crash, OrderWorld

pytestmark = pytest.mark.anyio


def _place_split(world: OrderWorld, parts: int = 3, *, minutes: int = 7, module: str = "ps_checkout") -> list[int]:
    """A split cart, paid (``ps_checkout`` starts in *Payment accepted*), in the live shop."""
    factory = world.generated.order_factory(seed=77 + minutes)
    drafts = factory.build_split(world.generated.epoch + timedelta(minutes=minutes), parts, id_shop=1,
                                 module=module, progress=1)
    return [int(factory.commit(d, world.shop.insert, world.shop.update)["order"]) for d in drafts]


def _orders_by_source(world: OrderWorld) -> dict[int, dict[str, Any]]:
    return {int(o["ref_ext"].rsplit("-", 1)[1]): o for o in world.ours("orders", "ps-main-order-")}


def _invoices_by_source(world: OrderWorld) -> dict[int, dict[str, Any]]:
    return {int(i["ref_ext"].rsplit("-", 1)[1]): i for i in world.ours("invoices", "ps-main-invoice-")}


def _payment_parts(world: OrderWorld, payment_ids: list[int]) -> dict[int, dict[int, Decimal]]:
    """``{PrestaShop payment id: {Dolibarr invoice id: amount in the invoice currency}}`` of our payments."""
    out: dict[int, dict[int, Decimal]] = {}
    for payment in world.ours("payments", "ps-main-payment-"):
        source = int(payment["ref_ext"].rsplit("-", 1)[1])
        if source in payment_ids:
            assert source not in out, "one Dolibarr payment per PrestaShop payment"
            out[source] = {part["invoice_id"]: Decimal(part["multicurrency_amount"]) for part in payment["parts"]}
    return out


def _cart_payments(world: OrderWorld, reference: str) -> list[dict[str, Any]]:
    return [p for p in world.shop.table("order_payments").values() if p["order_reference"] == reference]


@pytest.mark.parametrize("mode", ["ref", "ref_client"])
async def test_a_split_cart_is_one_payment_over_its_invoices_and_refs_follow_the_mode(tmp_path: Path,
                                                                                       mode: str) -> None:
    world = OrderWorld.build(tmp_path, orders=6, products=10, customers=4, shop={"order_ref_mode": mode})
    split = _place_split(world)
    shop_orders = {int(o["id"]): o for o in world.shop.table("orders").values()}
    reference = shop_orders[split[0]]["reference"]
    assert {shop_orders[i]["reference"] for i in split} == {reference}
    cart_payments = _cart_payments(world, reference)
    assert len(cart_payments) == 1  # PrestaShop booked the cart once, with the whole amount
    assert Decimal(cart_payments[0]["amount"]) == sum(Decimal(shop_orders[i]["total_paid_tax_incl"]) for i in split)
    # addOrderPayment runs once, on the last order of validateOrder's loop
    assert [Decimal(shop_orders[i]["total_paid_real"]) for i in split] == [0, 0, Decimal(cart_payments[0]["amount"])]
    assert len({shop_orders[i]["id_cart"] for i in split}) == 1 and len({shop_orders[i]["id_customer"] for i in split}) == 1

    assert (await world.sync_catalog()).error is None  # products bound, so that a dry run maps the orders
    planned = await world.sync(dry_run=True)
    assert [w.source_id for w in planned.plan.writes if w.entity == "payment"].count(cart_payments[0]["id"]) == 1, (planned.plan.by_entity(), [p.to_dict() for p in planned.parked][:3])
    summary = await world.sync()
    assert summary.error is None and not summary.parked, [p.to_dict() for p in summary.parked]
    orders = _orders_by_source(world)
    invoices = _invoices_by_source(world)
    for source, order in orders.items():
        expected = shop_orders[source]["reference"]
        if mode == "ref" and source in split:
            expected = reference if source == split[0] else f"{reference}-{split.index(source) + 1}"
        if mode == "ref":
            assert order["ref"] == expected, (source, order["ref"])
        else:
            assert order["ref"].startswith("CO"), order["ref"]
        assert order["ref_client"] == shop_orders[source]["reference"]
    assert all(i["ref"].startswith("FA") for i in invoices.values())  # invoices: Dolibarr's legal numbering
    parts = _payment_parts(world, [int(cart_payments[0]["id"])])
    assert parts == {int(cart_payments[0]["id"]): {
        invoices[i]["id"]: Decimal(shop_orders[i]["total_paid_tax_incl"]) for i in split}}
    assert all(invoices[i]["statut"] == 2 and invoices[i]["paye"] == 1 for i in split), \
        [(invoices[i]["statut"], invoices[i]["paye"]) for i in split]

    writes = world.erp_writes.count
    again = await world.sync()
    assert again.error is None and world.erp_writes.count == writes, world.erp_writes.log[writes:]


async def test_a_split_cart_payment_waits_for_every_invoice_of_the_cart(tmp_path: Path) -> None:
    world = OrderWorld.build(tmp_path, orders=2, products=8, customers=3)
    split = _place_split(world, parts=2)
    reference = world.shop.get("orders", split[0])["reference"]
    payment_id = int(_cart_payments(world, reference)[0]["id"])
    first = await world.sync(ids=[str(split[0])])
    assert first.error is None and not first.parked
    assert set(_invoices_by_source(world)) == {split[0]}
    assert _payment_parts(world, [payment_id]) == {}  # would over-pay the first invoice: waits
    rest = await world.sync()
    assert rest.error is None and not rest.parked, [p.to_dict() for p in rest.parked]
    invoices = _invoices_by_source(world)
    parts = _payment_parts(world, [payment_id])[payment_id]
    assert list(parts) == [invoices[i]["id"] for i in split]  # in order id order
    assert all(invoices[i]["paye"] == 1 for i in split)


WRITES = [("POST", "/thirdparties", 1), ("POST", "/contacts", 2), ("POST", "/orders", 1), ("POST", "/orders", 2),
          ("POST", "/orders", 3), ("POST", "/validate", 1), ("POST", "/validate", 4), ("POST", "/invoices", 2),
          ("POST", "/invoices", 3), ("POST", "/paymentsdistributed", 1), ("POST", "/paymentsdistributed", 2),
          ("PUT", "/builddoc", 3), ("POST", "/setinvoiced", 3)]


@pytest.mark.parametrize(("method", "path_end", "nth"), WRITES)
async def test_ref_mode_heals_after_a_crash_at_any_write(tmp_path: Path, method: str, path_end: str,
                                                         nth: int) -> None:
    def build(sub: str) -> OrderWorld:
        (tmp_path / sub).mkdir(exist_ok=True)
        world = OrderWorld.build(tmp_path / sub, orders=1, products=6, customers=2, seed=21,
                                 shop={"order_ref_mode": "ref"})
        _place_split(world, parts=2)
        return world

    reference = build("ref")
    await reference.sync()
    expected = _snapshot(reference)
    expected_refs = sorted(o["ref"] for o in reference.ours("orders", "ps-main-order-"))
    assert len(expected_refs) == 3 and any(r.endswith("-2") for r in expected_refs)
    # the position of the nth such write in the (deterministic) reference run
    matching = [i for i, (m, p) in enumerate(reference.erp_writes.log, 1) if m == method and p.endswith(path_end)]
    crash_at = matching[nth - 1]
    world = build("crash")
    world.erp_writes.crash_after = crash_at
    with pytest.raises(BaseException) as killed:
        await world.sync()
    assert killed.group_contains(Crash) if isinstance(killed.value, BaseExceptionGroup) else \
        isinstance(killed.value, Crash)
    assert world.erp_writes.log[crash_at - 1][0] == method and world.erp_writes.log[crash_at - 1][1].endswith(path_end)
    healed = await world.sync()
    assert healed.error is None and not healed.parked, [p.to_dict() for p in healed.parked]
    assert _snapshot(world) == expected
    assert sorted(o["ref"] for o in world.ours("orders", "ps-main-order-")) == expected_refs
    assert len(world.table("orders")) == len(expected_refs)  # nothing half-made outside our keys
    _no_duplicates(world)


async def test_a_ref_taken_by_another_dolibarr_order_parks_that_order_until_fixed(tmp_path: Path) -> None:
    world = OrderWorld.build(tmp_path, orders=4, products=8, customers=3, shop={"order_ref_mode": "ref"})
    shop_orders = sorted(world.shop.table("orders").values(), key=lambda o: int(o["id"]))
    victim = next(o for o in shop_orders if o["current_state"] not in ("6", "8"))
    from dolisync.clients.dolibarr import DolibarrClient

    async with DolibarrClient.from_settings(world.settings.dolibarr, transport=world.transports()["dolibarr"]) as erp:
        socid = await erp.create("thirdparties", {"name": "Someone else"})  # an order typed in Dolibarr by hand
        foreign = await erp.create("orders", {"socid": socid, "date": 1795835501, "ref": victim["reference"]})
    summary = await world.sync()
    assert summary.error is None
    parked = {p.source_id: p for p in summary.parked if p.entity == "orders"}
    assert list(parked) == [str(victim["id"])], [p.to_dict() for p in summary.parked]
    message = parked[str(victim["id"])].message
    assert f"another order with ref {victim['reference']}" in message and "order_ref_mode" in message
    assert summary.counts("orders").created >= 1  # the others went on
    world.erp.table("orders")[foreign]["ref"] = f"{victim['reference']}-OLD"  # the merchant renames it
    retried = await retry_orders(world.settings, world.settings.shop[0], world.store,
                                 transports=world.transports())
    assert retried.error is None and not retried.parked, [p.to_dict() for p in retried.parked]
    assert _orders_by_source(world)[int(victim["id"])]["ref"] == victim["reference"]
