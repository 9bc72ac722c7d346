"""The webhook inbox: events are stored (deduplicated) before the webhook answers 202.

Contract: :meth:`Inbox.receive` inserts an event unless its dedupe key is already stored
(``ON CONFLICT DO NOTHING``, safe under concurrent deliveries) and tells whether it was new.
The default dedupe key is ``source|connection|resource|object_id|payload hash``, so the same
notification delivered twice is stored once while a later change of the same object is a
new event. :meth:`Inbox.pending` lists unprocessed events oldest first;
:meth:`Inbox.mark_processed` closes them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update

from dolisync.store.hashing import content_hash
from dolisync.store.schema import inbox
from dolisync.store.store import Store, utcnow
from dolisync.store.types import utc

__all__ = ["Inbox", "InboxEvent"]

_MAX_KEY = 255


@dataclass(frozen=True, slots=True)
class InboxEvent:
    """One stored webhook event."""

    id: int
    source: str
    connection: str
    resource: str
    object_id: str
    payload_hash: str
    payload: Any
    dedupe_key: str
    received_at: datetime
    processed_at: datetime | None


def _row_to_event(row: Any) -> InboxEvent:
    return InboxEvent(
        id=int(row.id),
        source=row.source,
        connection=row.connection,
        resource=row.resource,
        object_id=row.object_id,
        payload_hash=row.payload_hash,
        payload=row.payload,
        dedupe_key=row.dedupe_key,
        received_at=row.received_at,
        processed_at=row.processed_at,
    )


class Inbox:
    """The inbox table of a store (see module docstring)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def receive(
        self,
        source: str,
        connection: str,
        resource: str,
        object_id: int | str,
        payload: Mapping[str, Any] | None = None,
        *,
        dedupe_key: str | None = None,
        now: datetime | None = None,
    ) -> tuple[InboxEvent, bool]:
        """Store one event; return ``(stored event, True if it was new)``."""
        payload_hash = content_hash(payload or {})
        key = dedupe_key or "|".join((source, connection, resource, str(object_id), payload_hash))
        if len(key) > _MAX_KEY:
            key = "sha256:" + hashlib.sha256(key.encode("utf-8")).hexdigest()
        statement = (
            self.store.insert(inbox)
            .values(
                source=source,
                connection=connection,
                resource=resource,
                object_id=str(object_id),
                payload_hash=payload_hash,
                payload=None if payload is None else dict(payload),
                dedupe_key=key,
                received_at=utc(now) if now is not None else utcnow(),
                processed_at=None,
            )
            .on_conflict_do_nothing(index_elements=[inbox.c.dedupe_key])
            .returning(*inbox.c)
        )
        with self.store.transaction() as conn:
            row = conn.execute(statement).first()
            new = row is not None
            if row is None:
                row = conn.execute(select(inbox).where(inbox.c.dedupe_key == key)).one()
        return _row_to_event(row), new

    def pending(self, *, limit: int = 100, connection: str | None = None) -> list[InboxEvent]:
        """Unprocessed events, oldest first."""
        query = select(inbox).where(inbox.c.processed_at.is_(None))
        if connection is not None:
            query = query.where(inbox.c.connection == connection)
        with self.store.read() as conn:
            rows = conn.execute(query.order_by(inbox.c.id).limit(limit))
            return [_row_to_event(row) for row in rows]

    def mark_processed(self, event_ids: Iterable[int], *, now: datetime | None = None) -> int:
        """Close events; return how many were still open."""
        ids = [int(i) for i in event_ids]
        if not ids:
            return 0
        statement = (
            update(inbox)
            .where(inbox.c.id.in_(ids), inbox.c.processed_at.is_(None))
            .values(processed_at=utc(now) if now is not None else utcnow())
        )
        with self.store.transaction() as conn:
            return int(conn.execute(statement).rowcount)

    def purge_processed(self, before: datetime) -> int:
        """Delete events processed before ``before``; return how many."""
        statement = delete(inbox).where(
            inbox.c.processed_at.is_not(None), inbox.c.processed_at < utc(before)
        )
        with self.store.transaction() as conn:
            return int(conn.execute(statement).rowcount)
