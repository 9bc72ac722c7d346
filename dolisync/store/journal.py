"""The audit journal: order-total reconciliations and field-ownership conflicts.

Contract: both are append-only records, read back newest first.

* A :class:`Reconciliation` says, for one order, the shop totals and the ERP totals (maps of
  ``Decimal``, stored exactly as text), the ``delta`` (``Decimal``) and the fix applied
  (``None`` when none was needed), so no rounding adjustment is ever silent.
* A :class:`Conflict` says that a write overwrote a field group owned by the other side:
  entity, object id, field group, the old and the new value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from dolisync.store.schema import conflicts, reconciliation
from dolisync.store.store import Store, utcnow
from dolisync.store.types import utc

__all__ = ["Conflict", "Journal", "Reconciliation"]


@dataclass(frozen=True, slots=True)
class Reconciliation:
    id: int
    connection: str
    order_id: str
    shop_totals: Mapping[str, Decimal]
    erp_totals: Mapping[str, Decimal]
    delta: Decimal
    fix_applied: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class Conflict:
    id: int
    connection: str
    entity: str
    object_id: str
    field_group: str
    old_value: Any
    new_value: Any
    at: datetime


def _totals_out(totals: Mapping[str, Decimal]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, amount in totals.items():
        if not isinstance(amount, Decimal):
            raise TypeError(f"total {name!r} must be a Decimal, got {type(amount).__name__}")
        out[str(name)] = format(amount, "f")
    return out


def _totals_in(stored: Mapping[str, str]) -> dict[str, Decimal]:
    return {name: Decimal(text) for name, text in stored.items()}


class Journal:
    """Reconciliation and conflict records of a store (see module docstring)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def record_reconciliation(
        self,
        connection: str,
        order_id: int | str,
        shop_totals: Mapping[str, Decimal],
        erp_totals: Mapping[str, Decimal],
        delta: Decimal,
        fix_applied: str | None = None,
        *,
        now: datetime | None = None,
    ) -> int:
        """Append one reconciliation; return its id."""
        if not isinstance(delta, Decimal):
            raise TypeError("delta must be a Decimal")
        values = {
            "connection": connection,
            "order_id": str(order_id),
            "shop_totals": _totals_out(shop_totals),
            "erp_totals": _totals_out(erp_totals),
            "delta": delta,
            "fix_applied": fix_applied,
            "at": utc(now) if now is not None else utcnow(),
        }
        with self.store.transaction() as conn:
            statement = reconciliation.insert().values(**values).returning(reconciliation.c.id)
            return int(conn.execute(statement).scalar_one())

    def reconciliations(
        self, *, connection: str | None = None, order_id: int | str | None = None, limit: int = 100
    ) -> list[Reconciliation]:
        """Reconciliations, newest first."""
        query = select(reconciliation)
        if connection is not None:
            query = query.where(reconciliation.c.connection == connection)
        if order_id is not None:
            query = query.where(reconciliation.c.order_id == str(order_id))
        query = query.order_by(reconciliation.c.id.desc()).limit(limit)
        with self.store.read() as conn:
            return [
                Reconciliation(
                    id=int(row.id),
                    connection=row.connection,
                    order_id=row.order_id,
                    shop_totals=_totals_in(row.shop_totals),
                    erp_totals=_totals_in(row.erp_totals),
                    delta=row.delta,
                    fix_applied=row.fix_applied,
                    at=row.at,
                )
                for row in conn.execute(query)
            ]

    def record_conflict(
        self,
        connection: str,
        entity: str,
        object_id: int | str,
        field_group: str,
        old_value: Any,
        new_value: Any,
        *,
        now: datetime | None = None,
    ) -> int:
        """Append one field-ownership conflict; return its id."""
        values = {
            "connection": connection,
            "entity": entity,
            "object_id": str(object_id),
            "field_group": field_group,
            "old_value": old_value,
            "new_value": new_value,
            "at": utc(now) if now is not None else utcnow(),
        }
        with self.store.transaction() as conn:
            statement = conflicts.insert().values(**values).returning(conflicts.c.id)
            return int(conn.execute(statement).scalar_one())

    def conflicts(
        self, *, connection: str | None = None, entity: str | None = None, limit: int = 100
    ) -> list[Conflict]:
        """Conflicts, newest first."""
        query = select(conflicts)
        if connection is not None:
            query = query.where(conflicts.c.connection == connection)
        if entity is not None:
            query = query.where(conflicts.c.entity == entity)
        query = query.order_by(conflicts.c.id.desc()).limit(limit)
        with self.store.read() as conn:
            return [
                Conflict(
                    id=int(row.id),
                    connection=row.connection,
                    entity=row.entity,
                    object_id=row.object_id,
                    field_group=row.field_group,
                    old_value=row.old_value,
                    new_value=row.new_value,
                    at=row.at,
                )
                for row in conn.execute(query)
            ]
