"""Fixtures of the Dolibarr emulator's tests: the recorded state and a client of it over ASGI."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx2 as httpx
import pytest

from dolisync.emulators.dolibarr import create_app
from dolisync.emulators.dolibarr.replay_fixture import ADMIN_KEY, recorded_state
from dolisync.emulators.dolibarr.state import DolibarrState


@pytest.fixture
def state() -> DolibarrState:
    """The state recorded from the real Dolibarr, on a frozen clock."""
    return recorded_state(clock=lambda: 1795835395)


@pytest.fixture
async def client(state: DolibarrState) -> AsyncIterator[httpx.AsyncClient]:
    """An admin client of the whole emulator serving ``state``."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(state, auth_failure_delay=0)),
                                 base_url="http://e/api/index.php", headers={"DOLAPIKEY": ADMIN_KEY}) as c:
        yield c
