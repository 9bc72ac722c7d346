"""Orders per second shop → ERP, emulators in their own processes adding latency, efficiency against the floor.

Run: ``.venv/bin/python bench/orders.py [--orders 300] [--latency-ms 20] [--concurrency 8] [--json]``

1. **Setup** (no latency): a generated French store (seed 5, 60 products, ``--orders`` orders) is
   written to the emulators' state files; both emulators start as **separate processes**
   (``python -m dolisync.cli emulate prestashop|dolibarr --state FILE``, see
   ``bench/_processes.py``) on 127.0.0.1 and one catalog sync binds the products (as in
   production, where the catalog runs first). The emulators are stopped, which saves their data;
   dolisync's SQLite state is kept too.
2. **Measure**: from copies of that state, the emulators start again, this time adding
   ``--latency-ms`` to every request (``--fault latency=…``), and this process runs one
   :func:`~dolisync.sync.orders.sync_orders` of every order over HTTP with ``--concurrency``
   requests in flight per remote (twice as many orders at once, so the pipe stays full while an
   order waits on its own sequential steps: create → lines/contacts → validate → invoice →
   validate → PDF → payment ...). The same run from the same state without latency is reported
   as ``seconds_without_latency`` (dolisync's own cost plus the loopback and the emulators').

``floor = max over remotes of (minimum requests × latency ÷ concurrency)``. Minimum requests:
every Dolibarr write the run made (each is one effect that has no cheaper form: create, line,
contact link, validate, PDF, classify billed, payment, shipment, close) plus Dolibarr's setup
reads, and every PrestaShop request (bulk listings per chunk of orders, one note write per
invoice). Other Dolibarr reads (crash-healing lookups, e-mail matching) are not counted as
minimal, so they lower the efficiency. ``efficiency = floor ÷ measured``. The CPU time of this
process during the run (``cpu_seconds``: the sync alone) and of each emulator is printed too: when
the emulators' CPU approaches the measured time on a loaded machine, they set the pace, not the
latency.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import structlog

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench._processes import EmulatorProcesses
from dolisync.clients.dolibarr import DolibarrClient
from dolisync.clients.prestashop import PrestaShopClient
from dolisync.config import Settings
from dolisync.emulators.dolibarr import DolibarrState
from dolisync.emulators.generator import generate_store
from dolisync.emulators.prestashop import PrestaShopStore
from dolisync.store import open_store
from dolisync.sync.engine import sync_catalog
from dolisync.sync.orders import OrderSyncOptions, sync_orders
from dolisync.sync.plan import SyncSummary

SETUP_READS = 8  # company, VAT dictionary, bank accounts, warehouses, payment types, currencies, countries, index
SEED = 5


def _generate(work: Path, orders: int) -> tuple[dict[str, str], dict[str, str]]:
    """Write the generated store to the emulators' state files; returns (payment accounts, carrier warehouses)."""
    generated = generate_store(seed=SEED, products=60, orders=orders, customers=max(20, orders // 8), shops=1,
                               languages=2, country="FR")
    setup = generated.dolibarr
    PrestaShopStore.from_dataset(generated.prestashop).save(work / "prestashop.json")
    DolibarrState.from_setup(setup).save(work / "dolibarr.json")
    accounts = {b["payment_module"]: b["ref"] for b in setup.bank_accounts if b.get("payment_module")}
    carriers = {str(c): w["ref"] for w in setup.warehouses for c in w.get("carriers", [])}
    return accounts, carriers


def _settings(emulators: EmulatorProcesses, mapping: tuple[dict[str, str], dict[str, str]],
              concurrency: int) -> Settings:
    limits = {"timeout_s": 60.0, "concurrency": concurrency, "rate_per_s": 1_000_000.0, "retries": 1}
    accounts, carriers = mapping
    return Settings(dolibarr={"url": emulators.doli_url, "key": emulators.doli_key, **limits},
                    shop=[{"name": "main", "url": emulators.ps_url, "key": emulators.ps_key,
                           "default_warehouse": "WH-MAIN", "payment_accounts": accounts,
                           "carrier_warehouses": carriers, **limits}])


async def _catalog(settings: Settings, db: Path) -> None:
    shop = settings.shop[0]
    store = open_store(f"sqlite:///{db}")
    try:
        async with PrestaShopClient.from_settings(shop) as ps, DolibarrClient.from_settings(settings.dolibarr) as doli:
            summary = await sync_catalog(settings, shop, store, prestashop=ps, dolibarr=doli,
                                         entities=["categories", "attributes", "features", "products"])
    finally:
        store.close()
    if summary.error:
        raise SystemExit(f"catalog setup failed: {summary.error}")


async def _orders(settings: Settings, db: Path, concurrency: int) -> tuple[SyncSummary, float, float]:
    """One order sync: (summary, wall seconds, CPU seconds of this process)."""
    store = open_store(f"sqlite:///{db}")
    try:
        cpu, started = time.process_time(), time.perf_counter()
        summary = await sync_orders(settings, settings.shop[0], store,
                                    options=OrderSyncOptions(concurrency=2 * concurrency))
        return summary, time.perf_counter() - started, time.process_time() - cpu
    finally:
        store.close()


def _measure(base: Path, name: str, mapping: tuple[dict[str, str], dict[str, str]], *, latency_ms: float,
             concurrency: int, keys: tuple[str, str]) -> tuple[SyncSummary, float, float, dict[str, float]]:
    """The order sync from a copy of the setup: (summary, seconds, this process's CPU, emulators' CPU)."""
    work = base / name
    shutil.copytree(base / "setup", work)
    with EmulatorProcesses(work, latency_ms=latency_ms, ps_key=keys[0], doli_key=keys[1]) as emulators:
        before = emulators.cpu()
        summary, seconds, cpu = asyncio.run(_orders(_settings(emulators, mapping, concurrency), work / "state.db",
                                                    concurrency))
        after = emulators.cpu()
    if summary.error:
        raise SystemExit(f"order sync failed: {summary.error}")
    return summary, seconds, cpu, {k: round(after[k] - before[k], 2) for k in after}


def run(orders: int, latency_ms: float, concurrency: int) -> dict[str, Any]:
    """Setup once, then the sync without and with latency from the same state (see module docstring)."""
    keys = (secrets.token_hex(16).upper(), secrets.token_hex(16))
    base = Path(tempfile.mkdtemp(prefix="dolisync-bench-orders-"))
    try:
        setup_dir = base / "setup"
        setup_dir.mkdir()
        mapping = _generate(setup_dir, orders)
        with EmulatorProcesses(setup_dir, latency_ms=0.0, ps_key=keys[0], doli_key=keys[1]) as emulators:
            asyncio.run(_catalog(_settings(emulators, mapping, concurrency), setup_dir / "state.db"))
        for log in setup_dir.glob("*.log"):
            log.unlink()
        _, baseline, _, _ = _measure(base, "no-latency", mapping, latency_ms=0.0, concurrency=concurrency, keys=keys)
        summary, seconds, cpu, emulator_cpu = _measure(base, "latency", mapping, latency_ms=latency_ms,
                                                       concurrency=concurrency, keys=keys)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    synced = summary.counts("orders").created + summary.counts("orders").updated
    ps, doli = summary.requests["prestashop"], summary.requests["dolibarr"]
    minimum = {"dolibarr": doli.writes + SETUP_READS, "prestashop": ps.reads + ps.writes}
    floor = max(n * latency_ms / 1000 / concurrency for n in minimum.values())
    requests = doli.reads + doli.writes + ps.reads + ps.writes
    return {
        "orders": orders, "synced_orders": synced, "parked": len(summary.parked),
        "latency_ms": latency_ms, "concurrency": concurrency, "seconds": round(seconds, 2),
        "orders_per_second": round(synced / seconds, 2) if seconds else 0.0,
        "dolibarr_requests_per_order": round((doli.reads + doli.writes) / max(synced, 1), 2),
        "dolibarr_writes_per_order": round(doli.writes / max(synced, 1), 2),
        "prestashop_requests_per_order": round((ps.reads + ps.writes) / max(synced, 1), 2),
        "floor_seconds": round(floor, 2), "efficiency": round(floor / seconds, 3) if seconds else 0.0,
        "seconds_without_latency": round(baseline, 2), "cpu_seconds": round(cpu, 2),
        "cpu_ms_per_request": round(1000 * cpu / max(requests, 1), 2), "emulator_cpu_seconds": emulator_cpu,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    result = run(args.orders, args.latency_ms, args.concurrency)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            print(f"{key:>30}: {value}")


if __name__ == "__main__":
    main()
