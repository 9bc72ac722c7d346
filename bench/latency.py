"""Latency benchmark of the continuous sync: order placed in the shop -> validated in Dolibarr.

The activity simulator places orders in the PrestaShop emulator (as checkout does); the real
service (``run_service``: asyncio executor, the order flows, the web app on 127.0.0.1) syncs
them into the Dolibarr emulator. Latency = from the moment the order exists in the shop to the
moment the Dolibarr emulator holds it validated (``statut >= 1``, ``ref_ext`` of the order).

Modes:
* ``webhooks``: each new order is announced by the one-line hook (signed POST
  ``/hooks/prestashop/main``) and polling is effectively off;
* ``polling``: no hooks, orders are found by the order poll every ``--poll`` seconds
  (target p95 < poll interval + 1 s).

Usage: ``python bench/latency.py [--orders 30] [--rate 2] [--poll 2] [--mode both]``.
:class:`SimWorld` (a generated shop behind both emulators, with the service) is reused by
``bench/soak.py`` and by the tests of the flow handlers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx2  # noqa: E402

from dolisync.config import Settings  # noqa: E402
from dolisync.logs import configure_logging  # noqa: E402
from dolisync.emulators.activity import ActivityConfig, ActivitySimulator  # noqa: E402
from dolisync.emulators.dolibarr import DolibarrState  # noqa: E402
from dolisync.emulators.dolibarr import create_app as dolibarr_app  # noqa: E402
from dolisync.emulators.faults import FaultPlan  # noqa: E402
from dolisync.emulators.generator import DEFAULT_API_KEY, GeneratedStore, generate_store  # noqa: E402
from dolisync.emulators.prestashop import PrestaShopStore  # noqa: E402
from dolisync.emulators.prestashop import create_app as prestashop_app  # noqa: E402
from dolisync.emulators.serve import free_port  # noqa: E402
from dolisync.runtime.service import Service, build_service, run_service  # noqa: E402
from dolisync.store import open_store  # noqa: E402
from dolisync.web.events import sign  # noqa: E402

SHOP_URL = "http://shop.test"
DOLIBARR_URL = "http://erp.test/api/index.php"
DOLIBARR_KEY = "BENCH-DOLIBARR-KEY-0123456789"
HOOK_SECRET = "bench-hook-secret"
LIMITS = {"timeout_s": 10.0, "concurrency": 8, "rate_per_s": 1_000_000.0, "retries": 3}


def percentile(values: list[float], q: float) -> float:
    """The ``q``-quantile (0..1) of ``values`` (nearest rank)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(0, min(len(ordered) - 1, round(q * (len(ordered) - 1))))
    return ordered[rank]


