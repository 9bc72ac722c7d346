"""Fixtures of the web tests: settings with secrets, a SQLite store, an in-process client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx2
import pytest

from dolisync.config import Settings
from dolisync.runtime.jobs import Job
from dolisync.runtime.metrics import RuntimeMetrics
from dolisync.store import Store, open_store
from dolisync.web.app import create_app

SHOP_KEY = "SHOPKEYSHOPKEYSHOPKEYSHOPKEY1234"
DOLI_KEY = "doliapikey-secret-0987654321"
WEB_TOKEN = "dashboard-token-s3cret"
SHOP_HOOK_SECRET = "shop-hook-secret-abcdef"
DOLI_HOOK_SECRET = "doli-hook-secret-uvwxyz"
SECRETS = (SHOP_KEY, DOLI_KEY, WEB_TOKEN, SHOP_HOOK_SECRET, DOLI_HOOK_SECRET, "pgpass-123456")


@pytest.fixture
def settings() -> Settings:
    return Settings(
        state={"url": "postgresql+psycopg://dolisync:pgpass-123456@db.example/dolisync"},
        dolibarr={"url": "https://erp.example.com/api/index.php", "key": DOLI_KEY},
        shop=[{"name": "fr", "url": "https://shop.example.com", "key": SHOP_KEY, "webhook_secret": SHOP_HOOK_SECRET}],
        web={"token": WEB_TOKEN, "dolibarr_webhook_secret": DOLI_HOOK_SECRET},
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_store(f"sqlite:///{tmp_path}/state.sqlite") as opened:
        yield opened


class Submitted(list[Job]):
    async def __call__(self, job: Job) -> bool:
        self.append(job)
        return True


@pytest.fixture
def submitted() -> Submitted:
    return Submitted()


@pytest.fixture
def metrics(store: Store) -> RuntimeMetrics:
    return RuntimeMetrics(store)


@pytest.fixture
async def client(settings: Settings, store: Store, submitted: Submitted,
                 metrics: RuntimeMetrics) -> AsyncIterator[httpx2.AsyncClient]:
    app = create_app(settings, store, submit=submitted, metrics=metrics)
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://127.0.0.1", timeout=10) as http:
        yield http


async def login(client: httpx2.AsyncClient) -> str:
    """Sign in; return the page's CSRF token."""
    response = await client.post("/login", data={"token": WEB_TOKEN})
    assert response.status_code == 303
    page = await client.get("/")
    assert page.status_code == 200
    marker = '"X-CSRF-Token": "'
    start = page.text.index(marker) + len(marker)
    return page.text[start : page.text.index('"', start)]
