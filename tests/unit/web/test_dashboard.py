"""Dashboard: login, CSRF on every action, the pages' content, /metrics and /healthz, and no
secret anywhere (pages, metrics, log lines)."""

from __future__ import annotations

import io
import json
import logging

import httpx2
import pytest

from dolisync.logs import SecretRedactor, configure_logging
from dolisync.runtime.jobs import Job
from dolisync.runtime.metrics import RuntimeMetrics
from dolisync.store import Store
from dolisync.store.inbox import Inbox
from dolisync.sync.failures import Backoff, FailureKey, FailureQueue, ItemError
from dolisync.sync.runs import RunRecorder
from dolisync.web.events import sign
from tests.unit.web.conftest import DOLI_HOOK_SECRET, SECRETS, SHOP_HOOK_SECRET, WEB_TOKEN, Submitted, login

pytestmark = pytest.mark.anyio

KEY = FailureKey("fr", "orders", "42")


def park(store: Store) -> None:
    FailureQueue(store, Backoff(max_attempts=1)).record(
        KEY, ItemError("MappingError", "order 42: payment module ps_wirepayment has no bank account",
                       hint="add it under [shop.payment_accounts]", field="payment"))


@pytest.mark.parametrize("path", ["/", "/?x=1"])
async def test_dashboard_without_session_shows_the_login_page(client: httpx2.AsyncClient, path: str) -> None:
    response = await client.get(path, follow_redirects=True)
    assert response.status_code == 200
    assert 'name="token"' in response.text and "Failures" not in response.text


async def test_partials_and_actions_without_session_are_refused(client: httpx2.AsyncClient, store: Store) -> None:
    park(store)
    assert (await client.get("/partials/failures")).status_code == 401
    assert (await client.get(f"/partials/failure/{KEY}")).status_code == 401
    assert (await client.post("/failures/retry", data={"key": str(KEY)})).status_code == 401
    assert FailureQueue(store).get(KEY).parked  # type: ignore[union-attr]


async def test_wrong_token_is_refused_and_a_forged_cookie_is_ignored(client: httpx2.AsyncClient) -> None:
    response = await client.post("/login", data={"token": "guess"})
    assert response.status_code == 401 and "Wrong token" in response.text
    client.cookies.set("dolisync_session", "abc.def")
    assert (await client.get("/")).status_code == 303


async def test_action_without_or_with_a_wrong_csrf_token_is_403(
    client: httpx2.AsyncClient, store: Store, submitted: Submitted
) -> None:
    park(store)
    await login(client)
    assert (await client.post("/failures/retry", data={"key": str(KEY)})).status_code == 403
    assert (await client.post("/failures/retry", data={"key": str(KEY), "csrf_token": "x" * 40})).status_code == 403
    assert (await client.post("/sync-now", data={"shop": "fr", "order": "42"})).status_code == 403
    assert (await client.post("/logout")).status_code == 403
    assert FailureQueue(store).get(KEY).parked and submitted == []  # type: ignore[union-attr]
    assert Inbox(store).pending() == []


async def test_parked_failure_shows_its_reason_and_retry_requeues_it(
    client: httpx2.AsyncClient, store: Store, submitted: Submitted
) -> None:
    park(store)
    csrf = await login(client)
    page = (await client.get("/")).text
    assert "fr/orders/42" in page and "has no bank account" in page and "add it under [shop.payment_accounts]" in page
    response = await client.post("/failures/retry", data={"key": str(KEY)}, headers={"X-CSRF-Token": csrf})
    assert response.status_code == 200 and "retrying" in response.text
    failure = FailureQueue(store).get(KEY)
    assert failure is not None and not failure.parked and failure.attempts == 0
    assert submitted == [Job.retry("fr", "orders", "42")]
    FailureQueue(store).resolve(KEY)
    row = await client.get(f"/partials/failure/{KEY}")
    assert 'class="synced"' in row.text


