"""Finding Dolibarr objects we may have created before: the crash-healing lookup.

Contract: an :class:`ErpIndex` is filled by **one** bulk listing (paged, ``properties``
trimmed) the first time a flow meets an item without binding, never one request per item.
It answers ``by_key(external key)`` and ``by_ref(ref)`` with every candidate id, so the flow
can adopt exactly one candidate, or park the item when there are several (never a duplicate).
Objects created during the run are added with :meth:`ErpIndex.add` so the index stays true.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from dolisync.sync.flows.context import AmbiguousMatch
from dolisync.sync.flows.ports import ErpPort

__all__ = ["ErpIndex", "pick_one"]


class ErpIndex:
    """Dolibarr ids by external key and by ref for one list endpoint (see module docstring)."""

    def __init__(self, erp: ErpPort, path: str, *, key_prefix: str, params: Mapping[str, Any] | None = None,
                 by_ref: bool = False) -> None:
        self.erp = erp
        self.path = path
        self.key_prefix = key_prefix
        self.params = dict(params or {})
        self.include_all = by_ref
        self._loaded = False
        self._lock = asyncio.Lock()
        self._by_key: dict[str, list[str]] = {}
        self._by_ref: dict[str, list[str]] = {}

    async def load(self) -> None:
        """Read the listing once (``ref_ext`` prefix filter unless refs are needed too)."""
        if self._loaded:
            return
        async with self._lock:
            if self._loaded:
                return
            params: dict[str, Any] = {"sortfield": "t.rowid", "sortorder": "ASC", **self.params,
                                      "properties": "id,ref,ref_ext,label,fk_parent"}
            if not self.include_all:
                params["sqlfilters"] = f"(t.ref_ext:like:'{self.key_prefix}%')"
            for row in await self.erp.list_all(self.path, params=params):
                self._remember(str(row.get("id")), str(row.get("ref") or ""), str(row.get("ref_ext") or ""))
            self._loaded = True

    def _remember(self, target_id: str, ref: str, key: str) -> None:
        if key:
            bucket = self._by_key.setdefault(key, [])
            if target_id not in bucket:
                bucket.append(target_id)
        if ref:
            bucket = self._by_ref.setdefault(ref, [])
            if target_id not in bucket:
                bucket.append(target_id)

    def add(self, target_id: object, *, ref: str = "", key: str = "") -> None:
        """Record an object created or re-keyed during the run."""
        self._remember(str(target_id), ref, key)

    async def by_key(self, key: str) -> list[str]:
        """Every Dolibarr id carrying external key ``key``."""
        await self.load()
        return list(self._by_key.get(key, []))

    async def by_ref(self, ref: str) -> list[str]:
        """Every Dolibarr id with business ref ``ref`` (only when built with ``by_ref``)."""
        await self.load()
        return list(self._by_ref.get(ref, []))


def pick_one(entity: str, source_id: object, candidates: list[str], what: str) -> str | None:
    """The only candidate, None when there is none; :class:`AmbiguousMatch` when several."""
    if not candidates:
        return None
    if len(candidates) > 1:
        ids = ", ".join(f"#{c}" for c in candidates)
        raise AmbiguousMatch(entity, str(source_id),
                             f"{len(candidates)} Dolibarr objects match by {what} ({ids}): keep one "
                             "(delete or re-reference the others) and retry; nothing was created")
    return candidates[0]
