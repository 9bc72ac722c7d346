"""Initial state store: bindings, cursors, inbox, failures, runs, reconciliation, conflicts.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001_initial"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

_SERIAL = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _ts(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "bindings",
        sa.Column("id", _SERIAL, primary_key=True, autoincrement=True),
        sa.Column("connection", sa.String(64), nullable=False),
        sa.Column("entity", sa.String(64), nullable=False),
        sa.Column("source_side", sa.String(16), nullable=False),
        sa.Column("source_id", sa.String(64), nullable=False),
        sa.Column("target_id", sa.String(64), nullable=False),
        sa.Column("external_key", sa.String(190), nullable=False),
        sa.Column("written_hash", sa.String(64), nullable=True),
        sa.Column("read_hash", sa.String(64), nullable=True),
        _ts("created_at"),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_bindings"),
        sa.UniqueConstraint(
            "connection", "entity", "source_id", name="uq_bindings_connection_entity_source_id"
        ),
        sa.UniqueConstraint(
            "connection", "entity", "target_id", name="uq_bindings_connection_entity_target_id"
        ),
    )
    op.create_table(
        "cursors",
        sa.Column("connection", sa.String(64), nullable=False),
        sa.Column("entity", sa.String(64), nullable=False),
        sa.Column("direction", sa.String(32), nullable=False),
        _ts("value", nullable=True),
        sa.Column("tie_ids", sa.JSON(), nullable=False),
        sa.Column("seen", sa.JSON(), nullable=False),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("connection", "entity", "direction", name="pk_cursors"),
    )
    op.create_table(
        "inbox",
        sa.Column("id", _SERIAL, primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("connection", sa.String(64), nullable=False),
        sa.Column("resource", sa.String(64), nullable=False),
        sa.Column("object_id", sa.String(64), nullable=False),
        sa.Column("payload_hash", sa.String(64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=True),
        sa.Column("dedupe_key", sa.String(255), nullable=False),
        _ts("received_at"),
        _ts("processed_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_inbox"),
        sa.UniqueConstraint("dedupe_key", name="uq_inbox_dedupe_key"),
    )
    op.create_index("ix_inbox_processed_at_id", "inbox", ["processed_at", "id"])
    op.create_table(
        "failures",
        sa.Column("connection", sa.String(64), nullable=False),
        sa.Column("entity", sa.String(64), nullable=False),
        sa.Column("source_id", sa.String(64), nullable=False),
        sa.Column("error_class", sa.String(128), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("hint", sa.Text(), nullable=True),
        sa.Column("field", sa.String(128), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _ts("next_attempt_at", nullable=True),
        sa.Column("parked", sa.Boolean(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=True),
        _ts("first_seen"),
        _ts("last_seen"),
        sa.PrimaryKeyConstraint("connection", "entity", "source_id", name="pk_failures"),
    )
    op.create_index("ix_failures_parked_next_attempt_at", "failures", ["parked", "next_attempt_at"])
    op.create_table(
        "runs",
        sa.Column("id", _SERIAL, primary_key=True, autoincrement=True),
        sa.Column("connection", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        _ts("started_at"),
        _ts("finished_at", nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("requests", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_runs"),
    )
    op.create_index("ix_runs_connection_started_at", "runs", ["connection", "started_at"])
    op.create_table(
        "run_counts",
        sa.Column("run_id", _SERIAL, nullable=False),
        sa.Column("entity", sa.String(64), nullable=False),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("parked", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "entity", name="pk_run_counts"),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name="fk_run_counts_run_id_runs", ondelete="CASCADE"
        ),
    )
    op.create_table(
        "reconciliation",
        sa.Column("id", _SERIAL, primary_key=True, autoincrement=True),
        sa.Column("connection", sa.String(64), nullable=False),
        sa.Column("order_id", sa.String(64), nullable=False),
        sa.Column("shop_totals", sa.JSON(), nullable=False),
        sa.Column("erp_totals", sa.JSON(), nullable=False),
        sa.Column("delta", sa.String(48), nullable=False),
        sa.Column("fix_applied", sa.Text(), nullable=True),
        _ts("at"),
        sa.PrimaryKeyConstraint("id", name="pk_reconciliation"),
    )
    op.create_index(
        "ix_reconciliation_connection_order_id", "reconciliation", ["connection", "order_id"]
    )
    op.create_table(
        "conflicts",
        sa.Column("id", _SERIAL, primary_key=True, autoincrement=True),
        sa.Column("connection", sa.String(64), nullable=False),
        sa.Column("entity", sa.String(64), nullable=False),
        sa.Column("object_id", sa.String(64), nullable=False),
        sa.Column("field_group", sa.String(64), nullable=False),
        sa.Column("old_value", sa.JSON(), nullable=True),
        sa.Column("new_value", sa.JSON(), nullable=True),
        _ts("at"),
        sa.PrimaryKeyConstraint("id", name="pk_conflicts"),
    )
    op.create_index(
        "ix_conflicts_connection_entity_object_id",
        "conflicts",
        ["connection", "entity", "object_id"],
    )


def downgrade() -> None:
    for table in (
        "conflicts",
        "reconciliation",
        "run_counts",
        "runs",
        "failures",
        "inbox",
        "cursors",
        "bindings",
    ):
        op.drop_table(table)
