"""Canonical content hashing (Decimal-safe), shared by the binder and the inbox.

Contract: :func:`content_hash` is the sha256 hex digest of :func:`canonical_json`, a JSON
text with keys sorted and no whitespace where ``Decimal`` values are written by value
(``Decimal("20.00")`` and ``Decimal("20")`` both become ``"20"``; ``-0`` becomes ``"0"``),
floats go through their ``repr`` as ``Decimal`` (so ``7.5`` hashes like ``Decimal("7.5")``),
datetimes become aware-UTC ISO strings (naive ones are refused), dates ISO strings,
tuples lists and sets sorted lists. Two payloads that mean the same hash the same.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from dolisync.store.types import utc

__all__ = ["canonical_json", "content_hash"]


def _canonical(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        value = Decimal(repr(value))
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"cannot hash non-finite number {value}")
        text = format(value.normalize(), "f")
        return "0" if text in ("-0", "0") else text
    if isinstance(value, datetime):
        return utc(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted((_canonical(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    raise TypeError(f"cannot hash a {type(value).__name__}")


def canonical_json(payload: Mapping[str, Any]) -> str:
    """The canonical JSON text :func:`content_hash` digests (see module docstring)."""
    return json.dumps(
        _canonical(payload), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )


def content_hash(payload: Mapping[str, Any]) -> str:
    """sha256 hex digest of :func:`canonical_json` of ``payload``."""
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()
