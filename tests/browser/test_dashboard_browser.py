"""The dashboard in a real browser (Playwright driving Debian's chromium at /usr/bin/chromium):
log in, see a parked order with its reason, fix the cause, click Retry, see the row turn green.
A screenshot is kept under ``test-artifacts/``.

Everything is real: the service (``run_service``: uvicorn + the asyncio executor + the store +
the real order flows) syncs a generated shop between the PrestaShop and Dolibarr emulators. The
shop maps the order's payment module to a bank account that the Dolibarr admin has not created
yet, so the order flow parks the order ("... mapped to bank account 'BANK-PS-NEW', which does
not exist in Dolibarr: create it ..."; a problem only a person can fix is parked at once, with
no automatic attempts). The person creates the account in Dolibarr (its REST API), clicks Retry, the row turns green and the
order's payment is in that account.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx2
import pytest

from bench.latency import DOLIBARR_KEY, HOOK_SECRET, SimWorld
from dolisync.emulators.dolibarr import create_app as dolibarr_app
from dolisync.runtime.service import Service, run_service
from dolisync.sync.failures import FailureKey, FailureQueue
from dolisync.web.events import sign

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
NEW_ACCOUNT = "BANK-PS-NEW"


class ServiceThread:
    """The service on an event loop of its own thread (the browser is driven from the test's)."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.ready = threading.Event()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.stop: asyncio.Event | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        async def main() -> None:
            self.loop = asyncio.get_running_loop()
            self.stop = asyncio.Event()
            await run_service(self.service, self.stop, handle_signals=False, on_ready=lambda url: self.ready.set())

        asyncio.run(main())

    def __enter__(self) -> ServiceThread:
        self.thread.start()
        assert self.ready.wait(20), "service did not start"
        return self

    def call(self, coroutine: Any) -> Any:
        """Run ``coroutine`` on the service's loop (where the emulators' state is used) and return its result."""
        assert self.loop is not None
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(30)

    def __exit__(self, *exc: object) -> None:
        assert self.loop is not None and self.stop is not None
        self.loop.call_soon_threadsafe(self.stop.set)
        self.thread.join(20)


async def _paid_order(world: SimWorld) -> dict[str, Any]:
    """Place orders in the shop (as checkout does) until one is paid and meant for Dolibarr."""
    simulator = world.simulator(seed=3)
    for _ in range(50):
        event = await simulator.step("order")
        order = world.shop.get("orders", int(event.data["id_order"])) or {}
        paid = any(p.get("order_reference") == order.get("reference") for p in world.shop.rows("order_payments"))
        if event.ok and paid and not world.not_for_erp(str(order["id"])):
            return order
    raise AssertionError("the simulator placed no paid order")


async def _create_bank_account(world: SimWorld, ref: str) -> int:
    """What the person does in Dolibarr: create the bank account (through its REST API)."""
    transport = httpx2.ASGITransport(app=dolibarr_app(world.erp, auth_failure_delay=0.0))
    async with httpx2.AsyncClient(transport=transport, base_url="http://erp.test/api/index.php/",
                                  headers={"DOLAPIKEY": DOLIBARR_KEY}) as client:
        response = await client.post("bankaccounts", json={"ref": ref, "label": "PrestaShop Checkout", "type": 1,
                                                           "currency_code": "EUR", "country_id": 1})
        response.raise_for_status()
        return int(response.json())


@pytest.fixture
def world(tmp_path: Path) -> SimWorld:
    built = SimWorld.build(tmp_path)
    asyncio.run(built.bind_catalog())
    return built


@pytest.fixture
def service(world: SimWorld) -> Iterator[Service]:
    built = world.service(sweep_s=0.2)  # the default backoff: a setup problem must park at once anyway
    try:
        yield built
    finally:
        built.close()


def test_parked_order_is_retried_from_the_dashboard_and_turns_green(world: SimWorld, service: Service) -> None:
    from playwright.sync_api import expect, sync_playwright

    order = asyncio.run(_paid_order(world))
    order_id, module = int(order["id"]), str(order["module"])
    world.settings.shop[0].payment_accounts[module] = NEW_ACCOUNT  # the account is not in Dolibarr yet
    key = FailureKey("main", "orders", str(order_id))
    token = world.settings.web.token.get_secret_value()
    ARTIFACTS.mkdir(exist_ok=True)
    url = f"http://127.0.0.1:{world.settings.web.port}"
    with ServiceThread(service) as running, sync_playwright() as playwright:
        body = json.dumps({"resource": "orders", "id": order_id}).encode()
        hooked = httpx2.post(f"{url}/hooks/prestashop/main", content=body, timeout=10,
                             headers={"X-Dolisync-Signature": sign(HOOK_SECRET, body)})
        assert hooked.status_code == 202
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True, timeout=60_000)
        try:
            page = browser.new_page()
            page.set_default_timeout(30_000)
            page.goto(url + "/")
            expect(page).to_have_url(url + "/login")
            page.fill("#token", token)
            page.click("#login")
            row = page.locator(f'tr[data-key="{key}"]')
            for _ in range(30):  # the order flow parks it within a moment of the webhook
                if row.count():
                    break
                page.wait_for_timeout(500)
                page.reload()
            expect(row).to_have_class("parked")  # a setup problem waits for a person, not for a backoff
            expect(row).to_contain_text("SetupProblem")
            expect(row).to_contain_text(f"payment module {module} is mapped to bank account '{NEW_ACCOUNT}', "
                                        "which does not exist in Dolibarr")
            content = page.content()
            assert token not in content and DOLIBARR_KEY not in content
            assert world.settings.shop[0].key.get_secret_value() not in content
            account_id = running.call(_create_bank_account(world, NEW_ACCOUNT))  # the person fixes the cause
            row.locator("button.retry").click()
            green = page.locator(f'tr[data-key="{key}"].synced')
            expect(green).to_be_visible(timeout=30_000)
            expect(green).to_contain_text("synced")
            assert page.evaluate(
                "getComputedStyle(document.querySelector('tr.synced td')).backgroundColor") == "rgb(227, 247, 227)"
            page.screenshot(path=str(ARTIFACTS / "dashboard-retry-green.png"), full_page=True)
        finally:
            browser.close()
    assert FailureQueue(service.store).get(key) is None
    erp_order = world.erp_orders()[str(order_id)]
    assert int(erp_order["statut"]) >= 1, "the order is validated in Dolibarr"
    paid = sum((Decimal(str(p["amount"])) for p in world.shop.rows("order_payments")
                if p.get("order_reference") == order["reference"]), Decimal(0))
    in_company_currency = (paid / Decimal(str(order["conversion_rate"]))).quantize(Decimal("0.01"))
    lines = [Decimal(str(line["amount"])) for line in world.erp.table("banklines").values()
             if line["fk_account"] == account_id and line["label"] == "(CustomerInvoicePayment)"]
    assert lines == [in_company_currency], "the order's payment is in the bank account the person created"
