"""``/contacts``: contacts / addresses of thirdparties (API.md §5.2).

Create requires ``lastname`` (400 "lastname field missing"); ``GET /contacts/{id}``,
``/contacts/email/{email}``, list with ``thirdparty_ids`` (``[]`` when empty), ``PUT`` answers
the full object (with ``trackid``), ``DELETE``. Trigger: ``CONTACT_CREATE``. Checked on a real
23.0.0-beta: emails are stored lowercased; unset ``firstname``/``address``/``zip``/``town``/
``civility*``/``country_code`` read back as ``""``; no ``gender`` member without a civility.
"""

from __future__ import annotations

from typing import Any

from dolisync.emulators.dolibarr.cat_dictionaries import civilities
from dolisync.emulators.dolibarr.com_common import (
    caller_context, country_by_code, country_by_id, fire, require, shape,
)
from dolisync.emulators.dolibarr.core import (
    ApiError, Call, DolibarrRouter, ListQuery, as_int, as_str, fmt_int, list_answer, success,
)
from dolisync.emulators.dolibarr.setup_api import (
    array_options_in, array_options_out, extrafield_columns, modification_stamp, note_extrafields_write,
)
from dolisync.emulators.dolibarr.state import DolibarrState, Row

__all__ = ["register", "serialize_contact", "contact_columns"]

_TEXT_FIELDS = ("lastname", "firstname", "email", "address", "zip", "town", "phone_pro", "phone_perso",
                "phone_mobile", "fax", "civility_code", "ref_ext", "default_lang", "poste", "note_private",
                "note_public", "birthday")
_CIVILITY_EN = {"MME": ("Mrs.", "woman"), "MR": ("Mr.", "man"), "MLE": ("Miss", "woman"), "DR": ("Doctor", ""),
                "MTRE": ("Master", "")}


def register(router: DolibarrRouter) -> None:
    """Routes of ``/contacts``."""
    router.add("GET", "/contacts", list_contacts, perm="societe.contact.lire")
    router.add("POST", "/contacts", create_contact, perm="societe.contact.creer")
    router.add("GET", "/contacts/{id:int}", get_contact, perm="societe.contact.lire")
    router.add("PUT", "/contacts/{id:int}", update_contact, perm="societe.contact.creer")
    router.add("DELETE", "/contacts/{id:int}", delete_contact, perm="societe.contact.supprimer")
    router.add("GET", "/contacts/email/{email}", get_by_email, perm="societe.contact.lire")


def _apply_body(state: DolibarrState, row: Row, body: dict[str, Any]) -> None:
    for name in _TEXT_FIELDS:
        if name in body:
            row[name] = as_str(body[name])
    if row.get("email"):  # Dolibarr lowercases every email it stores (CommonPeople::setUpperOrLowerCase)
        row["email"] = str(row["email"]).lower()
    if "socid" in body:
        row["socid"] = as_int(body["socid"], None)
    for name in ("statut", "status"):
        if name in body:
            row["statut"] = as_int(body[name], 1)
    if body.get("country_code") not in (None, ""):
        country = country_by_code(body["country_code"])
        if country is None:
            raise ApiError(404, "Country code not found in database: ")
        row["country_id"] = country["id"]
    elif "country_id" in body:
        row["country_id"] = as_int(body["country_id"], None)
    if "array_options" in body:
        row["array_options"] = array_options_in(state, "socpeople", body["array_options"], row.get("array_options"))


def create_contact(call: Call) -> int:
    """``POST /contacts`` -> the new id."""
    body = call.body_dict()
    require(body, ("lastname",))
    state = call.state
    now = state.now()
    row: Row = {"statut": 1, "array_options": {}, "datec": now, "tms": None, "socid": None, "country_id": None,
                "email": None, "address": None, "zip": None, "town": None}
    _apply_body(state, row, body)
    note_extrafields_write(state, "socpeople", row, body.get("array_options"), update=False)
    new_id = state.insert("contacts", row)
    fire(state, "CONTACT_CREATE", row, caller_context(body), undo=lambda: state.delete("contacts", new_id))
    return new_id


def _get_row(call: Call) -> Row:
    row = call.state.get("contacts", call.params["id"])
    if row is None:
        raise ApiError(404, "Contact not found")
    return row


def get_contact(call: Call) -> dict[str, Any]:
    """``GET /contacts/{id}``."""
    return serialize_contact(call.state, _get_row(call))


def get_by_email(call: Call) -> dict[str, Any]:
    """``GET /contacts/email/{email}`` (first match; 404 when none)."""
    email = str(call.params["email"]).strip().lower()
    for row in call.state.table("contacts").values():
        if str(row.get("email") or "").lower() == email:
            return serialize_contact(call.state, row)
    raise ApiError(404, "Contact not found")


