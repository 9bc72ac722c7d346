"""Webhooks of the emulated Dolibarr (module "Webhook", API.md §9).

Targets are configuration, not API (the real ``/webhook`` endpoints answer 403 even for the
admin, reproduced here): ``state.extra["webhook_targets"]`` is a list of
``{"url": str, "trigger_codes": "ORDER_VALIDATE,BILL_PAYED" | [...], "status": 1, "type": 1}``.
``status`` 1 = automatic (0 disabled, 2 manual: never sent by API actions); ``type`` 1 =
non-blocking, 0 = blocking.

:func:`install` adds a hook to ``state.event_hooks`` (idempotent; the commerce areas call it
lazily, and ``create_app`` should call it so catalogue events are posted too). For every event
whose trigger code a target subscribes to, the hook POSTs
``{"triggercode": CODE, "object": {...}}`` with ``Content-Type: application/json`` and
``User-Agent: Dolibarr geturl function``; ``object`` has the recorded key order of
``samples/webhook_<CODE>.json`` (``context`` carries ``caller`` when the request had one;
``ORDER_VALIDATE``/``BILL_VALIDATE`` show the draft ref with the final one in ``newref``).

Delivery differs from the real one on purpose: Dolibarr posts synchronously inside the request
and the DB transaction (so receivers see phantom events of rolled-back actions). Here
non-blocking targets are posted *after* the hook returns, in a background task (or thread when
no event loop runs), with a short timeout, and never fail or slow the request. Blocking targets
are posted synchronously (``webhook_timeout`` s, default 5) and a non-2xx answer or a transport
error makes the action fail with the recorded 500 and be undone (the dispatcher removes the object a
``*_CREATE`` trigger announced, whatever area created it; areas undo the rest). Every attempt is appended to
``state.extra["webhook_history"]`` (``{"triggercode", "url", "status": 1|-1, "httpcode"}``).
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

import httpx2 as httpx

from dolisync.emulators.dolibarr.com_common import webhook_shape
from dolisync.emulators.dolibarr.core import ApiError, Call, DolibarrRouter
from dolisync.emulators.dolibarr.state import DolibarrState, EmittedEvent, Row

__all__ = ["register", "install", "configure_targets", "build_payload", "WebhookDispatcher", "USER_AGENT"]

USER_AGENT = "Dolibarr geturl function"

#: How many delivery attempts ``state.extra["webhook_history"]`` keeps (oldest dropped first).
HISTORY_LIMIT = 1000


def register(router: DolibarrRouter) -> None:
    """``/webhook/...`` answers 403 for everybody, like the recorded build."""
    for pattern in ("/webhook/triggers", "/webhook", "/webhook/{id:int}"):
        router.add("GET", pattern, _forbidden)
    router.add("POST", "/webhook", _forbidden)
    router.add("PUT", "/webhook/{id:int}", _forbidden)
    router.add("DELETE", "/webhook/{id:int}", _forbidden)


def _forbidden(call: Call) -> Any:
    raise ApiError(403, "", source="api_webhook.class.php:278")


def install(state: DolibarrState) -> WebhookDispatcher:
    """Attach the dispatcher to ``state`` once and return it."""
    for hook in state.event_hooks:
        if isinstance(hook, WebhookDispatcher):
            return hook
    dispatcher = WebhookDispatcher(state)
    state.event_hooks.append(dispatcher)
    return dispatcher


def configure_targets(state: DolibarrState, targets: Iterable[Mapping[str, Any]]) -> WebhookDispatcher:
    """Replace the webhook targets of ``state`` and make sure they are served.

    Each target: ``url`` (required), ``trigger_codes`` (comma text or list), ``status`` (1 automatic,
    default; 0 disabled; 2 manual), ``type`` (1 non-blocking, default; 0 blocking).
    """
    normalised: list[dict[str, Any]] = []
    for target in targets:
        if not target.get("url"):
            raise ValueError("a webhook target needs a url")
        normalised.append({"url": str(target["url"]), "trigger_codes": ",".join(sorted(_codes(dict(target)))),
                           "status": int(target.get("status", 1)), "type": int(target.get("type", 1))})
    state.extra["webhook_targets"] = normalised
    return install(state)


def _codes(target: dict[str, Any]) -> set[str]:
    codes = target.get("trigger_codes") or ""
    if isinstance(codes, str):
        codes = codes.split(",")
    return {str(code).strip() for code in codes if str(code).strip()}


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, bytes):
        return None
    return value


def _serializer(state: DolibarrState, code: str) -> Callable[[Row], dict[str, Any]] | None:
    """The REST serializer whose values fill the payload of ``code`` (``None`` = raw row)."""
    if code.startswith("LINEORDER"):
        from dolisync.emulators.dolibarr.com_lines import serialize_line

        return lambda row: serialize_line(state, row, "order_line", int(row.get("fk_commande") or 0))
    if code.startswith("ORDER"):
        from dolisync.emulators.dolibarr.orders import serialize_order

        return lambda row: serialize_order(state, row)
    if code.startswith("BILL"):
        from dolisync.emulators.dolibarr.invoices import serialize_invoice

        return lambda row: serialize_invoice(state, row)
    if code.startswith("COMPANY"):
        from dolisync.emulators.dolibarr.thirdparties import serialize_thirdparty

        return lambda row: serialize_thirdparty(state, row)
    if code.startswith("CONTACT"):
        from dolisync.emulators.dolibarr.contacts import serialize_contact

        return lambda row: serialize_contact(state, row)
    if code.startswith("PAYMENT_CUSTOMER"):
        return _payment_in_memory
    if code.startswith("SHIPPING"):
        from dolisync.emulators.dolibarr.shipments import serialize_shipment

        return lambda row: serialize_shipment(state, row)
    return None


def _coerce(model: Any, value: Any) -> Any:
    """``value`` with the JSON type of the recorded ``model`` (PHP objects mix "1" and 1)."""
    if value is None or model is None or isinstance(model, bool):
        return value
    if isinstance(model, (int, float)) and isinstance(value, str):
        try:
            number = Decimal(value)
        except ArithmeticError:
            return value
        return int(number) if number == number.to_integral_value() else float(number)
    if isinstance(model, str) and isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return str(value)
    return value


def _shaped(template: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """Fill the recorded key order of ``template`` with ``values`` coerced to the recorded types."""
    out: dict[str, Any] = {}
    for key, model in template.items():
        if key in values:
            value = values[key]
            if key == "lines" and isinstance(model, list) and model and isinstance(value, list):
                out[key] = [_shaped(model[0], v) if isinstance(v, dict) else v for v in value]
            elif key in ("thirdparty", "line") and isinstance(model, dict) and isinstance(value, dict):
                out[key] = _shaped(model, value)
            else:
                out[key] = _coerce(model, value)
        else:
            out[key] = model
    return out


def _amount_text(value: Decimal) -> str:
    value = value.normalize()
    return str(int(value)) if value == value.to_integral_value() else format(value, "f")


def _payment_in_memory(row: Row) -> dict[str, Any]:
    """A payment as the object being created prints: amounts per invoice, no totals yet."""
    from dolisync.emulators.dolibarr.cat_dictionaries import payment_types

    code = next((p["code"] for p in payment_types() if p["id"] == str(row.get("paymentid"))), None)
    return {
        "id": row["id"], "ref": row.get("ref"), "ref_ext": row.get("ref_ext") or None,
        "note_private": row.get("note") or None, "datepaye": str(row.get("datepaye")),
        "amounts": {str(p["invoice_id"]): _amount_text(p["amount"]) for p in row.get("parts", [])},
        "multicurrency_amounts": {str(p["invoice_id"]): _amount_text(p["multicurrency_amount"])
                                  for p in row.get("parts", [])},
        "paiementid": row.get("paymentid"), "paiementcode": code, "num_payment": row.get("num_payment"),
    }


def build_payload(state: DolibarrState, event: EmittedEvent) -> dict[str, Any]:
    """The JSON body Dolibarr posts for ``event`` (see the module docstring)."""
    serializer = _serializer(state, event.triggercode)
    values: dict[str, Any] = serializer(event.object) if serializer else {
        k: v for k, v in event.object.items() if not str(k).startswith("_")
    }
    values = _jsonable(values)
    for key in ("newref", "oldref"):
        if key in event.object:
            values[key] = event.object[key]
    values["context"] = dict(event.context) if event.context else []
    socid = event.object.get("socid")
    if socid:
        from dolisync.emulators.dolibarr.thirdparties import serialize_thirdparty

        company = state.get("thirdparties", int(socid))
        values["thirdparty"] = _jsonable(serialize_thirdparty(state, company)) if company else None
    template = webhook_shape(event.triggercode)
    if template is not None and event.triggercode.startswith("PAYMENT_CUSTOMER"):
        template = {k: (v if k in ("element", "table_element", "picto", "module") else None) for k, v in template.items()}
    obj = values if template is None else _shaped(template, values)
    if event.triggercode in ("ORDER_CREATE", "BILL_CREATE") and template is not None:
        obj["statut"] = obj["status"] = None  # not set yet on the object being created
    if template is not None and "thirdparty" in template and template["thirdparty"] is None:
        obj["thirdparty"] = None  # objects that had not loaded their thirdparty print null
    return {"triggercode": event.triggercode, "object": _jsonable(obj)}


#: Table of the object a ``*_CREATE`` trigger announces (rolled back when a blocking target fails).
_CREATED_TABLES = {"PRODUCT_CREATE": "products", "CATEGORY_CREATE": "categories", "COMPANY_CREATE": "thirdparties",
                   "CONTACT_CREATE": "contacts", "ORDER_CREATE": "orders", "BILL_CREATE": "invoices",
                   "SHIPPING_CREATE": "shipments"}

_ACTION_TEXTS = {"PRODUCT_CREATE": "Error creating product", "COMPANY_CREATE": "Error creating thirdparty",
                 "CONTACT_CREATE": "Error creating contact", "ORDER_CREATE": "Error creating order",
                 "LINEORDER_INSERT": "Error creating order", "BILL_CREATE": "Error creating invoice",
                 "ORDER_VALIDATE": "Error when validating Order", "BILL_VALIDATE": "Error when validating invoice",
                 "CATEGORY_CREATE": "Error when creating category", "STOCK_MOVEMENT": "Error creating stock movement"}


def _failed_action_text(code: str) -> str:
    """The API message of an action whose blocking webhook failed (the recorded one for products)."""
    return _ACTION_TEXTS.get(code, "Error when processing the action")


class WebhookDispatcher:
    """The event hook that posts payloads to the configured targets."""

    def __init__(self, state: DolibarrState) -> None:
        self.state = state
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def timeout(self) -> float:
        return float(self.state.extra.get("webhook_timeout", 5.0))

    def __call__(self, event: EmittedEvent) -> None:
        targets = [t for t in self.state.extra.get("webhook_targets") or []
                   if int(t.get("status", 1)) == 1 and event.triggercode in _codes(t)]
        if not targets:
            return
        body = json.dumps(build_payload(self.state, event), ensure_ascii=False).encode("utf-8")
        for target in targets:
            if int(target.get("type", 1)) == 0:
                try:
                    self._post_blocking(event.triggercode, str(target["url"]), body)
                except ApiError:
                    self._roll_back_created(event)
                    raise
            else:
                self._post_later(event.triggercode, str(target["url"]), body)

    def _roll_back_created(self, event: EmittedEvent) -> None:
        """Dolibarr rolls the transaction back: the object a ``*_CREATE`` announced disappears.

        Areas may undo more (lines, links) themselves; removing the row twice is harmless.
        """
        table = _CREATED_TABLES.get(event.triggercode)
        object_id = event.object.get("id")
        if table is not None and object_id not in (None, ""):
            self.state.delete(table, int(object_id))

    def _record(self, code: str, url: str, httpcode: int | None, ok: bool) -> None:
        history = self.state.extra.setdefault("webhook_history", [])
        history.append({"triggercode": code, "url": url, "status": 1 if ok else -1, "httpcode": httpcode})
        del history[:-HISTORY_LIMIT]

    def _headers(self) -> dict[str, str]:
        return {"Content-Type": "application/json", "User-Agent": USER_AGENT, "Accept": "*/*"}

    def _post_blocking(self, code: str, url: str, body: bytes) -> None:
        httpcode: int | None = None
        try:
            with httpx.Client(timeout=self.timeout) as client:
                httpcode = client.post(url, content=body, headers=self._headers()).status_code
        except httpx.HTTPError:
            httpcode = 0
        ok = httpcode is not None and 200 <= httpcode < 300
        self._record(code, url, httpcode, ok)
        if not ok:
            raise ApiError(500, _failed_action_text(code), "",
                           f"The WebHook for {code} failed to get URL {url} with httpcode={httpcode} curl_error_no=")

    def _post_later(self, code: str, url: str, body: bytes) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            threading.Thread(target=self._post_sync_quietly, args=(code, url, body), daemon=True).start()
            return
        task = loop.create_task(self._post_async(code, url, body))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _post_sync_quietly(self, code: str, url: str, body: bytes) -> None:
        try:
            with httpx.Client(timeout=self.timeout) as client:
                status = client.post(url, content=body, headers=self._headers()).status_code
            self._record(code, url, status, 200 <= status < 300)
        except httpx.HTTPError:
            self._record(code, url, 0, False)

    async def _post_async(self, code: str, url: str, body: bytes) -> None:
        await asyncio.sleep(0)  # after the response of the request that fired the event
        try:
            async with httpx.AsyncClient(timeout=self.timeout) as client:
                status = (await client.post(url, content=body, headers=self._headers())).status_code
            self._record(code, url, status, 200 <= status < 300)
        except httpx.HTTPError:
            self._record(code, url, 0, False)

    async def drain(self) -> None:
        """Wait for the background deliveries in flight (tests and clean shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
