"""HTTP-level rules of the webservice: authentication, output format, headers, responses.

Contract: :func:`authenticate` returns the key's permissions or raises the exact 8.2.1 errors
(plain-text 401 without key is signalled by :class:`NoKey`); :func:`make_response` builds the
header set PrestaShop sends (``Access-Time``, ``X-Powered-By``, ``PSWS-Version``,
``Content-Type``, ``Execution-Time``, ``Content-Sha1``) and handles ``Local-Content-Sha1``/304
and HEAD.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import time

from starlette.responses import Response

from dolisync.emulators.prestashop.errors import WsError
from dolisync.emulators.prestashop.render import json_errors, xml_errors
from dolisync.emulators.prestashop.store import PrestaShopStore

__all__ = [
    "NoKey",
    "REALM",
    "XML_TYPE",
    "JSON_TYPE",
    "extract_key",
    "authenticate",
    "make_response",
    "error_response",
    "no_key_response",
]

REALM = (
    'Basic realm="Welcome to PrestaShop Webservice, please enter the authentication key as the '
    'login. No password required."'
)
XML_TYPE = "text/xml;charset=utf-8"
JSON_TYPE = "application/json"
VERSION = "8.2.1"


class NoKey(Exception):
    """No key at all: the dispatcher answers a plain-text 401."""


def extract_key(authorization: str | None, query_key: str | None) -> str:
    """The key from Basic auth (username) or ``ws_key``; NoKey when neither is present."""
    if authorization and authorization.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(authorization[6:].strip(), validate=False).decode("utf-8", "replace")
        except (binascii.Error, ValueError):
            decoded = ""
        return decoded.split(":", 1)[0]
    if query_key is not None:
        return query_key
    raise NoKey()


def authenticate(store: PrestaShopStore, key: str) -> dict[str, list[str]] | None:
    """Permissions of ``key`` (None = all) or WsError 401 codes 17 / 18 / 20+21."""
    if key == "":
        raise WsError(401, [(17, "Authentication key is empty")], www_authenticate=True, pre_auth=True)
    if len(key) != 32:
        raise WsError(401, [(18, "Invalid authentication key format")], www_authenticate=True, pre_auth=True)
    if key not in store.api_keys or key in store.inactive_keys:
        raise WsError(
            401,
            [(20, "Authentification key is not active"), (21, "No permission for this authentication key")],
            www_authenticate=True,
            pre_auth=True,
        )
    return store.api_keys[key]


def _headers(started: float, pre_auth: bool) -> dict[str, str]:
    elapsed = round(time.perf_counter() - started, 3)
    return {
        "Access-Time": str(int(time.time())),
        "X-Powered-By": "PrestaShop Webservice",
        "PSWS-Version": "0" if pre_auth else VERSION,
        "Execution-Time": "0" if pre_auth else _php_float(elapsed),
    }


def _php_float(value: float) -> str:
    text = repr(value)
    return text[:-2] if text.endswith(".0") else text


def make_response(
    status: int,
    body: bytes | str,
    content_type: str | None,
    started: float,
    *,
    head: bool = False,
    local_sha1: str | None = None,
    sha1: bool = True,
    extra: dict[str, str] | None = None,
    pre_auth: bool = False,
) -> Response:
    """A webservice answer with PrestaShop's headers (Content-Sha1 on successful bodies)."""
    raw = body.encode("utf-8") if isinstance(body, str) else body
    headers = _headers(started, pre_auth)
    if extra:
        headers.update(extra)
    digest = hashlib.sha1(raw).hexdigest() if (raw and sha1) else None
    if digest is not None:
        headers["Content-Sha1"] = digest
    if digest is not None and local_sha1 is not None and local_sha1 == digest and status == 200:
        return Response(b"", status_code=304, headers=headers)
    if content_type and (raw or head or status >= 400):
        # behind nginx + php-fpm an empty body has no Content-Type at all (DIFFERENCES §6)
        headers["Content-Type"] = content_type
    response = Response(b"" if head else raw, status_code=status, headers=headers)
    if head:
        response.headers["content-length"] = str(len(raw))  # HEAD announces the GET length
    return response


def error_response(exc: WsError, json_output: bool, started: float, head: bool = False) -> Response:
    """Render a WsError envelope in the requested format."""
    body = json_errors(exc.errors) if json_output else xml_errors(exc.errors)
    extra: dict[str, str] = {"WWW-Authenticate": REALM} if exc.www_authenticate else {}
    if exc.sha1:
        extra["Content-Sha1"] = hashlib.sha1(b"").hexdigest()
    return make_response(
        exc.status,
        body,
        JSON_TYPE if json_output else XML_TYPE,
        started,
        head=head,
        sha1=False,
        extra=extra,
        pre_auth=exc.pre_auth,
    )


def no_key_response() -> Response:
    """Plain-text 401 of the dispatcher (no XML, no PSWS headers)."""
    return Response(
        "401 Unauthorized",
        status_code=401,
        headers={"WWW-Authenticate": REALM, "Content-Type": "text/html; charset=utf-8"},
    )
