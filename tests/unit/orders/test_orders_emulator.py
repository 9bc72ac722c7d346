"""The mapped payload posted to the Dolibarr emulator: order and invoice equal PrestaShop's totals.

The flow here is the minimal one a sync performs: ``POST /orders`` with the order body (lines
inline, or posted one by one on ``/orders/{id}/lines`` for a multicurrency order), the same for
``/invoices``, then ``GET`` both and reconcile them against PrestaShop's grand totals.
"""

from __future__ import annotations

import random

import httpx2 as httpx
import pytest

from dolisync.emulators.dataset import DolibarrSetup
from dolisync.emulators.dolibarr import DolibarrState
from dolisync.emulators.dolibarr.app import DolibarrEmulator, build_router
from dolisync.mapping.orders import DolibarrSide, OrderMapping, map_order
from dolisync.mapping.reconcile import reconcile_document
from tests.unit.orders.builders import TAXES, shop_order
from tests.unit.orders.corpus import FRANCE, random_cart

KEY = "orders-test-key"
MODULES = ("setup_api", "thirdparties", "orders", "invoices")


def _setup() -> DolibarrSetup:
    return DolibarrSetup(country_code="FR", currency="EUR", api_keys={KEY: "admin"}, vat_rates=list(FRANCE.vat_rows),
                         multicurrencies={"USD": "1.0847", "GBP": "0.8573"})


async def _post_document(client: httpx.AsyncClient, kind: str, mapping: OrderMapping, socid: int) -> dict:
    builder = mapping.order_body if kind == "orders" else mapping.invoice_body
    body = builder(socid=socid, date=1_795_800_000, ref_ext=f"dolisync:test:{kind}:{mapping.order_id}")
    created = await client.post(f"/{kind}", json=body)
    assert created.status_code == 200, created.text
    document_id = created.json()
    if not mapping.lines_inline:
        for line in mapping.line_bodies():
            answer = await client.post(f"/{kind}/{document_id}/lines", json=line)
            assert answer.status_code == 200, answer.text
    document = await client.get(f"/{kind}/{document_id}")
    assert document.status_code == 200
    return document.json()


@pytest.mark.anyio
async def test_orders_and_invoices_created_in_the_emulator_equal_prestashop_totals() -> None:
    state = DolibarrState.from_setup(_setup())
    app = DolibarrEmulator(state, build_router(MODULES), auth_failure_delay=0)
    side = DolibarrSide(seller=FRANCE.seller(), company_currency="EUR", country_code="FR", tax_rates=TAXES)
    rng = random.Random(4)
    currencies = set()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://e/api/index.php",
                                 headers={"DOLAPIKEY": KEY}, timeout=10) as client:
        socid = (await client.post("/thirdparties", json={"name": "Web customer"})).json()
        for index in range(30):
            cart, currency = random_cart(rng, FRANCE)
            order, _ = shop_order(cart, currency=currency, order_id=index + 1)
            mapping = map_order(order, side)
            currencies.add(currency)
            for kind, name in (("orders", "order"), ("invoices", "invoice")):
                document = await _post_document(client, kind, mapping, socid)
                checked = reconcile_document(mapping.reconciliation, document, document_kind=name)
                assert checked.exact, (index, kind, checked.as_dict())
                if mapping.multicurrency_tx is not None:
                    assert document["multicurrency_code"] == currency
    assert {"EUR", "USD", "GBP"} <= currencies
