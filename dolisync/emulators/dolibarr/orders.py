"""``/orders``: customer orders (API.md §6.1).

Reproduced: create (``socid``/``date`` required, ``id`` in the body refused, unknown ``socid``
-> 500 FK text, ``fk_product`` not checked, ``price_base_type`` ignored inside ``lines``), the
draft ref ``(PROVn)`` — or the ``ref`` given in the body, kept by create and by validate (a ref
already used answers 500 "Error creating order" with ``ErrorRefAlreadyExists``), lines CRUD
(only on drafts: 400 "Bad Request"), amounts from the money model, validate ->
``CO{yymm}-{nnnn}`` when the ref starts with ``PROV`` or ``(PROV`` (any case), else the ref is
kept (304 on repeat; optional stock decrement when
``state.extra["stock_on_validate_order"]`` is set and an ``idwarehouse`` is given), close (304
when already closed), setinvoiced, reopen, settodraft (keeps the final ref), delete (also when
validated), contacts, ``/orders/ref/...`` and ``/orders/ref_ext/...`` answering 400 like the
[beta?] build. Triggers: ``LINEORDER_INSERT`` (per line, before) ``ORDER_CREATE``,
``ORDER_VALIDATE`` (before the ref switch, ``newref``), ``ORDER_CLOSE``, ``ORDER_CLASSIFY_BILLED``.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from dolisync.emulators.dolibarr.cat_dictionaries import contact_types, payment_terms, payment_types
from dolisync.emulators.dolibarr.com_common import (
    DuplicateRef, caller_context, day_of, duplicate_ref_response, fire, parse_date, require, shape,
    thirdparty_or_none, validation_race,
)
from dolisync.emulators.dolibarr.com_lines import (
    insert_line, line_from_body, serialize_line, totals_of, update_price, vat_text,
)
from dolisync.emulators.dolibarr.core import (
    ApiError, Call, DolibarrRouter, ListQuery, as_decimal, as_int, as_str, fmt_amount, fmt_int, list_answer,
    not_modified, success,
)
from dolisync.emulators.dolibarr.setup_api import array_options_in, array_options_out, extrafield_columns
from dolisync.emulators.dolibarr.state import DolibarrState, Row

__all__ = ["register", "serialize_order", "order_columns", "get_order_row", "currency_of"]

DRAFT, VALIDATED, SHIPPING, CLOSED = 0, 1, 2, 3
_ONE = Decimal(1)
_PROVISIONAL = re.compile(r"^\(?PROV", re.IGNORECASE)
_FK_SOC = ("Cannot add or update a child row: a foreign key constraint fails (`dolibarr`.`llx_commande`, "
           "CONSTRAINT `fk_commande_fk_soc` FOREIGN KEY (`fk_soc`) REFERENCES `llx_societe` (`rowid`))")


def register(router: DolibarrRouter) -> None:
    """Routes of ``/orders`` (shipment routes live in ``shipments``)."""
    add = router.add
    add("GET", "/orders", list_orders, perm="commande.lire")
    add("POST", "/orders", create_order, perm="commande.creer", forbidden_text="Insufficiant rights")
    add("GET", "/orders/{id:int}", get_order, perm="commande.lire")
    add("PUT", "/orders/{id:int}", update_order, perm="commande.creer")
    add("DELETE", "/orders/{id:int}", delete_order, perm="commande.supprimer")
    add("GET", "/orders/ref/{ref}", ref_lookup_bug, perm="commande.lire")
    add("GET", "/orders/ref_ext/{ref_ext}", ref_lookup_bug, perm="commande.lire")
    add("GET", "/orders/{id:int}/lines", get_lines, perm="commande.lire")
    add("POST", "/orders/{id:int}/lines", add_line, perm="commande.creer")
    add("GET", "/orders/{id:int}/lines/{lineid:int}", get_line, perm="commande.lire")
    add("PUT", "/orders/{id:int}/lines/{lineid:int}", update_line, perm="commande.creer")
    add("DELETE", "/orders/{id:int}/lines/{lineid:int}", delete_line, perm="commande.creer")
    add("GET", "/orders/{id:int}/contacts", get_contacts, perm="commande.lire")
    add("POST", "/orders/{id:int}/contact/{contactid:int}/{type}", add_contact, perm="commande.creer")
    add("DELETE", "/orders/{id:int}/contact/{contactid:int}/{type}", delete_contact, perm="commande.creer")
    add("POST", "/orders/{id:int}/validate", validate_order, perm="commande.creer")
    add("POST", "/orders/{id:int}/close", close_order, perm="commande.creer")
    add("POST", "/orders/{id:int}/setinvoiced", set_invoiced, perm="commande.creer")
    add("POST", "/orders/{id:int}/reopen", reopen_order, perm="commande.creer")
    add("POST", "/orders/{id:int}/settodraft", set_to_draft, perm="commande.creer")


# ---- helpers ---------------------------------------------------------------------------------
def get_order_row(state: DolibarrState, order_id: int) -> Row:
    """The order row or 404 "Order not found"."""
    row = state.get("orders", order_id)
    if row is None:
        raise ApiError(404, "Order not found")
    return row


def currency_of(state: DolibarrState, code: Any, rate: Any) -> tuple[str, Decimal, int]:
    """(code, rate, fk_multicurrency): an unknown currency silently becomes the company one at 1."""
    company = state.setup.currency
    wanted = str(code).upper() if code else company
    found = next((c for c in state.table("multicurrencies").values() if c.get("code") == wanted), None)
    if found is None or wanted == company:
        return company, _ONE, 0
    tx = as_decimal(rate) if rate not in (None, "", 0) else _latest_rate(state, found["id"])
    return wanted, tx if tx else _ONE, found["id"]


def _latest_rate(state: DolibarrState, currency_id: int) -> Decimal:
    rates = [r for r in state.table("multicurrency_rates").values() if r.get("fk_multicurrency") == currency_id]
    return as_decimal(max(rates, key=lambda r: r["id"])["rate"]) if rates else _ONE


def is_provisional(ref: Any) -> bool:
    """Dolibarr's test in ``valid()``: an empty ref or one matching ``/^[\\(]?PROV/i`` gets a number."""
    return not ref or _PROVISIONAL.match(str(ref)) is not None


