"""Store behaviour tests shared by SQLite (``test_store_sqlite.py``) and PostgreSQL
(``tests/scale/test_store_postgres.py``).

Every test takes two fixtures the importing module provides: ``store`` (an open, migrated
:class:`~dolisync.store.Store`) and ``conn_name`` (a connection name no other test uses).
This file is not collected on its own (its name does not start with ``test_``).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from dolisync.store import Store
from dolisync.store.inbox import Inbox
from dolisync.store.journal import Journal
from dolisync.sync.binder import Binder, BindingConflict, content_hash
from dolisync.sync.cursor import Change, Cursor
from dolisync.sync.failures import Backoff, FailureKey, FailureQueue, ItemError
from dolisync.sync.runs import EntityCounts, Run, RunRecorder

T0 = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


# -- binder ------------------------------------------------------------------------------
def test_bind_then_look_up_both_ways(store: Store, conn_name: str) -> None:
    binder = Binder(store, conn_name)
    stored = binder.bind("product", 7, 1007, written_hash="w1", read_hash="r1")
    assert (stored.source_id, stored.target_id) == ("7", "1007")
    assert stored.external_key == f"ps-{conn_name}-product-7"
    assert stored.updated_at.tzinfo is not None
    assert binder.target_for("product", 7) == "1007"
    assert binder.target_for("product", "7") == "1007"
    assert binder.source_for("product", 1007) == "7"
    assert binder.hashes("product", 7) == ("w1", "r1")
    assert binder.target_for("product", 8) is None
    assert binder.source_for("category", 1007) is None
    assert binder.hashes("product", 8) == (None, None)


def test_bind_is_an_upsert_that_keeps_hashes_not_given(store: Store, conn_name: str) -> None:
    binder = Binder(store, conn_name)
    binder.bind("product", 1, 10, written_hash="w1", read_hash="r1")
    binder.bind("product", 1, 11, read_hash="r2")
    assert binder.target_for("product", 1) == "11"
    assert binder.source_for("product", 10) is None
    assert binder.hashes("product", 1) == ("w1", "r2")
    assert list(binder.all("product")) == ["1"]
    assert binder.set_hashes("product", 1, written_hash="w3") is True
    assert binder.hashes("product", 1) == ("w3", "r2")
    assert binder.set_hashes("product", 99, written_hash="w3") is False


def test_one_target_cannot_serve_two_sources(store: Store, conn_name: str) -> None:
    binder = Binder(store, conn_name)
    binder.bind("customer", 1, 500)
    with pytest.raises(BindingConflict) as caught:
        binder.bind("customer", 2, 500)
    assert caught.value.bound_to == "1"
    assert "500" in str(caught.value)
    assert binder.target_for("customer", 2) is None
    with pytest.raises(BindingConflict):
        binder.claim("customer", 3, 500)
    # Another entity may reuse the same target id.
    binder.bind("address", 2, 500)
    assert binder.source_for("address", 500) == "2"


def test_claim_keeps_the_first_binding(store: Store, conn_name: str) -> None:
    binder = Binder(store, conn_name)
    first, won = binder.claim("order", 42, 9001, written_hash="a")
    assert won and first.target_id == "9001"
    second, won_again = binder.claim("order", 42, 9002, written_hash="b")
    assert not won_again
    assert second.target_id == "9001" and second.written_hash == "a"
    assert binder.source_for("order", 9002) is None


def test_unbind_and_isolation_between_connections(store: Store, conn_name: str) -> None:
    mine = Binder(store, conn_name)
    other = Binder(store, conn_name + "-b", source_side="dolibarr")
    mine.bind("product", 1, 100)
    other.bind("product", 1, 200)
    assert mine.target_for("product", 1) == "100"
    assert other.target_for("product", 1) == "200"
    assert other.get("product", 1) is not None
    assert other.get("product", 1).source_side == "dolibarr"  # type: ignore[union-attr]
    assert mine.unbind("product", 1) is True
    assert mine.unbind("product", 1) is False
    assert mine.target_for("product", 1) is None
    assert other.target_for("product", 1) == "200"


def test_all_preloads_every_binding_of_an_entity(store: Store, conn_name: str) -> None:
    binder = Binder(store, conn_name)
    binder.bind_many("product", [(i, 10_000 + i, f"h{i}", None) for i in range(1, 301)])
    binder.bind("category", 1, 5)
    everything = binder.all("product")
    assert len(everything) == 300
    assert everything["150"].target_id == "10150"
    assert everything["150"].written_hash == "h150"
    assert set(binder.all("category")) == {"1"}
    assert binder.all("nothing") == {}


def test_written_hash_round_trip_recognises_an_echo(store: Store, conn_name: str) -> None:
    binder = Binder(store, conn_name)
    payload = {"price": Decimal("19.90"), "ref": "A-1", "qty": 3}
    binder.bind("product", 3, 33, written_hash=content_hash(payload))
    echoed = {"qty": 3, "ref": "A-1", "price": Decimal("19.900000")}
    assert binder.hashes("product", 3)[0] == content_hash(echoed)
    changed = dict(echoed, price=Decimal("19.91"))
    assert binder.hashes("product", 3)[0] != content_hash(changed)


# -- cursor ------------------------------------------------------------------------------
def _cursor(store: Store, name: str, entity: str = "product") -> Cursor:
    return Cursor(store, name, entity, "ps_to_doli", overlap=timedelta(seconds=60))


def test_cursor_commits_and_restarts_with_overlap(store: Store, conn_name: str) -> None:
    cursor = _cursor(store, conn_name)
    assert cursor.value is None and cursor.start_value() is None
    page = [Change.of(2, T0), Change.of(1, T0), Change.of(3, T0 - timedelta(seconds=30))]
    fresh = cursor.observe(page)
    assert [c.id for c in fresh] == ["3", "1", "2"]  # keyset order: time, then numeric id
    assert _cursor(store, conn_name).value is None  # staged only
    cursor.commit()
    reopened = _cursor(store, conn_name)
    assert reopened.value == T0
    assert reopened.tie_ids == frozenset({"1", "2"})
    assert reopened.start_value() == T0 - timedelta(seconds=60)
    assert reopened.position.at == T0 - timedelta(seconds=60)
    assert reopened.position.after_id is None


def test_cursor_deduplicates_replays_but_not_new_versions(store: Store, conn_name: str) -> None:
    cursor = _cursor(store, conn_name)
    cursor.observe([Change.of(1, T0, "v1"), Change.of(2, T0, "v1")])
    cursor.commit()
    again = _cursor(store, conn_name)
    replay = again.observe(
        [
            Change.of(1, T0, "v1"),  # same id, time and digest: replay
            Change.of(2, T0, "v2"),  # same second, other content: new
            Change.of(3, T0 - timedelta(seconds=10)),  # late arrival inside the overlap
            Change.of(1, T0 - timedelta(seconds=5), "v0"),  # older than committed: stale
        ]
    )
    assert [(c.id, c.digest) for c in replay] == [("3", None), ("2", "v2")]


def test_cursor_crash_before_commit_redelivers(store: Store, conn_name: str) -> None:
    cursor = _cursor(store, conn_name)
    cursor.observe([Change.of(1, T0)])
    cursor.commit()
    cursor.observe([Change.of(2, T0 + timedelta(seconds=5))])
    assert cursor.pending() == 1
    recovered = _cursor(store, conn_name)  # the crash: a new object from the store
    assert recovered.value == T0
    assert [c.id for c in recovered.observe([Change.of(2, T0 + timedelta(seconds=5))])] == ["2"]


def test_cursor_position_and_horizon(store: Store, conn_name: str) -> None:
    cursor = _cursor(store, conn_name)
    cursor.begin(horizon=T0 + timedelta(seconds=10))
    first = cursor.observe([Change.of(5, T0), Change.of(9, T0 + timedelta(seconds=1))])
    assert [c.id for c in first] == ["5", "9"]
    assert (cursor.position.at, cursor.position.after_id) == (T0 + timedelta(seconds=1), "9")
    beyond = cursor.observe(
        [Change.of(4, T0 + timedelta(seconds=10)), Change.of(1, T0 + timedelta(seconds=11))]
    )
    assert [c.id for c in beyond] == ["4"]
    assert cursor.reached_horizon
    cursor.commit()
    assert _cursor(store, conn_name).value == T0 + timedelta(seconds=10)


def test_cursor_commits_from_two_workers_merge(store: Store, conn_name: str) -> None:
    one, two = _cursor(store, conn_name), _cursor(store, conn_name)
    one.observe([Change.of(1, T0 + timedelta(seconds=20))])
    two.observe([Change.of(2, T0 + timedelta(seconds=10))])
    one.commit()
    two.commit()
    merged = _cursor(store, conn_name)
    assert merged.value == T0 + timedelta(seconds=20)
    assert (
        merged.observe(
            [Change.of(1, T0 + timedelta(seconds=20)), Change.of(2, T0 + timedelta(seconds=10))]
        )
        == []
    )


def test_cursor_trims_seen_to_the_overlap_and_resets(store: Store, conn_name: str) -> None:
    cursor = _cursor(store, conn_name)
    cursor.observe([Change.of(1, T0)])
    cursor.commit()
    cursor.observe([Change.of(2, T0 + timedelta(minutes=10))])
    cursor.commit()
    reopened = _cursor(store, conn_name)
    assert reopened.tie_ids == frozenset({"2"})
    # id 1 fell out of the window: it is below start_value, so it is never read again.
    assert reopened.start_value() == T0 + timedelta(minutes=9)
    reopened.reset()
    assert _cursor(store, conn_name).value is None
    assert _cursor(store, conn_name, "other").value is None


def test_cursor_refuses_naive_times(store: Store, conn_name: str) -> None:
    cursor = _cursor(store, conn_name)
    with pytest.raises(ValueError, match="naive"):
        cursor.observe([Change("1", datetime(2026, 1, 1))])


# -- failures ----------------------------------------------------------------------------
def _queue(store: Store, attempts: int = 3) -> FailureQueue:
    backoff = Backoff(base=timedelta(seconds=60), factor=2, jitter=0.5, max_attempts=attempts)
    return FailureQueue(store, backoff, rng=random.Random(7))


def test_failure_backoff_grows_then_parks(store: Store, conn_name: str) -> None:
    queue = _queue(store)
    key = FailureKey.of(conn_name, "order", 12)
    error = ItemError(
        "MappingError", "unknown tax rate 7.7", hint="map it in [taxes]", field="id_tax"
    )
    first = queue.record(key, error, {"total": Decimal("10.10")}, now=T0)
    assert first.attempts == 1 and not first.parked
    assert first.next_attempt_at is not None
    assert T0 + timedelta(seconds=30) <= first.next_attempt_at <= T0 + timedelta(seconds=60)
    assert first.payload == {"total": "10.10"}
    assert (first.error.hint, first.error.field) == ("map it in [taxes]", "id_tax")
    later = T0 + timedelta(minutes=5)
    second = queue.record(key, error, None, now=later)
    assert second.attempts == 2
    assert second.next_attempt_at is not None
    assert later + timedelta(seconds=60) <= second.next_attempt_at <= later + timedelta(seconds=120)
    assert second.payload == {"total": "10.10"}  # kept when no new payload is given
    assert second.first_seen == T0 and second.last_seen == later
    third = queue.record(key, error, now=later)
    assert third.parked and third.next_attempt_at is None
    assert [f.key for f in queue.list(parked_only=True, connection=conn_name)] == [key]


def test_failures_due_resolve_and_retry(store: Store, conn_name: str) -> None:
    queue = _queue(store, attempts=1)  # park on the first failure
    slow = _queue(store, attempts=10)
    parked_key = FailureKey.of(conn_name, "product", 1)
    waiting_key = FailureKey.of(conn_name, "product", 2)
    queue.record(parked_key, ValueError("bad EAN13"), now=T0)
    slow.record(waiting_key, RuntimeError("timeout"), now=T0)
    assert slow.due(T0, connection=conn_name) == []
    due_later = slow.due(T0 + timedelta(minutes=2), connection=conn_name)
    assert [f.key for f in due_later] == [waiting_key]
    assert due_later[0].error.error_class == "RuntimeError"
    assert queue.count(connection=conn_name) == (1, 1)
    assert slow.retry(parked_key, now=T0) == 1
    revived = slow.get(parked_key)
    assert revived is not None and not revived.parked and revived.attempts == 0
    assert {f.key for f in slow.due(T0, connection=conn_name)} == {parked_key}
    assert slow.resolve(parked_key) is True
    assert slow.resolve(parked_key) is False
    assert slow.retry(connection=conn_name, now=T0) == 1
    assert [f.key for f in slow.due(T0, connection=conn_name)] == [waiting_key]


def test_item_error_from_exception_carries_hint_and_field() -> None:
    class MappingError(Exception):
        def __init__(self) -> None:
            super().__init__("price is not a number: 'abc'")
            self.hint = "fix the product price in PrestaShop"
            self.field = "price"

    error = ItemError.from_exception(MappingError())
    assert error == ItemError(
        "MappingError",
        "price is not a number: 'abc'",
        "fix the product price in PrestaShop",
        "price",
    )
    assert FailureKey.parse("shop/product/a/b") == FailureKey("shop", "product", "a/b")
    assert str(FailureKey.of("shop", "product", 5)) == "shop/product/5"


# -- runs --------------------------------------------------------------------------------
def test_run_counts_requests_and_status(store: Store, conn_name: str) -> None:
    recorder = RunRecorder(store)
    with recorder.start(conn_name, "sync") as run:
        run.count("product", "created", 3)
        run.count("product", "unchanged")
        run.add_requests("prestashop", 4)
        run.flush()
        run.count("product", "created")
        run.count("customer", "updated", 2)
        run.add_requests("prestashop")
        run.add_requests("dolibarr", 7)
    summary = recorder.get(run.id)
    assert summary is not None
    assert summary.status == "ok" and summary.finished_at is not None
    assert summary.counts == {
        "customer": EntityCounts(updated=2),
        "product": EntityCounts(created=4, unchanged=1),
    }
    assert summary.requests == {"prestashop": 5, "dolibarr": 7}
    assert summary.duration_s is not None and summary.duration_s >= 0
    with pytest.raises(ValueError):
        run.count("product", "exploded")  # type: ignore[arg-type]


def test_run_failure_partial_and_last_sync(store: Store, conn_name: str) -> None:
    recorder = RunRecorder(store)
    with pytest.raises(RuntimeError), recorder.start(conn_name, "sync") as crashed:
        crashed.count("order", "created")
        raise RuntimeError("dolibarr unreachable")
    first = recorder.get(crashed.id)
    assert first is not None and first.status == "failed"
    assert first.error == "RuntimeError: dolibarr unreachable"
    partial = recorder.start(conn_name, "sync")
    partial.count("order", "failed")
    partial.count("product", "updated", 5)
    assert partial.finish().status == "partial"
    still_running = recorder.start(conn_name, "sync")
    still_running.count("order", "created", 100)
    still_running.flush()
    recent = recorder.recent(5, connection=conn_name)
    assert [r.id for r in recent] == [still_running.id, partial.id, crashed.id]
    assert recent[0].status == "running"
    last = {(s.connection, s.entity): s for s in recorder.last_sync(connection=conn_name)}
    assert set(last) == {(conn_name, "order"), (conn_name, "product")}
    assert last[(conn_name, "order")].run_id == partial.id
    assert last[(conn_name, "order")].counts == EntityCounts(failed=1)
    assert last[(conn_name, "product")].counts == EntityCounts(updated=5)


def test_two_workers_flush_into_one_run(store: Store, conn_name: str) -> None:
    recorder = RunRecorder(store)
    run = recorder.start(conn_name, "sync")
    other = Run(store, run.id, conn_name, "sync")  # a second worker's handle on the run
    run.count("product", "created", 2)
    other.count("product", "created", 3)
    other.add_requests("dolibarr", 2)
    run.add_requests("dolibarr", 1)
    run.flush()
    other.flush()
    summary = run.finish()
    assert summary.counts["product"] == EntityCounts(created=5)
    assert summary.requests == {"dolibarr": 3}


# -- inbox and journal -------------------------------------------------------------------
def test_inbox_deduplicates_deliveries(store: Store, conn_name: str) -> None:
    inbox = Inbox(store)
    payload = {"id": 5, "action": "update", "price": Decimal("1.50")}
    first, new = inbox.receive("prestashop", conn_name, "products", 5, payload, now=T0)
    again, new_again = inbox.receive(
        "prestashop", conn_name, "products", "5", dict(payload), now=T0
    )
    assert new and not new_again and again.id == first.id
    changed, new_change = inbox.receive(
        "prestashop", conn_name, "products", 5, dict(payload, price=Decimal("1.60"))
    )
    assert new_change and changed.id != first.id
    pending = inbox.pending(connection=conn_name)
    assert [e.id for e in pending] == [first.id, changed.id]
    assert pending[0].payload == {"id": 5, "action": "update", "price": "1.50"}
    assert inbox.mark_processed([first.id], now=T0) == 1
    assert inbox.mark_processed([first.id], now=T0) == 0
    assert [e.id for e in inbox.pending(connection=conn_name)] == [changed.id]
    assert inbox.purge_processed(T0 + timedelta(seconds=1)) >= 1


def test_journal_keeps_exact_money(store: Store, conn_name: str) -> None:
    journal = Journal(store)
    rec_id = journal.record_reconciliation(
        conn_name,
        77,
        {"total_paid_tax_incl": Decimal("70.74")},
        {"total_ttc": Decimal("70.73")},
        Decimal("0.01"),
        "adjustment line +0.01 (rounding)",
        now=T0,
    )
    (found,) = journal.reconciliations(connection=conn_name, order_id=77)
    assert found.id == rec_id
    assert found.delta == Decimal("0.01") and isinstance(found.delta, Decimal)
    assert found.shop_totals == {"total_paid_tax_incl": Decimal("70.74")}
    assert found.at == T0
    journal.record_conflict(
        conn_name, "product", 9, "price", {"price": "10.00"}, {"price": "12.00"}
    )
    (conflict,) = journal.conflicts(connection=conn_name)
    assert (conflict.field_group, conflict.old_value, conflict.new_value) == (
        "price",
        {"price": "10.00"},
        {"price": "12.00"},
    )
    with pytest.raises(TypeError):
        journal.record_reconciliation(conn_name, 1, {"t": 1.5}, {}, Decimal(0))  # type: ignore[dict-item]


def test_bind_many_binds_in_bulk_and_names_the_conflicting_item(
    store: Store, conn_name: str
) -> None:
    binder = Binder(store, conn_name)
    binder.bind("product", 1, 101, written_hash="keep-me")
    count = binder.bind_many(
        "product",
        [(1, 101, None, "r1"), (2, 102, "w2", None), (3, 103, "w3", "r3"), (2, 202, "w2b", None)],
    )
    assert count == 3
    everything = binder.all("product")
    assert everything["1"].written_hash == "keep-me" and everything["1"].read_hash == "r1"
    assert everything["2"].target_id == "202"  # the later item for a source id wins
    assert everything["3"].external_key == f"ps-{conn_name}-product-3"
    assert binder.bind_many("product", []) == 0
    with pytest.raises(BindingConflict) as caught:
        binder.bind_many(
            "product", [(4, 104, None, None), (5, 101, None, None), (6, 106, None, None)]
        )
    assert (caught.value.source_id, caught.value.bound_to) == ("5", "1")
    assert binder.target_for("product", 4) == "104"
    assert binder.target_for("product", 6) is None


def test_claim_due_leases_items_until_the_lease_ends(store: Store, conn_name: str) -> None:
    queue = _queue(store, attempts=10)
    keys = [FailureKey.of(conn_name, "stock", i) for i in range(3)]
    for key in keys:
        queue.record(key, ItemError("Transient", "503"), now=T0)
    soon = T0 + timedelta(minutes=2)
    first = queue.claim_due(soon, limit=2, lease=timedelta(minutes=10), connection=conn_name)
    second = queue.claim_due(soon, limit=10, lease=timedelta(minutes=10), connection=conn_name)
    assert len(first) == 2 and len(second) == 1
    assert {f.key for f in first} | {f.key for f in second} == set(keys)
    assert queue.claim_due(soon, connection=conn_name) == []
    assert queue.due(soon, connection=conn_name) == []
    after_lease = soon + timedelta(minutes=10)
    assert {f.key for f in queue.claim_due(after_lease, connection=conn_name)} == set(keys)
