"""The handler table of the real service: jobs -> the sync flows.

* ``poll(shop, "orders")``: from the shop's order cursor. Before the run the newest
  ``date_upd`` is read from the shop (the horizon); the orders changed since the committed
  cursor minus ``[runtime] cursor_overlap_s`` (shop local time) are listed and each gets an
  inbox hint (source ``poll``) and an item job: every order sync runs under its item key, so
  a poll and a webhook never sync one order at once. Then the cursor is committed at the
  horizon. Parked orders are the failure queue's business, not the cursor's.
* ``poll(shop, "catalog")``: the catalogue flows with the same cursor scheme on products.
* ``poll(shop, "reverse")``: the Dolibarr -> shop flows switched on for the shop.
* ``inbox``: an order hint (webhook or "Sync now", by id or reference) re-reads and syncs that
  order; a catalogue or customer hint asks for a poll of its flow (the catalogue flows read by
  change date, not by id); a Dolibarr hint asks for the reverse poll of every shop that has
  reverse flows.
* ``retry``: orders by id; catalogue entities by re-running their flow (unchanged items cost
  reads only); customers by their flow.
* A run-level error (remote down, setup problem) raises: the executor records the item in
  the failure queue (hints and retries) or logs it (polls, retried at the next tick).

* Order item jobs (hints) share the process's recent setup facts
  (:class:`~dolisync.sync.orders.setup_cache.SetupCache`, kept in ``extras["setup_cache"]``);
  order retries read the setup afresh.

``context.extras``: ``"submit"`` (the executor's submit, for follow-up polls) and optionally
``"transports"`` (``{"prestashop": ..., "dolibarr": ...}``: in-process emulators).
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from dolisync.clients.prestashop import PrestaShopClient
from dolisync.logs import get_logger
from dolisync.runtime.jobs import Job
from dolisync.runtime.work import HANDLED, HandlerResult, HandlerTable, JobContext
from dolisync.sync.cursor import Change, Cursor, ShopClock, prestashop_newest_query

__all__ = ["CATALOG_ENTITIES", "POLL_ENTITIES", "flow_handlers"]

log = get_logger("dolisync.runtime.flows")

POLL_ENTITIES = ("orders", "catalog", "reverse")
CATALOG_ENTITIES = {"category": "categories", "product": "products", "combination": "products", "stock": "stock",
                    "specific_price": "specific_prices", "image": "images", "attribute": "attributes",
                    "feature": "features"}


class RunFailed(RuntimeError):
    """A sync run ended with a run-level error (the message is the run's)."""


def _shop(ctx: JobContext, name: str) -> Any:
    for shop in ctx.settings.shop:
        if shop.name == name:
            return shop
    raise RunFailed(f"shop {name!r} is not in the configuration any more")


def _transports(ctx: JobContext) -> dict[str, Any]:
    return dict(ctx.extras.get("transports") or {})


async def _submit(ctx: JobContext, job: Job) -> None:
    submit = ctx.extras.get("submit")
    if submit is not None:
        await submit(job)


def _check(summary: Any) -> None:
    if getattr(summary, "error", None):
        raise RunFailed(str(summary.error))


async def _newest(shop: Any, resource: str, transports: dict[str, Any]) -> tuple[str, str] | None:
    """``(id, date_upd)`` of the most recently changed ``resource`` of the shop."""
    query = prestashop_newest_query()
    async with PrestaShopClient.from_settings(shop, transport=transports.get("prestashop")) as client:
        async for row in client.list_raw(resource, display="[id,date_upd]", sort=query["sort"], date=True,
                                         max_items=1, page_size=1):
            return str(row["id"]), str(row["date_upd"])
    return None


class _Polls:
    def __init__(self, ctx: JobContext) -> None:
        self.ctx = ctx
        self.overlap = timedelta(seconds=float(ctx.settings.runtime.cursor_overlap_s))

    async def incremental(self, job: Job, resource: str, run: Any) -> None:
        """Run ``run(changed_since)`` from the cursor of ``job``; commit at the horizon."""
        shop = _shop(self.ctx, job.connection)
        clock = ShopClock(shop.timezone)
        transports = _transports(self.ctx)
        newest = await _newest(shop, resource, transports)
        cursor = Cursor(self.ctx.store, shop.name, job.entity, "ps_poll", overlap=self.overlap)
        start = cursor.start_value()
        changed_since = None if start is None else _wall(clock, start)
        summary = await run(shop, changed_since, transports)
        if summary is not None:
            _check(summary)
        if newest is not None:
            horizon = clock.to_utc(newest[1])
            cursor.begin(horizon)
            cursor.observe([Change.of(newest[0], horizon)])
            cursor.commit()


def _wall(clock: ShopClock, at: datetime) -> datetime:
    """``at`` (aware UTC) as the shop's naive wall-clock time (what the flows filter on)."""
    return datetime.strptime(clock.to_wall(at), "%Y-%m-%d %H:%M:%S")


def flow_handlers() -> HandlerTable:
    """The handler table over the sync flows (see module docstring)."""

    async def poll(job: Job, ctx: JobContext) -> HandlerResult:
        polls = _Polls(ctx)
        if job.entity == "orders":
            async def orders(shop: Any, since: Any, transports: dict[str, Any]) -> None:
                await _fan_out_orders(ctx, shop, since, transports)

            await polls.incremental(job, "orders", orders)
        elif job.entity == "catalog":
            async def catalog(shop: Any, since: Any, transports: dict[str, Any]) -> Any:
                return await _catalog(ctx, job, shop, since=since)

            await polls.incremental(job, "products", catalog)
        elif job.entity == "reverse":
            from dolisync.sync.reverse.engine import sync_reverse

            shop = _shop(ctx, job.connection)
            _check(await sync_reverse(ctx.settings, shop, ctx.store, progress_callback=_progress(ctx, job)))
        else:
            raise RunFailed(f"no poll for entity {job.entity!r} (one of {', '.join(POLL_ENTITIES)})")
        return HANDLED

    async def inbox(job: Job, ctx: JobContext) -> HandlerResult:
        if job.connection == "dolibarr":
            for shop in ctx.settings.shop:
                if getattr(shop, "erp_to_shop", None):
                    await _submit(ctx, Job.poll(shop.name, "reverse"))
            return HANDLED
        if job.entity == "orders":
            await _orders(ctx, job)
        elif job.entity == "customers":
            await _submit(ctx, Job.poll(job.connection, "orders"))
        else:
            await _submit(ctx, Job.poll(job.connection, "catalog"))
        return HANDLED

    async def retry(job: Job, ctx: JobContext) -> HandlerResult:
        if job.entity == "orders":
            await _orders(ctx, job)
        elif job.entity == "customers":
            from dolisync.sync.orders import sync_customers

            shop = _shop(ctx, job.connection)
            _check(await sync_customers(ctx.settings, shop, ctx.store, transports=_transports(ctx)))
        else:
            shop = _shop(ctx, job.connection)
            entity = CATALOG_ENTITIES.get(job.entity)
            await _catalog(ctx, job, shop, entities=[entity] if entity else None)
        return HANDLED

    return HandlerTable(poll=poll, inbox=inbox, retry=retry)


async def _fan_out_orders(ctx: JobContext, shop: Any, since: datetime | None, transports: dict[str, Any]) -> None:
    """The order poll: store one inbox hint per order changed since ``since`` and submit it.

    Orders are synced by their item jobs only, so an order is never synced by a poll and a
    webhook at the same time (their item key serialises them). The hints are stored before
    the cursor moves: a crash in between re-reads, never loses.
    """
    from dolisync.runtime.recovery import job_of_event
    from dolisync.web.events import Hint, store_event

    filters = None if since is None else {"date_upd": f">[{since.strftime('%Y-%m-%d %H:%M:%S')}]"}
    async with PrestaShopClient.from_settings(shop, transport=transports.get("prestashop")) as client:
        ids = await client.list_ids("orders", filters=filters, date=filters is not None)
    for order_id in ids:
        event, _new = await asyncio.to_thread(store_event, ctx.store, Hint("poll", shop.name, "orders", str(order_id)))
        await _submit(ctx, job_of_event(event))


async def _orders(ctx: JobContext, job: Job) -> None:
    from dolisync.sync.orders import sync_orders
    from dolisync.sync.orders.setup_cache import SetupCache

    shop = _shop(ctx, job.connection)
    # a retry reads the setup afresh (a person may just have fixed it); other order jobs share
    # the process's recent copy (SetupCache: a dozen reads less per order)
    cache = None if job.kind == "retry" else ctx.extras.setdefault("setup_cache", SetupCache())
    summary = await sync_orders(ctx.settings, shop, ctx.store, ids=[job.object_id], transports=_transports(ctx),
                                progress_callback=_progress(ctx, job), setup_cache=cache)
    _check(summary)


async def _catalog(ctx: JobContext, job: Job, shop: Any, *, since: Any = None, entities: list[str] | None = None) -> Any:
    from dolisync.clients.dolibarr import DolibarrClient
    from dolisync.sync.engine import sync_catalog

    transports = _transports(ctx)
    async with PrestaShopClient.from_settings(shop, transport=transports.get("prestashop")) as prestashop:
        async with DolibarrClient.from_settings(ctx.settings.dolibarr, transport=transports.get("dolibarr")) as dolibarr:
            summary = await sync_catalog(ctx.settings, shop, ctx.store, entities=entities, since=since,
                                         prestashop=prestashop, dolibarr=dolibarr, progress_callback=_progress(ctx, job))
    _check(summary)
    return summary


def _progress(ctx: JobContext, job: Job) -> Any:
    """A flow progress callback ``(entity, done, total)`` feeding the dashboard's board."""

    def report(entity: str, done: int, total: int) -> None:
        ctx.progress.update(job, done=done, total=None if total < 0 else total, message=entity)

    return report