def update_contact(call: Call) -> dict[str, Any]:
    """``PUT /contacts/{id}`` -> the full object (with ``trackid``, without ``gender``)."""
    row = _get_row(call)
    _apply_body(call.state, row, call.body_dict())
    note_extrafields_write(call.state, "socpeople", row, None, update=True)
    row["tms"] = call.state.now()
    row["photo"] = row.get("photo") or ""  # written back as "" by the update
    out = serialize_contact(call.state, row)
    out.pop("actiontypecode", None)
    out.pop("gender", None)
    out["civility_code"] = out["civility_code"] or ""
    out["civility"] = out["civility"] or ""
    out["photo"] = out["photo"] or ""
    out["trackid"] = f"ctc{row['id']}"
    return out


def delete_contact(call: Call) -> dict[str, Any]:
    """``DELETE /contacts/{id}``."""
    row = _get_row(call)
    call.state.delete("contacts", row["id"])
    return success("Contact deleted")


def contact_columns(state: DolibarrState, row: Row) -> dict[str, Any]:
    """DB columns for ``sqlfilters``/``sortfield``."""
    columns = {"t.rowid": row["id"], "t.lastname": row.get("lastname"), "t.firstname": row.get("firstname"),
               "t.email": row.get("email"), "t.ref_ext": row.get("ref_ext"), "t.fk_soc": row.get("socid"),
               "t.statut": row.get("statut"), "t.zip": row.get("zip"), "t.town": row.get("town"),
               "t.datec": row.get("datec"), "t.tms": row.get("tms"), "t.entity": 1}
    columns.update(extrafield_columns(state, "socpeople", row.get("array_options")))
    return columns


def list_contacts(call: Call) -> Any:
    """``GET /contacts`` (``thirdparty_ids``, ``category``, common list parameters)."""
    query = ListQuery.from_call(call)
    rows = list(call.state.table("contacts").values())
    ids_text = call.query.get("thirdparty_ids")
    if ids_text:
        wanted = {as_int(part, None) for part in ids_text.split(",")}
        rows = [r for r in rows if r.get("socid") in wanted]
    return list_answer(rows, query, columns=lambda r: contact_columns(call.state, r),
                       serialize=lambda r: serialize_contact(call.state, r), what="contacts")


def serialize_contact(state: DolibarrState, row: Row) -> dict[str, Any]:
    """A contact as ``GET /contacts/{id}`` prints it."""
    out = shape("contact")
    thirdparty = state.get("thirdparties", row["socid"]) if row.get("socid") else None
    country = country_by_id(row.get("country_id"))
    civility_code = row.get("civility_code")
    civility, gender = _CIVILITY_EN.get(str(civility_code or ""), ("", ""))
    if civility_code and civility_code not in {c["code"] for c in civilities()}:
        civility, gender = "", ""
    email = row.get("email")
    out.update({
        "id": str(row["id"]), "entity": "1", "array_options": array_options_out(state, "socpeople", row.get("array_options")),
        "ref": str(row["id"]), "ref_ext": row.get("ref_ext"), "statut": fmt_int(row.get("statut", 1)),
        "status": fmt_int(row.get("statut", 1)), "country_id": fmt_int(row.get("country_id")),
        "country_code": country["code"] if country else "", "note_public": row.get("note_public"),
        "note_private": row.get("note_private"), "lastname": row.get("lastname"),
        "firstname": row.get("firstname") or "", "civility_code": civility_code or "",
        "date_creation": row.get("datec"),
        "date_modification": modification_stamp(row), "user_creation_id": "1",
        "user_modification_id": "1", "civility": civility or "", "gender": gender or None,
        "photo": row.get("photo"),
        "name_alias": thirdparty.get("name_alias") or "" if thirdparty else "",
        "address": row.get("address") or "", "zip": row.get("zip") or "", "town": row.get("town") or "",
        "poste": row.get("poste") or "",
        "socid": fmt_int(row.get("socid")), "fk_soc": fmt_int(row.get("socid")),
        "socname": thirdparty.get("name") if thirdparty else None, "email": email or "", "mail": email or "",
        "phone_pro": row.get("phone_pro") or "", "phone_perso": row.get("phone_perso") or "",
        "phone_mobile": row.get("phone_mobile") or "", "fax": row.get("fax") or "", "priv": "0",
        "birthday": row.get("birthday") or "", "default_lang": row.get("default_lang"),
        "fk_prospectlevel": "", "stcomm_id": "0", "statut_commercial": "Never contacted",
    })
    if not gender:  # the real one has no ``gender`` member at all without a civility
        out.pop("gender", None)
    return out
