"""Worked examples of PrestaShop 8.2.1 order money (reference/prestashop/ORDER_TOTALS.md).

Every expected value is computed in the test from the rule written next to it, with plain
Decimal arithmetic and half-up rounding, never copied from the implementation.
"""

from __future__ import annotations

from tests.reference import REFERENCE as SHARED_REFERENCE

import json
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dolisync.mapping.prestashop_money import (
    ROUND_ITEM,
    ROUND_LINE,
    ROUND_TOTAL,
    CartLine,
    CartRuleSpec,
    OrderInput,
    SpecificPrice,
    Tax,
    TaxRule,
    compute_order,
    fmt,
    unit_price,
)

REFERENCE = SHARED_REFERENCE / "prestashop"
VAT20 = TaxRule((Tax(1, Decimal("20.000")),), 0)
VAT55 = TaxRule((Tax(2, Decimal("5.500")),), 0)
D = Decimal


def r(value: Decimal, places: int = 2) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def test_round_types_item_line_total() -> None:
    # unit incl = 1.0375 x 1.2 = 1.245 (exact), unit excl = 1.0375.
    lines = [CartLine(1, 3, D("1.0375"), VAT20), CartLine(2, 1, D("1.0375"), VAT20)]
    item = compute_order(OrderInput(lines, round_type=ROUND_ITEM))
    line = compute_order(OrderInput(lines, round_type=ROUND_LINE))
    total = compute_order(OrderInput(lines, round_type=ROUND_TOTAL))
    # 1 per item: round the unit to 2 (1.245 -> 1.25, 1.0375 -> 1.04), then x quantity.
    assert item.lines[0].total_price_tax_incl == r(D("1.245")) * 3 == D("3.75")
    assert item.total_products_wt == D("3.75") + D("1.25")
    assert item.total_products == D("1.04") * 4
    assert item.total_paid_tax_incl == D("5.00")
    # 2 per line: r2(unit x qty): 3.735 -> 3.74 ; 1.245 -> 1.25 ; products_wt = 4.99 ...
    assert line.lines[0].total_price_tax_incl == r(D("1.245") * 3) == D("3.74")
    assert line.total_products_wt == D("3.74") + D("1.25")
    # ... but the grand total sums the unrounded lines: r2(3.735 + 1.245) = 4.98 (the trap).
    assert line.total_paid_tax_incl == r(D("1.245") * 3 + D("1.245")) == D("4.98")
    assert line.rounded_parts_gap == D("-0.01")
    # excl: r2(3.1125) + r2(1.0375) = 3.11 + 1.04 ; grand total r2(4.15) = 4.15
    assert line.total_products == D("4.15")
    assert line.total_paid_tax_excl == r(D("1.0375") * 4)
    # 3 on total: nothing rounded per line; stored line total keeps 6 decimals.
    assert total.lines[0].total_price_tax_incl == D("3.735")
    assert fmt(total.lines[0].total_price_tax_incl) == "3.735000"
    assert total.total_products_wt == r(D("3.735") + D("1.245")) == D("4.98")
    assert total.total_paid_tax_incl == D("4.98")


def test_unit_price_is_rounded_to_six_after_tax_and_reduction() -> None:
    line = CartLine(1, 1, D("23.9"), VAT20, specific_price=SpecificPrice("percentage", D("0.15")))
    # incl: 23.9 x 1.2 = 28.68 ; x (1 - 0.15) = 24.378 ; excl: 23.9 x 0.85 = 20.315
    assert unit_price(line, with_tax=True) == D("24.378")
    assert unit_price(line, with_tax=False) == D("20.315")
    odd = CartLine(2, 1, D("7.123456"), TaxRule((Tax(3, D("19.6")),), 0))
    assert unit_price(odd, with_tax=True) == r(D("7.123456") * D("1.196"), 6)


def test_combination_impact_and_currency_conversion_before_tax() -> None:
    line = CartLine(1, 2, D("10.000000"), VAT20, id_product_attribute=4, attribute_price=D("2.5"))
    rate = D("1.083400")
    # (10 + 2.5) x 1.0834 = 13.5425 excl ; x 1.2 = 16.251 incl
    assert unit_price(line, with_tax=False, conversion_rate=rate) == D("13.5425")
    assert unit_price(line, with_tax=True, conversion_rate=rate) == D("16.251")
    money = compute_order(OrderInput([line], conversion_rate=rate))
    assert money.lines[0].total_price_tax_incl == r(D("16.251") * 2)
    assert money.lines[0].original_product_price == D("13.5425")


