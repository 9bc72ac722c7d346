"""Entry points of the order flows (what the CLI calls).

* :func:`sync_orders` — orders of one shop (all, ``since`` a creation date, or ``ids`` /
  references), with their customers, invoices, payments and later state changes.
* :func:`sync_customers` — customers (and their addresses) of one shop, ``since`` a date.
* :func:`retry_orders` — the orders in the failure queue (one key, or all), re-run now.
* :func:`reconcile_report` — per order and document, the last reconciliation stored.

``transports``: optional ``{"prestashop": transport, "dolibarr": transport}`` (in-process
emulators in tests and benchmarks); clients are otherwise built from the settings. Returns a
:class:`~dolisync.sync.plan.SyncSummary` (``entities``: orders, customers, invoices, payments).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from dolisync.clients.dolibarr import DolibarrClient
from dolisync.clients.errors import RemoteError
from dolisync.clients.prestashop import PrestaShopClient
from dolisync.config import Settings, ShopSettings
from dolisync.store import Store
from dolisync.store.journal import Journal
from dolisync.sync.failures import FailureKey, FailureQueue
from dolisync.sync.orders.context import BULK_LOOKUP_FROM, OrderRun, OrderSyncOptions, ProgressCallback
from dolisync.sync.orders.customers import AmbiguousCustomer, CustomerSync
from dolisync.sync.orders.engine import ENTITY, OrderEngine
from dolisync.sync.orders.erp_setup import ErpSetup, SetupProblem
from dolisync.sync.orders.rules import UnknownState, resolve_rules
from dolisync.sync.orders.setup_cache import SetupCache, SetupFacts
from dolisync.sync.orders.shop_reader import CHUNK, ShopReader
from dolisync.sync.plan import SyncSummary
from dolisync.sync.runs import RunRecorder

__all__ = ["sync_orders", "sync_customers", "retry_orders", "reconcile_report"]


async def _open_run(settings: Settings, shop: ShopSettings, store: Store, summary: SyncSummary,
                    transports: Mapping[str, Any] | None, *, dry_run: bool, bulk: bool,
                    options: OrderSyncOptions | None, progress: ProgressCallback | None,
                    setup_cache: SetupCache | None = None) -> tuple[OrderRun, PrestaShopClient, DolibarrClient]:
    transports = transports or {}
    prestashop = PrestaShopClient.from_settings(shop, transport=transports.get("prestashop"))
    dolibarr = DolibarrClient.from_settings(settings.dolibarr, transport=transports.get("dolibarr"))
    await prestashop.open()
    await dolibarr.open()
    try:
        cached = setup_cache.get(shop.name) if setup_cache is not None else None
        reader = ShopReader(prestashop, cached.reference if cached else None)
        reference = await reader.reference()
        erp = cached.erp if cached else await ErpSetup.load(dolibarr)
        if setup_cache is not None and cached is None:
            setup_cache.put(shop.name, SetupFacts(reference, erp))
        rules = resolve_rules(shop.order_state_rules, reference.states)
    except BaseException:
        await prestashop.aclose()
        await dolibarr.aclose()
        raise
    run = OrderRun(settings=settings, shop=shop, store=store, prestashop=prestashop, dolibarr=dolibarr,
                   reader=reader, reference=reference, erp=erp, rules=rules, summary=summary,
                   options=options or OrderSyncOptions.from_shop(shop), dry_run=dry_run, bulk_lookup=bulk, progress=progress)
    return run, prestashop, dolibarr


def _finish(summary: SyncSummary, store: Store, shop: ShopSettings, started: float, kind: str,
            clients: tuple[PrestaShopClient, DolibarrClient] | None, dry_run: bool) -> None:
    if clients is not None:
        ps, doli = clients[0].stats(), clients[1].stats()
        summary.requests["prestashop"].reads, summary.requests["prestashop"].writes = ps.reads, ps.writes
        summary.requests["dolibarr"].reads, summary.requests["dolibarr"].writes = doli.reads, doli.writes
    summary.duration_seconds = time.monotonic() - started
    if not dry_run:
        summary.record(RunRecorder(store).start(shop.name, kind))


async def sync_orders(settings: Settings, shop: ShopSettings, store: Store, *, since: datetime | None = None,
                      ids: Iterable[str | int] | None = None, dry_run: bool = False,
                      progress_callback: ProgressCallback | None = None, transports: Mapping[str, Any] | None = None,
                      options: OrderSyncOptions | None = None, changed_since: datetime | None = None,
                      setup_cache: SetupCache | None = None) -> SyncSummary:
    """Sync the orders of ``shop`` into Dolibarr (see module docstring).

    ``changed_since`` (shop local time) picks the orders whose ``date_upd`` is later — what a
    periodic poll passes (its cursor minus an overlap); unchanged orders cost no Dolibarr request.
    ``setup_cache``: the service's per-process cache of setup facts (one-order jobs); cleared for
    the shop when the run parks or fails anything, so a person's fix is read by the next run.
    """
    started = time.monotonic()
    summary = SyncSummary(shop=shop.name, dry_run=dry_run)
    clients = None
    try:
        wanted = None if ids is None else [str(i) for i in ids]
        bulk = wanted is None or len(wanted) >= BULK_LOOKUP_FROM
        run, prestashop, dolibarr = await _open_run(settings, shop, store, summary, transports, dry_run=dry_run,
                                                    bulk=bulk, options=options, progress=progress_callback,
                                                    setup_cache=setup_cache)
        clients = (prestashop, dolibarr)
        try:
            engine = OrderEngine(run)
            order_ids = await run.reader.order_ids(since=since, ids=wanted, changed_since=changed_since)
            semaphore = asyncio.Semaphore(max(1, run.options.concurrency))

            async def one(bundle: Any) -> None:
                async with semaphore:
                    await engine.sync(bundle)

            for start in range(0, len(order_ids), CHUNK * 5):
                bundles = await run.reader.bundles(order_ids[start:start + CHUNK * 5])
                await asyncio.gather(*(one(bundle) for bundle in bundles))
        finally:
            await prestashop.aclose()
            await dolibarr.aclose()
    except (UnknownState, SetupProblem) as error:
        summary.error = str(error)
    except RemoteError as error:
        summary.error = str(error)
    finally:
        if setup_cache is not None and (summary.error or summary.parked):
            setup_cache.clear(shop.name)
        _finish(summary, store, shop, started, "orders", clients, dry_run)
    return summary


async def sync_customers(settings: Settings, shop: ShopSettings, store: Store, *, since: datetime | None = None,
                         dry_run: bool = False, progress_callback: ProgressCallback | None = None,
                         transports: Mapping[str, Any] | None = None,
                         options: OrderSyncOptions | None = None) -> SyncSummary:
    """Sync customers (created since ``since``) and their addresses into Dolibarr."""
    started = time.monotonic()
    summary = SyncSummary(shop=shop.name, dry_run=dry_run)
    clients = None
    try:
        run, prestashop, dolibarr = await _open_run(settings, shop, store, summary, transports, dry_run=dry_run,
                                                    bulk=True, options=options, progress=progress_callback)
        clients = (prestashop, dolibarr)
        try:
            flow = CustomerSync(run)
            ids = await run.reader.customer_ids(since=since)
            customers, addresses = await run.reader.customers(ids)
            for customer_id in sorted(customers):
                customer = customers[customer_id]
                if customer.deleted:
                    continue
                own = addresses.get(customer_id, [])
                try:
                    before = run.bindings.target_for("customer", customer_id)
                    socid = await flow.thirdparty_for(customer, own[0] if own else None)
                    for address in own:
                        await flow.contact_for(address, socid, customer.email)
                except (AmbiguousCustomer, SetupProblem) as error:
                    run.park("customers", customer_id, error, str(error))
                    continue
                if before is not None:
                    run.count("customers", "unchanged")
                run.resolve("customers", customer_id)
        finally:
            await prestashop.aclose()
            await dolibarr.aclose()
    except (UnknownState, SetupProblem, RemoteError) as error:
        summary.error = str(error)
    finally:
        _finish(summary, store, shop, started, "customers", clients, dry_run)
    return summary


async def retry_orders(settings: Settings, shop: ShopSettings, store: Store, *, key: str | None = None,
                       transports: Mapping[str, Any] | None = None,
                       options: OrderSyncOptions | None = None) -> SyncSummary:
    """Re-run the parked/failed orders of ``shop`` now (``key`` = one failure key, else all)."""
    queue = FailureQueue(store)
    if key is not None:
        wanted = FailureKey.parse(key)
        queue.retry(wanted)
        ids = [wanted.source_id] if wanted.entity == ENTITY else []
    else:
        queue.retry(connection=shop.name)
        ids = [f.key.source_id for f in queue.list(connection=shop.name, limit=1_000_000) if f.key.entity == ENTITY]
    return await sync_orders(settings, shop, store, ids=ids, transports=transports, options=options)


def reconcile_report(settings: Settings, store: Store, shop: str | None = None) -> list[dict[str, Any]]:
    """The last reconciliation of each order's order and invoice (newest orders first).

    Each item: ``shop`` (connection), ``order_id``, ``document``, ``reference``, ``currency``,
    ``shop_totals``/``erp_totals``/``delta`` (strings), ``exact``, ``fix``, ``adjustment``,
    ``shipping``/``discounts`` comparisons, ``at``.
    """
    names = [shop] if shop is not None else [s.name for s in settings.shop] or [None]
    seen: set[tuple[str, str, str]] = set()
    out: list[dict[str, Any]] = []
    for name in names:
        for record in Journal(store).reconciliations(connection=name, limit=10_000_000):
            try:
                detail = json.loads(record.fix_applied or "{}")
            except ValueError:
                detail = {"fix": record.fix_applied}
            document = str(detail.get("document") or "order")
            marker = (record.connection, record.order_id, document)
            if marker in seen:
                continue
            seen.add(marker)
            shop_totals = {k: f"{v:f}" for k, v in record.shop_totals.items()}
            erp_totals = {k: f"{v:f}" for k, v in record.erp_totals.items()}
            delta = {k: f"{record.erp_totals[k] - record.shop_totals[k]:f}" for k in record.shop_totals
                     if k in record.erp_totals}
            out.append({
                "shop": record.connection, "order_id": record.order_id, "document": document,
                "reference": detail.get("reference", ""), "currency": detail.get("currency", ""),
                "shop_totals": shop_totals, "erp_totals": erp_totals, "delta": delta,
                "exact": all(not record.erp_totals[k] - record.shop_totals[k] for k in delta),
                "fix": detail.get("fix", "none"), "adjustment": detail.get("adjustment"),
                "shipping": detail.get("shipping"), "discounts": detail.get("discounts"),
                "at": record.at.isoformat(),
            })
    return out
