"""The service's one-order jobs share the setup reads of recent runs; a retry reads them afresh.

Counted on the Dolibarr emulator: its bank accounts listing is one of the setup reads
(:class:`~dolisync.sync.orders.erp_setup.ErpSetup`), so how many times it is requested says
how many runs read the setup.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import httpx2
import pytest

from dolisync.runtime.flow_handlers import flow_handlers
from dolisync.runtime.jobs import Job
from dolisync.runtime.work import JobContext
from dolisync.sync.failures import FailureKey, FailureQueue
from dolisync.sync.orders import sync_orders
from dolisync.sync.orders.setup_cache import SetupCache
from tests.e2e.test_orders_world import OrderWorld

pytestmark = pytest.mark.anyio

NEW_ACCOUNT = "BANK-NOT-YET"


class Gets:
    """Counts the GET paths a Dolibarr emulator app serves."""

    def __init__(self) -> None:
        self.paths: Counter[str] = Counter()

    def transports(self, world: OrderWorld) -> dict[str, Any]:
        transports = world.transports()
        inner = transports["dolibarr"].app

        async def app(scope: Any, receive: Any, send: Any) -> None:
            if scope.get("type") == "http" and scope["method"] == "GET":
                self.paths[scope["path"].rsplit("/index.php", 1)[-1]] += 1
            await inner(scope, receive, send)

        transports["dolibarr"] = httpx2.ASGITransport(app=app)
        return transports


def test_the_cache_forgets_after_its_time_and_on_clear() -> None:
    now = [0.0]
    cache = SetupCache(ttl_s=60, clock=lambda: now[0])
    facts: Any = object()
    cache.put("main", facts)
    assert cache.get("main") is facts and cache.get("other") is None
    now[0] = 59.0
    assert cache.get("main") is facts
    now[0] = 61.0
    assert cache.get("main") is None
    cache.put("main", facts)
    cache.clear("main")
    assert cache.get("main") is None


async def test_order_jobs_share_setup_reads_and_a_retry_reads_them_afresh(tmp_path: Path) -> None:
    world = OrderWorld.build(tmp_path, orders=40)
    shop = world.settings.shop[0]
    paid = {str(p["order_reference"]): str(p["payment_method"]) for p in world.ps_rows("order_payments")}
    by_module: dict[str, list[str]] = {}
    for order in world.ps_rows("orders"):
        if order["current_state"] in ("2", "3", "4", "5") and str(order["reference"]) in paid:
            by_module.setdefault(str(order["module"]), []).append(str(order["id"]))
    modules = sorted(by_module, key=lambda m: -len(by_module[m]))
    assert len(modules) >= 2 and len(by_module[modules[0]]) >= 3, by_module
    first, second, later = by_module[modules[0]][:3]
    lonely = by_module[modules[1]][0]
    gets, cache = Gets(), SetupCache()

    async def one(order_id: str) -> Any:
        return await sync_orders(world.settings, shop, world.store, ids=[order_id], transports=gets.transports(world),
                                 setup_cache=cache)

    assert not (await one(first)).parked
    assert gets.paths["/bankaccounts"] == 1
    assert not (await one(second)).parked
    assert gets.paths["/bankaccounts"] == 1, "the second job used the first one's setup"

    shop.payment_accounts[modules[1]] = NEW_ACCOUNT  # a module mapped to an account Dolibarr lacks
    parked = await one(lonely)
    assert [item.source_id for item in parked.parked] == [lonely] and NEW_ACCOUNT in parked.parked[0].message
    assert cache.get(shop.name) is None, "a run that parks forgets the setup"
    assert not (await one(later)).parked  # reads the setup again and keeps it (still without the account)
    assert gets.paths["/bankaccounts"] == 2 and cache.get(shop.name) is not None

    async with httpx2.AsyncClient(transport=world.transports()["dolibarr"], base_url="http://erp.test/api/index.php/",
                                  headers={"DOLAPIKEY": world.settings.dolibarr.key.get_secret_value()}) as erp:
        created = await erp.post("bankaccounts", json={"ref": NEW_ACCOUNT, "label": "New", "type": 1,
                                                      "currency_code": "EUR", "country_id": 1})
        assert created.status_code == 200, created.text
    # the person clicks Retry: the retry job reads the setup afresh and finds the new account
    context = JobContext(world.store, world.settings, extras={"transports": gets.transports(world),
                                                              "setup_cache": cache})
    await flow_handlers().retry(Job.retry(shop.name, "orders", lonely), context)
    assert gets.paths["/bankaccounts"] == 3
    assert FailureQueue(world.store).get(FailureKey(shop.name, "orders", lonely)) is None
    assert lonely in {str(o["ref_ext"]).rsplit("-", 1)[1] for o in world.ours("orders", "ps-main-order-")}
