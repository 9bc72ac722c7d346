"""Shared helpers for the executor tests: a recording handler table and PostgreSQL schemas.

Not a test module (no ``test_`` prefix); imported by ``test_executor_*.py`` and
``test_workers_*.py``, and run as a script by the worker subprocesses of the scale-out test.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import psycopg
from sqlalchemy.engine import make_url

from dolisync.runtime.jobs import Job
from dolisync.runtime.work import DONE, HandlerResult, HandlerTable, JobContext

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def pg_url() -> str:
    return os.environ.get("DOLISYNC_TEST_POSTGRES_URL", DEFAULT_PG_URL)


def libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def pg_schema(prefix: str = "rt") -> Iterator[str]:
    """A fresh schema on the test server, dropped afterwards. Fails loudly if unreachable."""
    url = pg_url()
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    try:
        conn = psycopg.connect(libpq(url), autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        raise RuntimeError(
            f"PostgreSQL test server unreachable ({make_url(url).render_as_string(hide_password=True)}): "
            f"start it or set DOLISYNC_TEST_POSTGRES_URL ({type(exc).__name__})"
        ) from None
    with conn:
        conn.execute(f'CREATE SCHEMA "{name}"')
    try:
        yield name
    finally:
        with psycopg.connect(libpq(url), autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


@dataclass
class Recorder:
    """Handlers that record what ran, when, and fail on demand."""

    delay_s: float = 0.0
    poll_delay_s: float = 0.0
    failing: set[str] = field(default_factory=set)
    runs: list[tuple[str, str, float, float]] = field(default_factory=list)  # (identity, key, start, end)
    in_flight: Counter[str] = field(default_factory=Counter)
    max_per_key: int = 0
    started: asyncio.Event | None = None

    async def _do(self, job: Job, delay: float) -> None:
        self.in_flight[job.key] += 1
        self.max_per_key = max(self.max_per_key, self.in_flight[job.key])
        start = time.monotonic()
        if self.started is not None:
            self.started.set()
        try:
            await asyncio.sleep(delay)
            if job.object_id in self.failing:
                raise ValueError(f"object {job.object_id} cannot be mapped: set its tax rate")
        finally:
            self.in_flight[job.key] -= 1
            self.runs.append((job.identity, job.key, start, time.monotonic()))

    async def poll(self, job: Job, ctx: JobContext) -> HandlerResult:
        await self._do(job, self.poll_delay_s)
        return DONE

    async def item(self, job: Job, ctx: JobContext) -> HandlerResult:
        await self._do(job, self.delay_s)
        return DONE

    def table(self) -> HandlerTable:
        return HandlerTable(poll=self.poll, inbox=self.item, retry=self.item)

    def count(self, identity_prefix: str) -> int:
        return sum(1 for identity, *_ in self.runs if identity.startswith(identity_prefix))
