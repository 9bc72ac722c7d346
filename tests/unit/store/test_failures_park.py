"""Bad input is parked at once; transient failures wait for their backoff."""

from __future__ import annotations

from pathlib import Path

from dolisync.store import open_store
from dolisync.sync.failures import FailureKey, FailureQueue, ItemError


def test_park_records_a_parked_item_that_is_never_due(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 's.sqlite'}")
    try:
        queue = FailureQueue(store)
        bad = queue.record(FailureKey("main", "product", "7"), ItemError("MappingError", "fix the EAN"), park=True)
        flaky = queue.record(FailureKey("main", "product", "8"), ItemError("Transient", "503"))
        assert bad.parked and bad.next_attempt_at is None
        assert not flaky.parked and flaky.next_attempt_at is not None
        assert queue.count() == (1, 1)
        assert queue.retry(FailureKey("main", "product", "7")) == 1
        assert not queue.get(FailureKey("main", "product", "7")).parked
    finally:
        store.close()


def test_catalog_sink_parks_what_a_person_must_fix_and_retries_the_rest(tmp_path: Path) -> None:
    from dolisync.sync.engine import StoreFailureSink

    store = open_store(f"sqlite:///{tmp_path / 's.sqlite'}")
    try:
        queue = FailureQueue(store)
        sink = StoreFailureSink(queue, "main")
        sink.park("product_barcode", "3", "Warning", "barcode already used", retry=False)
        sink.park("product", "4", "Transient", "Dolibarr answered 503", retry=True)
        assert queue.get(FailureKey("main", "product_barcode", "3")).parked
        assert not queue.get(FailureKey("main", "product", "4")).parked
        sink.resolve("product", "4")
        assert queue.get(FailureKey("main", "product", "4")) is None
    finally:
        store.close()
