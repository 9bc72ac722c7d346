"""The web app of ``dolisync run``: webhooks, dashboard, ``/metrics``, ``/healthz``.

Contract of :func:`create_app`:

* ``POST /hooks/prestashop/{shop}``: body signed with the shop's ``webhook_secret``
  (``X-Dolisync-Signature: sha256=<hmac hex>``); ``POST /hooks/dolibarr``: the Dolibarr
  Webhook module's body, with ``[web] dolibarr_webhook_secret`` in ``?secret=`` or the
  ``X-Dolisync-Secret`` header. Unauthenticated -> 401 and nothing stored; malformed -> 400;
  otherwise the event is stored in the inbox (deduplicated) **before** the 202 answer, then
  handed to the executor (``submit``) as a hint. Bodies are never logged.
* Dashboard (``/``, its htmx partials and actions): needs a session (``/login`` with the
  ``[web] token``); without one, pages redirect to ``/login`` and partials answer 401.
  Every POST action checks the CSRF token (403 without it).
* ``/metrics`` (Prometheus text) and ``/healthz`` (200 when the store answers, else 503).
* The app holds no global state: everything is in ``app.state.web`` (:class:`WebState`).
"""

from __future__ import annotations

import asyncio
import hmac
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy import select

from dolisync.logs import get_logger
from dolisync.runtime.jobs import Job
from dolisync.runtime.metrics import CONTENT_TYPE, RuntimeMetrics
from dolisync.runtime.recovery import job_of_event
from dolisync.runtime.work import ProgressBoard
from dolisync.store import Store
from dolisync.sync.failures import FailureKey, FailureQueue
from dolisync.web import views
from dolisync.web.auth import COOKIE_NAME, CSRF_FIELD, CSRF_HEADER, SessionAuth
from dolisync.web.events import (
    BadEvent,
    Hint,
    parse_dolibarr_event,
    parse_prestashop_event,
    store_event,
    verify_prestashop_signature,
)

__all__ = ["MAX_BODY", "WebState", "create_app"]

log = get_logger("dolisync.web")
HERE = Path(__file__).resolve().parent
MAX_BODY = 2 * 1024 * 1024  # Dolibarr order payloads reach 40 KB; invoices with many lines more

Submit = Callable[[Job], Awaitable[bool]]


@dataclass
class WebState:
    """Everything the routes use."""

    settings: Any
    store: Store
    submit: Submit | None = None
    metrics: RuntimeMetrics | None = None
    progress: ProgressBoard = field(default_factory=ProgressBoard)
    auth: SessionAuth = field(init=False)

    def __post_init__(self) -> None:
        self.auth = SessionAuth(self.settings.web.token)

    def shop(self, name: str) -> Any:
        return next((shop for shop in self.settings.shop if shop.name == name), None)

    def count_webhook(self, source: str, result: str) -> None:
        if self.metrics is not None:
            self.metrics.webhook(source, result)


def _state(request: Request) -> WebState:
    state: WebState = request.app.state.web
    return state


async def _body(request: Request) -> bytes | None:
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
        return None
    body = await request.body()
    return body if len(body) <= MAX_BODY else None


async def _accept(state: WebState, hint: Hint) -> JSONResponse:
    event, new = await asyncio.to_thread(store_event, state.store, hint)
    state.count_webhook(hint.source, "stored" if new else "duplicate")
    if state.submit is not None:
        try:
            await state.submit(job_of_event(event))
        except Exception as exc:  # stored already: the executor's sweep will pick it up
            log.warning("could not hand the event to the executor", event_id=event.id, error_class=type(exc).__name__)
    return JSONResponse({"stored": True, "duplicate": not new, "event_id": event.id}, status_code=202)


def _unauthorized(state: WebState, source: str) -> JSONResponse:
    state.count_webhook(source, "unauthorized")
    return JSONResponse({"error": "unauthorized"}, status_code=401)


