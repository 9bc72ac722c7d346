"""Requests per second of each emulator, in-process and over loopback: the floor later benchmarks cite.

Run: ``.venv/bin/python bench/emulators.py [--seconds 3] [--concurrency 8] [--json]``

For each emulator and each representative call it sends as many requests as it can for a fixed
time with ``--concurrency`` in flight, through ``httpx2.ASGITransport`` (in-process: the cost of
the emulator alone) and through a uvicorn server on 127.0.0.1 (what the sync sees in the demo
and in the other benchmarks). Absolute numbers depend on the machine; what later benchmarks
use is the ratio of their own throughput to these figures, measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import httpx2

from dolisync.emulators.dolibarr import DolibarrState
from dolisync.emulators.dolibarr import create_app as dolibarr_app
from dolisync.emulators.generator import generate_store
from dolisync.emulators.prestashop import PrestaShopStore
from dolisync.emulators.prestashop import create_app as prestashop_app
from dolisync.emulators.serve import BackgroundServer, free_port

Call = Callable[[httpx2.AsyncClient, int], Any]


@dataclass
class Result:
    emulator: str
    call: str
    mode: str
    requests: int
    seconds: float
    errors: int

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


async def _drive(client: httpx2.AsyncClient, call: Call, seconds: float, concurrency: int) -> tuple[int, int, float]:
    done = errors = 0
    deadline = time.perf_counter() + seconds
    started = time.perf_counter()

    async def worker(worker_id: int) -> None:
        nonlocal done, errors
        n = 0
        while time.perf_counter() < deadline:
            response = await call(client, worker_id * 1_000_000 + n)
            n += 1
            done += 1
            if response.status_code >= 400:
                errors += 1

    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    return done, errors, time.perf_counter() - started


def prestashop_calls(products: int) -> dict[str, Call]:
    def get_product(client: httpx2.AsyncClient, n: int) -> Any:
        return client.get(f"/api/products/{n % products + 1}", params={"output_format": "JSON"})

    def list_page(client: httpx2.AsyncClient, n: int) -> Any:
        return client.get("/api/products", params={"output_format": "JSON", "display": "full", "limit": "0,100"})

    def patch_stock(client: httpx2.AsyncClient, n: int) -> Any:
        body = (f"<prestashop><stock_available><id>{n % products + 1}</id><quantity>{n % 50}</quantity>"
                "</stock_available></prestashop>")
        return client.patch(f"/api/stock_availables/{n % products + 1}", content=body)

    return {"GET /api/products/{id}": get_product, "GET /api/products?display=full&limit=100": list_page,
            "PATCH /api/stock_availables/{id}": patch_stock}


def dolibarr_calls() -> dict[str, Call]:
    def status(client: httpx2.AsyncClient, n: int) -> Any:
        return client.get("/api/index.php/status")

    def create_product(client: httpx2.AsyncClient, n: int) -> Any:
        return client.post("/api/index.php/products", json={"ref": f"BENCH-{n}", "label": "bench", "price": 10})

    def get_product(client: httpx2.AsyncClient, n: int) -> Any:
        return client.get("/api/index.php/products/1")

    return {"GET /status": status, "POST /products": create_product, "GET /products/{id}": get_product}


async def _measure(name: str, app: Any, headers: dict[str, str], auth: Any, calls: dict[str, Call], mode: str,
                   base_url: str, seconds: float, concurrency: int) -> list[Result]:
    transport = httpx2.ASGITransport(app) if mode == "in-process" else None
    results = []
    limits = httpx2.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx2.AsyncClient(base_url=base_url, transport=transport, headers=headers, auth=auth,
                                  limits=limits, timeout=30) as client:
        for call_name, call in calls.items():
            done, errors, elapsed = await _drive(client, call, seconds, concurrency)
            results.append(Result(name, call_name, mode, done, elapsed, errors))
    return results


def run(seconds: float, concurrency: int, products: int) -> list[Result]:
    generated = generate_store(seed=5, products=products, orders=50, customers=20, shops=1)
    results: list[Result] = []
    for mode in ("in-process", "loopback"):
        shop = PrestaShopStore.from_dataset(generated.prestashop)
        key = next(iter(shop.api_keys))
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        app = prestashop_app(shop, base_url=url)
        erp = DolibarrState.from_setup(generated.dolibarr)
        erp_key = next(iter(erp.api_keys))
        erp_application = dolibarr_app(erp)
        asyncio.run(_seed_dolibarr(erp_application, erp_key))
        if mode == "loopback":
            with BackgroundServer(app, port=port) as ps_server, BackgroundServer(erp_application) as erp_server:
                results += asyncio.run(_measure("prestashop", app, {}, httpx2.BasicAuth(key, ""),
                                                prestashop_calls(products), mode, ps_server.url, seconds, concurrency))
                results += asyncio.run(_measure("dolibarr", erp_application, {"DOLAPIKEY": erp_key}, None,
                                                dolibarr_calls(), mode, erp_server.url, seconds, concurrency))
        else:
            results += asyncio.run(_measure("prestashop", app, {}, httpx2.BasicAuth(key, ""),
                                            prestashop_calls(products), mode, url, seconds, concurrency))
            results += asyncio.run(_measure("dolibarr", erp_application, {"DOLAPIKEY": erp_key}, None,
                                            dolibarr_calls(), mode, "http://erp.test", seconds, concurrency))
    return results


async def _seed_dolibarr(app: Any, key: str) -> None:
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app), base_url="http://erp.test",
                                  headers={"DOLAPIKEY": key}) as client:
        await client.post("/api/index.php/products", json={"ref": "BENCH-SEED", "label": "seed", "price": 1})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="time per call and mode")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--products", type=int, default=500)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = run(args.seconds, args.concurrency, args.products)
    if args.json:
        print(json.dumps([{**asdict(r), "per_second": round(r.per_second, 1)} for r in results], indent=2))
        return
    print(f"{'emulator':<11} {'mode':<11} {'call':<42} {'req/s':>8} {'errors':>7}")
    for r in results:
        print(f"{r.emulator:<11} {r.mode:<11} {r.call:<42} {r.per_second:>8.1f} {r.errors:>7}")


if __name__ == "__main__":
    main()
