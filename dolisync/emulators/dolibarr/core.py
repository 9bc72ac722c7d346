"""Shared machinery of the Dolibarr emulator: routing, answers, errors, type formatting, lists.

How to add an area module
-------------------------
Create ``dolisync/emulators/dolibarr/<area>.py`` with a ``register`` function, and add its
name to ``app.AREA_MODULES`` (already listed for every planned area)::

    from dolisync.emulators.dolibarr.core import ApiError, Call, DolibarrRouter, fmt_amount

    def register(router: DolibarrRouter) -> None:
        router.add("GET", "/orders/{id:int}", get_order, perm="commande.read")
        router.add("POST", "/orders", create_order, perm="commande.write")

    def get_order(call: Call) -> object:
        row = call.state.get("orders", call.params["id"])
        if row is None:
            raise ApiError(404, "Order not found")
        return {"id": str(row["id"]), "total_ttc": fmt_amount(row["total_ttc"])}

* Patterns: literal segments, ``{name}`` (any one segment, ``str``) and ``{name:int}`` (digits,
  leading zeros allowed, converted to ``int``; anything else answers 400 "invalid value
  specified for `name`" when no other route matches). When several routes match, the one with
  the most literal segments wins, so ``/products/attributes/{id:int}`` beats ``/products/{id:int}/{x}``.
* The first path segment is the *resource*; a path whose resource no module registered answers
  501 plain text, like Dolibarr's "API not found (failed to include API file)".
* A handler takes a :class:`Call` and returns either a Starlette ``Response`` (sent as is) or
  any JSON-able value (sent as 200 JSON; ``Decimal`` becomes a JSON number). It may be sync or
  ``async``. Raise :class:`ApiError` for the error envelope, return :func:`not_modified` for 304.
* ``call.body`` is the parsed JSON body (``None`` when empty; malformed JSON already answered
  400); ``call.body_dict()`` insists on an object. ``call.query`` are the query parameters.
* ``perm`` names a right (``"produit.read"`` ...). Logins without an entry in
  ``state.user_rights`` have every right; a listed login needs the right or gets 403
  (``forbidden_text`` picks the message, e.g. "Insufficiant rights" on writes).
* Read answers use strings for scalars: :func:`fmt_amount` (8 decimals), :func:`fmt_rate`
  (4 decimals), :func:`fmt_int`, :func:`fmt_str`; action answers use native types.
* Lists: :func:`list_answer` applies ``sqlfilters``, ``sortfield``/``sortorder``, ``limit``/``page``,
  ``properties`` and ``pagination_data`` given a function that exposes a row's DB columns
  (``{"t.rowid": 1, "t.ref": "X", "ef.ps_id": "42"}``) and a serializer.
"""

from __future__ import annotations

import html
import inspect
import json
import math
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from dolisync.emulators.dolibarr.state import DolibarrState, Row

__all__ = [
    "ApiError", "Call", "DolibarrRouter", "Route", "ListQuery",
    "api_error", "json_response", "not_modified", "waf_refusal", "api_not_found", "success",
    "fmt_amount", "fmt_rate", "fmt_int", "fmt_str", "fmt_decimal", "fmt_datetime", "fmt_bool",
    "as_int", "as_decimal", "as_bool", "as_str", "list_answer", "filter_properties",
    "JSON_TYPE", "STAGES_CALL", "STAGES_ROUTE", "STAGES_AUTH", "STAGES_SETUP",
]

JSON_TYPE = "application/json; charset=utf-8"
_CORS = {"access-control-allow-origin": "*"}

STAGES_SETUP = {"success": [], "failure": ["get", "route", "negotiate", "message"]}
STAGES_ROUTE = {"success": ["get"], "failure": ["route", "negotiate", "message"]}
STAGES_AUTH = {"success": ["get", "route", "negotiate"], "failure": ["authenticate", "message"]}
STAGES_CALL = {"success": ["get", "route", "negotiate", "authenticate", "validate"], "failure": ["call", "message"]}

_REASONS = {
    400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
    405: "Method Not Allowed", 406: "Not Acceptable", 409: "Conflict",
    500: "Internal Server Error", 501: "Not Implemented", 503: "Service Unavailable",
}


