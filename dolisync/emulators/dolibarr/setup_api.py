"""``/status`` and ``/setup/...``: modules, company, conf, dictionaries, extrafields.

Also the extrafield helpers every area uses for ``array_options`` (API.md §2.1):

* :func:`array_options_out` — what a GET prints: ``[]`` when the element type has no
  extrafield, else ``{"options_<name>": value-or-None}`` for every defined field.
* :func:`array_options_in` — the stored values after a create/update body's ``array_options``
  (only defined fields are kept, like Dolibarr's ``setOptionalsFromPost``).
* :func:`extrafield_columns` — ``{"ef.<name>": value}`` for ``sqlfilters``.

Element types: ``product``, ``societe`` (thirdparty), ``commande`` (order), ``facture``,
``socpeople`` (contact), ``categorie``, ``entrepot``.
"""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from dolisync.emulators.dolibarr import cat_dictionaries as dicts
from dolisync.emulators.dolibarr.cat_templates import template
from dolisync.emulators.dolibarr.core import (
    ApiError, Call, DolibarrRouter, ListQuery, as_int, as_str, fmt_datetime, list_answer,
)
from dolisync.emulators.dolibarr.state import DolibarrState, Row

__all__ = ["register", "array_options_out", "array_options_in", "extrafield_columns", "extrafield_names",
           "note_extrafields_write", "modification_stamp"]

_ES_VAT = (("171", "0", "0", "3"), ("173", "4", "0.5", "3"), ("172", "10", "1.4", "3"), ("174", "21", "5.2", "3"))
_ES_NOTES = {"0": "VAT rate 0", "4": "VAT rate - super-reduced", "10": "VAT rate - reduced", "21": "VAT rate - standard"}


# ---- extrafields -----------------------------------------------------------------------------
def extrafield_names(state: DolibarrState, elementtype: str) -> list[str]:
    """Names of the extrafields defined on ``elementtype``, by position then creation."""
    rows = [r for r in state.table("extrafields").values() if r["elementtype"] == elementtype]
    rows.sort(key=lambda r: (as_int(r.get("pos"), 0), r["id"]))
    return [r["attrname"] for r in rows]


def note_extrafields_write(state: DolibarrState, elementtype: str, row: Row, given: Any, *, update: bool) -> None:
    """Remember that Dolibarr wrote the object's row of ``llx_<element>_extrafields``.

    Nothing is written while ``elementtype`` has no extrafield. A create writes the row when its body
    carries a non-empty ``array_options``; an update (the API fetches the object first, so its
    ``array_options`` holds every defined field) always does. See :func:`modification_stamp`.
    """
    if extrafield_names(state, elementtype) and (update or (isinstance(given, dict) and bool(given))):
        row["extrafields_row"] = True


def modification_stamp(row: Row) -> Any:
    """``date_modification`` of products, thirdparties and contacts.

    Dolibarr reads it as ``GREATEST(t.tms, ef.tms)``: NULL, printed ``""``, while the object has no
    extrafields row (checked on a real 23.0.0-beta without extrafields, and in the recorded samples).
    """
    return row.get("tms") if row.get("extrafields_row") else ""


def array_options_out(state: DolibarrState, elementtype: str, stored: dict[str, Any] | None) -> Any:
    """``array_options`` as a GET prints it (``[]`` when the type has no extrafield)."""
    names = extrafield_names(state, elementtype)
    if not names:
        return []
    values = stored or {}
    return {f"options_{name}": values.get(name) for name in names}


def array_options_in(state: DolibarrState, elementtype: str, given: Any,
                     current: dict[str, Any] | None = None) -> dict[str, Any]:
    """Merge a body's ``array_options`` into the stored values (unknown names dropped)."""
    values = dict(current or {})
    if not isinstance(given, dict):
        return values
    names = set(extrafield_names(state, elementtype))
    for key, value in given.items():
        name = str(key)[8:] if str(key).startswith("options_") else str(key)
        if name in names:
            values[name] = None if value is None else as_str(value, "")
    return values


