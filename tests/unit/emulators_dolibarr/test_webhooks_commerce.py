"""Webhook targets of the emulated Dolibarr: payload shape, delivery, blocking targets."""

from __future__ import annotations

import json
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import httpx2 as httpx
import pytest

from dolisync.emulators.dataset import DolibarrSetup, VatRate
from dolisync.emulators.dolibarr import DolibarrState
from tests.unit.emulators_dolibarr.support import asgi_client
from dolisync.emulators.dolibarr.webhooks import USER_AGENT, configure_targets, install

MODULES = ("setup_api", "thirdparties", "contacts", "orders", "invoices", "payments", "bank", "shipments", "webhooks")
KEY = "k"


class _Receiver:
    def __init__(self, status: int) -> None:
        self.received: list[tuple[dict[str, str], dict[str, Any]]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server API
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers), json.loads(body)))
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


def _client(state: DolibarrState) -> httpx.AsyncClient:
    return asgi_client(state, MODULES, KEY)


def _state() -> DolibarrState:
    return DolibarrState.from_setup(DolibarrSetup(api_keys={KEY: "admin"}, vat_rates=[VatRate("20")]))


@pytest.mark.anyio
async def test_order_validate_payload_has_draft_ref_and_newref() -> None:
    receiver = _Receiver(200)
    state = _state()
    configure_targets(state, [{"url": receiver.url, "trigger_codes": ["ORDER_CREATE", "ORDER_VALIDATE"]}])
    try:
        async with _client(state) as client:
            socid = (await client.post("/thirdparties", json={"name": "A"})).json()
            order_id = (await client.post("/orders", json={"socid": socid, "date": 1795835501, "caller": "dolisync",
                                                          "lines": [{"qty": 2, "subprice": 30, "tva_tx": 20}]})).json()
            validated = (await client.post(f"/orders/{order_id}/validate", json={})).json()
            await install(state).drain()
    finally:
        receiver.close()
    codes = [body["triggercode"] for _, body in receiver.received]
    assert codes == ["ORDER_CREATE", "ORDER_VALIDATE"]
    headers, create = receiver.received[0]
    assert headers["User-Agent"] == USER_AGENT
    assert create["object"]["context"] == {"caller": "dolisync"}
    validate = receiver.received[1][1]["object"]
    assert validate["ref"] == f"(PROV{order_id})"
    assert validate["newref"] == validated["ref"] and validated["ref"].startswith("CO")
    assert validate["context"] == []
    assert Decimal(validate["total_ttc"]) == Decimal("72")


@pytest.mark.anyio
async def test_blocking_target_failure_fails_and_rolls_back_the_create() -> None:
    receiver = _Receiver(500)
    state = _state()
    state.extra["webhook_targets"] = [{"url": receiver.url, "trigger_codes": ["COMPANY_CREATE"], "status": 1, "type": 0}]
    try:
        async with _client(state) as client:
            response = await client.post("/thirdparties", json={"name": "Blocked"})
            listed = await client.get("/thirdparties")
    finally:
        receiver.close()
    assert response.status_code == 500
    assert "The WebHook for COMPANY_CREATE failed" in response.json()["error"]["1"]
    assert listed.status_code == 404  # rolled back: no thirdparty at all
    assert state.extra["webhook_history"][0]["status"] == -1


@pytest.mark.anyio
async def test_disabled_or_unsubscribed_targets_receive_nothing_and_webhook_api_is_forbidden() -> None:
    receiver = _Receiver(200)
    state = _state()
    state.extra["webhook_targets"] = [{"url": receiver.url, "trigger_codes": "COMPANY_CREATE", "status": 0, "type": 1},
                                      {"url": receiver.url, "trigger_codes": "BILL_PAYED", "status": 1, "type": 1}]
    try:
        async with _client(state) as client:
            assert (await client.post("/thirdparties", json={"name": "A"})).status_code == 200
            assert (await client.get("/webhook/triggers")).status_code == 403
            await install(state).drain()
    finally:
        receiver.close()
    assert receiver.received == []


def test_configure_targets_normalises_and_refuses_a_target_without_url() -> None:
    state = _state()
    dispatcher = configure_targets(state, [{"url": "http://127.0.0.1:9/x", "trigger_codes": " BILL_PAYED ,ORDER_CLOSE"}])
    assert state.extra["webhook_targets"] == [{"url": "http://127.0.0.1:9/x", "trigger_codes": "BILL_PAYED,ORDER_CLOSE",
                                               "status": 1, "type": 1}]
    assert install(state) is dispatcher and state.event_hooks.count(dispatcher) == 1
    with pytest.raises(ValueError):
        configure_targets(state, [{"trigger_codes": "BILL_PAYED"}])
