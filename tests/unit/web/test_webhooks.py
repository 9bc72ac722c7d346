"""Webhooks: authenticated events are stored before 202, deduplicated and handed to the
executor; anything unauthenticated is refused with 401 and leaves the inbox empty."""

from __future__ import annotations

import json

import httpx2
import pytest

from dolisync.store import Store
from dolisync.store.inbox import Inbox
from dolisync.web.events import sign
from tests.reference import REFERENCE as SHARED_REFERENCE
from tests.unit.web.conftest import DOLI_HOOK_SECRET, SHOP_HOOK_SECRET, Submitted

pytestmark = pytest.mark.anyio

SAMPLES = SHARED_REFERENCE / "dolibarr" / "samples"


def signed(body: bytes, secret: str = SHOP_HOOK_SECRET) -> dict[str, str]:
    return {"X-Dolisync-Signature": sign(secret, body), "Content-Type": "application/json"}


async def test_signed_prestashop_event_is_stored_before_202_and_submitted(
    client: httpx2.AsyncClient, store: Store, submitted: Submitted
) -> None:
    body = json.dumps({"resource": "orders", "id": 42}).encode()
    response = await client.post("/hooks/prestashop/fr", content=body, headers=signed(body))
    assert response.status_code == 202
    pending = Inbox(store).pending()
    assert [(e.source, e.connection, e.resource, e.object_id) for e in pending] == [("prestashop", "fr", "orders", "42")]
    assert response.json()["event_id"] == pending[0].id
    assert [(j.kind, j.key, j.event_id) for j in submitted] == [("inbox", "fr/orders/42", pending[0].id)]


@pytest.mark.parametrize("headers", [
    {},
    {"X-Dolisync-Signature": "sha256=" + "0" * 64},
    {"X-Dolisync-Signature": sign("another-secret", b'{"resource": "orders", "id": 42}')},
    {"X-Dolisync-Signature": "garbage"},
])
async def test_unsigned_or_badly_signed_prestashop_event_is_401_and_not_stored(
    client: httpx2.AsyncClient, store: Store, submitted: Submitted, headers: dict[str, str]
) -> None:
    body = b'{"resource": "orders", "id": 42}'
    response = await client.post("/hooks/prestashop/fr", content=body, headers=headers)
    assert response.status_code == 401
    assert Inbox(store).pending() == [] and submitted == []


async def test_signature_of_another_body_is_refused(client: httpx2.AsyncClient, store: Store) -> None:
    good = b'{"resource": "orders", "id": 42}'
    tampered = b'{"resource": "orders", "id": 43}'
    response = await client.post("/hooks/prestashop/fr", content=tampered, headers=signed(good))
    assert response.status_code == 401
    assert Inbox(store).pending() == []


async def test_unknown_shop_is_401(client: httpx2.AsyncClient, store: Store) -> None:
    body = b'{"resource": "orders", "id": 42}'
    response = await client.post("/hooks/prestashop/de", content=body, headers=signed(body))
    assert response.status_code == 401
    assert Inbox(store).pending() == []


@pytest.mark.parametrize("payload", [b"not json", b"[1]", b'{"resource": "orders"}', b'{"resource": "x", "id": 1}',
                                     b'{"resource": "orders", "id": -3}', b'{"resource": "orders", "id": "1 OR 1"}'])
async def test_signed_but_malformed_event_is_400_and_not_stored(
    client: httpx2.AsyncClient, store: Store, payload: bytes
) -> None:
    response = await client.post("/hooks/prestashop/fr", content=payload, headers=signed(payload))
    assert response.status_code == 400
    assert Inbox(store).pending() == []


async def test_same_event_twice_is_stored_once_until_processed(client: httpx2.AsyncClient, store: Store) -> None:
    body = b'{"resource": "orders", "id": 7}'
    first = await client.post("/hooks/prestashop/fr", content=body, headers=signed(body))
    second = await client.post("/hooks/prestashop/fr", content=body, headers=signed(body))
    assert (first.status_code, second.status_code) == (202, 202)
    assert second.json() == {**first.json(), "duplicate": True}
    assert len(Inbox(store).pending()) == 1
    Inbox(store).mark_processed([first.json()["event_id"]])
    third = await client.post("/hooks/prestashop/fr", content=body, headers=signed(body))
    assert third.json()["duplicate"] is False  # a later change of the same order is a new hint
    assert len(Inbox(store).pending()) == 1


async def test_distinct_delivery_markers_are_distinct_events(client: httpx2.AsyncClient, store: Store) -> None:
    for marker in ("2026-11-28 10:00:00", "2026-11-28 10:00:05", "2026-11-28 10:00:05"):
        body = json.dumps({"resource": "orders", "id": 9, "date_upd": marker}).encode()
        assert (await client.post("/hooks/prestashop/fr", content=body, headers=signed(body))).status_code == 202
    assert len(Inbox(store).pending()) == 2


def dolibarr_sample(name: str) -> bytes:
    return json.dumps(json.loads((SAMPLES / f"webhook_{name}.json").read_text())["body"]).encode()


async def test_dolibarr_event_with_secret_in_header_or_url_is_stored_without_its_body(
    client: httpx2.AsyncClient, store: Store, submitted: Submitted
) -> None:
    body = dolibarr_sample("ORDER_VALIDATE")
    by_header = await client.post("/hooks/dolibarr", content=body, headers={"X-Dolisync-Secret": DOLI_HOOK_SECRET})
    assert by_header.status_code == 202
    stock = dolibarr_sample("STOCK_MOVEMENT")
    by_url = await client.post(f"/hooks/dolibarr?secret={DOLI_HOOK_SECRET}", content=stock)
    assert by_url.status_code == 202
    events = Inbox(store).pending()
    assert [(e.source, e.resource, e.object_id) for e in events] == [
        ("dolibarr", "commande", "1"), ("dolibarr", "stockmouvement", "1")]
    assert events[0].payload["triggercode"] == "ORDER_VALIDATE"
    assert set(events[0].payload) <= {"resource", "id", "triggercode", "marker"}  # the body is not kept
    assert len(submitted) == 2


async def test_shipping_payload_with_an_embedded_user_is_not_stored(client: httpx2.AsyncClient, store: Store) -> None:
    body = json.loads(dolibarr_sample("SHIPPING_CREATE"))
    body["object"]["user"] = {"api_key": "LEAKED-API-KEY-123", "pass_indatabase_crypted": "$2y$hash"}
    response = await client.post("/hooks/dolibarr", content=json.dumps(body).encode(),
                                 headers={"X-Dolisync-Secret": DOLI_HOOK_SECRET})
    assert response.status_code == 202
    stored = json.dumps([e.payload for e in Inbox(store).pending()])
    assert "LEAKED-API-KEY-123" not in stored and "$2y$hash" not in stored


@pytest.mark.parametrize("query, headers", [("", {}), ("?secret=wrong", {}), ("", {"X-Dolisync-Secret": "wrong"})])
async def test_dolibarr_event_without_the_secret_is_401_and_not_stored(
    client: httpx2.AsyncClient, store: Store, query: str, headers: dict[str, str]
) -> None:
    response = await client.post(f"/hooks/dolibarr{query}", content=dolibarr_sample("PRODUCT_CREATE"), headers=headers)
    assert response.status_code == 401
    assert Inbox(store).pending() == []
