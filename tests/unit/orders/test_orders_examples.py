"""Worked examples of the PrestaShop -> Dolibarr order mapping, one per case of the issue.

Every expected amount below is derived by hand in the comments (never copied from a run),
and every mapping is also replayed through Dolibarr's money model from the payload strings.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from dolisync.mapping.errors import MappingError
from dolisync.mapping.order_input import ShopCartRule, ShopOrder, ShopOrderLine
from dolisync.mapping.orders import DolibarrSide, OrderMapping, OrderMappingOptions, map_order
from dolisync.mapping.prestashop_money import ROUND_ITEM, CartLine, CartRuleSpec, OrderInput, TaxRule
from tests.unit.orders.builders import (
    FR10,
    FR20,
    FR55,
    GST_PST_COMPOUND,
    GST_QST,
    TAXES,
    seller_ca,
    seller_fr,
    shop_order,
)
from tests.unit.orders.corpus import COMPOUND
from tests.unit.orders.replay import createfromorder_totals, replay_totals

D = Decimal
FR = DolibarrSide(seller=seller_fr(), company_currency="EUR", country_code="FR", tax_rates=TAXES)
QC = DolibarrSide(seller=seller_ca(), company_currency="CAD", country_code="CA", tax_rates=TAXES)


def mug_and_book(*rules: CartRuleSpec, conversion: Decimal = D(1), gift: bool = True) -> OrderInput:
    """3 mugs at 23.90 incl. (20 %), 2 books at 10.00 incl. (10 %), shipping 5.95 incl., wrapping 2.00 + 20 %."""
    return OrderInput(
        lines=[CartLine(1, 3, D("19.916667"), FR20, name="Mug"), CartLine(2, 2, D("9.090909"), FR10, name="Book")],
        cart_rules=list(rules), shipping_price=D("4.958333"), carrier_tax=FR20, gift=gift,
        wrapping_price=D("2"), wrapping_tax=FR20, conversion_rate=conversion,
    )


def assert_exact(mapping: OrderMapping, order: ShopOrder, side: DolibarrSide) -> None:
    """Predicted and replayed totals both equal PrestaShop's grand totals."""
    shop = (order.total_paid_tax_excl.quantize(D("0.01")), order.total_paid_tax_incl.quantize(D("0.01")))
    assert (mapping.predicted_totals.excl, mapping.predicted_totals.incl) == shop
    assert replay_totals(mapping, side.seller) == shop
    assert mapping.reconciliation.exact


def by_kind(mapping: OrderMapping, kind: str) -> list:
    return [line for line in mapping.lines if line.kind == kind]


def test_mixed_rates_voucher_is_split_across_rates_in_proportion_to_goods() -> None:
    order, money = shop_order(mug_and_book(CartRuleSpec(1, "TENOFF", reduction_amount=D(10))))
    mapping = map_order(order, FR)
    assert_exact(mapping, order, FR)
    # Goods: 59.75 net / 71.70 gross at 20 %, 18.18 / 20.00 at 10 %. Discount 8.50 net / 10.00 gross.
    # Net:   8.50 x 59.75/77.93 = 6.5170, 8.50 x 18.18/77.93 = 1.9829 -> 6.51 + 1.98 = 8.49, the cent to the
    #        larger remainder -> 6.52 / 1.98.  Gross: 10 x 71.70/91.70 = 7.8190, 2.1810 -> 7.82 / 2.18.
    discounts = {line.tax.vat_rate: (line.excl, line.incl) for line in by_kind(mapping, "discount")}
    assert discounts == {D("20.000"): (D("-6.52"), D("-7.82")), D("10.000"): (D("-1.98"), D("-2.18"))}
    assert mapping.reconciliation.discounts_erp == mapping.reconciliation.discounts_shop
    # Products: r5 grid prices reproducing PrestaShop's lines (19.91667 x 3 = 59.75001 -> 59.75).
    products = by_kind(mapping, "product")
    assert [(p.unit_price, p.excl, p.incl) for p in products] == [
        (D("19.91667"), D("59.75"), D("71.70")), (D("9.09091"), D("18.18"), D("20.00"))]
    assert mapping.adjustment is None and mapping.reconciliation.fix == "none"
    # Shipping labelled with the carrier, at carrier_tax_rate, a service; wrapping its own service line.
    (shipping,) = by_kind(mapping, "shipping")
    assert shipping.label == "Shipping: Colissimo" and shipping.product_type == 1
    assert (shipping.excl, shipping.incl, shipping.tax.vat_rate) == (D("4.96"), D("5.95"), D("20.000"))
    (wrapping,) = by_kind(mapping, "wrapping")
    assert (wrapping.excl, wrapping.incl, wrapping.tax.vat_rate) == (D("2.00"), D("2.40"), D("20.000"))
    assert money.total_paid_tax_incl == D("90.05")