@dataclass
class SimWorld:
    """A generated shop, both emulators (in-process), the state store and the service."""

    generated: GeneratedStore
    shop: PrestaShopStore
    erp: DolibarrState
    settings: Settings
    workdir: Path
    shop_faults: FaultPlan = field(default_factory=FaultPlan)
    erp_faults: FaultPlan = field(default_factory=FaultPlan)
    config: dict[str, Any] = field(default_factory=dict)  # what ``settings`` was built from (secrets in clear)

    @classmethod
    def build(cls, workdir: Path, *, products: int = 20, customers: int = 20, seed: int = 5,
              orders_poll_s: float = 3600.0, runtime: dict[str, Any] | None = None,
              shop_url: str = SHOP_URL, dolibarr_url: str = DOLIBARR_URL,
              limits: dict[str, Any] | None = None) -> SimWorld:
        """``shop_url`` / ``dolibarr_url``: where the service reaches the emulators (the defaults are
        only reachable through :meth:`transports`; give loopback URLs to serve them over HTTP)."""
        generated = generate_store(seed=seed, products=products, orders=0, customers=customers, shops=1,
                                   languages=1, country="FR")
        setup = generated.dolibarr
        setup.api_keys[DOLIBARR_KEY] = "admin"
        accounts = {b["payment_module"]: b["ref"] for b in setup.bank_accounts if b.get("payment_module")}
        carriers = {str(c): w["ref"] for w in setup.warehouses for c in w.get("carriers", [])}
        bounds = {**LIMITS, **(limits or {})}
        shop = {"name": "main", "url": shop_url, "key": DEFAULT_API_KEY, "default_warehouse": "WH-MAIN",
                "payment_accounts": accounts, "carrier_warehouses": carriers, "webhook_secret": HOOK_SECRET,
                **bounds}
        config: dict[str, Any] = {
            "state": {"url": f"sqlite:///{workdir / 'state.sqlite'}"},
            "dolibarr": {"url": dolibarr_url, "key": DOLIBARR_KEY, **bounds},
            "shop": [shop],
            "web": {"port": free_port(), "token": "bench-token"},
            "runtime": {"orders_poll_s": orders_poll_s, "catalog_poll_s": 3600.0, "cursor_overlap_s": 5.0,
                        **(runtime or {})},
        }
        return cls(generated, PrestaShopStore.from_dataset(generated.prestashop),
                   DolibarrState.from_setup(setup), Settings(**config), workdir, config=config)

    def apps(self) -> dict[str, Any]:
        """The two emulator ASGI apps over this world's stores, with its fault plans."""
        return {
            "prestashop": prestashop_app(self.shop, base_url=self.settings.shop[0].url, faults=self.shop_faults),
            "dolibarr": dolibarr_app(self.erp, faults=self.erp_faults, auth_failure_delay=0.0),
        }

    def transports(self) -> dict[str, Any]:
        return {name: httpx2.ASGITransport(app=app) for name, app in self.apps().items()}

    def write_config(self, path: Path) -> Path:
        """Write the settings as a ``dolisync.toml`` a separate ``dolisync run`` loads (mode 0600)."""
        import tomli_w

        path.write_bytes(tomli_w.dumps(self.config).encode("utf-8"))
        path.chmod(0o600)
        return path

    def service(self, **options: Any) -> Service:
        return build_service(self.settings, transports=self.transports(), **options)

    async def bind_catalog(self) -> None:
        """Sync the catalogue once (products bound), as a deployment does before orders."""
        from dolisync.clients.dolibarr import DolibarrClient
        from dolisync.clients.prestashop import PrestaShopClient
        from dolisync.sync.engine import sync_catalog

        transports = self.transports()
        shop = self.settings.shop[0]
        with open_store(self.settings.state.url) as store:
            async with PrestaShopClient.from_settings(shop, transport=transports["prestashop"]) as ps, \
                    DolibarrClient.from_settings(self.settings.dolibarr, transport=transports["dolibarr"]) as doli:
                await sync_catalog(self.settings, shop, store, prestashop=ps, dolibarr=doli,
                                   entities=["categories", "attributes", "features", "products"])

    def simulator(self, seed: int = 1) -> ActivitySimulator:
        config = ActivityConfig(rate_per_s=1.0, seed=seed, weights={"order": 1.0})
        return ActivitySimulator(config=config, store=self.shop)

    def erp_orders(self) -> dict[str, dict[str, Any]]:
        """Dolibarr orders created by dolisync, by PrestaShop order id."""
        out: dict[str, dict[str, Any]] = {}
        for row in self.erp.table("orders").values():
            ref_ext = str(row.get("ref_ext") or "")
            if ref_ext.startswith("ps-main-order-"):
                out.setdefault(ref_ext.removeprefix("ps-main-order-"), row)
        return out

    def not_for_erp(self, order_id: str) -> bool:
        """True when the shop order is in a state dolisync does not create in Dolibarr by default
        (cancelled, or an error state such as "Payment error"): such an order is not lost."""
        order = self.shop.get("orders", int(order_id)) or {}
        state = next((r for r in self.shop.rows("order_states") if str(r["id"]) == str(order.get("current_state"))), None)
        if state is None:
            return False
        texts = [str(v) for v in (state.get("template") or {}).values()] + [str(v) for v in (state.get("name") or {}).values()]
        cancelled = str(self.settings.shop[0].order_state_rules.cancelled)
        return str(state["id"]) == cancelled or any("payment_error" in t or "error" in t.lower() for t in texts)

    def erp_order_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for row in self.erp.table("orders").values():
            ref_ext = str(row.get("ref_ext") or "")
            if ref_ext.startswith("ps-main-order-"):
                key = ref_ext.removeprefix("ps-main-order-")
                counts[key] = counts.get(key, 0) + 1
        return counts


