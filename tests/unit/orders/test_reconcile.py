"""Reconciliation records: predicted by the mapper, then against a Dolibarr document read back."""

from __future__ import annotations

import json
from decimal import Decimal

from dolisync.mapping.orders import DolibarrSide, map_order
from dolisync.mapping.prestashop_money import CartLine, CartRuleSpec, OrderInput
from dolisync.mapping.reconcile import Totals, reconcile_document
from tests.unit.orders.builders import FR10, FR20, TAXES, seller_fr, shop_order

D = Decimal
SIDE = DolibarrSide(seller=seller_fr(), company_currency="EUR", country_code="FR", tax_rates=TAXES)


def _mapping(conversion: Decimal = D(1), currency: str = "EUR"):  # noqa: ANN202 - test helper
    cart = OrderInput(lines=[CartLine(1, 3, D("19.916667"), FR20), CartLine(2, 2, D("9.090909"), FR10)],
                      cart_rules=[CartRuleSpec(1, "TENOFF", reduction_amount=D(10))], shipping_price=D("4.958333"),
                      carrier_tax=FR20, conversion_rate=conversion)
    order, _ = shop_order(cart, currency=currency)
    return map_order(order, SIDE)


def test_predicted_reconciliation_is_exact_and_serialisable() -> None:
    rec = _mapping().reconciliation
    assert rec.exact and rec.source == "predicted" and rec.document == "order"
    data = json.loads(json.dumps(rec.as_dict()))
    assert data["delta"] == {"excl": "0.00", "tax": "0.00", "incl": "0.00"}
    assert data["shop"]["tax"] == f"{rec.shop.incl - rec.shop.excl:f}"
    assert data["shipping"]["delta"]["incl"] == "0.00" and data["fix"] == "none"


def test_document_read_back_with_a_cent_off_is_reported() -> None:
    rec = _mapping().reconciliation
    good = {"total_ht": f"{rec.shop.excl}000000", "total_ttc": f"{rec.shop.incl}000000", "multicurrency_tx": "1.00000000"}
    assert reconcile_document(rec, good).exact
    bad = {**good, "total_ttc": f"{rec.shop.incl + D('0.01')}"}
    checked = reconcile_document(rec, bad, document_kind="invoice")
    assert not checked.exact and checked.source == "dolibarr" and checked.document == "invoice"
    assert checked.delta == Totals(D(0), D("0.01"), D("0.01"))


def test_multicurrency_document_compares_currency_totals() -> None:
    mapping = _mapping(D("1.0847"), "USD")
    rec = mapping.reconciliation
    document = {"total_ht": "1.00", "total_ttc": "1.20", "multicurrency_tx": "1.08470000",
                "multicurrency_total_ht": f"{rec.shop.excl}", "multicurrency_total_ttc": f"{rec.shop.incl}"}
    assert reconcile_document(rec, document).exact
    assert rec.currency == "USD"
