"""Cheque payments of the emulated Dolibarr: ``chqemetteur`` is mandatory when the type is CHQ.

Dolibarr (``api_invoices.class.php``, addPayment and addPaymentDistributed) checks it after the
payment was created and throws without committing: the request is a 400 and nothing stays.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import httpx2 as httpx
import pytest

from dolisync.emulators.dataset import DolibarrSetup, VatRate
from dolisync.emulators.dolibarr import DolibarrState
from tests.unit.emulators_dolibarr.support import asgi_client
from dolisync.emulators.dolibarr.state import DEFAULT_MODULES

MODULES = ("setup_api", "thirdparties", "invoices", "payments", "bank", "webhooks")
KEY = "k"
CHQ, CB = 7, 6
SETUP = DolibarrSetup(country_code="FR", country_id=1, currency="EUR", api_keys={KEY: "admin"},
                      vat_rates=[VatRate("20")], bank_accounts=[{"ref": "B", "label": "Bank", "currency_code": "EUR"}])
MESSAGE = "Bad Request: Emetteur is mandatory when payment code is CHQ"


def _client(state: DolibarrState) -> httpx.AsyncClient:
    return asgi_client(state, MODULES, KEY)


async def _validated_invoice(client: httpx.AsyncClient, amount: int = 50) -> int:
    socid = (await client.post("/thirdparties", json={"name": "Payer"})).json()
    invoice_id = (await client.post("/invoices", json={"socid": socid, "date": 1795835545,
                                                       "lines": [{"qty": 1, "subprice": amount, "tva_tx": 20}]})).json()
    assert (await client.post(f"/invoices/{invoice_id}/validate", json={})).status_code == 200
    return int(invoice_id)


def _distributed(invoice_ids: list[int], paymentid: int, **extra: Any) -> dict[str, Any]:
    return {"arrayofamounts": {str(i): {"amount": "remain", "multicurrency_amount": ""} for i in invoice_ids},
            "datepaye": 1795835545, "paymentid": paymentid, "closepaidinvoices": "yes", "accountid": 1,
            "num_payment": "N1", **extra}


async def _nothing_stayed(client: httpx.AsyncClient, invoice_ids: list[int]) -> None:
    for invoice_id in invoice_ids:
        invoice = (await client.get(f"/invoices/{invoice_id}")).json()
        assert (invoice["statut"], invoice["paye"], invoice["remaintopay"]) == ("1", "0", "60")
        assert (await client.get(f"/invoices/{invoice_id}/payments")).json() == []
    assert (await client.get("/paiements")).json() == []
    assert Decimal(str((await client.get("/bankaccounts/1/balance")).json())) == 0


@pytest.mark.anyio
@pytest.mark.parametrize("emetteur", [None, "", "0"])
async def test_distributed_cheque_without_emetteur_is_refused_and_rolled_back(emetteur: str | None) -> None:
    state = DolibarrState.from_setup(SETUP)
    async with _client(state) as client:
        ids = [await _validated_invoice(client), await _validated_invoice(client)]
        extra = {} if emetteur is None else {"chqemetteur": emetteur}
        refused = await client.post("/invoices/paymentsdistributed", json=_distributed(ids, CHQ, **extra))
        assert refused.status_code == 400
        error = refused.json()
        assert error["error"] == {"code": 400, "message": MESSAGE}
        assert error["debug"]["source"] == "api_invoices.class.php:1909 at call stage"
        await _nothing_stayed(client, ids)
        # Dolibarr ran the triggers before the check: a webhook receiver saw phantom events
        assert [e.triggercode for e in state.events if e.triggercode.startswith(("PAYMENT", "BILL_PAYED"))] == [
            "PAYMENT_CUSTOMER_CREATE", "BILL_PAYED", "BILL_PAYED"]

        paid = await client.post("/invoices/paymentsdistributed",
                                 json=_distributed(ids, CHQ, chqemetteur="DUPONT Jean"))
        assert paid.status_code == 200, paid.text
        payment = (await client.get(f"/paiements/{paid.json()}")).json()
        lines = (await client.get("/bankaccounts/1/lines")).json()
        invoice = (await client.get(f"/invoices/{ids[1]}")).json()
    assert payment["ref"].endswith("-0001")  # the refused payment's number was not used up
    assert payment["type_code"] == "CHQ" and Decimal(payment["amount"]) == Decimal(120)
    assert [(line["fk_type"], line["emetteur"], line["num_chq"]) for line in lines if line["fk_type"] == "CHQ"] == [
        ("CHQ", "DUPONT Jean", "N1")]
    assert (invoice["statut"], invoice["paye"]) == ("2", "1")


@pytest.mark.anyio
async def test_single_invoice_cheque_without_emetteur_is_refused_and_rolled_back() -> None:
    state = DolibarrState.from_setup(SETUP)
    async with _client(state) as client:
        invoice_id = await _validated_invoice(client)
        body = {"datepaye": 1795835545, "paymentid": CHQ, "closepaidinvoices": "yes", "accountid": 1}
        refused = await client.post(f"/invoices/{invoice_id}/payments", json=body)
        assert refused.status_code == 400
        assert refused.json()["error"] == {"code": 400, "message": MESSAGE}
        assert refused.json()["debug"]["source"] == "api_invoices.class.php:1757 at call stage"
        await _nothing_stayed(client, [invoice_id])
        paid = await client.post(f"/invoices/{invoice_id}/payments", json={**body, "chqemetteur": "ACME"})
        assert paid.status_code == 200, paid.text
        rows = (await client.get(f"/invoices/{invoice_id}/payments")).json()
    assert [(row["type"], row["amount"]) for row in rows] == [("CHQ", "60.00000000")]


@pytest.mark.anyio
async def test_other_types_and_banks_off_need_no_emetteur() -> None:
    state = DolibarrState.from_setup(SETUP)
    async with _client(state) as client:
        card = await client.post("/invoices/paymentsdistributed",
                                 json=_distributed([await _validated_invoice(client)], CB))
        assert card.status_code == 200, card.text
    no_banks = DolibarrState.from_setup(replace(SETUP, modules=[m for m in DEFAULT_MODULES if m != "banque"]))
    async with _client(no_banks) as client:
        invoice_id = await _validated_invoice(client)
        cheque = await client.post("/invoices/paymentsdistributed", json=_distributed([invoice_id], CHQ))
        assert cheque.status_code == 200, cheque.text
        payment = (await client.get(f"/paiements/{cheque.json()}")).json()
        invoice = (await client.get(f"/invoices/{invoice_id}")).json()
    assert payment["bank_line"] is None  # without Banks, no bank line is written
    assert invoice["paye"] == "1"
