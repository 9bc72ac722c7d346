"""The scale-out executor: procrastinate jobs in the PostgreSQL database of the state store.

Contract (beyond :mod:`dolisync.runtime.port`):

* Every dolisync job is one procrastinate job of the task ``dolisync.job`` with
  ``lock = job.key`` (procrastinate never runs two jobs with one lock at once, across every
  worker process and machine) and ``queueing_lock = job.identity`` (a second submission of
  the same work while the first is still queued is refused: ``submit`` returns False).
* Any number of processes may run :meth:`ProcrastinateExecutor.run` on the same database
  (``dolisync worker``). One of them at a time is the *leader* (it holds a PostgreSQL
  advisory lock on a connection of its own; if it dies the lock is released and another
  process takes over within ``leader_retry_s``). The leader alone ticks the schedules,
  sweeps the store for pending work (:func:`~dolisync.runtime.recovery.pending_work`), purges
  processed inbox events older than ``inbox_retention`` (when set; every ``purge_every_s``) and
  recovers *stalled* jobs: jobs left ``doing`` by a worker whose heartbeat stopped (a
  SIGKILLed process) are put back in the queue and run again by a live worker.
* ``run(stop)``: when ``stop`` is set the worker stops fetching, waits up to
  ``drain_timeout_s`` for its jobs in flight, and returns.
* The inbox, not the procrastinate queue, holds a backlog: the sweep keeps at most
  ``window`` jobs waiting or running and refills the window from the store (procrastinate's
  lock check makes fetching a job cost grow with the number of queued jobs).
* The procrastinate schema is created on first use (under an advisory lock, so several
  workers starting together create it once), in the store's schema when the store has one.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import psycopg
import procrastinate
from procrastinate import exceptions as pc_exceptions
from procrastinate import jobs as pc_jobs
from procrastinate.schema import SchemaManager
from sqlalchemy.engine import make_url

from dolisync.logs import get_logger
from dolisync.runtime.housekeeping import DEFAULT_PURGE_EVERY_S, purge_loop
from dolisync.runtime.jobs import Job
from dolisync.runtime.recovery import pending_work
from dolisync.runtime.work import JobRunner

__all__ = ["TASK_NAME", "ProcrastinateExecutor", "libpq_conninfo"]

log = get_logger("dolisync.runtime.procrastinate")

TASK_NAME = "dolisync.job"
_SCHEMA_LOCK = 0x646F6C6953  # "doliS"
_LEADER_LOCK = 0x646F6C694C  # "doliL"
CONNECT_TIMEOUT_S = 10


def libpq_conninfo(url: str) -> str:
    """The libpq URL of a SQLAlchemy ``postgresql+psycopg://`` URL (password kept: never log it)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise ValueError("the procrastinate executor needs a PostgreSQL state store ([state] url = postgresql+psycopg://...)")
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


