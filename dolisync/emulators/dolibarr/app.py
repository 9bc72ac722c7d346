"""The Dolibarr emulator as an ASGI application.

``create_app(state)`` answers under ``/api/index.php/...`` in the order Dolibarr does:

1. the WAF: a forbidden character in the (decoded) path -> 403 HTML;
2. an unknown top-level resource -> 501 plain text;
3. routing: non-numeric id -> 400, no such route -> 404 (405 for another method);
4. malformed JSON body -> 400;
5. authentication (``DOLAPIKEY`` header, ``Authorization: Bearer``, ``?DOLAPIKEY=``): none ->
   401 naming ``HTTP_DOLAPIKEY``; a wrong key -> 401 after ``auth_failure_delay`` seconds;
6. rights (``state.user_rights``) -> 403; then the handler.

Area modules are found by name in :data:`AREA_MODULES` and imported when present, so the app
works while some areas are not written yet. Handlers never leak a Python traceback: an
unexpected exception answers a Dolibarr-shaped 500.
"""

from __future__ import annotations

import importlib
import json
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from dolisync.emulators.dolibarr.core import (
    STAGES_AUTH, STAGES_ROUTE, STAGES_SETUP, ApiError, Call, DolibarrRouter, api_error, api_not_found, error_response,
    json_response, run_handler, waf_refusal,
)
from dolisync.emulators.dolibarr.state import DolibarrState

__all__ = ["create_app", "DolibarrEmulator", "AREA_MODULES", "build_router"]

BASE_PATH = "/api/index.php"

#: Area modules registered when importable (``dolisync.emulators.dolibarr.<name>``).
AREA_MODULES: tuple[str, ...] = (
    "setup_api", "catalog", "cat_variants", "cat_categories", "cat_currencies", "cat_users", "stock", "documents",
    "thirdparties", "contacts", "orders", "invoices", "payments", "bank", "shipments", "webhooks",
)

_WAF_CHARS = frozenset(":;\"'<>?(){}$%#")

_MISSING_KEY = ("Failed to login to API. Neither parameter 'HTTP_DOLAPIKEY' nor 'Authentication: Bearer' "
                "found on HTTP header (and no parameter DOLAPIKEY in URL).")
_BAD_KEY = "Error user not valid (not found with api key or bad status or bad validity dates) (conf->entity=1)"


def build_router(modules: tuple[str, ...] = AREA_MODULES) -> DolibarrRouter:
    """A router with every importable area module registered."""
    router = DolibarrRouter()
    for name in modules:
        qualified = f"dolisync.emulators.dolibarr.{name}"
        try:
            module = importlib.import_module(qualified)
        except ModuleNotFoundError as exc:
            if exc.name == qualified:
                continue
            raise
        register = getattr(module, "register", None)
        if register is not None:
            register(router)
    return router


class DolibarrEmulator:
    """ASGI callable serving one :class:`DolibarrState` (see module docstring)."""

    def __init__(self, state: DolibarrState, router: DolibarrRouter, *, auth_failure_delay: float = 1.0,
                 debug: bool = True) -> None:
        self.state = state
        self.router = router
        self.auth_failure_delay = auth_failure_delay
        self.debug = debug

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        try:
            response = await self._answer(request)
        except ApiError as exc:
            response = error_response(exc, debug=self.debug)
        except Exception as exc:  # noqa: BLE001 - the emulator must answer like PHP, not crash
            response = api_error(500, f"Emulator internal error: {type(exc).__name__}", debug=self.debug)
        await response(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _answer(self, request: Request) -> Response:
        path: str = request.scope["path"]
        if path in (BASE_PATH, BASE_PATH + "/"):  # no resource: Restler's route-stage 404 (real 23.0.0-beta)
            raise ApiError(404, "", stages=STAGES_ROUTE, source="Routes.php:457")
        if not path.startswith(BASE_PATH + "/"):
            return Response(b"Not Found", status_code=404, media_type="text/plain")
        if any(char in _WAF_CHARS for char in path):
            client = request.client.host if request.client else "127.0.0.1"
            return waf_refusal(path, client)
        parts = path[len(BASE_PATH) + 1:].split("/")
        while len(parts) > 1 and parts[-1] == "":
            parts.pop()
        if parts[0] not in self.router.resources:
            return api_not_found()
        method = request.method.upper()
        match = self.router.match(method, parts)
        if match.route is None:
            assert match.error is not None
            raise match.error
        body = await self._body(request, method)
        login = await self._authenticate(request)
        route = match.route
        if route.perm is not None:
            rights = self.state.rights_of(login)
            if rights is not None and route.perm not in rights:
                raise ApiError(403, route.forbidden_text)
        call = Call(self.state, request, match.params, request.query_params, body, login, method)
        result = await run_handler(route, call)
        if isinstance(result, Response):
            return result
        return json_response(result)

    async def _body(self, request: Request, method: str) -> Any:
        if method not in {"POST", "PUT", "DELETE"}:
            return None
        raw = await request.body()
        if not raw.strip():
            return None
        try:
            return json.loads(raw)
        except (ValueError, RecursionError):
            raise ApiError(400, "Error encoding/decoding JSON: Syntax error", stages=STAGES_SETUP,
                           source="JsonFormat.php:154") from None

    async def _authenticate(self, request: Request) -> str:
        key = request.headers.get("dolapikey")
        if not key:
            authorization = request.headers.get("authorization", "")
            if authorization[:7].lower() == "bearer ":
                key = authorization[7:].strip()
        if not key:
            key = request.query_params.get("DOLAPIKEY")
        if not key:
            raise ApiError(401, _MISSING_KEY, stages=STAGES_AUTH, source="api_access.class.php:317")
        login = self.state.api_keys.get(key)
        if login is None:
            if self.auth_failure_delay > 0:
                await anyio.sleep(self.auth_failure_delay)
            raise ApiError(401, _BAD_KEY, stages=STAGES_AUTH, source="api_access.class.php:242")
        return login


def create_app(state: DolibarrState, *, faults: Any = None, auth_failure_delay: float = 1.0,
               debug: bool = True) -> ASGIApp:
    """The emulator for ``state`` (paths under ``/api/index.php``), optionally wrapped with faults.

    ``faults`` is a ``dolisync.emulators.faults.FaultPlan``; when given, the app is wrapped by
    ``dolisync.emulators.faults.apply_faults`` (imported only then). ``debug`` adds Restler's
    ``debug`` member to errors, like an instance with ``$dolibarr_main_prod = 0``.
    """
    app: ASGIApp = DolibarrEmulator(state, build_router(), auth_failure_delay=auth_failure_delay, debug=debug)
    try:
        from dolisync.emulators.dolibarr import webhooks
    except ModuleNotFoundError as exc:
        if exc.name != "dolisync.emulators.dolibarr.webhooks":
            raise
    else:
        webhooks.install(state)  # catalogue events reach the configured webhook targets too
    if faults is not None:
        from dolisync.emulators.faults import apply_faults

        app = apply_faults(app, faults)
    return app
