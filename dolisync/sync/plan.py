"""What a catalog sync did, or would do: per-entity counts, planned writes, request counts.

Contract:

* :class:`EntityCounts` holds the five outcomes the CLI shows (created / updated / unchanged /
  parked / failed) plus ``not_mappable`` (items the target cannot represent, e.g. per-customer
  prices) and ``warnings`` (an item synced with a problem, e.g. an invalid barcode not sent).
* :class:`Plan` collects every write a ``--dry-run`` would have sent (remote, method, path,
  entity, source id, a short summary) instead of sending it. In a real run it stays empty.
* :class:`SyncSummary` is the one result of :func:`dolisync.sync.engine.sync_catalog`;
  :meth:`SyncSummary.to_dict` is the JSON document ``dolisync sync --json`` prints. Messages
  in it never contain keys (they come from mapping errors and classified remote errors).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

__all__ = ["EntityCounts", "PlannedWrite", "Plan", "RequestCounter", "SyncSummary", "ParkedItem"]

OUTCOMES = ("created", "updated", "unchanged", "parked", "failed", "not_mappable")


@dataclass(slots=True)
class EntityCounts:
    """Outcome counters of one entity."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    parked: int = 0
    failed: int = 0
    not_mappable: int = 0
    warnings: int = 0

    def add(self, outcome: str, count: int = 1) -> None:
        """Increment ``outcome`` (one of :data:`OUTCOMES` or ``"warnings"``)."""
        setattr(self, outcome, getattr(self, outcome) + count)

    @property
    def total(self) -> int:
        """Items looked at (warnings are not items)."""
        return sum(getattr(self, name) for name in OUTCOMES)

    def to_dict(self) -> dict[str, int]:
        """Plain dict for JSON."""
        return {name: getattr(self, name) for name in (*OUTCOMES, "warnings")}


@dataclass(frozen=True, slots=True)
class PlannedWrite:
    """One write a dry run did not send."""

    remote: str
    method: str
    path: str
    entity: str
    source_id: str
    summary: str

    def to_dict(self) -> dict[str, str]:
        """Plain dict for JSON."""
        return {"remote": self.remote, "method": self.method, "path": self.path, "entity": self.entity,
                "source_id": self.source_id, "summary": self.summary}


@dataclass(slots=True)
class Plan:
    """Writes a dry run would have made, in order."""

    writes: list[PlannedWrite] = field(default_factory=list)

    def add(self, write: PlannedWrite) -> None:
        """Record one write."""
        self.writes.append(write)

    def by_entity(self) -> dict[str, int]:
        """Number of planned writes per entity."""
        return dict(Counter(write.entity for write in self.writes))


@dataclass(slots=True)
class RequestCounter:
    """Requests sent to one remote, split into reads (GET) and writes (everything else)."""

    reads: int = 0
    writes: int = 0

    def to_dict(self) -> dict[str, int]:
        """Plain dict for JSON."""
        return {"reads": self.reads, "writes": self.writes}


@dataclass(frozen=True, slots=True)
class ParkedItem:
    """An item set aside with the reason and what to fix."""

    entity: str
    source_id: str
    error_class: str
    message: str

    def to_dict(self) -> dict[str, str]:
        """Plain dict for JSON."""
        return {"entity": self.entity, "source_id": self.source_id, "error_class": self.error_class,
                "message": self.message}


@dataclass(slots=True)
class SyncSummary:
    """Result of one catalog sync of one shop (see module docstring)."""

    shop: str
    dry_run: bool = False
    entities: dict[str, EntityCounts] = field(default_factory=dict)
    requests: dict[str, RequestCounter] = field(
        default_factory=lambda: {"prestashop": RequestCounter(), "dolibarr": RequestCounter()}
    )
    parked: list[ParkedItem] = field(default_factory=list)
    warnings: list[ParkedItem] = field(default_factory=list)
    not_mappable: list[ParkedItem] = field(default_factory=list)
    plan: Plan = field(default_factory=Plan)
    duration_seconds: float = 0.0
    error: str | None = None

    def counts(self, entity: str) -> EntityCounts:
        """Counters of ``entity`` (created on first use)."""
        return self.entities.setdefault(entity, EntityCounts())

    @property
    def ok(self) -> bool:
        """True when nothing failed (parked items are expected outcomes, not failures)."""
        return self.error is None and all(counts.failed == 0 for counts in self.entities.values())

    def take_request_counts(self, remote: str, before: Any, after: Any) -> None:
        """Reads and writes sent to ``remote`` between two client ``stats()`` snapshots."""
        self.requests[remote].reads = after.reads - before.reads
        self.requests[remote].writes = after.writes - before.writes

    def record(self, run: Any) -> None:
        """Store the counts and requests into ``run`` (from ``RunRecorder.start``) and finish it."""
        for entity, counts in self.entities.items():
            for outcome in ("created", "updated", "unchanged", "parked", "failed"):
                if getattr(counts, outcome):
                    run.count(entity, outcome, getattr(counts, outcome))
        for remote, counter in self.requests.items():
            run.add_requests(remote, counter.reads + counter.writes)
        run.finish("failed" if self.error else None, error=self.error)

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of ``dolisync sync --json``."""
        return {
            "shop": self.shop,
            "dry_run": self.dry_run,
            "ok": self.ok,
            "error": self.error,
            "duration_seconds": round(self.duration_seconds, 3),
            "entities": {name: counts.to_dict() for name, counts in self.entities.items()},
            "requests": {name: counter.to_dict() for name, counter in self.requests.items()},
            "parked": [item.to_dict() for item in self.parked],
            "warnings": [item.to_dict() for item in self.warnings],
            "not_mappable": [item.to_dict() for item in self.not_mappable],
            "planned_writes": [write.to_dict() for write in self.plan.writes] if self.dry_run else [],
        }
