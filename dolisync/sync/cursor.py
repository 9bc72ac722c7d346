"""Incremental-read cursors: where the next read of changed objects starts.

A :class:`Cursor` belongs to one ``(connection, entity, direction)`` and works on the
remote's own change timestamps (PrestaShop ``date_upd``, Dolibarr ``date_modification``/
``tms``), never on the wall clock of this machine.

Semantics
---------
* **Committed state** (in the store): ``value``, the highest timestamp of any change in a
  committed page; ``seen``, the ``(id, timestamp, digest)`` of every committed change whose
  timestamp lies in the overlap window ``[value - overlap, value]``; ``tie_ids``, the ids
  seen exactly at ``value``.
* **A run** (:meth:`Cursor.begin`) reads from ``start_value() = value - overlap`` (inclusive)
  in ``(timestamp, id)`` order, page after page, each page strictly after
  :attr:`Cursor.position` (keyset pagination: an object updated mid-run moves *forward*
  and is read again later, it never shifts other objects out of reach as offset paging does).
* :meth:`Cursor.observe` only *stages* a page and returns its changes that are new. A change
  is a replay, and is dropped, when the same id was already committed or staged with the
  same timestamp and digest, or with a later timestamp. ``digest`` (optional, e.g. a content
  hash) tells apart two updates stamped within the same second.
* :meth:`Cursor.commit` makes staged changes durable: ``value`` becomes the highest timestamp
  seen, ``seen`` is merged and trimmed to the overlap window. A crash before ``commit``
  loses only the staging: the next run reads those changes again (at-least-once delivery,
  with committed changes never delivered twice).
* **Horizon**: ``begin(horizon=...)`` bounds the run by the highest timestamp visible when it
  starts (the reader asks the remote for its newest change first). Changes stamped later
  are left for the next run. Together with the overlap this guarantees that a change made
  visible late (a slow transaction stamped up to ``overlap`` before the newest visible
  change) is still read: no committed ``value`` can run more than ``overlap`` past it.

Reading loop (what a flow does)
-------------------------------
::

    cursor = Cursor(store, connection, "product", "ps_to_doli")
    cursor.begin(horizon=newest_change_time())      # prestashop_newest_query()
    while True:
        rows = []
        for params in prestashop_page_queries(cursor.position, clock, limit=100):
            rows = get("/api/products", params)     # the first query that returns rows
            if rows:
                break
        fresh = cursor.observe(Change.of(r["id"], clock.to_utc(r["date_upd"])) for r in rows)
        sync(fresh)                                 # create/update/bind, record failures
        cursor.commit()
        if not rows or cursor.reached_horizon:
            break

The page queries implement the keyset position with the filters each remote has: first the
rest of the ties at ``position.at`` (same timestamp, larger id), then what comes after it.

Time zones
----------
Every timestamp here is an aware UTC ``datetime``. :class:`ShopClock` converts PrestaShop's
naive wall-clock strings (shop time zone) and back; :func:`from_unix` and
:func:`to_sql_utc` do the same for Dolibarr (Unix seconds out, UTC SQL text in filters).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from dolisync.store import Store, utcnow
from dolisync.store.schema import cursors
from dolisync.store.types import utc

__all__ = [
    "DEFAULT_OVERLAP",
    "EPOCH",
    "Change",
    "Cursor",
    "Position",
    "ShopClock",
    "dolibarr_newest_query",
    "dolibarr_page_queries",
    "from_unix",
    "prestashop_newest_query",
    "prestashop_page_queries",
    "to_sql_utc",
]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DEFAULT_OVERLAP = timedelta(minutes=5)
_WALL_FORMAT = "%Y-%m-%d %H:%M:%S"
_ZERO_DATES = frozenset({"", "0000-00-00 00:00:00", "0000-00-00"})


def _id_order(object_id: str) -> tuple[int, int, str]:
    """Sort ids the way the remotes do: numerically when numeric."""
    return (0, int(object_id), "") if object_id.isdigit() else (1, 0, object_id)


@dataclass(frozen=True, slots=True)
class Change:
    """One changed object as read from a remote: its id, change time and optional digest."""

    id: str
    at: datetime
    digest: str | None = None

    @classmethod
    def of(cls, object_id: int | str, at: datetime, digest: str | None = None) -> Change:
        """Build a change, normalising the id to ``str`` and the time to aware UTC."""
        return cls(str(object_id), utc(at), digest)

    @property
    def order(self) -> tuple[datetime, tuple[int, int, str]]:
        """The ``(timestamp, id)`` keyset order of changes."""
        return (self.at, _id_order(self.id))


@dataclass(frozen=True, slots=True)
class Position:
    """Where the next page starts.

    ``at is None``: from the beginning. ``after_id is None``: every change with timestamp
    ``>= at``. Otherwise: changes strictly after ``(at, after_id)`` in ``(timestamp, id)``
    order, i.e. ``timestamp > at`` or (``timestamp == at`` and ``id > after_id``).
    """

    at: datetime | None
    after_id: str | None = None

    def admits(self, change: Change) -> bool:
        """True if ``change`` belongs to the pages at or after this position."""
        if self.at is None:
            return True
        if self.after_id is None:
            return change.at >= self.at
        return change.order > (self.at, _id_order(self.after_id))


@dataclass(frozen=True, slots=True)
class _Seen:
    at: datetime
    digest: str | None


class Cursor:
    """The incremental cursor of one ``(connection, entity, direction)``; see module docs.

    Construction loads the committed state; a new object after a crash is the recovery.
    """

    def __init__(
        self,
        store: Store,
        connection: str,
        entity: str,
        direction: str,
        *,
        overlap: timedelta = DEFAULT_OVERLAP,
    ) -> None:
        if overlap < timedelta(0):
            raise ValueError("overlap must not be negative")
        self.store = store
        self.connection = connection
        self.entity = entity
        self.direction = direction
        self.overlap = overlap
        self._value: datetime | None = None
        self._seen: dict[str, _Seen] = {}
        self._staged: dict[str, _Seen] = {}
        self._horizon: datetime | None = None
        self._position = Position(None)
        self.reached_horizon = False
        self._load()
        self.begin()

    # -- committed state -------------------------------------------------------------
    @property
    def value(self) -> datetime | None:
        """The highest committed change timestamp (None: never committed)."""
        return self._value

    @property
    def tie_ids(self) -> frozenset[str]:
        """Ids committed exactly at :attr:`value`."""
        return frozenset(i for i, s in self._seen.items() if s.at == self._value)

    def start_value(self) -> datetime | None:
        """Inclusive lower bound of the next run: ``value - overlap`` (None: read all)."""
        return None if self._value is None else self._value - self.overlap

    # -- a run -----------------------------------------------------------------------
    def begin(self, horizon: datetime | None = None) -> Position:
        """Start a run at :meth:`start_value`; drop uncommitted staging. Return the position.

        ``horizon``: the newest change timestamp visible on the remote now (see module docs);
        None reads without an upper bound.
        """
        self._staged.clear()
        self._horizon = None if horizon is None else utc(horizon)
        self._position = Position(self.start_value())
        self.reached_horizon = False
        return self._position

    @property
    def horizon(self) -> datetime | None:
        """The upper bound of this run (inclusive), if any."""
        return self._horizon

    @property
    def position(self) -> Position:
        """Where the next page of this run starts."""
        return self._position

    def observe(self, page: Iterable[Change]) -> list[Change]:
        """Stage one page (in any order) and return its new changes in keyset order.

        Changes past the horizon are ignored and set :attr:`reached_horizon`. The position
        moves past the last change of the page within the horizon, replays included.
        """
        ordered = sorted((Change(c.id, utc(c.at), c.digest) for c in page), key=lambda c: c.order)
        fresh: list[Change] = []
        last: Change | None = None
        for change in ordered:
            if self._horizon is not None and change.at > self._horizon:
                self.reached_horizon = True
                continue
            last = change
            if self._is_replay(change.id, change.at, change.digest):
                continue
            self._staged[change.id] = _Seen(change.at, change.digest)
            fresh.append(change)
        if last is not None and self._position.admits(last):
            self._position = Position(last.at, last.id)
        return fresh

    def pending(self) -> int:
        """How many staged, uncommitted changes there are."""
        return len(self._staged)

    def commit(self) -> None:
        """Persist the staged changes (see module docs). A no-op when nothing is staged."""
        if not self._staged:
            return
        with self.store.transaction() as conn:
            # Make sure the row exists, then lock it: concurrent commits of the same cursor
            # serialize and merge instead of overwriting each other.
            conn.execute(
                self.store.insert(cursors)
                .values(
                    connection=self.connection,
                    entity=self.entity,
                    direction=self.direction,
                    value=None,
                    tie_ids=[],
                    seen=[],
                    updated_at=utcnow(),
                )
                .on_conflict_do_nothing(
                    index_elements=[cursors.c.connection, cursors.c.entity, cursors.c.direction]
                )
            )
            value, seen = self._decode(conn.execute(self._select().with_for_update()).one())
            for object_id, entry in self._staged.items():
                if self._newer(entry, seen.get(object_id)):
                    seen[object_id] = entry
            staged_max = max(entry.at for entry in self._staged.values())
            value = staged_max if value is None else max(value, staged_max)
            floor = value - self.overlap
            seen = {i: s for i, s in seen.items() if s.at >= floor}
            conn.execute(
                cursors.update()
                .where(
                    cursors.c.connection == self.connection,
                    cursors.c.entity == self.entity,
                    cursors.c.direction == self.direction,
                )
                .values(
                    value=value,
                    tie_ids=sorted((i for i, s in seen.items() if s.at == value), key=_id_order),
                    seen=[
                        [i, s.at.isoformat(), s.digest]
                        for i, s in sorted(seen.items(), key=lambda item: _id_order(item[0]))
                    ],
                    updated_at=utcnow(),
                )
            )
        self._value, self._seen = value, seen
        self._staged.clear()

    def reset(self) -> None:
        """Forget the committed state (the next run reads everything)."""
        with self.store.transaction() as conn:
            conn.execute(
                cursors.delete().where(
                    cursors.c.connection == self.connection,
                    cursors.c.entity == self.entity,
                    cursors.c.direction == self.direction,
                )
            )
        self._value, self._seen = None, {}
        self.begin()

    # -- internals -------------------------------------------------------------------
    def _is_replay(self, object_id: str, at: datetime, digest: str | None) -> bool:
        for known in (self._staged.get(object_id), self._seen.get(object_id)):
            if known is None:
                continue
            if at < known.at or (at == known.at and digest == known.digest):
                return True
        return False

    @staticmethod
    def _newer(entry: _Seen, known: _Seen | None) -> bool:
        return known is None or entry.at >= known.at

    def _select(self) -> Any:
        return select(cursors.c.value, cursors.c.seen).where(
            cursors.c.connection == self.connection,
            cursors.c.entity == self.entity,
            cursors.c.direction == self.direction,
        )

    @staticmethod
    def _decode(row: Any) -> tuple[datetime | None, dict[str, _Seen]]:
        seen = {
            str(object_id): _Seen(utc(datetime.fromisoformat(at)), digest)
            for object_id, at, digest in row.seen
        }
        return row.value, seen

    def _load(self) -> None:
        with self.store.read() as conn:
            row = conn.execute(self._select()).first()
        if row is not None:
            self._value, self._seen = self._decode(row)


class ShopClock:
    """PrestaShop wall-clock times (``date_upd``: naive, in the shop's time zone) <-> UTC.

    ``to_utc`` interprets a wall time with ``fold=0`` (the earlier of the two instants in the
    repeated autumn hour). That mapping is strictly increasing in wall-clock order, which is
    the order PrestaShop sorts and filters by, so cursor order and server order agree. The
    price: a second-occurrence time is recorded one hour early, so during that one hour a
    year a change arriving late gets one hour less of overlap (page queries do their
    arithmetic on wall time, so they over-read rather than under-read around the fold).
    PrestaShop never writes a time inside the spring-forward gap (PHP's clock skips it).
    Zero dates (``0000-00-00 00:00:00``, empty) map to :data:`EPOCH`.
    """

    def __init__(self, timezone: str | ZoneInfo) -> None:
        self.zone = timezone if isinstance(timezone, ZoneInfo) else ZoneInfo(timezone)

    def to_utc(self, wall: str | datetime) -> datetime:
        """Shop wall time (``"2026-11-28 10:00:00"`` or a naive datetime) -> aware UTC."""
        if isinstance(wall, str):
            text = wall.strip()
            if text in _ZERO_DATES:
                return EPOCH
            naive = datetime.strptime(text, _WALL_FORMAT)
        else:
            if wall.tzinfo is not None:
                raise ValueError(f"shop wall time must be naive, got {wall!r}")
            naive = wall
        return naive.replace(tzinfo=self.zone, fold=0).astimezone(UTC)

    def to_wall(self, at: datetime) -> str:
        """Aware time -> shop wall-clock text for a filter, floored to the second.

        Flooring keeps an inclusive lower bound inclusive (PrestaShop stores whole seconds).
        """
        local = utc(at).astimezone(self.zone).replace(microsecond=0)
        return local.strftime(_WALL_FORMAT)


def from_unix(seconds: int | str | float) -> datetime:
    """Dolibarr's Unix timestamps (``1764299427`` or ``"1764299427"``) -> aware UTC."""
    return datetime.fromtimestamp(int(float(seconds)), tz=UTC)


def to_sql_utc(at: datetime) -> str:
    """Aware time -> ``"YYYY-MM-DD HH:MM:SS"`` in UTC, floored to the second.

    For Dolibarr ``sqlfilters`` on ``t.tms``, which compare in the database's UTC session.
    """
    return utc(at).replace(microsecond=0).strftime(_WALL_FORMAT)


# -- page queries per remote -------------------------------------------------------------
def _numeric_id(after_id: str) -> str:
    if not after_id.isdigit():
        raise ValueError(f"keyset id must be numeric for a remote filter, got {after_id!r}")
    return after_id


def prestashop_page_queries(
    position: Position, clock: ShopClock, limit: int
) -> list[dict[str, str]]:
    """Webservice query parameters for the next keyset page, in order of use.

    Send the first; only if it returns no row, send the second. Add ``display`` and
    ``output_format`` yourself. Uses ``date=1``, ``sort=[date_upd_ASC,id_ASC]``,
    ``filter[date_upd]=>[..]`` (strict) and ``=[..]`` (equal) and ``filter[id]=>[..]``;
    never the ``[a,b]`` range form, whose lower bound PrestaShop 8.0.x loses. Wall-clock
    arithmetic (the second before an inclusive start) is done on the shop's wall time, so
    the repeated autumn hour never moves a bound backwards.
    """
    common = {"date": "1", "limit": str(int(limit))}
    ordered = {**common, "sort": "[date_upd_ASC,id_ASC]"}
    if position.at is None:
        return [ordered]
    wall = clock.to_wall(position.at)
    if position.after_id is None:
        before = datetime.strptime(wall, _WALL_FORMAT) - timedelta(seconds=1)
        return [{**ordered, "filter[date_upd]": f">[{before.strftime(_WALL_FORMAT)}]"}]
    ties = {
        **common,
        "filter[date_upd]": f"[{wall}]",
        "filter[id]": f">[{_numeric_id(position.after_id)}]",
        "sort": "[id_ASC]",
    }
    return [ties, {**ordered, "filter[date_upd]": f">[{wall}]"}]


def prestashop_newest_query() -> dict[str, str]:
    """Parameters that return the most recently changed object (for the run's horizon)."""
    return {
        "date": "1",
        "sort": "[date_upd_DESC,id_DESC]",
        "display": "[id,date_upd]",
        "limit": "1",
    }


def dolibarr_page_queries(position: Position, limit: int) -> list[dict[str, str]]:
    """REST query parameters for the next keyset page on ``t.tms``, in order of use.

    Send the first; only if it returns no row, send the second. The record's change time is
    its ``date_modification`` (Unix seconds, :func:`from_unix`); filters compare ``t.tms`` in
    the database's UTC session. ``sortfield=t.tms,t.rowid`` (Dolibarr applies the last
    ``sortorder`` to every field); always ``page=0``: the position does the paging.
    """
    common = {"limit": str(int(limit)), "page": "0", "sortorder": "ASC"}
    ordered = {**common, "sortfield": "t.tms,t.rowid"}
    if position.at is None:
        return [ordered]
    stamp = to_sql_utc(position.at)
    if position.after_id is None:
        return [{**ordered, "sqlfilters": f"(t.tms:>=:'{stamp}')"}]
    ties = {
        **common,
        "sortfield": "t.rowid",
        "sqlfilters": f"(t.tms:=:'{stamp}') and (t.rowid:>:{_numeric_id(position.after_id)})",
    }
    return [ties, {**ordered, "sqlfilters": f"(t.tms:>:'{stamp}')"}]


def dolibarr_newest_query() -> dict[str, str]:
    """Parameters that return the most recently changed object (for the run's horizon)."""
    return {"sortfield": "t.tms,t.rowid", "sortorder": "DESC", "limit": "1", "page": "0"}
