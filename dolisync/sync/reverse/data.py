"""The Dolibarr side of a Dolibarr → PrestaShop run, read in bulk, once, lazily.

Contract: like :class:`~dolisync.sync.flows.catalog_data.CatalogData` (which this run also
uses for the shop side), each accessor reads its resource the first time it is awaited (one
paged listing) and returns the cached result afterwards. Nothing here writes.

* :meth:`ReverseData.products` — every Dolibarr product with its stock per warehouse
  (``includestockdata=1``), by id (raw JSON dicts: the mappers need ``multiprices``,
  ``multilangs`` and ``stock_warehouse``).
* :meth:`ReverseData.warehouse_ids` — the warehouses summed for this shop: ``stock_warehouses``
  refs, else ``default_warehouse``, else None (= every warehouse). An unknown ref raises a
  :class:`MappingError` naming the known ones.
* :meth:`ReverseData.variant_children` — ids of Dolibarr variant children (never shop products
  of their own).
* :meth:`ReverseData.bound_products` — each shop product bound (catalog entity ``product``) to a
  Dolibarr product that exists, with that product.
* :meth:`ReverseData.category_members` — the products of each Dolibarr category linked to a
  shop category (one listing per category).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from dolisync.clients.errors import NotFound
from dolisync.clients.prestashop_records import Language, Product
from dolisync.mapping.errors import MappingError
from dolisync.sync.flows.catalog_data import CatalogData
from dolisync.sync.flows.products import PRODUCT

__all__ = ["ReverseData"]

T = TypeVar("T")


class ReverseData:
    """Cached Dolibarr reads of one run (see module docstring)."""

    def __init__(self, catalog: CatalogData, shop: Any, bindings: Any) -> None:
        self.catalog = catalog
        self.shop = shop
        self.bindings = bindings
        self._cache: dict[str, Any] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def _once(self, name: str, load: Callable[[], Awaitable[T]]) -> T:
        if name not in self._cache:
            async with self._locks.setdefault(name, asyncio.Lock()):
                if name not in self._cache:
                    self._cache[name] = await load()
        return self._cache[name]  # type: ignore[no-any-return]

    def forget(self, *names: str) -> None:
        """Drop cached reads (after this run created objects they describe)."""
        for name in names:
            self._cache.pop(name, None)

    async def products(self) -> dict[str, dict[str, Any]]:
        """Every Dolibarr product (with stock per warehouse), by id as text."""
        async def load() -> dict[str, dict[str, Any]]:
            rows = await self.catalog.erp.list_all("/products", params={"includestockdata": 1,
                                                                        "sortfield": "t.rowid"})
            return {str(row["id"]): row for row in rows if isinstance(row, dict) and "id" in row}
        return await self._once("products", load)

    async def bound_products(self, catalog_bindings: Any) -> list[tuple[Product, dict[str, Any]]]:
        """``(shop product, Dolibarr product)`` for every ``product`` binding whose two sides exist."""
        shop_products = await self.catalog.all_products()
        doli_products = await self.products()
        pairs = []
        for source_id, binding in catalog_bindings.entity(PRODUCT).items():
            if source_id.isdigit() and int(source_id) in shop_products and binding.target_id in doli_products:
                pairs.append((shop_products[int(source_id)], doli_products[binding.target_id]))
        return pairs

    async def variant_children(self) -> set[str]:
        """Ids of Dolibarr products that are variant children (``variant_filter=3``)."""
        async def load() -> set[str]:
            rows = await self.catalog.erp.list_all("/products", params={"variant_filter": 3, "properties": "id",
                                                                        "sortfield": "t.rowid"})
            return {str(row["id"]) for row in rows if isinstance(row, dict) and "id" in row}
        return await self._once("variant_children", load)

    async def warehouse_ids(self) -> frozenset[int] | None:
        """Warehouses summed for this shop (None = all), see module docstring."""
        async def load() -> frozenset[int] | None:
            names = [name.strip() for name in self.shop.stock_warehouses if name.strip()]
            if not names and (self.shop.default_warehouse or "").strip():
                names = [self.shop.default_warehouse.strip()]
            if not names:
                return None
            warehouses = await self.catalog.warehouses()
            chosen: set[int] = set()
            for name in names:
                match = [w.id for w in warehouses if name in (w.ref, w.label, str(w.id))]
                if not match:
                    known = ", ".join(sorted(w.ref or w.label for w in warehouses)) or "none"
                    raise MappingError("configuration", self.shop.name, "stock_warehouses", name,
                                       f"no Dolibarr warehouse has this ref (known: {known}): fix stock_warehouses "
                                       "(or default_warehouse) in the [[shop]] entry")
                chosen.update(match)
            return frozenset(chosen)
        return await self._once("warehouse_ids", load)

    async def catalog_warehouse_id(self) -> int | None:
        """The warehouse the shop → ERP stock flow writes to (its hash includes it), or None."""
        name = (self.shop.default_warehouse or "").strip()
        warehouses = await self.catalog.warehouses()
        for warehouse in warehouses:
            if name and name in (warehouse.ref, warehouse.label, str(warehouse.id)):
                return warehouse.id
        return warehouses[0].id if not name and len(warehouses) == 1 else None

    async def category_members(self, category_ids: list[str]) -> dict[str, frozenset[str]]:
        """Dolibarr category id -> ids of its products, for the given categories (one
        ``GET /categories/{id}/objects?type=product&onlyids=1`` each, the first time)."""
        async def load() -> dict[str, frozenset[str]]:
            members: dict[str, frozenset[str]] = {}
            for category_id in sorted(set(category_ids)):
                try:
                    rows = await self.catalog.erp.get(f"/categories/{category_id}/objects",
                                                      params={"type": "product", "onlyids": 1})
                except NotFound:
                    rows = []
                members[category_id] = frozenset(str(row.get("id") if isinstance(row, dict) else row)
                                                 for row in rows or [])
            return members
        return await self._once("category_members", load)

    async def languages(self) -> dict[int, str]:
        """PrestaShop language id -> ISO code."""
        async def load() -> dict[int, str]:
            return {lang.id: lang.iso_code for lang in await self.catalog.shop.list_all("languages", Language)}
        return await self._once("languages", load)
