"""What the dashboard shows, read from the store (plain data for the templates).

Contract: every function reads only; nothing returned holds a secret (failure messages come
from the flows and clients, which redact; the configuration is :meth:`Settings.masked`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from dolisync.runtime.jobs import entity_of_webhook_resource
from dolisync.store import Store, utcnow
from dolisync.store.schema import cursors, inbox, reconciliation, run_counts, runs
from dolisync.sync.failures import Failure, FailureQueue
from dolisync.sync.runs import RunRecorder

__all__ = ["EntityRow", "overview", "recent_reconciliation", "running_runs", "sparkline_points", "failures"]

SPARK_RUNS = 20


@dataclass
class EntityRow:
    """One (shop, entity) line of the overview."""

    connection: str
    entity: str
    last_sync: datetime | None = None
    status: str = ""
    lag_s: float | None = None
    backlog: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    throughput: list[int] = field(default_factory=list)
    cursor: datetime | None = None

    @property
    def sparkline(self) -> str:
        return sparkline_points(self.throughput)


def sparkline_points(values: list[int], width: int = 120, height: int = 24) -> str:
    """SVG polyline points for ``values`` (oldest first)."""
    if not values:
        return ""
    top = max(values) or 1
    step = width / max(len(values) - 1, 1)
    return " ".join(f"{i * step:.1f},{height - (v / top) * (height - 2) - 1:.1f}" for i, v in enumerate(values))


def overview(store: Store, now: datetime | None = None) -> list[EntityRow]:
    """Per shop and entity: last sync, lag, backlog, counts and recent throughput."""
    at = now or utcnow()
    rows: dict[tuple[str, str], EntityRow] = {}

    def row(connection: str, entity: str) -> EntityRow:
        return rows.setdefault((connection, entity), EntityRow(connection, entity))

    for item in RunRecorder(store).last_sync():
        entry = row(item.connection, item.entity)
        entry.last_sync = item.finished_at
        entry.status = item.status
        entry.lag_s = (at - item.finished_at).total_seconds()
        entry.counts = {
            "created": item.counts.created, "updated": item.counts.updated, "unchanged": item.counts.unchanged,
            "parked": item.counts.parked, "failed": item.counts.failed,
        }
    with store.read() as conn:
        for connection, resource, count in conn.execute(
            select(inbox.c.connection, inbox.c.resource, func.count())
            .where(inbox.c.processed_at.is_(None))
            .group_by(inbox.c.connection, inbox.c.resource)
        ):
            row(connection, entity_of_webhook_resource(resource)).backlog += int(count)
        for cursor in conn.execute(select(cursors.c.connection, cursors.c.entity, cursors.c.value)):
            row(cursor.connection, cursor.entity).cursor = cursor.value
        recent = (
            select(runs.c.id).where(runs.c.finished_at.is_not(None)).order_by(runs.c.id.desc()).limit(SPARK_RUNS * 10)
        ).subquery()
        series: dict[tuple[str, str], list[tuple[int, int]]] = defaultdict(list)
        for run_id, connection, entity, total in conn.execute(
            select(
                runs.c.id, runs.c.connection, run_counts.c.entity,
                run_counts.c.created + run_counts.c.updated + run_counts.c.unchanged,
            )
            .join(run_counts, run_counts.c.run_id == runs.c.id)
            .where(runs.c.id.in_(select(recent.c.id)))
        ):
            series[(connection, entity)].append((int(run_id), int(total)))
    waiting_failures: dict[tuple[str, str], int] = defaultdict(int)
    for failure in FailureQueue(store).list(limit=10_000):
        waiting_failures[(failure.key.connection, failure.key.entity)] += 1
    for key, count in waiting_failures.items():
        row(*key).backlog += count
    for key, points in series.items():
        row(*key).throughput = [total for _, total in sorted(points)][-SPARK_RUNS:]
    return sorted(rows.values(), key=lambda entry: (entry.connection, entry.entity))


def running_runs(store: Store) -> list[dict[str, Any]]:
    """Runs still marked ``running`` in the store (any process), newest first."""
    with store.read() as conn:
        found = conn.execute(
            select(runs.c.id, runs.c.connection, runs.c.kind, runs.c.started_at)
            .where(runs.c.status == "running")
            .order_by(runs.c.id.desc())
            .limit(50)
        ).all()
    return [dict(row._mapping) for row in found]


def failures(store: Store, limit: int = 200) -> list[Failure]:
    return FailureQueue(store).list(limit=limit)


def recent_reconciliation(store: Store, limit: int = 50) -> list[dict[str, Any]]:
    with store.read() as conn:
        found = conn.execute(select(reconciliation).order_by(reconciliation.c.id.desc()).limit(limit)).all()
    return [dict(row._mapping) for row in found]