def _ref_taken(state: DolibarrState, ref: str) -> bool:
    """``isExistingObject('commande', 0, ref)``: some order of the (single) entity has this ref."""
    return any(row.get("ref") == ref for row in state.table("orders").values())


def _new_line(state: DolibarrState, order: Row, body: dict[str, Any], *, from_lines_endpoint: bool) -> Row:
    return line_from_body(state, body, honour_price_base=from_lines_endpoint,
                          multicurrency_tx=as_decimal(order.get("multicurrency_tx") or 1),
                          honour_multicurrency_price=from_lines_endpoint, table="orderlines")


# ---- create / read / update / delete ------------------------------------------------------------
def create_order(call: Call) -> int:
    """``POST /orders`` -> the new id (a draft)."""
    body = call.body_dict()
    if "id" in body:
        raise ApiError(400, "Creating with id field is forbidden")
    require(body, ("socid", "date"))
    state = call.state
    wanted_ref = (as_str(body.get("ref")) or "").strip()
    if wanted_ref and _ref_taken(state, wanted_ref):
        # Commande::create() checks isExistingObject() before the INSERT (api_orders.class.php:349).
        raise ApiError(500, "Error creating order", "ErrorRefAlreadyExists")
    if thirdparty_or_none(state, body["socid"]) is None:
        raise ApiError(500, "Error creating order", _FK_SOC)
    now = state.now()
    date = parse_date(body.get("date")) or now
    code, tx, currency_id = currency_of(state, body.get("multicurrency_code"), body.get("multicurrency_tx"))
    order: Row = {
        "socid": as_int(body["socid"]), "ref": None, "ref_ext": as_str(body.get("ref_ext")),
        "ref_client": as_str(body.get("ref_client")), "statut": DRAFT, "billed": 0, "date": day_of(date),
        "datec": now, "tms": now, "date_valid": None, "date_cloture": None,
        "mode_reglement_id": as_int(body.get("mode_reglement_id"), None) or None,
        "cond_reglement_id": as_int(body.get("cond_reglement_id"), None) or None,
        "shipping_method_id": as_int(body.get("shipping_method_id"), None) or None,
        "multicurrency_code": code, "multicurrency_tx": tx, "fk_multicurrency": currency_id,
        "note_private": as_str(body.get("note_private"), "") or "", "note_public": as_str(body.get("note_public"), "") or "",
        "array_options": array_options_in(state, "commande", body.get("array_options")),
        "lines": [], "contacts": [], "invoice_links": [], "user_valid": None,
    }
    order_id = state.insert("orders", order)
    order["ref"] = wanted_ref or state.draft_ref(order_id)
    context = caller_context(body)
    undo = lambda: state.delete("orders", order_id)  # noqa: E731 - rollback of this create
    for line_body in body.get("lines") or []:
        if not isinstance(line_body, dict):
            continue
        line = _new_line(state, order, line_body, from_lines_endpoint=False)
        insert_line(order, line)
        fire(state, "LINEORDER_INSERT", dict(line, fk_commande=order_id), context, undo=undo)
    fire(state, "ORDER_CREATE", order, context, undo=undo)
    return order_id


