"""Column types shared by the state-store tables.

Contract:

* :class:`UTCDateTime` accepts only timezone-aware ``datetime`` values (a naive one raises
  ``ValueError``: a naive time is a bug waiting to happen), stores them as UTC and always
  gives back an aware UTC ``datetime``, on SQLite (which has no time zones) as on PostgreSQL
  (``timestamptz``).
* :class:`DecimalText` stores a :class:`decimal.Decimal` exactly, as text, on every dialect
  (SQLite has no exact decimal type); it gives back a ``Decimal``.
* :func:`json_dumps` is the engine's JSON serializer: ``Decimal`` becomes its exact string,
  datetimes their ISO form, so no float ever enters a JSON column.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import DateTime, String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

__all__ = ["DecimalText", "UTCDateTime", "json_dumps", "utc"]


def utc(value: datetime) -> datetime:
    """Return ``value`` converted to UTC; raise ``ValueError`` if it is naive."""
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError(f"naive datetime refused (state store times are UTC-aware): {value!r}")
    return value.astimezone(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """An aware-UTC timestamp column (see module docstring)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        as_utc = utc(value)
        if dialect.name == "sqlite":
            # SQLite stores text; a fixed naive-UTC form keeps lexical order == time order.
            return as_utc.replace(tzinfo=None)
        return as_utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class DecimalText(TypeDecorator[Decimal]):
    """An exact decimal stored as text (``"-0.01"``), returned as ``Decimal``."""

    impl = String(48)
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError(f"DecimalText needs a Decimal, got {type(value).__name__}")
        return format(value, "f")

    def process_result_value(self, value: str | None, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(value)


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return utc(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def json_dumps(value: Any) -> str:
    """Serialize ``value`` for a JSON column (Decimal-safe, compact)."""
    return json.dumps(value, default=_json_default, separators=(",", ":"), ensure_ascii=False)
