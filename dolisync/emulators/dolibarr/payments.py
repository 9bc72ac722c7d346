"""Customer payments: ``/invoices/{id}/payments``, ``/invoices/paymentsdistributed``, ``/paiements``.

Quirks reproduced (API.md §6.2): ``POST /invoices/{id}/payments`` always pays the invoice's full
``multicurrency_total_ttc`` (again and again: over-payment), accepts a draft (which becomes
"paid" with its ``(PROVn)`` ref), records a credit-note refund with the wrong (positive) sign and
leaves it open; ``accountid`` is mandatory and ``closepaidinvoices`` must be ``yes``/``no`` (400
at the validate stage). ``paymentsdistributed`` pays given amounts or ``"remain"``, in the
company currency or with ``multicurrency_amount`` in the invoice's, and refuses over-payment.
Each payment gets ``PAY{yymm}-{nnnn}`` and, with the Banks module on (``banque``), one bank line.
Triggers: ``PAYMENT_CUSTOMER_CREATE``, then ``BILL_PAYED`` for invoices it settles.

Cheques (both endpoints, ``api_invoices.class.php`` addPayment/addPaymentDistributed): with Banks
on, a payment whose type code is ``CHQ`` and whose ``chqemetteur`` is PHP-empty (missing, ``""``,
``"0"``) is refused with 400 ``"Emetteur is mandatory when payment code is CHQ"``. Dolibarr checks
this only *after* the payment was created (invoices closed, triggers fired) and throws without
committing, so the transaction is rolled back: nothing stays (no payment, no bank line, the
invoices keep their status, the ``PAY`` number is not used up) but the triggers did fire (a
webhook receiver sees phantom ``PAYMENT_CUSTOMER_CREATE``/``BILL_PAYED`` events). ``chqemetteur``
is stored as the bank line's ``emetteur``.
"""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from dolisync.emulators.dolibarr.bank import add_bank_line, get_account_row
from dolisync.emulators.dolibarr.cat_dictionaries import payment_types
from dolisync.emulators.dolibarr.com_common import fire, parse_date, shape
from dolisync.emulators.dolibarr.com_lines import totals_of
from dolisync.emulators.dolibarr.core import (
    ApiError, Call, DolibarrRouter, ListQuery, as_decimal, as_int, as_str, fmt_amount, list_answer,
)
from dolisync.emulators.dolibarr.invoices import (
    CREDIT_NOTE, get_invoice_row, mark_paid_if_settled, remain_of,
)
from dolisync.emulators.dolibarr.state import DolibarrState, Row
from dolisync.mapping.money import r2

__all__ = ["register", "serialize_paiement"]

_VALIDATE_STAGES = {"success": ["get", "route", "negotiate", "authenticate"], "failure": ["validate", "message"]}


def register(router: DolibarrRouter) -> None:
    """Payment routes."""
    router.add("POST", "/invoices/{id:int}/payments", pay_invoice, perm="facture.paiement")
    router.add("GET", "/invoices/{id:int}/payments", invoice_payments, perm="facture.lire")
    router.add("POST", "/invoices/paymentsdistributed", pay_distributed, perm="facture.paiement")
    router.add("GET", "/paiements", list_paiements, perm="facture.lire")
    router.add("GET", "/paiements/{id:int}", get_paiement, perm="facture.lire")


def _type_code(type_id: Any) -> tuple[str, str]:
    found = next((p for p in payment_types() if p["id"] == str(as_int(type_id, 0))), None)
    return (found["code"], found["label"]) if found else ("", "")


def _validate_common(body: dict[str, Any]) -> None:
    for name in ("datepaye", "paymentid"):
        if body.get(name) in (None, ""):
            raise ApiError(400, f"`{name}` is required.", stages=_VALIDATE_STAGES, source="Validator.php:436")
    if str(body.get("closepaidinvoices", "")) not in ("yes", "no"):
        raise ApiError(400, "Invalid value specified for `closepaidinvoices`. Expected one of (yes,no).",
                       stages=_VALIDATE_STAGES, source="Validator.php:495")
    if body.get("accountid") in (None, ""):
        raise ApiError(400, "`accountid` is required.", stages=_VALIDATE_STAGES, source="Validator.php:436")


def _php_empty(value: Any) -> bool:
    """PHP's ``empty()`` on a request parameter: missing, ``""``, ``"0"``, ``0``, ``false``."""
    return value in (None, "", "0", 0, False)


