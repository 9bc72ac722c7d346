"""What the CLI calls for ``sync customers|orders``, ``reconcile`` and the order part of ``retry``.

Each function opens the state store from the settings, runs the async flow, prints (rich text
or ``--json``) and returns the process exit code: 0 ok, 1 something parked/failed, 2 the run
could not start. Wiring into :mod:`dolisync.cli` is left to the CLI module.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from typing import Any

from dolisync.config import Settings
from dolisync.store import open_store
from dolisync.sync.orders import reconcile_report, retry_orders, sync_customers, sync_orders
from dolisync.sync.plan import SyncSummary

__all__ = ["run_sync_orders", "run_sync_customers", "run_reconcile", "run_retry_orders"]


def _print_summary(summary: SyncSummary, json_output: bool) -> int:
    if json_output:
        print(json.dumps(summary.to_dict(), indent=2))
    else:
        for entity, counts in summary.entities.items():
            print(f"{summary.shop} {entity}: " + ", ".join(f"{k} {v}" for k, v in counts.to_dict().items() if v))
        for item in summary.parked:
            print(f"  parked {item.entity} {item.source_id}: {item.message}")
        if summary.error:
            print(f"error: {summary.error}")
    if summary.error:
        return 2
    return 0 if not summary.parked else 1


def _shops(settings: Settings, shop: str | None) -> list[Any]:
    return [settings.shop_named(shop)] if shop else list(settings.shop)


def run_sync_orders(settings: Settings, *, shop: str | None = None, since: datetime | None = None,
                    ids: list[str] | None = None, dry_run: bool = False, json_output: bool = False) -> int:
    """``dolisync sync orders [--since DATE] [--id ID|REFERENCE ...] [--dry-run] [--json]``."""
    code = 0
    with open_store(settings.state.url) as store:
        for entry in _shops(settings, shop):
            summary = asyncio.run(sync_orders(settings, entry, store, since=since, ids=ids, dry_run=dry_run))
            code = max(code, _print_summary(summary, json_output))
    return code


def run_sync_customers(settings: Settings, *, shop: str | None = None, since: datetime | None = None,
                       dry_run: bool = False, json_output: bool = False) -> int:
    """``dolisync sync customers [--since DATE]``."""
    code = 0
    with open_store(settings.state.url) as store:
        for entry in _shops(settings, shop):
            summary = asyncio.run(sync_customers(settings, entry, store, since=since, dry_run=dry_run))
            code = max(code, _print_summary(summary, json_output))
    return code


def run_retry_orders(settings: Settings, *, shop: str | None = None, key: str | None = None,
                     json_output: bool = False) -> int:
    """The order part of ``dolisync retry [--all | KEY]`` (KEY = ``shop/orders/ID``)."""
    code = 0
    with open_store(settings.state.url) as store:
        for entry in _shops(settings, shop):
            if key is not None and not key.startswith(f"{entry.name}/"):
                continue
            summary = asyncio.run(retry_orders(settings, entry, store, key=key))
            code = max(code, _print_summary(summary, json_output))
    return code


def run_reconcile(settings: Settings, *, shop: str | None = None, json_output: bool = False) -> int:
    """``dolisync reconcile [--json]``: per order and document, both totals, delta, fix."""
    with open_store(settings.state.url) as store:
        report = reconcile_report(settings, store, shop)
    if json_output:
        print(json.dumps(report, indent=2))
    else:
        for row in report:
            print(f"{row['shop']} order {row['order_id']} {row['document']:<7} {row['currency']} "
                  f"shop {row['shop_totals']['incl']} erp {row['erp_totals']['incl']} "
                  f"delta {row['delta']} fix: {row['fix']}")
    return 0 if all(row["exact"] for row in report) else 1
