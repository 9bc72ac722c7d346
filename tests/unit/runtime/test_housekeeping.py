"""The inbox purge: processed events older than ``[runtime] inbox_retention_days`` are deleted
by the running service, in both executors; unprocessed and recent events stay."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from dolisync.config import Settings
from dolisync.runtime.asyncio_executor import AsyncioExecutor
from dolisync.runtime.housekeeping import purge_inbox
from dolisync.runtime.service import build_service, run_service
from dolisync.runtime.work import JobContext, JobRunner
from dolisync.store import Store, open_store, utcnow
from dolisync.store.inbox import Inbox
from dolisync.store.schema import inbox as inbox_table
from tests.scale.runtime_support import Recorder, pg_schema, pg_url

pytestmark = pytest.mark.anyio



@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_store(f"sqlite:///{tmp_path}/state.sqlite") as opened:
        yield opened


def _seed(store: Store) -> dict[str, int]:
    """Four events: processed 10 days ago, processed 2 days ago, received 30 days ago and never
    processed, processed just now."""
    inbox = Inbox(store)
    now = utcnow()
    ids: dict[str, int] = {}
    for name, received_days, processed_days in (("old", 11, 10), ("recent", 3, 2), ("open", 30, None),
                                                ("fresh", 0, 0)):
        event, new = inbox.receive("prestashop", "fr", "orders", name, {"n": name},
                                   now=now - timedelta(days=received_days))
        assert new
        if processed_days is not None:
            inbox.mark_processed([event.id], now=now - timedelta(days=processed_days))
        ids[name] = event.id
    return ids


def _left(store: Store, ids: dict[str, int]) -> set[str]:
    with store.read() as conn:
        present = {int(row.id) for row in conn.execute(select(inbox_table.c.id))}
    return {name for name, id_ in ids.items() if id_ in present}


def test_purge_deletes_only_events_processed_before_the_retention(store: Store) -> None:
    ids = _seed(store)
    assert purge_inbox(store, timedelta(days=7)) == 1
    assert _left(store, ids) == {"recent", "open", "fresh"}
    assert purge_inbox(store, timedelta(days=1)) == 1
    assert _left(store, ids) == {"open", "fresh"}  # never an unprocessed event, however old
    assert [e.object_id for e in Inbox(store).pending()] == ["open"]
    with pytest.raises(ValueError):
        purge_inbox(store, timedelta(0))


async def _wait(predicate: Any, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)


async def test_asyncio_executor_purges_periodically_while_running(store: Store) -> None:
    ids = _seed(store)
    recorder = Recorder()
    runner = JobRunner(JobContext(store), recorder.table())
    executor = AsyncioExecutor(runner, sweep_s=0.1, inbox_retention=timedelta(days=7), purge_every_s=0.1)
    stop = asyncio.Event()
    task = asyncio.create_task(executor.run(stop))
    try:
        await _wait(lambda: "old" not in _left(store, ids))
        # a later round purges what aged past the retention meanwhile
        event, _ = Inbox(store).receive("prestashop", "fr", "orders", "later", {"n": "later"})
        Inbox(store).mark_processed([event.id], now=utcnow() - timedelta(days=8))
        await _wait(lambda: not _left(store, {"later": event.id}))
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
    left = _left(store, ids)
    assert {"recent", "fresh"} <= left and "old" not in left  # "open" was run (and processed) by the executor
    assert recorder.runs, "the open event was processed by the executor"


@pytest.mark.postgres
async def test_procrastinate_leader_purges(tmp_path: Path) -> None:
    from dolisync.runtime.procrastinate_executor import ProcrastinateExecutor

    with pg_schema("purge") as schema, open_store(pg_url(), schema=schema) as store:
        ids = _seed(store)
        runner = JobRunner(JobContext(store), Recorder().table())
        executor = ProcrastinateExecutor(runner, pg_url(), schema=schema, concurrency=2, sweep_s=0.2,
                                         drain_timeout_s=10, heartbeat_s=0.5, leader_retry_s=0.2, fetch_poll_s=0.2,
                                         inbox_retention=timedelta(days=7), purge_every_s=0.2)
        stop = asyncio.Event()
        await executor.open()
        task = asyncio.create_task(executor.run(stop))
        try:
            await _wait(lambda: "old" not in _left(store, ids))
            assert executor.is_leader
        finally:
            stop.set()
            await asyncio.wait_for(task, 30)
            await executor.close()
        assert {"recent", "fresh"} <= _left(store, ids)


async def test_service_purges_with_the_configured_retention(tmp_path: Path) -> None:
    settings = Settings(state={"url": f"sqlite:///{tmp_path}/state.sqlite"},
                        shop=[{"name": "fr", "url": "http://127.0.0.1:9", "key": "K"}],
                        runtime={"inbox_retention_days": 1.5})
    assert Settings(shop=[{"name": "fr", "url": "http://127.0.0.1:9", "key": "K"}]).runtime.inbox_retention_days == 7
    service = build_service(settings, handlers=Recorder().table(), sweep_s=0.1, purge_every_s=0.1)
    try:
        assert service.executor.inbox_retention == timedelta(days=1.5)
        ids = _seed(service.store)
        stop = asyncio.Event()
        task = asyncio.create_task(run_service(service, stop, web=False, handle_signals=False))
        try:
            # "recent" (processed 2 days ago) goes too: the default 7 days would have kept it;
            # "open" is run by the service and then kept as processed now
            await _wait(lambda: _left(service.store, ids) == {"fresh", "open"} and not Inbox(service.store).pending())
        finally:
            stop.set()
            await asyncio.wait_for(task, 30)
    finally:
        service.close()