def test_order_body_has_inline_lines_and_invoice_carries_the_same_lines() -> None:
    order, _ = shop_order(mug_and_book())
    mapping = map_order(order, FR)
    body = mapping.order_body(socid=7, date=1_790_000_000, ref_ext="dolisync:shop1:order:1", ref_client="REF")
    assert body["socid"] == 7 and body["ref_ext"] == "dolisync:shop1:order:1"
    assert "multicurrency_code" not in body
    first = body["lines"][0]
    assert first == {"desc": "Mug", "qty": "3", "subprice": "19.91667", "remise_percent": "0", "product_type": 0,
                     "rang": 1, "tva_tx": "20", "localtax1_tx": "0", "localtax2_tx": "0"}
    invoice = mapping.invoice_body(socid=7, date=1_790_000_000, ref_ext="dolisync:shop1:invoice:1")
    assert invoice["type"] == 0 and invoice["lines"] == body["lines"]
    # Prices on the r5 grid: createfromorder (re-pricing from subprice) gives the very same totals.
    again = createfromorder_totals(mapping, FR.seller)
    assert (again.total_ht, again.total_ttc) == (mapping.predicted_totals.excl, mapping.predicted_totals.incl)


def test_one_line_per_cart_rule_each_split_by_rate() -> None:
    rules = (CartRuleSpec(1, "WELCOME10", priority=1, reduction_percent=D(10)),
             CartRuleSpec(2, "SAVE5", priority=2, reduction_amount=D(5)))
    order, _ = shop_order(mug_and_book(*rules))
    mapping = map_order(order, FR, OrderMappingOptions(discount_lines="per_rule"))
    assert_exact(mapping, order, FR)
    labels = sorted(line.label for line in by_kind(mapping, "discount"))
    assert labels == ["SAVE5 (VAT 10%)", "SAVE5 (VAT 20%)", "WELCOME10 (VAT 10%)", "WELCOME10 (VAT 20%)"]
    total = sum((line.excl for line in by_kind(mapping, "discount")), D(0))
    assert -total == order.total_discounts_tax_excl.quantize(D("0.01"))


def test_free_shipping_is_a_discount_at_the_carrier_rate() -> None:
    cart = OrderInput(lines=[CartLine(1, 1, D("9.478673"), FR55, name="Tea")],
                      cart_rules=[CartRuleSpec(3, "FREESHIP", free_shipping=True)],
                      shipping_price=D("4.958333"), carrier_tax=FR20)
    order, money = shop_order(cart)
    mapping = map_order(order, FR, OrderMappingOptions(discount_lines="per_rule"))
    assert_exact(mapping, order, FR)
    (discount,) = by_kind(mapping, "discount")
    # The whole discount is the shipping 4.96 / 5.95, booked at 20 % (the carrier's), not at the tea's 5.5 %.
    assert (discount.excl, discount.incl, discount.tax.vat_rate) == (D("-4.96"), D("-5.95"), D("20.000"))
    assert discount.label == "FREESHIP (free shipping)"
    assert money.total_paid_tax_incl == D("10.00")


