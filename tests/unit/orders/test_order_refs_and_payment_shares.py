"""Pure rules of split carts: the order ref in ``ref`` mode, and a cart payment's shares."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dolisync.mapping.order_payments import Share, allocate_payments
from dolisync.mapping.order_refs import order_ref

D = Decimal


def test_order_ref_numbers_the_orders_of_a_split_cart_by_id() -> None:
    assert order_ref("XKBKNABJK", 7) == "XKBKNABJK"
    assert [order_ref("XKBKNABJK", i, (12, 7, 9)) for i in (7, 9, 12)] == ["XKBKNABJK", "XKBKNABJK-2", "XKBKNABJK-3"]
    assert order_ref("XKBKNABJK", 9, (9, 12)) == "XKBKNABJK"  # the siblings given need not include a deleted one
    assert order_ref(" XKBKNABJK ", 7, (7,)) == "XKBKNABJK"


@pytest.mark.parametrize("reference", ["", "  ", "PROVABCDE", "provabcde", "(PROV12"])
def test_order_ref_leaves_numbering_to_dolibarr_when_it_would_renumber_anyway(reference: str) -> None:
    assert order_ref(reference, 3, (3, 4)) is None


def test_one_cart_payment_fills_the_invoices_in_order() -> None:
    plan = allocate_payments([(10, D("12.00")), (11, D("30.50")), (12, D("5.01"))], [(1, D("47.51"))])
    assert plan == {1: [Share(10, D("12.00"), True), Share(11, D("30.50"), True), Share(12, D("5.01"), True)]}


def test_several_payments_continue_where_the_previous_stopped_and_a_short_one_leaves_a_rest() -> None:
    plan = allocate_payments([(10, D("12")), (11, D("30"))], [(2, D("20")), (1, D("10"))])
    assert plan == {1: [Share(10, D("10.00"), False)],
                    2: [Share(10, D("2.00"), True), Share(11, D("18.00"), False)]}


def test_an_excess_stays_on_the_last_invoice_for_dolibarr_to_refuse() -> None:
    plan = allocate_payments([(10, D("12")), (11, D("30"))], [(1, D("50"))])
    assert plan == {1: [Share(10, D("12.00"), True), Share(11, D("38.00"), False)]}
    assert allocate_payments([(10, D("12"))], [(1, D("12")), (2, D("1"))])[2] == [Share(10, D("1.00"), False)]


money = st.decimals(min_value=D("0.01"), max_value=D("5000"), places=2)


@given(st.lists(money, min_size=1, max_size=4), st.lists(money, min_size=1, max_size=3))
def test_shares_add_up_and_never_exceed_an_invoice_but_the_last(totals: list[Decimal],
                                                              amounts: list[Decimal]) -> None:
    invoices = list(enumerate(totals))
    plan = allocate_payments(invoices, list(enumerate(amounts)))
    for payment_id, amount in enumerate(amounts):
        assert sum((s.amount for s in plan[payment_id]), D(0)) == amount
    received = {key: sum((s.amount for shares in plan.values() for s in shares if s.invoice == key), D(0))
                for key, _total in invoices}
    for key, total in invoices[:-1]:
        assert received[key] <= total
    running = {key: D(0) for key, _total in invoices}
    for payment_id in sorted(plan):  # a share settles exactly when it completes its invoice
        for share in plan[payment_id]:
            running[share.invoice] += share.amount
            assert share.amount > 0 and share.settles == (running[share.invoice] == totals[share.invoice])
