"""The :class:`Store` handle: one SQLAlchemy engine plus the few dialect-aware helpers the
binder, cursor, failure queue and run recorder share.

Contract: a ``Store`` is an object you open (:func:`dolisync.store.open_store`) and close;
it holds no other global state. ``transaction()`` yields a connection inside one atomic
transaction (commit on success, rollback on exception); ``read()`` does the same for
read-only work, which on SQLite does not take the write lock. ``insert(table)`` returns the
dialect's INSERT construct, which supports ``on_conflict_do_update`` /
``on_conflict_do_nothing`` on both SQLite and PostgreSQL, the building block of every
race-safe upsert in the store.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from sqlalchemy import Connection, Engine, Table
from sqlalchemy.dialects import postgresql, sqlite

__all__ = ["SQLITE_BEGIN_OPTION", "Store", "utcnow"]

SQLITE_BEGIN_OPTION = "dolisync_sqlite_begin"


def utcnow() -> datetime:
    """The current time, aware UTC (for bookkeeping columns, never for cursors)."""
    return datetime.now(UTC)


class Store:
    """An open state store (see module docstring)."""

    def __init__(self, engine: Engine, *, schema: str | None = None) -> None:
        self.engine = engine
        self.schema = schema
        self._closed = False

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self.engine.dialect.name

    @property
    def url(self) -> str:
        """The store URL with any password hidden (safe to log)."""
        return self.engine.url.render_as_string(hide_password=True)

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One atomic transaction: commit when the block ends, roll back if it raises."""
        if self._closed:
            raise RuntimeError("state store is closed")
        with self.engine.begin() as connection:
            yield connection

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction (on SQLite a deferred BEGIN: it never waits for writers)."""
        if self._closed:
            raise RuntimeError("state store is closed")
        with self.engine.connect() as connection:
            connection = connection.execution_options(**{SQLITE_BEGIN_OPTION: "DEFERRED"})
            with connection.begin():
                yield connection

    def insert(self, table: Table) -> Any:
        """The dialect's INSERT for ``table`` (with ``on_conflict_do_*`` support)."""
        if self.dialect == "postgresql":
            return postgresql.insert(table)
        if self.dialect == "sqlite":
            return sqlite.insert(table)
        raise RuntimeError(f"unsupported dialect {self.dialect}")  # pragma: no cover

    def close(self) -> None:
        """Release every pooled connection. Idempotent."""
        if not self._closed:
            self._closed = True
            self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.url!r})"
