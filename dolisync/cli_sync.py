"""What ``dolisync sync``, ``status`` and ``retry`` do, apart from argument parsing.

Contract: each function opens the state store from the settings (migrations applied), works
shop by shop, prints rich tables (or one JSON document with ``json_output``) and returns the
process exit code: 0 when nothing failed, 1 when an item failed or a shop could not be
synced at all (parked items are an expected outcome: they are listed, the code stays 0).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import select

from dolisync.config import Settings, ShopSettings
from dolisync.store import Store, open_store
from dolisync.store.schema import cursors
from dolisync.sync.engine import ENTITIES as CATALOG_ENTITIES
from dolisync.sync.engine import sync_catalog
from dolisync.sync.failures import FailureKey, FailureQueue
from dolisync.sync.plan import SyncSummary
from dolisync.sync.reverse.conflicts import conflict_lines
from dolisync.sync.runs import RunRecorder

__all__ = ["run_sync", "show_status", "run_retry", "parse_since", "summary_table", "ORDER_ENTITIES"]

ORDER_ENTITIES = ("customers", "orders")
"""Entities synced by the order flows (``dolisync sync customers|orders``)."""

OUTCOMES = ("created", "updated", "unchanged", "parked", "failed")


def parse_since(text: str | None) -> datetime | None:
    """``YYYY-MM-DD`` or ``YYYY-MM-DD HH:MM[:SS]`` (shop time); raise ``ValueError`` saying the format."""
    if not text:
        return None
    for fmt in ("%Y-%m-%d", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"):
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    raise ValueError(f"--since {text!r}: use YYYY-MM-DD or 'YYYY-MM-DD HH:MM:SS'")


def _shops(settings: Settings, name: str | None) -> list[ShopSettings]:
    if name is None:
        return list(settings.shop)
    return [settings.shop_named(name)]


def _split_entities(entities: Sequence[str]) -> tuple[list[str], list[str]]:
    unknown = [e for e in entities if e not in CATALOG_ENTITIES and e not in ORDER_ENTITIES]
    if unknown:
        raise ValueError(f"unknown entities {', '.join(unknown)}: choose among "
                         f"{', '.join((*CATALOG_ENTITIES, *ORDER_ENTITIES))}")
    return [e for e in entities if e in CATALOG_ENTITIES], [e for e in entities if e in ORDER_ENTITIES]


class _ProgressBars:
    """One rich progress bar per entity, fed by the flows' ``(entity, done, total)`` callback."""

    def __init__(self, console: Console, enabled: bool) -> None:
        self._progress = Progress(TextColumn("{task.description:>16}"), BarColumn(), MofNCompleteColumn(),
                                  TimeElapsedColumn(), console=console, disable=not enabled, transient=False)
        self._tasks: dict[str, Any] = {}

    def __enter__(self) -> _ProgressBars:
        self._progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.__exit__(*exc)  # type: ignore[arg-type]

    def callback(self, shop: str) -> Callable[[str, int, int], None]:
        def update(entity: str, done: int, total: int) -> None:
            key = f"{shop}:{entity}"
            known_total = total if total > 0 else None
            if key not in self._tasks:
                self._tasks[key] = self._progress.add_task(f"{shop} {entity}", total=known_total)
            self._progress.update(self._tasks[key], completed=done, total=known_total)

        return update


def summary_table(summary: SyncSummary) -> Table:
    """The per-entity table printed after a sync."""
    title = f"shop {summary.shop}" + (" (dry run: nothing written)" if summary.dry_run else "")
    table = Table(title=title)
    table.add_column("entity")
    for outcome in OUTCOMES:
        table.add_column(outcome, justify="right")
    for entity, counts in summary.entities.items():
        table.add_row(entity, *(str(getattr(counts, o)) for o in OUTCOMES))
    requests = ", ".join(f"{name}: {c.reads} reads / {c.writes} writes" for name, c in summary.requests.items())
    table.caption = f"{requests}; {summary.duration_seconds:.1f}s"
    return table


def _print_summary(console: Console, summary: SyncSummary) -> None:
    console.print(summary_table(summary))
    if summary.error:
        console.print(f"[red]shop {summary.shop} could not be synced:[/] {summary.error}")
    for title, items, colour in (("parked (fix, then `dolisync retry`)", summary.parked, "yellow"),
                                 ("warnings", summary.warnings, "cyan"),
                                 ("not mappable", summary.not_mappable, "cyan")):
        if items:
            console.print(f"[{colour}]{title}:[/]")
            for item in items[:10]:
                console.print(f"  {item.entity} {item.source_id}: {item.message}", markup=False)
            if len(items) > 10:
                console.print(f"  ... and {len(items) - 10} more (`dolisync sync --json` lists them all)")
    if summary.dry_run and summary.plan.writes:
        console.print(f"[bold]{len(summary.plan.writes)} writes would be sent[/] (first 20):")
        for write in summary.plan.writes[:20]:
            console.print(f"  {write.to_dict()}")


