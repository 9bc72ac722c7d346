"""Run records: what each sync run did, for ``dolisync status`` and the dashboard.

Contract:

* :meth:`RunRecorder.start` inserts a ``running`` run and returns a :class:`Run` handle.
* :meth:`Run.count` and :meth:`Run.add_requests` only add to in-memory counters
  (thread-safe); :meth:`Run.flush` adds them to the stored totals atomically (an upsert
  that *adds*, so several workers may flush into one run), and :meth:`Run.finish` flushes
  and closes the run. As a context manager a run finishes ``failed`` (with the exception's
  class and message) when the block raises, and otherwise with the status derived from
  its counts: ``partial`` if anything failed or was parked, else ``ok``.
* :meth:`RunRecorder.recent` lists runs newest first; :meth:`RunRecorder.last_sync` gives,
  per ``(connection, entity)``, the newest finished run that touched it.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Any, Literal

from sqlalchemy import Connection, func, select, update

from dolisync.store import Store, utcnow
from dolisync.store.schema import run_counts, runs

__all__ = ["OUTCOMES", "EntityCounts", "EntitySync", "Outcome", "Run", "RunRecorder", "RunSummary"]

Outcome = Literal["created", "updated", "unchanged", "parked", "failed"]
OUTCOMES: tuple[Outcome, ...] = ("created", "updated", "unchanged", "parked", "failed")
STATUSES = ("running", "ok", "partial", "failed", "cancelled")


@dataclass(frozen=True, slots=True)
class EntityCounts:
    """Outcome counts of one entity in one run."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    parked: int = 0
    failed: int = 0

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged + self.parked + self.failed


