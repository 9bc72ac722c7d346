"""Helpers shared by the commerce areas of the Dolibarr emulator (thirdparties ... webhooks).

* :func:`shape` gives a fresh copy of the recorded key order and neutral defaults of an object
  kind (``com_shapes.json``, generated from ``reference/dolibarr/samples``); serializers fill in
  what they model, so answers carry every key Dolibarr prints, in its order.
* :func:`fire` emits a trigger and, when a blocking webhook target makes it fail, runs the
  caller's undo before re-raising (Dolibarr rolls the transaction back).
* Dates: :func:`parse_date` accepts a Unix timestamp or a parsable string; :func:`day_of`
  truncates to midnight UTC (order and invoice ``date`` are day precision).
* :func:`seller_taxes` is the company's local-tax setup for the money model.
* :func:`validation_race` models the unlocked "max + 1" numbering: an optional fault (off by
  default, ``state.extra["faults"]["validation_race"] = True``) under which validations that
  overlap in time collide and fail with the recorded ``Duplicate entry`` 500 body.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from functools import lru_cache
from importlib import resources
from typing import Any

import anyio
from starlette.responses import Response

from dolisync.emulators.dolibarr.cat_dictionaries import find_country
from dolisync.emulators.dolibarr.core import ApiError, as_int, fmt_amount
from dolisync.emulators.dolibarr.state import DolibarrState, Row
from dolisync.mapping.dolibarr_money import SellerTaxes

__all__ = [
    "shape", "webhook_shape", "fire", "caller_context", "parse_date", "day_of", "seller_taxes",
    "require", "options_out", "thirdparty_or_none", "product_or_none", "amount_or_none",
    "validation_race", "duplicate_ref_response", "country_by_code", "country_by_id",
]

@lru_cache(maxsize=1)
def _shapes() -> dict[str, Any]:
    text = resources.files("dolisync.emulators.dolibarr").joinpath("com_shapes.json").read_text("utf-8")
    return json.loads(text)


def shape(kind: str) -> dict[str, Any]:
    """A fresh dict with the keys (in order) and neutral defaults of object ``kind``."""
    return copy.deepcopy(_shapes()[kind])


def webhook_shape(triggercode: str) -> dict[str, Any] | None:
    """The recorded key order of a webhook ``object`` for ``triggercode`` (``None`` if unknown)."""
    found = _shapes()["webhook"].get(triggercode)
    return copy.deepcopy(found) if found is not None else None


def fire(state: DolibarrState, triggercode: str, obj: Row, context: Mapping[str, Any] | None = None,
         undo: Callable[[], None] | None = None) -> None:
    """Emit ``triggercode``; if a hook (blocking webhook) raises, run ``undo`` and re-raise."""
    from dolisync.emulators.dolibarr.webhooks import install

    install(state)  # idempotent: targets configured in ``state.extra`` receive commerce events
    try:
        state.emit(triggercode, obj, dict(context or {}))
    except Exception:
        if undo is not None:
            undo()
        raise


def caller_context(body: Mapping[str, Any] | None) -> dict[str, Any]:
    """The request-scoped context Dolibarr stores from a body's ``caller`` field."""
    if body and body.get("caller") not in (None, ""):
        return {"caller": str(body["caller"])}
    return {}


def parse_date(value: Any) -> int | None:
    """A Unix timestamp from an int/float/numeric string or an ISO-like date string."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    text = str(value).strip()
    if text.lstrip("-").isdigit():
        return int(text)
    for pattern in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d", "%d/%m/%Y"):
        try:
            return int(datetime.strptime(text, pattern).replace(tzinfo=timezone.utc).timestamp())
        except ValueError:
            continue
    return None


def day_of(ts: int) -> int:
    """Midnight UTC of the day of ``ts`` (Dolibarr stores order/invoice dates as days)."""
    return ts - ts % 86400


def seller_taxes(state: DolibarrState) -> SellerTaxes:
    """The company's local-tax options and VAT dictionary, for the money model."""
    setup = state.setup
    return SellerTaxes.from_setup(_SetupView(setup.localtax1_on, setup.localtax2_on, state.vat_rates(),
                                             setup.country_code))


class _SetupView:
    __slots__ = ("localtax1_on", "localtax2_on", "vat_rates", "country_code")

    def __init__(self, lt1: bool, lt2: bool, rates: list[Any], country_code: str) -> None:
        self.localtax1_on = lt1
        self.localtax2_on = lt2
        self.vat_rates = rates
        self.country_code = country_code