# ---- errors and raw answers ---------------------------------------------------------------
class ApiError(Exception):
    """A Restler error: answered as ``{"error": {"code", "message", "0".."n"}, "debug"?}``.

    ``text`` follows the reason phrase (``"Not Found: Product not found"``); an empty text
    gives the bare reason (``"Forbidden"``). ``details`` become the numbered keys.
    """

    def __init__(self, status: int, text: str = "", *details: str | None,
                 stages: Mapping[str, list[str]] | None = None, source: str = "emulator") -> None:
        super().__init__(f"{status} {text}")
        self.status = status
        self.text = text
        self.details = details
        self.stages = stages or STAGES_CALL
        self.source = source


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_json_default).encode("utf-8")


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        # The wire boundary: Dolibarr prints such fields as JSON numbers (``cost_price: 7.5``).
        return int(value) if value == value.to_integral_value() and "." not in str(value) else float(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    raise TypeError(f"not JSON-able: {type(value).__name__}")


def json_response(value: Any, status: int = 200) -> Response:
    """A JSON answer with Dolibarr's content type and CORS header."""
    return Response(_dumps(value), status_code=status, media_type=JSON_TYPE, headers=_CORS)


def api_error(status: int, text: str = "", *details: str | None, debug: bool = True,
              stages: Mapping[str, list[str]] | None = None, source: str = "emulator") -> Response:
    """The Restler error envelope as a response (``debug`` member optional, like prod=0)."""
    reason = _REASONS.get(status, "Error")
    error: dict[str, Any] = {"code": status, "message": f"{reason}: {text}" if text else reason}
    for index, detail in enumerate(details):
        error[str(index)] = detail
    body: dict[str, Any] = {"error": error}
    if debug:
        body["debug"] = {"source": f"{source} at {'call' if stages is None else _stage_name(stages)} stage",
                         "stages": dict(stages or STAGES_CALL)}
    return json_response(body, status)


def _stage_name(stages: Mapping[str, list[str]]) -> str:
    failure = stages.get("failure") or ["call"]
    return failure[0]


def error_response(exc: ApiError, *, debug: bool = True) -> Response:
    """Render an :class:`ApiError`."""
    return api_error(exc.status, exc.text, *exc.details, debug=debug, stages=exc.stages, source=exc.source)


def not_modified() -> Response:
    """Dolibarr's "nothing done": 304 with an empty body."""
    return Response(b"", status_code=304, headers=_CORS)


def waf_refusal(path: str, client_host: str) -> Response:
    """The HTML 403 of Dolibarr's WAF for a forbidden character in the URL path."""
    safe_path = html.escape(path, quote=True).replace("--", "&#45;&#45;")
    body = (
        f"Access refused to {html.escape(client_host)} by SQL or Script injection protection in "
        "main.inc.php:analyseVarsForSqlAndScriptsInjection type=2<br>\n"
        "Try to go back, fix data of your form and resubmit it. You can contact also your technical support.\n"
        f"<!--\npage={safe_path} paramtype=2 paramkey=0 paramvalue={safe_path}\n-->"
    )
    return Response(body.encode("utf-8"), status_code=403, media_type="text/html; charset=UTF-8")


def api_not_found() -> Response:
    """Unknown top-level resource: 501, plain text (``text/html`` header, like the real one)."""
    return Response(b"API not found (failed to include API file)", status_code=501,
                    media_type="text/html; charset=UTF-8")


def success(message: str, code: int = 200) -> dict[str, Any]:
    """``{"success": {"code": 200, "message": ...}}`` (DELETE and link answers)."""
    return {"success": {"code": code, "message": message}}


# ---- output formatting ("string scalars on read") -------------------------------------------
_Q8 = Decimal("0.00000001")
_Q4 = Decimal("0.0001")


def fmt_amount(value: Any) -> str | None:
    """An amount as Dolibarr prints it from the DB: ``"20.00000000"`` (``None`` stays ``None``)."""
    if value is None or value == "":
        return None
    return format(as_decimal(value).quantize(_Q8), "f")


def fmt_rate(value: Any) -> str | None:
    """A VAT rate as read from the DB: ``"20.0000"``."""
    if value is None or value == "":
        return None
    return format(as_decimal(value).quantize(_Q4), "f")


def fmt_decimal(value: Any, places: int) -> str | None:
    """A decimal with a fixed number of places (``None`` stays ``None``)."""
    if value is None or value == "":
        return None
    return format(as_decimal(value).quantize(Decimal(1).scaleb(-places)), "f")


def fmt_int(value: Any) -> str | None:
    """An integer column as a string (``"1"``); ``None`` stays ``None``."""
    if value is None or value == "":
        return None
    return str(int(value))


def fmt_str(value: Any) -> str | None:
    """A text column: ``None`` stays ``None``, everything else ``str``."""
    return None if value is None else str(value)


def fmt_bool(value: Any) -> str:
    """A boolean column: ``"0"``/``"1"``."""
    return "1" if as_bool(value) else "0"


@lru_cache(maxsize=8192)
def fmt_datetime(ts: int | None) -> str | None:
    """A Unix timestamp as a DB datetime ``"YYYY-MM-DD HH:MM:SS"`` (UTC)."""
    if ts is None or ts == "":
        return None
    return datetime.fromtimestamp(int(ts), tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


# ---- input coercion ("native or string on input") ----------------------------------------------
def as_int(value: Any, default: int | None = 0) -> int | None:
    """PHP-ish ``(int)``: ``"12"``, ``12.0``, ``True`` -> int; empty/garbage -> ``default``."""
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    try:
        return int(Decimal(str(value).strip()))
    except (InvalidOperation, ValueError, OverflowError):
        return default


def as_decimal(value: Any, default: Decimal | None = Decimal(0)) -> Decimal:
    """A number from JSON input (float via ``repr``); garbage -> ``default`` (0)."""
    if isinstance(value, Decimal):
        return value
    if value is None or value == "" or isinstance(value, (dict, list)):
        return default if default is not None else Decimal(0)
    if isinstance(value, bool):
        return Decimal(int(value))
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return default if default is not None else Decimal(0)
        return Decimal(repr(value))
    try:
        result = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return default if default is not None else Decimal(0)
    if not result.is_finite():
        return default if default is not None else Decimal(0)
    return result


def as_bool(value: Any) -> bool:
    """``1``/``"1"``/``true``/``"true"``/``"yes"`` -> True."""
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(value, (int, float, Decimal)):
        return value != 0
    return bool(value)


def as_str(value: Any, default: str | None = None) -> str | None:
    """A text field from JSON input (numbers become their text)."""
    if value is None:
        return default
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (dict, list)):
        return default
    return str(value)


# ---- requests and routing ----------------------------------------------------------------------
@dataclass(slots=True)
class Call:
    """One API call as handlers see it."""

    state: DolibarrState
    request: Request
    params: dict[str, Any]
    query: Mapping[str, str]
    body: Any
    login: str
    method: str

    def body_dict(self) -> dict[str, Any]:
        """The body as a JSON object (400 when it is something else)."""
        if self.body is None:
            return {}
        if not isinstance(self.body, dict):
            raise ApiError(400, "Error encoding/decoding JSON: body must be an object")
        return self.body

    def qbool(self, name: str) -> bool:
        """A boolean query parameter (``1``/``true``)."""
        value = self.query.get(name)
        return value is not None and as_bool(value)

    def qint(self, name: str, default: int | None = None) -> int | None:
        """An integer query parameter; non-integer -> 400 like Restler's validator."""
        value = self.query.get(name)
        if value is None or value == "":
            return default
        try:
            return int(value.strip())
        except ValueError:
            raise ApiError(400, f"invalid value specified for `{name}`", stages=STAGES_ROUTE) from None


Handler = Callable[[Call], Any]


@dataclass(slots=True)
class Route:
    """A registered route (see module docstring for the pattern syntax)."""

    method: str
    pattern: str
    handler: Handler
    segments: tuple[tuple[str, str], ...]  # (kind, value): kind "lit" | "int" | "str"
    perm: str | None = None
    forbidden_text: str = ""
    is_async: bool = False


@dataclass(slots=True)
class RouteMatch:
    route: Route | None
    params: dict[str, Any] = field(default_factory=dict)
    error: ApiError | None = None


def _compile(pattern: str) -> tuple[tuple[str, str], ...]:
    segments: list[tuple[str, str]] = []
    for part in pattern.strip("/").split("/"):
        if part.startswith("{") and part.endswith("}"):
            name, _, kind = part[1:-1].partition(":")
            segments.append(("int" if kind == "int" else "str", name))
        else:
            segments.append(("lit", part))
    return tuple(segments)


class DolibarrRouter:
    """Routes of the emulated API, grouped by (resource, number of segments)."""

    def __init__(self) -> None:
        self._routes: dict[tuple[str, int], list[Route]] = {}
        self.resources: set[str] = set()

    def add(self, method: str, pattern: str, handler: Handler, *, perm: str | None = None,
            forbidden_text: str = "") -> Route:
        """Register ``handler`` for ``method`` on ``pattern`` (relative to ``/api/index.php``)."""
        segments = _compile(pattern)
        if not segments or segments[0][0] != "lit":
            raise ValueError(f"a pattern must start with a literal resource: {pattern!r}")
        route = Route(method.upper(), pattern, handler, segments, perm, forbidden_text,
                      inspect.iscoroutinefunction(handler))
        self._routes.setdefault((segments[0][1], len(segments)), []).append(route)
        self.resources.add(segments[0][1])
        return route

    def route(self, method: str, pattern: str, *, perm: str | None = None,
              forbidden_text: str = "") -> Callable[[Handler], Handler]:
        """Decorator form of :meth:`add`."""
        def decorate(handler: Handler) -> Handler:
            self.add(method, pattern, handler, perm=perm, forbidden_text=forbidden_text)
            return handler
        return decorate

    def match(self, method: str, parts: Sequence[str]) -> RouteMatch:
        """Find the route for ``parts`` (path segments after ``/api/index.php``)."""
        candidates = self._routes.get((parts[0], len(parts)), [])
        best: tuple[int, Route, dict[str, Any]] | None = None
        bad_param: str | None = None
        other_method = False
        for route in candidates:
            params: dict[str, Any] = {}
            score = 0
            ok = True
            for (kind, value), part in zip(route.segments, parts):
                if kind == "lit":
                    if part != value:
                        ok = False
                        break
                    score += 1
                elif kind == "int":
                    if not part.isdigit() or not part.isascii():
                        ok = False
                        bad_param = bad_param or value
                        break
                    params[value] = int(part)
                else:
                    if part == "":
                        ok = False
                        break
                    params[value] = part
            if not ok:
                continue
            if route.method != method:
                other_method = True
                continue
            if best is None or score > best[0]:
                best = (score, route, params)
        if best is not None:
            return RouteMatch(best[1], best[2])
        if bad_param is not None:
            return RouteMatch(None, error=ApiError(400, f"invalid value specified for `{bad_param}`",
                                                   stages=STAGES_ROUTE, source="Routes.php:457"))
        if other_method:
            return RouteMatch(None, error=ApiError(405, "", stages=STAGES_ROUTE, source="Routes.php"))
        return RouteMatch(None, error=ApiError(404, "", stages=STAGES_ROUTE, source="Routes.php"))


async def run_handler(route: Route, call: Call) -> Any:
    """Run a sync or async handler."""
    result = route.handler(call)
    if route.is_async or isinstance(result, Awaitable):
        result = await result
    return result


# ---- lists ------------------------------------------------------------------------------------
@dataclass(slots=True)
class ListQuery:
    """The common list parameters (see API.md §2.2)."""

    limit: int = 100
    page: int = 0
    sortfield: str | None = None
    sortorder: str = "ASC"
    sqlfilters: str | None = None
    properties: tuple[str, ...] | None = None
    pagination_data: bool = False

    @classmethod
    def from_call(cls, call: Call, default_limit: int = 100) -> ListQuery:
        """Read ``limit``, ``page``, ``sortfield``, ``sortorder``, ``sqlfilters``, ``properties``, ``pagination_data``."""
        limit = call.qint("limit", default_limit)
        page = call.qint("page", 0)
        order = (call.query.get("sortorder") or "ASC").strip().upper()
        props = call.query.get("properties")
        return cls(
            limit=default_limit if limit is None else limit,
            page=max(page or 0, 0),
            sortfield=(call.query.get("sortfield") or None),
            sortorder="DESC" if order == "DESC" else "ASC",
            sqlfilters=call.query.get("sqlfilters") or None,
            properties=tuple(p.strip() for p in props.split(",") if p.strip()) if props else None,
            pagination_data=call.qbool("pagination_data"),
        )


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, 0)
    if isinstance(value, bool):
        return (1, int(value))
    if isinstance(value, (int, float, Decimal)):
        return (1, Decimal(str(value)) if isinstance(value, float) else value)
    return (2, str(value).casefold())


