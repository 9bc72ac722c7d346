"""Orders created with a ``ref`` of their own, and one payment spread over several invoices.

Dolibarr's ``Commande::create()`` keeps a given ref (after checking ``isExistingObject``: a ref
already used -> 500 "Error creating order" / ``ErrorRefAlreadyExists``) and ``valid()`` keeps
any ref that does not match ``/^[\\(]?PROV/i``; ``Facture::create()`` always starts from
``(PROVn)``. ``POST /invoices/paymentsdistributed`` pays several invoices with one payment.
"""

from __future__ import annotations

from decimal import Decimal

import httpx2 as httpx
import pytest

from dolisync.emulators.dataset import DolibarrSetup, VatRate
from dolisync.emulators.dolibarr import DolibarrState
from tests.unit.emulators_dolibarr.support import asgi_client

MODULES = ("setup_api", "thirdparties", "contacts", "orders", "invoices", "payments", "bank")
KEY = "k"
FR = DolibarrSetup(country_code="FR", country_id=1, currency="EUR", api_keys={KEY: "admin"},
                   vat_rates=[VatRate("20")], bank_accounts=[{"ref": "B", "label": "Bank", "currency_code": "EUR"}])
LINES = [{"qty": 1, "subprice": 10, "tva_tx": 20}]


def _client(state: DolibarrState) -> httpx.AsyncClient:
    return asgi_client(state, MODULES, KEY)


@pytest.mark.anyio
async def test_a_given_ref_is_kept_by_create_and_validate_and_refused_twice() -> None:
    state = DolibarrState.from_setup(FR)
    async with _client(state) as client:
        socid = (await client.post("/thirdparties", json={"name": "A"})).json()
        given = (await client.post("/orders", json={"socid": socid, "date": 1795835501, "ref": "XKBKNABJK",
                                                    "lines": LINES})).json()
        assert (await client.get(f"/orders/{given}")).json()["ref"] == "XKBKNABJK"
        validated = (await client.post(f"/orders/{given}/validate", json={})).json()
        assert (validated["ref"], validated["statut"]) == ("XKBKNABJK", "1")
        again = await client.post("/orders", json={"socid": socid, "date": 1795835501, "ref": "XKBKNABJK"})
        assert again.status_code == 500
        assert again.json()["error"] == {"code": 500, "message": "Internal Server Error: Error creating order",
                                         "0": "ErrorRefAlreadyExists"}
        refs = [o["ref"] for o in (await client.get("/orders")).json()]
        assert refs == ["XKBKNABJK"]  # nothing stored by the refused create
        plain = (await client.post("/orders", json={"socid": socid, "date": 1795835501, "lines": LINES})).json()
        assert (await client.get(f"/orders/{plain}")).json()["ref"] == f"(PROV{plain})"
        assert (await client.post(f"/orders/{plain}/validate", json={})).json()["ref"].startswith("CO")
        # valid() numbers any ref matching /^[\(]?PROV/i, not only the "(PROVn)" drafts
        prov = (await client.post("/orders", json={"socid": socid, "date": 1795835501, "ref": "provXYZ",
                                                   "lines": LINES})).json()
        assert (await client.post(f"/orders/{prov}/validate", json={})).json()["ref"].startswith("CO")
        # back to draft and validated again: the given ref stays
        await client.post(f"/orders/{given}/settodraft", json={})
        assert (await client.post(f"/orders/{given}/validate", json={})).json()["ref"] == "XKBKNABJK"
        # an invoice never takes a given ref: Facture::create() starts from (PROVn)
        invoice = (await client.post("/invoices", json={"socid": socid, "date": 1795835501, "ref": "XKBKNABJK",
                                                        "lines": LINES})).json()
        assert (await client.get(f"/invoices/{invoice}")).json()["ref"] == f"(PROV{invoice})"


@pytest.mark.anyio
async def test_one_distributed_payment_pays_several_invoices() -> None:
    state = DolibarrState.from_setup(FR)
    async with _client(state) as client:
        socid = (await client.post("/thirdparties", json={"name": "A"})).json()
        ids = []
        for price in (10, 25):
            invoice_id = (await client.post("/invoices", json={
                "socid": socid, "date": 1795835501, "lines": [{"qty": 1, "subprice": price, "tva_tx": 20}]})).json()
            await client.post(f"/invoices/{invoice_id}/validate", json={})
            ids.append(invoice_id)
        base = {"datepaye": 1795835545, "paymentid": 6, "closepaidinvoices": "yes", "accountid": 1, "ref_ext": "k-1"}
        over = await client.post("/invoices/paymentsdistributed", json={**base, "arrayofamounts": {
            str(ids[0]): {"amount": "12.01", "multicurrency_amount": ""},
            str(ids[1]): {"amount": "remain", "multicurrency_amount": ""}}})
        assert over.status_code == 400 and "higher than remain to pay (12)" in over.json()["error"]["message"]
        paid = await client.post("/invoices/paymentsdistributed", json={**base, "arrayofamounts": {
            str(ids[0]): {"amount": "remain", "multicurrency_amount": ""},
            str(ids[1]): {"amount": "30", "multicurrency_amount": ""}}})
        assert paid.status_code == 200
        invoices = [(await client.get(f"/invoices/{i}")).json() for i in ids]
        rows = [(await client.get(f"/invoices/{i}/payments")).json() for i in ids]
        balance = (await client.get("/bankaccounts/1/balance")).json()
    assert [(i["statut"], i["paye"]) for i in invoices] == [("2", "1"), ("2", "1")]
    assert [[(Decimal(r["amount"]), r["ref_ext"]) for r in found] for found in rows] == [
        [(Decimal(12), "k-1")], [(Decimal(30), "k-1")]]
    assert rows[0][0]["ref"] == rows[1][0]["ref"]  # one payment, shown on both invoices
    assert Decimal(str(balance)) == Decimal(42)