def require(body: Mapping[str, Any], names: Iterable[str]) -> None:
    """Dolibarr's ``_validate``: the first missing field answers 400 "<name> field missing"."""
    for name in names:
        if body.get(name) in (None, ""):
            raise ApiError(400, f"{name} field missing")


def options_out(options: Mapping[str, Any] | None) -> Any:
    """``array_options`` as printed: ``[]`` when empty, else the dict."""
    return dict(options) if options else []


def thirdparty_or_none(state: DolibarrState, socid: Any) -> Row | None:
    """The thirdparty row ``socid`` (``None`` for a missing or non-numeric id)."""
    ident = as_int(socid, None)
    return state.get("thirdparties", ident) if ident is not None else None


def product_or_none(state: DolibarrState, product_id: Any) -> Row | None:
    """The product row (owned by the catalogue area) or ``None``."""
    ident = as_int(product_id, None)
    return state.get("products", ident) if ident else None


def amount_or_none(value: Any) -> str | None:
    """``fmt_amount`` that keeps ``None``."""
    return None if value is None else fmt_amount(value)


def country_by_code(value: Any) -> dict[str, Any] | None:
    """The dictionary country for an ISO-2 (``"FR"``) or ISO-3 (``"FRA"``) code, or ``None``."""
    if value in (None, ""):
        return None
    code = str(value).strip()
    return find_country(code=code) if len(code) == 2 else find_country(iso=code)


def country_by_id(value: Any) -> dict[str, Any] | None:
    """The dictionary country with id ``value`` (``None`` for 0/unknown)."""
    ident = as_int(value, None)
    return find_country(country_id=ident) if ident else None


def _race_enabled(state: DolibarrState) -> bool:
    faults = state.extra.get("faults") or {}
    return bool(faults.get("validation_race"))


async def validation_race(state: DolibarrState, prefix: str, when: int) -> str:
    """Take the next final ref for ``prefix``, colliding like Dolibarr when the fault is on.

    Off (default): the ref is taken atomically. On: the ref is read, the request yields for
    ``state.extra["faults"].get("race_window", 0.02)`` s, then written; if another validation
    wrote the same ref meanwhile this raises ``_DuplicateRef`` (answer with
    :func:`duplicate_ref_response`), leaving the object a draft.
    """
    if not _race_enabled(state):
        return state.next_ref(prefix, when)
    moment = datetime.fromtimestamp(when, tz=timezone.utc)
    key = f"{prefix}{moment.strftime('%y%m')}"
    candidate = state.ref_counters.get(key, 0) + 1
    window = float((state.extra.get("faults") or {}).get("race_window", 0.02))
    await anyio.sleep(window)
    if state.ref_counters.get(key, 0) >= candidate:
        raise DuplicateRef(f"{key}-{candidate:04d}")
    state.ref_counters[key] = candidate
    return f"{key}-{candidate:04d}"


class DuplicateRef(Exception):
    """Two validations took the same final ref (only with the ``validation_race`` fault)."""

    def __init__(self, ref: str) -> None:
        super().__init__(ref)
        self.ref = ref


def duplicate_ref_response(ref: str, what: str = "Order", key: str = "uk_commande_ref",
                           source: str = "api_orders.class.php:944") -> Response:
    """The recorded 500: Dolibarr's HTML technical-error page, then the JSON error, one body."""
    now = datetime.now(tz=timezone.utc).strftime("%Y%m%d%H%M%S")
    html = (
        "Dolibarr has detected a technical error.<br>\n"
        "This information can be useful for diagnostic purposes (you can set option $dolibarr_main_prod "
        "to '1' to hide sensitive information):<br>\n"
        f"<b>Date:</b> {now}<br>\n<b>Dolibarr:</b> 23.0.0-beta - https://www.dolibarr.org<br>\n"
        "<b>Level of features:</b> 1<br>\n"
        f"<b>Message:</b> Duplicate entry '{ref}-1' for key '{key}'<br>\n"
    )
    error = {
        "error": {"code": 500, "message": f"Internal Server Error: Error when validating {what}: "
                                          f"Duplicate entry '{ref}-1' for key '{key}'"},
        "debug": {"source": f"{source} at call stage",
                  "stages": {"success": ["get", "route", "negotiate", "authenticate", "validate"],
                             "failure": ["call", "message"]}},
    }
    body = html + json.dumps(error, indent=4)
    return Response(body.encode("utf-8"), status_code=500, media_type="application/json; charset=utf-8")

