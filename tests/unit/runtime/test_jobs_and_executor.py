"""Unit checks of jobs, the runner's bookkeeping and the asyncio executor's coalescing."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from dolisync.runtime.asyncio_executor import AsyncioExecutor
from dolisync.runtime.jobs import Job
from dolisync.runtime.work import DONE, HANDLED, HandlerResult, HandlerTable, JobContext, JobRunner
from dolisync.store import Store, open_store
from dolisync.store.inbox import Inbox
from dolisync.sync.failures import FailureKey, FailureQueue, ItemError
from dolisync.web.auth import SessionAuth

pytestmark = pytest.mark.anyio


@pytest.fixture
def store(tmp_path: Path) -> Store:
    with open_store(f"sqlite:///{tmp_path}/s.sqlite") as opened:
        yield opened


def test_keys_serialise_an_item_and_identities_tell_work_apart() -> None:
    a, b = Job.inbox(1, "fr", "orders", 42), Job.inbox(2, "fr", "orders", 42)
    assert a.key == b.key == Job.retry("fr", "orders", 42).key == "fr/orders/42"
    assert a.identity != b.identity
    assert Job.poll("fr", "orders").key == "poll/fr/orders" != Job.poll("de", "orders").key
    assert Job.from_dict(a.to_dict()) == a
    with pytest.raises(ValueError):
        Job("inbox", "fr", "orders", "1")  # no event id


async def test_runner_resolves_on_done_keeps_on_handled_and_skips_processed_events(store: Store) -> None:
    calls: list[str] = []

    async def done(job: Job, ctx: JobContext) -> HandlerResult:
        calls.append(job.identity)
        return DONE

    async def handled(job: Job, ctx: JobContext) -> HandlerResult:
        calls.append(job.identity)
        return HANDLED

    queue = FailureQueue(store)
    queue.record(FailureKey("fr", "orders", "1"), ItemError("E", "m"))
    queue.record(FailureKey("fr", "orders", "2"), ItemError("E", "m"))
    runner = JobRunner(JobContext(store), HandlerTable(poll=done, inbox=done, retry=done))
    assert await runner.run(Job.retry("fr", "orders", 1)) == "ok"
    assert queue.get(FailureKey("fr", "orders", "1")) is None
    flows = JobRunner(JobContext(store), HandlerTable(poll=handled, inbox=handled, retry=handled))
    await flows.run(Job.retry("fr", "orders", 2))
    assert queue.get(FailureKey("fr", "orders", "2")) is not None  # the flow owns the outcome
    event, _ = Inbox(store).receive("prestashop", "fr", "orders", 5, {"id": 5})
    job = Job.inbox(event.id, "fr", "orders", 5)
    assert await runner.run(job) == "ok"
    assert await runner.run(job) == "skipped"
    assert calls.count(job.identity) == 1


async def test_asyncio_executor_coalesces_the_same_work_and_queues_other_work_on_a_busy_key(store: Store) -> None:
    release = asyncio.Event()
    seen: list[str] = []

    async def slow(job: Job, ctx: JobContext) -> HandlerResult:
        seen.append(job.identity)
        await release.wait()
        return DONE

    runner = JobRunner(JobContext(store), HandlerTable(poll=slow, inbox=slow, retry=slow))
    executor = AsyncioExecutor(runner, concurrency=4, sweep_s=60)
    stop = asyncio.Event()
    task = asyncio.create_task(executor.run(stop))
    assert await executor.submit(Job.retry("fr", "orders", 1))
    assert not await executor.submit(Job.retry("fr", "orders", 1))  # same work, already waiting/running
    await asyncio.sleep(0.05)
    assert not await executor.submit(Job.retry("fr", "orders", 1))  # running
    event, _ = Inbox(store).receive("prestashop", "fr", "orders", 1, {"id": 1})
    assert await executor.submit(Job.inbox(event.id, "fr", "orders", 1))  # other work, same key: waits
    await asyncio.sleep(0.05)
    assert seen == ["retry/fr/orders/1"] and executor.waiting() == 1
    release.set()
    for _ in range(100):
        if executor.completed == 2:
            break
        await asyncio.sleep(0.02)
    stop.set()
    await task
    assert seen == ["retry/fr/orders/1", f"inbox/{event.id}"]


def test_sessions_and_csrf_tokens_are_bound_to_the_token() -> None:
    from pydantic import SecretStr

    auth = SessionAuth(SecretStr("tok-1"))
    cookie = auth.new_session()
    sid = auth.session_id(cookie)
    assert sid is not None and auth.check_csrf(sid, auth.csrf_token(sid))
    assert SessionAuth(SecretStr("tok-2")).session_id(cookie) is None  # token changed: sessions die
    assert auth.session_id(cookie[:-1] + ("0" if cookie[-1] != "0" else "1")) is None
    assert not auth.check_csrf(sid, None) and not auth.check_csrf(sid, "x")
    assert "tok-1" not in cookie
