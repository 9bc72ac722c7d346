"""Webhook events -> inbox rows: authentication, parsing and deduplication (no HTTP here).

Contract:

* :func:`verify_prestashop_signature`: the header is ``sha256=<hex>``, the HMAC-SHA256 of the
  raw body with the shop's secret; constant-time comparison; no secret configured = refused.
* :func:`parse_prestashop_event`: ``{"resource": "orders", "id": 42}`` (optional
  ``"date_upd"`` or ``"event_id"``, used only to tell deliveries apart). Anything else is a
  :class:`BadEvent`.
* :func:`parse_dolibarr_event`: the body of Dolibarr's Webhook module
  (``{"triggercode": ..., "object": {...}}``). Only ``triggercode``, ``object.element`` and
  ``object.id`` are kept: the rest of the body is never stored or logged (it can hold an
  API key, see the Dolibarr reference §9).
* :func:`store_event`: an event is a hint to re-read one object, so it is stored unless an
  unprocessed event for the same object (and the same delivery marker, when the sender gives
  one) is already waiting; returns ``(event, new)``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from dolisync.store import Store, utcnow
from dolisync.store.inbox import Inbox, InboxEvent
from dolisync.store.schema import inbox as inbox_table

__all__ = [
    "BadEvent",
    "Hint",
    "PRESTASHOP_RESOURCES",
    "parse_dolibarr_event",
    "parse_prestashop_event",
    "sign",
    "store_event",
    "verify_prestashop_signature",
]

SIGNATURE_PREFIX = "sha256="
PRESTASHOP_RESOURCES = frozenset(
    {"orders", "order_histories", "products", "combinations", "stock_availables", "categories", "customers",
     "addresses", "specific_prices"}
)


class BadEvent(ValueError):
    """The body is not a webhook event dolisync understands (the message says why)."""


@dataclass(frozen=True, slots=True)
class Hint:
    """What an event says: an object to re-read."""

    source: str
    connection: str
    resource: str
    object_id: str
    marker: str | None = None
    code: str | None = None

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {"resource": self.resource, "id": self.object_id}
        if self.code:
            data["triggercode"] = self.code
        if self.marker:
            data["marker"] = self.marker
        return data


def sign(secret: str, body: bytes) -> str:
    """The ``X-Dolisync-Signature`` value of ``body``."""
    return SIGNATURE_PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_prestashop_signature(secret: str | None, body: bytes, header: str | None) -> bool:
    if not secret or not header:
        return False
    return hmac.compare_digest(header.strip().lower(), sign(secret, body))


def _object_id(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        raise BadEvent("id must be a positive integer")
    text = str(value).strip()
    if not text.isdigit() or int(text) <= 0 or len(text) > 18:
        raise BadEvent("id must be a positive integer")
    return str(int(text))


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise BadEvent("body is not JSON") from None
    if not isinstance(data, dict):
        raise BadEvent("body must be a JSON object")
    return data


def parse_prestashop_event(shop: str, body: bytes) -> Hint:
    data = _json_object(body)
    resource = data.get("resource")
    if not isinstance(resource, str) or resource not in PRESTASHOP_RESOURCES:
        raise BadEvent(f"resource must be one of {', '.join(sorted(PRESTASHOP_RESOURCES))}")
    marker = data.get("event_id", data.get("date_upd"))
    return Hint("prestashop", shop, resource, _object_id(data.get("id")),
                marker=None if marker is None else str(marker)[:64])


def parse_dolibarr_event(body: bytes) -> Hint:
    data = _json_object(body)
    code = data.get("triggercode")
    obj = data.get("object")
    if not isinstance(code, str) or not code or len(code) > 64 or not isinstance(obj, dict):
        raise BadEvent("expected Dolibarr's Webhook body: {\"triggercode\": ..., \"object\": {...}}")
    element = obj.get("element")
    if not isinstance(element, str) or not element or len(element) > 64:
        raise BadEvent("object.element is missing")
    marker = obj.get("tms") or obj.get("date_modification")
    return Hint("dolibarr", "dolibarr", element, _object_id(obj.get("id")), code=code,
                marker=None if marker is None else str(marker)[:64])


def _waiting(store: Store, hint: Hint) -> InboxEvent | None:
    query = (
        select(inbox_table)
        .where(
            inbox_table.c.processed_at.is_(None),
            inbox_table.c.source == hint.source,
            inbox_table.c.connection == hint.connection,
            inbox_table.c.resource == hint.resource,
            inbox_table.c.object_id == hint.object_id,
        )
        .order_by(inbox_table.c.id)
        .limit(1)
    )
    with store.read() as conn:
        row = conn.execute(query).first()
    return None if row is None else InboxEvent(**{**row._mapping, "id": int(row.id)})


def store_event(store: Store, hint: Hint) -> tuple[InboxEvent, bool]:
    """Store ``hint`` in the inbox unless the same hint is already waiting (module docstring)."""
    base = f"{hint.source}|{hint.connection}|{hint.resource}|{hint.object_id}"
    if hint.marker is not None:
        return Inbox(store).receive(hint.source, hint.connection, hint.resource, hint.object_id,
                                    hint.payload(), dedupe_key=f"{base}|{hint.marker}")
    waiting = _waiting(store, hint)
    if waiting is not None:
        return waiting, False
    return Inbox(store).receive(hint.source, hint.connection, hint.resource, hint.object_id,
                                hint.payload(), dedupe_key=f"{base}|at:{utcnow().isoformat()}")
