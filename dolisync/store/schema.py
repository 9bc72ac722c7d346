"""The state-store tables (SQLAlchemy Core).

This module is the *live* description of the schema; the Alembic revisions under
``migrations/versions`` create it, and ``tests/unit/store`` checks that the two agree.

Identifiers of remote objects are stored as text (``"42"``): PrestaShop and Dolibarr both
print ids as strings, and text keeps the store neutral about the remote's id type.
Every timestamp column is :class:`~dolisync.store.types.UTCDateTime` (aware UTC).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from dolisync.store.types import DecimalText, UTCDateTime

__all__ = [
    "bindings",
    "conflicts",
    "cursors",
    "failures",
    "inbox",
    "metadata",
    "reconciliation",
    "run_counts",
    "runs",
]

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
}

metadata = MetaData(naming_convention=NAMING)

# An autoincrement key that is a 64-bit integer on PostgreSQL and SQLite's rowid alias.
_SERIAL = BigInteger().with_variant(Integer(), "sqlite")

CONNECTION = 64  # connection names come from the config file
ENTITY = 64
REMOTE_ID = 64

bindings = Table(
    "bindings",
    metadata,
    Column("id", _SERIAL, primary_key=True, autoincrement=True),
    Column("connection", String(CONNECTION), nullable=False),
    Column("entity", String(ENTITY), nullable=False),
    Column("source_side", String(16), nullable=False),
    Column("source_id", String(REMOTE_ID), nullable=False),
    Column("target_id", String(REMOTE_ID), nullable=False),
    Column("external_key", String(190), nullable=False),
    Column("written_hash", String(64), nullable=True),
    Column("read_hash", String(64), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    UniqueConstraint("connection", "entity", "source_id"),
    UniqueConstraint("connection", "entity", "target_id"),
)

cursors = Table(
    "cursors",
    metadata,
    Column("connection", String(CONNECTION), nullable=False),
    Column("entity", String(ENTITY), nullable=False),
    Column("direction", String(32), nullable=False),
    Column("value", UTCDateTime(), nullable=True),
    Column("tie_ids", JSON(), nullable=False),
    Column("seen", JSON(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("connection", "entity", "direction"),
)

inbox = Table(
    "inbox",
    metadata,
    Column("id", _SERIAL, primary_key=True, autoincrement=True),
    Column("source", String(32), nullable=False),
    Column("connection", String(CONNECTION), nullable=False),
    Column("resource", String(ENTITY), nullable=False),
    Column("object_id", String(REMOTE_ID), nullable=False),
    Column("payload_hash", String(64), nullable=False),
    Column("payload", JSON(), nullable=True),
    Column("dedupe_key", String(255), nullable=False, unique=True),
    Column("received_at", UTCDateTime(), nullable=False),
    Column("processed_at", UTCDateTime(), nullable=True),
    Index(None, "processed_at", "id"),
)

failures = Table(
    "failures",
    metadata,
    Column("connection", String(CONNECTION), nullable=False),
    Column("entity", String(ENTITY), nullable=False),
    Column("source_id", String(REMOTE_ID), nullable=False),
    Column("error_class", String(128), nullable=False),
    Column("message", Text(), nullable=False),
    Column("hint", Text(), nullable=True),
    Column("field", String(128), nullable=True),
    Column("attempts", Integer(), nullable=False),
    Column("next_attempt_at", UTCDateTime(), nullable=True),
    Column("parked", Boolean(), nullable=False),
    Column("payload", JSON(), nullable=True),
    Column("first_seen", UTCDateTime(), nullable=False),
    Column("last_seen", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("connection", "entity", "source_id"),
    Index(None, "parked", "next_attempt_at"),
)

runs = Table(
    "runs",
    metadata,
    Column("id", _SERIAL, primary_key=True, autoincrement=True),
    Column("connection", String(CONNECTION), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("finished_at", UTCDateTime(), nullable=True),
    Column("status", String(16), nullable=False),
    Column("requests", JSON(), nullable=False),
    Column("error", Text(), nullable=True),
    Index(None, "connection", "started_at"),
)

run_counts = Table(
    "run_counts",
    metadata,
    Column("run_id", _SERIAL, ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    Column("entity", String(ENTITY), nullable=False),
    Column("created", Integer(), nullable=False),
    Column("updated", Integer(), nullable=False),
    Column("unchanged", Integer(), nullable=False),
    Column("parked", Integer(), nullable=False),
    Column("failed", Integer(), nullable=False),
    PrimaryKeyConstraint("run_id", "entity"),
)

reconciliation = Table(
    "reconciliation",
    metadata,
    Column("id", _SERIAL, primary_key=True, autoincrement=True),
    Column("connection", String(CONNECTION), nullable=False),
    Column("order_id", String(REMOTE_ID), nullable=False),
    Column("shop_totals", JSON(), nullable=False),
    Column("erp_totals", JSON(), nullable=False),
    Column("delta", DecimalText(), nullable=False),
    Column("fix_applied", Text(), nullable=True),
    Column("at", UTCDateTime(), nullable=False),
    Index(None, "connection", "order_id"),
)

conflicts = Table(
    "conflicts",
    metadata,
    Column("id", _SERIAL, primary_key=True, autoincrement=True),
    Column("connection", String(CONNECTION), nullable=False),
    Column("entity", String(ENTITY), nullable=False),
    Column("object_id", String(REMOTE_ID), nullable=False),
    Column("field_group", String(64), nullable=False),
    Column("old_value", JSON(), nullable=True),
    Column("new_value", JSON(), nullable=True),
    Column("at", UTCDateTime(), nullable=False),
    Index(None, "connection", "entity", "object_id"),
)