def test_fixed_specific_price() -> None:
    # a fixed price replaces the base price; it is converted unless it has its own currency
    fixed = SpecificPrice("percentage", D("0"), price=D("15"))
    line = CartLine(1, 1, D("20"), VAT20, id_product_attribute=3, attribute_price=D("2"), specific_price=fixed)
    assert unit_price(line, with_tax=False, conversion_rate=D("2")) == (D("15") + D("2")) * 2
    own_currency = SpecificPrice("percentage", D("0"), price=D("15"), id_currency=2)
    line = CartLine(1, 1, D("20"), VAT20, specific_price=own_currency)
    assert unit_price(line, with_tax=False, conversion_rate=D("2")) == D("15")
    # set for that combination: the combination impact is already in it
    per_combination = SpecificPrice("percentage", D("0.1"), price=D("15"), id_product_attribute=3)
    line = CartLine(1, 1, D("20"), VAT20, id_product_attribute=3, attribute_price=D("2"),
                    specific_price=per_combination)
    assert unit_price(line, with_tax=True) == D("15") * D("1.2") * D("0.9")


def test_amount_specific_price_tax_included() -> None:
    sp = SpecificPrice("amount", D("2.40"), reduction_tax=True)
    line = CartLine(1, 1, D("10"), VAT20, specific_price=sp)
    # incl: 12 - 2.40 = 9.60 ; excl: 10 - 2.40 / 1.2 = 8.00
    assert unit_price(line, with_tax=True) == D("9.6")
    assert unit_price(line, with_tax=False) == D("8")
    money = compute_order(OrderInput([line]))
    assert money.lines[0].reduction_amount_tax_incl == D("2.40")
    assert money.lines[0].reduction_amount_tax_excl == D("2.00")


def test_canadian_combined_and_compound_taxes() -> None:
    gst, qst, pst = Tax(10, D("5")), Tax(11, D("9.975")), Tax(12, D("10"))
    combine = TaxRule((gst, qst), 1)
    compound = TaxRule((gst, pst), 2)
    single = TaxRule((gst, qst), 0)
    # combine: rates add up -> 14.975 %
    assert combine.total_rate() == D("14.975")
    # one after another: (1.05 x 1.10 - 1) = 15.5 %
    assert compound.total_rate() == D("15.500")
    # behaviour 0: only the first tax
    assert single.total_rate() == D("5")
    line_c = CartLine(1, 1, D("100"), combine)
    line_p = CartLine(2, 1, D("100"), compound)
    money = compute_order(OrderInput([line_c, line_p], shipping_price=D("10"), carrier_tax=combine))
    assert money.lines[0].unit_price_tax_incl == D("114.975")
    assert money.lines[0].total_price_tax_incl == D("114.98")
    assert money.lines[1].total_price_tax_incl == D("115.5")
    # compound split: GST 5 % of 100, PST 10 % of (100 + 5)
    assert [amount for _tax, amount in compound.split(D("100"))] == [D("5"), D("10.5")]
    assert money.carrier_tax_rate == D("14.975")
    assert fmt(money.carrier_tax_rate, 3) == "14.975"
    assert money.total_shipping_tax_incl == r(D("10") * D("1.14975"))  # 11.4975 -> 11.50
    assert money.total_paid_tax_incl == r(D("114.975") + D("115.5") + D("11.50"))


def test_amount_voucher_spread_across_vat_rates_after_percentage() -> None:
    lines = [CartLine(1, 1, D("100"), VAT20), CartLine(2, 1, D("50"), VAT55)]
    rules = [
        # applied second (priority 2): 10.00 tax incl, spread by each line's remaining incl
        CartRuleSpec(7, "TEN", priority=2, reduction_amount=D("10"), reduction_tax=True),
        # applied first (priority 1): 10 % of every line, incl and excl
        CartRuleSpec(8, "PCT10", priority=1, reduction_percent=D("10")),
    ]
    money = compute_order(OrderInput(lines, cart_rules=rules))
    assert [m.rule.id_cart_rule for m in money.cart_rules] == [8, 7]
    a_incl, a_excl = D("120"), D("100")
    b_incl, b_excl = D("52.75"), D("50")  # 50 x 1.055
    pct_incl = (a_incl + b_incl) * D("0.1")
    pct_excl = (a_excl + b_excl) * D("0.1")
    a_incl, a_excl, b_incl, b_excl = (x * D("0.9") for x in (a_incl, a_excl, b_incl, b_excl))
    total_incl = a_incl + b_incl
    a_part = D("10") * a_incl / total_incl
    b_part = D("10") * b_incl / total_incl
    a_part_excl = a_part / D("1.2")  # the line's own rate
    b_part_excl = b_part / D("1.055")
    assert money.cart_rules[0].value == r(pct_incl, 6)
    assert money.cart_rules[1].value == r(a_part + b_part, 6) == D("10")
    assert money.cart_rules[1].value_tax_excl == r(a_part_excl + b_part_excl, 6)
    assert money.total_discounts_tax_incl == r(pct_incl + D("10"))
    assert money.total_discounts_tax_excl == r(pct_excl + a_part_excl + b_part_excl)
    by_rate = money.discounts_by_rate()
    assert set(by_rate) == {D("20.000"), D("5.500")}
    assert r(by_rate[D("5.500")][1], 6) == r(pct_incl * D("52.75") / D("172.75") + b_part, 6)
    assert money.total_paid_tax_incl == r(D("172.75") - r(pct_incl + D("10")))


