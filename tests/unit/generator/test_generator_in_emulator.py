"""A generated store loads into the PrestaShop and Dolibarr emulators and serves every resource."""

from __future__ import annotations

import base64

import httpx2
import pytest

from dolisync.emulators.dolibarr import DolibarrState
from dolisync.emulators.dolibarr import create_app as create_dolibarr_app
from dolisync.emulators.dolibarr.state import DEFAULT_API_KEY as DOLI_KEY
from dolisync.emulators.generator import DEFAULT_API_KEY, generate_store
from dolisync.emulators.prestashop import PrestaShopStore
from dolisync.emulators.prestashop import create_app as create_prestashop_app

pytestmark = pytest.mark.anyio


async def test_prestashop_emulator_serves_generated_rows() -> None:
    generated = generate_store(seed=8, products=30, orders=40, customers=10, shops=2)
    store = PrestaShopStore.from_dataset(generated.prestashop)
    app = create_prestashop_app(store, base_url="http://shop.test")
    token = base64.b64encode(f"{DEFAULT_API_KEY}:".encode()).decode()
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://shop.test/api/",
                                  headers={"Authorization": f"Basic {token}"}, timeout=10) as client:
        for resource, rows in generated.prestashop.tables.items():
            row = rows[0]
            if "_shops" in row and 1 not in row["_shops"]:
                row = next(r for r in rows if "_shops" not in r or 1 in r["_shops"])
            response = await client.get(f"{resource}/{row['id']}", params={"output_format": "JSON"})
            assert response.status_code == 200, (resource, response.text[:200])
            body = next(iter(response.json().values()))
            assert str(body["id"]) == row["id"]
        order = generated.prestashop.tables["orders"][0]
        shown = (await client.get(f"orders/{order['id']}", params={"output_format": "JSON"})).json()["order"]
        assert shown["total_paid_tax_incl"] == order["total_paid_tax_incl"]
        assert len(shown["associations"]["order_rows"]) == len(order["associations"]["order_rows"])
        blob = next(iter(generated.prestashop.images.values()))
        image = await client.get(f"images/products/{blob.id_product}/{blob.id_image}")
        assert image.status_code == 200 and image.content == blob.content


async def test_dolibarr_emulator_accepts_generated_setup() -> None:
    generated = generate_store(seed=8, products=5, orders=5, customers=3, country="CA")
    state = DolibarrState.from_setup(generated.dolibarr)
    app = create_dolibarr_app(state)
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://erp.test/api/index.php/",
                                  headers={"DOLAPIKEY": DOLI_KEY}, timeout=10) as client:
        warehouses = (await client.get("warehouses")).json()
        assert {w["label"] for w in warehouses} == {w["label"] for w in generated.dolibarr.warehouses}
        banks = (await client.get("bankaccounts")).json()
        assert len(banks) == len(generated.dolibarr.bank_accounts)