def get_order(call: Call) -> dict[str, Any]:
    """``GET /orders/{id}``."""
    return serialize_order(call.state, get_order_row(call.state, call.params["id"]))


def ref_lookup_bug(call: Call) -> Any:
    """``GET /orders/ref/{ref}`` and ``/ref_ext/{..}``: always 400 in the recorded build [beta?]."""
    raise ApiError(400, "No order with id=0 can exist")


def update_order(call: Call) -> dict[str, Any]:
    """``PUT /orders/{id}``: header fields -> the order."""
    state = call.state
    order = get_order_row(state, call.params["id"])
    body = call.body_dict()
    for name in ("ref_ext", "ref_client", "note_private", "note_public"):
        if name in body:
            order[name] = as_str(body[name])
    for name in ("mode_reglement_id", "cond_reglement_id", "shipping_method_id"):
        if name in body:
            order[name] = as_int(body[name], None) or None
    if "date" in body and parse_date(body["date"]):
        order["date"] = day_of(parse_date(body["date"]) or 0)
    if "array_options" in body:
        order["array_options"] = array_options_in(state, "commande", body["array_options"], order.get("array_options"))
    order["tms"] = state.now()
    return serialize_order(state, order)


def delete_order(call: Call) -> dict[str, Any]:
    """``DELETE /orders/{id}`` (drafts and validated orders alike)."""
    order = get_order_row(call.state, call.params["id"])
    call.state.delete("orders", order["id"])
    return success("Order deleted")


def order_columns(state: DolibarrState, row: Row) -> dict[str, Any]:
    """DB columns for ``sqlfilters``/``sortfield``."""
    totals = totals_of(row)
    columns = {
        "t.rowid": row["id"], "t.ref": row.get("ref"), "t.ref_ext": row.get("ref_ext"),
        "t.ref_client": row.get("ref_client"), "t.fk_soc": row.get("socid"), "t.fk_statut": row.get("statut"),
        "t.facture": row.get("billed"), "t.date_commande": row.get("date"), "t.datec": row.get("datec"),
        "t.tms": row.get("tms"), "t.date_valid": row.get("date_valid"), "t.total_ht": totals.total_ht,
        "t.total_ttc": totals.total_ttc, "t.multicurrency_code": row.get("multicurrency_code"), "t.entity": 1,
        "t.import_key": None, "t.note_private": row.get("note_private"),
    }
    columns.update(extrafield_columns(state, "commande", row.get("array_options")))
    return columns


