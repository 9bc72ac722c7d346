"""Fixtures of the Dolibarr contract suite (emulator by default, a real Dolibarr when configured)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator

import httpx2 as httpx
import pytest

from dolisync.emulators.dolibarr import create_app
from dolisync.emulators.dolibarr.replay_fixture import ADMIN_KEY, recorded_state

REAL_URL = os.environ.get("DOLISYNC_CONTRACT_DOLIBARR_URL")
REAL_KEY = os.environ.get("DOLISYNC_CONTRACT_DOLIBARR_KEY")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def against_real() -> bool:
    return bool(REAL_URL and REAL_KEY)


@pytest.fixture
def prefix() -> str:
    """A unique prefix for data created by one test."""
    return f"DSCT{uuid.uuid4().hex[:8].upper()}"


@pytest.fixture
async def dolibarr() -> AsyncIterator[httpx.AsyncClient]:
    """An authenticated client on ``.../api/index.php``: the real server if configured, else the emulator."""
    if REAL_URL and REAL_KEY:
        async with httpx.AsyncClient(base_url=REAL_URL.rstrip("/"), headers={"DOLAPIKEY": REAL_KEY},
                                     timeout=30.0) as client:
            yield client
        return
    app = create_app(recorded_state(), auth_failure_delay=0)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://emulator/api/index.php",
                                 headers={"DOLAPIKEY": ADMIN_KEY}, timeout=10.0) as client:
        yield client
