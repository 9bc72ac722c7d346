"""Acceptance: a corpus of generated orders (FR and CA shops) synced against both emulators.

One test asserts it all: 100 % of the Dolibarr orders and invoices equal PrestaShop's grand
totals to the cent (tax excl., tax, tax incl., in the order currency; adjustment lines counted
and reported), every order/invoice/payment exactly once, payments in the bank account mapped
to the order's payment module, invoices paid where PrestaShop has the payments, and a second
run changes nothing. The corpus covers mixed VAT rates, several cart rules, free shipping,
gift wrapping, GST+PST (combined and compound), EUR/USD/GBP/CAD orders, guests, the three
rounding types and the four payment modules (checked below, not assumed). Products, Canadian
ones included, are synced on the way by the catalog's own flow; the only parking accepted is an
order waiting for a product that flow parked (a tax rule group with no rule for the company's
country), and it must stay rare.

Size: ``DOLISYNC_E2E_ORDERS`` (default 2000, split between the two shops). In-process the
emulators cost ~10 ms per request and an order needs ~15 requests: 2,000 orders take a few
minutes on a 2-core machine; set e.g. ``DOLISYNC_E2E_ORDERS=200`` for a quick run.
"""

from __future__ import annotations

import os
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from dolisync.mapping.money import r2, to_decimal
from dolisync.sync.orders import reconcile_report
from tests.e2e.test_orders_world import OrderWorld, duplicates

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(1800)]
SIZE = int(os.environ.get("DOLISYNC_E2E_ORDERS", "2000"))
CREATED_STATES = {1, 2, 3, 4, 5, 7, 9, 10, 11, 12, 13}  # stock PrestaShop 8: all but cancelled (6) and error (8)
INVOICE_STATES = {2, 3, 4, 5, 7, 9, 11}  # the states flagged "invoice"


def _money(row: dict[str, object], name: str) -> Decimal:
    return r2(to_decimal(row.get(name)))


def _totals(document: dict[str, object], foreign: bool) -> tuple[Decimal, Decimal]:
    prefix = "multicurrency_" if foreign else ""
    return _money(document, f"{prefix}total_ht"), _money(document, f"{prefix}total_ttc")