def extrafield_columns(state: DolibarrState, elementtype: str, stored: dict[str, Any] | None) -> dict[str, Any]:
    """``{"ef.<name>": value}`` for sqlfilters (``None`` when unset)."""
    values = stored or {}
    return {f"ef.{name}": values.get(name) for name in extrafield_names(state, elementtype)}


def _extrafield_out(row: Row) -> dict[str, Any]:
    out = template("extrafield")
    out.update({
        "id": str(row["id"]), "type": row["type"], "label": row["label"], "size": row["size"],
        "elementtype": row["elementtype"], "default": row.get("default") or None,
        "computed": row.get("computed") or None, "unique": str(as_int(row.get("unique"), 0)),
        "required": str(as_int(row.get("required"), 0)), "param": row.get("param") or "",
        "pos": str(as_int(row.get("pos"), 0)), "alwayseditable": str(as_int(row.get("alwayseditable"), 0)),
        "perms": row.get("perms") or None, "list": str(row.get("list") or "1"),
        "printable": str(as_int(row.get("printable"), 0)), "totalizable": str(as_int(row.get("totalizable"), 0)),
        "langs": row.get("langfile") or None, "help": row.get("help") or None,
        "datec": fmt_datetime(row["datec"]), "tms": fmt_datetime(row["datec"]),
    })
    return out


def list_extrafields(call: Call) -> Any:
    wanted = call.query.get("elementtype")
    grouped: dict[str, dict[str, Any]] = {}
    for row in sorted(call.state.table("extrafields").values(), key=lambda r: r["id"]):
        if wanted and row["elementtype"] != wanted:
            continue
        grouped.setdefault(row["elementtype"], {})[row["attrname"]] = _extrafield_out(row)
    return grouped or []


def create_extrafield(call: Call) -> int:
    elementtype = call.params["elementtype"]
    name = call.params["attrname"]
    body = call.body_dict()
    for row in call.state.table("extrafields").values():
        if row["elementtype"] == elementtype and row["attrname"] == name:
            raise ApiError(409, "Duplicate extrafield already found from attrname and elementtype")
    if not body.get("label") or not body.get("type"):
        raise ApiError(400, "label and type fields are required")
    row = {"elementtype": elementtype, "attrname": name, "label": as_str(body["label"]),
           "type": as_str(body["type"]), "size": as_str(body.get("size"), "") or "",
           "datec": call.state.now()}
    for key in ("pos", "required", "unique", "alwayseditable", "list", "perms", "param", "default",
                "totalizable", "printable", "langfile", "computed", "help"):
        row[key] = body.get(key)
    return call.state.insert("extrafields", row)


def delete_extrafield(call: Call) -> Any:
    table = call.state.table("extrafields")
    for row_id, row in list(table.items()):
        if row["elementtype"] == call.params["elementtype"] and row["attrname"] == call.params["attrname"]:
            del table[row_id]
            return {"success": {"code": 200, "message": "Extrafield deleted from attrname and elementtype"}}
    raise ApiError(404, "Extrafield not found from attrname and elementtype")


