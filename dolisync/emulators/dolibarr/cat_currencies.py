"""``/multicurrencies``: enabled currencies and their rate history.

Tables ``multicurrencies`` (``code``, ``name``, ``datec``) and ``multicurrency_rates``
(``fk_multicurrency``, ``rate`` Decimal, ``date_sync``). A rate is units of the currency per 1
company currency. Reads print strings; ``PUT /{id}/rates`` prints the new rate natively.
"""

from __future__ import annotations

from typing import Any

from dolisync.emulators.dolibarr.catalog import num_str
from dolisync.emulators.dolibarr.core import (
    ApiError, Call, DolibarrRouter, ListQuery, as_decimal, as_str, fmt_datetime, list_answer, success,
)
from dolisync.emulators.dolibarr.state import DolibarrState, Row

__all__ = ["register", "latest_rate", "currency_by_code"]


def _rates(state: DolibarrState, currency_id: int) -> list[Row]:
    return sorted((r for r in state.table("multicurrency_rates").values() if r["fk_multicurrency"] == currency_id),
                  key=lambda r: r["id"])


def latest_rate(state: DolibarrState, currency_id: int) -> Row | None:
    """The newest rate row of a currency, or ``None``."""
    rates = _rates(state, currency_id)
    return rates[-1] if rates else None


def currency_by_code(state: DolibarrState, code: str) -> Row | None:
    """The enabled currency with ISO ``code`` or ``None``."""
    for row in state.table("multicurrencies").values():
        if row["code"].upper() == code.upper():
            return row
    return None


def _out(state: DolibarrState, row: Row) -> dict[str, Any]:
    rate = latest_rate(state, row["id"])
    return {"id": str(row["id"]), "name": row["name"], "code": row["code"],
            "rate": None if rate is None else {"id": str(rate["id"]), "rate": num_str(rate["rate"]),
                                              "date_sync": rate["date_sync"]}}


def _or_404(state: DolibarrState, currency_id: int) -> Row:
    row = state.get("multicurrencies", currency_id)
    if row is None:
        raise ApiError(404, "Currency not found")
    return row


def list_currencies(call: Call) -> Any:
    columns = lambda r: {"t.rowid": r["id"], "t.code": r["code"], "t.name": r["name"],  # noqa: E731
                         "t.date_create": fmt_datetime(r["datec"])}
    return list_answer(call.state.table("multicurrencies").values(), ListQuery.from_call(call), columns=columns,
                       serialize=lambda r: _out(call.state, r), error_prefix="Error when retrieve currencies list")


def get_currency(call: Call) -> Any:
    return _out(call.state, _or_404(call.state, call.params["id"]))


def get_by_code(call: Call) -> Any:
    row = currency_by_code(call.state, call.params["code"])
    if row is None:
        raise ApiError(404, "Currency not found")
    return _out(call.state, row)


def create_currency(call: Call) -> int:
    body = call.body_dict()
    code = (as_str(body.get("code"), "") or "").upper()
    if not code:
        raise ApiError(400, "code field missing")
    state = call.state
    if currency_by_code(state, code) is not None:
        raise ApiError(500, "Error creating currency", None, "multicurrency_code_already_added")
    now = state.now()
    currency_id = state.insert("multicurrencies", {"code": code, "name": as_str(body.get("name"), code), "datec": now})
    state.insert("multicurrency_rates", {"fk_multicurrency": currency_id,
                                         "rate": as_decimal(body.get("rate"), None) or 1, "date_sync": now})
    return currency_id


def update_currency(call: Call) -> Any:
    row = _or_404(call.state, call.params["id"])
    body = call.body_dict()
    if as_str(body.get("name")):
        row["name"] = as_str(body["name"])
    return _out(call.state, row)


def delete_currency(call: Call) -> Any:
    row = _or_404(call.state, call.params["id"])
    call.state.delete("multicurrencies", row["id"])
    return success("Currency deleted")


def list_rates(call: Call) -> Any:
    _or_404(call.state, call.params["id"])
    return [{"id": str(r["id"]), "rate": num_str(r["rate"]), "date_sync": r["date_sync"]}
            for r in _rates(call.state, call.params["id"])]


def add_rate(call: Call) -> Any:
    state = call.state
    row = _or_404(state, call.params["id"])
    body = call.body_dict()
    if body.get("rate") in (None, ""):
        raise ApiError(400, "rate field missing")
    rate = as_decimal(body["rate"])
    now = state.now()
    rate_id = state.insert("multicurrency_rates", {"fk_multicurrency": row["id"], "rate": rate, "date_sync": now})
    return {"id": str(row["id"]), "name": row["name"], "code": row["code"],
            "rate": {"id": rate_id, "rate": rate, "date_sync": now}}


def register(router: DolibarrRouter) -> None:
    """Routes of ``/multicurrencies``."""
    router.add("GET", "/multicurrencies", list_currencies, perm="multicurrency.read")
    router.add("POST", "/multicurrencies", create_currency, perm="multicurrency.write")
    router.add("GET", "/multicurrencies/{id:int}", get_currency, perm="multicurrency.read")
    router.add("PUT", "/multicurrencies/{id:int}", update_currency, perm="multicurrency.write")
    router.add("DELETE", "/multicurrencies/{id:int}", delete_currency, perm="multicurrency.write")
    router.add("GET", "/multicurrencies/bycode/{code}", get_by_code, perm="multicurrency.read")
    router.add("GET", "/multicurrencies/{id:int}/rates", list_rates, perm="multicurrency.read")
    router.add("PUT", "/multicurrencies/{id:int}/rates", add_rate, perm="multicurrency.write")