async def _check_shop(tmp: Path, country: str, orders: int, stats: Counter[str]) -> None:
    tmp.mkdir(parents=True, exist_ok=True)
    world = OrderWorld.build(tmp, orders=orders, products=80, customers=max(20, orders // 8), seed=17,
                             country=country)
    first = await world.sync()  # products (also Canadian ones) are synced on the way by the catalog's ProductFlow
    assert first.error is None, first.error
    # The only accepted parking: orders whose products the catalog flow itself parked (a product
    # whose tax rule group has no rule for the company's country: reported, see docs/orders.md).
    blocked = {p.source_id for p in first.parked if p.entity == "orders"
               and "sync these PrestaShop products" in p.message}
    catalog_parked = {p.source_id for p in first.parked if p.entity == "product"}
    others = [p.to_dict() for p in first.parked if p.entity not in ("orders", "product")
              or (p.entity == "orders" and p.source_id not in blocked)]
    assert not others, others[:5]
    assert not blocked or catalog_parked, "orders wait only for products the catalog could not sync"
    stats[f"orders waiting for catalog-parked products ({country})"] += len(blocked)
    stats[f"products parked by the catalog ({country})"] += len(catalog_parked)
    tables = world.generated.prestashop.tables
    currencies = {str(c["id"]): str(c["iso_code"]) for c in tables["currencies"]}
    histories: dict[str, set[int]] = {}
    for row in tables["order_histories"]:
        histories.setdefault(str(row["id_order"]), set()).add(int(row["id_order_state"]))
    payments: dict[str, list[dict[str, object]]] = {}
    for row in tables["order_payments"]:
        payments.setdefault(str(row["order_reference"]), []).append(row)
    setup = world.generated.dolibarr
    account_of = {b["payment_module"]: b["ref"] for b in setup.bank_accounts if b.get("payment_module")}
    account_ids = {str(row["ref"]): row["id"] for row in world.table("bankaccounts")}
    company = setup.currency
    orders = {str(o["ref_ext"]): o for o in await world.api_rows("orders", "ps-main-order-")}
    invoices = {str(i["ref_ext"]): i for i in await world.api_rows("invoices", "ps-main-invoice-")}
    assert len(orders) == len(world.ours("orders", "ps-main-order-"))
    erp_payments = {str(p["ref_ext"]): p for p in world.ours("payments", "ps-main-payment-")}
    assert not duplicates(list(orders.values())) and not duplicates(list(invoices.values()))
    assert not duplicates(world.ours("payments", "ps-main-payment-"))
    assert not duplicates(world.ours("thirdparties", "ps-main-"))
    for order in tables["orders"]:
        oid, state = str(order["id"]), int(order["current_state"])
        reached = histories.get(oid, set()) | {state}
        currency = currencies[str(order["id_currency"])]
        foreign = currency != company
        shop_totals = (_money(order, "total_paid_tax_excl"), _money(order, "total_paid_tax_incl"))
        document = orders.get(f"ps-main-order-{oid}")
        if state not in CREATED_STATES or oid in blocked:
            assert document is None, oid
            continue
        assert document is not None, f"order {oid} missing"
        assert _totals(document, foreign) == shop_totals, (oid, _totals(document, foreign), shop_totals)
        assert (document.get("multicurrency_code") or company) == currency
        stats[f"currency {currency}"] += 1
        stats[f"round type {order['round_type']}"] += 1
        stats[f"module {order['module']}"] += 1
        stats["orders"] += 1
        descriptions = " ".join(str(line.get("desc")) for line in document.get("lines", []))  # type: ignore[union-attr]
        stats["adjustment lines"] += descriptions.count("Rounding adjustment")
        if _money(order, "total_wrapping_tax_incl"):
            stats["wrapping"] += 1
        if "Free shipping" in descriptions or "free shipping" in descriptions:
            stats["free shipping"] += 1
        if descriptions.count("(VAT ") >= 2:
            stats["discount split by rate"] += 1
        lines = document.get("lines", [])
        if any(to_decimal(line.get("localtax1_tx") or 0) for line in lines):  # type: ignore[union-attr]
            stats["local tax lines"] += 1
        types = {str(line.get("localtax1_type")) for line in lines if to_decimal(line.get("localtax1_tx") or 0)}  # type: ignore[union-attr]
        stats["GST+PST combined (on net)"] += bool(types & {"1", "3", "5"})
        stats["GST+PST one after another (compound)"] += bool(types & {"2", "4", "6"})
        invoice = invoices.get(f"ps-main-invoice-{oid}")
        if not reached & INVOICE_STATES:
            assert invoice is None, oid
            continue
        assert invoice is not None, f"invoice of order {oid} missing"
        assert _totals(invoice, foreign) == shop_totals, (oid, "invoice")
        assert (invoice.get("multicurrency_code") or company) == currency
        stats["invoices"] += 1
        shop_payments = payments.get(str(order["reference"]), [])
        for payment in shop_payments:
            if not to_decimal(payment["amount"]):  # a free order's 0.00 payment is no money movement
                stats["free orders"] += 1
                continue
            recorded = erp_payments.get(f"ps-main-payment-{payment['id']}")
            assert recorded is not None, (oid, payment["id"])
            assert recorded["fk_account"] == account_ids[account_of[str(order["module"])]]
            stats["payments"] += 1
        paid = sum((to_decimal(p["amount"]) for p in shop_payments), Decimal(0))
        if shop_payments and r2(paid) == shop_totals[1]:
            assert int(invoice.get("paye") or 0) == 1, (oid, "invoice should be paid")
            stats["paid invoices"] += 1
    report = [r for r in reconcile_report(world.settings, world.store) if r["shop"] == "main"]
    assert all(r["exact"] for r in report)
    assert report or len(blocked) == stats[f"orders waiting for catalog-parked products ({country})"], country
    stats["reconciled documents"] += len(report)
    customers = {str(c["id"]): c for c in tables["customers"]}
    stats["guest orders"] += sum(1 for o in tables["orders"] if customers[str(o["id_customer"])]["is_guest"] == "1")
    second = await world.sync()
    assert second.counts("orders").created == 0 and second.counts("orders").updated == 0
    if not blocked:
        assert second.requests["dolibarr"].writes == 0


async def test_corpus_of_orders_is_exact_to_the_cent(tmp_path: Path) -> None:
    stats: Counter[str] = Counter()
    await _check_shop(tmp_path / "fr", "FR", SIZE // 2, stats)
    await _check_shop(tmp_path / "ca", "CA", SIZE - SIZE // 2, stats)
    print("\norder corpus:", dict(sorted(stats.items())))
    assert stats["orders"] >= SIZE * 0.4
    # Canadian products go through the catalog flow (rates of the shop's province, PS_SHOP_STATE_ID):
    # only products of a tax rule group without any Canadian rule are parked, with their orders.
    assert stats["orders waiting for catalog-parked products (CA)"] < (SIZE - SIZE // 2) * 0.25, dict(stats)
    for currency in ("EUR", "USD", "GBP", "CAD"):
        assert stats[f"currency {currency}"] > 0, currency
    for module in ("ps_checkpayment", "ps_wirepayment", "ps_cashondelivery", "ps_checkout"):
        assert stats[f"module {module}"] > 0, module
    for round_type in (1, 2, 3):
        assert stats[f"round type {round_type}"] > 0
    assert stats["wrapping"] and stats["guest orders"] and stats["paid invoices"]
    assert stats["free shipping"] and stats["discount split by rate"]
    assert stats["GST+PST combined (on net)"] and stats["GST+PST one after another (compound)"]
