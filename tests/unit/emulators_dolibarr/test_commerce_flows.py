"""Commerce flows of the emulated Dolibarr: numbering, totals with local taxes, payments."""

from __future__ import annotations

from tests.reference import REFERENCE as SHARED_REFERENCE

import json
import re
from decimal import Decimal

import anyio
import httpx2 as httpx
import pytest

from dolisync.emulators.dataset import DolibarrSetup, VatRate
from dolisync.emulators.dolibarr import DolibarrState
from dolisync.emulators.dolibarr.app import DolibarrEmulator, build_router
from tests.unit.emulators_dolibarr.support import asgi_client
from dolisync.mapping.dolibarr_money import LineInput, SellerTaxes, add_line, document_totals

SAMPLE_500 = SHARED_REFERENCE / "dolibarr" / "samples" / "error_500_concurrent_validate_duplicate_ref.json"
MODULES = ("setup_api", "thirdparties", "contacts", "orders", "invoices", "payments", "bank", "shipments", "webhooks")
KEY = "k"


def _client(state: DolibarrState) -> httpx.AsyncClient:
    return asgi_client(state, MODULES, KEY)


QC = DolibarrSetup(country_code="CA", country_id=14, currency="CAD", localtax1_on=True, api_keys={KEY: "admin"},
                   vat_rates=[VatRate("5", localtax1="9.975", localtax1_type="1")],
                   bank_accounts=[{"ref": "B", "label": "Bank", "currency_code": "CAD"}])


@pytest.mark.anyio
async def test_canadian_order_totals_come_from_the_money_model() -> None:
    state = DolibarrState.from_setup(QC)
    lines = [{"qty": 3, "subprice": "33.33", "tva_tx": 5, "localtax1_tx": -1}, {"qty": 1, "subprice": "9.99", "tva_tx": 5}]
    async with _client(state) as client:
        socid = (await client.post("/thirdparties", json={"name": "Q", "code_client": "auto"})).json()
        order_id = (await client.post("/orders", json={"socid": socid, "date": "2026-11-20", "lines": lines})).json()
        order = (await client.get(f"/orders/{order_id}")).json()
    seller = SellerTaxes.from_setup(QC)
    expected = document_totals([
        add_line(LineInput(qty=Decimal(3), unit_price=Decimal("33.33"), vat_rate=Decimal(5), localtax1_tx=Decimal(-1)), seller),
        add_line(LineInput(qty=Decimal(1), unit_price=Decimal("9.99"), vat_rate=Decimal(5)), seller),
    ])
    assert Decimal(order["total_localtax1"]) == expected.total_localtax1 > 0
    assert Decimal(order["total_ttc"]) == expected.total_ttc
    assert order["lines"][0]["localtax1_tx"] == "9.9750"


@pytest.mark.anyio
async def test_invoice_payment_flow_and_overpayment_refusal() -> None:
    state = DolibarrState.from_setup(QC)
    async with _client(state) as client:
        socid = (await client.post("/thirdparties", json={"name": "Q"})).json()
        invoice_id = (await client.post("/invoices", json={"socid": socid, "date": 1795835545,
                                                           "lines": [{"qty": 1, "subprice": 50, "tva_tx": 5}]})).json()
        validated = (await client.post(f"/invoices/{invoice_id}/validate", json={})).json()
        assert validated["ref"].startswith("FA")
        assert (await client.post(f"/invoices/{invoice_id}/validate", json={})).status_code == 304
        base = {"datepaye": 1795835545, "paymentid": 6, "closepaidinvoices": "yes", "accountid": 1}
        over = await client.post("/invoices/paymentsdistributed",
                                 json={**base, "arrayofamounts": {str(invoice_id): {"amount": "100", "multicurrency_amount": ""}}})
        assert over.status_code == 400 and "higher than remain to pay (52.5)" in over.json()["error"]["message"]
        paid = await client.post("/invoices/paymentsdistributed",
                                 json={**base, "arrayofamounts": {str(invoice_id): {"amount": "remain", "multicurrency_amount": ""}}})
        assert paid.status_code == 200
        invoice = (await client.get(f"/invoices/{invoice_id}")).json()
        balance = (await client.get("/bankaccounts/1/balance")).json()
    assert (invoice["statut"], invoice["paye"], invoice["remaintopay"]) == ("2", "1", "0")
    assert Decimal(str(balance)) == Decimal("52.5")


