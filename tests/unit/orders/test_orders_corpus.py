"""Property/corpus tests: many realistic orders, 100 % equal to PrestaShop's grand totals.

Two corpora: random carts computed with PrestaShop's money model (every scenario of
:mod:`tests.unit.orders.corpus`), and the store generator's own orders (French and Canadian
shops). For every order the totals are checked twice — as predicted by the mapper and as
Dolibarr's money model computes them from the payload strings — against ``total_paid_tax_excl``,
tax and ``total_paid_tax_incl``. Adjustment lines must stay within tolerance and be rare; the
shares are printed (``pytest -s``) and bounded.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from decimal import Decimal

import pytest

from dolisync.emulators.generator import generate_store
from dolisync.mapping.dolibarr_money import SellerTaxes
from dolisync.mapping.money import to_decimal
from dolisync.mapping.order_input import ShopOrder
from dolisync.mapping.orders import DolibarrSide, OrderMapping, OrderMappingOptions, map_order
from dolisync.mapping.prestashop_money import ROUND_ITEM
from tests.unit.orders.builders import TAXES, shop_order
from tests.unit.orders.corpus import SCENARIOS, random_cart
from tests.unit.orders.replay import createfromorder_totals, replay_totals

D = Decimal
CENT = D("0.01")
OPTIONS = OrderMappingOptions()


def _check(mapping: OrderMapping, order: ShopOrder, seller: SellerTaxes, stats: Counter[str]) -> None:
    shop = (order.total_paid_tax_excl.quantize(CENT), order.total_paid_tax_incl.quantize(CENT))
    assert (mapping.predicted_totals.excl, mapping.predicted_totals.incl) == shop, order.id
    assert replay_totals(mapping, seller) == shop, order.id
    assert mapping.reconciliation.exact
    kind = "item" if order.round_type == ROUND_ITEM else "line/total"
    stats[f"orders {kind}"] += 1
    stats[f"currency {order.currency}"] += 1
    if mapping.adjustment is not None:
        stats[f"adjusted {kind}"] += 1
        assert abs(mapping.adjustment.excl) <= OPTIONS.tolerance
        assert sum(1 for line in mapping.lines if line.kind == "adjustment") <= 2
    if mapping.notes:
        stats["tax cents moved"] += 1
    if any(line.tax.has_local_tax for line in mapping.lines):
        stats["local taxes"] += 1
    if sum(1 for line in mapping.lines if line.kind == "discount") > 1:
        stats["discount split"] += 1
    if mapping.multicurrency_tx is None:
        again = createfromorder_totals(mapping, seller)
        assert (again.total_ht, again.total_ttc) == shop  # grid prices survive re-pricing from subprice


def _report(name: str, stats: Counter[str]) -> None:
    for kind in ("line/total", "item"):
        orders = stats[f"orders {kind}"]
        if orders:
            share = stats[f"adjusted {kind}"] / orders
            print(f"{name}: round {kind}: {orders} orders, {stats[f'adjusted {kind}']} with an adjustment ({share:.1%})")
    print(f"{name}: {dict(sorted(stats.items()))}")


def test_random_carts_of_every_kind_are_exact() -> None:
    rng = random.Random(20261128)
    stats: Counter[str] = Counter()
    for index in range(900):
        scenario = SCENARIOS[index % len(SCENARIOS)]
        cart, currency = random_cart(rng, scenario)
        order, _ = shop_order(cart, currency=currency, order_id=index + 1)
        side = DolibarrSide(seller=scenario.seller(), company_currency=scenario.company_currency,
                            country_code=scenario.country_code, tax_rates=TAXES)
        mode = "per_rule" if index % 2 else "single"
        mapping = map_order(order, side, OrderMappingOptions(discount_lines=mode))
        _check(mapping, order, side.seller, stats)
    _report("random carts", stats)
    assert stats["orders line/total"] + stats["orders item"] == 900
    assert stats["local taxes"] > 100 and stats["discount split"] > 50
    assert {"currency USD", "currency GBP", "currency CAD", "currency EUR"} <= set(stats)
    assert stats["adjusted line/total"] / stats["orders line/total"] < 0.02


@pytest.mark.parametrize("country", ["FR", "CA"])
def test_generated_store_orders_are_exact(country: str) -> None:
    store = generate_store(seed=11, products=60, orders=500, customers=40, country=country)
    tables = store.prestashop.tables
    currencies = {int(c["id"]): str(c["iso_code"]) for c in tables["currencies"]}
    carriers = {int(c["id"]): str(c["name"]) for c in tables["carriers"]}
    details: dict[int, list[dict[str, object]]] = defaultdict(list)
    rules: dict[int, list[dict[str, object]]] = defaultdict(list)
    for row in tables["order_details"]:
        details[int(row["id_order"])].append(row)
    for row in tables.get("order_cart_rules", []):
        rules[int(row["id_order"])].append(row)
    side = DolibarrSide(
        seller=SellerTaxes.from_setup(store.dolibarr), company_currency=store.dolibarr.currency,
        country_code=country, tax_rates={int(t["id"]): to_decimal(t["rate"]) for t in tables["taxes"]},
    )
    stats: Counter[str] = Counter()
    for row in tables["orders"]:
        order_id = int(row["id"])
        order = ShopOrder.from_webservice(row, details[order_id], rules[order_id],
                                          currency=currencies[int(row["id_currency"])],
                                          carrier_name=carriers.get(int(row["id_carrier"]), ""))
        _check(map_order(order, side), order, side.seller, stats)
    _report(f"generated {country}", stats)
    assert stats["orders line/total"] + stats["orders item"] == 500
    adjusted = stats["adjusted line/total"] + stats["adjusted item"]
    assert adjusted / 500 < 0.05
