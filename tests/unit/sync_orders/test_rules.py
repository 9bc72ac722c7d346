"""State rules: defaults on a stock PrestaShop 8 and what an order has reached."""

from __future__ import annotations

import pytest

from dolisync.config import OrderStateRules
from dolisync.emulators.generator import generate_store
from dolisync.sync.orders.linkback import note_with_invoice, pdf_link
from dolisync.sync.orders.rules import UnknownState, resolve_rules


def _states() -> list[dict[str, object]]:
    return generate_store(seed=1, products=2, orders=0, customers=0, shops=1).prestashop.tables["order_states"]


def test_defaults_follow_the_state_flags_of_a_stock_shop() -> None:
    rules = resolve_rules(OrderStateRules(), _states())
    assert 6 not in rules.create and 8 not in rules.create and {1, 2, 10, 13} <= rules.create
    assert rules.invoice == {2, 3, 4, 5, 7, 9, 11}
    assert rules.payment == {2, 3, 4, 5, 9, 11}
    assert {4, 5} <= rules.shipped and rules.delivered == {5}


def test_progress_uses_history_and_cancellation_only_while_current() -> None:
    rules = resolve_rules(OrderStateRules(), _states())
    late = rules.progress(5, [2, 3, 4, 5])
    assert late.create and late.invoice and late.payment and late.shipped and late.delivered
    cancelled = rules.progress(6, [1, 6])
    assert cancelled.cancelled and not cancelled.create and not cancelled.invoice
    assert rules.progress(8, [8]).create is False


def test_unknown_configured_state_is_refused() -> None:
    with pytest.raises(UnknownState, match="99"):
        resolve_rules(OrderStateRules(invoice=[99]), _states())


def test_invoice_note_keeps_merchant_lines_and_replaces_ours() -> None:
    link = pdf_link("https://erp.example.com/api/index.php", "FA2611-0001")
    assert link == "https://erp.example.com/document.php?modulepart=facture&file=FA2611-0001/FA2611-0001.pdf"
    first = note_with_invoice("call before delivery", "FA2611-0001", link)
    again = note_with_invoice(first, "FA2611-0002", link)
    assert again.splitlines()[0] == "call before delivery" and again.count("Dolibarr invoice") == 1