def test_multicurrency_order_prices_lines_in_the_order_currency() -> None:
    order, money = shop_order(mug_and_book(CartRuleSpec(1, "TENOFF", reduction_amount=D(10)), conversion=D("1.0847")),
                              currency="USD")
    mapping = map_order(order, FR)
    assert mapping.multicurrency_tx == D("1.084700") and not mapping.lines_inline
    assert_exact(mapping, order, FR)
    body = mapping.order_body(socid=1, date=0, ref_ext="k")
    assert body["multicurrency_code"] == "USD" and body["multicurrency_tx"] == "1.0847" and "lines" not in body
    invoice = mapping.invoice_body(socid=1, date=0, ref_ext="k")
    assert invoice["multicurrency_code"] == "USD"
    lines = mapping.line_bodies()
    assert all("multicurrency_subprice" in line for line in lines)
    mug = lines[0]
    # 19.916667 x 1.0847 = 19.916667 + 1.686942 = 21.603609 (r6) -> currency grid price 21.60361;
    # the company price sent alongside is that / 1.0847 on the r5 grid.
    assert mug["multicurrency_subprice"] == "21.60361"
    assert D(mug["subprice"]) == (D("21.60361") / D("1.0847")).quantize(D("0.00001"))
    assert money.conversion_rate == D("1.0847")


def test_order_currency_not_based_on_company_currency_is_refused() -> None:
    order, _ = shop_order(mug_and_book(conversion=D("1.1")), currency="USD")
    side = DolibarrSide(seller=seller_fr(), company_currency="EUR", tax_rates=TAXES, shop_default_currency="GBP")
    with pytest.raises(MappingError) as caught:
        map_order(order, side)
    assert "default currency GBP" in caught.value.hint


def test_gst_qst_combined_is_vat_plus_localtax_on_net() -> None:
    cart = OrderInput(lines=[CartLine(1, 2, D("10"), GST_QST, name="Maple syrup")])
    order, money = shop_order(cart, currency="CAD")
    mapping = map_order(order, QC)
    assert_exact(mapping, order, QC)
    (line,) = mapping.lines
    # 10.00 x (1 + 14.975 %) = 11.4975 per unit; line 22.995 -> 23.00. Dolibarr: VAT r2(20 x 1.05) = 21.00,
    # QST r2(20 x 9.975 %) = r2(1.995) = 2.00 -> 23.00.
    assert (line.tax.vat_rate, line.tax.localtax1_rate, line.tax.localtax1_type) == (D("5.000"), D("9.975"), "1")
    assert line.amounts.total_localtax1 == D("2.00") and line.incl == D("23.00")
    assert mapping.line_bodies()[0]["localtax1_tx"] == "9.975"
    assert money.total_paid_tax_incl == D("23.00")


def test_gst_pst_one_after_another_is_compound_localtax() -> None:
    side = DolibarrSide(seller=COMPOUND.seller(), company_currency="CAD", country_code="CA", tax_rates=TAXES)
    cart = OrderInput(lines=[CartLine(1, 1, D("10"), GST_PST_COMPOUND, name="Skates")])
    order, _ = shop_order(cart, currency="CAD")
    mapping = map_order(order, side)
    assert_exact(mapping, order, side)
    (line,) = mapping.lines
    # 10 x 1.05 x 1.10 = 11.55. Dolibarr type 2: PST = r2(r5(10 x 1.05) x 10 %) = 1.05, TTC = r2(10.50 + 1.05).
    assert (line.tax.localtax1_rate, line.tax.localtax1_type) == (D("10"), "2")
    assert (line.excl, line.amounts.total_localtax1, line.incl) == (D("10.00"), D("1.05"), D("11.55"))


