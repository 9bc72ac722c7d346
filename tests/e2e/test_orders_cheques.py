"""Cheque payments end to end: ``ps_checkpayment`` orders reach Dolibarr with their payer.

Dolibarr refuses a ``CHQ`` payment without ``chqemetteur`` when its Banks module is on (400
"Emetteur is mandatory when payment code is CHQ", modelled by the emulator), so the sync sends
the payer — the customer's third-party name — on every cheque payment, single or spread over the
invoices of a split cart.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from dolisync.clients.prestashop_records import Address, Customer, Order
from dolisync.emulators.generator.orders import OrderDraft, OrderMix
from dolisync.sync.orders import OrderSyncOptions
from dolisync.sync.orders.payments import ISSUER_MAX, cheque_issuer
from dolisync.sync.orders.shop_reader import OrderBundle
from tests.e2e.test_orders_world import OrderWorld

CHEQUE = "ps_checkpayment"


def _place_cheque_orders(world: OrderWorld, *, parts: int = 1, guest: bool = False) -> list[int]:
    """A paid cheque order (a split cart of ``parts`` orders when ``parts`` > 1), in the live shop."""
    for seed in range(500, 600):  # the first seed whose random state path reaches a payment
        factory = world.generated.order_factory(seed=seed, mix=OrderMix(guest_share=1.0 if guest else 0.0))
        when = world.generated.epoch + timedelta(minutes=5)
        drafts: list[OrderDraft] = (
            factory.build_split(when, parts, id_shop=1, module=CHEQUE, progress=3) if parts > 1
            else [factory.build(when, id_shop=1, module=CHEQUE, progress=3, new_customer=guest)])
        if any(d.payments for d in drafts):
            def insert(resource: str, row: dict[str, Any]) -> int:  # a new customer's rows carry placeholder ids
                return world.shop.insert(resource, {k: v for k, v in row.items() if k != "id"})

            return [int(factory.commit(d, insert, world.shop.update)["order"]) for d in drafts]
    raise AssertionError("no seed gave a paid cheque order")


def _cheque_payments(world: OrderWorld, order_ids: list[int]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Our Dolibarr payments of the shop payments of ``order_ids``, each with its bank line."""
    references = {world.shop.get("orders", i)["reference"] for i in order_ids}
    sources = {int(p["id"]) for p in world.shop.table("order_payments").values() if p["order_reference"] in references}
    assert sources, "the orders were paid in the shop"
    out = []
    for payment in world.ours("payments", "ps-main-payment-"):
        if int(payment["ref_ext"].rsplit("-", 1)[1]) in sources:
            out.append((payment, world.erp.get("banklines", payment["bank_line"])))
    assert len(out) == len(sources), (len(out), sources)
    return out


def _invoice_of(world: OrderWorld, order_id: int) -> dict[str, Any]:
    return next(i for i in world.ours("invoices", "ps-main-invoice-") if i["ref_ext"].endswith(f"-{order_id}"))


@pytest.mark.anyio
async def test_a_cheque_order_is_paid_with_its_payer_as_issuer(tmp_path: Path) -> None:
    world = OrderWorld.build(tmp_path, orders=4, products=8, customers=3)
    [order_id] = _place_cheque_orders(world)
    summary = await world.sync()
    assert summary.error is None and not summary.parked, [p.to_dict() for p in summary.parked]
    invoice = _invoice_of(world, order_id)
    [(payment, line)] = _cheque_payments(world, [order_id])
    thirdparty = world.erp.get("thirdparties", invoice["socid"])
    assert world.erp.get("invoices", invoice["id"])["paye"] == 1
    assert (payment["paymentid"], line["fk_type"]) == (7, "CHQ")  # the dictionary's CHQ type
    assert line["emetteur"] == thirdparty["name"] and line["emetteur"].strip()
    assert [part["invoice_id"] for part in payment["parts"]] == [invoice["id"]]
    # nothing of a card order carries an issuer
    others = [(p, world.erp.get("banklines", p["bank_line"])) for p in world.ours("payments", "ps-main-payment-")]
    assert all(bank["emetteur"] is None for p, bank in others if bank["fk_type"] != "CHQ")

    writes = world.erp_writes.count
    again = await world.sync()
    assert again.error is None and world.erp_writes.count == writes, world.erp_writes.log[writes:]


@pytest.mark.anyio
async def test_a_split_cart_paid_by_cheque_is_one_payment_with_its_issuer(tmp_path: Path) -> None:
    world = OrderWorld.build(tmp_path, orders=2, products=8, customers=3)
    split = _place_cheque_orders(world, parts=3)
    summary = await world.sync()
    assert summary.error is None and not summary.parked, [p.to_dict() for p in summary.parked]
    invoices = [_invoice_of(world, i) for i in split]
    [(payment, line)] = _cheque_payments(world, split)
    assert [part["invoice_id"] for part in payment["parts"]] == [i["id"] for i in invoices]
    assert sum((part["multicurrency_amount"] for part in payment["parts"]), Decimal(0)) == sum(
        Decimal(world.shop.get("orders", i)["total_paid_tax_incl"]) for i in split)
    assert all(world.erp.get("invoices", i["id"])["paye"] == 1 for i in invoices)
    assert line["fk_type"] == "CHQ" and line["emetteur"] == world.erp.get("thirdparties", invoices[0]["socid"])["name"]


@pytest.mark.anyio
async def test_a_guest_on_the_generic_customer_is_still_the_issuer(tmp_path: Path) -> None:
    world = OrderWorld.build(tmp_path, orders=2, products=8, customers=3)
    [order_id] = _place_cheque_orders(world, guest=True)
    summary = await world.sync(options=OrderSyncOptions(guests="generic"))
    assert summary.error is None and not summary.parked, [p.to_dict() for p in summary.parked]
    [(_payment, line)] = _cheque_payments(world, [order_id])
    order = world.shop.get("orders", order_id)
    customer = world.shop.get("customers", int(order["id_customer"]))
    address = world.shop.get("addresses", int(order["id_address_invoice"]))
    assert customer["is_guest"] == "1"
    assert world.erp.get("thirdparties", _invoice_of(world, order_id)["socid"])["name"] == "Web customer"
    expected = (customer.get("company") or address.get("company") or "").strip() or \
        f"{customer['lastname']} {customer['firstname']}"
    assert line["emetteur"] == expected  # who wrote the cheque, not the shared "Web customer"


def test_the_issuer_is_cut_to_what_llx_bank_emetteur_holds() -> None:
    order = Order(id=1, id_address_invoice=5, module=CHEQUE)
    long_company = "Société " + "é" * 300
    bundle = OrderBundle(order=order, customer=Customer(id=2, company=long_company, lastname="Martin"),
                         addresses={5: Address(id=5, company="")})
    assert cheque_issuer(bundle, upper=True, fallback="Web customer") == long_company[:ISSUER_MAX]
    assert ISSUER_MAX == 255  # llx_bank.emetteur varchar(255): characters, not bytes
    nameless = OrderBundle(order=order, customer=Customer(id=3), addresses={})
    assert cheque_issuer(nameless, upper=True, fallback="Web customer") == "Web customer"
    person = OrderBundle(order=order, customer=Customer(id=4, lastname=" Dupont ", firstname="Jean"), addresses={})
    assert cheque_issuer(person, upper=True, fallback="x") == "DUPONT Jean"
