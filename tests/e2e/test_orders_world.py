"""Harness of the order end-to-end tests: a generated store behind both in-process emulators.

:class:`OrderWorld` holds a generated store (FR or CA), the PrestaShop and Dolibarr emulator
states, settings whose payment modules and carriers are mapped to the generated bank accounts
and warehouses, and a state store. :meth:`OrderWorld.sync` runs :func:`sync_orders` through the
real clients over ``httpx2.ASGITransport``. The one test here is a smoke check of the harness.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx2
import pytest

from dolisync.config import Settings
from dolisync.emulators.dolibarr import DolibarrState
from dolisync.emulators.dolibarr import create_app as dolibarr_app
from dolisync.emulators.faults import FaultPlan
from dolisync.emulators.generator import DEFAULT_API_KEY, GeneratedStore, generate_store
from dolisync.emulators.prestashop import PrestaShopStore
from dolisync.emulators.prestashop import create_app as prestashop_app
from dolisync.store import Store, open_store
from dolisync.sync.engine import sync_catalog
from dolisync.sync.orders import OrderSyncOptions, sync_orders
from dolisync.sync.plan import SyncSummary

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]
DOLIBARR_KEY = "E2E-ORDERS-DOLIBARR-KEY-0123"
SHOP_URL = "http://shop.test"
DOLIBARR_URL = "http://erp.test/api/index.php"
FAST = {"timeout_s": 60.0, "concurrency": 16, "rate_per_s": 1_000_000.0, "retries": 1}


@dataclass
class Writes:
    """Counts the write requests an app saw; ``crash_after`` makes the N-th one raise *after* the
    app applied it (what a SIGKILL right after the remote committed looks like to the sync)."""

    count: int = 0
    crash_after: int | None = None
    log: list[tuple[str, str]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)

    def wrap(self, app: ASGIApp) -> ASGIApp:
        async def wrapper(scope: Scope, receive: Any, send: Any) -> None:
            async def watch(message: Any) -> None:
                if message.get("type") == "http.response.start":
                    self.statuses.append(int(message["status"]))
                await send(message)

            await app(scope, receive, watch)
            if scope.get("type") == "http" and scope["method"] not in ("GET", "HEAD"):
                self.count += 1
                self.log.append((scope["method"], scope["path"]))
                if self.crash_after is not None and self.count >= self.crash_after:
                    self.crash_after = None
                    raise Crash(f"killed after write {self.count} ({scope['method']} {scope['path']})")
        return wrapper


class Crash(BaseException):
    """Stands for the process being killed (not an Exception: nothing in the sync catches it)."""


@dataclass
class OrderWorld:
    """A generated store, both emulators, one state store, settings (see module docstring)."""

    generated: GeneratedStore
    shop: PrestaShopStore
    erp: DolibarrState
    settings: Settings
    store: Store
    erp_faults: FaultPlan = field(default_factory=FaultPlan)
    erp_writes: Writes = field(default_factory=Writes)
    shop_writes: Writes = field(default_factory=Writes)

    @classmethod
    def build(cls, tmp: Path, *, orders: int, products: int = 40, customers: int = 30, seed: int = 3,
              country: str = "FR", edit: Callable[[GeneratedStore], None] | None = None,
              shop: dict[str, Any] | None = None) -> OrderWorld:
        generated = generate_store(seed=seed, products=products, orders=orders, customers=customers, shops=1,
                                   languages=2, country=country)
        if edit is not None:
            edit(generated)
        setup = generated.dolibarr
        setup.api_keys[DOLIBARR_KEY] = "admin"
        accounts = {b["payment_module"]: b["ref"] for b in setup.bank_accounts if b.get("payment_module")}
        carriers = {str(c): w["ref"] for w in setup.warehouses for c in w.get("carriers", [])}
        entry = {"name": "main", "url": SHOP_URL, "key": DEFAULT_API_KEY, "default_warehouse": "WH-MAIN",
                 "payment_accounts": accounts, "carrier_warehouses": carriers, **FAST, **(shop or {})}
        settings = Settings(dolibarr={"url": DOLIBARR_URL, "key": DOLIBARR_KEY, **FAST}, shop=[entry])
        return cls(generated=generated, shop=PrestaShopStore.from_dataset(generated.prestashop),
                   erp=DolibarrState.from_setup(setup), settings=settings,
                   store=open_store(f"sqlite:///{tmp / 'state.db'}"))

    def transports(self) -> dict[str, httpx2.ASGITransport]:
        """Fresh in-process transports to both emulators (write counters and faults applied)."""
        shop_app = self.shop_writes.wrap(prestashop_app(self.shop, base_url=SHOP_URL))
        erp_app = self.erp_writes.wrap(dolibarr_app(self.erp, faults=self.erp_faults, auth_failure_delay=0.0))
        return {"prestashop": httpx2.ASGITransport(app=shop_app), "dolibarr": httpx2.ASGITransport(app=erp_app)}

    async def sync(self, **options: Any) -> SyncSummary:
        """One order sync of the shop through fresh clients."""
        return await sync_orders(self.settings, self.settings.shop[0], self.store, transports=self.transports(),
                                 options=options.pop("options", OrderSyncOptions()), **options)

    async def sync_catalog(self) -> SyncSummary:
        """The catalog first (products bound), as a real deployment does."""
        from dolisync.clients.dolibarr import DolibarrClient
        from dolisync.clients.prestashop import PrestaShopClient

        shop = self.settings.shop[0]
        transports = self.transports()
        async with PrestaShopClient.from_settings(shop, transport=transports["prestashop"]) as ps, \
                DolibarrClient.from_settings(self.settings.dolibarr, transport=transports["dolibarr"]) as doli:
            return await sync_catalog(self.settings, shop, self.store, prestashop=ps, dolibarr=doli,
                                      entities=["categories", "attributes", "features", "products"])

    # -- views of the emulators ---------------------------------------------------------------
    def table(self, name: str) -> list[dict[str, Any]]:
        """Rows of a Dolibarr emulator table."""
        return list(self.erp.table(name).values())

    def ours(self, name: str, prefix: str) -> list[dict[str, Any]]:
        """Rows of ``name`` whose ref_ext starts with ``prefix`` (e.g. ``ps-main-order-``)."""
        return [r for r in self.table(name) if str(r.get("ref_ext") or "").startswith(prefix)]

    async def api_rows(self, resource: str, prefix: str) -> list[dict[str, Any]]:
        """Objects of ``resource`` whose ref_ext starts with ``prefix``, as the REST API shows them."""
        from dolisync.clients.dolibarr import DolibarrClient

        async with DolibarrClient.from_settings(self.settings.dolibarr, transport=self.transports()["dolibarr"]) as erp:
            return [row async for row in erp.list_raw(resource, sqlfilters=f"(t.ref_ext:like:'{prefix}%')",
                                                     page_size=500)]

    def ps_rows(self, resource: str) -> list[dict[str, Any]]:
        """Rows of a PrestaShop emulator table."""
        return list(self.generated.prestashop.tables.get(resource, []))


def duplicates(rows: list[dict[str, Any]]) -> list[str]:
    """External keys carried by more than one row."""
    seen: dict[str, int] = {}
    for row in rows:
        key = str(row.get("ref_ext") or "")
        seen[key] = seen.get(key, 0) + 1
    return sorted(k for k, n in seen.items() if n > 1 and k)


D = Decimal


@pytest.mark.anyio
async def test_world_smoke_syncs_a_few_orders(tmp_path: Path) -> None:
    world = OrderWorld.build(tmp_path, orders=12, products=10, customers=6)
    summary = await world.sync()
    assert summary.error is None, summary.error
    counts = summary.counts("orders")
    assert counts.created > 0, summary.to_dict()
    assert counts.failed == 0 and counts.parked == 0, summary.to_dict()["parked"]