def _record(state: DolibarrState, body: dict[str, Any], parts: list[dict[str, Any]], *, ref_ext: str | None,
            label: str = "(CustomerInvoicePayment)", source: str) -> int:
    """Store a payment with its parts and bank line; fire the triggers; return its id.

    Follows ``Paiement::create`` then ``addPaymentToBank``: the cheque check sits between the two
    and rolls everything back (see the module docstring); ``source`` names its line for the error.
    """
    when = parse_date(body.get("datepaye")) or state.now()
    account = get_account_row(state, as_int(body.get("accountid"), 0) or 0)
    code, _ = _type_code(body.get("paymentid"))
    amount = sum((p["amount"] for p in parts), Decimal(0))
    mc_amount = sum((p["multicurrency_amount"] for p in parts), Decimal(0))
    payment: Row = {
        "ref": None, "ref_ext": ref_ext or "", "datepaye": when, "amount": amount, "multicurrency_amount": mc_amount,
        "paymentid": as_int(body.get("paymentid"), 0), "num_payment": as_str(body.get("num_payment")),
        "note": as_str(body.get("comment"), "") or "", "fk_account": account["id"], "bank_line": None, "parts": parts,
        "datec": state.now(),
    }
    invoices = [row for row in (state.get("invoices", part["invoice_id"]) for part in parts) if row is not None]
    snapshots = [(invoice, dict(invoice)) for invoice in invoices]
    payment_id = state.insert("payments", payment)
    payment["ref"] = state.next_ref("PAY", when)

    def undo() -> None:  # the transaction rolled back (the autoincrement id stays used, like InnoDB's)
        state.delete("payments", payment_id)
        if payment["bank_line"] is not None:
            state.delete("banklines", payment["bank_line"])
        counter, _, number = str(payment["ref"]).partition("-")
        if state.ref_counters.get(counter) == int(number):  # numbering reads MAX(ref): the number is free again
            state.ref_counters[counter] = int(number) - 1
        for invoice, before in snapshots:
            for added in set(invoice) - set(before):
                del invoice[added]
            invoice.update(before)

    fire(state, "PAYMENT_CUSTOMER_CREATE", payment, {}, undo=undo)
    for invoice in invoices:  # Dolibarr regenerates the invoice PDF when a payment is recorded
        invoice["last_main_doc"] = f"facture/{invoice['ref']}/{invoice['ref']}.pdf"
    if str(body.get("closepaidinvoices")) == "yes":
        for invoice in invoices:
            mark_paid_if_settled(state, invoice)
    if "banque" in state.modules():
        if code == "CHQ" and _php_empty(body.get("chqemetteur")):
            undo()
            raise ApiError(400, f"Emetteur is mandatory when payment code is {code}", source=source)
        payment["bank_line"] = add_bank_line(
            state, account["id"], amount, label, code, when=when, num_chq=as_str(body.get("num_payment")),
            emetteur=as_str(body.get("chqemetteur")))
    return payment_id


def pay_invoice(call: Call) -> int:
    """``POST /invoices/{id}/payments``: pays the full total (see the module docstring)."""
    state = call.state
    invoice = get_invoice_row(state, call.params["id"])
    body = call.body_dict()
    _validate_common(body)
    totals = totals_of(invoice)
    amount, mc_amount = totals.total_ttc, totals.multicurrency_total_ttc
    if invoice["type"] == CREDIT_NOTE:  # recorded with the wrong sign, credit note left open
        amount, mc_amount = abs(amount), abs(mc_amount)
    parts = [{"invoice_id": invoice["id"], "amount": amount, "multicurrency_amount": mc_amount}]
    label = "(CustomerInvoicePaymentBack)" if invoice["type"] == CREDIT_NOTE else "(CustomerInvoicePayment)"
    return _record(state, body, parts, ref_ext=None, label=label, source="api_invoices.class.php:1757")


def _number_text(value: Decimal) -> str:
    value = value.normalize()
    return str(int(value)) if value == value.to_integral_value() else format(value, "f")