@dataclass(frozen=True, slots=True)
class RunSummary:
    """A stored run."""

    id: int
    connection: str
    kind: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    counts: Mapping[str, EntityCounts]
    requests: Mapping[str, int]
    error: str | None

    @property
    def duration_s(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


@dataclass(frozen=True, slots=True)
class EntitySync:
    """The last finished run that touched one ``(connection, entity)``."""

    connection: str
    entity: str
    run_id: int
    status: str
    finished_at: datetime
    counts: EntityCounts


@dataclass
class _Pending:
    counts: dict[str, Counter[str]] = field(default_factory=dict)
    requests: Counter[str] = field(default_factory=Counter)

    def empty(self) -> bool:
        return not self.counts and not self.requests


class Run:
    """A run being recorded (see module docstring). Made by :meth:`RunRecorder.start`."""

    def __init__(self, store: Store, run_id: int, connection: str, kind: str) -> None:
        self.store = store
        self.id = run_id
        self.connection = connection
        self.kind = kind
        self._lock = threading.Lock()
        self._pending = _Pending()
        self._totals: dict[str, Counter[str]] = {}
        self.finished = False

    def count(self, entity: str, outcome: Outcome, n: int = 1) -> None:
        """Add ``n`` items of ``entity`` with ``outcome``."""
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {outcome!r} (one of {', '.join(OUTCOMES)})")
        if n < 0:
            raise ValueError("n must not be negative")
        with self._lock:
            self._pending.counts.setdefault(entity, Counter())[outcome] += n
            self._totals.setdefault(entity, Counter())[outcome] += n

    def add_requests(self, remote: str, n: int = 1) -> None:
        """Add ``n`` HTTP requests made to ``remote`` (e.g. ``"prestashop"``, ``"dolibarr"``)."""
        with self._lock:
            self._pending.requests[remote] += n

    def flush(self) -> None:
        """Add the counters gathered since the last flush to the stored run, atomically."""
        with self._lock:
            pending, self._pending = self._pending, _Pending()
        if pending.empty():
            return
        try:
            with self.store.transaction() as conn:
                self._write(conn, pending)
        except BaseException:
            with self._lock:  # keep the numbers for the next flush
                for entity, counter in pending.counts.items():
                    self._pending.counts.setdefault(entity, Counter()).update(counter)
                self._pending.requests.update(pending.requests)
            raise

    def finish(self, status: str | None = None, error: str | None = None) -> RunSummary:
        """Flush and close the run with ``status`` (default: ``partial`` or ``ok``)."""
        if status is None:
            status = "partial" if self._has_problems() else "ok"
        if status not in STATUSES or status == "running":
            raise ValueError(f"invalid final status {status!r}")
        self.flush()
        with self.store.transaction() as conn:
            conn.execute(
                update(runs)
                .where(runs.c.id == self.id)
                .values(
                    status=status,
                    finished_at=utcnow(),
                    error=None if error is None else error[:4000],
                )
            )
        self.finished = True
        summary = RunRecorder(self.store).get(self.id)
        assert summary is not None
        return summary

    def _has_problems(self) -> bool:
        with self._lock:
            return any(c["failed"] or c["parked"] for c in self._totals.values())

    def _write(self, conn: Connection, pending: _Pending) -> None:
        for entity, counter in pending.counts.items():
            values = {outcome: int(counter.get(outcome, 0)) for outcome in OUTCOMES}
            insert = self.store.insert(run_counts).values(run_id=self.id, entity=entity, **values)
            conn.execute(
                insert.on_conflict_do_update(
                    index_elements=[run_counts.c.run_id, run_counts.c.entity],
                    set_={
                        o: getattr(run_counts.c, o) + getattr(insert.excluded, o) for o in OUTCOMES
                    },
                )
            )
        if pending.requests:
            current = conn.execute(
                select(runs.c.requests).where(runs.c.id == self.id).with_for_update()
            ).scalar_one()
            merged = Counter({str(k): int(v) for k, v in (current or {}).items()})
            merged.update(pending.requests)
            conn.execute(update(runs).where(runs.c.id == self.id).values(requests=dict(merged)))

    def __enter__(self) -> Run:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.finished:
            return
        if exc is None:
            self.finish()
        else:
            self.finish("failed", f"{type(exc).__name__}: {exc}")


class RunRecorder:
    """Starts runs and answers questions about past ones (see module docstring)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def start(self, connection: str, kind: str) -> Run:
        """Insert a new ``running`` run of ``kind`` (``"sync"``, ``"retry"``, ``"demo"``...)."""
        with self.store.transaction() as conn:
            run_id = conn.execute(
                runs.insert()
                .values(
                    connection=connection,
                    kind=kind,
                    started_at=utcnow(),
                    status="running",
                    requests={},
                )
                .returning(runs.c.id)
            ).scalar_one()
        return Run(self.store, int(run_id), connection, kind)

    def get(self, run_id: int) -> RunSummary | None:
        """One run, with its counts."""
        found = self._summaries(select(runs).where(runs.c.id == run_id))
        return found[0] if found else None

    def recent(self, limit: int = 20, *, connection: str | None = None) -> list[RunSummary]:
        """The newest ``limit`` runs, newest first."""
        query = select(runs)
        if connection is not None:
            query = query.where(runs.c.connection == connection)
        return self._summaries(query.order_by(runs.c.id.desc()).limit(limit))

    def last_sync(self, *, connection: str | None = None) -> list[EntitySync]:
        """Per ``(connection, entity)``, the newest finished run that counted it."""
        latest = (
            select(runs.c.connection, run_counts.c.entity, func.max(runs.c.id).label("run_id"))
            .join(run_counts, run_counts.c.run_id == runs.c.id)
            .where(runs.c.finished_at.is_not(None))
            .group_by(runs.c.connection, run_counts.c.entity)
        )
        if connection is not None:
            latest = latest.where(runs.c.connection == connection)
        newest = latest.subquery()
        query = (
            select(runs.c.id, runs.c.connection, runs.c.status, runs.c.finished_at, run_counts)
            .join(newest, runs.c.id == newest.c.run_id)
            .join(
                run_counts,
                (run_counts.c.run_id == runs.c.id) & (run_counts.c.entity == newest.c.entity),
            )
            .order_by(runs.c.connection, run_counts.c.entity)
        )
        with self.store.read() as conn:
            return [
                EntitySync(
                    connection=row.connection,
                    entity=row.entity,
                    run_id=int(row.id),
                    status=row.status,
                    finished_at=row.finished_at,
                    counts=EntityCounts(**{o: int(getattr(row, o)) for o in OUTCOMES}),
                )
                for row in conn.execute(query)
            ]

    def _summaries(self, query: Any) -> list[RunSummary]:
        with self.store.read() as conn:
            rows = conn.execute(query).all()
            ids = [int(row.id) for row in rows]
            counts: dict[int, dict[str, EntityCounts]] = {i: {} for i in ids}
            if ids:
                for row in conn.execute(select(run_counts).where(run_counts.c.run_id.in_(ids))):
                    counts[int(row.run_id)][row.entity] = EntityCounts(
                        **{o: int(getattr(row, o)) for o in OUTCOMES}
                    )
        return [
            RunSummary(
                id=int(row.id),
                connection=row.connection,
                kind=row.kind,
                status=row.status,
                started_at=row.started_at,
                finished_at=row.finished_at,
                counts=dict(sorted(counts[int(row.id)].items())),
                requests={str(k): int(v) for k, v in (row.requests or {}).items()},
                error=row.error,
            )
            for row in rows
        ]
