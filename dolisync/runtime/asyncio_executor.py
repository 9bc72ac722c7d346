"""The in-process executor (default): asyncio tasks over one event loop.

Contract (beyond :mod:`dolisync.runtime.port`):

* ``concurrency`` workers take jobs in submission order. Jobs with the same
  :attr:`~dolisync.runtime.jobs.Job.key` never run at once: a job whose key is busy waits in
  that key's line and runs when the key is free. A submission whose
  :attr:`~dolisync.runtime.jobs.Job.identity` is already waiting or running is dropped.
  Per-remote request concurrency and rate are the clients' business, not the executor's.
* Every ``sweep_s`` (and at start) the executor submits :func:`pending_work` from the store:
  inbox events not processed yet and failures that are due. Work therefore survives a crash:
  it is in the store, not in this process's memory.
* With ``inbox_retention`` set, processed inbox events older than it are purged at start and
  every ``purge_every_s`` (:func:`~dolisync.runtime.housekeeping.purge_loop`).
* ``run(stop)`` returns after ``stop`` is set and the jobs in flight finished, or after
  ``drain_timeout_s`` (then the unfinished ones are cancelled; their inbox events and
  failures are still in the store).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta

from dolisync.logs import get_logger
from dolisync.runtime.housekeeping import DEFAULT_PURGE_EVERY_S, purge_loop
from dolisync.runtime.jobs import Job
from dolisync.runtime.recovery import pending_work
from dolisync.runtime.work import JobRunner

__all__ = ["AsyncioExecutor"]

log = get_logger("dolisync.runtime.asyncio")


class AsyncioExecutor:
    """See module docstring."""

    def __init__(
        self,
        runner: JobRunner,
        *,
        concurrency: int = 4,
        sweep_s: float = 5.0,
        drain_timeout_s: float = 30.0,
        clock: Callable[[], datetime] | None = None,
        inbox_retention: timedelta | None = None,
        purge_every_s: float = DEFAULT_PURGE_EVERY_S,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be >= 1")
        self.runner = runner
        self.concurrency = concurrency
        self.sweep_s = sweep_s
        self.drain_timeout_s = drain_timeout_s
        self._clock = clock
        self.inbox_retention = inbox_retention
        self.purge_every_s = purge_every_s
        self._schedules: list[tuple[Job, float]] = []
        self._lines: dict[str, deque[Job]] = {}
        self._known: set[str] = set()  # identities waiting or running
        self._running_keys: set[str] = set()
        self._ready: asyncio.Queue[str] | None = None
        self._accepting = True
        self.completed = 0

    # --- port ---------------------------------------------------------------------------

    async def submit(self, job: Job) -> bool:
        if not self._accepting:
            return False
        if job.identity in self._known:
            return False
        self._known.add(job.identity)
        line = self._lines.setdefault(job.key, deque())
        line.append(job)
        if len(line) == 1 and job.key not in self._running_keys:
            self._queue().put_nowait(job.key)
        return True

    def schedule(self, job: Job, every_s: float) -> None:
        if every_s <= 0:
            raise ValueError("every_s must be > 0")
        self._schedules.append((job, every_s))

    async def run(self, stop: asyncio.Event) -> None:
        self._accepting = True
        queue = self._queue()
        workers = [asyncio.create_task(self._worker(queue), name=f"dolisync-worker-{n}") for n in range(self.concurrency)]
        helpers = [asyncio.create_task(self._tick(job, every_s)) for job, every_s in self._schedules]
        helpers.append(asyncio.create_task(self._sweep()))
        if self.inbox_retention is not None:
            helpers.append(asyncio.create_task(purge_loop(self.runner.context.store, self.inbox_retention,
                                                          every_s=self.purge_every_s, clock=self._clock)))
        try:
            await stop.wait()
        finally:
            self._accepting = False
            for task in helpers:
                task.cancel()
            await asyncio.gather(*helpers, return_exceptions=True)
            for _ in workers:
                queue.put_nowait("")  # one wake-up per worker: finish the current job, then stop
            done, pending = await asyncio.wait(workers, timeout=self.drain_timeout_s)
            for task in pending:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            if pending:
                log.warning("drain timeout: jobs cancelled, their work stays in the store", cancelled=len(pending))

    # --- introspection ------------------------------------------------------------------

    def waiting(self) -> int:
        """Jobs submitted and not started."""
        return sum(len(line) for line in self._lines.values())

    def running_count(self) -> int:
        return len(self._running_keys)

    # --- internals ----------------------------------------------------------------------

    def _queue(self) -> asyncio.Queue[str]:
        if self._ready is None:
            self._ready = asyncio.Queue()
        return self._ready

    async def _worker(self, queue: asyncio.Queue[str]) -> None:
        while True:
            key = await queue.get()
            if key == "" or not self._accepting:
                return
            line = self._lines.get(key)
            if not line or key in self._running_keys:
                continue
            job = line.popleft()
            self._running_keys.add(key)
            try:
                await self.runner.run(job)
            finally:
                self._running_keys.discard(key)
                self._known.discard(job.identity)
                self.completed += 1
                if line:
                    queue.put_nowait(key)
                else:
                    self._lines.pop(key, None)

    async def _tick(self, job: Job, every_s: float) -> None:
        while True:
            await self.submit(job)
            await asyncio.sleep(every_s)

    async def _sweep(self) -> None:
        while True:
            try:
                now = self._clock() if self._clock is not None else None
                for job in await asyncio.to_thread(pending_work, self.runner.context.store, now=now):
                    await self.submit(job)
            except Exception as exc:  # the store may be briefly unavailable; try next time
                log.warning("sweep failed", error_class=type(exc).__name__, error=str(exc))
            await asyncio.sleep(self.sweep_s)