def list_orders(call: Call) -> Any:
    """``GET /orders`` (``thirdparty_ids``, common list parameters)."""
    state = call.state
    rows = list(state.table("orders").values())
    ids_text = call.query.get("thirdparty_ids")
    if ids_text:
        wanted = {as_int(part, None) for part in ids_text.split(",")}
        rows = [r for r in rows if r.get("socid") in wanted]
    return list_answer(rows, ListQuery.from_call(call), columns=lambda r: order_columns(state, r),
                       serialize=lambda r: serialize_order(state, r), what="order")


# ---- lines ----------------------------------------------------------------------------------------
def _line_or_404(order: Row, line_id: int) -> Row:
    for line in order.get("lines", []):
        if line["id"] == line_id:
            return line
    raise ApiError(404, "Line not found")


def get_lines(call: Call) -> list[dict[str, Any]]:
    """``GET /orders/{id}/lines`` (lines printed with the document currency)."""
    order = get_order_row(call.state, call.params["id"])
    return [serialize_line(call.state, line, "order_line_get", order["id"], order.get("multicurrency_code"))
            for line in order.get("lines", [])]


def get_line(call: Call) -> dict[str, Any]:
    """``GET /orders/{id}/lines/{lineid}``."""
    order = get_order_row(call.state, call.params["id"])
    line = _line_or_404(order, call.params["lineid"])
    return serialize_line(call.state, line, "order_line_get", order["id"], order.get("multicurrency_code"))


def add_line(call: Call) -> int:
    """``POST /orders/{id}/lines`` -> the line id (``price_base_type`` and currency price honoured)."""
    state = call.state
    order = get_order_row(state, call.params["id"])
    if order["statut"] != DRAFT:
        raise ApiError(400, "")
    body = call.body_dict()
    line = _new_line(state, order, body, from_lines_endpoint=True)
    insert_line(order, line)
    order["tms"] = state.now()

    def undo() -> None:
        order["lines"].remove(line)
        update_price(order)

    fire(state, "LINEORDER_INSERT", dict(line, fk_commande=order["id"]), caller_context(body), undo=undo)
    return int(line["id"])


def update_line(call: Call) -> dict[str, Any]:
    """``PUT /orders/{id}/lines/{lineid}`` -> the whole order."""
    state = call.state
    order = get_order_row(state, call.params["id"])
    if order["statut"] != DRAFT:
        raise ApiError(400, "")
    line = _line_or_404(order, call.params["lineid"])
    body = call.body_dict()
    merged = {
        "fk_product": line.get("fk_product"), "qty": line["qty"], "subprice": line["subprice"],
        "tva_tx": vat_text(line), "remise_percent": line["remise_percent"], "product_type": line["product_type"],
        "desc": line.get("desc"), "label": line.get("label"), "localtax1_tx": line["localtax1_tx"],
        "localtax2_tx": line["localtax2_tx"], "rang": line.get("rang"), "ref_ext": line.get("ref_ext"),
        "array_options": line.get("array_options"),
    }
    merged.update(body)
    fresh = _new_line(state, order, merged, from_lines_endpoint=True)
    fresh["id"] = line["id"]
    order["lines"][order["lines"].index(line)] = fresh
    update_price(order)
    order["tms"] = state.now()
    fresh["price_field"] = "0"  # Dolibarr's updateline leaves the legacy ``price`` member at 0
    out = serialize_order(state, order)
    out.pop("totalpaid", None)
    out.pop("line", None)
    for printed in out["lines"]:
        printed.pop("totalpaid", None)
    return out


def delete_line(call: Call) -> dict[str, Any]:
    """``DELETE /orders/{id}/lines/{lineid}`` -> the whole order."""
    state = call.state
    order = get_order_row(state, call.params["id"])
    if order["statut"] != DRAFT:
        raise ApiError(400, "")
    line = _line_or_404(order, call.params["lineid"])
    order["lines"].remove(line)
    update_price(order)
    return serialize_order(state, order)


