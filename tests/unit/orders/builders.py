"""Build PrestaShop orders for the order-mapping tests with the PrestaShop money model.

:func:`shop_order` runs :func:`dolisync.mapping.prestashop_money.compute_order` on a cart and
turns the stored amounts into Webservice-shaped rows (strings, as PrestaShop prints them),
then into a :class:`ShopOrder` through the same :meth:`ShopOrder.from_webservice` the sync uses.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from dolisync.emulators.dataset import VatRate
from dolisync.mapping.dolibarr_money import SellerTaxes
from dolisync.mapping.order_input import ShopOrder
from dolisync.mapping.prestashop_money import OrderInput, OrderMoney, Tax, TaxRule, compute_order

D = Decimal

# PrestaShop tax ids used by the tests (id -> rate).
TAXES: dict[int, Decimal] = {
    1: D("20.000"), 2: D("10.000"), 3: D("5.500"), 4: D("2.100"),
    10: D("5.000"), 11: D("9.975"), 12: D("7.000"), 13: D("8.000"), 14: D("0.000"), 15: D("10.000"),
}


def rule(*ids: int, behavior: int = 0) -> TaxRule:
    """A tax rule with the given tax ids (rates from ``TAXES``)."""
    return TaxRule(taxes=tuple(Tax(i, TAXES[i]) for i in ids), behavior=behavior)


FR20, FR10, FR55, FR21 = rule(1), rule(2), rule(3), rule(4)
GST_QST = rule(10, 11, behavior=1)  # combine: 14.975 %
GST_PST_COMPOUND = rule(10, 15, behavior=2)  # one after another: 15.5 %
GST_PST_BC = rule(10, 12, behavior=1)  # 12 %

FRANCE_VAT = [VatRate("20.000"), VatRate("10.000"), VatRate("5.500"), VatRate("2.100"), VatRate("0.000")]
CANADA_VAT = [
    VatRate("5.000", code="GST-QC", localtax1="9.975", localtax1_type="1"),
    VatRate("5.000", code="GST-BC", localtax1="7", localtax1_type="1"),
    VatRate("5.000", code="GST-PE", localtax1="10", localtax1_type="2"),
    VatRate("0.000"),
]


def seller_fr() -> SellerTaxes:
    """A French company: plain VAT rates, no local taxes."""
    return SellerTaxes(rows=tuple(_rows(FRANCE_VAT)))


def seller_ca() -> SellerTaxes:
    """A Canadian company subject to local tax 1 (PST/QST), on net or compound by row."""
    return SellerTaxes(localtax1_on=True, rows=tuple(_rows(CANADA_VAT)))


def _rows(rates: list[VatRate]) -> list[Any]:
    from dolisync.mapping.dolibarr_money import TaxRow

    return [TaxRow.from_record(v) for v in rates]


def rows_from_money(money: OrderMoney, *, order_id: int = 1, reference: str = "REF", carrier: int = 1) -> tuple[
        dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    """The ``orders`` row, its ``order_details`` rows and ``order_cart_rules`` rows."""
    order = {"id": str(order_id), "reference": reference, "id_carrier": str(carrier), **money.order_fields()}
    details = []
    for index, line in enumerate(money.lines, start=1):
        details.append({
            "id": str(order_id * 100 + index),
            "id_order": str(order_id),
            "product_id": str(line.line.id_product),
            "product_attribute_id": str(line.line.id_product_attribute),
            "product_name": line.line.name or f"Product {line.line.id_product}",
            "product_reference": line.line.reference,
            "product_quantity": str(line.line.quantity),
            "ecotax": "0.000000",
            "ecotax_tax_rate": "0.000",
            "associations": {"taxes": [{"id": str(t.id_tax)} for t in line.line.tax.effective_taxes]},
            **line.detail_fields(),
        })
    rules = []
    for index, rule_money in enumerate(money.cart_rules, start=1):
        rules.append({"id": str(index), "id_order": str(order_id), "id_cart_rule": str(rule_money.rule.id_cart_rule),
                      **rule_money.cart_rule_fields()})
    return order, details, rules


def shop_order(cart: OrderInput, *, currency: str = "EUR", carrier_name: str = "Colissimo", order_id: int = 1,
               ) -> tuple[ShopOrder, OrderMoney]:
    """Compute ``cart`` with PrestaShop's model and read it back as the sync would."""
    money = compute_order(cart)
    order, details, rules = rows_from_money(money, order_id=order_id)
    return ShopOrder.from_webservice(order, details, rules, currency=currency, carrier_name=carrier_name), money
