"""Products of order lines: their Dolibarr ids, syncing an unbound product through the catalog flow.

Contract: :meth:`CatalogBridge.product_ids` returns the bound Dolibarr product of each
``(product_id, product_attribute_id)`` an order needs. A key that is not bound yet is synced
now by the catalog's :class:`~dolisync.sync.flows.products.ProductFlow` (same bindings, same
rules; nothing is duplicated here). A key that stays unbound (product deleted in PrestaShop,
or parked by the catalog flow) is left out: the order mapping then raises a
:class:`~dolisync.mapping.errors.MappingError` naming the products to sync first, and the
order is parked. The catalog flow is built lazily, once per run, and only when needed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from dolisync.mapping.catalog import CatalogOptions
from dolisync.mapping.order_input import ProductKey
from dolisync.sync.binder import Binder
from dolisync.sync.engine import StoreFailureSink
from dolisync.sync.failures import FailureQueue
from dolisync.sync.flows.adapters import DolibarrErp, PrestaShopShop
from dolisync.sync.flows.attributes import AttributeFlow
from dolisync.sync.flows.catalog_data import CatalogData
from dolisync.sync.flows.categories import CategoryFlow
from dolisync.sync.flows.context import BindingCache, FlowContext, SyncSettings
from dolisync.sync.flows.features import FeatureFlow
from dolisync.sync.flows.products import ProductFlow, owner_of
from dolisync.sync.flows.shop_setup import shop_language_ids, shop_units
from dolisync.sync.orders.context import OrderRun

__all__ = ["CatalogBridge"]


class CatalogBridge:
    """Product bindings for order lines (see module docstring)."""

    def __init__(self, run: OrderRun) -> None:
        self.run = run
        self._flow: ProductFlow | None = None
        self._bindings: BindingCache | None = None
        self._lock = asyncio.Lock()

    def _bound(self, key: ProductKey) -> int | None:
        entity, source_id = owner_of(*key)
        target = self.run.bindings.target_for(entity, source_id)
        return int(target) if target is not None else None

    async def product_ids(self, keys: Iterable[ProductKey]) -> dict[ProductKey, int]:
        """Bound Dolibarr ids of ``keys``; unbound ones are synced first, missing ones left out."""
        out: dict[ProductKey, int] = {}
        for key in keys:
            target = self._bound(key)
            if target is None and not self.run.dry_run:
                flow = await self._product_flow()
                found = await flow.target_for(*key)
                if self._bindings is not None:
                    self._bindings.flush()  # the catalog batches its bindings: store them now
                target = int(found) if found is not None else None
            if target is not None:
                out[key] = target
        return out

    async def _product_flow(self) -> ProductFlow:
        async with self._lock:
            if self._flow is None:
                self._flow = await self._build()
            return self._flow

    async def _build(self) -> ProductFlow:
        run = self.run
        shop, settings = run.shop, run.settings
        shop_port = PrestaShopShop(run.prestashop)
        erp = DolibarrErp(run.dolibarr)
        id_shop = shop.id_shop or 1
        language_id, fallback_id = await shop_language_ids(shop_port, shop.language)
        weight_unit, dimension_unit = await shop_units(run.prestashop, id_shop)
        options = CatalogOptions(
            shop_name=shop.name, language_id=language_id, fallback_language_id=fallback_id,
            price_base=shop.price_base, ref_prefix=shop.ref_prefix, matching=shop.matching,
            sync_descriptions=shop.sync_descriptions, weight_unit=weight_unit, dimension_unit=dimension_unit,
        )
        sync_settings = SyncSettings(connection=shop.name, combinations=shop.combinations,
                                     sync_stock=shop.sync_stock, default_warehouse=shop.default_warehouse or "",
                                     concurrency=max(2, min(16, 2 * settings.dolibarr.concurrency)))
        self._bindings = BindingCache(Binder(run.store, shop.name), dry_run=False)
        ctx = FlowContext(shop=shop_port, erp=erp, options=options, settings=sync_settings,
                          bindings=self._bindings, summary=run.summary,
                          failures=StoreFailureSink(FailureQueue(run.store), shop.name), dry_run=False)
        data = CatalogData(shop_port, erp, id_shop=id_shop)
        categories = CategoryFlow(ctx, data)
        return ProductFlow(ctx, data, categories=categories, features=FeatureFlow(ctx, data),
                           attributes=AttributeFlow(ctx, data))