# ---- contacts -------------------------------------------------------------------------------------
def _contact_type(code: str) -> dict[str, Any]:
    for row in contact_types():
        if row["type"] == "commande" and row["code"] == code.upper() and row["source"] == "external":
            return row
    raise ApiError(400, "Contact type not found")


def add_contact(call: Call) -> dict[str, Any]:
    """``POST /orders/{id}/contact/{contactid}/{type}`` (BILLING, SHIPPING, CUSTOMER)."""
    state = call.state
    order = get_order_row(state, call.params["id"])
    contact = state.get("contacts", call.params["contactid"])
    if contact is None:
        raise ApiError(404, "Contact not found")
    kind = _contact_type(str(call.params["type"]))
    links = order.setdefault("contacts", [])
    if not any(l["contact_id"] == contact["id"] and l["code"] == kind["code"] for l in links):
        links.append({"rowid": state.next_id("element_contact"), "contact_id": contact["id"], "code": kind["code"],
                      "fk_c_type_contact": kind["rowid"], "libelle": kind["label"]})
    return success(f"Contact={contact['id']} linked to the order={order['id']} as external {kind['code']}")


def delete_contact(call: Call) -> dict[str, Any]:
    """``DELETE /orders/{id}/contact/{contactid}/{type}``."""
    order = get_order_row(call.state, call.params["id"])
    code = str(call.params["type"]).upper()
    order["contacts"] = [l for l in order.get("contacts", [])
                         if not (l["contact_id"] == call.params["contactid"] and l["code"] == code)]
    return success("Contact unlinked from order")


def get_contacts(call: Call) -> list[dict[str, Any]]:
    """``GET /orders/{id}/contacts``: linked external contacts with their address."""
    state = call.state
    order = get_order_row(state, call.params["id"])
    from dolisync.emulators.dolibarr.com_common import country_by_id

    out: list[dict[str, Any]] = []
    for link in sorted(order.get("contacts", []), key=lambda l: -l["rowid"]):
        contact = state.get("contacts", link["contact_id"])
        if contact is None:
            continue
        item = shape("order_contact")
        country = country_by_id(contact.get("country_id"))
        item.update({
            "parentId": str(order["id"]), "source": "external", "socid": fmt_int(contact.get("socid")),
            "id": str(contact["id"]), "nom": contact.get("lastname"), "civility": contact.get("civility_code") or "",
            "lastname": contact.get("lastname"), "firstname": contact.get("firstname"),
            "email": contact.get("email") or "", "address": contact.get("address"), "zip": contact.get("zip"),
            "town": contact.get("town"), "country_id": fmt_int(contact.get("country_id")),
            "country": country["label"] if country else None, "login": "", "photo": "", "gender": "",
            "statuscontact": str(contact.get("statut", 1)), "rowid": str(link["rowid"]), "code": link["code"],
            "libelle": link["libelle"], "status": 4, "fk_c_type_contact": str(link["fk_c_type_contact"]),
        })
        out.append(item)
    return out


# ---- transitions ----------------------------------------------------------------------------------
async def validate_order(call: Call) -> Any:
    """``POST /orders/{id}/validate`` -> the order with its final ref; 304 when not a draft."""
    state = call.state
    order = get_order_row(state, call.params["id"])
    if order["statut"] != DRAFT:
        return not_modified()
    body = call.body if isinstance(call.body, dict) else {}
    if is_provisional(order.get("ref")):
        try:
            final = await validation_race(state, "CO", state.now())
        except DuplicateRef as exc:
            return duplicate_ref_response(exc.ref)
    else:
        final = order["ref"]
    if order["statut"] != DRAFT:  # validated concurrently while we waited
        return not_modified()
    snapshot = dict(order)
    order.update({"statut": VALIDATED, "date_valid": state.now(), "user_valid": 1, "tms": state.now()})
    # Fired before the switch: the payload still shows the draft ref and status, the final ref in ``newref``.
    event_object = dict(order, ref=snapshot["ref"], statut=DRAFT, newref=final)

    def undo() -> None:
        order.clear()
        order.update(snapshot)

    fire(state, "ORDER_VALIDATE", event_object, {}, undo=undo)
    order["ref"] = final
    warehouse = as_int(body.get("idwarehouse"), 0) or 0
    if warehouse and state.extra.get("stock_on_validate_order"):
        try:
            _decrement_stock(state, order, warehouse)
        except ApiError:
            undo()
            raise
    return _with_trackid(serialize_order(state, order), order)