async def hook(client: httpx2.AsyncClient, url: str, order_id: int) -> int:
    body = json.dumps({"resource": "orders", "id": order_id}).encode()
    response = await client.post(f"{url}/hooks/prestashop/main", content=body,
                                 headers={"X-Dolisync-Signature": sign(HOOK_SECRET, body)})
    return response.status_code


async def measure(world: SimWorld, *, orders: int, rate_per_s: float, webhooks: bool,
                  timeout_s: float = 120.0) -> list[float]:
    """Place ``orders`` orders at ``rate_per_s``; return their latencies in seconds."""
    service = world.service(sweep_s=0.5)
    service.schedule_polls()
    stop = asyncio.Event()
    ready = asyncio.Event()
    runner = asyncio.create_task(run_service(service, stop, handle_signals=False, on_ready=lambda _url: ready.set()))
    created: dict[str, float] = {}
    arrived: dict[str, float] = {}
    try:
        await asyncio.wait_for(ready.wait(), 30)
        url = f"http://127.0.0.1:{world.settings.web.port}"
        simulator = world.simulator()

        async def watch() -> None:
            while True:
                validated = {k for k, row in world.erp_orders().items() if int(row.get("statut") or 0) >= 1}
                now = time.monotonic()
                for key in validated - arrived.keys():
                    arrived[key] = now
                await asyncio.sleep(0.01)

        watcher = asyncio.create_task(watch())
        async with httpx2.AsyncClient(timeout=10) as client:
            for _ in range(orders):
                event = await simulator.step("order")
                if event.ok:
                    order_id = int(event.data["id_order"])
                    if not world.not_for_erp(str(order_id)):
                        created[str(order_id)] = event.started_monotonic + event.duration_s
                    if webhooks:
                        assert await hook(client, url, order_id) == 202
                await asyncio.sleep(1 / rate_per_s)
        deadline = time.monotonic() + timeout_s
        while not created.keys() <= arrived.keys() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        watcher.cancel()
    finally:
        stop.set()
        await runner
        service.close()
    missing = sorted(created.keys() - arrived.keys())
    if missing:
        raise RuntimeError(f"{len(missing)} orders never reached Dolibarr validated: {missing[:10]}")
    return [arrived[key] - created[key] for key in created]


def report(name: str, latencies: list[float]) -> dict[str, Any]:
    return {"mode": name, "orders": len(latencies), "p50_s": round(percentile(latencies, 0.5), 3),
            "p95_s": round(percentile(latencies, 0.95), 3), "max_s": round(max(latencies), 3)}


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=30)
    parser.add_argument("--rate", type=float, default=2.0, help="orders per second")
    parser.add_argument("--poll", type=float, default=2.0, help="order poll interval in polling mode (s)")
    parser.add_argument("--mode", choices=("webhooks", "polling", "both"), default="both")
    args = parser.parse_args(argv)
    configure_logging("WARNING")
    results = []
    for mode in ("webhooks", "polling"):
        if args.mode not in (mode, "both"):
            continue
        with tempfile.TemporaryDirectory() as tmp:
            poll = 3600.0 if mode == "webhooks" else args.poll
            world = SimWorld.build(Path(tmp), orders_poll_s=poll)
            await world.bind_catalog()
            latencies = await measure(world, orders=args.orders, rate_per_s=args.rate, webhooks=mode == "webhooks")
            result = report(mode, latencies)
            target = 1.0 if mode == "webhooks" else args.poll + 1.0
            result["target_p95_s"] = target
            result["met"] = result["p95_s"] < target
            results.append(result)
            print(json.dumps(result), flush=True)
    return 0 if all(r["met"] for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
