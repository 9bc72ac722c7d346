"""Dolibarr → PrestaShop flows (stock, prices, product data, new products, order states,
invoice numbers) with field ownership and echo suppression; entry point :func:`sync_reverse`."""

from __future__ import annotations

from dolisync.sync.reverse.engine import REVERSE_ENTITIES, sync_reverse

__all__ = ["REVERSE_ENTITIES", "sync_reverse"]
