"""Reading one field of a source item, whether it is a raw Webservice row or a typed record.

Contract: :func:`field_of` reads a mapping key or an attribute; :func:`as_int` and :func:`as_flag`
read PrestaShop's string scalars (``""`` and ``None`` are 0 / False) without raising on them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["field_of", "as_int", "as_flag"]


def field_of(item: Any, name: str, default: Any = None) -> Any:
    """Read ``name`` from a mapping (raw Webservice row) or an attribute (typed record)."""
    if isinstance(item, Mapping):
        return item.get(name, default)
    return getattr(item, name, default)


def as_int(value: Any) -> int:
    """``"12"``, ``12``, ``True`` -> int; ``None`` and ``""`` -> 0."""
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        return int(value)
    return int(str(value).strip() or 0)


def as_flag(value: Any) -> bool:
    """``"1"``/``True`` -> True; ``""``, ``"0"``, ``"false"`` -> False."""
    if isinstance(value, bool):
        return value
    return str(value).strip() not in ("", "0", "false", "False")
