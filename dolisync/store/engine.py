"""Open the state store: engine settings per dialect, migrations on open.

Contract of :func:`open_store`:

* ``sqlite:///path/to/state.sqlite`` (the default kind): the parent directory is created,
  the database runs in WAL mode with foreign keys on, ``synchronous=NORMAL`` and a busy
  timeout; every write transaction starts with ``BEGIN IMMEDIATE`` so two writers wait for
  each other instead of failing with "database is locked" on lock upgrade, while
  ``Store.read()`` transactions start with a deferred ``BEGIN`` and never wait.
* ``postgresql+psycopg://user@host/db``: connect timeout, statement and lock timeouts,
  pre-ping; ``schema=`` puts every table (and Alembic's version table) in that schema,
  created if needed.
* Alembic migrations are applied before the store is returned.
* The URL's password never appears in errors raised from here (``render_as_string`` with
  hidden password).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool

from dolisync.store.migrate import upgrade
from dolisync.store.store import SQLITE_BEGIN_OPTION, Store
from dolisync.store.types import json_dumps

__all__ = ["StoreOpenError", "open_store"]

SQLITE_BUSY_TIMEOUT_S = 15.0
PG_CONNECT_TIMEOUT_S = 10
PG_STATEMENT_TIMEOUT_MS = 60_000
PG_LOCK_TIMEOUT_MS = 30_000
_SCHEMA_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


class StoreOpenError(RuntimeError):
    """The state store could not be opened or migrated (the message names the redacted URL)."""


def open_store(url: str, *, schema: str | None = None, migrate: bool = True) -> Store:
    """Open (and by default migrate) the state store at ``url``; see module docstring."""
    parsed = make_url(url)
    shown = parsed.render_as_string(hide_password=True)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if schema is not None:
            raise StoreOpenError("schema= is for PostgreSQL; SQLite has one schema per file")
        engine = _sqlite_engine(url)
    elif backend == "postgresql":
        if schema is not None and not _SCHEMA_NAME.match(schema):
            raise StoreOpenError(f"invalid schema name {schema!r}")
        engine = _postgres_engine(url, schema)
    else:
        raise StoreOpenError(
            f"unsupported state store {shown} (use sqlite:/// or postgresql+psycopg://)"
        )
    store = Store(engine, schema=schema)
    if migrate:
        try:
            with engine.begin() as connection:
                upgrade(connection, schema)
        except Exception as exc:
            engine.dispose()
            raise StoreOpenError(
                f"cannot open state store {shown}: {type(exc).__name__}: {_first_line(exc)}"
            ) from None
    return store


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else ""


def _sqlite_engine(url: str) -> Engine:
    parsed = make_url(url)
    database = parsed.database
    in_memory = database in (None, "", ":memory:")
    if not in_memory:
        assert database is not None
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    kwargs: dict[str, Any] = {
        "connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False},
        "json_serializer": json_dumps,
    }
    if in_memory:
        kwargs["poolclass"] = StaticPool
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from pysqlite so BEGIN IMMEDIATE below is ours.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            if not in_memory:
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Writers take the write lock up front; Store.read() asks for a deferred BEGIN so
        # readers never wait (WAL lets them read while a writer commits).
        mode = connection.get_execution_options().get(SQLITE_BEGIN_OPTION, "IMMEDIATE")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


def _postgres_engine(url: str, schema: str | None) -> Engine:
    options = f"-c statement_timeout={PG_STATEMENT_TIMEOUT_MS} -c lock_timeout={PG_LOCK_TIMEOUT_MS}"
    if schema is not None:
        options += f" -c search_path={schema}"
    return create_engine(
        url,
        connect_args={"connect_timeout": PG_CONNECT_TIMEOUT_S, "options": options},
        json_serializer=json_dumps,
        pool_pre_ping=True,
        pool_size=5,
        max_overflow=10,
        pool_timeout=30,
    )