async def test_sync_now_stores_a_durable_hint_for_an_id_or_a_reference(
    client: httpx2.AsyncClient, store: Store, submitted: Submitted
) -> None:
    csrf = await login(client)
    for order in ("42", "XKBKNABJK"):
        response = await client.post("/sync-now", data={"shop": "fr", "order": order}, headers={"X-CSRF-Token": csrf})
        assert response.status_code == 200 and "queued" in response.text
    assert [(e.source, e.object_id) for e in Inbox(store).pending()] == [("dashboard", "42"), ("dashboard", "XKBKNABJK")]
    assert [job.kind for job in submitted] == ["inbox", "inbox"]
    bad = await client.post("/sync-now", data={"shop": "nope", "order": "1"}, headers={"X-CSRF-Token": csrf})
    assert bad.status_code == 400


async def test_overview_shows_last_sync_counts_and_backlog(client: httpx2.AsyncClient, store: Store) -> None:
    for created in (3, 5, 8):
        run = RunRecorder(store).start("fr", "sync")
        run.count("product", "created", created)
        run.finish()
    Inbox(store).receive("prestashop", "fr", "products", 5, {"id": 5})
    await login(client)
    html = (await client.get("/partials/overview")).text
    assert "<td>fr</td><td>product</td>" in html
    assert "<polyline" in html and "<td>8</td>" in html
    assert ">1</td>" in html  # the backlog: one pending event


async def test_healthz_and_metrics(client: httpx2.AsyncClient, store: Store, metrics: RuntimeMetrics) -> None:
    health = await client.get("/healthz")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    park(store)
    body = b'{"resource": "orders", "id": 1}'
    await client.post("/hooks/prestashop/fr", content=body, headers={"X-Dolisync-Signature": sign(SHOP_HOOK_SECRET, body)})
    await client.post("/hooks/prestashop/fr", content=body)
    text = (await client.get("/metrics")).text
    assert 'dolisync_webhooks_total{result="stored",source="prestashop"} 1.0' in text
    assert 'dolisync_webhooks_total{result="unauthorized",source="prestashop"} 1.0' in text
    assert 'dolisync_failures{connection="fr",state="parked"} 1.0' in text
    assert 'dolisync_inbox_pending{connection="fr"} 1.0' in text


async def test_no_secret_in_any_page_metric_or_log_line(client: httpx2.AsyncClient, store: Store) -> None:
    stream = io.StringIO()
    configure_logging("DEBUG", json=True, stream=stream, redactor=SecretRedactor())  # no secret registered
    try:
        park(store)
        body = b'{"resource": "orders", "id": 3}'
        await client.post("/hooks/prestashop/fr", content=body, headers={"X-Dolisync-Signature": sign(SHOP_HOOK_SECRET, body)})
        await client.post("/hooks/prestashop/fr", content=body, headers={"X-Dolisync-Signature": sign("bad", body)})
        await client.post(f"/hooks/dolibarr?secret={DOLI_HOOK_SECRET}", content=b'{"triggercode": "X", "object": {"element": "product", "id": 2}}')
        await client.post("/hooks/dolibarr?secret=wrong", content=b"{}")
        await client.post("/login", data={"token": "wrong"})
        csrf = await login(client)
        pages = []
        for path in ("/", "/partials/overview", "/partials/running", "/partials/failures", "/partials/reconciliation",
                     "/metrics", "/healthz", "/login", f"/partials/failure/{KEY}"):
            response = await client.get(path)
            assert response.status_code == 200, path
            pages.append(response.text)
        pages.append((await client.post("/failures/retry", data={"key": str(KEY)}, headers={"X-CSRF-Token": csrf})).text)
        logging.getLogger("dolisync.test").info("flush")
    finally:
        configure_logging("INFO")
    everything = "\n".join(pages) + stream.getvalue() + json.dumps(dict(client.cookies))
    assert "***" in pages[0]  # the configuration is shown, masked
    for secret in SECRETS:
        assert secret not in everything
    assert WEB_TOKEN not in stream.getvalue()
