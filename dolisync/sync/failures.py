"""The failure queue: items that failed, why, and when to try them again.

One row per item key ``(connection, entity, source id)``. Contract:

* :meth:`FailureQueue.record` atomically increments ``attempts`` (an upsert, safe when
  several workers fail the same item at once), stores the error (class, message, hint,
  field) and the last payload, and schedules the next attempt with exponential backoff and
  jitter; at ``max_attempts`` the item is *parked*: it waits for a person (``retry``).
* :meth:`FailureQueue.due` lists unparked items whose next attempt time has come;
  :meth:`FailureQueue.claim_due` also leases them (pushes their next attempt ``lease``
  ahead) in the same transaction, so concurrent workers never claim the same item, and an
  item whose worker died becomes due again when the lease ends.
* :meth:`FailureQueue.resolve` forgets an item (it synced); :meth:`FailureQueue.retry`
  makes one item, or every item, due now again with its attempt count reset.
* Error messages are stored as given: the clients redact secrets before raising, and
  messages are cut at :data:`MAX_MESSAGE` characters.
"""

from __future__ import annotations

import builtins
import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, select, update

from dolisync.store import Store, utcnow
from dolisync.store.schema import failures
from dolisync.store.types import utc

__all__ = ["MAX_MESSAGE", "Backoff", "Failure", "FailureKey", "FailureQueue", "ItemError"]

MAX_MESSAGE = 4000


@dataclass(frozen=True, slots=True, order=True)
class FailureKey:
    """The item a failure is about. ``str(key)`` is ``connection/entity/source_id``."""

    connection: str
    entity: str
    source_id: str

    @classmethod
    def of(cls, connection: str, entity: str, source_id: int | str) -> FailureKey:
        return cls(connection, entity, str(source_id))

    @classmethod
    def parse(cls, text: str) -> FailureKey:
        """Inverse of ``str()``: ``"shop1/product/42"`` (the id may contain ``/``)."""
        parts = text.split("/", 2)
        if len(parts) != 3 or not all(parts):
            raise ValueError(f"failure key must be connection/entity/source_id, got {text!r}")
        return cls(parts[0], parts[1], parts[2])

    def __str__(self) -> str:
        return f"{self.connection}/{self.entity}/{self.source_id}"


@dataclass(frozen=True, slots=True)
class ItemError:
    """What went wrong with one item, in words a person can act on."""

    error_class: str
    message: str
    hint: str | None = None
    field: str | None = None

    @classmethod
    def from_exception(cls, exc: BaseException) -> ItemError:
        """Take class name, message and the optional ``hint``/``field`` attributes of ``exc``."""
        hint = getattr(exc, "hint", None)
        field = getattr(exc, "field", None)
        return cls(
            error_class=type(exc).__name__,
            message=str(exc) or type(exc).__name__,
            hint=None if hint is None else str(hint),
            field=None if field is None else str(field),
        )


