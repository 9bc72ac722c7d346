"""The dashboard in a real browser (Playwright driving Debian's chromium at /usr/bin/chromium):
log in, see a parked order with its reason, fix the cause, click Retry, see the row turn green.
A screenshot is kept under ``test-artifacts/``.

The service runs for real (``run_service``: uvicorn + the asyncio executor + the store) with a
handler table whose order handler fails while the "cause" (a missing VAT rate in this test's
fake ERP setup) is present, the way the order flow parks an order it cannot map.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from dolisync.config import Settings
from dolisync.emulators.serve import free_port
from dolisync.runtime.jobs import Job
from dolisync.runtime.service import Service, build_service, run_service
from dolisync.runtime.work import DONE, HandlerResult, HandlerTable, JobContext
from dolisync.sync.failures import Backoff, FailureKey, FailureQueue

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
TOKEN = "browser-test-token-123"
KEY = FailureKey("fr", "orders", "42")
REASON = "order 42: VAT rate 5.5% (FR) does not exist in Dolibarr"
HINT = "add the 5.5% rate for France in Dolibarr (Setup > Dictionaries > VAT rates)"


class MissingVatRate(Exception):
    """What the order flow raises when a VAT rate is missing (message + hint)."""

    def __init__(self) -> None:
        super().__init__(REASON)
        self.hint = HINT


class FakeErp:
    def __init__(self) -> None:
        self.vat_rates = {"20.0"}


def handlers(erp: FakeErp) -> HandlerTable:
    async def order(job: Job, ctx: JobContext) -> HandlerResult:
        if "5.5" not in erp.vat_rates:
            raise MissingVatRate()
        return DONE

    async def poll(job: Job, ctx: JobContext) -> HandlerResult:
        return DONE

    return HandlerTable(poll=poll, inbox=order, retry=order)


class ServiceThread:
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

    def __exit__(self, *exc: object) -> None:
        assert self.loop is not None and self.stop is not None
        self.loop.call_soon_threadsafe(self.stop.set)
        self.thread.join(20)


@pytest.fixture
def erp() -> FakeErp:
    return FakeErp()


@pytest.fixture
def service(tmp_path: Path, erp: FakeErp) -> Iterator[Service]:
    settings = Settings(
        state={"url": f"sqlite:///{tmp_path}/state.sqlite"},
        shop=[{"name": "fr", "url": "http://127.0.0.1:9", "key": "SHOPKEY-never-shown-123"}],
        web={"port": free_port(), "token": TOKEN},
        runtime={"orders_poll_s": 3600, "catalog_poll_s": 3600},
    )
    built = build_service(settings, handlers=handlers(erp), sweep_s=0.2)
    try:
        yield built
    finally:
        built.close()


def test_parked_order_is_retried_from_the_dashboard_and_turns_green(service: Service, erp: FakeErp) -> None:
    from playwright.sync_api import expect, sync_playwright

    FailureQueue(service.store, Backoff(max_attempts=1)).record(KEY, MissingVatRate())
    ARTIFACTS.mkdir(exist_ok=True)
    url = f"http://127.0.0.1:{service.settings.web.port}"
    with ServiceThread(service), sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True, timeout=60_000)
        try:
            page = browser.new_page()
            page.set_default_timeout(15_000)
            page.goto(url + "/")
            expect(page).to_have_url(url + "/login")
            page.fill("#token", TOKEN)
            page.click("#login")
            row = page.locator(f'tr[data-key="{KEY}"]')
            expect(row).to_have_class("parked")
            expect(row).to_contain_text("MissingVatRate")
            expect(row).to_contain_text(REASON)
            expect(row).to_contain_text(HINT)
            assert "SHOPKEY-never-shown-123" not in page.content() and TOKEN not in page.content()
            erp.vat_rates.add("5.5")  # the person fixes the cause in Dolibarr
            row.locator("button.retry").click()
            green = page.locator(f'tr[data-key="{KEY}"].synced')
            expect(green).to_be_visible(timeout=15_000)
            expect(green).to_contain_text("synced")
            assert page.evaluate(
                "getComputedStyle(document.querySelector('tr.synced td')).backgroundColor") == "rgb(227, 247, 227)"
            page.screenshot(path=str(ARTIFACTS / "dashboard-retry-green.png"), full_page=True)
        finally:
            browser.close()
    assert FailureQueue(service.store).get(KEY) is None
