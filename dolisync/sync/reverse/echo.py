"""Echo suppression towards the shop → ERP catalog flows.

When this direction writes a value into PrestaShop (a price, a quantity, a new product), the
shop → ERP flows will read it back on their next run. They skip a write when the hash of what
they would send equals the ``written_hash`` of their binding, so the echo is suppressed by
*priming* that hash with the value we just wrote — computed by the catalog's own code, never
by a copy of it:

* :meth:`CatalogEcho.in_sync` runs the catalog product script for the product *as it was
  before our write* in a dry context (no write is sent, no binding stored). When it would
  write nothing, the catalog was in step with the shop before our change.
* :meth:`CatalogEcho.prime` runs the same dry script for the product *as it is after our
  write* and stores the hashes it would have stored (product and combinations). The next real
  catalog run then finds nothing to do.

Priming happens only when :meth:`in_sync` said yes: a pending shop change the catalog has not
yet carried to Dolibarr is never hidden (it then travels once, carrying our value too — a
harmless, idempotent write). :func:`prime_stock` does the same for the catalog's stock rows,
whose hash is simply ``{"quantity", "warehouse"}``.
"""

from __future__ import annotations

from typing import Any

from dolisync.clients.prestashop_records import Product
from dolisync.mapping.catalog import CatalogOptions
from dolisync.store import Store
from dolisync.sync.binder import Binder, content_hash
from dolisync.sync.engine import catalog_options
from dolisync.sync.flows.adapters import DolibarrErp, PrestaShopShop
from dolisync.sync.flows.attributes import AttributeFlow
from dolisync.sync.flows.catalog_data import CatalogData
from dolisync.sync.flows.categories import CategoryFlow
from dolisync.sync.flows.context import BindingCache, FlowContext, SyncSettings
from dolisync.sync.flows.features import FeatureFlow
from dolisync.sync.flows.products import COMBINATION, PRODUCT, ProductFlow
from dolisync.sync.plan import SyncSummary

__all__ = ["CatalogEcho", "catalog_options", "prime_stock", "CATALOG_STOCK"]

CATALOG_STOCK = "stock"  # entity of the shop -> ERP stock flow (source id "<id_product>-<id_product_attribute>")


class CatalogEcho:
    """Dry runs of the catalog product script, to prime its hashes (see module docstring)."""

    def __init__(self, *, shop: Any, store: Store, shop_port: PrestaShopShop, dolibarr: Any, data: CatalogData,
                 options: CatalogOptions, enabled: bool = True) -> None:
        self.shop = shop
        self.store = store
        self.shop_port = shop_port
        self.dolibarr = dolibarr
        self.data = data
        self.options = options
        self.enabled = enabled

    def _dry(self) -> tuple[FlowContext, ProductFlow]:
        summary = SyncSummary(shop=self.shop.name, dry_run=True)
        erp = DolibarrErp(self.dolibarr, dry_run=True, plan=summary.plan)
        settings = SyncSettings(connection=self.shop.name, combinations=self.shop.combinations,
                                sync_stock=self.shop.sync_stock, default_warehouse=self.shop.default_warehouse or "",
                                concurrency=1)
        ctx = FlowContext(shop=self.shop_port, erp=erp, options=self.options, settings=settings,
                          bindings=BindingCache(Binder(self.store, self.shop.name), dry_run=True), summary=summary,
                          failures=None, progress=None, dry_run=True)
        categories = CategoryFlow(ctx, self.data)
        attributes = AttributeFlow(ctx, self.data)
        features = FeatureFlow(ctx, self.data)
        return ctx, ProductFlow(ctx, self.data, categories=categories, features=features, attributes=attributes)

    async def in_sync(self, product: Product) -> bool:
        """True when the catalog flow would write nothing for ``product`` as given."""
        if not self.enabled:
            return False
        ctx, flow = self._dry()
        if ctx.bindings.target(PRODUCT, product.id) is None or ctx.bindings.written_hash(PRODUCT, product.id) is None:
            return False
        await ctx.guard(PRODUCT, product.id, lambda: flow._sync_product(product))  # noqa: SLF001 - same script, dry
        return not ctx.summary.plan.writes and not ctx.summary.parked

    async def prime(self, product: Product) -> int:
        """Store the hashes the catalog flow would store for ``product``; number primed."""
        if not self.enabled:
            return 0
        ctx, flow = self._dry()
        before = {entity: {sid: b.written_hash for sid, b in ctx.bindings.entity(entity).items()}
                  for entity in (PRODUCT, COMBINATION)}
        await ctx.guard(PRODUCT, product.id, lambda: flow._sync_product(product))  # noqa: SLF001 - same script, dry
        if ctx.summary.parked:
            return 0
        binder = Binder(self.store, self.shop.name)
        primed = 0
        for entity in (PRODUCT, COMBINATION):
            for sid, binding in ctx.bindings.entity(entity).items():
                if binding.target_id.startswith("-") or binding.written_hash is None:
                    continue
                if before[entity].get(sid, "") != binding.written_hash:
                    if sid in before[entity]:
                        binder.set_hashes(entity, sid, written_hash=binding.written_hash)
                    else:
                        binder.bind(entity, sid, binding.target_id, written_hash=binding.written_hash)
                    primed += 1
        return primed


def prime_stock(bindings: BindingCache, *, id_product: int, id_product_attribute: int, doli_product_id: str,
                quantity: int, warehouse_id: int | None, old_quantity: int, force: bool) -> bool:
    """Prime the shop → ERP stock hash of one row with ``quantity``; True when primed.

    ``bindings`` is the run's catalog binding cache (write-behind). Without ``force`` only a row
    whose hash matched ``old_quantity`` (catalog in step) is primed.
    """
    if warehouse_id is None:
        return False
    source_id = f"{id_product}-{id_product_attribute}"
    digest = content_hash({"quantity": quantity, "warehouse": warehouse_id})
    if bindings.target(CATALOG_STOCK, source_id) is None:
        if not force:
            return False
    elif not force and bindings.written_hash(CATALOG_STOCK, source_id) != content_hash(
            {"quantity": old_quantity, "warehouse": warehouse_id}):
        return False
    bindings.bind(CATALOG_STOCK, source_id, bindings.target(CATALOG_STOCK, source_id) or doli_product_id,
                  written_hash=digest)
    return True