def pay_distributed(call: Call) -> int:
    """``POST /invoices/paymentsdistributed``: one payment over several invoices."""
    state = call.state
    body = call.body_dict()
    amounts = body.get("arrayofamounts")
    if not isinstance(amounts, dict) or not amounts:
        raise ApiError(400, "Payment on no invoice")
    _validate_common(body)
    parts: list[dict[str, Any]] = []
    currencies: set[str] = set()
    for key, spec in amounts.items():
        invoice = state.get("invoices", as_int(key, 0) or 0)
        if invoice is None:
            raise ApiError(404, "Invoice ID " + str(key) + " not found")
        spec = spec if isinstance(spec, dict) else {}
        tx = as_decimal(invoice.get("multicurrency_tx") or 1) or Decimal(1)
        currencies.add(str(invoice.get("multicurrency_code")))
        main_text, mc_text = str(spec.get("amount") or ""), str(spec.get("multicurrency_amount") or "")
        remain = remain_of(state, invoice)
        if main_text == "remain":
            amount = remain
            mc_amount = remain_of(state, invoice, currency=True)
        elif main_text:
            amount = as_decimal(main_text)
            mc_amount = r2(amount * tx)
            if amount > remain:
                raise ApiError(400, f"Payment amount on invoice ID {key} ({main_text}) is higher than remain to pay "
                                    f"({_number_text(remain)})")
        elif mc_text:
            mc_remain = remain_of(state, invoice, currency=True)
            mc_amount = mc_remain if mc_text == "remain" else as_decimal(mc_text)
            if mc_amount > mc_remain:
                raise ApiError(400, f"Payment amount on invoice ID {key} ({mc_text}) is higher than remain to pay "
                                    f"({_number_text(mc_remain)})")
            amount = remain if mc_text == "remain" else r2(mc_amount / tx)
        else:
            raise ApiError(400, f"Payment amount on invoice ID {key} is empty")
        parts.append({"invoice_id": invoice["id"], "amount": amount, "multicurrency_amount": mc_amount})
    if len(currencies) > 1:
        raise ApiError(400, "Payments with different currencies are not supported")
    return _record(state, body, parts, ref_ext=as_str(body.get("ref_ext")), source="api_invoices.class.php:1909")


def _text_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def _payment_date_text(ts: int) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def invoice_payments(call: Call) -> list[dict[str, Any]]:
    """``GET /invoices/{id}/payments``: one row per payment part on the invoice."""
    state = call.state
    invoice = get_invoice_row(state, call.params["id"])
    out: list[dict[str, Any]] = []
    for payment in sorted(state.table("payments").values(), key=lambda r: r["id"]):
        for part in payment.get("parts", []):
            if part["invoice_id"] != invoice["id"]:
                continue
            out.append({
                "amount": fmt_amount(part["amount"]), "type": _type_code(payment["paymentid"])[0],
                "typeline": "payment", "date": _payment_date_text(payment["datepaye"]), "num": payment.get("num_payment") or "",
                "ref": payment["ref"], "ref_ext": payment.get("ref_ext") or "", "fk_bank_line": _text_or_none(payment["bank_line"]),
            })
    return out


def serialize_paiement(state: DolibarrState, payment: Row) -> dict[str, Any]:
    """A payment as ``GET /paiements/{id}`` prints it."""
    out = shape("paiement")
    code, label = _type_code(payment["paymentid"])
    out.update({
        "id": str(payment["id"]), "ref": payment["ref"], "ref_ext": payment.get("ref_ext") or "", "statut": "0",
        "multicurrency_code": [], "multicurrency_tx": [], "fk_account": str(payment["fk_account"]),
        "note_private": payment.get("note"), "datepaye": payment["datepaye"], "date": payment["datepaye"],
        "montant": fmt_amount(payment["amount"]), "amount": fmt_amount(payment["amount"]),
        "multicurrency_amount": fmt_amount(payment["multicurrency_amount"]), "amounts": [],
        "multicurrency_amounts": [], "pos_change": 0, "type_label": label, "type_code": code,
        "num_payment": payment.get("num_payment"), "bank_account": str(payment["fk_account"]),
        "bank_line": _text_or_none(payment["bank_line"]),
    })
    return out


def _columns(row: Row) -> dict[str, Any]:
    return {"t.rowid": row["id"], "t.ref": row.get("ref"), "t.ref_ext": row.get("ref_ext"),
            "t.datep": row.get("datepaye"), "t.amount": row.get("amount"), "t.num_paiement": row.get("num_payment"),
            "t.entity": 1, "t.tms": row.get("datec")}


def list_paiements(call: Call) -> Any:
    """``GET /paiements`` (``[]`` when none)."""
    state = call.state
    return list_answer(state.table("payments").values(), ListQuery.from_call(call), columns=_columns,
                       serialize=lambda r: serialize_paiement(state, r), what="payment")


def get_paiement(call: Call) -> dict[str, Any]:
    """``GET /paiements/{id}``."""
    payment = call.state.get("payments", call.params["id"])
    if payment is None:
        raise ApiError(404, "Payment not found")
    return serialize_paiement(call.state, payment)


