"""Remote errors, classified once at the client boundary.

Contract: above the clients nobody looks at HTTP status codes. Every failed exchange becomes
exactly one of:

* :class:`Transient` — worth retrying later: connection errors, timeouts, 408, 429 (carries
  ``retry_after`` seconds from ``Retry-After``), 5xx *without* a business error envelope, and
  Dolibarr's duplicate-reference race on validation (API.md section 10).
* :class:`Permanent` — retrying the same request will fail the same way:

  * :class:`RemoteRejected` ``(remote, status, code, message)`` — the remote refused the request
    and said why (PrestaShop ``<errors>`` / ``{"errors": [...]}``, Dolibarr ``{"error": {...}}``,
    including the HTML-then-JSON body where the **last** ``{"error":`` object is the real one).
    PrestaShop answers parameter errors with HTTP 500 + PHP-warning entries on PHP 8: they are
    classified as rejections (the first non-warning entry gives ``code`` and ``message``).
  * :class:`NotFound` (404), :class:`Unauthorized` (401/403: key, permission or WAF).
  * :class:`MalformedResponse` — the answer could not be parsed (names resource and id).
* :class:`NotModified` — a 304 (conditional GET, or a Dolibarr action that had nothing to do)
  where the caller asked to be told.

Messages never contain keys, query strings or full URLs: only the remote name, method and
the resource path (``products/42``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

__all__ = [
    "RemoteError",
    "Transient",
    "Permanent",
    "RemoteRejected",
    "NotFound",
    "Unauthorized",
    "NotModified",
    "MalformedResponse",
    "UnsafeXml",
    "ErrorEntry",
    "parse_retry_after",
    "prestashop_error_entries",
    "dolibarr_error_entries",
    "classify_prestashop",
    "classify_dolibarr",
]

_MAX_MESSAGE = 600
ErrorEntry = tuple[str, str]
"""One error reported by a remote: ``(code, message)``; code as text (``"32"``, ``"400"``)."""


class RemoteError(Exception):
    """Base of every error a client raises. ``remote`` names the remote (``prestashop:fr``)."""

    def __init__(self, remote: str, message: str, *, status: int | None = None, where: str = "") -> None:
        self.remote = remote
        self.status = status
        self.where = where
        self.message = _clip(message)
        super().__init__(self._text())

    def _text(self) -> str:
        parts = [self.remote]
        if self.where:
            parts.append(self.where)
        if self.status is not None:
            parts.append(f"HTTP {self.status}")
        return f"[{' '.join(parts)}] {self.message}"


class Transient(RemoteError):
    """A failure worth retrying; ``retry_after`` (seconds) when the remote said when.

    ``not_applied`` is True when the remote certainly did not apply the request (connection
    refused, 429, Dolibarr's rolled-back validation race): even a POST may then be resent.
    """

    def __init__(
        self,
        remote: str,
        message: str,
        *,
        status: int | None = None,
        where: str = "",
        retry_after: float | None = None,
        not_applied: bool = False,
    ) -> None:
        self.retry_after = retry_after
        self.not_applied = not_applied
        super().__init__(remote, message, status=status, where=where)


class Permanent(RemoteError):
    """A failure that retrying the same request will not fix."""


class RemoteRejected(Permanent):
    """The remote refused the request and said why: ``(remote, status, code, message)``.

    ``errors`` holds every ``(code, message)`` the remote listed, in order.
    """

    def __init__(
        self,
        remote: str,
        status: int | None,
        code: str,
        message: str,
        *,
        where: str = "",
        errors: tuple[ErrorEntry, ...] = (),
    ) -> None:
        self.code = code
        self.errors = errors or ((code, message),)
        super().__init__(remote, message, status=status, where=where)

    def _text(self) -> str:
        base = super()._text()
        return f"{base} (code {self.code})" if self.code else base


class NotFound(RemoteRejected):
    """The object (or list) does not exist on the remote (HTTP 404)."""


class Unauthorized(RemoteRejected):
    """Key missing, wrong, not allowed for this resource/method/shop, or refused by a WAF."""


class NotModified(RemoteError):
    """HTTP 304: nothing changed (conditional GET) or nothing done (Dolibarr action)."""


class MalformedResponse(Permanent):
    """The remote answered something that cannot be parsed for ``resource`` / ``object_id``."""

    def __init__(
        self,
        *,
        remote: str,
        resource: str,
        object_id: str | None,
        detail: str,
        status: int | None = None,
    ) -> None:
        self.resource = resource
        self.object_id = object_id
        self.detail = detail
        where = resource if object_id is None else f"{resource} {object_id}"
        super().__init__(remote, f"malformed response: {detail}", status=status, where=where)


class UnsafeXml(MalformedResponse):
    """An XML document carried a DOCTYPE or entity declaration (refused, never expanded)."""


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta seconds or HTTP date); ``None`` if absent/bad."""
    if not value:
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


# --- body parsing ------------------------------------------------------------------------

_PHP_WARNING = re.compile(r"^\[PHP (Warning|Notice|Deprecated|Error)")


def prestashop_error_entries(body: bytes) -> tuple[ErrorEntry, ...]:
    """``(code, message)`` entries of a PrestaShop error envelope (XML or JSON); ``()`` if none."""
    text = body.strip()
    if not text:
        return ()
    if text[:1] == b"{":
        try:
            data = json.loads(text)
        except ValueError:
            return ()
        errors = data.get("errors") if isinstance(data, dict) else None
        if not isinstance(errors, list):
            return ()
        return tuple(
            (str(item.get("code", "")), str(item.get("message", "")))
            for item in errors
            if isinstance(item, dict)
        )
    if text[:1] == b"<":
        from dolisync.clients.xmlsafe import parse_xml  # xmlsafe imports this module


        try:
            root = parse_xml(text, remote="prestashop", resource="error envelope", object_id=None)
        except MalformedResponse:
            return ()
        return tuple(
            ((node.findtext("code") or "").strip(), (node.findtext("message") or "").strip())
            for node in root.iter("error")
        )
    return ()


def dolibarr_error_entries(body: bytes) -> tuple[ErrorEntry, ...]:
    """``(code, message)`` of Dolibarr's ``{"error": {...}}``, using the **last** such object.

    Some SQL failures print an HTML page and then the JSON error in the same body: the search
    starts from the last ``{"error":``. Numbered detail keys (``"0"``, ``"1"``) are appended
    to the message.
    """
    text = body.decode("utf-8", errors="replace")
    decoder = json.JSONDecoder()
    for match in reversed(list(_ERROR_START.finditer(text))):
        try:
            data, _ = decoder.raw_decode(text, match.start())
        except ValueError:
            continue
        error = data.get("error") if isinstance(data, dict) else None
        if isinstance(error, Mapping):
            message = str(error.get("message", ""))
            details = [str(error[key]) for key in sorted(k for k in error if str(k).isdigit())]
            details = [d for d in details if d and d not in message]
            if details:
                message = f"{message} ({'; '.join(details)})"
            return ((str(error.get("code", "")), message),)
    return ()


_ERROR_START = re.compile(r'\{\s*"error"\s*:')


# --- classification ----------------------------------------------------------------------


def _transient_status(status: int) -> bool:
    return status in (408, 425, 429) or status >= 500


def _transient(remote: str, message: str, status: int, where: str, retry_after: float | None) -> Transient:
    # 429, and 503 with Retry-After, are refusals before any work: safe to resend any method.
    not_applied = status == 429 or (status == 503 and retry_after is not None)
    return Transient(remote, message, status=status, where=where, retry_after=retry_after, not_applied=not_applied)


def classify_prestashop(
    remote: str, status: int, headers: Mapping[str, str], body: bytes, *, where: str
) -> RemoteError:
    """Turn a non-2xx PrestaShop answer into the one error to raise."""
    if status == 304:
        return NotModified(remote, "not modified", status=status, where=where)
    entries = prestashop_error_entries(body)
    retry_after = parse_retry_after(headers.get("retry-after"))
    if status == 404:
        code, message = _primary(entries) if entries else ("", "not found")
        return NotFound(remote, status, code, message, where=where, errors=entries)
    if status in (401, 403):
        code, message = _primary(entries) if entries else ("", _plain_reason(body, status))
        return Unauthorized(remote, status, code, message, where=where, errors=entries)
    if entries and status not in (408, 429, 502, 504):
        code, message = _primary(entries)
        return RemoteRejected(remote, status, code, message, where=where, errors=entries)
    if _transient_status(status):
        return _transient(remote, _plain_reason(body, status), status, where, retry_after)
    if 300 <= status < 400:
        location = "redirect"  # the Location may embed the shop URL: not echoed
        return RemoteRejected(
            remote, status, "", f"unexpected {location} (is id_shop an active shop?)", where=where
        )
    return RemoteRejected(remote, status, "", _plain_reason(body, status), where=where)


_DOLIBARR_RACE = re.compile(r"Duplicate entry .*for key '?uk_[a-z_]*ref", re.IGNORECASE)


def classify_dolibarr(
    remote: str, status: int, headers: Mapping[str, str], body: bytes, *, where: str
) -> RemoteError:
    """Turn a non-2xx Dolibarr answer into the one error to raise."""
    if status == 304:
        return NotModified(remote, "nothing done (already in that state)", status=status, where=where)
    entries = dolibarr_error_entries(body)
    retry_after = parse_retry_after(headers.get("retry-after"))
    code, message = entries[0] if entries else ("", _plain_reason(body, status))
    if status == 404:
        return NotFound(remote, status, code, message, where=where, errors=entries)
    if status in (401, 403):
        if not entries and b"injection" in body.lower():
            message = "refused by Dolibarr's WAF (forbidden character in the URL path)"
        return Unauthorized(remote, status, code, message, where=where, errors=entries)
    if entries and _DOLIBARR_RACE.search(message):
        return Transient(remote, message, status=status, where=where, retry_after=retry_after, not_applied=True)
    if entries and status not in (408, 429, 502, 504):
        return RemoteRejected(remote, status, code, message, where=where, errors=entries)
    if _transient_status(status):
        return _transient(remote, message, status, where, retry_after)
    return RemoteRejected(remote, status, code, message, where=where, errors=entries)


def _primary(entries: tuple[ErrorEntry, ...]) -> ErrorEntry:
    """The first entry that is not a PHP warning (PrestaShop appends those on PHP 8)."""
    for code, message in entries:
        if not _PHP_WARNING.match(message):
            return code, message
    return entries[0]


def _plain_reason(body: bytes, status: int) -> str:
    """A short human text for a body that carries no envelope (HTML is reduced to its text)."""
    text = body[:2000].decode("utf-8", errors="replace")
    if "<" in text:
        text = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", text)
        text = re.sub(r"<[^>]*>", " ", text)
    text = " ".join(text.split())
    return text[:200] if text else f"HTTP {status} with an empty body"
