"""Base of the PrestaShop records: the frozen model every record extends, and association items.

Contract: :class:`PsRecord` ignores unknown fields and always has an ``id`` (``int``);
:func:`association_items` turns an association value (a JSON list, ``None`` items included,
or an XML-shaped dict) into a list of item dicts.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from dolisync.clients.fields import Int

__all__ = ["PsRecord", "association_items"]


class PsRecord(BaseModel):
    """Base of every PrestaShop record: frozen, unknown fields ignored, ``id`` always present."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: Int = 0


def association_items(value: object) -> list[dict[str, Any]]:
    """Association items as a list of dicts (``None`` items dropped)."""
    if value is None or value == "":
        return []
    if isinstance(value, dict):
        inner = list(value.values())
        value = inner[0] if len(inner) == 1 and isinstance(inner[0], list) else [value]
    if not isinstance(value, list):
        raise ValueError(f"not an association list: {value!r}")
    return [item for item in value if isinstance(item, dict)]


