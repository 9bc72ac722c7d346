"""The catalog sync of one shop: runs the entity flows in dependency order, returns a summary.

Contract of :func:`sync_catalog`:

* ``entities`` picks what to sync among :data:`ENTITIES` (None = all); dependencies of what
  is picked are synced as needed (a product's missing category is created first), not
  skipped. Categories, attributes, features and products run together (a product waits only
  for the objects it needs); then stock, specific prices and images.
* ``since`` limits products (and their stock and images) to those changed after it;
  None = everything (unchanged items cost reads only: hashes skip their writes).
* ``dry_run``: reads happen, no write is sent and no binding or failure is stored; the
  summary's ``plan`` lists every write that would have been made.
* Bad items are parked (failure queue) with a message saying what to fix; the run goes on.
  The summary counts per entity, the parked items, warnings (e.g. invalid barcode not sent),
  not-mappable items (specific prices) and the requests sent to each remote.
* A run record is stored (``runs``) unless ``dry_run``.
* ``prestashop``/``dolibarr``: already-open clients to use (tests, demo, several shops
  sharing one Dolibarr client); otherwise clients are built from ``settings`` and closed at
  the end.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from dolisync.clients.dolibarr_records import DoliCompany
from dolisync.clients.errors import MalformedResponse
from dolisync.clients.prestashop import PrestaShopClient
from dolisync.mapping.catalog import CatalogOptions
from dolisync.mapping.errors import MappingError
from dolisync.store import Store
from dolisync.sync.binder import Binder, BindingConflict
from dolisync.sync.failures import FailureKey, FailureQueue, ItemError
from dolisync.sync.flows.adapters import DolibarrErp, PrestaShopShop, entity_of_resource
from dolisync.sync.flows.attributes import AttributeFlow
from dolisync.sync.flows.catalog_data import CatalogData
from dolisync.sync.flows.categories import CategoryFlow
from dolisync.sync.flows.context import BindingCache, FlowContext, ProgressCallback, SyncSettings
from dolisync.sync.flows.features import FeatureFlow
from dolisync.sync.flows.images import ImageFlow
from dolisync.sync.flows.products import ProductFlow
from dolisync.sync.flows.shop_setup import shop_currency, shop_language_ids, shop_units
from dolisync.sync.flows.specific_prices import SpecificPriceFlow
from dolisync.sync.flows.stock import StockFlow
from dolisync.sync.plan import ParkedItem, SyncSummary
from dolisync.sync.run_frame import recorded_run

__all__ = ["ENTITIES", "sync_catalog", "catalog_options", "StoreFailureSink"]

ENTITIES = ("categories", "attributes", "features", "products", "stock", "specific_prices", "images")


class StoreFailureSink:
    """:class:`~dolisync.sync.flows.context.FailureSink` over the store's failure queue.

    Loads the connection's open failures once, so resolving a healthy item costs nothing.
    """

    def __init__(self, queue: FailureQueue, connection: str) -> None:
        self.queue = queue
        self.connection = connection
        self._open = {(f.key.entity, f.key.source_id) for f in queue.list(connection=connection, limit=1_000_000)}

    def park(self, entity: str, source_id: str, error_class: str, message: str, *, retry: bool) -> None:
        """``retry=False`` (bad input, warnings: a person must act) parks at once — no automatic retries;
        the item comes back with its next change or ``dolisync retry``."""
        self.queue.record(FailureKey(self.connection, entity, source_id), ItemError(error_class, message),
                          park=not retry)
        self._open.add((entity, source_id))

    def resolve(self, entity: str, source_id: str) -> None:
        if (entity, source_id) in self._open:
            self.queue.resolve(FailureKey(self.connection, entity, source_id))
            self._open.discard((entity, source_id))


async def sync_catalog(
    settings: Any,
    shop: Any,
    store: Store,
    *,
    entities: Sequence[str] | None = None,
    since: datetime | None = None,
    dry_run: bool = False,
    progress_callback: ProgressCallback | None = None,
    prestashop: PrestaShopClient | None = None,
    dolibarr: Any = None,
    full_images: bool = False,
) -> SyncSummary:
    """Sync the catalog of ``shop`` into Dolibarr (see module docstring)."""
    wanted = list(ENTITIES if not entities else entities)
    unknown = [name for name in wanted if name not in ENTITIES]
    if unknown:
        raise ValueError(f"unknown entities {unknown}: choose among {', '.join(ENTITIES)}")
    summary = SyncSummary(shop=shop.name, dry_run=dry_run)
    if (getattr(shop, "ownership", None) or {}).get("images") == "dolibarr" and "images" in wanted:
        wanted = [name for name in wanted if name != "images"]  # Dolibarr's documents rule (docs/reverse.md)
        if entities:  # asked for by name: say why nothing happens
            summary.warnings.append(ParkedItem(
                "images", "*", "Ownership", "images are owned by Dolibarr (ownership.images = \"dolibarr\"): the shop's "
                "images are not copied to Dolibarr; `dolisync sync --reverse` sends Dolibarr's to the shop"))
    async with recorded_run(summary, settings, shop, store, None if dry_run else "sync",
                            prestashop=prestashop, dolibarr=dolibarr) as (ps, doli):
        await _run_flows(summary, wanted, settings, shop, store, ps, doli, since=since, dry_run=dry_run,
                         progress=progress_callback, full_images=full_images)
    return summary


async def _run_flows(summary: SyncSummary, wanted: list[str], settings: Any, shop: Any, store: Store,
                     prestashop: PrestaShopClient, dolibarr: Any, *, since: datetime | None, dry_run: bool,
                     progress: ProgressCallback | None, full_images: bool) -> None:
    failures = None if dry_run else StoreFailureSink(FailureQueue(store), shop.name)

    def on_bad_item(resource: str, source_id: str, error: MalformedResponse) -> None:
        entity = entity_of_resource(resource)
        message = (f"{entity} {source_id}: PrestaShop sent data that cannot be read ({error.message}): "
                   "open the object in the back office and save it again, or fix the field named")
        summary.counts(entity).add("parked")
        summary.parked.append(ParkedItem(entity, source_id, type(error).__name__, message))
        if failures is not None:
            failures.park(entity, source_id, type(error).__name__, message, retry=True)

    shop_port = PrestaShopShop(prestashop, on_bad_item=on_bad_item)
    erp = DolibarrErp(dolibarr, dry_run=dry_run, plan=summary.plan)
    id_shop = shop.id_shop or 1
    options = await catalog_options(shop, shop_port, prestashop)
    await _check_currency(prestashop, erp, id_shop, shop.name)
    sync_settings = SyncSettings(connection=shop.name, combinations=shop.combinations, sync_stock=shop.sync_stock,
                                 default_warehouse=shop.default_warehouse or "",
                                 concurrency=max(2, min(16, 2 * settings.dolibarr.concurrency)))
    def on_conflict(conflict: BindingConflict) -> None:
        message = f"{conflict.entity} {conflict.source_id}: {conflict.hint}"
        summary.counts(conflict.entity).add("parked")
        summary.parked.append(ParkedItem(conflict.entity, conflict.source_id, "BindingConflict", message))
        if failures is not None:
            failures.park(conflict.entity, conflict.source_id, "BindingConflict", message, retry=False)

    bindings = BindingCache(Binder(store, shop.name), dry_run=dry_run, on_conflict=on_conflict)
    ctx = FlowContext(shop=shop_port, erp=erp, options=options, settings=sync_settings, bindings=bindings,
                      summary=summary, failures=failures, progress=progress, dry_run=dry_run)
    try:
        await _flows(ctx, CatalogData(shop_port, erp, id_shop=id_shop, since=since), wanted,
                     full_images=full_images)
    except Exception:
        bindings.flush()  # what was done is recorded when the run stops on an error
        raise
    bindings.flush()
    # A dying process (KeyboardInterrupt, cancellation, kill) flushes nothing: the bindings
    # it loses are found again by external key on the next run (see BindingCache).


async def catalog_options(shop: Any, shop_port: PrestaShopShop, prestashop: PrestaShopClient) -> CatalogOptions:
    """The catalog mapping options of ``shop`` (its settings plus the shop's language ids and units).

    The one place they are built: the catalog run and the reverse flows' echo priming
    (:mod:`dolisync.sync.reverse.echo`) must map a product identically.
    """
    language_id, fallback_id = await shop_language_ids(shop_port, shop.language)
    weight_unit, dimension_unit = await shop_units(prestashop, shop.id_shop or 1)
    return CatalogOptions(
        shop_name=shop.name, language_id=language_id, fallback_language_id=fallback_id,
        price_base=shop.price_base, ref_prefix=shop.ref_prefix, matching=shop.matching,
        sync_descriptions=shop.sync_descriptions, weight_unit=weight_unit, dimension_unit=dimension_unit,
    )


async def _check_currency(prestashop: PrestaShopClient, erp: DolibarrErp, id_shop: int, shop_name: str) -> None:
    """Product prices are copied as they are: the shop and Dolibarr must count in one currency."""
    shop_iso = await shop_currency(prestashop, id_shop)
    company = DoliCompany.model_validate(await erp.get("/setup/company"))
    erp_iso = company.currency_code.upper()
    if shop_iso and erp_iso and shop_iso != erp_iso:
        raise MappingError("configuration", shop_name, "currency", shop_iso,
                           f"the shop's prices are in {shop_iso} but Dolibarr's company currency is {erp_iso}: "
                           "product prices cannot be copied as they are; sync this shop into a Dolibarr "
                           "that keeps its books in the same currency")


async def _flows(ctx: FlowContext, data: CatalogData, wanted: list[str], *, full_images: bool) -> None:
    """The entity flows, in dependency order; bindings flushed after each one."""
    sync_settings = ctx.settings
    categories = CategoryFlow(ctx, data)
    attributes = AttributeFlow(ctx, data)
    features = FeatureFlow(ctx, data)
    products = ProductFlow(ctx, data, categories=categories, features=features, attributes=attributes)
    # Two phases. Inside a phase the flows run concurrently (the HTTP clients bound what is in
    # flight): products resolve the categories, attribute values and extrafields they need on
    # demand, with per-object locks, so nothing waits for a whole phase to end.

    async def prefetch_stock() -> None:
        """Read the stock listing while the products are written (the stock flow needs it next);
        an error is left for the stock flow to meet and report."""
        with contextlib.suppress(Exception):
            await data.stock_levels()

    phases = [
        [("stock", sync_settings.sync_stock, prefetch_stock),
         ("categories", True, categories.run),
         ("attributes", sync_settings.combinations == "variants", attributes.run),
         # the products flow ensures the features of each page it syncs (one walk of the products)
         ("features", "products" not in wanted, features.run),
         ("products", True, products.run)],
        [("stock", sync_settings.sync_stock, StockFlow(ctx, data, products).run),
         ("specific_prices", True, SpecificPriceFlow(ctx, data).run),
         ("images", True, ImageFlow(ctx, data, products, full=full_images).run)],
    ]
    for phase in phases:
        steps = [step for name, enabled, step in phase if name in wanted and enabled]
        if steps:
            await _together(steps)
            ctx.bindings.flush()


async def _together(steps: list[Any]) -> None:
    """Run flows concurrently; the first error cancels the others and is raised as itself."""
    try:
        async with asyncio.TaskGroup() as group:
            for step in steps:
                group.create_task(step())
    except BaseExceptionGroup as errors:
        first = errors.exceptions[0]
        while isinstance(first, BaseExceptionGroup):
            first = first.exceptions[0]
        raise first from None
