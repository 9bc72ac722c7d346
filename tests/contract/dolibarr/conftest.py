"""Fixtures of the Dolibarr contract suite (emulator by default, a real Dolibarr when configured).

Against a real server set ``DOLISYNC_CONTRACT_DOLIBARR_URL`` (``http://host/api/index.php``) and
``DOLISYNC_CONTRACT_DOLIBARR_KEY`` (an admin user's API key) and run ``pytest tests/contract/dolibarr -k contract``.
Last checked green on a fresh Dolibarr 23.0.0-beta (develop, PHP 8.2 ``php -S``, MariaDB 10.11), set up as:
company country FR, currency EUR, ``$dolibarr_main_prod=0``; modules Third parties, Products, Services,
Stock, Categories, Orders, Invoices, Banks, Variants, Multicurrency, Barcode, Shipments, Proposals,
Webhook, API (plus Projects); default numbering (customer codes ``CU{yymm}-{nnnnn}``, orders
``CO``, invoices ``FA``/``AV``); no extrafields; one price per product. The tests create what they need
(warehouses, a bank account if none) under a unique prefix; validated/paid documents stay.

Setup differences seen on that instance (not emulated):

* ``DELETE /categories/{id}`` answers 500 "Error when delete category" while the table
  ``llx_categorie_project_task`` is missing (a 23.0.0-beta install does not create it, enabling
  Projects does not either); create it (``fk_categorie``, ``fk_project_task``, ``import_key``) by hand.
  The recorded sample ``categories_delete`` (500) shows that bug; the emulator follows the fixed install.
* ``date_modification`` of products/thirdparties/contacts is ``GREATEST(t.tms, ef.tms)``: ``""``
  until the object has an extrafields row, which only exists when extrafields are defined; the
  tests only assert the setup-independent case.
* A fresh instance has no warehouse, no bank account and no payment in ``/paiements``.
"""

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
