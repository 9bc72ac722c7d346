"""Apply the state-store Alembic migrations, programmatically.

Contract: :func:`upgrade` brings the database behind ``connection`` to the newest revision
inside the caller's transaction (PostgreSQL DDL is transactional, and on SQLite the store
opens every transaction with ``BEGIN IMMEDIATE``), so concurrent workers starting at once
serialize instead of racing: on PostgreSQL an advisory transaction lock is taken first.
The migration scripts live in this package (``migrations/``), so they are found wherever
the package is installed; no ``alembic.ini`` is involved.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text

__all__ = ["MIGRATION_LOCK_KEY", "alembic_config", "current_revision", "head_revision", "upgrade"]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
MIGRATION_LOCK_KEY = 0x646F6C69  # "doli": the pg_advisory lock id held while migrating


def alembic_config(connection: Connection | None = None) -> Config:
    """Build the Alembic config in code (script location inside the installed package)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision shipped with this package."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships a revision
        raise RuntimeError(f"no Alembic revision found in {MIGRATIONS_DIR}")
    return head


def current_revision(connection: Connection) -> str | None:
    """The revision the database behind ``connection`` is at (None: never migrated)."""
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(connection: Connection, schema: str | None = None) -> None:
    """Migrate to head inside the caller's transaction (see module docstring)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        if schema is not None:
            quoted = connection.dialect.identifier_preparer.quote_identifier(schema)
            connection.execute(text(f"CREATE SCHEMA IF NOT EXISTS {quoted}"))
    command.upgrade(alembic_config(connection), "head")