class ProcrastinateExecutor:
    """See module docstring."""

    def __init__(
        self,
        runner: JobRunner,
        url: str,
        *,
        schema: str | None = None,
        concurrency: int = 4,
        sweep_s: float = 5.0,
        drain_timeout_s: float = 30.0,
        heartbeat_s: float = 5.0,
        stalled_after_s: float = 20.0,
        leader_retry_s: float = 2.0,
        fetch_poll_s: float = 1.0,
        window: int = 200,
        name: str | None = None,
        inbox_retention: timedelta | None = None,
        purge_every_s: float = DEFAULT_PURGE_EVERY_S,
    ) -> None:
        self.runner = runner
        self.conninfo = libpq_conninfo(url)
        self.schema = schema
        self.concurrency = concurrency
        self.sweep_s = sweep_s
        self.drain_timeout_s = drain_timeout_s
        self.heartbeat_s = heartbeat_s
        self.stalled_after_s = stalled_after_s
        self.leader_retry_s = leader_retry_s
        self.fetch_poll_s = fetch_poll_s
        self.window = window
        self.inbox_retention = inbox_retention
        self.purge_every_s = purge_every_s
        self.name = name or f"{socket.gethostname()}-{os.getpid()}"
        self._schedules: list[tuple[Job, float]] = []
        self._app: procrastinate.App | None = None
        self.is_leader = False
        self.recovered_stalled = 0

    # --- lifecycle ----------------------------------------------------------------------

    def _connect_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"connect_timeout": CONNECT_TIMEOUT_S}
        if self.schema:
            kwargs["options"] = f"-c search_path={self.schema}"
        return kwargs

    def _build_app(self) -> procrastinate.App:
        connector = procrastinate.PsycopgConnector(
            conninfo=self.conninfo, kwargs=self._connect_kwargs(), min_size=1, max_size=max(4, self.concurrency + 2),
            timeout=30,
        )
        app = procrastinate.App(connector=connector)
        runner = self.runner

        @app.task(name=TASK_NAME)
        async def _run(job: dict[str, Any]) -> None:
            await runner.run(Job.from_dict(job))

        return app

    async def open(self) -> None:
        """Create the procrastinate schema if needed and open the connection pool."""
        if self._app is not None:
            return
        await self._ensure_schema()
        app = self._build_app()
        await app.open_async()
        self._app = app

    async def close(self) -> None:
        if self._app is not None:
            await self._app.close_async()
            self._app = None

    async def __aenter__(self) -> ProcrastinateExecutor:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @contextlib.asynccontextmanager
    async def _connection(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        conn = await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True, **self._connect_kwargs())
        try:
            yield conn
        finally:
            await conn.close()

    async def _ensure_schema(self) -> None:
        async with self._connection() as conn:
            await conn.execute("SELECT pg_advisory_lock(%s)", (_SCHEMA_LOCK,))
            try:
                row = await (await conn.execute("SELECT to_regclass('procrastinate_jobs')")).fetchone()
                if row is None or row[0] is None:
                    schema_sql = SchemaManager.get_schema()
                    await conn.execute(schema_sql)  # type: ignore[arg-type]
                    log.info("procrastinate schema created")
            finally:
                await conn.execute("SELECT pg_advisory_unlock(%s)", (_SCHEMA_LOCK,))

    @property
    def app(self) -> procrastinate.App:
        if self._app is None:
            raise RuntimeError("executor is not open (use `async with` or call open())")
        return self._app

    # --- port ---------------------------------------------------------------------------

    async def submit(self, job: Job) -> bool:
        deferrer = self.app.configure_task(TASK_NAME, lock=job.key, queueing_lock=job.identity)
        try:
            await deferrer.defer_async(job=job.to_dict())
        except pc_exceptions.AlreadyEnqueued:
            return False
        return True

    async def submit_many(self, jobs: list[Job], *, batch: int = 200) -> int:
        """Submit several jobs with one query per ``batch``; return how many were queued.

        A batch that meets an already-queued identity is retried job by job."""
        queued = 0
        for start in range(0, len(jobs), batch):
            chunk = jobs[start : start + batch]
            deferred = [
                self.app.configure_task(TASK_NAME, lock=job.key, queueing_lock=job.identity).make_new_job(
                    job=job.to_dict()
                )
                for job in chunk
            ]
            try:
                await self.app.job_manager.batch_defer_jobs_async(deferred)
                queued += len(chunk)
            except pc_exceptions.AlreadyEnqueued:
                for job in chunk:
                    queued += int(await self.submit(job))
        return queued

    def schedule(self, job: Job, every_s: float) -> None:
        if every_s <= 0:
            raise ValueError("every_s must be > 0")
        self._schedules.append((job, every_s))

    async def run(self, stop: asyncio.Event) -> None:
        await self.open()
        worker = asyncio.create_task(
            self.app.run_worker_async(
                concurrency=self.concurrency,
                name=self.name,
                wait=True,
                install_signal_handlers=False,
                update_heartbeat_interval=self.heartbeat_s,
                stalled_worker_timeout=self.stalled_after_s,
                fetch_job_polling_interval=self.fetch_poll_s,
                shutdown_graceful_timeout=self.drain_timeout_s,
                delete_jobs="successful",
            ),
            name="dolisync-procrastinate-worker",
        )
        leader = asyncio.create_task(self._lead(stop), name="dolisync-leader")
        try:
            stopper = asyncio.create_task(stop.wait())
            await asyncio.wait({stopper, worker}, return_when=asyncio.FIRST_COMPLETED)
            stopper.cancel()
        finally:
            leader.cancel()
            await asyncio.gather(leader, return_exceptions=True)
            if not worker.done():
                worker.cancel()  # procrastinate: graceful stop, waits for jobs in flight
            results = await asyncio.gather(worker, return_exceptions=True)
            for result in results:
                if isinstance(result, Exception):
                    log.warning("worker stopped with an error", error_class=type(result).__name__, error=str(result))

    # --- leader duties ------------------------------------------------------------------

    async def _lead(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                async with self._connection() as conn:
                    row = await (await conn.execute("SELECT pg_try_advisory_lock(%s)", (_LEADER_LOCK,))).fetchone()
                    if row is not None and row[0]:
                        self.is_leader = True
                        log.info("leader: scheduling polls, sweeping the store, recovering stalled jobs")
                        try:
                            await self._leader_duties(conn)
                        finally:
                            self.is_leader = False
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("leader loop error", error_class=type(exc).__name__, error=str(exc))
            await asyncio.sleep(self.leader_retry_s)

    async def _leader_duties(self, conn: psycopg.AsyncConnection[Any]) -> None:
        tasks = [asyncio.create_task(self._tick(job, every_s)) for job, every_s in self._schedules]
        tasks.append(asyncio.create_task(self._sweep()))
        tasks.append(asyncio.create_task(self._recover_stalled()))
        if self.inbox_retention is not None:
            tasks.append(asyncio.create_task(purge_loop(self.runner.context.store, self.inbox_retention,
                                                        every_s=self.purge_every_s)))
        try:
            while True:  # keep the lock's connection alive; a lost connection ends the leadership
                await asyncio.sleep(self.leader_retry_s)
                await conn.execute("SELECT 1")
                for task in tasks:
                    if task.done() and task.exception() is not None:
                        raise task.exception()  # type: ignore[misc]
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _tick(self, job: Job, every_s: float) -> None:
        while True:
            try:
                await self.submit(job)
            except Exception as exc:
                log.warning("schedule tick failed", job=job.identity, error_class=type(exc).__name__)
            await asyncio.sleep(every_s)

    async def _sweep(self) -> None:
        while True:
            try:
                queued = await self._queued_identities()
                room = self.window - len(queued)
                if room > 0:
                    work = await asyncio.to_thread(pending_work, self.runner.context.store, limit=self.window * 2)
                    await self.submit_many([job for job in work if job.identity not in queued][:room])
            except Exception as exc:
                log.warning("sweep failed", error_class=type(exc).__name__, error=str(exc))
            await asyncio.sleep(self.sweep_s)

    async def _queued_identities(self) -> set[str]:
        """Queueing locks of the jobs waiting or running (the sweep skips their work)."""
        async with self._connection() as conn:
            cursor = await conn.execute(
                "SELECT queueing_lock FROM procrastinate_jobs WHERE status IN ('todo', 'doing') "
                "AND queueing_lock IS NOT NULL"
            )
            return {str(row[0]) for row in await cursor.fetchall()}

    async def _recover_stalled(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_s)
            try:
                stalled = await self.app.job_manager.get_stalled_jobs(seconds_since_heartbeat=self.stalled_after_s)
                for job in stalled:
                    await self._requeue(job)
            except Exception as exc:
                log.warning("stalled-job recovery failed", error_class=type(exc).__name__, error=str(exc))

    async def _requeue(self, job: Any) -> None:
        """Put a stalled job back in the queue; if the same work was queued again meanwhile
        (its queueing lock is taken), close the stalled copy: the queued one does the work."""
        try:
            await self.app.job_manager.retry_job(job)
            self.recovered_stalled += 1
            log.warning("stalled job put back in the queue", job_id=job.id, lock=job.lock)
        except pc_exceptions.UniqueViolation:
            await self.app.job_manager.finish_job(job, status=pc_jobs.Status.FAILED, delete_job=True)
            self.recovered_stalled += 1
            log.warning("stalled job dropped: the same work is queued again", job_id=job.id, lock=job.lock)