def filter_properties(obj: dict[str, Any], properties: Sequence[str] | None) -> dict[str, Any]:
    """Keep only ``properties`` of ``obj``, in the object's own key order (Dolibarr's behaviour)."""
    if not properties:
        return obj
    wanted = set(properties)
    return {k: v for k, v in obj.items() if k in wanted}


def list_answer(rows: Iterable[Row], query: ListQuery, *, columns: Callable[[Row], Mapping[str, Any]],
                serialize: Callable[[Row], Any], default_sort: str = "t.rowid",
                what: str = "object", error_prefix: str | None = None) -> Any:
    """Filter, sort, page and serialize ``rows``; answer a bare list or ``{data, pagination}``.

    ``columns(row)`` exposes the DB columns ``sqlfilters`` and ``sortfield`` may name. Unknown
    columns give 503 with MySQL's text, bad filter syntax 400, like Dolibarr.
    """
    from dolisync.emulators.dolibarr.sqlfilters import SqlFilterError, UnknownColumn, compile_sqlfilters

    prefix = error_prefix or f"Error when retrieving {what} list"
    sort_spec = query.sortfield or default_sort
    fields = [f.strip() for f in sort_spec.split(",") if f.strip()]
    # Each row's columns are computed once, and only when a filter or a sort needs them.
    pairs: list[tuple[Row, Mapping[str, Any] | None]] = [(row, None) for row in rows]
    if query.sqlfilters:
        try:
            predicate = compile_sqlfilters(query.sqlfilters)
            pairs = [(row, cols) for row, cols in ((r, columns(r)) for r, _ in pairs) if predicate(cols)]
        except SqlFilterError as exc:
            raise ApiError(400, f"Error when validating parameter sqlfilters -> {exc}") from None
        except UnknownColumn as exc:
            raise ApiError(503, f"{prefix} : Unknown column '{exc.column}' in 'WHERE'") from None
    if pairs and fields:
        pairs = [(row, cols if cols is not None else columns(row)) for row, cols in pairs]
        sample = pairs[0][1]
        assert sample is not None
        resolved: list[str] = []
        for name in fields:
            key = name if name in sample else f"t.{name.lower()}"
            if key not in sample:
                raise ApiError(503, f"{prefix} : Unknown column '{name}' in 'ORDER BY'")
            resolved.append(key)
        reverse = query.sortorder == "DESC"
        for name in reversed(resolved):
            pairs.sort(key=lambda pair, n=name: _sort_key(pair[1].get(n)), reverse=reverse)  # type: ignore[union-attr]
    selected = [row for row, _ in pairs]
    total = len(selected)
    if query.limit > 0:
        start = query.page * query.limit
        page_rows = selected[start:start + query.limit]
    else:
        page_rows = selected
    data = [filter_properties(serialize(row), query.properties) for row in page_rows]
    if not query.pagination_data:
        return data
    limit = query.limit if query.limit > 0 else total
    return {"data": data, "pagination": {
        "total": total, "page": query.page,
        "page_count": math.ceil(total / limit) if limit > 0 else 0, "limit": limit,
    }}
