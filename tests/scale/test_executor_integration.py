"""One integration suite for both executors: asyncio (SQLite store) and procrastinate
(PostgreSQL store, real server: ``DOLISYNC_TEST_POSTGRES_URL`` or the local default).

Each test drives an executor through the port only (submit / schedule / run) with recording
handlers, and checks what the store says afterwards.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from dolisync.runtime.asyncio_executor import AsyncioExecutor
from dolisync.runtime.jobs import Job
from dolisync.runtime.procrastinate_executor import ProcrastinateExecutor
from dolisync.runtime.work import JobContext, JobRunner
from dolisync.store import Store, open_store
from dolisync.store.inbox import Inbox
from dolisync.sync.failures import Backoff, FailureKey, FailureQueue
from tests.scale.runtime_support import Recorder, pg_schema, pg_url

pytestmark = [pytest.mark.anyio, pytest.mark.postgres]


Factory = Callable[[Store, Recorder], Any]


@pytest.fixture(params=["asyncio", "procrastinate"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store(kind: str, tmp_path: Path) -> Any:
    if kind == "asyncio":
        with open_store(f"sqlite:///{tmp_path}/state.sqlite") as opened:
            yield opened
        return
    with pg_schema("exec") as schema:
        with open_store(pg_url(), schema=schema) as opened:
            yield opened


def make_executor(kind: str, store: Store, recorder: Recorder, *, backoff: Backoff | None = None,
                  drain_timeout_s: float = 10.0) -> Any:
    runner = JobRunner(JobContext(store), recorder.table(), failures=FailureQueue(store, backoff or Backoff()))
    if kind == "asyncio":
        return AsyncioExecutor(runner, concurrency=4, sweep_s=0.1, drain_timeout_s=drain_timeout_s)
    return ProcrastinateExecutor(runner, pg_url(), schema=store.schema, concurrency=4, sweep_s=0.2,
                                 drain_timeout_s=drain_timeout_s, heartbeat_s=0.5, stalled_after_s=3,
                                 leader_retry_s=0.2, fetch_poll_s=0.2)


@asynccontextmanager
async def running(executor: Any) -> AsyncIterator[asyncio.Event]:
    stop = asyncio.Event()
    if isinstance(executor, ProcrastinateExecutor):
        await executor.open()
    task = asyncio.create_task(executor.run(stop))
    try:
        yield stop
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
        if isinstance(executor, ProcrastinateExecutor):
            await executor.close()


async def wait_until(predicate: Callable[[], bool], timeout_s: float = 40.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)


async def test_stored_events_all_run_once_and_one_key_never_twice_at_once(kind: str, store: Store) -> None:
    inbox = Inbox(store)
    for n in range(60):
        inbox.receive("prestashop", "fr", "orders", n % 6, {"n": n})  # 10 events per order
    recorder = Recorder(delay_s=0.01)
    executor = make_executor(kind, store, recorder)
    async with running(executor):
        await wait_until(lambda: not inbox.pending(limit=1))
    identities = [identity for identity, *_ in recorder.runs]
    assert len(identities) == 60 and len(set(identities)) == 60
    assert recorder.max_per_key == 1
    keys = {key for _, key, *_ in recorder.runs}
    assert keys == {f"fr/orders/{n}" for n in range(6)}


async def test_failed_item_is_queued_with_its_reason_and_a_retry_resolves_it(kind: str, store: Store) -> None:
    recorder = Recorder(failing={"7"})
    executor = make_executor(kind, store, recorder, backoff=Backoff(max_attempts=1))
    queue = FailureQueue(store)
    key = FailureKey("fr", "orders", "7")
    async with running(executor):
        Inbox(store).receive("prestashop", "fr", "orders", 7, {"id": 7})
        await wait_until(lambda: queue.get(key) is not None)
        failure = queue.get(key)
        assert failure is not None and failure.parked and failure.attempts == 1
        assert failure.error.error_class == "ValueError" and "set its tax rate" in failure.error.message
        await wait_until(lambda: not Inbox(store).pending())  # the failure queue owns the item now
        recorder.failing.clear()  # the cause is fixed
        assert queue.retry(key) == 1
        await wait_until(lambda: queue.get(key) is None)
    assert recorder.count("retry/fr/orders/7") == 1


async def test_scheduled_poll_ticks_and_never_overlaps_itself(kind: str, store: Store) -> None:
    recorder = Recorder(poll_delay_s=0.3)
    executor = make_executor(kind, store, recorder)
    executor.schedule(Job.poll("fr", "orders"), 0.05)
    async with running(executor):
        await wait_until(lambda: recorder.count("poll/fr/orders") >= 3, timeout_s=20)
    spans = sorted((start, end) for identity, _, start, end in recorder.runs if identity == "poll/fr/orders")
    assert all(later[0] >= earlier[1] for earlier, later in zip(spans, spans[1:], strict=False))
    assert recorder.max_per_key == 1


async def test_stop_drains_the_job_in_flight(kind: str, store: Store) -> None:
    recorder = Recorder(delay_s=1.0)
    recorder.started = asyncio.Event()
    executor = make_executor(kind, store, recorder)
    async with running(executor) as stop:
        Inbox(store).receive("prestashop", "fr", "orders", 1, {"id": 1})
        await asyncio.wait_for(recorder.started.wait(), 20)
        stop.set()
    assert recorder.count("inbox/") == 1  # finished, not cancelled
    assert not Inbox(store).pending()


async def test_work_cut_short_is_rebuilt_from_the_store_by_the_next_start(kind: str, store: Store) -> None:
    inbox = Inbox(store)
    for n in range(8):
        inbox.receive("prestashop", "fr", "orders", n, {"id": n})
    slow = Recorder(delay_s=5.0)
    slow.started = asyncio.Event()
    first = make_executor(kind, store, slow, drain_timeout_s=0.2)  # "crash": jobs cut short
    async with running(first):
        await asyncio.wait_for(slow.started.wait(), 20)
    assert slow.count("inbox/") < 8
    fast = Recorder()
    second = make_executor(kind, store, fast)
    async with running(second):
        await wait_until(lambda: not inbox.pending(limit=1), timeout_s=40)
    done = {identity for identity, *_ in slow.runs} | {identity for identity, *_ in fast.runs}
    assert len(done) == 8
