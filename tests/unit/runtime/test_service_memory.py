"""The service syncs one order per job: such a run must read only the bindings it uses, never
every binding the shop ever made (that made each job's cost and the service's memory grow
with the shop's history: the soak's RSS rose by ~1.3 MB a minute)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dolisync.store import Store, open_store
from dolisync.sync.binder import Binder, Binding
from dolisync.sync.orders.bindings import RunBindings


class CountingBinder(Binder):
    """The real binder, counting its reads."""

    def __init__(self, store: Store, connection: str) -> None:
        super().__init__(store, connection)
        self.all_calls = 0
        self.get_calls = 0

    def all(self, entity: str) -> dict[str, Binding]:
        self.all_calls += 1
        return super().all(entity)

    def get(self, entity: str, source_id: object) -> Binding | None:  # type: ignore[override]
        self.get_calls += 1
        return super().get(entity, source_id)  # type: ignore[arg-type]


@pytest.fixture
def binder(tmp_path: Path) -> Iterator[CountingBinder]:
    with open_store(f"sqlite:///{tmp_path}/state.sqlite") as store:
        counting = CountingBinder(store, "main")
        for n in range(300):
            counting.bind("orders", str(n), 1000 + n)
        yield counting


def test_a_one_order_run_reads_single_bindings_and_remembers_them(binder: CountingBinder) -> None:
    run = RunBindings(binder, preload=False)
    assert run.target_for("orders", 7) == "1007"
    assert run.target_for("orders", 7) == "1007"
    assert run.get("orders", 999) is None
    assert run.get("orders", 999) is None  # a miss is remembered too
    assert (binder.all_calls, binder.get_calls) == (0, 2)
    run.bind("orders", 999, 5)
    assert run.target_for("orders", 999) == "5" and binder.get_calls == 2
    run.unbind("orders", 7)
    assert run.get("orders", 7) is None and binder.get_calls == 2
    assert binder.get("orders", "7") is None and binder.target_for("orders", "999") == "5"  # written through


def test_a_bulk_run_preloads_each_entity_once(binder: CountingBinder) -> None:
    run = RunBindings(binder)
    assert [run.target_for("orders", n) for n in (1, 2, 3)] == ["1001", "1002", "1003"]
    assert run.get("orders", 999) is None
    assert (binder.all_calls, binder.get_calls) == (1, 0)
