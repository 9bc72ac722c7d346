"""Seedable, deterministic store generator (PrestaShop dataset + Dolibarr setup).

Public API:

* :func:`generate_store` -> :class:`GeneratedStore` (``prestashop``: PrestaShopDataset,
  ``dolibarr``: DolibarrSetup).
* :class:`OrderFactory` / :class:`OrderDraft`: build one new consistent order from the current
  catalogue and insert it through any ``insert(resource, row) -> id`` (the activity simulator
  uses ``PrestaShopStore.insert``).
* :class:`TableInserter`: that ``insert`` over plain tables.
"""

from __future__ import annotations

from dolisync.emulators.generator.catalog import CatalogOptions
from dolisync.emulators.generator.orders import OrderDraft, OrderFactory, OrderMix
from dolisync.emulators.generator.store import DEFAULT_API_KEY, GeneratedStore, TableInserter, generate_store

__all__ = [
    "CatalogOptions",
    "DEFAULT_API_KEY",
    "GeneratedStore",
    "OrderDraft",
    "OrderFactory",
    "OrderMix",
    "TableInserter",
    "generate_store",
]