def test_amount_voucher_tax_excluded_in_other_currency_and_capped() -> None:
    line = CartLine(1, 1, D("20"), VAT20)
    gbp = D("0.86")
    # 10.00 tax excl in the default currency -> 8.60 GBP ; incl at the line's 20 % -> 10.32
    money = compute_order(
        OrderInput(
            [line],
            cart_rules=[CartRuleSpec(3, "TENX", reduction_amount=D("10"), reduction_tax=False)],
            conversion_rate=gbp,
        )
    )
    assert money.total_discounts_tax_excl == D("8.60")
    assert money.total_discounts_tax_incl == D("10.32")
    # capped: a 500 voucher on a 24.00 cart takes 24.00 only
    capped = compute_order(
        OrderInput(
            [line],
            cart_rules=[CartRuleSpec(4, "BIG", reduction_amount=D("500"))],
            shipping_price=D("5"),
            carrier_tax=VAT20,
        )
    )
    assert capped.total_discounts_tax_incl == D("24.00")
    assert capped.total_paid_tax_incl == D("6.00")  # shipping 5 x 1.2 remains


def test_free_shipping_rule_discounts_the_shipping() -> None:
    line = CartLine(1, 2, D("12.5"), VAT20)
    money = compute_order(
        OrderInput(
            [line],
            cart_rules=[CartRuleSpec(1, "SHIPFREE", free_shipping=True)],
            shipping_price=D("7"),
            carrier_tax=VAT20,
        )
    )
    assert money.total_shipping_tax_incl == D("8.40")
    assert money.total_discounts_tax_incl == D("8.40")
    assert money.total_discounts_tax_excl == D("7.00")
    assert money.cart_rules[0].cart_rule_fields()["free_shipping"] == "1"
    assert money.total_paid_tax_incl == D("30.00")  # 12.5 x 1.2 x 2


def test_gift_wrapping_rounded_then_converted_in_foreign_currency() -> None:
    usd = D("1.083400")
    line = CartLine(1, 1, D("10"), VAT20)
    money = compute_order(
        OrderInput([line], conversion_rate=usd, gift=True, wrapping_price=D("2"), wrapping_tax=VAT20)
    )
    # wrapping incl = r2(2 x 1.2) = 2.40 in EUR, then x 1.0834 = 2.60016 (not rounded again)
    assert money.total_wrapping_tax_incl == D("2.40") * usd == D("2.60016")
    assert money.total_wrapping_tax_excl == D("2.00") * usd
    assert money.order_fields()["total_wrapping_tax_incl"] == "2.600160"
    # grand total adds r2(wrapping): unit 10 x 1.0834 x 1.2 = 13.0008
    assert money.total_paid_tax_incl == r(D("13.0008") + r(D("2.60016")))
    assert money.total_paid_tax_excl == r(D("10.834") + r(D("2.1668")))


def test_reference_sample_order_5() -> None:
    order = json.loads((REFERENCE / "samples/order_5.json").read_text())["order"]
    detail = json.loads((REFERENCE / "samples/order_detail_6.json").read_text())["order_detail"]
    lines = [
        CartLine(1, 1, D("23.9"), VAT20, id_product_attribute=1),
        CartLine(2, 2, D("29"), VAT20, specific_price=SpecificPrice("percentage", D("0.2"))),
    ]
    money = compute_order(OrderInput(lines, shipping_price=D("7"), carrier_tax=VAT20))
    fields = money.order_fields()
    for name in (
        "total_paid", "total_paid_tax_incl", "total_paid_tax_excl", "total_products",
        "total_products_wt", "total_shipping", "total_shipping_tax_excl", "carrier_tax_rate",
        "total_discounts", "total_wrapping", "round_type", "round_mode", "conversion_rate",
    ):
        assert fields[name] == order[name], name
    for row, m in zip(order["associations"]["order_rows"], money.lines, strict=True):
        assert fmt(m.unit_price_tax_incl) == row["unit_price_tax_incl"]
        assert fmt(m.unit_price_tax_excl) == row["unit_price_tax_excl"]
    d = money.lines[0].detail_fields()
    for name in ("unit_price_tax_incl", "total_price_tax_incl", "total_price_tax_excl",
                 "original_product_price", "reduction_percent"):
        assert d[name] == detail[name], name


