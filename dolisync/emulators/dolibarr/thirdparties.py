"""``/thirdparties``: customers (API.md §5.1).

Behaviour reproduced: create requires ``name``; for a customer (``client`` 1/2/3) ``code_client``
``"-1"``/``"auto"`` numbers ``CU{yymm}-{nnnnn}``, nothing leaves it null, any other value is refused
(500 ``ErrorBadCustomerCodeSyntax``); when ``client`` is 0 the code is neither checked nor stored
(null; checked on a real 23.0.0-beta); unknown ``country_code`` -> 404; no duplicate detection;
``multicurrency_code`` dropped unless the currency is enabled; ``GET /email/{email}`` gives a
blank object when ambiguous; the list answers 404 when empty; ``PUT`` returns the full object
(plus ``socid``/``trackid`` like the real one); ``DELETE`` 409 when orders/invoices use it;
category links are not type-checked; emails are stored lowercased (real 23.0.0-beta). Triggers:
``COMPANY_CREATE``, ``COMPANY_MODIFY``.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from dolisync.emulators.dolibarr.com_common import (
    caller_context, country_by_code, country_by_id, fire, require, shape,
)
from dolisync.emulators.dolibarr.core import (
    ApiError, Call, DolibarrRouter, ListQuery, as_int, as_str, fmt_int, list_answer, success,
)
from dolisync.emulators.dolibarr.cat_categories import categories_of, link_object, short_category, unlink_object
from dolisync.emulators.dolibarr.setup_api import (
    array_options_in, array_options_out, extrafield_columns, modification_stamp, note_extrafields_write,
)
from dolisync.emulators.dolibarr.state import DolibarrState, Row

__all__ = ["register", "serialize_thirdparty", "thirdparty_columns"]

_TEXT_FIELDS = ("name_alias", "email", "phone", "phone_mobile", "fax", "url", "address", "zip", "town",
                "default_lang", "ref_ext", "note_private", "note_public", "tva_intra", "idprof1", "idprof2",
                "idprof3", "idprof4", "idprof5", "idprof6", "barcode", "name")


def register(router: DolibarrRouter) -> None:
    """Routes of ``/thirdparties``."""
    router.add("GET", "/thirdparties", list_thirdparties, perm="societe.lire")
    router.add("POST", "/thirdparties", create_thirdparty, perm="societe.creer")
    router.add("GET", "/thirdparties/{id:int}", get_thirdparty, perm="societe.lire")
    router.add("PUT", "/thirdparties/{id:int}", update_thirdparty, perm="societe.creer")
    router.add("DELETE", "/thirdparties/{id:int}", delete_thirdparty, perm="societe.supprimer")
    router.add("GET", "/thirdparties/email/{email}", get_by_email, perm="societe.lire")
    router.add("GET", "/thirdparties/{id:int}/categories", get_categories, perm="societe.lire")
    router.add("PUT", "/thirdparties/{id:int}/categories/{category_id:int}", add_category, perm="societe.creer")
    router.add("DELETE", "/thirdparties/{id:int}/categories/{category_id:int}", remove_category,
               perm="societe.creer")


# ---- rows ------------------------------------------------------------------------------------
def _enabled_currency(state: DolibarrState, code: str) -> bool:
    return any(row.get("code") == code for row in state.table("multicurrencies").values())


def _apply_body(state: DolibarrState, row: Row, body: dict[str, Any]) -> None:
    for name in _TEXT_FIELDS:
        if name in body:
            row[name] = as_str(body[name])
    if row.get("email"):  # Dolibarr lowercases every email it stores (CommonPeople::setUpperOrLowerCase)
        row["email"] = str(row["email"]).lower()
    if "country_code" in body and body["country_code"] not in (None, ""):
        country = country_by_code(body["country_code"])
        if country is None:
            raise ApiError(404, "Country code not found in database: ")
        row["country_id"] = country["id"]
    elif "country_id" in body:
        row["country_id"] = as_int(body["country_id"], None)
    for name in ("client", "fournisseur", "status", "state_id", "mode_reglement_id", "cond_reglement_id"):
        if name in body:
            row[name] = as_int(body[name], 0)
    if "typent_id" in body:  # the recorded instance ignored ``typent_code`` on create
        row["typent_id"] = as_int(body["typent_id"], 0)
    if "multicurrency_code" in body and body["multicurrency_code"]:
        code = str(body["multicurrency_code"]).upper()
        # silently dropped when the currency is not enabled (yet) in /multicurrencies
        row["multicurrency_code"] = code if _enabled_currency(state, code) else row.get("multicurrency_code") or ""
    if "array_options" in body:
        row["array_options"] = array_options_in(state, "societe", body["array_options"], row.get("array_options"))


def _is_customer(row: Row) -> bool:
    """Dolibarr checks and stores ``code_client`` only for customers/prospects (``client`` != 0)."""
    return as_int(row.get("client"), 0) != 0


def _new_customer_code(state: DolibarrState, now: int) -> str:
    yymm = datetime.fromtimestamp(now, tz=timezone.utc).strftime("%y%m")
    key = f"CU{yymm}"
    value = state.ref_counters.get(key, 0) + 1
    state.ref_counters[key] = value
    return f"{key}-{value:05d}"


def create_thirdparty(call: Call) -> int:
    """``POST /thirdparties`` -> the new id."""
    body = call.body_dict()
    require(body, ("name",))
    state = call.state
    now = state.now()
    row: Row = {
        "name": None, "status": 1, "client": 0, "fournisseur": 0, "code_client": None, "array_options": {},
        "multicurrency_code": None, "datec": now, "tms": now, "country_id": None,
        "name_alias": "", "typent_id": 0, "typent_code": None,
    }
    _apply_body(state, row, body)
    note_extrafields_write(state, "societe", row, body.get("array_options"), update=False)
    code = body.get("code_client")
    if code not in (None, "") and _is_customer(row):
        if str(code) not in ("-1", "auto"):
            raise ApiError(500, "Error creating thirdparty", "", "ErrorBadCustomerCodeSyntax")
        row["code_client"] = _new_customer_code(state, now)
    new_id = state.insert("thirdparties", row)
    fire(state, "COMPANY_CREATE", row, caller_context(body),
         undo=lambda: state.delete("thirdparties", new_id))
    return new_id


def _get_row(call: Call) -> Row:
    row = call.state.get("thirdparties", call.params["id"])
    if row is None:
        raise ApiError(404, "Thirdparty not found")
    return row


def get_thirdparty(call: Call) -> dict[str, Any]:
    """``GET /thirdparties/{id}``."""
    return serialize_thirdparty(call.state, _get_row(call))


def get_by_email(call: Call) -> dict[str, Any]:
    """``GET /thirdparties/email/{email}``: 404 none, the object when unique, blank when ambiguous."""
    email = str(call.params["email"]).strip().lower()
    matches = [r for r in call.state.table("thirdparties").values() if str(r.get("email") or "").lower() == email]
    if not matches:
        raise ApiError(404, "Thirdparty not found")
    if len(matches) > 1:
        return blank_thirdparty()
    return serialize_thirdparty(call.state, matches[0])


def update_thirdparty(call: Call) -> dict[str, Any]:
    """``PUT /thirdparties/{id}`` -> the full object (with ``socid`` and ``trackid``)."""
    row = _get_row(call)
    body = call.body_dict()
    state = call.state
    before = dict(row)
    _apply_body(state, row, body)
    note_extrafields_write(state, "societe", row, None, update=True)
    if body.get("code_client") in ("-1", "auto") and not row.get("code_client") and _is_customer(row):
        row["code_client"] = _new_customer_code(state, state.now())
    row["tms"] = state.now()

    def undo() -> None:
        row.clear()
        row.update(before)

    fire(state, "COMPANY_MODIFY", row, caller_context(body), undo=undo)
    out = serialize_thirdparty(state, row)
    # The real PUT answer carries two more members, before the discount totals.
    tail = {k: out.pop(k) for k in ("absolute_discount", "absolute_creditnote")}
    out.pop("actiontypecode", None)
    out["socid"] = row["id"]
    out["trackid"] = f"thi{row['id']}"
    out.update(tail)
    return out


def _is_used(state: DolibarrState, thirdparty_id: int) -> bool:
    for table in ("orders", "invoices"):
        if any(as_int(r.get("socid"), None) == thirdparty_id for r in state.table(table).values()):
            return True
    return False


def delete_thirdparty(call: Call) -> dict[str, Any]:
    """``DELETE /thirdparties/{id}``: 409 (with the wrong "product" wording) when orders or invoices
    use it; its contacts and category links go with it."""
    row = _get_row(call)
    state = call.state
    if _is_used(state, row["id"]):
        raise ApiError(409, "Can't delete, that product is probably used")
    for contact_id in [c["id"] for c in state.table("contacts").values() if c.get("socid") == row["id"]]:
        state.delete("contacts", contact_id)
    for category in categories_of(state, "customer", row["id"]):
        unlink_object(state, category["id"], "customer", row["id"])
    state.delete("thirdparties", row["id"])
    return success("Object deleted")


def _category(call: Call) -> Row:
    category = call.state.get("categories", call.params["category_id"])
    if category is None:
        raise ApiError(404, "Category not found")
    return category


def add_category(call: Call) -> dict[str, Any]:
    """``PUT /thirdparties/{id}/categories/{cat}``: link (no type check) -> the thirdparty."""
    row = _get_row(call)
    link_object(call.state, _category(call)["id"], "customer", row["id"])
    return _without_discounts(serialize_thirdparty(call.state, row))


def remove_category(call: Call) -> dict[str, Any]:
    """``DELETE /thirdparties/{id}/categories/{cat}`` -> the thirdparty."""
    row = _get_row(call)
    unlink_object(call.state, _category(call)["id"], "customer", row["id"])
    return _without_discounts(serialize_thirdparty(call.state, row))


def _without_discounts(out: dict[str, Any]) -> dict[str, Any]:
    out.pop("absolute_discount", None)
    out.pop("absolute_creditnote", None)
    return out


def get_categories(call: Call) -> list[dict[str, Any]]:
    """``GET /thirdparties/{id}/categories``: linked categories of the customer type only."""
    row = _get_row(call)
    out: list[dict[str, Any]] = []
    for category in categories_of(call.state, "customer", row["id"]):
        if _category_type(category.get("type")) != _CUSTOMER_TYPE:
            continue
        item = short_category(category)
        item["ref_ext"] = category.get("ref_ext")
        item["fk_parent"] = as_int(category.get("fk_parent"), 0) or 0
        out.append(item)
    return out


_CUSTOMER_TYPE = 2


def _category_type(value: Any) -> int:
    words = {"product": 0, "supplier": 1, "customer": 2, "member": 3, "contact": 4}
    if isinstance(value, str) and value in words:
        return words[value]
    return as_int(value, 0) or 0


def thirdparty_columns(state: DolibarrState, row: Row) -> dict[str, Any]:
    """DB columns for ``sqlfilters``/``sortfield``."""
    columns = {
        "t.rowid": row["id"], "t.nom": row.get("name"), "t.name_alias": row.get("name_alias"),
        "t.email": row.get("email"), "t.ref_ext": row.get("ref_ext"), "t.code_client": row.get("code_client"),
        "t.client": row.get("client"), "t.fournisseur": row.get("fournisseur"), "t.status": row.get("status"),
        "t.phone": row.get("phone"), "t.zip": row.get("zip"), "t.town": row.get("town"),
        "t.fk_pays": row.get("country_id"), "t.datec": row.get("datec"), "t.tms": row.get("tms"),
        "t.entity": 1, "t.import_key": None, "t.siren": row.get("idprof1"),
    }
    columns.update(extrafield_columns(state, "societe", row.get("array_options")))
    return columns


def list_thirdparties(call: Call) -> Any:
    """``GET /thirdparties`` (``mode``, ``category``, common list parameters); 404 when empty."""
    query = ListQuery.from_call(call)
    rows = list(call.state.table("thirdparties").values())
    mode = call.qint("mode", 0) or 0
    if mode == 1:
        rows = [r for r in rows if as_int(r.get("client"), 0) in (1, 3)]
    elif mode == 2:
        rows = [r for r in rows if as_int(r.get("client"), 0) in (2, 3)]
    elif mode == 3:
        rows = [r for r in rows if as_int(r.get("client"), 0) == 0]
    elif mode == 4:
        rows = [r for r in rows if as_int(r.get("fournisseur"), 0) == 1]
    category = call.qint("category", 0)
    if category:
        rows = [r for r in rows if any(c["id"] == category for c in categories_of(call.state, "customer", r["id"]))]
    answer = list_answer(rows, query, columns=lambda r: thirdparty_columns(call.state, r),
                         serialize=lambda r: serialize_thirdparty(call.state, r), what="thirdparties")
    data = answer["data"] if isinstance(answer, dict) else answer
    if not data:
        raise ApiError(404, "No third parties found")
    return answer


# ---- serialization ---------------------------------------------------------------------------
def blank_thirdparty() -> dict[str, Any]:
    """The all-null object ``GET /thirdparties/email`` answers for an ambiguous email."""
    out = shape("thirdparty")
    for key in out:
        out[key] = None
    out.update({"module": "societe", "array_options": [], "status": 1, "specimen": 0, "extraparams": [],
                "SupplierCategories": [], "tva_assuj": 1, "vat_reverse_charge": 0, "typent_id": 0,
                "effectif_id": 0, "forme_juridique_code": 0, "client": 0, "prospect": 0, "fournisseur": 0,
                "partnerships": [], "absolute_discount": "0", "absolute_creditnote": "0"})
    return out


def serialize_thirdparty(state: DolibarrState, row: Row) -> dict[str, Any]:
    """A thirdparty as ``GET /thirdparties/{id}`` prints it (string scalars)."""
    out = shape("thirdparty")
    country_id = row.get("country_id")
    currency = row.get("multicurrency_code") or ""
    currency_id = next((c["id"] for c in state.table("multicurrencies").values() if c.get("code") == currency), 0)
    out.update({
        "id": str(row["id"]), "array_options": array_options_out(state, "societe", row.get("array_options")),
        "ref": row.get("name"), "ref_ext": row.get("ref_ext"), "status": fmt_int(row.get("status", 1)),
        "country_id": fmt_int(country_id), "country_code": (country_by_id(country_id) or {}).get("code") or "",
        "state_id": fmt_int(row.get("state_id")),
        "mode_reglement_id": fmt_int(row.get("mode_reglement_id") or None),
        "cond_reglement_id": fmt_int(row.get("cond_reglement_id") or None),
        "fk_multicurrency": fmt_int(currency_id), "multicurrency_code": currency,
        "note_public": row.get("note_public"), "note_private": row.get("note_private"),
        "name": row.get("name"), "date_creation": row.get("datec"), "date_modification": modification_stamp(row),
        "user_creation_id": "1", "user_modification_id": "1",
        "name_alias": row.get("name_alias") or "", "phone": row.get("phone"), "phone_mobile": row.get("phone_mobile"),
        "fax": row.get("fax"), "email": row.get("email"), "url": row.get("url"), "barcode": row.get("barcode"),
        "idprof1": row.get("idprof1") or "", "idprof2": row.get("idprof2") or "", "idprof3": row.get("idprof3") or "",
        "idprof4": row.get("idprof4") or "", "idprof5": row.get("idprof5") or "", "idprof6": row.get("idprof6") or "",
        "tva_intra": row.get("tva_intra") or "", "typent_id": str(row.get("typent_id") or 0),
        "client": str(row.get("client") or 0), "fournisseur": str(row.get("fournisseur") or 0),
        "code_client": row.get("code_client"), "default_lang": row.get("default_lang"),
        "address": row.get("address") or "", "zip": row.get("zip"), "town": row.get("town"),
        "fk_account": "0", "model_pdf": "", "status_prospect_label": "Never contacted", "stcomm_id": "0",
        "fk_incoterms": "0", "fk_prospectlevel": "", "effectif": "", "forme_juridique": "", "birth": "",
        "tva_assuj": "1", "localtax1_assuj": "1" if state.setup.localtax1_on else "0",
        "localtax2_assuj": "1" if state.setup.localtax2_on else "0",
        "localtax1_value": "0.0000", "localtax2_value": "0.0000", "remise_percent": 0,
        "remise_supplier_percent": "0", "accountancy_code_sell": "", "accountancy_code_buy": "",
        "absolute_discount": "0", "absolute_creditnote": "0", "entity": "1", "module": "societe",
        "prospect": 0, "vat_reverse_charge": 0,
    })
    return out