@pytest.mark.anyio
async def test_validation_race_fault_gives_the_duplicate_ref_500() -> None:
    state = DolibarrState.from_setup(QC)
    state.extra["faults"] = {"validation_race": True, "race_window": 0.05}
    async with _client(state) as client:
        socid = (await client.post("/thirdparties", json={"name": "Q"})).json()
        ids = [(await client.post("/orders", json={"socid": socid, "date": 1795835501})).json() for _ in range(2)]
        results: list[httpx.Response] = []

        async def validate(order_id: int) -> None:
            results.append(await client.post(f"/orders/{order_id}/validate", json={}))

        async with anyio.create_task_group() as group:
            for order_id in ids:
                group.start_soon(validate, order_id)
        statuses = sorted(r.status_code for r in results)
        assert statuses == [200, 500]
        failed = next(r for r in results if r.status_code == 500)
        assert failed.text.startswith("Dolibarr has detected a technical error")
        recorded = json.loads(json.loads(SAMPLE_500.read_text())["observed"]["identity"]["json_tail"])
        tail = json.loads(failed.text[failed.text.index('{\n    "error"'):])
        assert tail.keys() == recorded.keys() and tail["debug"]["stages"] == recorded["debug"]["stages"]
        def without_ref(message: str) -> str:
            return re.sub(r"CO\d{4}-\d{4}", "<ref>", message)

        assert without_ref(tail["error"]["message"]) == without_ref(recorded["error"]["message"])
        drafts = [i for i in ids if (await client.get(f"/orders/{i}")).json()["statut"] == "0"]
        assert len(drafts) == 1  # the failed validation left its order a draft
        retry_id = drafts[0]
        assert (await client.post(f"/orders/{retry_id}/validate", json={})).status_code == 200


@pytest.mark.anyio
async def test_validate_with_warehouse_decrements_stock_only_when_set_up() -> None:
    setup = DolibarrSetup(api_keys={KEY: "admin"}, vat_rates=[VatRate("20")], warehouses=[{"ref": "WH", "label": "WH"}])
    state = DolibarrState.from_setup(setup)
    app = DolibarrEmulator(state, build_router((*MODULES, "catalog", "stock")), auth_failure_delay=0)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://e/api/index.php",
                                 headers={"DOLAPIKEY": KEY}, timeout=10) as client:
        product = (await client.post("/products", json={"ref": "P1", "label": "P1", "price": 10, "tva_tx": 20})).json()
        assert (await client.post("/stockmovements", json={"product_id": product, "warehouse_id": 1, "qty": 10})).status_code == 200
        socid = (await client.post("/thirdparties", json={"name": "Q"})).json()
        lines = [{"fk_product": product, "qty": 3, "subprice": 10, "tva_tx": 20}, {"qty": 1, "subprice": 5, "tva_tx": 20}]
        first = (await client.post("/orders", json={"socid": socid, "date": 1795835501, "lines": lines})).json()
        second = (await client.post("/orders", json={"socid": socid, "date": 1795835501, "lines": lines})).json()
        await client.post(f"/orders/{first}/validate", json={"idwarehouse": 1})
        untouched = (await client.get(f"/products/{product}/stock")).json()["stock_reel"]
        state.extra["stock_on_validate_order"] = True
        await client.post(f"/orders/{second}/validate", json={"idwarehouse": 1})
        moved = (await client.get(f"/products/{product}/stock")).json()["stock_reel"]
    assert Decimal(str(untouched)) == 10  # default setup: validating moves no stock (API.md §4)
    assert Decimal(str(moved)) == 7