@dataclass(frozen=True, slots=True)
class Failure:
    """One row of the queue."""

    key: FailureKey
    error: ItemError
    attempts: int
    next_attempt_at: datetime | None
    parked: bool
    payload: Any
    first_seen: datetime
    last_seen: datetime


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential backoff with jitter: attempt ``n`` waits ``base * factor**(n-1)``, capped,
    multiplied by a random factor in ``[1 - jitter, 1]``; parked at ``max_attempts``."""

    base: timedelta = timedelta(seconds=30)
    factor: float = 2.0
    cap: timedelta = timedelta(hours=6)
    jitter: float = 0.25
    max_attempts: int = 8

    def __post_init__(self) -> None:
        if not 0 <= self.jitter < 1:
            raise ValueError("jitter must be in [0, 1)")
        if self.max_attempts < 1 or self.factor < 1:
            raise ValueError("max_attempts must be >= 1 and factor >= 1")

    def delay(self, attempts: int, rng: random.Random) -> timedelta:
        """The wait after the ``attempts``-th failure (``attempts >= 1``)."""
        exponent = min(max(attempts - 1, 0), 64)
        seconds = min(self.base.total_seconds() * self.factor**exponent, self.cap.total_seconds())
        return timedelta(seconds=seconds * (1 - self.jitter * rng.random()))


_COLUMNS = (
    failures.c.connection,
    failures.c.entity,
    failures.c.source_id,
    failures.c.error_class,
    failures.c.message,
    failures.c.hint,
    failures.c.field,
    failures.c.attempts,
    failures.c.next_attempt_at,
    failures.c.parked,
    failures.c.payload,
    failures.c.first_seen,
    failures.c.last_seen,
)


def _row_to_failure(row: Any) -> Failure:
    return Failure(
        key=FailureKey(row.connection, row.entity, row.source_id),
        error=ItemError(row.error_class, row.message, row.hint, row.field),
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        parked=bool(row.parked),
        payload=row.payload,
        first_seen=row.first_seen,
        last_seen=row.last_seen,
    )


def _where_key(key: FailureKey) -> Any:
    return and_(
        failures.c.connection == key.connection,
        failures.c.entity == key.entity,
        failures.c.source_id == key.source_id,
    )


class FailureQueue:
    """The failure queue over a store (see module docstring).

    ``rng`` makes the jitter reproducible in tests; ``now=`` parameters default to the
    current UTC time.
    """

    def __init__(
        self, store: Store, backoff: Backoff | None = None, *, rng: random.Random | None = None
    ) -> None:
        self.store = store
        self.backoff = backoff or Backoff()
        self._rng = rng or random.Random()

    def record(
        self,
        key: FailureKey,
        error: ItemError | BaseException,
        payload: Mapping[str, Any] | None = None,
        *,
        now: datetime | None = None,
        park: bool = False,
        not_before: datetime | None = None,
    ) -> Failure:
        """Count one more failed attempt of ``key`` and schedule the next; return the row.

        ``park=True`` parks the item at once (no automatic retry): for bad input and warnings that
        only a person can fix; ``dolisync retry`` or the item's next change brings it back.
        ``not_before``: the next attempt is not scheduled earlier than this (whatever the backoff)."""
        item = error if isinstance(error, ItemError) else ItemError.from_exception(error)
        at = utc(now) if now is not None else utcnow()
        message = item.message[:MAX_MESSAGE]
        payload_value = None if payload is None else dict(payload)
        insert = self.store.insert(failures).values(
            connection=key.connection,
            entity=key.entity,
            source_id=key.source_id,
            error_class=item.error_class[:128],
            message=message,
            hint=item.hint,
            field=None if item.field is None else item.field[:128],
            attempts=1,
            next_attempt_at=at,
            parked=False,
            payload=payload_value,
            first_seen=at,
            last_seen=at,
        )
        excluded = insert.excluded
        changes: dict[str, Any] = {
            "attempts": failures.c.attempts + 1,
            "error_class": excluded.error_class,
            "message": excluded.message,
            "hint": excluded.hint,
            "field": excluded.field,
            "last_seen": excluded.last_seen,
        }
        if payload_value is not None:
            changes["payload"] = excluded.payload
        upsert = insert.on_conflict_do_update(
            index_elements=[failures.c.connection, failures.c.entity, failures.c.source_id],
            set_=changes,
        ).returning(failures.c.attempts)
        with self.store.transaction() as conn:
            attempts = int(conn.execute(upsert).scalar_one())
            parked = park or attempts >= self.backoff.max_attempts
            next_at = None if parked else at + self.backoff.delay(attempts, self._rng)
            if next_at is not None and not_before is not None:
                next_at = max(next_at, utc(not_before))
            # The upsert holds the row lock until commit, so this schedules *our* attempt.
            conn.execute(
                update(failures)
                .where(_where_key(key), failures.c.attempts == attempts)
                .values(next_attempt_at=next_at, parked=parked)
            )
            row = conn.execute(select(*_COLUMNS).where(_where_key(key))).one()
        return _row_to_failure(row)

    def get(self, key: FailureKey) -> Failure | None:
        """The failure of ``key``, or None."""
        with self.store.read() as conn:
            row = conn.execute(select(*_COLUMNS).where(_where_key(key))).first()
        return None if row is None else _row_to_failure(row)

    def due(
        self, now: datetime | None = None, *, limit: int = 100, connection: str | None = None
    ) -> builtins.list[Failure]:
        """Unparked failures whose next attempt is at or before ``now``, soonest first."""
        at = utc(now) if now is not None else utcnow()
        query = select(*_COLUMNS).where(
            failures.c.parked.is_(False), failures.c.next_attempt_at <= at
        )
        if connection is not None:
            query = query.where(failures.c.connection == connection)
        query = query.order_by(failures.c.next_attempt_at, failures.c.entity, failures.c.source_id)
        with self.store.read() as conn:
            return [_row_to_failure(row) for row in conn.execute(query.limit(limit))]

    def claim_due(
        self,
        now: datetime | None = None,
        *,
        limit: int = 100,
        lease: timedelta = timedelta(minutes=5),
        connection: str | None = None,
    ) -> builtins.list[Failure]:
        """Like :meth:`due`, but lease what is returned to this caller (see module docs).

        On PostgreSQL rows another worker is claiming are skipped (``SKIP LOCKED``); on
        SQLite the write transaction serializes claimers.
        """
        at = utc(now) if now is not None else utcnow()
        query = select(*_COLUMNS).where(
            failures.c.parked.is_(False), failures.c.next_attempt_at <= at
        )
        if connection is not None:
            query = query.where(failures.c.connection == connection)
        query = query.order_by(failures.c.next_attempt_at, failures.c.entity, failures.c.source_id)
        query = query.limit(limit).with_for_update(skip_locked=True)
        with self.store.transaction() as conn:
            claimed = [_row_to_failure(row) for row in conn.execute(query)]
            for failure in claimed:
                conn.execute(
                    update(failures)
                    .where(_where_key(failure.key))
                    .values(next_attempt_at=at + lease)
                )
        return claimed

    def list(
        self, *, parked_only: bool = False, connection: str | None = None, limit: int = 1000
    ) -> builtins.list[Failure]:
        """Every failure (or only parked ones), most recently seen first."""
        query = select(*_COLUMNS)
        if parked_only:
            query = query.where(failures.c.parked.is_(True))
        if connection is not None:
            query = query.where(failures.c.connection == connection)
        query = query.order_by(failures.c.last_seen.desc(), failures.c.entity, failures.c.source_id)
        with self.store.read() as conn:
            return [_row_to_failure(row) for row in conn.execute(query.limit(limit))]

    def resolve(self, key: FailureKey) -> bool:
        """Forget ``key`` (it synced); True if it was in the queue."""
        with self.store.transaction() as conn:
            return conn.execute(delete(failures).where(_where_key(key))).rowcount == 1

    def retry(
        self,
        key: FailureKey | None = None,
        *,
        connection: str | None = None,
        now: datetime | None = None,
    ) -> int:
        """Make ``key`` (None: every item, optionally of one connection) due at ``now``,
        unparked, with attempts reset to 0. Return how many items changed."""
        at = utc(now) if now is not None else utcnow()
        statement = update(failures).values(next_attempt_at=at, parked=False, attempts=0)
        if key is not None:
            statement = statement.where(_where_key(key))
        elif connection is not None:
            statement = statement.where(failures.c.connection == connection)
        with self.store.transaction() as conn:
            return int(conn.execute(statement).rowcount)

    def count(self, *, connection: str | None = None) -> tuple[int, int]:
        """``(waiting, parked)`` numbers of failures."""
        query = select(failures.c.parked, func.count()).group_by(failures.c.parked)
        if connection is not None:
            query = query.where(failures.c.connection == connection)
        with self.store.read() as conn:
            counts = {bool(parked): int(n) for parked, n in conn.execute(query)}
        return counts.get(False, 0), counts.get(True, 0)