def test_vat_rate_missing_from_dolibarr_parks_the_order_with_the_row_to_create() -> None:
    side = DolibarrSide(seller=seller_fr().__class__(rows=seller_fr().rows[:2]), country_code="FR", tax_rates=TAXES)
    cart = OrderInput(lines=[CartLine(1, 1, D("9.478673"), FR55, name="Tea")])
    order, _ = shop_order(cart)
    with pytest.raises(MappingError) as caught:
        map_order(order, side)
    assert caught.value.entity == "orders" and caught.value.source_id.startswith("1/order_details")
    assert "create VAT rate 5.5 in Dolibarr's VAT dictionary for country FR" in str(caught.value)


def test_canadian_taxes_without_local_tax_option_say_what_to_enable() -> None:
    seller = seller_ca()
    side = DolibarrSide(seller=seller.__class__(localtax1_on=False, rows=seller.rows), company_currency="CAD",
                        country_code="CA", tax_rates=TAXES)
    order, _ = shop_order(OrderInput(lines=[CartLine(1, 1, D("10"), GST_QST)]), currency="CAD")
    with pytest.raises(MappingError) as caught:
        map_order(order, side)
    assert "not subject to local tax 1" in caught.value.hint


def test_missing_product_bindings_are_listed() -> None:
    order, _ = shop_order(mug_and_book())
    side = DolibarrSide(seller=seller_fr(), tax_rates=TAXES, product_ids={(1, 0): 501})
    with pytest.raises(MappingError) as caught:
        map_order(order, side)
    assert caught.value.field == "product_id" and caught.value.value == "2"
    assert order.products_needed == [(1, 0), (2, 0)]
    bound = map_order(order, DolibarrSide(seller=seller_fr(), tax_rates=TAXES, product_ids={(1, 0): 501, (2, 0): 502}))
    assert [line.fk_product for line in by_kind(bound, "product")] == [501, 502]
    assert bound.line_bodies()[0]["fk_product"] == 501


def test_totals_beyond_tolerance_park_the_order() -> None:
    order, _ = shop_order(mug_and_book())
    tampered = replace(order, total_paid_tax_incl=order.total_paid_tax_incl + D("0.40"))
    with pytest.raises(MappingError) as caught:
        map_order(tampered, FR)
    assert "beyond the 0.05 tolerance" in caught.value.hint


def _three_halves() -> OrderInput:
    # Three lines of 1.005 net (1.206 gross): PrestaShop rounds each line to 1.01 / 1.21 but its grand
    # total adds the unrounded lines: r2(3.015) = 3.02 and r2(3.618) = 3.62 — a cent below its parts.
    return OrderInput(lines=[CartLine(i, 1, D("1.005"), FR20, name=f"Pin {i}") for i in (1, 2, 3)])


def test_grand_total_gap_spread_over_lines_by_default() -> None:
    order, money = shop_order(_three_halves())
    assert (money.total_paid_tax_excl, money.total_paid_tax_incl) == (D("3.02"), D("3.62"))
    mapping = map_order(order, FR)
    assert_exact(mapping, order, FR)
    assert mapping.adjustment is None
    # One line takes the cent: nets 1.00 + 1.01 + 1.01, each within a cent of PrestaShop's exact 1.005.
    assert sorted(line.excl for line in mapping.lines) == [D("1.00"), D("1.01"), D("1.01")]


def test_grand_total_gap_as_one_labelled_adjustment_line() -> None:
    order, _ = shop_order(_three_halves())
    mapping = map_order(order, FR, OrderMappingOptions(spread_line_cents=False))
    assert_exact(mapping, order, FR)
    (adjustment,) = by_kind(mapping, "adjustment")
    assert adjustment.label == "Rounding adjustment to the PrestaShop total"
    assert (adjustment.excl, adjustment.incl, adjustment.tax.vat_rate) == (D("-0.01"), D("-0.01"), D(0))
    assert mapping.adjustment is not None and mapping.adjustment.excl == D("-0.01")
    assert "3.02/3.62" in mapping.adjustment.reason
    assert mapping.reconciliation.fix.startswith("adjustment line -0.01 net")
    assert [line.excl for line in by_kind(mapping, "product")] == [D("1.01")] * 3


