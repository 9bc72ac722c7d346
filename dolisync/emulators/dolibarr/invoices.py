"""``/invoices``: customer invoices and credit notes (API.md §6.2); payments live in ``payments``.

Reproduced: create (``socid`` required; credit notes ``type`` 2 store negative unit prices),
lines (only on drafts: 400 "Unable to insert the new line"), ``createfromorder`` (lines re-added
net from the order's r5 ``subprice``, multicurrency dropped, 404 unknown order, 405
``ErrorProductIdDoesNotExists`` for a line whose product is missing, native-typed answer with
the 2N lines), validate -> ``FA{yymm}-{nnnn}`` / ``AV...`` (304 when not a draft, also after a
payment on a draft), settodraft (accepted even when paid), settopaid, settounpaid, ref lookups
answering 400 [beta?], list ``status=draft|unpaid|paid|cancelled``. Triggers: ``BILL_CREATE``,
``BILL_VALIDATE`` (before the ref switch, ``newref``), ``BILL_PAYED``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from dolisync.emulators.dolibarr.com_common import (
    DuplicateRef, caller_context, day_of, duplicate_ref_response, fire, parse_date, product_or_none, require, shape,
    thirdparty_or_none, validation_race,
)
from dolisync.emulators.dolibarr.com_lines import (
    amounts_of, insert_line, line_from_body, serialize_line, totals_of, update_price, vat_text,
)
from dolisync.emulators.dolibarr.core import (
    ApiError, Call, DolibarrRouter, ListQuery, as_decimal, as_int, as_str, fmt_amount, fmt_int, list_answer,
    not_modified, success,
)
from dolisync.emulators.dolibarr.orders import (
    _online_payment_url, currency_of, get_order_row, payment_mode, payment_term,
)
from dolisync.emulators.dolibarr.setup_api import array_options_in, array_options_out, extrafield_columns
from dolisync.emulators.dolibarr.state import DolibarrState, Row
from dolisync.mapping.dolibarr_money import createfromorder_line
from dolisync.mapping.money import r2

__all__ = ["register", "serialize_invoice", "get_invoice_row", "paid_of", "remain_of", "mark_paid_if_settled"]

DRAFT, UNPAID, PAID, ABANDONED = 0, 1, 2, 3
STANDARD, REPLACEMENT, CREDIT_NOTE, DEPOSIT = 0, 1, 2, 3


def register(router: DolibarrRouter) -> None:
    """Routes of ``/invoices`` (payments are registered by ``payments``)."""
    add = router.add
    add("GET", "/invoices", list_invoices, perm="facture.lire")
    add("POST", "/invoices", create_invoice, perm="facture.creer")
    add("GET", "/invoices/{id:int}", get_invoice, perm="facture.lire")
    add("PUT", "/invoices/{id:int}", update_invoice, perm="facture.creer")
    add("DELETE", "/invoices/{id:int}", delete_invoice, perm="facture.supprimer")
    add("GET", "/invoices/ref/{ref}", ref_lookup_bug, perm="facture.lire")
    add("GET", "/invoices/ref_ext/{ref_ext}", ref_lookup_bug, perm="facture.lire")
    add("GET", "/invoices/{id:int}/lines", get_lines, perm="facture.lire")
    add("POST", "/invoices/{id:int}/lines", add_line, perm="facture.creer")
    add("PUT", "/invoices/{id:int}/lines/{lineid:int}", update_line, perm="facture.creer")
    add("DELETE", "/invoices/{id:int}/lines/{lineid:int}", delete_line, perm="facture.creer")
    add("POST", "/invoices/createfromorder/{orderid:int}", create_from_order, perm="facture.creer")
    add("POST", "/invoices/{id:int}/validate", validate_invoice, perm="facture.creer")
    add("POST", "/invoices/{id:int}/settodraft", set_to_draft, perm="facture.creer")
    add("POST", "/invoices/{id:int}/settopaid", set_to_paid, perm="facture.creer")
    add("POST", "/invoices/{id:int}/settounpaid", set_to_unpaid, perm="facture.creer")


# ---- helpers ---------------------------------------------------------------------------------
def get_invoice_row(state: DolibarrState, invoice_id: int) -> Row:
    """The invoice row or 404 "Invoice not found"."""
    row = state.get("invoices", invoice_id)
    if row is None:
        raise ApiError(404, "Invoice not found")
    return row


def paid_of(state: DolibarrState, invoice: Row, *, currency: bool = False) -> Decimal:
    """Sum of payment parts on ``invoice`` (main or invoice currency)."""
    total = Decimal(0)
    for payment in state.table("payments").values():
        for part in payment.get("parts", []):
            if part["invoice_id"] == invoice["id"]:
                total += part["multicurrency_amount" if currency else "amount"]
    return total


def remain_of(state: DolibarrState, invoice: Row, *, currency: bool = False) -> Decimal:
    """``total_ttc − paid`` (in the invoice currency when ``currency``)."""
    totals = totals_of(invoice)
    total = totals.multicurrency_total_ttc if currency else totals.total_ttc
    return total - paid_of(state, invoice, currency=currency)


def mark_paid_if_settled(state: DolibarrState, invoice: Row) -> None:
    """Close a standard invoice whose remain to pay is exactly zero (fires ``BILL_PAYED``).

    Like Dolibarr, an over-paid invoice (remain < 0) is *not* closed.
    """
    if invoice["type"] == CREDIT_NOTE or invoice.get("paye"):
        return
    if remain_of(state, invoice) == 0:
        before = invoice["statut"]
        invoice.update({"statut": PAID, "paye": 1, "tms": state.now()})
        fire(state, "BILL_PAYED", dict(invoice, statut=before), {})


def _new_line(state: DolibarrState, invoice: Row, body: dict[str, Any], *, from_lines_endpoint: bool) -> Row:
    return line_from_body(state, body, honour_price_base=from_lines_endpoint,
                          multicurrency_tx=as_decimal(invoice.get("multicurrency_tx") or 1),
                          honour_multicurrency_price=from_lines_endpoint,
                          negate=invoice["type"] == CREDIT_NOTE, table="invoicelines")


def _new_invoice(state: DolibarrState, body: dict[str, Any], now: int) -> Row:
    date = parse_date(body.get("date")) or now
    code, tx, currency_id = currency_of(state, body.get("multicurrency_code"), body.get("multicurrency_tx"))
    return {
        "socid": as_int(body.get("socid")), "ref": None, "ref_ext": as_str(body.get("ref_ext")),
        "ref_client": as_str(body.get("ref_client")), "type": as_int(body.get("type"), 0) or 0,
        "statut": DRAFT, "paye": 0, "date": day_of(date), "datec": now, "tms": now, "date_valid": None,
        "mode_reglement_id": as_int(body.get("mode_reglement_id"), 0) or 0,
        "cond_reglement_id": as_int(body.get("cond_reglement_id"), 0) or 0,
        "multicurrency_code": code, "multicurrency_tx": tx, "fk_multicurrency": currency_id,
        "note_private": as_str(body.get("note_private")), "note_public": as_str(body.get("note_public")),
        "fk_facture_source": as_int(body.get("fk_facture_source"), None),
        "array_options": array_options_in(state, "facture", body.get("array_options")),
        "lines": [], "order_links": [], "last_main_doc": None,
    }


# ---- create / read ---------------------------------------------------------------------------
def create_invoice(call: Call) -> int:
    """``POST /invoices`` -> the new id (a draft)."""
    body = call.body_dict()
    require(body, ("socid",))
    state = call.state
    if thirdparty_or_none(state, body["socid"]) is None:
        raise ApiError(500, "Error creating invoice", "ErrorThirdPartyNotFound")
    invoice = _new_invoice(state, body, state.now())
    invoice_id = state.insert("invoices", invoice)
    invoice["ref"] = state.draft_ref(invoice_id)
    for line_body in body.get("lines") or []:
        if isinstance(line_body, dict):
            insert_line(invoice, _new_line(state, invoice, line_body, from_lines_endpoint=False))
    fire(state, "BILL_CREATE", invoice, caller_context(body), undo=lambda: state.delete("invoices", invoice_id))
    return invoice_id


def get_invoice(call: Call) -> dict[str, Any]:
    """``GET /invoices/{id}`` (with ``totalpaid`` and ``remaintopay``)."""
    return serialize_invoice(call.state, get_invoice_row(call.state, call.params["id"]), with_payments=True)


def ref_lookup_bug(call: Call) -> Any:
    """``GET /invoices/ref/{ref}`` and ``/ref_ext/{..}``: 400 in the recorded build [beta?]."""
    raise ApiError(400, "No invoice with id=0 can exist")


def update_invoice(call: Call) -> dict[str, Any]:
    """``PUT /invoices/{id}``: header fields -> the invoice."""
    state = call.state
    invoice = get_invoice_row(state, call.params["id"])
    body = call.body_dict()
    for name in ("ref_ext", "ref_client", "note_private", "note_public"):
        if name in body:
            invoice[name] = as_str(body[name])
    for name in ("mode_reglement_id", "cond_reglement_id"):
        if name in body:
            invoice[name] = as_int(body[name], 0) or 0
    if "array_options" in body:
        invoice["array_options"] = array_options_in(state, "facture", body["array_options"], invoice["array_options"])
    invoice["tms"] = state.now()
    return serialize_invoice(state, invoice)


def delete_invoice(call: Call) -> dict[str, Any]:
    """``DELETE /invoices/{id}``."""
    invoice = get_invoice_row(call.state, call.params["id"])
    call.state.delete("invoices", invoice["id"])
    return success("Invoice deleted")


def invoice_columns(state: DolibarrState, row: Row) -> dict[str, Any]:
    """DB columns for ``sqlfilters``/``sortfield``."""
    totals = totals_of(row)
    columns = {
        "t.rowid": row["id"], "t.ref": row.get("ref"), "t.ref_ext": row.get("ref_ext"),
        "t.ref_client": row.get("ref_client"), "t.fk_soc": row.get("socid"), "t.fk_statut": row.get("statut"),
        "t.paye": row.get("paye"), "t.type": row.get("type"), "t.datef": row.get("date"), "t.datec": row.get("datec"),
        "t.tms": row.get("tms"), "t.total_ht": totals.total_ht, "t.total_ttc": totals.total_ttc, "t.entity": 1,
        "t.multicurrency_code": row.get("multicurrency_code"), "t.import_key": None,
    }
    columns.update(extrafield_columns(state, "facture", row.get("array_options")))
    return columns


def list_invoices(call: Call) -> Any:
    """``GET /invoices`` (``thirdparty_ids``, ``status``, common list parameters)."""
    state = call.state
    rows = list(state.table("invoices").values())
    ids_text = call.query.get("thirdparty_ids")
    if ids_text:
        wanted = {as_int(part, None) for part in ids_text.split(",")}
        rows = [r for r in rows if r.get("socid") in wanted]
    status = (call.query.get("status") or "").lower()
    wanted_status = {"draft": {DRAFT}, "unpaid": {UNPAID}, "paid": {PAID}, "cancelled": {ABANDONED}}.get(status)
    if wanted_status is not None:
        rows = [r for r in rows if r["statut"] in wanted_status]
    return list_answer(rows, ListQuery.from_call(call), columns=lambda r: invoice_columns(state, r),
                       serialize=lambda r: serialize_invoice(state, r, with_payments=True), what="invoice")


# ---- lines ---------------------------------------------------------------------------------------
def _line_or_404(invoice: Row, line_id: int) -> Row:
    for line in invoice.get("lines", []):
        if line["id"] == line_id:
            return line
    raise ApiError(404, "Line not found")


def get_lines(call: Call) -> list[dict[str, Any]]:
    """``GET /invoices/{id}/lines``."""
    invoice = get_invoice_row(call.state, call.params["id"])
    return [serialize_line(call.state, line, "invoice_line_get", invoice["id"], invoice.get("multicurrency_code"))
            for line in invoice.get("lines", [])]


def add_line(call: Call) -> int:
    """``POST /invoices/{id}/lines`` -> the line id (drafts only)."""
    state = call.state
    invoice = get_invoice_row(state, call.params["id"])
    if invoice["statut"] != DRAFT:
        raise ApiError(400, "Unable to insert the new line. Check your inputs. ")
    line = _new_line(state, invoice, call.body_dict(), from_lines_endpoint=True)
    insert_line(invoice, line)
    return int(line["id"])


def update_line(call: Call) -> dict[str, Any]:
    """``PUT /invoices/{id}/lines/{lineid}`` -> the invoice."""
    state = call.state
    invoice = get_invoice_row(state, call.params["id"])
    if invoice["statut"] != DRAFT:
        raise ApiError(400, "Unable to update the line. Check your inputs. ")
    line = _line_or_404(invoice, call.params["lineid"])
    merged = {"fk_product": line.get("fk_product"), "qty": line["qty"], "subprice": abs(line["subprice"]),
              "tva_tx": vat_text(line), "remise_percent": line["remise_percent"],
              "product_type": line["product_type"], "desc": line.get("desc"), "label": line.get("label"),
              "localtax1_tx": line["localtax1_tx"], "localtax2_tx": line["localtax2_tx"]}
    merged.update(call.body_dict())
    fresh = _new_line(state, invoice, merged, from_lines_endpoint=True)
    fresh["id"] = line["id"]
    invoice["lines"][invoice["lines"].index(line)] = fresh
    update_price(invoice)
    return serialize_invoice(state, invoice)


def delete_line(call: Call) -> dict[str, Any]:
    """``DELETE /invoices/{id}/lines/{lineid}`` -> the invoice."""
    state = call.state
    invoice = get_invoice_row(state, call.params["id"])
    if invoice["statut"] != DRAFT:
        raise ApiError(405, "Invoice not in draft")
    invoice["lines"].remove(_line_or_404(invoice, call.params["lineid"]))
    update_price(invoice)
    return serialize_invoice(state, invoice)


# ---- createfromorder -------------------------------------------------------------------------------
def create_from_order(call: Call) -> dict[str, Any]:
    """``POST /invoices/createfromorder/{orderid}`` -> the new draft invoice (native types, 2N lines)."""
    state = call.state
    try:
        order = get_order_row(state, call.params["orderid"])
    except ApiError:
        raise ApiError(404, "Order not found") from None
    for line in order.get("lines", []):
        if line.get("fk_product") and product_or_none(state, line["fk_product"]) is None:
            raise ApiError(405, "ErrorProductIdDoesNotExists")
    now = state.now()
    invoice = _new_invoice(state, {"socid": order["socid"], "ref_client": order.get("ref_client"),
                                   "date": now}, now)
    invoice["date"] = now  # the action answer shows the creation time, the DB keeps the day
    invoice_id = state.insert("invoices", invoice)
    invoice["ref"] = state.draft_ref(invoice_id)
    invoice["mode_reglement_id"] = order.get("mode_reglement_id") or 0
    link_id = state.next_id("element_element")
    invoice["order_links"] = [(link_id, order["id"])]
    order.setdefault("invoice_links", []).append((link_id, invoice_id))
    invoice["array_options"] = dict(order.get("array_options") or {})
    seller_lines = []
    for source in order.get("lines", []):
        request = createfromorder_line(amounts_of(source), as_decimal(source["qty"]), as_decimal(source["tva_tx"]),
                                       as_decimal(source["remise_percent"]), source["product_type"])
        body = {"fk_product": source.get("fk_product"), "qty": request.qty, "subprice": request.unit_price,
                "tva_tx": vat_text(source), "remise_percent": request.discount_percent,
                "product_type": source["product_type"], "desc": source.get("desc"), "label": source.get("label"),
                "localtax1_tx": request.localtax1_tx, "localtax2_tx": request.localtax2_tx}
        line = _new_line(state, invoice, body, from_lines_endpoint=False)
        insert_line(invoice, line)
        seller_lines.append(line)
    fire(state, "BILL_CREATE", invoice, {}, undo=lambda: state.delete("invoices", invoice_id))
    answer = _created_from_order_header(state, invoice, order, now)
    sources = [_source_line(serialize_line(state, line, "order_line", order["id"]), invoice_id)
               for line in order.get("lines", [])]
    natives = [_native_line(line, invoice_id) for line in seller_lines]
    answer["lines"] = sources + natives
    if "line" in answer:
        answer["line"] = natives[-1] if natives else None
    invoice["date"] = day_of(now)
    return answer


_SOURCE_LINE_KEYS = (
    "multicurrency_total_ht", "multicurrency_total_tva", "multicurrency_total_ttc", "total_ht", "total_tva",
    "total_localtax1", "total_localtax2", "total_ttc", "product_type", "fk_product", "desc", "qty", "remise_percent",
    "info_bits", "special_code", "subprice", "tva_tx", "multicurrency_subprice", "libelle", "vat_src_code",
    "localtax1_tx", "localtax2_tx", "pa_ht", "rang", "date_start", "date_end",
)


def _created_from_order_header(state: DolibarrState, invoice: Row, order: Row, now: int) -> dict[str, Any]:
    """The new invoice as the ``createfromorder`` action answer prints it (PHP natives, few members set)."""
    answer = shape("invoice_from_order")
    for key, value in answer.items():
        if not isinstance(value, list):
            answer[key] = None
    totals = totals_of(invoice)
    floats = float_totals(invoice)
    link_id, _ = invoice["order_links"][0]
    answer.update({
        "id": invoice["id"], "entity": 1, "array_options": array_options_out(state, "commande", order.get("array_options")),
        "linkedObjectsIds": {"commande": {str(link_id): str(order["id"])}}, "origin_type": "commande",
        "origin_id": str(order["id"]), "ref": invoice["ref"], "ref_ext": invoice.get("ref_ext"), "statut": 0,
        "status": 0,
        "mode_reglement_id": fmt_int(invoice["mode_reglement_id"]) if invoice.get("mode_reglement_id") else 0,
        "cond_reglement_id": invoice.get("cond_reglement_id") or 0, "fk_multicurrency": 0,
        "multicurrency_code": invoice.get("multicurrency_code"), "multicurrency_tx": _number(invoice["multicurrency_tx"]),
        "multicurrency_total_ht": floats["multicurrency_total_ht"],
        "multicurrency_total_tva": floats["multicurrency_total_tva"],
        "multicurrency_total_ttc": floats["multicurrency_total_ttc"], "note_public": invoice.get("note_public") or "",
        "note_private": invoice.get("note_private") or "", "total_ht": _number(totals.total_ht),
        "total_tva": _number(totals.total_tva), "total_localtax1": _number(totals.total_localtax1),
        "total_localtax2": _number(totals.total_localtax2), "total_ttc": _number(totals.total_ttc),
        "date_creation": invoice["datec"], "user_creation_id": "1", "specimen": 0, "type": invoice["type"],
        "socid": str(invoice["socid"]), "date": now, "date_lim_reglement": now, "dispute_status": 0,
        "ref_client": invoice.get("ref_client") or "", "fk_incoterms": "0", "location_incoterms": "",
        "fk_user_author": "1", "delivery_date": "", "ref_customer": invoice.get("ref_client") or "",
        "pos_print_counter": 0,
        "email_sent_counter": 0, "source": 0,
    })
    return answer


def _number(value: Any) -> Any:
    number = as_decimal(value)
    return int(number) if number == number.to_integral_value() else float(number)


def _native_line(line: Row, invoice_id: int) -> dict[str, Any]:
    """A line just added by ``createfromorder``, as the action answer prints it (PHP natives)."""
    out = shape("invoice_from_order_line")
    for key in out:
        out[key] = None
    rate = as_decimal(line["tva_tx"]).normalize()
    out.update({
        "id": line["id"], "array_options": [], "ref_ext": "", "specimen": 0, "extraparams": [],
        "parent_element": "", "fk_parent_attribute": "", "rowid": line["id"],
        "product_type": str(line["product_type"]), "fk_product": fmt_int(line.get("fk_product")),
        "desc": line.get("desc") or "", "qty": _number(line["qty"]), "remise_percent": _number(line["remise_percent"]),
        "info_bits": 0, "special_code": 0, "subprice": _number(line["subprice"]), "tva_tx": format(rate, "f"),
        "multicurrency_subprice": _number(line["multicurrency_subprice"]), "vat_src_code": "",
        "localtax1_tx": _number(line["localtax1_tx"]), "localtax2_tx": _number(line["localtax2_tx"]),
        "localtax1_type": int(line["localtax1_type"] or 0), "localtax2_type": int(line["localtax2_type"] or 0),
        "pa_ht": 0, "fk_facture": invoice_id, "fk_parent_line": 0, "rang": 0, "fk_code_ventilation": 0,
        "date_start": "", "date_end": "", "situation_percent": 100, "fk_prev_id": "null",
    })
    for key in ("total_ht", "total_tva", "total_localtax1", "total_localtax2", "total_ttc",
                "multicurrency_total_ht", "multicurrency_total_tva", "multicurrency_total_ttc"):
        out[key] = _number(line[key])
    return out


def _source_line(printed: dict[str, Any], invoice_id: int) -> dict[str, Any]:
    """An order line as echoed first in the ``createfromorder`` answer (a half-filled invoice line)."""
    out = shape("invoice_from_order_source_line")
    for key in _SOURCE_LINE_KEYS:
        out[key] = printed.get(key)
    out["fk_facture"] = invoice_id
    return out


def float_totals(document: Row) -> dict[str, Any]:
    """Header totals as PHP sums them in an action answer: floats added line by line.

    ``10.8 + 0.99`` gives ``11.790000000000001`` there too, so the noise matches the recording.
    """
    names = ("total_ht", "total_tva", "total_localtax1", "total_localtax2", "total_ttc",
             "multicurrency_total_ht", "multicurrency_total_tva", "multicurrency_total_ttc")
    sums = {name: 0.0 for name in names}
    for line in document.get("lines", []):
        for name in names:
            sums[name] += float(line[name])
    return {name: (int(value) if value.is_integer() else value) for name, value in sums.items()}


# ---- transitions ----------------------------------------------------------------------------------
async def validate_invoice(call: Call) -> Any:
    """``POST /invoices/{id}/validate`` -> the invoice with ``FA...``/``AV...``; 304 when not a draft."""
    state = call.state
    invoice = get_invoice_row(state, call.params["id"])
    if invoice["statut"] != DRAFT:
        return not_modified()
    prefix = "AV" if invoice["type"] == CREDIT_NOTE else "FA"
    try:
        final = await validation_race(state, prefix, state.now())
    except DuplicateRef as exc:
        return duplicate_ref_response(exc.ref, "Invoice", "uk_facture_ref", "api_invoices.class.php:1170")
    if invoice["statut"] != DRAFT:
        return not_modified()
    snapshot = dict(invoice)
    invoice.update({"statut": UNPAID, "date_valid": invoice["date"], "tms": state.now()})

    def undo() -> None:
        invoice.clear()
        invoice.update(snapshot)

    fire(state, "BILL_VALIDATE", dict(invoice, statut=DRAFT, newref=final), {}, undo=undo)
    invoice["ref"] = final
    invoice["last_main_doc"] = None
    if paid_of(state, invoice):
        mark_paid_if_settled(state, invoice)
    out = _with_trackid(serialize_invoice(state, invoice), invoice)
    out["linkedObjectsIds"] = None  # links are not loaded by the action (even from an order: real 23.0.0-beta)
    return out


def _with_trackid(out: dict[str, Any], invoice: Row) -> dict[str, Any]:
    out.pop("actiontypecode", None)
    out["trackid"] = f"inv{invoice['id']}"
    return out


def set_to_draft(call: Call) -> dict[str, Any]:
    """``POST /invoices/{id}/settodraft`` (accepted even on a paid invoice; 304 on a draft)."""
    invoice = get_invoice_row(call.state, call.params["id"])
    if invoice["statut"] == DRAFT:
        return not_modified()  # type: ignore[return-value]
    invoice["statut"] = DRAFT
    out = _with_trackid(serialize_invoice(call.state, invoice), invoice)
    out["online_payment_url"] = None
    out["linkedObjectsIds"] = None
    return out


def set_to_paid(call: Call) -> dict[str, Any]:
    """``POST /invoices/{id}/settopaid``."""
    state = call.state
    invoice = get_invoice_row(state, call.params["id"])
    if invoice["statut"] == PAID:
        return not_modified()  # type: ignore[return-value]
    invoice.update({"statut": PAID, "paye": 1})
    fire(state, "BILL_PAYED", invoice, {})
    out = _with_trackid(serialize_invoice(state, invoice), invoice)
    out.update(online_payment_url=None, linkedObjectsIds=None)  # as a real 23.0.0-beta answers
    return out


def set_to_unpaid(call: Call) -> dict[str, Any]:
    """``POST /invoices/{id}/settounpaid``: always accepted; no ``trackid`` in the answer (real 23.0.0-beta)."""
    invoice = get_invoice_row(call.state, call.params["id"])
    invoice.update({"statut": UNPAID, "paye": 0})
    out = serialize_invoice(call.state, invoice)
    out.update(online_payment_url=None, linkedObjectsIds=None, actiontypecode=None)
    out.pop("trackid", None)
    return out


# ---- serialization -----------------------------------------------------------------------------------
def _remain_text(value: Decimal) -> str:
    value = r2(value)
    return str(int(value)) if value == value.to_integral_value() else f"{value:.2f}"


def serialize_invoice(state: DolibarrState, invoice: Row, *, with_payments: bool = False,
                      template: str = "invoice") -> dict[str, Any]:
    """An invoice as ``GET /invoices/{id}`` prints it (``with_payments``: a GET, with paid amounts)."""
    out = shape(template)
    totals = totals_of(invoice)
    term = payment_term(invoice.get("cond_reglement_id")) if invoice.get("cond_reglement_id") else None
    validated = invoice.get("date_valid") is not None and invoice["statut"] != DRAFT
    links = invoice.get("order_links") or []
    paid = paid_of(state, invoice) if with_payments else None
    out.update({
        "id": str(invoice["id"]), "entity": "1",
        "array_options": array_options_out(state, "facture", invoice.get("array_options")),
        "linkedObjectsIds": {"commande": {str(link): str(order) for link, order in links}} if links else None,
        "ref": invoice["ref"], "ref_ext": invoice.get("ref_ext"), "statut": str(invoice["statut"]),
        "status": str(invoice["statut"]), "mode_reglement_id": str(invoice.get("mode_reglement_id") or 0),
        "cond_reglement_id": str(invoice.get("cond_reglement_id") or 0),
        "fk_multicurrency": str(invoice.get("fk_multicurrency") or 0),
        "multicurrency_code": invoice.get("multicurrency_code") or state.setup.currency,
        "multicurrency_tx": fmt_amount(invoice.get("multicurrency_tx") or 1),
        "multicurrency_total_ht": fmt_amount(totals.multicurrency_total_ht),
        "multicurrency_total_tva": fmt_amount(totals.multicurrency_total_tva),
        "multicurrency_total_ttc": fmt_amount(totals.multicurrency_total_ttc),
        "last_main_doc": invoice.get("last_main_doc"), "note_public": invoice.get("note_public"),
        "note_private": invoice.get("note_private"), "total_ht": fmt_amount(totals.total_ht),
        "total_tva": fmt_amount(totals.total_tva), "total_localtax1": fmt_amount(totals.total_localtax1),
        "total_localtax2": fmt_amount(totals.total_localtax2), "total_ttc": fmt_amount(totals.total_ttc),
        "date_creation": invoice.get("datec"), "date_validation": invoice.get("date_valid") if validated else "",
        "date_modification": invoice.get("tms"), "user_creation_id": "1",
        "user_validation_id": "1" if validated else None, "user_modification_id": None if validated else "1",
        "fk_user_modif": None if validated else "1", "retained_warranty_fk_cond_reglement": "0",
        "type": str(invoice["type"]), "socid": str(invoice["socid"]), "paye": str(invoice.get("paye") or 0),
        "date": invoice.get("date"),
        "date_lim_reglement": invoice.get("date", 0) + 86400 * int(term["nbjour"] if term else 0),
        "cond_reglement_code": term["code"] if term else None, "cond_reglement_doc": term["descr"] if term else None,
        "mode_reglement_code": payment_mode(invoice.get("mode_reglement_id")), "revenuestamp": "0.00000000",
        "dispute_status": "0", "ref_client": invoice.get("ref_client"), "ref_customer": invoice.get("ref_client"),
        "fk_incoterms": "0", "location_incoterms": "", "fk_user_author": "1",
        "fk_user_valid": "1" if validated else None, "datem": invoice.get("tms"), "pos_print_counter": "0",
        "email_sent_counter": 0, "fk_facture_source": fmt_int(invoice.get("fk_facture_source")),
        "date_pointoftax": "", "situation_final": "0", "retained_warranty": "0", "retained_warranty_date_limit": "",
        "online_payment_url": _online_payment_url("invoice", invoice["ref"]),
        "lines": [serialize_line(state, line, "invoice_line", invoice["id"]) for line in invoice.get("lines", [])],
        "contacts_ids": [] if with_payments else None, "creditnote_ids": [] if with_payments else None,
    })
    if with_payments and paid is not None:
        out["totalpaid"] = paid
        out["remaintopay"] = _remain_text(totals.total_ttc - paid)
    else:
        out["totalpaid"] = None
        out["remaintopay"] = None
    return out
