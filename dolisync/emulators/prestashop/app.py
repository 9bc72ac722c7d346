"""The ASGI application emulating the PrestaShop 8.2.1 Webservice (``/api/...``).

Contract: :func:`create_app` returns a Starlette app serving ``store``; every answer follows
WEBSERVICE.md with the [REAL] corrections (statuses, headers, envelopes). Handling order:
no key -> plain 401; webservice disabled -> 503; key checks (17/18/20+21); method validity
(23); resource (27), key rights (26/25), resource methods (101); shop context (302/403);
then the resource handler. Unexpected exceptions are never leaked as tracebacks.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from starlette.requests import Request
from starlette.responses import Response

from dolisync.emulators.prestashop import images as image_handlers
from dolisync.emulators.prestashop.body import parse_body
from dolisync.emulators.prestashop.errors import PHP_ROOT, PhpFatal, WsError, did_you_mean, param_error
from dolisync.emulators.prestashop.listing import (
    apply_filters,
    apply_limit,
    apply_sort,
    parse_display,
    parse_filters,
    parse_languages,
    parse_limit,
    parse_sort,
)
from dolisync.emulators.prestashop.pricing import price_fields
from dolisync.emulators.prestashop.protocol import (
    JSON_TYPE,
    XML_TYPE,
    NoKey,
    authenticate,
    error_response,
    extract_key,
    make_response,
    no_key_response,
)
from dolisync.emulators.prestashop.render import (
    RenderContext,
    Selection,
    build_object,
    json_dumps,
    json_object,
    xml_document,
    xml_object,
)
from dolisync.emulators.prestashop.render_schema import schema_json, schema_xml
from dolisync.emulators.prestashop.schema import ResourceSpec, load_schema
from dolisync.emulators.prestashop.store import PrestaShopStore, Row
from dolisync.emulators.prestashop.view import field_value, row_in_shop
from dolisync.emulators.prestashop.writing import write_items

__all__ = ["create_app", "api_resources"]

_METHODS = ("GET", "PUT", "POST", "PATCH", "DELETE", "HEAD")
_LOG = logging.getLogger(__name__)
_SHOP_FILTERED_BY_COLUMN = ("orders", "customers")


@lru_cache(maxsize=1)
def api_resources() -> tuple[tuple[str, str, bool], ...]:
    """(name, description, has schema) of every resource a full key sees (8.2.1: 69)."""
    raw = json.loads(Path(__file__).with_name("api_resources.json").read_text(encoding="utf-8"))
    return tuple((r["name"], r["description"], bool(r["schema"])) for r in raw)


@lru_cache(maxsize=1)
def _resource_names() -> list[str]:
    return sorted(name for name, _, _ in api_resources())


@dataclass(slots=True)
class Call:
    """One parsed request."""

    method: str
    head: bool
    resource: str
    parts: list[str]
    params: list[tuple[str, str]]
    query: dict[str, str]
    json_output: bool
    permissions: dict[str, list[str]] | None
    started: float
    local_sha1: str | None


def create_app(store: PrestaShopStore, base_url: str = "http://127.0.0.1:8080", faults: Any = None) -> Any:
    """ASGI app serving ``store``; ``base_url`` is the shop URL used in xlinks."""
    ws_url = base_url.rstrip("/") + "/api/"
    schema = load_schema()
    emulator = _Emulator(store, ws_url, schema.resources)

    app: Any = _WebserviceApp(emulator)
    if faults is not None:
        from dolisync.emulators.faults import apply_faults  # noqa: PLC0415 - optional, lands later

        app = apply_faults(app, faults)
    return app


class _WebserviceApp:
    """Raw ASGI entry: every method on ``/api`` and ``/api/...`` goes to the emulator."""

    def __init__(self, emulator: _Emulator) -> None:
        self.emulator = emulator
        self.store = emulator.store

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        path: str = scope.get("path", "")
        if path == "/webservice/dispatcher.php":
            request = Request(scope, receive)
            path = "/api/" + request.query_params.get("url", "")
        if path != "/api" and not path.startswith("/api/"):
            response: Response = Response(b"Not Found", status_code=404, media_type="text/plain")
        else:
            response = await self.emulator.handle(Request(scope, receive), path[5:] if path != "/api" else "")
        await response(scope, receive, send)


class _Emulator:
    def __init__(self, store: PrestaShopStore, ws_url: str, resources: dict[str, ResourceSpec]) -> None:
        self.store = store
        self.ws_url = ws_url
        self.resources = resources

    async def handle(self, request: Request, path: str) -> Response:
        started = time.perf_counter()
        params = parse_qsl(request.url.query, keep_blank_values=True)
        query: dict[str, str] = {}
        for key, value in params:
            query.setdefault(key, value)
        json_output = _wants_json(request, query)
        try:
            return await self._handle(request, path, params, query, json_output, started)
        except _Redirect as exc:
            return Response(
                b"", status_code=302, headers={"Location": exc.location, "Content-Type": "text/html; charset=utf-8"}
            )
        except WsError as exc:
            return error_response(exc, json_output, started, head=request.method == "HEAD")
        except PhpFatal:  # production mode: the fatal error prints nothing
            return Response(b"", status_code=500, headers={"Content-Type": "text/html; charset=utf-8"})
        except Exception as exc:  # noqa: BLE001 - a PrestaShop-shaped 500, never a traceback
            _LOG.exception("prestashop emulator: unexpected error on %s %s", request.method, request.url.path)
            error = WsError(500, [(3, f"[PHP Error] {type(exc).__name__}")])
            return error_response(error, json_output, started)

    async def _handle(
        self,
        request: Request,
        path: str,
        params: list[tuple[str, str]],
        query: dict[str, str],
        json_output: bool,
        started: float,
    ) -> Response:
        try:
            key = extract_key(request.headers.get("authorization"), query.get("ws_key"))
        except NoKey:
            return no_key_response()
        if not self.store.webservice_enabled:
            raise WsError(
                503,
                [(22, "The PrestaShop webservice is disabled. Please activate it in the PrestaShop Back Office")],
                pre_auth=True,
            )
        permissions = authenticate(self.store, key)
        method = request.method.upper()
        override = query.get("ps_method")
        if not override and method == "POST" and "multipart/form-data" in request.headers.get("content-type", ""):
            override = await _form_method(request)  # HTML forms send ps_method as a field
        if override:
            method = override.upper()
        if method not in _METHODS:
            raise WsError(405, [(23, f"Method {method} is not valid")])
        parts = [p for p in path.split("/") if p != ""]
        resource = parts[0] if parts else ""
        call = Call(
            method=method,
            head=method == "HEAD",
            resource=resource,
            parts=parts[1:],
            params=params,
            query=query,
            json_output=json_output,
            permissions=permissions,
            started=started,
            local_sha1=request.headers.get("local-content-sha1"),
        )
        if not resource:
            return self._api_root(call)
        names = _resource_names()
        if resource not in names and resource not in self.resources:
            raise WsError(
                400,
                [
                    (
                        27,
                        did_you_mean(f'Resource of type "{resource}" does not exists.', resource, sorted(names)),
                    )
                ],
            )
        if permissions is not None:
            allowed = permissions.get(resource)
            if allowed is None:
                raise WsError(401, [(26, f'Resource of type "{resource}" is not allowed with this authentication key')])
            if method not in allowed and not (method == "HEAD" and "GET" in allowed):
                raise WsError(
                    405,
                    [(25, f"Method {method} is not allowed for the resource {resource} with this authentication key")],
                )
        id_shop = self._shop_context(call, key)
        if resource == "images":
            return await image_handlers.handle(self, call, request, id_shop)
        spec = self.resources.get(resource)
        if spec is None:
            raise WsError(501, [(42, f'Resource "{resource}" is not implemented by this emulator')])
        if method not in spec.allowed_methods and not (method == "HEAD" and "GET" in spec.allowed_methods):
            raise WsError(405, [(101, f"Method {method} is not allowed for the resource {resource}")])
        if method in ("GET", "HEAD"):
            return self._get(call, spec, id_shop)
        if method == "DELETE":
            return self._delete(call, spec)
        body = await request.body()
        return self._write(call, spec, body, id_shop)

    # ------------------------------------------------------------------ context
    def _shop_context(self, call: Call, key: str) -> int | None:
        raw = call.query.get("id_shop")
        group = call.query.get("id_shop_group", call.query.get("id_group_shop"))
        shops = self.store.shop_ids()
        if raw is None and group is None:
            return shops[0]
        if raw == "all":
            return None
        if raw is not None and raw.isdigit() and int(raw) in shops:
            id_shop = int(raw)
        elif raw is None and group is not None and group.isdigit():
            members = [
                int(s["id"]) for s in self.store.rows("shops") if s.get("id_shop_group", "1") == group
            ]
            if not members:
                raise WsError(500, [(999, "This group shop doesn't have shops")])
            return None if len(members) > 1 else members[0]
        else:
            rest = [(k, v) for k, v in call.params if k not in ("id_shop", "ws_key")]  # never echo a key
            target = "/".join([call.resource, *call.parts])
            location = f"http://{self.store.shop_domain}/?url={quote(target, safe='')}"
            if rest:
                location += "&" + urlencode(rest)
            raise _Redirect(location)
        allowed_shops = self.store.key_shops.get(key)
        if allowed_shops is not None and id_shop not in allowed_shops:
            raise WsError(403, [(132, "No permission for this key on this shop")])
        return id_shop

    def context(self, call: Call, id_shop: int | None, echo: bool = False) -> RenderContext:
        languages, is_range = parse_languages(call.query.get("language"), self.store.active_language_ids())
        return RenderContext(self.store, self.ws_url, languages, id_shop, is_range, echo)

    def respond(self, call: Call, status: int, body: str, content_type: str | None = None) -> Response:
        kind = content_type or (JSON_TYPE if call.json_output else XML_TYPE)
        return make_response(
            status, body, kind, call.started, head=call.head, local_sha1=call.local_sha1
        )

    # ------------------------------------------------------------------ root
    def _api_root(self, call: Call) -> Response:
        if call.json_output:
            return Response(b"", status_code=500, headers={"Content-Type": "text/html; charset=utf-8"})
        lines = [f'<api shopName="{self.store.shop_name()}">\n']
        for name, description, has_schema in api_resources():
            rights = None if call.permissions is None else call.permissions.get(name)
            if call.permissions is not None and rights is None:
                continue

            def flag(method: str, rights: list[str] | None = rights) -> str:
                return "true" if rights is None or method in rights else "false"

            attrs = (
                f'get="{flag("GET")}" put="{flag("PUT")}" post="{flag("POST")}" '
                f'patch="{flag("PATCH")}" delete="{flag("DELETE")}" head="{flag("HEAD")}"'
            )
            href = f"{self.ws_url}{name}"
            lines.append(f'<{name} xlink:href="{href}" {attrs}>\n')
            lines.append(f'<description xlink:href="{href}" {attrs}>\n{description}</description>\n')
            if has_schema:
                lines.append(f'<schema xlink:href="{href}?schema=blank" type="blank"/>\n')
                lines.append(f'<schema xlink:href="{href}?schema=synopsis" type="synopsis"/>\n')
            lines.append(f"</{name}>\n")
        lines.append("</api>\n")
        return self.respond(call, 200, xml_document("".join(lines)))

    # ------------------------------------------------------------------ reads
    def _visible_rows(self, spec: ResourceSpec, id_shop: int | None) -> list[Row]:
        rows = self.store.rows(spec.name)
        if id_shop is None:
            return rows
        if spec.shop_association:
            return [r for r in rows if row_in_shop(r, id_shop)]
        if spec.name in _SHOP_FILTERED_BY_COLUMN:
            return [r for r in rows if r.get("id_shop", str(id_shop)) in (str(id_shop), "")]
        if spec.name == "stock_availables":
            return [r for r in rows if r.get("id_shop") in (str(id_shop), "0", "", None)]
        return rows

    def _get(self, call: Call, spec: ResourceSpec, id_shop: int | None) -> Response:
        schema_kind = call.query.get("schema")
        if schema_kind is not None:
            if schema_kind not in ("blank", "synopsis"):
                raise param_error(
                    28,
                    "Please select a schema of type 'synopsis' to get the whole schema informations "
                    "(which fields are required, which kind of content...) or 'blank' to get an empty "
                    "schema to fill before using POST request",
                )
            if call.json_output:
                return self.respond(call, 200, schema_json(spec))
            languages = self.store.active_language_ids()
            return self.respond(call, 200, schema_xml(spec, schema_kind, self.ws_url, languages))
        is_list = not call.parts
        with_dates = call.query.get("date") == "1"
        aliases = [k[len("price[") :].split("]")[0] for k, _ in call.params if k.startswith("price[")]
        selection, explicit = parse_display(call.query.get("display"), spec, aliases, is_list)
        ctx = self.context(call, id_shop)
        if not is_list:
            id_text = call.parts[0]
            row = self.store.get(spec.name, int(id_text)) if id_text.isdigit() else None
            if row is None:
                return make_response(404, b"", None, call.started, head=call.head)
            if spec.shop_association and id_shop is not None and not row_in_shop(row, id_shop):
                raise WsError(404, [(131, f"This {spec.class_name} ({id_text}) does not exists on this shop")])
            return self._render_rows(call, spec, ctx, [row], selection, aliases, plural=explicit, single=True)
        rows = self._visible_rows(spec, id_shop)

        def getter(row: Row, name: str) -> Any:
            if name == "id":
                return row.get("id", "")
            return field_value(self.store, spec, row, spec.by_name[name], id_shop)

        conditions = parse_filters(call.params, spec, with_dates)
        sort_keys = parse_sort(call.query.get("sort"), spec, with_dates)
        offset, count = parse_limit(call.query.get("limit"))
        rows = self._narrow_by_index(spec, rows, conditions)
        rows = apply_filters(rows, conditions, getter, ctx.languages)
        if sort_keys and not (sort_keys == [("id", False)] and _in_id_order(rows)):
            rows = apply_sort(rows, sort_keys, getter, ctx.languages)
        rows = apply_limit(rows, offset, count)
        return self._render_rows(call, spec, ctx, rows, selection, aliases, plural=True, single=False)

    def _narrow_by_index(self, spec: ResourceSpec, rows: list[Row], conditions: list[Any]) -> list[Row]:
        """Use a secondary index for an equality filter on an integer column (same result)."""
        for cond in conditions:
            fspec = spec.by_name.get(cond.field)
            if (
                cond.kind in ("eq", "in")
                and fspec is not None
                and fspec.type == "int"
                and not fspec.shop_specific
                and all(v.isdigit() and (v == "0" or not v.startswith("0")) for v in cond.values)
            ):
                groups = self.store.index(spec.name, cond.field)
                wanted = {id(r) for v in cond.values for r in groups.get(v, [])}
                return [r for r in rows if id(r) in wanted]
        return rows

    def _render_rows(
        self,
        call: Call,
        spec: ResourceSpec,
        ctx: RenderContext,
        rows: list[Row],
        selection: Selection,
        aliases: list[str],
        plural: bool,
        single: bool,
    ) -> Response:
        minimal = selection.fields == ["id"] and selection.assocs == {} and not single
        if minimal:
            if call.json_output:
                if not rows:
                    return self.respond(call, 200, "[]")
                items = [{"id": int(r["id"])} for r in rows]
                return self.respond(call, 200, json_dumps({spec.list_node: items}))
            body = "".join(
                f'<{spec.item_node} id="{r["id"]}" xlink:href="{self.ws_url}{spec.name}/{r["id"]}"/>\n' for r in rows
            )
            return self.respond(call, 200, xml_document(f"<{spec.list_node}>\n{body}</{spec.list_node}>\n"))
        objects = []
        for row in rows:
            extra = price_fields(self.store, spec, row, call.params, aliases, selection.fields)
            objects.append(build_object(ctx, spec, row, selection, extra=extra))
        if call.json_output:
            if plural:
                if not objects:
                    return self.respond(call, 200, "[]")
                items = [json_object(ctx, o, single=False) for o in objects]
                return self.respond(call, 200, json_dumps({spec.list_node: items}))
            return self.respond(call, 200, json_dumps({spec.item_node: json_object(ctx, objects[0], single=True)}))
        inner = "".join(xml_object(ctx, o) for o in objects)
        if plural and not single:
            inner = f"<{spec.list_node}>\n{inner}</{spec.list_node}>\n"
        return self.respond(call, 200, xml_document(inner))

    # ------------------------------------------------------------------ writes
    def _delete(self, call: Call, spec: ResourceSpec) -> Response:
        if call.parts:
            ids = [call.parts[0]]
        else:
            raw = call.query.get("id", "")
            ids = [p.strip() for p in raw.strip("[]").split(",") if p.strip()]
        missing = [i for i in ids if not i.isdigit() or self.store.get(spec.name, int(i)) is None]
        if missing or not ids:
            raise WsError(404, [(87, "Id(s) not exists: " + ", ".join(missing))])
        for i in ids:
            self.store.delete(spec.name, int(i))
        return make_response(200, b"", None, call.started)

    def _write(self, call: Call, spec: ResourceSpec, body: bytes, id_shop: int | None) -> Response:
        items = parse_body(body)
        ctx = self.context(call, id_shop, echo=True)
        results = write_items(self.store, spec, call.method, items, ctx.languages, id_shop)
        status = 201 if call.method == "POST" else 200
        objects = [
            build_object(
                ctx,
                spec,
                r.echo,
                Selection(),
                echo_lang_hrefless=r.hrefless_multilang,
                echo_absent=r.absent_multilang,
            )
            for r in results
        ]
        if call.json_output:
            if len(objects) == 1:
                payload: dict[str, Any] = {spec.item_node: json_object(ctx, objects[0], single=True)}
            else:
                payload = {spec.list_node: [json_object(ctx, o, single=False) for o in objects]}
            if spec.name == "orders" and call.method == "POST" and spec.item_node in payload:
                payload[spec.item_node]["id"] = int(payload[spec.item_node]["id"])  # validateOrder's int id
            warnings = _partial_multilang_warnings(payload, results, spec)
            if warnings:
                payload["errors"] = warnings
                status = 500
            return make_response(status, json_dumps(payload), JSON_TYPE, call.started)
        inner = "".join(xml_object(ctx, o) for o in objects)
        return make_response(status, xml_document(inner), XML_TYPE, call.started)


class _Redirect(WsError):
    """Shop bootstrap redirect (302) for an id_shop that is no active shop."""

    def __init__(self, location: str) -> None:
        super().__init__(302, [])
        self.location = location


async def _form_method(request: Request) -> str | None:
    try:
        form = await request.form()
    except Exception:  # noqa: BLE001 - a broken form simply has no ps_method
        return None
    value = form.get("ps_method")
    return value if isinstance(value, str) and value else None


def _partial_multilang_warnings(payload: dict[str, Any], results: list[Any], spec: ResourceSpec) -> list[dict[str, Any]]:
    """8.2.1's JSON renderer reads the in-memory multilang arrays: languages missing from the
    body are ``null`` and each raises ``Undefined array key N`` (the write itself is kept)."""
    warnings: list[dict[str, Any]] = []
    items = [payload[spec.item_node]] if spec.item_node in payload else payload.get(spec.list_node, [])
    for item, result in zip(items, results, strict=False):
        for name, missing in result.partial_multilang.items():
            value = item.get(name)
            if isinstance(value, list):
                for entry in value:
                    if int(entry["id"]) in missing:
                        entry["value"] = None
            for lang in sorted(missing):
                warnings.append(
                    {
                        "code": 3,
                        "message": f"[PHP Warning #2] Undefined array key {lang} "
                        f"({PHP_ROOT}/classes/webservice/WebserviceOutputJSON.php, line 98)",
                    }
                )
    return warnings


def _in_id_order(rows: list[Row]) -> bool:
    """True when every id is a plain number and they strictly increase: a sort by id is a no-op.

    The store hands rows out in id order, so a listing sorted ``[id_ASC]`` (every paginated
    read) skips sorting the whole table for each page.
    """
    previous = -1
    for row in rows:
        text = str(row.get("id", ""))
        if not (text.isascii() and text.isdigit()):
            return False
        number = int(text)
        if number <= previous:
            return False
        previous = number
    return True


def _wants_json(request: Request, query: dict[str, str]) -> bool:
    header = request.headers.get("io-format") or request.headers.get("output-format")
    if header is not None:
        return header == "JSON"
    value = query.get("output_format") or query.get("io_format")
    return value == "JSON"