def test_round_per_item_tax_gap_becomes_a_vat_correction_with_zero_net() -> None:
    # 40 x 1.886256 net at 5.5 %: PrestaShop rounds each unit (1.89 / 1.99): 75.60 net, 79.60 gross.
    # Dolibarr can only book r2(75.60 x 1.055) = 79.76 on such a line: 0.16 of tax too much.
    cart = OrderInput(lines=[CartLine(1, 40, D("1.886256"), FR55, name="Tea bag")], round_type=ROUND_ITEM)
    order, money = shop_order(cart)
    assert (money.total_paid_tax_excl, money.total_paid_tax_incl) == (D("75.60"), D("79.60"))
    mapping = map_order(order, FR)
    assert_exact(mapping, order, FR)
    assert mapping.adjustment is not None and mapping.adjustment.excl == D(0)
    assert mapping.adjustment.incl == D("79.60") - sum((line.incl for line in by_kind(mapping, "product")), D(0))
    (product,) = by_kind(mapping, "product")
    assert product.excl == D("75.60")


def test_line_percentage_reduction_is_kept_as_remise_percent() -> None:
    line = ShopOrderLine(
        detail_id=9, product_id=4, product_attribute_id=0, name="Scarf", reference="SC", qty=2,
        unit_price_tax_excl=D("20.000000"), unit_price_tax_incl=D("24.000000"), total_price_tax_excl=D("40.000000"),
        total_price_tax_incl=D("48.000000"), original_product_price=D("25.000000"), reduction_percent=D("20.00"),
        tax_ids=(1,),
    )
    order = ShopOrder(id=5, reference="R", currency="EUR", conversion_rate=D(1), round_type=2,
                      total_paid_tax_excl=D(40), total_paid_tax_incl=D(48), total_discounts_tax_excl=D(0),
                      total_discounts_tax_incl=D(0), total_shipping_tax_excl=D(0), total_shipping_tax_incl=D(0),
                      carrier_tax_rate=D(0), total_wrapping_tax_excl=D(0), total_wrapping_tax_incl=D(0), lines=(line,))
    mapping = map_order(order, FR)
    assert_exact(mapping, order, FR)
    body = mapping.line_bodies()[0]
    assert (body["subprice"], body["remise_percent"]) == ("25", "20")


def test_ecotax_is_its_own_line_at_its_own_rate() -> None:
    # 2 x 10.50 net of which 0.50 ecotax; everything at 20 %: 21.00 / 25.20.
    line = ShopOrderLine(
        detail_id=3, product_id=8, product_attribute_id=0, name="Kettle", reference="K", qty=2,
        unit_price_tax_excl=D("10.500000"), unit_price_tax_incl=D("12.600000"), total_price_tax_excl=D("21.000000"),
        total_price_tax_incl=D("25.200000"), original_product_price=D("10.500000"), ecotax=D("0.500000"),
        ecotax_tax_rate=D("20.000"), tax_ids=(1,),
    )
    order = ShopOrder(id=6, reference="R", currency="EUR", conversion_rate=D(1), round_type=2,
                      total_paid_tax_excl=D("21"), total_paid_tax_incl=D("25.2"), total_discounts_tax_excl=D(0),
                      total_discounts_tax_incl=D(0), total_shipping_tax_excl=D(0), total_shipping_tax_incl=D(0),
                      carrier_tax_rate=D(0), total_wrapping_tax_excl=D(0), total_wrapping_tax_incl=D(0), lines=(line,))
    mapping = map_order(order, FR)
    assert_exact(mapping, order, FR)
    (eco,) = by_kind(mapping, "ecotax")
    (product,) = by_kind(mapping, "product")
    assert (eco.excl, eco.incl, eco.label) == (D("1.00"), D("1.20"), "Ecotax — Kettle")
    assert (product.excl, product.incl) == (D("20.00"), D("24.00"))