@pytest.mark.anyio
async def test_unknown_currency_is_stored_as_the_company_one_and_settodraft_keeps_the_ref() -> None:
    state = DolibarrState.from_setup(DolibarrSetup(api_keys={KEY: "admin"}, vat_rates=[VatRate("20")]))
    async with _client(state) as client:
        socid = (await client.post("/thirdparties", json={"name": "A"})).json()
        order_id = (await client.post("/orders", json={
            "socid": socid, "date": 1795835501, "multicurrency_code": "JPY", "multicurrency_tx": 160,
            "lines": [{"qty": 1, "subprice": 10, "tva_tx": 20}]})).json()
        order = (await client.get(f"/orders/{order_id}")).json()
        assert (order["multicurrency_code"], order["multicurrency_tx"]) == ("EUR", "1.00000000")
        assert order["multicurrency_total_ttc"] == order["total_ttc"] == "12.00000000"
        ref = (await client.post(f"/orders/{order_id}/validate", json={})).json()["ref"]
        draft = (await client.post(f"/orders/{order_id}/settodraft")).json()
        assert (draft["statut"], draft["ref"]) == ("0", ref)
        again = (await client.post(f"/orders/{order_id}/validate", json={})).json()
        assert again["ref"] == ref  # no second number is taken
        assert state.ref_counters == {"CO" + ref[2:6]: 1}


@pytest.mark.anyio
async def test_thirdparty_delete_takes_its_contacts_but_not_when_it_has_orders() -> None:
    state = DolibarrState.from_setup(DolibarrSetup(api_keys={KEY: "admin"}))
    async with _client(state) as client:
        first = (await client.post("/thirdparties", json={"name": "A"})).json()
        second = (await client.post("/thirdparties", json={"name": "B"})).json()
        contact = (await client.post("/contacts", json={"socid": first, "lastname": "Doe"})).json()
        await client.post("/orders", json={"socid": second, "date": 1795835501})
        assert (await client.delete(f"/thirdparties/{first}")).status_code == 200
        assert (await client.get(f"/contacts/{contact}")).status_code == 404
        used = await client.delete(f"/thirdparties/{second}")
        assert used.status_code == 409 and "probably used" in used.json()["error"]["message"]


@pytest.mark.anyio
async def test_vat_code_selects_the_dictionary_row_and_is_kept_on_the_line() -> None:
    setup = DolibarrSetup(country_code="CA", country_id=14, currency="CAD", localtax1_on=True, api_keys={KEY: "admin"},
                          vat_rates=[VatRate("5", code="GST"), VatRate("5", code="GST-BC", localtax1="7", localtax1_type="1")])
    state = DolibarrState.from_setup(setup)
    lines = [{"qty": 1, "subprice": 100, "tva_tx": "5 (GST-BC)", "localtax1_tx": -1},
             {"qty": 1, "subprice": 100, "tva_tx": 5, "localtax1_tx": -1}]
    async with _client(state) as client:
        socid = (await client.post("/thirdparties", json={"name": "BC"})).json()
        order_id = (await client.post("/orders", json={"socid": socid, "date": 1795835501, "lines": lines})).json()
        coded, plain = (await client.get(f"/orders/{order_id}")).json()["lines"]
        await client.post(f"/orders/{order_id}/validate", json={})
        invoice = (await client.post(f"/invoices/createfromorder/{order_id}")).json()
        invoice_lines = (await client.get(f"/invoices/{invoice['id']}/lines")).json()
    assert (coded["vat_src_code"], coded["total_localtax1"], coded["total_ttc"]) == ("GST-BC", "7.00000000", "112.00000000")
    assert (plain["vat_src_code"], plain["total_localtax1"], plain["total_ttc"]) == ("", "0.00000000", "105.00000000")
    assert [line["vat_src_code"] for line in invoice_lines] == ["GST-BC", ""]
    assert [line["total_ttc"] for line in invoice_lines] == ["112.00000000", "105.00000000"]
