"""An HTTP client wired to an in-process Dolibarr emulator, for the emulator's unit tests."""

from __future__ import annotations

from collections.abc import Sequence

import httpx2 as httpx

from dolisync.emulators.dolibarr import DolibarrState
from dolisync.emulators.dolibarr.app import DolibarrEmulator, build_router

__all__ = ["asgi_client"]


def asgi_client(state: DolibarrState, modules: Sequence[str], key: str) -> httpx.AsyncClient:
    """A client of an emulator serving ``state`` with only the API ``modules`` routed, sending ``key``."""
    app = DolibarrEmulator(state, build_router(tuple(modules)), auth_failure_delay=0)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://e/api/index.php",
                             headers={"DOLAPIKEY": key}, timeout=10)
