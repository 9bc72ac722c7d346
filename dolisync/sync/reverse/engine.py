"""The Dolibarr → PrestaShop sync of one shop: runs the reverse flows, returns a summary.

Contract of :func:`sync_reverse`:

* ``entities`` picks flows among :data:`REVERSE_ENTITIES`; None = the flows switched on in the
  shop's ``erp_to_shop`` option (none by default). Order: new products, then (with fresh shop
  reads) stock, prices/product data, order states, invoice numbers.
* Every flow compares Dolibarr's value with the shop's before writing: equal values (our own
  echo coming back, or a shop already in step) cost no write. Ownership per field group
  decides the rest; overwritten shop edits of Dolibarr-owned fields go to the ``conflicts``
  journal (see :func:`dolisync.sync.reverse.conflicts.conflict_lines`).
* What this direction writes is primed into the shop → ERP flows' hashes
  (:mod:`dolisync.sync.reverse.echo`), so they do not send it back: no ping-pong.
* ``dry_run``: reads happen, no write is sent and no state is stored; the summary's ``plan``
  lists the writes. Bad items are parked with what to fix (failure queue); the run goes on.
* ``prestashop``/``dolibarr``: already-open clients to use; otherwise built from ``settings``
  and closed at the end. A run record (kind ``reverse``) is stored unless ``dry_run``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dolisync.clients.prestashop import PrestaShopClient
from dolisync.mapping.reverse import ReverseOptions
from dolisync.store import Store
from dolisync.sync.binder import Binder
from dolisync.sync.engine import StoreFailureSink
from dolisync.sync.failures import FailureQueue
from dolisync.sync.flows.adapters import DolibarrErp, PrestaShopShop
from dolisync.sync.flows.catalog_data import CatalogData
from dolisync.sync.flows.context import BindingCache, FlowContext, ProgressCallback, SyncSettings
from dolisync.sync.plan import SyncSummary
from dolisync.sync.reverse.combination_data import CombinationDataFlow
from dolisync.sync.reverse.combination_prices import CombinationPriceFlow
from dolisync.sync.reverse.context import ReverseRun
from dolisync.sync.reverse.data import ReverseData
from dolisync.sync.reverse.echo import CatalogEcho, catalog_options
from dolisync.sync.reverse.images import ReverseImageFlow
from dolisync.sync.reverse.new_products import NewProductFlow
from dolisync.sync.reverse.orders import InvoiceNumberFlow, OrderStateFlow
from dolisync.sync.reverse.product_fields import ProductFieldsFlow, groups_for
from dolisync.sync.reverse.stock import ReverseStockFlow
from dolisync.sync.run_frame import recorded_run

__all__ = ["REVERSE_ENTITIES", "sync_reverse"]

REVERSE_ENTITIES = ("new_products", "stock", "prices", "product_data", "order_states", "invoice_numbers")


async def sync_reverse(
    settings: Any,
    shop: Any,
    store: Store,
    *,
    entities: Sequence[str] | None = None,
    dry_run: bool = False,
    progress_callback: ProgressCallback | None = None,
    prestashop: PrestaShopClient | None = None,
    dolibarr: Any = None,
) -> SyncSummary:
    """Sync Dolibarr's changes into the shop ``shop`` (see module docstring)."""
    wanted = list(entities) if entities is not None else list(getattr(shop, "erp_to_shop", []) or [])
    unknown = [name for name in wanted if name not in REVERSE_ENTITIES]
    if unknown:
        raise ValueError(f"unknown entities {unknown}: choose among {', '.join(REVERSE_ENTITIES)}")
    summary = SyncSummary(shop=shop.name, dry_run=dry_run)
    async with recorded_run(summary, settings, shop, store, None if dry_run or not wanted else "reverse",
                            prestashop=prestashop, dolibarr=dolibarr) as (ps, doli):
        if wanted:
            await _run_flows(summary, wanted, settings, shop, store, ps, doli, dry_run=dry_run,
                             progress=progress_callback)
    return summary