def test_free_carrier_has_no_shipping_line_unless_asked() -> None:
    cart = OrderInput(lines=[CartLine(1, 1, D("10"), FR20)], carrier_tax=TaxRule())
    order, _ = shop_order(cart, carrier_name="Pick-up")
    assert by_kind(map_order(order, FR), "shipping") == []
    (line,) = by_kind(map_order(order, FR, OrderMappingOptions(free_carrier_line=True)), "shipping")
    assert (line.label, line.excl) == ("Shipping: Pick-up", D("0.00"))


def test_records_and_raw_rows_give_the_same_order() -> None:
    from dolisync.clients.records import Order, OrderCartRule, OrderDetail
    from tests.unit.orders.builders import rows_from_money
    from dolisync.mapping.prestashop_money import compute_order

    money = compute_order(mug_and_book(CartRuleSpec(1, "TENOFF", reduction_amount=D(10))))
    order_row, details, rules = rows_from_money(money)
    raw = ShopOrder.from_webservice(order_row, details, rules, currency="EUR", carrier_name="Colissimo")
    typed = ShopOrder.from_webservice(
        Order.model_validate(order_row), [OrderDetail.model_validate(d) for d in details],
        [OrderCartRule.model_validate(r) for r in rules], currency="EUR", carrier_name="Colissimo")
    assert typed == raw
    assert raw.lines[0].tax_ids == (1,) and raw.cart_rules[0].name == "TENOFF"


def test_order_without_lines_is_bad_input() -> None:
    with pytest.raises(MappingError) as caught:
        ShopOrder.from_webservice({"id": "4"}, [], currency="EUR")
    assert caught.value.field == "order_details"


def test_shop_cart_rule_rows_parse_flags() -> None:
    rule = ShopCartRule.from_row({"id": "1", "id_cart_rule": "3", "name": "X", "value": "5.95",
                                  "value_tax_excl": "4.958333", "free_shipping": "1"})
    assert rule.free_shipping and rule.value_tax_excl == D("4.958333")


def test_recorded_fixture_with_untaxed_lines_and_a_carrier_rate_of_zero() -> None:
    # The real 8.2.1 demo order 1 (reference/prestashop/real/orders_display_full): two untaxed lines
    # 23.90 + 35.90, shipping 7.00 net / 8.40 gross while carrier_tax_rate says 0.000. The amounts win.
    order_row = {"id": "1", "reference": "XKBKNABJK", "conversion_rate": "1.000000", "round_type": "0",
                 "total_paid_tax_incl": "68.200000", "total_paid_tax_excl": "66.800000",
                 "total_discounts_tax_incl": "0.000000", "total_discounts_tax_excl": "0.000000",
                 "total_shipping_tax_incl": "8.400000", "total_shipping_tax_excl": "7.000000",
                 "carrier_tax_rate": "0.000", "total_wrapping_tax_incl": "0.000000",
                 "total_wrapping_tax_excl": "0.000000"}
    details = [{"id": str(i), "product_id": str(i), "product_attribute_id": "0", "product_name": name,
                "product_quantity": "1", "unit_price_tax_excl": price, "unit_price_tax_incl": price,
                "total_price_tax_excl": price, "total_price_tax_incl": price, "original_product_price": price,
                "reduction_percent": "0.00", "ecotax": "0.000000", "ecotax_tax_rate": "0.000"}
               for i, name, price in ((1, "T-shirt", "23.900000"), (2, "Sweater", "35.900000"))]
    order = ShopOrder.from_webservice(order_row, details, currency="EUR", carrier_name="My carrier")
    assert order.round_type == 2  # 0 in the fixture: treated as the default, per line
    mapping = map_order(order, FR)
    assert_exact(mapping, order, FR)
    (shipping,) = by_kind(mapping, "shipping")
    assert (shipping.tax.vat_rate, shipping.incl) == (D("20.000"), D("8.40"))
    assert {line.tax.vat_rate for line in by_kind(mapping, "product")} == {D("0.000")}
