"""Running one job: the handler table, and the bookkeeping every executor shares.

Contract of :meth:`JobRunner.run` (both executors call it for every job they run):

* ``inbox`` jobs whose event is already processed are skipped (a redelivery, or a job queued
  twice after a crash); after the handler ran the event is marked processed, whatever the
  outcome: a failure is then owned by the failure queue, which is durable too.
* The handler is looked up in the :class:`HandlerTable` by job kind. It returns
  :data:`DONE` when the item is synced (the runner then removes the item from the failure
  queue) or :data:`HANDLED` when the flow it called already recorded the item's outcome
  (flows park and resolve items themselves).
* A handler that raises fails the job: for ``inbox``/``retry`` jobs the item is recorded in
  the failure queue (error class, message, hint, field; exponential backoff; parked after the
  configured attempts); a failed ``poll`` is logged and counted, and the next tick polls
  again from the same cursor. Exceptions never escape :meth:`JobRunner.run` (except
  cancellation), so an executor never loses its worker to a bad item.
* Store calls run in a worker thread (the store API is synchronous).
"""

from __future__ import annotations

import asyncio
import enum
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from dolisync.logs import get_logger
from dolisync.runtime.jobs import Job
from dolisync.runtime.metrics import RuntimeMetrics
from dolisync.store import Store, utcnow
from dolisync.store.inbox import Inbox
from dolisync.store.schema import inbox as inbox_table
from dolisync.sync.failures import FailureKey, FailureQueue

__all__ = [
    "DONE",
    "HANDLED",
    "Handler",
    "HandlerResult",
    "HandlerTable",
    "JobContext",
    "JobRunner",
    "ProgressBoard",
    "RunningJob",
]

log = get_logger("dolisync.runtime")


class HandlerResult(enum.Enum):
    """What a handler reports back (see module docstring)."""

    DONE = "done"
    HANDLED = "handled"


DONE = HandlerResult.DONE
HANDLED = HandlerResult.HANDLED


@dataclass
class RunningJob:
    """Live progress of one job in this process (for the dashboard)."""

    job: Job
    started_at: datetime
    started_monotonic: float
    done: int = 0
    total: int | None = None
    message: str = ""

    @property
    def elapsed_s(self) -> float:
        return time.monotonic() - self.started_monotonic


class ProgressBoard:
    """The jobs running in this process and their progress (handlers call :meth:`update`)."""

    def __init__(self) -> None:
        self._running: dict[str, RunningJob] = {}

    def start(self, job: Job) -> RunningJob:
        entry = RunningJob(job, utcnow(), time.monotonic())
        self._running[job.identity] = entry
        return entry

    def update(self, job: Job, *, done: int | None = None, total: int | None = None, message: str | None = None) -> None:
        entry = self._running.get(job.identity)
        if entry is None:
            return
        if done is not None:
            entry.done = done
        if total is not None:
            entry.total = total
        if message is not None:
            entry.message = message

    def finish(self, job: Job) -> None:
        self._running.pop(job.identity, None)

    def running(self) -> list[RunningJob]:
        return sorted(self._running.values(), key=lambda entry: entry.started_monotonic)


@dataclass
class JobContext:
    """What a handler may use: the store, the settings (None in tests) and the progress board."""

    store: Store
    settings: Any = None
    progress: ProgressBoard = field(default_factory=ProgressBoard)
    extras: dict[str, Any] = field(default_factory=dict)


Handler = Callable[[Job, JobContext], Awaitable[HandlerResult | None]]


@dataclass(frozen=True)
class HandlerTable:
    """One handler per job kind. Pluggable: the service builds one over the sync flows
    (:func:`dolisync.runtime.flow_handlers.flow_handlers`), tests pass their own."""

    poll: Handler
    inbox: Handler
    retry: Handler

    def for_kind(self, kind: str) -> Handler:
        handler: Handler = getattr(self, kind)
        return handler


class JobRunner:
    """Runs one job with the shared bookkeeping (see module docstring)."""

    def __init__(
        self,
        context: JobContext,
        handlers: HandlerTable,
        *,
        failures: FailureQueue | None = None,
        metrics: RuntimeMetrics | None = None,
    ) -> None:
        self.context = context
        self.handlers = handlers
        self.failures = failures or FailureQueue(context.store)
        self.inbox = Inbox(context.store)
        self.metrics = metrics

    @property
    def progress(self) -> ProgressBoard:
        return self.context.progress

    async def run(self, job: Job) -> str:
        """Run ``job``; return its outcome: ``ok``, ``failed`` or ``skipped``."""
        if job.kind == "inbox" and await asyncio.to_thread(self._event_processed, job):
            self._count(job, "skipped", 0.0)
            return "skipped"
        started = time.monotonic()
        self.progress.start(job)
        outcome = "ok"
        try:
            result = await self.handlers.for_kind(job.kind)(job, self.context)
            if result is DONE and job.kind in ("inbox", "retry"):
                await asyncio.to_thread(self.failures.resolve, self._item_key(job))
        except asyncio.CancelledError:
            self.progress.finish(job)
            raise
        except Exception as exc:  # one bad item must not stop the executor
            outcome = "failed"
            await self._record_failure(job, exc)
        finally:
            self.progress.finish(job)
        if job.kind == "inbox" and job.event_id is not None:
            await asyncio.to_thread(self.inbox.mark_processed, [job.event_id])
        self._count(job, outcome, time.monotonic() - started)
        return outcome

    async def _record_failure(self, job: Job, exc: Exception) -> None:
        if job.kind == "poll":
            log.warning("poll failed", job=job.identity, error_class=type(exc).__name__, error=str(exc))
            return
        failure = await asyncio.to_thread(self.failures.record, self._item_key(job), exc)
        log.warning(
            "item failed",
            job=job.identity,
            error_class=failure.error.error_class,
            error=failure.error.message,
            attempts=failure.attempts,
            parked=failure.parked,
        )

    def _count(self, job: Job, outcome: str, seconds: float) -> None:
        if self.metrics is not None:
            self.metrics.job_finished(job.kind, job.connection, outcome, seconds)

    @staticmethod
    def _item_key(job: Job) -> FailureKey:
        assert job.object_id is not None
        return FailureKey(job.connection, job.entity, job.object_id)

    def _event_processed(self, job: Job) -> bool:
        with self.context.store.read() as conn:
            row = conn.execute(
                select(inbox_table.c.processed_at).where(inbox_table.c.id == job.event_id)
            ).first()
        return row is None or row.processed_at is not None