def test_reference_real_order_6() -> None:
    capture = json.loads((REFERENCE / "real/order_6_after_post-xml.json").read_text())["body"]
    # product 1 (23.90, specific price -20 %) + 2 x product 6 (11.90), carrier 7.00, no tax
    lines = [
        CartLine(1, 1, D("23.9"), specific_price=SpecificPrice("percentage", D("0.2"))),
        CartLine(6, 2, D("11.9")),
    ]
    money = compute_order(OrderInput(lines, shipping_price=D("7")))
    fields = money.order_fields()
    for name in ("total_paid", "total_paid_tax_excl", "total_products", "total_products_wt",
                 "total_shipping", "round_type"):
        assert f"<{name}><![CDATA[{fields[name]}]]></{name}>" in capture, name
    # real 8.2.1: order_details.product_price is the reduced unit price tax excl
    assert "<product_price><![CDATA[19.120000]]></product_price>" in capture
    assert money.lines[0].detail_fields()["product_price"] == "19.120000"


@pytest.mark.parametrize("round_type", [ROUND_ITEM, ROUND_LINE, ROUND_TOTAL])
def test_invariants(round_type: int) -> None:
    lines = [CartLine(i, i % 3 + 1, D("3.333") * i, VAT20 if i % 2 else VAT55) for i in range(1, 7)]
    money = compute_order(OrderInput(lines, round_type=round_type, shipping_price=D("4.99"),
                                     carrier_tax=VAT20))
    assert money.total_paid == money.total_paid_tax_incl
    assert abs(money.rounded_parts_gap) <= D("0.03")
    assert money.total_tax == money.total_paid_tax_incl - money.total_paid_tax_excl

_prices = st.decimals(min_value=D("0.10"), max_value=D("999"), places=6)
_rates = st.sampled_from([VAT20, VAT55, TaxRule((Tax(3, D("2.1")),), 0),
                          TaxRule((Tax(5, D("5")), Tax(6, D("9.975"))), 1),
                          TaxRule((Tax(5, D("5")), Tax(7, D("7"))), 2)])
_lines = st.lists(st.builds(CartLine, id_product=st.integers(1, 99), quantity=st.integers(1, 9),
                            base_price=_prices, tax=_rates), min_size=1, max_size=6)
_rules = st.lists(st.builds(CartRuleSpec, id_cart_rule=st.integers(1, 9), name=st.just("r"),
                            priority=st.integers(1, 3), free_shipping=st.booleans(),
                            reduction_percent=st.sampled_from([D(0), D(10), D("7.5")]),
                            reduction_amount=st.sampled_from([D(0), D(5), D(500)]),
                            reduction_tax=st.booleans()), max_size=2)


@settings(max_examples=150, deadline=None)
@given(lines=_lines, rules=_rules, round_type=st.sampled_from([1, 2, 3]), gift=st.booleans(),
       rate=st.sampled_from([D(1), D("1.0834"), D("0.8562")]), shipping=st.sampled_from([D(0), D(7), D("4.583333")]))
def test_grand_total_properties(lines: list[CartLine], rules: list[CartRuleSpec], round_type: int, gift: bool,
                                rate: Decimal, shipping: Decimal) -> None:
    money = compute_order(OrderInput(lines, cart_rules=rules, round_type=round_type, conversion_rate=rate,
                                     shipping_price=shipping, carrier_tax=VAT20, gift=gift,
                                     wrapping_price=D("2.5"), wrapping_tax=VAT20))
    gap = money.rounded_parts_gap
    if round_type != ROUND_LINE:
        # per item every line is already in cents, on total the header rounds the same sum
        assert gap == 0
    else:
        # per line: r2(sum of unrounded lines) vs sum of r2(lines): at most half a cent per line
        assert abs(gap) <= (D("0.005") * len(lines)).quantize(D("0.01"), ROUND_HALF_UP)
    assert money.total_discounts_tax_incl <= money.total_products_wt + money.total_shipping_tax_incl + D("0.01")
    assert money.total_paid_tax_incl >= 0 and money.total_paid_tax_excl >= 0
    assert all(line.unit_price_tax_incl >= line.unit_price_tax_excl for line in money.lines)