def _decrement_stock(state: DolibarrState, order: Row, warehouse_id: int) -> None:
    """Decrement the stock of the order's product lines in ``warehouse_id`` (stock area's helper).

    Like Dolibarr with ``STOCK_CALCULATE_ON_VALIDATE_ORDER``; services and free-text lines are skipped.
    A refused movement (unknown warehouse, not enough stock) propagates its error.
    """
    from dolisync.emulators.dolibarr.stock import move_stock

    for line in order.get("lines", []):
        product = state.get("products", line["fk_product"]) if line.get("fk_product") else None
        if product is None or line["product_type"]:
            continue
        move_stock(state, line["fk_product"], warehouse_id, -as_decimal(line["qty"]),
                   label=f"Order {order['ref']} validated", origintype="commande", fk_origin=order["id"])


def _with_trackid(out: dict[str, Any], order: Row, *, payment_url: bool = True) -> dict[str, Any]:
    """Action answers print ``trackid`` and omit ``actiontypecode`` (like the real ones)."""
    out.pop("actiontypecode", None)
    if not payment_url:
        out["online_payment_url"] = None
    items = list(out.items())
    index = next((i for i, (k, _) in enumerate(items) if k == "ref_customer"), len(items))
    items.insert(index + 1, ("trackid", f"ord{order['id']}"))
    return dict(items)


def close_order(call: Call) -> Any:
    """``POST /orders/{id}/close`` -> status 3; 304 when already closed."""
    state = call.state
    order = get_order_row(state, call.params["id"])
    if order["statut"] == CLOSED:
        return not_modified()
    snapshot = dict(order)
    order.update({"statut": CLOSED, "date_cloture": state.now(), "tms": state.now()})

    def undo() -> None:
        order.clear()
        order.update(snapshot)

    fire(state, "ORDER_CLOSE", dict(order, statut=snapshot["statut"]), {}, undo=undo)
    return _with_trackid(serialize_order(state, order), order, payment_url=False)


def set_invoiced(call: Call) -> Any:
    """``POST /orders/{id}/setinvoiced`` -> ``billed = 1``."""
    state = call.state
    order = get_order_row(state, call.params["id"])
    was = order.get("billed", 0)
    order["billed"] = 1

    def undo() -> None:
        order["billed"] = was

    fire(state, "ORDER_CLASSIFY_BILLED", order, {}, undo=undo)
    return _with_trackid(serialize_order(state, order), order, payment_url=False)


def reopen_order(call: Call) -> Any:
    """``POST /orders/{id}/reopen`` -> ``1`` (closed back to validated); 304 unless the order is closed."""
    order = get_order_row(call.state, call.params["id"])
    if order["statut"] != CLOSED:
        return not_modified()
    order["statut"] = VALIDATED
    order["billed"] = 0
    return 1


def set_to_draft(call: Call) -> Any:
    """``POST /orders/{id}/settodraft`` -> status 0, the final ref kept; 304 on a draft."""
    order = get_order_row(call.state, call.params["id"])
    if order["statut"] == DRAFT:
        return not_modified()
    order["statut"] = DRAFT
    out = serialize_order(call.state, order)
    out["online_payment_url"] = None
    return out


