"""A seeded corpus of realistic PrestaShop orders for the order-mapping property tests.

Each :class:`Scenario` is a shop/ERP pair (company country and currency, VAT dictionary,
PrestaShop tax rules); :func:`random_cart` draws a cart of every kind the issue lists: mixed
VAT rates, several cart rules (percentage, amount tax incl./excl., free shipping), gift
wrapping, GST+PST combined and compound, orders in USD/GBP/CAD, each round type, prices
entered tax included (long 6-decimal net prices) or tax excluded, quantities up to 40.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal

from dolisync.emulators.dataset import VatRate
from dolisync.mapping.dolibarr_money import SellerTaxes, TaxRow
from dolisync.mapping.money import r6
from dolisync.mapping.prestashop_money import (
    ROUND_ITEM,
    ROUND_LINE,
    ROUND_TOTAL,
    CartLine,
    CartRuleSpec,
    OrderInput,
    SpecificPrice,
    TaxRule,
)
from tests.unit.orders.builders import FR10, FR20, FR21, FR55, GST_PST_COMPOUND, GST_QST, TAXES, rule

D = Decimal


@dataclass(frozen=True)
class Scenario:
    """A company (Dolibarr side) and the tax rules its shop uses."""

    name: str
    company_currency: str
    country_code: str
    vat_rows: tuple[VatRate, ...]
    localtax1_on: bool
    product_rules: tuple[TaxRule, ...]
    currencies: tuple[tuple[str, Decimal], ...]  # order currency and PrestaShop conversion rate

    def seller(self) -> SellerTaxes:
        """The Dolibarr seller of this scenario."""
        return SellerTaxes(localtax1_on=self.localtax1_on, rows=tuple(TaxRow.from_record(v) for v in self.vat_rows))


FRANCE = Scenario(
    "france", "EUR", "FR",
    (VatRate("20.000"), VatRate("10.000"), VatRate("5.500"), VatRate("2.100"), VatRate("0.000")),
    False, (FR20, FR20, FR10, FR55, FR21), (("EUR", D(1)), ("USD", D("1.084700")), ("GBP", D("0.857300"))),
)
QUEBEC = Scenario(
    "quebec", "CAD", "CA",
    (VatRate("5.000", localtax1="9.975", localtax1_type="1"), VatRate("0.000")),
    True, (GST_QST, GST_QST, rule(10)), (("CAD", D(1)), ("USD", D("0.731200"))),
)
COMPOUND = Scenario(
    "compound", "CAD", "CA",
    (VatRate("5.000", localtax1="10", localtax1_type="2"), VatRate("0.000")),
    True, (GST_PST_COMPOUND, GST_PST_COMPOUND, rule(10)), (("CAD", D(1)), ("USD", D("0.731200"))),
)
SCENARIOS = (FRANCE, QUEBEC, COMPOUND)


def _price(rng: random.Random, tax: TaxRule) -> Decimal:
    """A catalogue net price: entered tax included (long decimals) or tax excluded."""
    if rng.random() < 0.6:
        gross = D(rng.choice([99, 199, 290, 490, 999, 1290, 1990, 2390, 4990, 12900, 34999])) / 100
        return r6(gross / (1 + tax.total_rate() / 100))
    return D(rng.randint(50, 50000)) / 100


def random_cart(rng: random.Random, scenario: Scenario) -> tuple[OrderInput, str]:
    """One random cart of ``scenario`` and its currency code."""
    currency, rate = rng.choice(scenario.currencies)
    lines = []
    for index in range(rng.randint(1, 6)):
        tax = rng.choice(scenario.product_rules)
        spec = None
        if rng.random() < 0.2:
            spec = SpecificPrice("percentage", D(rng.choice([5, 10, 15, 20, 33])) / 100)
        elif rng.random() < 0.08:
            spec = SpecificPrice("amount", D(rng.randint(50, 300)) / 100, reduction_tax=rng.random() < 0.5)
        lines.append(CartLine(
            id_product=index + 1, quantity=rng.choice([1, 1, 1, 2, 3, 5, 7, 12, 40]), base_price=_price(rng, tax),
            tax=tax, id_product_attribute=rng.choice([0, 0, index + 10]), specific_price=spec,
            attribute_price=rng.choice([D(0), D(0), D("1.250000"), D("4.166667")]), name=f"Product {index + 1}",
        ))
    rules: list[CartRuleSpec] = []
    if rng.random() < 0.25:
        rules.append(CartRuleSpec(1, "WELCOME10", priority=1, reduction_percent=D(rng.choice([5, 10, 12.5, 20]))))
    if rng.random() < 0.25:
        rules.append(CartRuleSpec(2, "SAVE5", priority=2, reduction_amount=D(rng.choice([5, 7.5, 10, 15])),
                                  reduction_tax=rng.random() < 0.7))
    if rng.random() < 0.15:
        rules.append(CartRuleSpec(3, "FREESHIP", priority=1, free_shipping=True))
    carrier = rng.choice(scenario.product_rules[:1] + (TaxRule(),)) if rng.random() < 0.9 else TaxRule()
    shipping = D(rng.choice([0, 4.958333, 6.5, 8.333333, 12])).quantize(D("0.000001"))
    gift = rng.random() < 0.2
    return OrderInput(
        lines=lines, cart_rules=rules, round_type=rng.choice([ROUND_ITEM, ROUND_LINE, ROUND_LINE, ROUND_TOTAL]),
        conversion_rate=rate, shipping_price=shipping, carrier_tax=carrier, gift=gift,
        wrapping_price=D("2.500000") if gift else D(0), wrapping_tax=scenario.product_rules[0],
    ), currency


__all__ = ["Scenario", "SCENARIOS", "FRANCE", "QUEBEC", "COMPOUND", "random_cart", "TAXES"]
