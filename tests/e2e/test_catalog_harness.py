"""Harness of the catalog end-to-end tests: a generated store behind both in-process emulators.

Not a test module of its own beyond one smoke check; ``test_catalog_*`` modules import
:class:`CatalogWorld`. Requests go through the real clients over ``httpx2.ASGITransport``;
every request is counted by method and path (:class:`RequestLog`) so tests can assert which
writes a sync made.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import pytest

from dolisync.clients.dolibarr import DolibarrClient
from dolisync.clients.http import RemoteLimits
from dolisync.clients.prestashop import PrestaShopClient
from dolisync.config import Settings
from dolisync.emulators.dolibarr import DolibarrState
from dolisync.emulators.dolibarr import create_app as dolibarr_app
from dolisync.emulators.faults import FaultPlan
from dolisync.emulators.generator import DEFAULT_API_KEY, GeneratedStore, generate_store
from dolisync.emulators.prestashop import PrestaShopStore
from dolisync.emulators.prestashop import create_app as prestashop_app
from dolisync.store import Store, open_store
from dolisync.sync.engine import sync_catalog
from dolisync.sync.plan import SyncSummary

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]

DOLIBARR_KEY = "E2E-DOLIBARR-KEY-0123456789"
SHOP_URL = "http://shop.test"
DOLIBARR_URL = "http://erp.test/api/index.php"
FAST = RemoteLimits(timeout_s=30.0, concurrency=16, rate_per_s=1_000_000.0, retries=2, backoff_base_s=0.001,
                    backoff_max_s=0.01, retry_after_max_s=0.01)


async def _no_sleep(_: float) -> None:
    await asyncio.sleep(0)


@dataclass
class RequestLog:
    """Every request an app saw: ``(method, path)``, in order."""

    calls: list[tuple[str, str]] = field(default_factory=list)

    def writes(self) -> list[tuple[str, str]]:
        """Requests that are not GET/HEAD."""
        return [(m, p) for m, p in self.calls if m not in ("GET", "HEAD")]

    def clear(self) -> None:
        """Forget what was logged."""
        self.calls.clear()


def logged(app: ASGIApp, log: RequestLog) -> ASGIApp:
    """Wrap an ASGI app so every HTTP request is appended to ``log``."""
    async def wrapper(scope: Scope, receive: Any, send: Any) -> None:
        if scope.get("type") == "http":
            log.calls.append((scope["method"], scope["path"]))
        await app(scope, receive, send)
    return wrapper


def corrupting(app: ASGIApp, marker: bytes) -> ASGIApp:
    """Answers whose body contains ``marker`` are cut in half (what a PHP warning in the middle
    of an object does to PrestaShop's output): neither JSON nor XML parses any more."""
    async def wrapper(scope: Scope, receive: Any, send: Any) -> None:
        if scope.get("type") != "http":
            await app(scope, receive, send)
            return
        messages: list[dict[str, Any]] = []

        async def keep(message: dict[str, Any]) -> None:
            messages.append(message)

        await app(scope, receive, keep)
        body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
        start = next(m for m in messages if m["type"] == "http.response.start")
        if marker in body:
            body = body[: len(body) // 2]
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body})
    return wrapper


@dataclass
class CatalogWorld:
    """A generated store, both emulators, one state store, and the settings of two shops."""

    generated: GeneratedStore
    shop: PrestaShopStore
    erp: DolibarrState
    settings: Settings
    store: Store
    shop_log: RequestLog = field(default_factory=RequestLog)
    erp_log: RequestLog = field(default_factory=RequestLog)
    erp_faults: FaultPlan = field(default_factory=FaultPlan)
    corrupt_marker: bytes | None = None

    @classmethod
    def build(cls, tmp: Path, *, products: int, seed: int = 7, shops: list[dict[str, Any]] | None = None,
              edit: Callable[[GeneratedStore], None] | None = None) -> CatalogWorld:
        generated = generate_store(seed=seed, products=products, orders=0, customers=0, shops=2, languages=2)
        if edit is not None:
            edit(generated)
        generated.dolibarr.api_keys[DOLIBARR_KEY] = "admin"
        warehouse = generated.dolibarr.warehouses[0]["ref"]
        shop_entries = shops or [{"name": "main", "id_shop": 1}]
        settings = Settings(
            dolibarr={"url": DOLIBARR_URL, "key": DOLIBARR_KEY},
            shop=[{"url": SHOP_URL, "key": DEFAULT_API_KEY, "default_warehouse": warehouse, **entry}
                  for entry in shop_entries],
        )
        return cls(generated=generated, shop=PrestaShopStore.from_dataset(generated.prestashop),
                   erp=DolibarrState.from_setup(generated.dolibarr), settings=settings,
                   store=open_store(f"sqlite:///{tmp / 'state.db'}"))

    def _shop_transport(self) -> httpx2.ASGITransport:
        app: ASGIApp = prestashop_app(self.shop, base_url=SHOP_URL)
        if self.corrupt_marker is not None:
            app = corrupting(app, self.corrupt_marker)
        return httpx2.ASGITransport(app=logged(app, self.shop_log))

    def _erp_transport(self) -> httpx2.ASGITransport:
        app = dolibarr_app(self.erp, faults=self.erp_faults, auth_failure_delay=0.0)
        return httpx2.ASGITransport(app=logged(app, self.erp_log))

    def prestashop_client(self, id_shop: int | None) -> PrestaShopClient:
        return PrestaShopClient(SHOP_URL, DEFAULT_API_KEY, id_shop=id_shop, limits=FAST,
                                transport=self._shop_transport(), sleep=_no_sleep)

    def dolibarr_client(self) -> DolibarrClient:
        return DolibarrClient(DOLIBARR_URL, DOLIBARR_KEY, limits=FAST, transport=self._erp_transport(),
                              sleep=_no_sleep, page_size=500)

    async def sync(self, shop_name: str = "main", **options: Any) -> SyncSummary:
        """One catalog sync of a shop, through fresh clients."""
        shop = self.settings.shop_named(shop_name)
        async with self.prestashop_client(shop.id_shop) as prestashop, self.dolibarr_client() as dolibarr:
            return await sync_catalog(self.settings, shop, self.store, prestashop=prestashop, dolibarr=dolibarr,
                                      **options)

    async def erp_get(self, path: str, **params: Any) -> Any:
        async with self.dolibarr_client() as dolibarr:
            return await dolibarr.request_json("GET", path, params=params or None)

    async def erp_list(self, path: str, **params: Any) -> list[dict[str, Any]]:
        async with self.dolibarr_client() as dolibarr:
            return [item async for item in dolibarr.list_raw(path, params=params, page_size=500)]


@pytest.mark.anyio
async def test_harness_reaches_both_emulators(tmp_path: Path) -> None:
    world = CatalogWorld.build(tmp_path, products=3)
    status = await world.erp_get("status")
    assert status["success"]["code"] == 200
    async with world.prestashop_client(1) as prestashop:
        assert await prestashop.list_ids("products")
    assert ("GET", "/api/products") in world.shop_log.calls