# ---- serialization ----------------------------------------------------------------------------------
def _linked_objects(state: DolibarrState, order: Row) -> dict[str, dict[str, str]]:
    """``linkedObjectsIds`` of an order: ``{type: {link rowid: object id}}`` for its invoices and shipments."""
    links = [(int(link), "facture", str(inv)) for link, inv in order.get("invoice_links") or []]
    links += [(int(row["link_id"]), "shipping", str(row["id"])) for row in state.table("shipments").values()
              if row["order_id"] == order["id"] and row.get("link_id") is not None]
    grouped: dict[str, dict[str, str]] = {}
    for link, kind, object_id in sorted(links):
        grouped.setdefault(kind, {})[str(link)] = object_id
    return grouped


def _online_payment_url(kind: str, ref: str) -> str:
    return f"http://127.0.0.1:8080/public/payment/newpayment.php?source={kind}&ref={quote(ref, safe='')}"


def payment_mode(mode_id: Any) -> str | None:
    """Payment type code for an id (``6`` -> ``"CB"``)."""
    found = next((p for p in payment_types() if p["id"] == str(mode_id)), None)
    return found["code"] if found else None


def payment_term(term_id: Any) -> dict[str, Any] | None:
    """Payment term row for an id."""
    return next((t for t in payment_terms() if t["id"] == str(term_id)), None)


def serialize_order(state: DolibarrState, order: Row) -> dict[str, Any]:
    """An order as ``GET /orders/{id}`` prints it (string scalars, lines included)."""
    out = shape("order")
    totals = totals_of(order)
    term = payment_term(order.get("cond_reglement_id")) if order.get("cond_reglement_id") else None
    validated = order.get("date_valid") is not None
    currency = order.get("multicurrency_code") or state.setup.currency
    out.update({
        "id": str(order["id"]), "entity": "1",
        "array_options": array_options_out(state, "commande", order.get("array_options")),
        "linkedObjectsIds": _linked_objects(state, order) or [],
        "ref": order["ref"], "ref_ext": order.get("ref_ext"), "statut": str(order["statut"]),
        "status": str(order["statut"]), "mode_reglement_id": fmt_int(order.get("mode_reglement_id")),
        "cond_reglement_id": fmt_int(order.get("cond_reglement_id")),
        "shipping_method_id": fmt_int(order.get("shipping_method_id")),
        "fk_multicurrency": str(order.get("fk_multicurrency") or 0), "multicurrency_code": currency,
        "multicurrency_tx": fmt_amount(order.get("multicurrency_tx") or 1),
        "multicurrency_total_ht": fmt_amount(totals.multicurrency_total_ht),
        "multicurrency_total_tva": fmt_amount(totals.multicurrency_total_tva),
        "multicurrency_total_localtax1": None, "multicurrency_total_localtax2": None,
        "multicurrency_total_ttc": fmt_amount(totals.multicurrency_total_ttc), "model_pdf": "",
        "note_public": order.get("note_public") or "", "note_private": order.get("note_private") or "",
        "total_ht": fmt_amount(totals.total_ht), "total_tva": fmt_amount(totals.total_tva),
        "total_localtax1": fmt_amount(totals.total_localtax1), "total_localtax2": fmt_amount(totals.total_localtax2),
        "total_ttc": fmt_amount(totals.total_ttc), "date_creation": order.get("datec"),
        "date_validation": order.get("date_valid") if validated else "", "date_modification": order.get("tms"),
        "date_cloture": None, "user_creation_id": "1",
        "user_validation_id": "1" if validated else None, "user_modification_id": "1",
        "socid": str(order["socid"]), "ref_client": order.get("ref_client"), "ref_customer": order.get("ref_client"),
        "billed": str(order.get("billed") or 0), "cond_reglement_code": term["code"] if term else None,
        "cond_reglement_doc": term["descr"] if term else None,
        "mode_reglement_code": payment_mode(order.get("mode_reglement_id")),
        "date": order.get("date"), "date_commande": order.get("date"), "delivery_date": "",
        "user_author_id": "1", "fk_incoterms": "0", "location_incoterms": "", "code": "", "signed_status": 0,
        "online_payment_url": _online_payment_url("order", order["ref"]),
        "lines": [serialize_line(state, line, "order_line", order["id"]) for line in order.get("lines", [])],
    })
    return out
