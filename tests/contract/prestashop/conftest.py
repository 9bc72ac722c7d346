"""Fixtures of the PrestaShop contract suite.

The contract tests run against the emulator by default; when ``DOLISYNC_CONTRACT_PRESTASHOP_URL``
and ``DOLISYNC_CONTRACT_PRESTASHOP_KEY`` are set they run against that real shop instead (Basic
auth with the key as username; the key never appears in URLs).

Checked against a real PrestaShop 8.2.1 (fresh CLI install with the demo fixtures, language en +
fr, country FR, production mode, PS_MAIL_METHOD=3, one key with every method on every resource):
every ``test_contract_*`` passes on both targets. Setup facts that matter when re-running it:

* The suite needs write access (it creates prefixed products/combinations/images, deletes them,
  and moves the newest order to another logable state) and the demo order states and options.
* ``php -S`` with a router mapping ``/api/<url>`` to ``webservice/dispatcher.php?url=<url>`` is
  enough; it adds an empty ``Content-Type`` header to bodyless answers (DELETE, 404) where nginx
  may not, so the suite never asserts that header on bodyless answers.
* An offline install fails on "Cannot download language pack": the installer only needs the
  files ``translations/<iso>.gzip`` and ``translations/sf-<locale>.zip`` to exist.
* A fresh install is not the captured reference shop: passwords, ``secure_key``, dates, address
  ids and the first order's history/invoice/payment rows differ, and the emulator's reference
  dataset holds empty stub rows for ids the captures only listed (taxes 2+, carriers 1/3/4 ...).
  The suite therefore asserts behaviour on data it creates, never demo values beyond ids/states.
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
