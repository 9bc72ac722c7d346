"""The r5-grid price search and the cent-splitting helpers (order_pricing)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from dolisync.mapping.dolibarr_money import SellerTaxes, add_line
from dolisync.mapping.money import r2, r5
from dolisync.mapping.order_pricing import line_input, price_line, split_cents, spread_cents
from dolisync.mapping.order_taxes import LineTax
from tests.unit.orders.builders import seller_ca

D = Decimal
RATES = [D("0"), D("2.1"), D("5.5"), D("10"), D("20")]


@settings(max_examples=300, deadline=None)
@given(
    qty=st.integers(min_value=1, max_value=999),
    cents=st.integers(min_value=-500_000, max_value=5_000_000),
    rate=st.sampled_from(RATES),
    tx=st.sampled_from([D(1), D("1.0847"), D("0.7312")]),
)
def test_price_reaches_the_net_on_the_grid_and_replays_identically(qty: int, cents: int, rate: Decimal,
                                                                   tx: Decimal) -> None:
    net = D(cents) / 100
    gross = r2(net * (1 + rate / 100))
    tax = LineTax(rate)
    priced = price_line(qty=D(qty), ht=net, ttc=gross, tax=tax, seller=SellerTaxes(), multicurrency_tx=tx)
    assert priced.unit_price == r5(priced.unit_price)  # on the grid
    assert priced.ht == net  # below 1000 units a grid price always exists
    assert priced.ttc_low <= priced.ttc <= priced.ttc_high
    # The amounts are what Dolibarr computes for that price (no hidden state).
    again = add_line(line_input(qty=D(qty), unit_price=priced.unit_price, tax=tax, product_type=0,
                                multicurrency_tx=tx), SellerTaxes())
    got = (again.total_ht, again.total_ttc) if tx == 1 else (again.multicurrency_total_ht, again.multicurrency_total_ttc)
    assert got == (priced.ht, priced.ttc)
    if priced.exact:
        assert priced.ttc == gross


def test_gross_target_chosen_inside_the_net_window() -> None:
    # 3 x pu = 59.75 allows pu in [19.91500, 19.91833], so 3 x pu x 1.2 spans [71.694, 71.706): gross
    # 71.69 at the bottom (pu < 19.91528), 71.70 in the middle, 71.71 at the top (pu >= 19.91806).
    tax = LineTax(D(20))
    high = price_line(qty=D(3), ht=D("59.75"), ttc=D("71.70"), tax=tax, seller=SellerTaxes(),
                      preferred=(D("19.91667"),))
    low = price_line(qty=D(3), ht=D("59.75"), ttc=D("71.69"), tax=tax, seller=SellerTaxes())
    assert (high.unit_price, high.exact) == (D("19.91667"), True)
    assert low.exact and low.unit_price * 3 * D("1.2") < D("71.695")
    assert (high.ttc_low, high.ttc_high) == (D("71.69"), D("71.71"))
    top = price_line(qty=D(3), ht=D("59.75"), ttc=D("71.71"), tax=tax, seller=SellerTaxes())
    assert top.exact and top.unit_price >= D("19.91806")


def test_local_tax_line_priced_with_its_row() -> None:
    tax = LineTax(D(5), D("9.975"), "1")
    priced = price_line(qty=D(2), ht=D("20.00"), ttc=D("23.00"), tax=tax, seller=seller_ca(), product_type=0)
    assert priced.exact and priced.amounts.total_localtax1 == D("2.00")


def test_quantity_too_large_for_the_grid_is_flagged_inexact() -> None:
    # 30000 units: prices step by 0.30 of net, so 10.01 cannot be reached.
    priced = price_line(qty=D(30000), ht=D("10.01"), ttc=D("10.01"), tax=LineTax(D(0)), seller=SellerTaxes())
    assert not priced.exact and abs(priced.ht - D("10.01")) <= D("0.15")


@given(total_cents=st.integers(min_value=-100_000, max_value=100_000),
       weights=st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=6))
def test_split_cents_adds_up_and_stays_proportional(total_cents: int, weights: list[int]) -> None:
    total = D(total_cents) / 100
    parts = split_cents(total, [D(w) for w in weights])
    assert sum(parts, D(0)) == total
    weight_sum = sum(weights)
    for part, weight in zip(parts, weights, strict=True):
        assert part == part.quantize(D("0.01"))
        if weight_sum:
            assert abs(part - total * weight / weight_sum) < D("0.01")


@given(exact=st.lists(st.integers(min_value=0, max_value=10_000_000), min_size=1, max_size=8),
       shift=st.integers(min_value=-3, max_value=3))
def test_spread_cents_reaches_the_total_and_keeps_each_line_within_a_cent(exact: list[int], shift: int) -> None:
    values = [D(v) / 10_000 for v in exact]  # 4 decimals, like unrounded PrestaShop lines
    rounded = [r2(v) for v in values]
    target = r2(sum(values, D(0)))
    if abs(shift) <= len(values) // 2:
        target += D(shift) / 100
    spread = spread_cents(values, rounded, target)
    moved = [abs(a - b) for a, b in zip(spread, rounded, strict=True)]
    assert all(m in (D(0), D("0.01")) for m in moved)
    if abs((target - sum(rounded, D(0))) * 100) <= len(values):
        assert sum(spread, D(0)) == target
    if shift == 0:  # reaching PrestaShop's own total keeps every line within a cent of its exact value
        assert all(abs(s - v) < D("0.01") for s, v in zip(spread, values, strict=True))
