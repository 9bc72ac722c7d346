"""Both clients against the emulators with injected faults (5xx, 429, drops, hangs, garbage)."""

from __future__ import annotations

from decimal import Decimal

import httpx2
import pytest

from dolisync.clients.dolibarr import DolibarrClient
from dolisync.clients.errors import MalformedResponse, Transient
from dolisync.clients.http import RemoteLimits
from dolisync.clients.prestashop import PrestaShopClient
from dolisync.emulators.dataset import DolibarrSetup
from dolisync.emulators.dolibarr import DolibarrState
from dolisync.emulators.dolibarr import create_app as doli_app
from dolisync.emulators.faults import FaultPlan, FaultRule
from dolisync.emulators.prestashop import REFERENCE_KEYS, PrestaShopStore, reference_dataset
from dolisync.emulators.prestashop import create_app as ps_app
from dolisync.emulators.serve import BackgroundServer

pytestmark = pytest.mark.anyio
SHOP = "http://shop.test"
ERP = "http://erp.test/api/index.php"
DOLI_KEY = "doli-fault-key-01"


class Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


class Counting(httpx2.AsyncBaseTransport):
    def __init__(self, inner: httpx2.AsyncBaseTransport) -> None:
        self.inner = inner
        self.methods: list[str] = []

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        self.methods.append(request.method)
        return await self.inner.handle_async_request(request)


def _ps(plan: FaultPlan | None, sleeps: Sleeps, **limits: object) -> PrestaShopClient:
    app = ps_app(PrestaShopStore.from_dataset(reference_dataset()), base_url=SHOP, faults=plan)
    return PrestaShopClient(
        SHOP, REFERENCE_KEYS["full"], transport=httpx2.ASGITransport(app=app), sleep=sleeps, page_size=5,
        limits=RemoteLimits(rate_per_s=1000, **limits),  # type: ignore[arg-type]
    )


def _doli(plan: FaultPlan, sleeps: Sleeps) -> tuple[DolibarrClient, Counting, DolibarrState]:
    state = DolibarrState.from_setup(DolibarrSetup(api_keys={DOLI_KEY: "admin"}))
    transport = Counting(httpx2.ASGITransport(app=doli_app(state, faults=plan, auth_failure_delay=0)))
    client = DolibarrClient(ERP, DOLI_KEY, transport=transport, sleep=sleeps, limits=RemoteLimits(rate_per_s=1000, retries=8))
    return client, transport, state


async def test_listing_survives_5xx_429_and_drops_and_returns_everything_once() -> None:
    async with _ps(None, Sleeps()) as clean:
        expected = [p.id async for p in clean.list("products")]
    plan = FaultPlan(
        [FaultRule(path_pattern="/api/products*", error_rate=0.2, rate_429=0.1, retry_after_s=3, drop_rate=0.1)], seed=7
    )
    sleeps = Sleeps()
    async with _ps(plan, sleeps, retries=10) as client:
        got = [p.id async for p in client.list("products")]
        stats = client.stats()
    assert got == expected
    assert stats.retries == len(sleeps.delays) > 0 and stats.failures == 0
    assert stats.reads == 4 + stats.retries  # 19 products in pages of 5
    assert 3.0 in sleeps.delays  # a 429 waited its Retry-After


async def test_post_is_resent_after_429_but_never_after_an_ambiguous_5xx() -> None:
    plan = FaultPlan([FaultRule(path_pattern="*/products", methods={"POST"}, rate_429=0.6)], seed=3)
    sleeps = Sleeps()
    client, transport, _ = _doli(plan, sleeps)
    async with client:
        ids = [await client.create("products", {"ref": f"R{i}", "label": "x"}) for i in range(6)]
        assert len(set(ids)) == 6
        listed = [p.ref async for p in client.list("products")]
        assert sorted(listed) == [f"R{i}" for i in range(6)]  # no duplicate from a resend
        assert client.stats().retries > 0
        plan.clear()
        plan.add(FaultRule(path_pattern="*/products", methods={"POST"}, error_rate=1.0, error_status=500))
        before = len(transport.methods)
        with pytest.raises(Transient):
            await client.create("products", {"ref": "R-late", "label": "x"})
        assert transport.methods[before:] == ["POST"]  # sent once, not retried


async def test_garbage_body_is_malformed_naming_resource_and_id() -> None:
    plan = FaultPlan([FaultRule(path_pattern="/api/products/1", malformed_rate=1.0)])
    async with _ps(plan, Sleeps()) as client:
        with pytest.raises(MalformedResponse) as info:
            await client.get("products", 1)
    assert "products 1" in str(info.value)


async def test_truncated_dolibarr_list_is_malformed_not_partial() -> None:
    plan = FaultPlan([FaultRule(path_pattern="*/warehouses", truncated_rate=1.0)])
    client, _, _ = _doli(plan, Sleeps())
    async with client:
        with pytest.raises(MalformedResponse):
            [w async for w in client.list("warehouses")]


async def test_hang_over_loopback_times_out_and_is_retried() -> None:
    plan = FaultPlan([FaultRule(path_pattern="/api/products/1", hang_rate=1.0, hang_s=1.0)])
    app = ps_app(PrestaShopStore.from_dataset(reference_dataset()), base_url=SHOP, faults=plan)
    sleeps = Sleeps()
    with BackgroundServer(app) as server:
        async with PrestaShopClient(
            server.url, REFERENCE_KEYS["full"], sleep=sleeps, limits=RemoteLimits(timeout_s=0.2, retries=1)
        ) as client:
            with pytest.raises(Transient, match="timed out"):
                await client.get("products", 1)
            assert client.stats().reads == 2 and len(sleeps.delays) == 1
            plan.clear()
            assert (await client.get("products", 1)).price == Decimal("23.900000")
