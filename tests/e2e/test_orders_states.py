"""Later state changes, edits after sync, cancellation, link back, selection (--id, --since), dry run.

Orders are placed in the running PrestaShop emulator with the generator's order factory (only
the payment module's first state reached), then moved through states as the back office does
(``change_order_state`` = ``POST /api/order_histories``). Each state's Dolibarr effect must
happen once, also when the sync runs again.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from dolisync.sync.orders import OrderSyncOptions, sync_customers
from tests.e2e.test_orders_world import OrderWorld, duplicates

pytestmark = pytest.mark.anyio


class Shop:
    """Places orders in the emulator and moves them through states."""

    def __init__(self, world: OrderWorld) -> None:
        self.world = world
        self.factory = world.generated.order_factory(seed=99)
        self.when = world.generated.epoch

    def place(self, module: str = "ps_wirepayment", **options: Any) -> int:
        self.when += timedelta(minutes=7)
        draft = self.factory.build(self.when, id_shop=1, module=module, progress=1, **options)
        return int(self.factory.commit(draft, self.world.shop.insert, self.world.shop.update)["order"])

    def move(self, order_id: int, *states: int) -> None:
        for state in states:
            self.world.shop.change_order_state(order_id, state)

    def order(self, order_id: int) -> dict[str, Any]:
        return self.world.shop.get("orders", order_id)


def _one(rows: list[dict[str, Any]]) -> dict[str, Any]:
    assert len(rows) == 1, rows
    return rows[0]


async def test_each_state_change_has_its_effect_once(tmp_path: Path) -> None:
    world = OrderWorld.build(tmp_path, orders=0, products=8, customers=4)
    shop = Shop(world)
    oid = shop.place("ps_wirepayment")
    await world.sync()
    order = _one(await world.api_rows("orders", f"ps-main-order-{oid}"))
    assert order["statut"] == "1" and not await world.api_rows("invoices", f"ps-main-invoice-{oid}")
    assert order["ref_client"] == shop.order(oid)["reference"]
    links = world.erp.get("orders", int(order["id"]))["contacts"]
    assert {str(link.get("type") or link.get("code") or link.get("type_code")).upper() for link in links} >= {
        "BILLING", "SHIPPING"}, links

    shop.move(oid, 2)  # payment accepted: invoice + payment
    for _ in range(2):
        await world.sync()
    invoice = _one(await world.api_rows("invoices", f"ps-main-invoice-{oid}"))
    assert invoice["statut"] == "2" and invoice["paye"] == "1"
    assert invoice["last_main_doc"], "the PDF was built"
    assert len(world.ours("payments", "ps-main-payment-")) == 1
    note = str(shop.order(oid)["note"])
    assert f"Dolibarr invoice {invoice['ref']}: http://erp.test/document.php?modulepart=facture&file=" in note

    shop.move(oid, 3, 4)  # shipped: one shipment from the carrier's warehouse
    await world.sync()
    await world.sync()
    shipments = [s for s in world.table("shipments") if s["order_id"] == int(order["id"])]
    assert len(shipments) == 1 and shipments[0]["statut"] != 0
    shop.move(oid, 5)  # delivered: the order is closed
    await world.sync()
    assert _one(await world.api_rows("orders", f"ps-main-order-{oid}"))["statut"] == "3"
    writes = world.erp_writes.count
    replay = await world.sync()
    assert world.erp_writes.count == writes and replay.counts("orders").unchanged == 1


async def test_cancelled_after_invoicing_gets_one_credit_note(tmp_path: Path) -> None:
    world = OrderWorld.build(tmp_path, orders=0, products=8, customers=4)
    shop = Shop(world)
    oid = shop.place("ps_checkout")  # card: payment accepted at once
    kept = shop.place("ps_checkpayment")
    await world.sync()
    invoice = _one(await world.api_rows("invoices", f"ps-main-invoice-{oid}"))
    shop.move(oid, 6)
    shop.move(kept, 6)  # cancelled before any invoice: recorded on the order, no credit note
    await world.sync()
    await world.sync()
    notes = await world.api_rows("invoices", f"ps-main-credit_note-{oid}")
    note = _one(notes)
    assert note["type"] == "2" and note["statut"] != "0" and str(note["fk_facture_source"]) == str(invoice["id"])
    assert not await world.api_rows("invoices", f"ps-main-credit_note-{kept}")
    for cancelled in (oid, kept):
        order = _one(await world.api_rows("orders", f"ps-main-order-{cancelled}"))
        assert "Cancelled in PrestaShop" in str(order.get("note_private"))


async def test_line_edit_before_invoicing_updates_the_order_after_invoicing_parks(tmp_path: Path) -> None:
    world = OrderWorld.build(tmp_path, orders=0, products=8, customers=4)
    shop = Shop(world)
    draft_id = shop.place("ps_wirepayment")
    invoiced_id = shop.place("ps_checkout")
    await world.sync()
    for order_id in (draft_id, invoiced_id):
        detail = next(d for d in world.shop.table("order_details").values() if int(d["id_order"]) == order_id)
        detail["product_name"] = detail["product_name"] + " (engraved)"
    summary = await world.sync()
    order = _one(await world.api_rows("orders", f"ps-main-order-{draft_id}"))
    assert order["statut"] == "1" and any("(engraved)" in str(line["desc"]) for line in order["lines"])
    parked = {p.source_id: p.message for p in summary.parked}
    assert "changed in PrestaShop after the Dolibarr invoice was made" in parked[str(invoiced_id)]
    assert not duplicates(world.ours("orders", "ps-main-order-"))


async def test_selection_by_reference_since_and_dry_run(tmp_path: Path) -> None:
    world = OrderWorld.build(tmp_path, orders=6, products=8, customers=4)
    orders = sorted(world.shop.table("orders").values(), key=lambda o: int(o["id"]))
    eligible = [o for o in orders if o["current_state"] not in ("6", "8")]
    planned = await world.sync(dry_run=True)
    assert planned.plan.writes and world.erp_writes.count == 0 and not world.ours("orders", "ps-main-")
    one = eligible[0]
    summary = await world.sync(ids=[one["reference"]])
    assert summary.counts("orders").created == 1
    assert [o["ref_ext"] for o in world.ours("orders", "ps-main-order-")] == [f"ps-main-order-{one['id']}"]
    last = datetime.strptime(str(eligible[-1]["date_add"]), "%Y-%m-%d %H:%M:%S")
    since = await world.sync(since=last - timedelta(seconds=1))
    assert since.counts("orders").created == 1
    assert f"ps-main-order-{eligible[-1]['id']}" in {o["ref_ext"] for o in world.ours("orders", "ps-main-order-")}


async def test_customers_guests_share_a_third_party_per_email_or_a_generic_one(tmp_path: Path) -> None:
    world = OrderWorld.build(tmp_path, orders=0, products=4, customers=12)
    customers = list(world.shop.table("customers").values())
    guests = [c for c in customers if c["is_guest"] == "1"]
    assert guests, "the generator makes guests"
    twin = dict(guests[0])
    twin.pop("id")
    world.shop.insert("customers", twin)  # a second guest checkout with the same e-mail
    summary = await sync_customers(world.settings, world.settings.shop[0], world.store,
                                   transports=world.transports())
    assert summary.error is None and not summary.parked
    parties = world.ours("thirdparties", "ps-main-")
    emails = [p["email"] for p in parties]
    assert len(emails) == len(set(emails)), "one third party per e-mail"
    assert len(parties) == len({c["email"] for c in world.shop.table("customers").values()})
    (tmp_path / "g").mkdir()
    generic = OrderWorld.build(tmp_path / "g", orders=20, products=6, customers=8, seed=12)
    await generic.sync(options=OrderSyncOptions(guests="generic"))
    webs = generic.ours("thirdparties", "ps-main-guest-web")
    guest_orders = [o for o in generic.shop.table("orders").values() if o["current_state"] not in ("6", "8")
                    and generic.shop.get("customers", int(o["id_customer"]))["is_guest"] == "1"]
    assert guest_orders, "the corpus has guest orders"
    assert len(webs) == 1
    web_id = webs[0]["id"]
    for order in guest_orders:
        assert _one(await generic.api_rows("orders", f"ps-main-order-{order['id']}"))["socid"] in (web_id, str(web_id))


async def test_doctor_names_unmapped_modules_unknown_states_and_warehouses(tmp_path: Path) -> None:
    from dolisync.sync.orders.doctor import order_setup_problems

    world = OrderWorld.build(tmp_path, orders=30, products=6, customers=6)
    assert await order_setup_problems(world.settings, world.settings.shop[0], transports=world.transports()) == []
    shop = world.settings.shop[0]
    shop.payment_accounts.pop("ps_checkout")
    shop.carrier_warehouses["3"] = "WH-NOWHERE"
    shop.order_state_rules.invoice = [1, 77]
    problems = await order_setup_problems(world.settings, shop, transports=world.transports())
    text = "\n".join(problems)
    assert "map module ps_checkout to a bank account" in text
    assert "WH-NOWHERE" in text and "77" in text


async def test_reconcile_command_prints_both_totals_per_document(tmp_path: Path, capsys: Any) -> None:
    import json

    from dolisync.cli_orders import run_reconcile

    world = OrderWorld.build(tmp_path, orders=5, products=6, customers=3)
    await world.sync()
    settings = world.settings.model_copy(update={"state": world.settings.state.model_copy(
        update={"url": f"sqlite:///{tmp_path / 'state.db'}"})})
    capsys.readouterr()
    assert run_reconcile(settings, json_output=True) == 0
    report = json.loads(capsys.readouterr().out)
    documents = {(row["order_id"], row["document"]) for row in report}
    orders = world.ours("orders", "ps-main-order-")
    assert len({oid for oid, kind in documents if kind == "order"}) == len(orders)
    assert all(row["exact"] and row["delta"] == {"excl": "0.00", "tax": "0.00", "incl": "0.00"} for row in report)
    assert run_reconcile(settings) == 0
    assert "shop" in capsys.readouterr().out


async def test_concurrent_runs_survive_dolibarrs_numbering_race(tmp_path: Path) -> None:
    import asyncio

    world = OrderWorld.build(tmp_path, orders=16, products=6, customers=4, shop={"retries": 4})
    # Two runs at once stand for two shops validating in one Dolibarr (one run per shop at a time is
    # the rule): catalog and customers first, so the runs share nothing but the numbering.
    await world.sync_catalog()
    await sync_customers(world.settings, world.settings.shop[0], world.store, transports=world.transports())
    world.erp.extra["faults"] = {"validation_race": True, "race_window": 0.01}
    ids = sorted(int(i) for i in world.shop.table("orders"))
    first, second = await asyncio.gather(world.sync(ids=[str(i) for i in ids[::2]]),
                                         world.sync(ids=[str(i) for i in ids[1::2]]))
    assert 500 in world.erp_writes.statuses, "the two runs collided on the numbering"
    assert not first.parked and not second.parked, [p.to_dict() for p in (*first.parked, *second.parked)]
    documents = await world.api_rows("orders", "ps-main-order-") + await world.api_rows("invoices", "ps-main-invoice-")
    refs = [str(d["ref"]) for d in documents]
    assert len(refs) == len(set(refs)) and not any(ref.startswith("(PROV") for ref in refs)
    assert not duplicates(world.ours("orders", "ps-main-order-"))
