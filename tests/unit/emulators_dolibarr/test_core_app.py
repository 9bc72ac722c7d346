"""Authentication, rights, routing order and the error envelope of the Dolibarr emulator app."""

from __future__ import annotations

import time

import httpx2 as httpx
import pytest

from dolisync.emulators.dolibarr import create_app
from dolisync.emulators.dolibarr.replay_fixture import ADMIN_KEY, LIMITED_KEY, recorded_state

pytestmark = pytest.mark.anyio


def _client(delay: float = 0.0, debug: bool = True) -> httpx.AsyncClient:
    app = create_app(recorded_state(), auth_failure_delay=delay, debug=debug)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://e/api/index.php", timeout=10.0)


async def test_three_ways_to_send_the_key() -> None:
    async with _client() as client:
        assert (await client.get("/status", headers={"DOLAPIKEY": ADMIN_KEY})).status_code == 200
        assert (await client.get("/status", headers={"Authorization": f"Bearer {ADMIN_KEY}"})).status_code == 200
        assert (await client.get("/status", params={"DOLAPIKEY": ADMIN_KEY})).status_code == 200


async def test_missing_and_wrong_key() -> None:
    async with _client(delay=0.2) as client:
        missing = await client.get("/products")
        assert missing.status_code == 401 and "HTTP_DOLAPIKEY" in missing.json()["error"]["message"]
        started = time.monotonic()
        wrong = await client.get("/products", headers={"DOLAPIKEY": "nope"})
        assert wrong.status_code == 401 and time.monotonic() - started >= 0.2
        assert "nope" not in wrong.text  # the key never echoes back


async def test_rights_and_debug_member() -> None:
    async with _client(debug=False) as client:
        forbidden = await client.get("/products", headers={"DOLAPIKEY": LIMITED_KEY})
        assert forbidden.status_code == 403 and forbidden.json() == {"error": {"code": 403, "message": "Forbidden"}}
        created = await client.post("/categories", json={"label": "x", "type": "product"},
                                    headers={"DOLAPIKEY": LIMITED_KEY})
        assert created.json()["error"]["message"] == "Forbidden: Insufficiant rights"


async def test_routing_order_waf_then_resource_then_route_then_auth() -> None:
    async with _client() as client:
        assert (await client.get("/products/ref/a(1)")).status_code == 403  # WAF before auth
        assert (await client.get("/nosuch")).status_code == 501  # unknown resource before auth
        bad_id = await client.get("/products/abc")  # route validation before auth
        assert bad_id.status_code == 400 and "`id`" in bad_id.json()["error"]["message"]
        assert (await client.request("PATCH", "/products/1", headers={"DOLAPIKEY": ADMIN_KEY})).status_code == 405
