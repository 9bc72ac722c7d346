"""The ownership rule, the order-state targets and the conflict journal (no remote involved)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from dolisync.config import OrderStateRules, ShopSettings
from dolisync.mapping.reverse import ReverseOptions
from dolisync.store import Journal, Store, open_store
from dolisync.sync.plan import SyncSummary
from dolisync.sync.reverse.conflicts import conflict_lines
from dolisync.sync.reverse.context import ReverseRun, owner_of_group
from dolisync.sync.reverse.orders import order_targets


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return open_store(f"sqlite:///{tmp_path / 'state.db'}")


def make_run(store: Store, ownership: dict[str, str], *, dry_run: bool = False) -> ReverseRun:
    flow: Any = SimpleNamespace(summary=SyncSummary(shop="main"), bindings=SimpleNamespace(flush=lambda: None))
    shop = SimpleNamespace(name="main")
    return ReverseRun(flow=flow, prestashop=None, dolibarr=None, store=store, shop=shop,  # type: ignore[arg-type]
                      settings=None, options=ReverseOptions(), ownership=ownership, dry_run=dry_run)


def test_config_ownership_defaults_and_rejects_unknown_groups() -> None:
    shop = ShopSettings(ownership={"price": "shared"})
    assert shop.ownership == {"stock": "dolibarr", "price": "shared", "descriptions": "prestashop",
                              "images": "prestashop", "active": "prestashop"}
    with pytest.raises(ValueError, match="unknown field groups"):
        ShopSettings(ownership={"colour": "dolibarr"})
    assert owner_of_group(shop.ownership, "data") == "dolibarr"


def test_dolibarr_master_always_writes_and_flags_a_shop_edit(store: Store) -> None:
    run = make_run(store, {"price": "dolibarr"})
    first = run.decide("erp_product_price", "7", "price", desired={"price": 20}, current={"price": 19})
    assert first.write and not first.conflict  # never written before: nothing to compare with
    run.remember("erp_product_price", "7", "3", read={"price": 20}, written={"price": 20})
    edited = run.decide("erp_product_price", "7", "price", desired={"price": 20}, current={"price": 1})
    assert edited.write and edited.conflict
    run.remember("erp_product_price", "7", "3", read={"price": 25}, written={"price": 25})
    moved = run.decide("erp_product_price", "7", "price", desired={"price": 30}, current={"price": 25})
    assert moved.write and not moved.conflict  # only Dolibarr moved


def test_shared_writes_only_when_dolibarr_moved(store: Store) -> None:
    run = make_run(store, {"price": "shared"})
    run.remember("erp_product_price", "7", "3", read={"price": 20}, written={"price": 20})
    shop_edit = run.decide("erp_product_price", "7", "price", desired={"price": 20}, current={"price": 22})
    assert not shop_edit.write  # the shop -> ERP flow carries the shop's edit to Dolibarr
    erp_edit = run.decide("erp_product_price", "7", "price", desired={"price": 24}, current={"price": 22})
    assert erp_edit.write and not erp_edit.conflict


def test_prestashop_master_is_never_written_except_on_creation(store: Store) -> None:
    run = make_run(store, {"descriptions": "prestashop"})
    assert not run.decide("erp_product_descriptions", "7", "descriptions", desired={"n": "a"},
                          current={"n": "b"}).write
    assert run.decide("erp_product_descriptions", "7", "descriptions", desired={"n": "a"}, current={"n": "b"},
                      creating=True).write


def test_state_is_written_in_batches_and_survives_a_new_run(store: Store) -> None:
    run = make_run(store, {"price": "shared"})
    run.remember("erp_stock", "4-0", "9", read={"quantity": 3}, written={"quantity": 3})
    assert make_run(store, {}).state("erp_stock") == {}  # not flushed yet
    run.flush()
    assert make_run(store, {}).state("erp_stock")["4-0"].target_id == "9"
    dry = make_run(store, {}, dry_run=True)
    dry.remember("erp_stock", "5-0", "10", read={"quantity": 1}, written={"quantity": 1})
    dry.flush()
    assert "5-0" not in make_run(store, {}).state("erp_stock")


def test_conflicts_are_journaled_as_json(store: Store) -> None:
    from decimal import Decimal

    run = make_run(store, {"price": "dolibarr"})
    run.conflict("erp_product", "7", "price", {"price": Decimal("1.000000")}, {"price": Decimal("20")})
    [conflict] = Journal(store).conflicts(connection="main")
    assert (conflict.entity, conflict.object_id, conflict.field_group) == ("erp_product", "7", "price")
    assert conflict.old_value == {"price": "1.000000"} and conflict.new_value == {"price": "20"}
    [line] = conflict_lines(store, "main")
    assert line.endswith("main erp_product 7 price: shop had {'price': '1.000000'} -> {'price': '20'}")
    assert conflict_lines(store, "other") == []


@pytest.mark.parametrize(("status", "paid", "rules", "expected"), [
    (1, False, {}, []),
    (1, True, {}, [("payment_accepted", 2)]),
    (2, True, {}, [("payment_accepted", 2), ("shipped", 4)]),
    (3, False, {}, [("shipped", 4), ("delivered", 5)]),
    (3, True, {"shipped": None, "payment_accepted": None}, [("delivered", 5)]),
    (3, True, {"delivered": 12}, [("payment_accepted", 2), ("shipped", 4), ("delivered", 12)]),
    (-1, True, {"payment_accepted": None}, []),
])
def test_order_targets_follow_dolibarr_and_the_configured_states(status: int, paid: bool, rules: dict[str, Any],
                                                                  expected: list[tuple[str, int]]) -> None:
    assert order_targets(status, paid, OrderStateRules(**rules)) == expected


def test_dolibarr_events_and_parked_items_name_the_flow_to_run() -> None:
    from dolisync.sync.reverse import REVERSE_ENTITIES
    from dolisync.sync.reverse.triggers import DOLIBARR_EVENT_FLOWS, flow_of_failure_entity, flows_for_dolibarr_event

    assert flows_for_dolibarr_event("bill_payed") == ("order_states",)
    assert flows_for_dolibarr_event("STOCK_MOVEMENT") == ("stock",)
    assert flows_for_dolibarr_event("COMPANY_CREATE") == ()
    assert {flow for flows in DOLIBARR_EVENT_FLOWS.values() for flow in flows} <= set(REVERSE_ENTITIES)
    assert flow_of_failure_entity("erp_new_product") == "new_products"
    assert flow_of_failure_entity("erp_product_price") == "prices"
    assert flow_of_failure_entity("erp_product_data") == "product_data"
    assert flow_of_failure_entity("product") is None
