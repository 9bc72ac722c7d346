"""Orders per second shop → ERP with emulator latency, requests per order, efficiency against the floor.

Run: ``.venv/bin/python bench/orders.py [--orders 300] [--latency-ms 20] [--concurrency 8] [--json]``

Setup (no latency): a generated French store behind both in-process emulators and one catalog
sync (products bound, as in production where the catalog runs first). Measured: one
:func:`~dolisync.sync.orders.sync_orders` of every order with ``--latency-ms`` added to every
request of both emulators (fault plan latency) and ``--concurrency`` requests in flight per
remote (twice as many orders at once, so the pipe stays full while an order waits on its own
sequential steps: create → lines/contacts → validate → invoice → validate → PDF → payment ...).

``floor = max over remotes of (minimum requests × latency ÷ concurrency)``. Minimum requests:
every Dolibarr write the run made (each is one effect that has no cheaper form: create, line,
contact link, validate, PDF, classify billed, payment, shipment, close) plus Dolibarr's setup
reads, and every PrestaShop request (bulk listings per chunk of orders, one note write per
invoice). Other Dolibarr reads (crash-healing lookups, e-mail matching) are not counted as
minimal, so they lower the efficiency. ``efficiency = floor ÷ measured``. The emulators run in the
same process, so their CPU is part of the measured time: the same run without latency is
reported (``seconds_without_latency``); when close to the measured time, CPU (mostly the
emulators'), not the latency, is the limit.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx2
import structlog

from dolisync.clients.dolibarr import DolibarrClient
from dolisync.clients.prestashop import PrestaShopClient
from dolisync.config import Settings
from dolisync.emulators.dolibarr import DolibarrState
from dolisync.emulators.dolibarr import create_app as dolibarr_app
from dolisync.emulators.faults import FaultPlan, FaultRule, apply_faults
from dolisync.emulators.generator import DEFAULT_API_KEY, generate_store
from dolisync.emulators.prestashop import PrestaShopStore
from dolisync.emulators.prestashop import create_app as prestashop_app
from dolisync.store import open_store
from dolisync.sync.engine import sync_catalog
from dolisync.sync.orders import OrderSyncOptions, sync_orders

SHOP_URL = "http://shop.bench"
ERP_URL = "http://erp.bench/api/index.php"
ERP_KEY = "BENCH-ORDERS-DOLIBARR-KEY-000"
SETUP_READS = 8  # company, VAT dictionary, bank accounts, warehouses, payment types, currencies, countries, index


async def _world(orders: int, concurrency: int, tmp: Path) -> tuple[Settings, Any, Any, Any, FaultPlan, FaultPlan]:
    generated = generate_store(seed=5, products=60, orders=orders, customers=max(20, orders // 8), shops=1,
                               languages=2, country="FR")
    setup = generated.dolibarr
    setup.api_keys[ERP_KEY] = "admin"
    accounts = {b["payment_module"]: b["ref"] for b in setup.bank_accounts if b.get("payment_module")}
    carriers = {str(c): w["ref"] for w in setup.warehouses for c in w.get("carriers", [])}
    limits = {"timeout_s": 60.0, "concurrency": concurrency, "rate_per_s": 1_000_000.0, "retries": 1}
    settings = Settings(dolibarr={"url": ERP_URL, "key": ERP_KEY, **limits},
                        shop=[{"name": "main", "url": SHOP_URL, "key": DEFAULT_API_KEY, "default_warehouse": "WH-MAIN",
                               "payment_accounts": accounts, "carrier_warehouses": carriers, **limits}])
    shop = PrestaShopStore.from_dataset(generated.prestashop)
    erp = DolibarrState.from_setup(setup)
    store = open_store(f"sqlite:///{tmp / 'state.db'}")
    return settings, shop, erp, store, FaultPlan(), FaultPlan()


def _transports(shop: Any, erp: Any, shop_faults: FaultPlan, erp_faults: FaultPlan) -> dict[str, Any]:
    return {"prestashop": httpx2.ASGITransport(app=apply_faults(prestashop_app(shop, base_url=SHOP_URL), shop_faults)),
            "dolibarr": httpx2.ASGITransport(app=dolibarr_app(erp, faults=erp_faults, auth_failure_delay=0.0))}


async def _catalog(settings: Settings, store: Any, transports: dict[str, Any]) -> None:
    shop = settings.shop[0]
    async with PrestaShopClient.from_settings(shop, transport=transports["prestashop"]) as ps, \
            DolibarrClient.from_settings(settings.dolibarr, transport=transports["dolibarr"]) as doli:
        await sync_catalog(settings, shop, store, prestashop=ps, dolibarr=doli,
                           entities=["categories", "attributes", "features", "products"])


async def run(orders: int, latency_ms: float, concurrency: int) -> dict[str, Any]:
    """One measurement (see module docstring)."""
    results: dict[str, Any] = {}
    for with_latency in (False, True):
        with tempfile.TemporaryDirectory() as tmp:
            settings, shop, erp, store, shop_faults, erp_faults = await _world(orders, concurrency, Path(tmp))
            await _catalog(settings, store, _transports(shop, erp, shop_faults, erp_faults))
            if with_latency:
                for plan in (shop_faults, erp_faults):
                    plan.add(FaultRule(latency_ms=latency_ms))
            started = time.perf_counter()
            summary = await sync_orders(settings, settings.shop[0], store,
                                        transports=_transports(shop, erp, shop_faults, erp_faults),
                                        options=OrderSyncOptions(concurrency=2 * concurrency))
            seconds = time.perf_counter() - started
            store.close()
        if not with_latency:
            results["seconds_without_latency"] = round(seconds, 2)
            continue
        synced = summary.counts("orders").created + summary.counts("orders").updated
        ps, doli = summary.requests["prestashop"], summary.requests["dolibarr"]
        minimum = {"dolibarr": doli.writes + SETUP_READS, "prestashop": ps.reads + ps.writes}
        floor = max(n * latency_ms / 1000 / concurrency for n in minimum.values())
        results.update({
            "orders": orders, "synced_orders": synced, "parked": len(summary.parked),
            "latency_ms": latency_ms, "concurrency": concurrency, "seconds": round(seconds, 2),
            "orders_per_second": round(synced / seconds, 2) if seconds else 0.0,
            "dolibarr_requests_per_order": round((doli.reads + doli.writes) / max(synced, 1), 2),
            "dolibarr_writes_per_order": round(doli.writes / max(synced, 1), 2),
            "prestashop_requests_per_order": round((ps.reads + ps.writes) / max(synced, 1), 2),
            "floor_seconds": round(floor, 2), "efficiency": round(floor / seconds, 3) if seconds else 0.0,
        })
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    result = asyncio.run(run(args.orders, args.latency_ms, args.concurrency))
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            print(f"{key:>30}: {value}")


if __name__ == "__main__":
    main()