async def _sync_shop(settings: Settings, shop: ShopSettings, store: Store, catalog: list[str], orders: list[str],
                     since: datetime | None, dry_run: bool, progress: Callable[[str, int, int], None],
                     ids: Sequence[str] | None = None) -> list[SyncSummary]:
    results: list[SyncSummary] = []
    if catalog:
        results.append(await sync_catalog(settings, shop, store, entities=catalog, since=since, dry_run=dry_run,
                                          progress_callback=progress))
    if "customers" in orders:
        from dolisync.sync.orders import sync_customers

        results.append(await sync_customers(settings, shop, store, since=since, dry_run=dry_run,
                                            progress_callback=progress))
    if "orders" in orders:
        from dolisync.sync.orders import sync_orders

        results.append(await sync_orders(settings, shop, store, since=since, ids=ids or None, dry_run=dry_run,
                                         progress_callback=progress))
    return results


async def _sync_shop_reverse(settings: Settings, shop: ShopSettings, store: Store, entities: list[str] | None,
                             dry_run: bool, progress: Callable[[str, int, int], None]) -> list[SyncSummary]:
    from dolisync.sync.reverse import sync_reverse

    return [await sync_reverse(settings, shop, store, entities=entities, dry_run=dry_run, progress_callback=progress)]


def run_sync(settings: Settings, *, entities: Sequence[str], shop: str | None, since: str | None, dry_run: bool,
             json_output: bool, console: Console | None = None, ids: Sequence[str] | None = None,
             reverse: bool = False) -> int:
    """``dolisync sync``: every selected shop, catalog then orders (or, with ``reverse``, Dolibarr -> shop
    flows: the ones named, else those switched on in each shop's ``erp_to_shop``); see module contract."""
    console = console or Console()
    try:
        if reverse:
            from dolisync.sync.reverse import REVERSE_ENTITIES

            unknown = [e for e in entities if e not in REVERSE_ENTITIES]
            if unknown or ids or since:
                raise ValueError(f"--reverse takes entities among {', '.join(REVERSE_ENTITIES)} "
                                 "(and no --id/--since)" + (f"; unknown: {', '.join(unknown)}" if unknown else ""))
            catalog, orders = [], []
        else:
            catalog, orders = _split_entities(entities) if entities else (list(CATALOG_ENTITIES), [])
        if ids and (catalog or orders != ["orders"]):
            raise ValueError("--id syncs single orders: use it as `dolisync sync orders --id ID|REFERENCE`")
        since_at = parse_since(since)
        shops = _shops(settings, shop)
    except (ValueError, KeyError) as exc:
        console.print(f"[red]{exc}[/]")
        return 2
    if not shops:
        console.print("[red]no [[shop]] configured:[/] run `dolisync init`")
        return 2
    store = open_store(settings.state.url)
    summaries: list[SyncSummary] = []
    try:
        with _ProgressBars(Console(stderr=True), enabled=not json_output) as bars:
            for shop_settings in shops:
                if reverse:
                    summaries += asyncio.run(_sync_shop_reverse(settings, shop_settings, store, list(entities) or None,
                                                                dry_run, bars.callback(shop_settings.name)))
                    continue
                summaries += asyncio.run(_sync_shop(settings, shop_settings, store, catalog, orders, since_at,
                                                    dry_run, bars.callback(shop_settings.name), ids))
    finally:
        store.close()
    if json_output:
        print(json.dumps({"ok": all(s.ok for s in summaries), "shops": [s.to_dict() for s in summaries]},
                         indent=2, default=str))
    else:
        for summary in summaries:
            _print_summary(console, summary)
    return 0 if all(s.ok for s in summaries) else 1


def status_document(settings: Settings, store: Store, shop: str | None = None) -> dict[str, Any]:
    """Per shop: last sync per entity, cursors, failure counts and the parked items."""
    recorder = RunRecorder(store)
    queue = FailureQueue(store)
    shops = _shops(settings, shop) if settings.shop else []
    with store.read() as conn:
        cursor_rows = list(conn.execute(select(cursors.c.connection, cursors.c.entity, cursors.c.direction,
                                               cursors.c.value, cursors.c.updated_at)))
    document: dict[str, Any] = {"state": store.url, "shops": []}
    for shop_settings in shops:
        name = shop_settings.name
        waiting, parked = queue.count(connection=name)
        document["shops"].append({
            "shop": name,
            "entities": [
                {"entity": s.entity, "last_sync": s.finished_at.isoformat(), "status": s.status, "run_id": s.run_id,
                 **{o: getattr(s.counts, o) for o in OUTCOMES}}
                for s in recorder.last_sync(connection=name)
            ],
            "cursors": [
                {"entity": r.entity, "direction": r.direction, "value": r.value.isoformat() if r.value else None,
                 "updated_at": r.updated_at.isoformat()}
                for r in cursor_rows if r.connection == name
            ],
            "failures": {"waiting": waiting, "parked": parked},
            "conflicts": conflict_lines(store, name),
            "items": [
                {"key": str(f.key), "parked": f.parked, "attempts": f.attempts, "error_class": f.error.error_class,
                 "message": f.error.message, "hint": f.error.hint,
                 "next_attempt_at": f.next_attempt_at.isoformat() if f.next_attempt_at else None}
                for f in queue.list(connection=name, limit=200)
            ],
        })
    return document


