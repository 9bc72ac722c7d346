"""Dolibarr → PrestaShop stock updates per second, with emulator latency, against the floor.

Run: ``.venv/bin/python bench/reverse.py [--products 400] [--changed 300] [--latency-ms 20]
[--concurrency 8] [--json]``

1. **Setup** (no latency): both emulators start as **separate processes**
   (``python -m dolisync.cli emulate prestashop|dolibarr --state FILE``) on 127.0.0.1; one
   catalog sync binds the generated products (and copies their stock into Dolibarr), then
   ``--changed`` stock movements are posted in Dolibarr. The emulators are stopped, which saves
   their data to the state files; dolisync's SQLite state is kept too.
2. **Measure**: from copies of that state, the emulators start again, this time adding
   ``--latency-ms`` to every request (``--fault latency=…``), and this process runs one
   ``sync_reverse(entities=["stock"])`` over HTTP with ``--concurrency`` requests allowed in
   flight per remote. The same run from the same state without latency is reported as
   ``seconds_without_latency`` (dolisync's own cost plus the loopback and the emulators').

``floor = requests × latency ÷ concurrency`` with the *minimum* requests: one write per changed
row plus the bulk listings the run cannot avoid (counted from the run: it makes no per-item
read). ``efficiency = floor ÷ measured``: 1.0 means the run was as fast as the latency and the
allowed concurrency permit; each listing is sequential, so a small catalogue stays below 1.
The CPU time of this process during the run and of each emulator is printed too.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench._processes import EmulatorProcesses
from dolisync.clients.dolibarr import DolibarrClient
from dolisync.clients.http import RemoteLimits
from dolisync.clients.prestashop import PrestaShopClient
from dolisync.config import Settings
from dolisync.logs import configure_logging
from dolisync.store import open_store
from dolisync.sync.binder import Binder
from dolisync.sync.engine import sync_catalog
from dolisync.sync.reverse import sync_reverse

SEED = 3


def _emulators(work: Path, *, products: int, latency_ms: float, keys: tuple[str, str]) -> EmulatorProcesses:
    """Both emulators of this benchmark (the generated catalogue, no orders) as child processes."""
    return EmulatorProcesses(work, latency_ms=latency_ms, ps_key=keys[0], doli_key=keys[1],
                             shop_args=["--products", str(products), "--orders", "0", "--customers", "0",
                                        "--shops", "1", "--seed", str(SEED)],
                             erp_args=["--seed", str(SEED)])


def _settings(emulators: EmulatorProcesses, warehouse: str, concurrency: int) -> Settings:
    return Settings(dolibarr={"url": emulators.doli_url, "key": emulators.doli_key, "concurrency": concurrency},
                    shop=[{"name": "main", "url": emulators.ps_url, "key": emulators.ps_key, "id_shop": 1,
                           "default_warehouse": warehouse, "concurrency": concurrency, "erp_to_shop": ["stock"]}])


def _clients(emulators: EmulatorProcesses, concurrency: int) -> tuple[PrestaShopClient, DolibarrClient]:
    limits = RemoteLimits(timeout_s=60, concurrency=concurrency, rate_per_s=1_000_000, retries=1)
    return (PrestaShopClient(emulators.ps_url, emulators.ps_key, id_shop=1, limits=limits),
            DolibarrClient(emulators.doli_url, emulators.doli_key, limits=limits, page_size=500))


async def _setup(emulators: EmulatorProcesses, db: Path, changed: int, concurrency: int) -> tuple[str, int]:
    """Catalog sync, then stock movements in Dolibarr; returns (warehouse ref, rows changed)."""
    prestashop, dolibarr = _clients(emulators, concurrency)
    async with prestashop, dolibarr:
        warehouses = await dolibarr.request_json("GET", "/warehouses")
        warehouse = warehouses[0]
        settings = _settings(emulators, str(warehouse["ref"]), concurrency)
        store = open_store(f"sqlite:///{db}")
        try:
            setup = await sync_catalog(settings, settings.shop[0], store, prestashop=prestashop, dolibarr=dolibarr)
            if setup.error:
                raise SystemExit(f"catalog setup failed: {setup.error}")
            bound = sorted({b.target_id for entity in ("product", "combination")
                            for b in Binder(store, "main").all(entity).values()}, key=int)
        finally:
            store.close()
        targets = bound[:changed]
        for index, product_id in enumerate(targets):
            await dolibarr.request_json("POST", "/stockmovements", body={
                "product_id": int(product_id), "warehouse_id": int(warehouse["id"]), "qty": 1 + index % 7,
                "label": "bench restock"})
    return str(warehouse["ref"]), len(targets)


async def _reverse(emulators: EmulatorProcesses, db: Path, warehouse: str, concurrency: int) -> tuple[Any, float, float]:
    """One reverse stock run: (summary, wall seconds, CPU seconds of this process)."""
    settings = _settings(emulators, warehouse, concurrency)
    prestashop, dolibarr = _clients(emulators, concurrency)
    store = open_store(f"sqlite:///{db}")
    try:
        async with prestashop, dolibarr:
            cpu, started = time.process_time(), time.perf_counter()
            summary = await sync_reverse(settings, settings.shop[0], store, prestashop=prestashop,
                                         dolibarr=dolibarr, entities=["stock"])
            return summary, time.perf_counter() - started, time.process_time() - cpu
    finally:
        store.close()


def _measure(base: Path, name: str, *, products: int, latency_ms: float, concurrency: int, warehouse: str,
             keys: tuple[str, str]) -> dict[str, Any]:
    work = base / name
    shutil.copytree(base / "setup", work)
    emulators = _emulators(work, products=products, latency_ms=latency_ms, keys=keys)
    try:
        emulators.wait_ready()
        before = emulators.cpu()
        summary, elapsed, cpu = asyncio.run(_reverse(emulators, work / "state.db", warehouse, concurrency))
        after = emulators.cpu()
    finally:
        emulators.stop()
    if summary.error:
        raise SystemExit(f"reverse run failed: {summary.error}")
    counts = summary.counts("erp_stock")
    requests = sum(c.reads + c.writes for c in summary.requests.values())
    floor = requests * latency_ms / 1000.0 / concurrency
    return {
        "updated": counts.updated, "unchanged": counts.unchanged, "parked": counts.parked + counts.failed,
        "requests": {k: v.to_dict() for k, v in summary.requests.items()}, "seconds": round(elapsed, 3),
        "cpu_seconds": round(cpu, 3), "emulator_cpu_seconds": {k: round(after[k] - before[k], 2) for k in after},
        "stock_updates_per_s": round(counts.updated / elapsed, 1), "floor_seconds": round(floor, 3),
        "efficiency": round(floor / elapsed, 3) if latency_ms else None,
    }


def run(products: int, changed: int, latency_ms: float, concurrency: int) -> dict[str, Any]:
    """Setup once, then the run without and with latency from the same state (see module docstring)."""
    keys = (secrets.token_hex(16).upper(), secrets.token_hex(16))
    base = Path(tempfile.mkdtemp(prefix="dolisync-bench-reverse-"))
    try:
        setup_dir = base / "setup"
        setup_dir.mkdir()
        emulators = _emulators(setup_dir, products=products, latency_ms=0.0, keys=keys)
        try:
            emulators.wait_ready()
            warehouse, rows = asyncio.run(_setup(emulators, setup_dir / "state.db", changed, concurrency))
        finally:
            emulators.stop()
        for log in setup_dir.glob("*.log"):
            log.unlink()
        baseline = _measure(base, "no-latency", products=products, latency_ms=0.0, concurrency=concurrency,
                            warehouse=warehouse, keys=keys)
        result = _measure(base, "latency", products=products, latency_ms=latency_ms, concurrency=concurrency,
                          warehouse=warehouse, keys=keys)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return {"products": products, "stock_rows_changed": rows, "latency_ms": latency_ms, "concurrency": concurrency,
            **result, "seconds_without_latency": baseline["seconds"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=400)
    parser.add_argument("--changed", type=int, default=300)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    configure_logging(level="WARNING")
    result = run(args.products, args.changed, args.latency_ms, args.concurrency)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    for key, value in result.items():
        print(f"{key:>22}: {value}")


if __name__ == "__main__":
    main()
