"""``/users``: the API user (``/users/info``) and plain user records.

Table ``users``: ``login``, ``lastname``, ``firstname``, ``email``, ``admin`` (0/1), ``statut``,
``employee``. The login an API key belongs to (``state.api_keys``) gets its row on first use;
``admin`` is created by ``DolibarrState.from_setup`` as user 1. Keys are never printed.
"""

from __future__ import annotations

from typing import Any

from dolisync.emulators.dolibarr.core import ApiError, Call, DolibarrRouter, ListQuery, as_int, as_str, list_answer
from dolisync.emulators.dolibarr.state import DolibarrState, Row

__all__ = ["register", "user_for_login"]


def user_for_login(state: DolibarrState, login: str) -> Row:
    """The user row of ``login`` (created, non-admin unless named ``admin``, when missing)."""
    for row in state.table("users").values():
        if row["login"] == login:
            return row
    row = {"login": login, "lastname": login, "firstname": "", "email": "", "admin": 1 if login == "admin" else 0,
           "statut": 1, "employee": 0}
    state.insert("users", row)
    return row


def _short(row: Row) -> dict[str, Any]:
    return {"id": str(row["id"]), "login": row["login"], "admin": str(row["admin"]),
            "entity": "0" if row["admin"] else "1", "statut": str(row["statut"]), "status": str(row["statut"]),
            "email": row.get("email") or "", "lastname": row.get("lastname") or "",
            "firstname": row.get("firstname") or "", "datelastlogin": ""}


def info(call: Call) -> Any:
    return _short(user_for_login(call.state, call.login))


def get_user(call: Call) -> Any:
    row = call.state.get("users", call.params["id"])
    if row is None:
        raise ApiError(404, "User not found")
    return _short(row)


def list_users(call: Call) -> Any:
    columns = lambda r: {"t.rowid": r["id"], "t.login": r["login"], "t.email": r.get("email"),  # noqa: E731
                         "t.lastname": r.get("lastname"), "t.admin": r["admin"], "t.statut": r["statut"]}
    return list_answer(call.state.table("users").values(), ListQuery.from_call(call), columns=columns,
                       serialize=_short, error_prefix="Error when retrieve User list")


def create_user(call: Call) -> int:
    body = call.body_dict()
    login = as_str(body.get("login"))
    if not login:
        raise ApiError(400, "login field missing")
    if any(r["login"] == login for r in call.state.table("users").values()):
        raise ApiError(500, "Error creating", "ErrorLoginAlreadyExists")
    return call.state.insert("users", {
        "login": login, "lastname": as_str(body.get("lastname"), "") or "", "firstname": as_str(body.get("firstname"), "") or "",
        "email": as_str(body.get("email"), "") or "", "admin": 1 if as_int(body.get("admin"), 0) else 0,
        "statut": 1, "employee": as_int(body.get("employee"), 0) or 0,
    })


def register(router: DolibarrRouter) -> None:
    """Routes of ``/users`` (reading your own record needs no right)."""
    router.add("GET", "/users/info", info)
    router.add("GET", "/users", list_users, perm="user.read")
    router.add("GET", "/users/{id:int}", get_user, perm="user.read")
    router.add("POST", "/users", create_user, perm="user.write", forbidden_text="Insufficiant rights")
