"""The conflict log of field ownership, as lines for ``dolisync status`` and the dashboard.

Contract: :func:`conflict_lines` reads the newest conflicts of a shop from the journal
(``conflicts`` table, written by the Dolibarr → PrestaShop flows when a shop edit of a
Dolibarr-owned field is overwritten) and renders one plain line each; no I/O beyond the store.
"""

from __future__ import annotations

from dolisync.store import Conflict, Journal, Store

__all__ = ["conflict_lines", "recent_conflicts"]


def recent_conflicts(store: Store, shop: str | None = None, *, limit: int = 20) -> list[Conflict]:
    """The newest conflicts (of one shop, or of all), newest first."""
    return Journal(store).conflicts(connection=shop, limit=limit)


def conflict_lines(store: Store, shop: str | None = None, *, limit: int = 20) -> list[str]:
    """``2026-11-28 05:12 main erp_product 7 price: shop had {'price': '1.000000'} -> {'price': '20'}``."""
    return [
        f"{c.at:%Y-%m-%d %H:%M} {c.connection} {c.entity} {c.object_id} {c.field_group}: "
        f"shop had {c.old_value} -> {c.new_value}"
        for c in recent_conflicts(store, shop, limit=limit)
    ]
