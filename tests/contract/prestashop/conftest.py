"""Fixtures of the PrestaShop contract suite.

The contract tests run against the emulator by default; when ``DOLISYNC_CONTRACT_PRESTASHOP_URL``
and ``DOLISYNC_CONTRACT_PRESTASHOP_KEY`` are set they run against that real shop instead (Basic
auth with the key as username; the key never appears in URLs).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx2
import pytest

from dolisync.emulators.dataset import PrestaShopDataset
from dolisync.emulators.prestashop import PrestaShopStore, create_app, reference_dataset
from dolisync.emulators.prestashop.reference import REFERENCE_BASE_URL, REFERENCE_KEYS

_CACHE: dict[str, PrestaShopDataset] = {}
_STORES: dict[str, PrestaShopStore] = {}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def cached_reference() -> PrestaShopDataset:
    """The reference dataset, read once per test session (callers copy it via the store)."""
    if "ref" not in _CACHE:
        _CACHE["ref"] = reference_dataset()
    return _CACHE["ref"]


def fresh_reference_store() -> PrestaShopStore:
    """A new store holding the reference shop (cloned from one built per session)."""
    if "ref" not in _STORES:
        _STORES["ref"] = PrestaShopStore.from_dataset(cached_reference())
    return _STORES["ref"].clone()


@dataclass(slots=True)
class Target:
    """Where the contract suite talks to."""

    client: httpx2.AsyncClient
    real: bool
    prefix: str
    store: PrestaShopStore | None


@pytest.fixture
async def shop() -> AsyncIterator[Target]:
    url = os.environ.get("DOLISYNC_CONTRACT_PRESTASHOP_URL")
    key = os.environ.get("DOLISYNC_CONTRACT_PRESTASHOP_KEY")
    prefix = "dsct-" + uuid.uuid4().hex[:8]
    timeout = httpx2.Timeout(30.0)
    if url and key:
        async with httpx2.AsyncClient(base_url=url.rstrip("/"), auth=(key, ""), timeout=timeout) as client:
            yield Target(client, True, prefix, None)
        return
    store = fresh_reference_store()
    app = create_app(store, base_url=REFERENCE_BASE_URL)
    transport = httpx2.ASGITransport(app)
    async with httpx2.AsyncClient(
        transport=transport, base_url=REFERENCE_BASE_URL, auth=(REFERENCE_KEYS["full"], ""), timeout=timeout
    ) as client:
        yield Target(client, False, prefix, store)
