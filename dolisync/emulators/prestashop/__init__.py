"""Emulator of the PrestaShop 8.2.1 Webservice (``/api/...``) over an in-memory shop.

Public API::

    from dolisync.emulators.prestashop import PrestaShopStore, create_app, reference_dataset
    store = PrestaShopStore.from_dataset(dataset)        # or .load(path) / .clone()
    app = create_app(store, base_url="http://127.0.0.1:8080", faults=None)   # ASGI app
    store.insert(resource, row) / update / get / rows / delete / change_order_state(...)

Modules (one job each): ``schema`` (typed resources.json), ``store`` (state + business rules),
``view`` (computed fields, live associations), ``render`` / ``render_schema`` (byte-faithful
XML/JSON), ``listing`` (display/filter/sort/limit/language), ``body`` (hardened XML input),
``writing`` (POST/PUT/PATCH rules), ``orders`` (validateOrder on a cart), ``pricing``
(``price[...]``), ``images`` (``/api/images``), ``protocol`` (auth, headers, 304/HEAD),
``app`` (dispatch), ``reference`` (the captured 8.2.1 demo shop), ``_extract_reference``
(rebuilds ``reference_shop.json`` from ``reference/prestashop/real``).
"""

from __future__ import annotations

from dolisync.emulators.prestashop.app import create_app
from dolisync.emulators.prestashop.reference import REFERENCE_BASE_URL, REFERENCE_KEYS, reference_dataset
from dolisync.emulators.prestashop.store import DEFAULT_API_KEY, PrestaShopStore

__all__ = [
    "PrestaShopStore",
    "create_app",
    "reference_dataset",
    "REFERENCE_KEYS",
    "REFERENCE_BASE_URL",
    "DEFAULT_API_KEY",
]