async def _prime_created(shop: Any, store: Store, shop_port: PrestaShopShop, dolibarr: Any, data: ReverseData,
                         options: Any, created: list[int]) -> None:
    """Prime the catalog's hashes of products this run created in the shop (no echo update)."""
    echo = CatalogEcho(shop=shop, store=store, shop_port=shop_port, dolibarr=dolibarr, data=data.catalog,
                       options=options)
    products = await data.catalog.all_products()
    for product_id in created:
        if product_id in products:
            await echo.prime(products[product_id])


async def _run_flows(summary: SyncSummary, wanted: list[str], settings: Any, shop: Any, store: Store,
                     prestashop: PrestaShopClient, dolibarr: Any, *, dry_run: bool,
                     progress: ProgressCallback | None) -> None:
    failures = None if dry_run else StoreFailureSink(FailureQueue(store), shop.name)
    shop_port = PrestaShopShop(prestashop)
    erp = DolibarrErp(dolibarr, dry_run=dry_run, plan=summary.plan)
    options = await catalog_options(shop, shop_port, prestashop)
    sync_settings = SyncSettings(connection=shop.name, combinations=shop.combinations, sync_stock=shop.sync_stock,
                                 default_warehouse=shop.default_warehouse or "",
                                 concurrency=max(2, min(16, 2 * shop.concurrency)))
    bindings = BindingCache(Binder(store, shop.name), dry_run=dry_run)
    flow = FlowContext(shop=shop_port, erp=erp, options=options, settings=sync_settings, bindings=bindings,
                       summary=summary, failures=failures, progress=progress, dry_run=dry_run)
    id_shop = shop.id_shop or 1

    def fresh_data() -> ReverseData:
        return ReverseData(CatalogData(shop_port, erp, id_shop=id_shop), shop, bindings)

    data = fresh_data()
    reverse_options = ReverseOptions(
        price_level=shop.price_level, price_source=shop.price_source, stock_kind=shop.stock_kind,
        stock_buffer=shop.stock_buffer, weight_unit=options.weight_unit, dimension_unit=options.dimension_unit,
        languages=await data.languages(), ref_prefix=shop.ref_prefix,
    )
    run = ReverseRun(flow=flow, prestashop=prestashop, dolibarr=dolibarr, store=store, shop=shop, settings=settings,
                     options=reverse_options, ownership=dict(shop.ownership), dry_run=dry_run)
    try:
        await _flows(run, data, wanted, fresh_data, shop, store, shop_port, dolibarr, options, dry_run)
    finally:
        run.flush()  # what was done is recorded, even when the run stops on an error


async def _flows(run: ReverseRun, data: ReverseData, wanted: list[str], fresh_data: Any, shop: Any, store: Store,
                 shop_port: PrestaShopShop, dolibarr: Any, options: Any, dry_run: bool) -> None:
    if "new_products" in wanted:
        echo = CatalogEcho(shop=shop, store=store, shop_port=shop_port, dolibarr=dolibarr, data=data.catalog,
                           options=options, enabled=not dry_run)
        new_products = NewProductFlow(run, data, echo)
        if await new_products.run_all():
            run.flush()
            data = fresh_data()  # the shop now has new products, combinations and stock rows
            await _prime_created(shop, store, shop_port, dolibarr, data, options, new_products.created)
    if "stock" in wanted:
        await ReverseStockFlow(run, data).run_all()
    groups = groups_for(set(wanted), shop.descriptions_on_update)
    if groups:
        echo = CatalogEcho(shop=shop, store=store, shop_port=shop_port, dolibarr=dolibarr, data=data.catalog,
                           options=options, enabled=not dry_run)
        await ProductFieldsFlow(run, data, echo, groups).run_all()
        if "prices" in wanted:
            await CombinationPriceFlow(run, data, echo).run_all()
        if "product_data" in wanted:
            await CombinationDataFlow(run, data, echo).run_all()
            await ReverseImageFlow(run, data).run_all()
    if "order_states" in wanted:
        await OrderStateFlow(run).run_all()
    if "invoice_numbers" in wanted:
        await InvoiceNumberFlow(run).run_all()