def show_status(settings: Settings, *, shop: str | None, json_output: bool, console: Console | None = None) -> None:
    """``dolisync status``."""
    console = console or Console()
    store = open_store(settings.state.url)
    try:
        document = status_document(settings, store, shop)
    finally:
        store.close()
    if json_output:
        print(json.dumps(document, indent=2, default=str))
        return
    for entry in document["shops"]:
        table = Table(title=f"shop {entry['shop']}")
        for column in ("entity", "last sync", *OUTCOMES):
            table.add_column(column)
        for row in entry["entities"]:
            table.add_row(row["entity"], row["last_sync"], *(str(row[o]) for o in OUTCOMES))
        cursors_text = ", ".join(f"{c['entity']}@{c['value']}" for c in entry["cursors"]) or "none yet"
        failures = entry["failures"]
        table.caption = f"cursors: {cursors_text}; waiting retry: {failures['waiting']}, parked: {failures['parked']}"
        console.print(table)
        if entry["conflicts"]:
            console.print("  [cyan]field ownership: shop edits overwritten by the master side (newest first):[/]")
            for line in entry["conflicts"]:
                console.print(f"    {line}", markup=False)
        for item in entry["items"]:
            state = "parked" if item["parked"] else f"retry at {item['next_attempt_at']}"
            hint = f" — {item['hint']}" if item["hint"] and item["hint"] not in item["message"] else ""
            console.print(f"  [yellow]{item['key']}[/] ({state}, {item['attempts']} attempts): {item['message']}{hint}")


def run_retry(settings: Settings, *, key: str | None, json_output: bool, console: Console | None = None) -> int:
    """``dolisync retry``: make the item(s) due now, then re-sync just those shops' failed items."""
    console = console or Console()
    store = open_store(settings.state.url)
    try:
        queue = FailureQueue(store)
        try:
            failure_key = FailureKey.parse(key) if key else None
        except ValueError as exc:
            console.print(f"[red]{exc}[/] (keys are listed by `dolisync status`)")
            return 2
        changed = queue.retry(failure_key)
        if changed == 0:
            console.print("nothing to retry" if key is None else f"no failure with key {key}")
            return 0 if key is None else 1
        pending = queue.due(limit=1_000_000)
        by_shop: dict[str, set[str]] = {}
        for failure in pending:
            by_shop.setdefault(failure.key.connection, set()).add(failure.key.entity)
        summaries: list[SyncSummary] = []
        for shop_name, entity_names in sorted(by_shop.items()):
            try:
                shop_settings = settings.shop_named(shop_name)
            except KeyError:
                console.print(f"[yellow]{shop_name}: no such shop in the configuration any more; left as is[/]")
                continue
            catalog = [e for e in CATALOG_ENTITIES if _entity_matches(e, entity_names)]
            customers = ["customers"] if _entity_matches("customers", entity_names) else []
            if catalog or customers:
                summaries += asyncio.run(_sync_shop(settings, shop_settings, store, catalog, customers, None, False,
                                                    lambda *_: None))
            if _entity_matches("orders", entity_names):  # only the failed orders are read again
                from dolisync.sync.orders import retry_orders

                summaries.append(asyncio.run(retry_orders(settings, shop_settings, store, key=key)))
        still = queue.count()
        if json_output:
            print(json.dumps({"retried": changed, "shops": [s.to_dict() for s in summaries],
                              "waiting": still[0], "parked": still[1]}, indent=2, default=str))
        else:
            console.print(f"retried {changed} item(s)")
            for summary in summaries:
                _print_summary(console, summary)
            console.print(f"still waiting: {still[0]}, parked: {still[1]}")
        return 0 if all(s.ok for s in summaries) else 1
    finally:
        store.close()


_ENTITY_ALIASES = {
    "categories": {"category", "categories", "category_root"},
    "attributes": {"attribute", "attributes", "attribute_value", "product_option", "product_option_value"},
    "features": {"feature", "features", "feature_value"},
    "products": {"product", "products", "combination", "combinations", "variant"},
    "stock": {"stock", "stock_available"},
    "specific_prices": {"specific_price", "specific_prices"},
    "images": {"image", "images", "product_images"},
    "customers": {"customer", "customers", "address", "thirdparty", "guest"},
    "orders": {"order", "orders", "invoice", "payment", "credit_note"},
}


def _entity_matches(flow_entity: str, failed_entities: set[str]) -> bool:
    return bool(_ENTITY_ALIASES.get(flow_entity, {flow_entity}) & failed_entities)
