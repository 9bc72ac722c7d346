"""Dolibarr → PrestaShop stock updates per second, with emulator latency, against the floor.

Run: ``.venv/bin/python bench/reverse.py [--products 400] [--changed 300] [--latency-ms 20]
[--concurrency 8] [--json]``

Setup (no latency): a generated store behind both in-process emulators, one catalog sync
(products bound, stock copied into Dolibarr), then ``--changed`` stock movements posted in
Dolibarr. Measured: one ``sync_reverse(entities=["stock"])`` with ``--latency-ms`` on every
request of both emulators and ``--concurrency`` requests allowed in flight per remote.

``floor = requests × latency ÷ concurrency`` with the *minimum* requests: one write per changed
row plus the bulk listings the run cannot avoid (counted from the run: it makes no per-item
read). ``efficiency = floor ÷ measured``: 1.0 means the run was as fast as the latency and the
allowed concurrency permit; each listing is sequential, so a small catalogue stays below 1.
The emulators run in the same process and event loop, so their CPU is part of the measured
time: the same run without latency is reported (``seconds_without_latency``); when it is close
to the measured time, the latency is hidden behind that CPU and the floor is not the limit.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx2

from dolisync.clients.dolibarr import DolibarrClient
from dolisync.clients.http import RemoteLimits
from dolisync.clients.prestashop import PrestaShopClient
from dolisync.config import Settings
from dolisync.emulators.dolibarr import DolibarrState
from dolisync.emulators.dolibarr import create_app as dolibarr_app
from dolisync.emulators.faults import FaultPlan, FaultRule
from dolisync.emulators.generator import DEFAULT_API_KEY, generate_store
from dolisync.emulators.prestashop import PrestaShopStore
from dolisync.emulators.prestashop import create_app as prestashop_app
from dolisync.logs import configure_logging
from dolisync.store import open_store
from dolisync.sync.binder import Binder
from dolisync.sync.engine import sync_catalog
from dolisync.sync.reverse import sync_reverse

KEY = "BENCH-DOLIBARR-KEY-0123456789"
SHOP_URL = "http://shop.bench"
ERP_URL = "http://erp.bench/api/index.php"


async def run(products: int, changed: int, latency_ms: float, concurrency: int) -> dict[str, Any]:
    generated = generate_store(seed=3, products=products, orders=0, customers=0, shops=1, languages=1)
    generated.dolibarr.api_keys[KEY] = "admin"
    warehouse = generated.dolibarr.warehouses[0]["ref"]
    settings = Settings(dolibarr={"url": ERP_URL, "key": KEY, "concurrency": concurrency},
                        shop=[{"name": "main", "url": SHOP_URL, "key": DEFAULT_API_KEY, "id_shop": 1,
                               "default_warehouse": warehouse, "concurrency": concurrency,
                               "erp_to_shop": ["stock"]}])
    shop_store = PrestaShopStore.from_dataset(generated.prestashop)
    erp_state = DolibarrState.from_setup(generated.dolibarr)
    plan = FaultPlan()
    limits = RemoteLimits(timeout_s=60, concurrency=concurrency, rate_per_s=1_000_000, retries=1)
    ps_app = prestashop_app(shop_store, base_url=SHOP_URL, faults=plan)
    erp_app = dolibarr_app(erp_state, faults=plan, auth_failure_delay=0.0)
    shop = settings.shop[0]
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{Path(tmp) / 'state.db'}")
        try:
            async with PrestaShopClient(SHOP_URL, DEFAULT_API_KEY, id_shop=1, limits=limits,
                                        transport=httpx2.ASGITransport(app=ps_app)) as prestashop, \
                    DolibarrClient(ERP_URL, KEY, limits=limits, transport=httpx2.ASGITransport(app=erp_app),
                                   page_size=500) as dolibarr:
                setup = await sync_catalog(settings, shop, store, prestashop=prestashop, dolibarr=dolibarr)
                if setup.error:
                    raise SystemExit(f"catalog setup failed: {setup.error}")
                bound = sorted({b.target_id for entity in ("product", "combination")
                                for b in Binder(store, "main").all(entity).values()}, key=int)
                warehouse_id = next(int(w["id"]) for w in erp_state.table("warehouses").values()
                                    if w["ref"] == warehouse)
                targets = bound[:changed]
                for index, product_id in enumerate(targets):
                    await dolibarr.request_json("POST", "/stockmovements", body={
                        "product_id": int(product_id), "warehouse_id": warehouse_id, "qty": 1 + index % 7,
                        "label": "bench restock"})
                plan.add(FaultRule(latency_ms=latency_ms))
                started = time.perf_counter()
                summary = await sync_reverse(settings, shop, store, prestashop=prestashop, dolibarr=dolibarr,
                                             entities=["stock"])
                elapsed = time.perf_counter() - started
        finally:
            store.close()
    counts = summary.counts("erp_stock")
    requests = sum(c.reads + c.writes for c in summary.requests.values())
    floor = requests * latency_ms / 1000.0 / concurrency
    return {
        "products": products, "stock_rows_changed": len(targets), "updated": counts.updated,
        "unchanged": counts.unchanged, "parked": counts.parked + counts.failed, "latency_ms": latency_ms,
        "concurrency": concurrency, "requests": {k: v.to_dict() for k, v in summary.requests.items()},
        "seconds": round(elapsed, 3), "stock_updates_per_s": round(counts.updated / elapsed, 1),
        "floor_seconds": round(floor, 3), "efficiency": round(floor / elapsed, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=400)
    parser.add_argument("--changed", type=int, default=300)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    configure_logging(level="WARNING")
    baseline = asyncio.run(run(args.products, args.changed, 0.0, args.concurrency))
    result = asyncio.run(run(args.products, args.changed, args.latency_ms, args.concurrency))
    result["seconds_without_latency"] = baseline["seconds"]  # emulator + sync CPU, same process
    if args.json:
        print(json.dumps(result, indent=2))
        return
    for key, value in result.items():
        print(f"{key:>20}: {value}")


if __name__ == "__main__":
    main()