def create_app(
    settings: Any,
    store: Store,
    *,
    submit: Submit | None = None,
    metrics: RuntimeMetrics | None = None,
    progress: ProgressBoard | None = None,
) -> FastAPI:
    """Build the app (see module docstring)."""
    app = FastAPI(title="dolisync", docs_url=None, redoc_url=None, openapi_url=None)
    state = WebState(settings, store, submit, metrics or RuntimeMetrics(store), progress or ProgressBoard())
    app.state.web = state
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    # --- webhooks ---------------------------------------------------------------------

    @app.post("/hooks/prestashop/{shop}")
    async def prestashop_hook(shop: str, request: Request) -> Response:
        config = state.shop(shop)
        body = await _body(request)
        if body is None:
            return JSONResponse({"error": "body too large"}, status_code=413)
        secret = None
        if config is not None and config.webhook_secret is not None:
            secret = config.webhook_secret.get_secret_value()
        if not verify_prestashop_signature(secret, body, request.headers.get("x-dolisync-signature")):
            return _unauthorized(state, "prestashop")
        try:
            hint = parse_prestashop_event(shop, body)
        except BadEvent as exc:
            state.count_webhook("prestashop", "invalid")
            return JSONResponse({"error": str(exc)}, status_code=400)
        return await _accept(state, hint)

    @app.post("/hooks/dolibarr")
    async def dolibarr_hook(request: Request) -> Response:
        configured = settings.web.dolibarr_webhook_secret
        expected = configured.get_secret_value() if configured is not None else ""
        given = request.headers.get("x-dolisync-secret") or request.query_params.get("secret") or ""
        if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
            return _unauthorized(state, "dolibarr")
        body = await _body(request)
        if body is None:
            return JSONResponse({"error": "body too large"}, status_code=413)
        try:
            hint = parse_dolibarr_event(body)
        except BadEvent as exc:
            state.count_webhook("dolibarr", "invalid")
            return JSONResponse({"error": str(exc)}, status_code=400)
        return await _accept(state, hint)

    # --- health and metrics -----------------------------------------------------------

    @app.get("/healthz")
    async def healthz() -> Response:
        try:
            await asyncio.to_thread(_ping, store)
        except Exception as exc:
            return JSONResponse({"status": "error", "store": type(exc).__name__}, status_code=503)
        return JSONResponse({"status": "ok", "store": "ok", "running": len(state.progress.running())})

    @app.get("/metrics")
    async def metrics_text() -> Response:
        assert state.metrics is not None
        payload = await asyncio.to_thread(state.metrics.render)
        return Response(payload, media_type=CONTENT_TYPE)

    # --- login --------------------------------------------------------------------------

    def session(request: Request) -> str | None:
        return state.auth.session_id(request.cookies.get(COOKIE_NAME))

    def set_session(response: Response) -> None:
        response.set_cookie(COOKIE_NAME, state.auth.new_session(), httponly=True, samesite="strict", path="/")

    @app.get("/login", response_class=HTMLResponse)
    async def login_page(request: Request) -> Response:
        return templates.TemplateResponse(request, "login.html", {"error": None}, status_code=200)

    @app.post("/login")
    async def login(request: Request) -> Response:
        form = await request.form()
        if not state.auth.check_token(str(form.get("token", ""))):
            log.warning("dashboard login refused")
            return templates.TemplateResponse(request, "login.html", {"error": "Wrong token."}, status_code=401)
        response = RedirectResponse("/", status_code=303)
        set_session(response)
        return response

    @app.post("/logout")
    async def logout(request: Request) -> Response:
        sid = session(request)
        if sid is None or not await _csrf_ok(request, sid):
            return PlainTextResponse("forbidden", status_code=403)
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE_NAME, path="/")
        return response

    async def _csrf_ok(request: Request, sid: str) -> bool:
        candidate = request.headers.get(CSRF_HEADER)
        if candidate is None:
            form = await request.form()
            value = form.get(CSRF_FIELD)
            candidate = None if value is None else str(value)
        return state.auth.check_csrf(sid, candidate)

    async def action_session(request: Request) -> str | Response:
        """The session of a dashboard action, or the answer refusing it (401 without login, 403
        without the right CSRF token)."""
        sid = session(request)
        if sid is None:
            return PlainTextResponse("login required", status_code=401)
        if not await _csrf_ok(request, sid):
            return PlainTextResponse("forbidden: missing or wrong CSRF token", status_code=403)
        return sid

    # --- dashboard ----------------------------------------------------------------------

    def page_context(sid: str) -> dict[str, Any]:
        return {"csrf": state.auth.csrf_token(sid), "shops": [shop.name for shop in settings.shop]}

    @app.get("/", response_class=HTMLResponse)
    async def index(request: Request) -> Response:
        sid = session(request)
        if sid is None:
            if state.auth.login_required:
                return RedirectResponse("/login", status_code=303)
            response = RedirectResponse("/", status_code=303)
            set_session(response)
            return response
        data = await asyncio.to_thread(_dashboard_data, state)
        config = json.dumps(settings.masked(), indent=2, sort_keys=True, default=str)
        return templates.TemplateResponse(request, "index.html", {**page_context(sid), **data, "config": config})

    @app.get("/partials/{name}", response_class=HTMLResponse)
    async def partial(name: str, request: Request) -> Response:
        sid = session(request)
        if sid is None:
            return PlainTextResponse("login required", status_code=401)
        if name not in ("overview", "running", "failures", "reconciliation"):
            return PlainTextResponse("not found", status_code=404)
        data = await asyncio.to_thread(_dashboard_data, state)
        return templates.TemplateResponse(request, f"_{name}.html", {**page_context(sid), **data})

    @app.get("/partials/failure/{key:path}", response_class=HTMLResponse)
    async def failure_row(key: str, request: Request) -> Response:
        sid = session(request)
        if sid is None:
            return PlainTextResponse("login required", status_code=401)
        try:
            failure_key = FailureKey.parse(key)
        except ValueError:
            return PlainTextResponse("bad key", status_code=400)
        failure = await asyncio.to_thread(FailureQueue(store).get, failure_key)
        return templates.TemplateResponse(
            request, "_failure_row.html", {**page_context(sid), "key": str(failure_key), "failure": failure,
                                           "quote": quote},
        )

    @app.post("/failures/retry", response_class=HTMLResponse)
    async def retry(request: Request) -> Response:
        sid = await action_session(request)
        if isinstance(sid, Response):
            return sid
        form = await request.form()
        try:
            key = FailureKey.parse(str(form.get("key", "")))
        except ValueError:
            return PlainTextResponse("bad key", status_code=400)
        changed = await asyncio.to_thread(FailureQueue(store).retry, key)
        if changed and state.submit is not None:
            await state.submit(Job.retry(key.connection, key.entity, key.source_id))
        failure = await asyncio.to_thread(FailureQueue(store).get, key)
        return templates.TemplateResponse(
            request, "_failure_row.html",
            {**page_context(sid), "key": str(key), "failure": failure, "retrying": True, "quote": quote},
        )

    @app.post("/sync-now", response_class=HTMLResponse)
    async def sync_now(request: Request) -> Response:
        sid = await action_session(request)
        if isinstance(sid, Response):
            return sid
        form = await request.form()
        shop = str(form.get("shop", ""))
        order = str(form.get("order", "")).strip()
        if state.shop(shop) is None or not order or len(order) > 64:
            return HTMLResponse('<p class="bad">Choose a shop and give an order id or reference.</p>', status_code=400)
        hint = Hint("dashboard", shop, "orders", order if not order.isdigit() else str(int(order)),
                    marker=None)
        event, new = await asyncio.to_thread(store_event, store, hint)
        if state.submit is not None:
            await state.submit(job_of_event(event))
        message = "queued" if new else "already queued"
        return templates.TemplateResponse(request, "_flash.html", {"message": f"Order {order} of {shop}: {message}."})

    return app


def _ping(store: Store) -> None:
    with store.read() as conn:
        conn.execute(select(1)).scalar_one()


def _dashboard_data(state: WebState) -> dict[str, Any]:
    return {
        "rows": views.overview(state.store),
        "running": state.progress.running(),
        "stored_running": views.running_runs(state.store),
        "failures": views.failures(state.store),
        "reconciliation": views.recent_reconciliation(state.store),
        "quote": quote,
    }