# ---- status, modules, company, conf ----------------------------------------------------------
def status(call: Call) -> Any:
    now = call.state.now()
    return {"success": {
        "code": 200, "dolibarr_version": call.state.setup.dolibarr_version, "access_locked": "0",
        "environment": "non-production", "timestamp_now_utc": now, "timestamp_php_tz": "UTC",
        "date_tz": datetime.fromtimestamp(now, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S"),
    }}


def modules(call: Call) -> Any:
    return call.state.modules()


def modules_status(call: Call) -> Any:
    recorded = template("modules_status")
    out: dict[str, Any] = {}
    for key in call.state.modules():
        upper = {"propal": "PROPALE"}.get(key, key.upper())
        out[upper] = recorded.get(upper) or {"modName": f"mod{key.capitalize()}", "origin": "core", "active": "1",
                                             "publisher": "", "version": "dolibarr"}
    return out


def company(call: Call) -> Any:
    setup = call.state.setup
    out = template("company")
    country = dicts.find_country(country_id=setup.country_id) or {}
    out.update({"name": setup.company_name, "country_id": setup.country_id,
                "country_code": country.get("code", setup.country_code), "currency_code": setup.currency,
                "localtax1_assuj": 1 if setup.localtax1_on else 0, "localtax2_assuj": 1 if setup.localtax2_on else 0})
    return out


def conf(call: Call) -> Any:
    setup = call.state.setup
    name = call.params["constantname"]
    country = dicts.find_country(country_id=setup.country_id) or {"code": setup.country_code, "label": ""}
    values = {
        "MAIN_MONNAIE": setup.currency, "MAIN_INFO_SOC_NOM": setup.company_name,
        "MAIN_INFO_SOCIETE_COUNTRY": f"{setup.country_id}:{country['code']}:{country['label']}",
        "FACTURE_LOCAL_TAX1_OPTION": "localtax1on" if setup.localtax1_on else "",
        "FACTURE_LOCAL_TAX2_OPTION": "localtax2on" if setup.localtax2_on else "",
        "PRODUCT_PRICE_UNIQ": "1", "MAIN_VERSION_LAST_UPGRADE": setup.dolibarr_version,
    }
    if name not in values:
        raise ApiError(404, "Configuration not found")
    return values[name]


# ---- dictionaries -----------------------------------------------------------------------------
def _strip_zeros(value: str) -> str:
    text = str(Decimal(str(value)).normalize()) if value not in ("", None) else "0"
    return "0" if text in ("-0", "0E+1") else (str(int(Decimal(text))) if Decimal(text) == Decimal(text).to_integral() else text)


def _vat_rows(state: DolibarrState, country_id: int) -> list[dict[str, Any]]:
    if country_id == state.setup.country_id:
        rows = []
        for index, rate in enumerate(state.vat_rates()):
            rows.append({"rowid": str(1000 + index), "code": rate.code, "type_vat": "0", "active": str(rate.active),
                         "fk_pays": str(country_id), "taux": _strip_zeros(rate.rate),
                         "localtax1": rate.localtax1, "localtax2": rate.localtax2,
                         "localtax1_type": rate.localtax1_type, "localtax2_type": rate.localtax2_type,
                         "note": rate.note})
        return rows
    if country_id == 4:
        return [{"rowid": rid, "code": "", "type_vat": "0", "active": "1", "fk_pays": "4", "taux": taux,
                 "localtax1": lt1, "localtax2": "-19:-15:-9", "localtax1_type": lt1t, "localtax2_type": "5",
                 "note": _ES_NOTES[taux]} for rid, taux, lt1, lt1t in _ES_VAT]
    return []


_NUMERIC_COLUMNS = frozenset({"rowid", "id", "sortorder", "position", "scale", "nbjour", "type_cdr", "active",
                              "fk_pays", "type_vat"})


def _dictionary(call: Call, rows: list[dict[str, Any]], default_sort: str, what: str,
                hidden: tuple[str, ...] = ()) -> Any:
    query = ListQuery.from_call(call)

    def columns(row: dict[str, Any]) -> dict[str, Any]:
        cols = {f"t.{k}": (as_int(v, None) if k in _NUMERIC_COLUMNS else v) for k, v in row.items()}
        if "t.code" in cols and "t.element" not in cols and "t.type" in cols:
            cols["t.element"] = row["type"]
        if "t.id" in cols:
            cols.setdefault("t.rowid", row["id"])
        if "t.rowid" in cols:
            cols["t.rowid"] = as_int(cols["t.rowid"])
            cols.setdefault("t.id", cols["t.rowid"])
        if "t.taux" in cols:
            cols["t.taux"] = Decimal(str(row["taux"]))
        return cols

    def serialize(row: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in row.items() if k not in hidden} if hidden else row

    return list_answer(rows, query, columns=columns, serialize=serialize, default_sort=default_sort,
                       error_prefix=f"Error when retrieving list of {what}")


def dict_countries(call: Call) -> Any:
    return _dictionary(call, dicts.countries(), "t.code", "countries")


def _country_or_404(row: dict[str, Any] | None) -> Any:
    if row is None:
        raise ApiError(404, "country not found")
    return row


def dict_country_by_id(call: Call) -> Any:
    return _country_or_404(dicts.find_country(country_id=call.params["id"]))


def dict_country_by_code(call: Call) -> Any:
    return _country_or_404(dicts.find_country(code=call.params["code"]))


def dict_country_by_iso(call: Call) -> Any:
    return _country_or_404(dicts.find_country(iso=call.params["iso"]))


def dict_states(call: Call) -> Any:
    country = call.qint("country")
    rows = [r for r in dicts.states() if country is None or r["fk_country"] == country]
    return _dictionary(call, rows, "t.code", "states", hidden=("fk_country",))


def dict_vat(call: Call) -> Any:
    country = call.qint("fk_country", call.state.setup.country_id)
    rows = _vat_rows(call.state, country if country is not None else call.state.setup.country_id)
    return _dictionary(call, rows, "t.taux", "vat")


def dict_currencies(call: Call) -> Any:
    rows = dicts.currencies()
    if call.qbool("multicurrency"):
        enabled: dict[str, dict[str, Any]] = {}
        rates = sorted(call.state.table("multicurrency_rates").values(), key=lambda r: r["id"])
        for cur in call.state.table("multicurrencies").values():
            last = [r for r in rates if r["fk_multicurrency"] == cur["id"]]
            if last:
                enabled[cur["code"]] = last[-1]
        rows = [dict(r, date_sync=fmt_datetime(enabled[r["code_iso"]]["date_sync"]),
                     rate=_strip_zeros(str(enabled[r["code_iso"]]["rate"])))
                for r in rows if r["code_iso"] in enabled]
    return _dictionary(call, rows, "t.code_iso", "currency")


def _simple(rows_factory: Any, sort: str, what: str) -> Any:
    def handler(call: Call) -> Any:
        return _dictionary(call, rows_factory(), sort, what)
    return handler


def register(router: DolibarrRouter) -> None:
    """Routes of ``/status`` and ``/setup``."""
    router.add("GET", "/status", status)
    router.add("GET", "/setup/modules", modules, perm="admin", forbidden_text="Admin access required")
    router.add("GET", "/setup/modules/status/{status}", modules_status, perm="admin")
    router.add("GET", "/setup/company", company)
    router.add("GET", "/setup/conf/{constantname}", conf, perm="admin")
    router.add("GET", "/setup/extrafields", list_extrafields, perm="admin")
    router.add("POST", "/setup/extrafields/{elementtype}/{attrname}", create_extrafield, perm="admin")
    router.add("DELETE", "/setup/extrafields/{elementtype}/{attrname}", delete_extrafield, perm="admin")
    router.add("GET", "/setup/dictionary/countries", dict_countries)
    router.add("GET", "/setup/dictionary/countries/{id:int}", dict_country_by_id)
    router.add("GET", "/setup/dictionary/countries/byCode/{code}", dict_country_by_code)
    router.add("GET", "/setup/dictionary/countries/byISO/{iso}", dict_country_by_iso)
    router.add("GET", "/setup/dictionary/states", dict_states)
    router.add("GET", "/setup/dictionary/vat", dict_vat)
    router.add("GET", "/setup/dictionary/currencies", dict_currencies)
    router.add("GET", "/setup/dictionary/payment_types", _simple(dicts.payment_types, "t.code", "payment types"))
    router.add("GET", "/setup/dictionary/payment_terms", _simple(dicts.payment_terms, "t.sortorder", "payment terms"))
    router.add("GET", "/setup/dictionary/shipping_methods", _simple(dicts.shipping_methods, "t.rowid", "shipping methods"))
    router.add("GET", "/setup/dictionary/units", _simple(dicts.units, "t.rowid", "units"))
    router.add("GET", "/setup/dictionary/civilities", _simple(dicts.civilities, "t.code", "civility"))
    router.add("GET", "/setup/dictionary/contact_types", _simple(dicts.contact_types, "t.code", "contacts types"))
