"""Exactly-once effects: replayed states and re-runs change nothing; a crash at any write heals.

Crash model: :class:`~tests.e2e.test_orders_world.Writes` raises :class:`Crash` (a
``BaseException`` nothing in the sync catches) right *after* the emulator applied the N-th
write — the worst moment: Dolibarr committed, the sync did not record it. The run dies there;
the next run must finish the work with no duplicate third party, order, invoice or payment and
nothing missing. This exercises the same healing code as a SIGKILL of a subprocess (bindings
are stored only after the remote write; lookups by ``ref_ext`` come before every create), in
process so it stays fast; points are spread over the ~16 writes of an order's sync.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.test_orders_world import Crash, OrderWorld, duplicates

pytestmark = pytest.mark.anyio


def _snapshot(world: OrderWorld) -> dict[str, int]:
    return {
        "thirdparties": len(world.ours("thirdparties", "ps-main-")),
        "contacts": len(world.ours("contacts", "ps-main-")),
        "orders": len(world.ours("orders", "ps-main-order-")),
        "invoices": len(world.ours("invoices", "ps-main-invoice-")),
        "payments": len(world.ours("payments", "ps-main-payment-")),
        "shipments": len(world.table("shipments")),
    }


def _no_duplicates(world: OrderWorld) -> None:
    for table, prefix in (("thirdparties", "ps-main-"), ("contacts", "ps-main-"), ("orders", "ps-main-order-"),
                          ("invoices", "ps-main-invoice-"), ("payments", "ps-main-payment-")):
        assert not duplicates(world.ours(table, prefix)), table
    shipped = [row["order_id"] for row in world.table("shipments")]
    assert len(shipped) == len(set(shipped)), "one shipment per order"


async def test_replayed_states_and_reruns_produce_each_effect_once(tmp_path: Path) -> None:
    world = OrderWorld.build(tmp_path, orders=10, products=10, customers=5, seed=9)
    await world.sync()
    before = _snapshot(world)
    writes = world.erp_writes.count
    again = await world.sync()
    assert again.requests["dolibarr"].writes == 0 and world.erp_writes.count == writes
    # replay: the same states posted again (a webhook or poll seeing old events) change nothing
    for order in world.shop.table("orders").values():
        history = [h for h in world.shop.table("order_histories").values() if h["id_order"] == order["id"]]
        if history:
            world.shop.table("order_histories")[10_000 + int(order["id"])] = {**history[-1],
                                                                             "id": str(10_000 + int(order["id"]))}
            order["date_upd"] = "2027-01-01 00:00:00"
    writes = world.erp_writes.count
    replayed = await world.sync()
    assert replayed.error is None and not replayed.parked
    assert world.erp_writes.count == writes, world.erp_writes.log[writes:]
    assert _snapshot(world) == before
    assert replayed.counts("orders").created == 0 and replayed.counts("payments").created == 0
    _no_duplicates(world)


@pytest.mark.parametrize("crash_at", [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 17])
async def test_a_crash_after_any_write_heals_on_the_next_run(tmp_path: Path, crash_at: int) -> None:
    (tmp_path / "ref").mkdir(exist_ok=True)
    reference = OrderWorld.build(tmp_path / "ref", orders=3, products=6, customers=2, seed=21)
    await reference.sync()
    expected = _snapshot(reference)
    (tmp_path / "crash").mkdir(exist_ok=True)
    world = OrderWorld.build(tmp_path / "crash", orders=3, products=6, customers=2, seed=21)
    world.erp_writes.crash_after = crash_at
    with pytest.raises(BaseException) as killed:
        await world.sync()
    assert killed.group_contains(Crash) if isinstance(killed.value, BaseExceptionGroup) else \
        isinstance(killed.value, Crash)
    healed = await world.sync()
    assert healed.error is None and not healed.parked, [p.to_dict() for p in healed.parked]
    assert _snapshot(world) == expected
    _no_duplicates(world)
