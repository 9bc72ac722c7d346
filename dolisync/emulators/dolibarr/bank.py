"""``/bankaccounts``: bank accounts, their lines and balance (API.md §6.3).

``POST`` requires ``ref, label, type, currency_code, country_id`` (400 "<field> field missing")
and writes the initial-balance line; each payment writes one line (:func:`add_bank_line`).
``GET /bankaccounts/{id}/balance`` is a bare number.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from dolisync.emulators.dolibarr.com_common import country_by_id, day_of, parse_date, require, shape
from dolisync.emulators.dolibarr.core import (
    ApiError, Call, DolibarrRouter, ListQuery, as_decimal, as_int, as_str, fmt_amount, fmt_int, list_answer,
)
from dolisync.emulators.dolibarr.state import DolibarrState, Row

__all__ = ["register", "add_bank_line", "get_account_row", "serialize_account", "balance_of"]


def register(router: DolibarrRouter) -> None:
    """Routes of ``/bankaccounts``."""
    router.add("GET", "/bankaccounts", list_accounts, perm="banque.lire")
    router.add("POST", "/bankaccounts", create_account, perm="banque.configurer")
    router.add("GET", "/bankaccounts/{id:int}", get_account, perm="banque.lire")
    router.add("GET", "/bankaccounts/{id:int}/lines", get_lines, perm="banque.lire")
    router.add("GET", "/bankaccounts/{id:int}/balance", get_balance, perm="banque.lire")


def get_account_row(state: DolibarrState, account_id: int) -> Row:
    """The account row or 404."""
    row = state.get("bankaccounts", account_id)
    if row is None:
        raise ApiError(404, "account not found")
    return row


def add_bank_line(state: DolibarrState, account_id: int, amount: Decimal, label: str, type_code: str, *,
                  when: int, num_chq: str | None = None, emetteur: str | None = None) -> int:
    """Write one bank line (a payment or the initial balance) and return its id."""
    return state.insert("banklines", {
        "fk_account": account_id, "amount": amount, "label": label, "fk_type": type_code, "datec": state.now(),
        "dateo": day_of(when), "datev": day_of(when), "num_chq": num_chq, "emetteur": emetteur,
    })


def create_account(call: Call) -> int:
    """``POST /bankaccounts`` -> id."""
    body = call.body_dict()
    require(body, ("ref", "label", "type", "currency_code", "country_id"))
    state = call.state
    now = state.now()
    row: Row = {
        "ref": as_str(body["ref"]), "label": as_str(body["label"]), "type": as_int(body["type"], 1),
        "currency_code": str(body["currency_code"]).upper(), "country_id": as_int(body["country_id"], None),
        "bank": as_str(body.get("bank"), "") or "", "iban": as_str(body.get("iban"), "") or "",
        "bic": as_str(body.get("bic"), "") or "", "clos": 0, "datec": now, "comment": as_str(body.get("comment"), ""),
        "min_allowed": as_str(body.get("min_allowed"), "0"), "min_desired": as_str(body.get("min_desired"), "0"),
    }
    account_id = state.insert("bankaccounts", row)
    when = parse_date(body.get("date_solde")) or now
    add_bank_line(state, account_id, as_decimal(body.get("solde")), "(InitialBankBalance)", "SOLD", when=when)
    return account_id


def balance_of(state: DolibarrState, account_id: int) -> Decimal:
    """Sum of the account's lines."""
    total = Decimal(0)
    for line in state.table("banklines").values():
        if line["fk_account"] == account_id:
            total += line["amount"]
    return total


def get_balance(call: Call) -> Decimal:
    """``GET /bankaccounts/{id}/balance`` -> a bare number."""
    account = get_account_row(call.state, call.params["id"])
    return balance_of(call.state, account["id"])


def serialize_account(state: DolibarrState, row: Row) -> dict[str, Any]:
    """An account as ``GET /bankaccounts/{id}`` prints it."""
    out = shape("bankaccount")
    country = country_by_id(row.get("country_id"))
    currency = row.get("currency_code") or state.setup.currency
    out.update({
        "id": str(row["id"]), "ref": row.get("ref"), "status": str(row.get("clos") or 0),
        "country_id": fmt_int(row.get("country_id")), "country_code": country["code"] if country else None,
        "date_creation": row.get("datec"), "date_modification": row.get("datec"), "label": row.get("label"),
        "courant": str(row.get("type", 1)), "type": str(row.get("type", 1)), "bank": row.get("bank") or "",
        "clos": str(row.get("clos") or 0), "rappro": "1", "code_banque": "", "code_guichet": "", "number": "",
        "cle_rib": "", "bic": row.get("bic") or "", "iban": row.get("iban") or "", "pti_in_ctti": "0",
        "proprio": "", "owner_name": "", "owner_address": "", "owner_zip": "", "owner_town": "", "address": "",
        "type_lib": ["BankType0", "BankType1", "BankType2"], "account_number": "", "currency_code": currency,
        "account_currency_code": currency, "min_allowed": str(row.get("min_allowed") or "0"),
        "min_desired": str(row.get("min_desired") or "0"), "comment": row.get("comment") or "", "balance": 0,
        "ics": "", "ics_transfer": "",
    })
    return out


def _columns(row: Row) -> dict[str, Any]:
    return {"t.rowid": row["id"], "t.ref": row.get("ref"), "t.label": row.get("label"),
            "t.currency_code": row.get("currency_code"), "t.clos": row.get("clos"), "t.entity": 1}


def list_accounts(call: Call) -> Any:
    """``GET /bankaccounts`` (``[]`` when none)."""
    state = call.state
    return list_answer(state.table("bankaccounts").values(), ListQuery.from_call(call), columns=_columns,
                       serialize=lambda r: serialize_account(state, r), what="bank account")


def get_account(call: Call) -> dict[str, Any]:
    """``GET /bankaccounts/{id}``."""
    return serialize_account(call.state, get_account_row(call.state, call.params["id"]))


def get_lines(call: Call) -> list[dict[str, Any]]:
    """``GET /bankaccounts/{id}/lines``: every line of the account, oldest first."""
    state = call.state
    account = get_account_row(state, call.params["id"])
    out: list[dict[str, Any]] = []
    for line in sorted(state.table("banklines").values(), key=lambda r: r["id"]):
        if line["fk_account"] != account["id"]:
            continue
        item = shape("bankline")
        item.update({
            "id": str(line["id"]), "ref": str(line["id"]), "fk_account": str(account["id"]), "datec": line["datec"],
            "dateo": line["dateo"], "datev": line["datev"], "amount": fmt_amount(line["amount"]),
            "fk_user_author": "1", "fk_type": line["fk_type"], "fk_bordereau": "0",
            "bank_account_ref": account.get("ref"), "bank_account_label": account.get("label"),
            "emetteur": line.get("emetteur"), "rappro": 0, "num_chq": line.get("num_chq"), "label": line["label"],
        })
        out.append(item)
    return out
