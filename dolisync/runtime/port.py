"""The executor port: the three things the service asks of an executor.

* ``submit(job)``: run this job as soon as possible. Returns False when the same work
  (:attr:`~dolisync.runtime.jobs.Job.identity`) is already queued or running (coalesced).
* ``schedule(job, every_s)``: submit ``job`` every ``every_s`` seconds while running (a
  tick that finds the previous one still queued or running is dropped: one poll per cursor at
  a time). Call before :meth:`run`.
* ``run(stop)``: do the work until ``stop`` is set, then drain: no new job starts, jobs in
  flight finish (within the executor's drain timeout), and what was not started stays in the
  store (inbox events, due failures, cursors) for the next start.

Both implementations rebuild their work from the store when they start and at every sweep
(:func:`dolisync.runtime.recovery.pending_work`), so a crash loses nothing.
"""

from __future__ import annotations

import asyncio
from typing import Protocol, runtime_checkable

from dolisync.runtime.jobs import Job

__all__ = ["Executor"]


@runtime_checkable
class Executor(Protocol):
    """See module docstring."""

    async def submit(self, job: Job) -> bool: ...

    def schedule(self, job: Job, every_s: float) -> None: ...

    async def run(self, stop: asyncio.Event) -> None: ...
