"""Byte-faithful XML and JSON output of the PrestaShop 8.2.1 webservice.

Contract: objects are first built into a small neutral tree (:class:`OutObject`) from a row,
a :class:`Selection` (which fields/associations) and a :class:`RenderContext` (ws_url, output
languages, shop); :func:`xml_document` / :func:`json_document` then serialise the tree exactly as
``WebserviceOutputXML`` / ``WebserviceOutputJSON`` do (CDATA, tabs, xlinks, array_filter...).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from dolisync.emulators.prestashop.schema import AssocSpec, FieldSpec, ResourceSpec
from dolisync.emulators.prestashop.store import PrestaShopStore, Row
from dolisync.emulators.prestashop.view import ECHO_INT_FIELDS, JSON_INT_FIELDS, association_items, field_value

__all__ = [
    "RenderContext",
    "Selection",
    "OutObject",
    "build_object",
    "xml_document",
    "xml_object",
    "json_dumps",
    "json_object",
    "xml_errors",
    "json_errors",
    "XML_HEAD",
]

XML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n<prestashop xmlns:xlink="http://www.w3.org/1999/xlink">\n'
XML_TAIL = "</prestashop>\n"


@dataclass(slots=True)
class RenderContext:
    """Per-request output settings."""

    store: PrestaShopStore
    ws_url: str
    languages: list[int]
    id_shop: int | None = 1
    lang_range: bool = False  # language=[a,b] form: JSON ids after the first are numbers
    echo: bool = False  # write echo: JSON id is a string


@dataclass(slots=True)
class Selection:
    """Which fields and associations to output; None = all."""

    fields: list[str] | None = None
    assocs: dict[str, list[str] | None] | None = None


@dataclass(slots=True)
class OutField:
    name: str
    value: str | None | dict[int, str]
    href: str | None = None
    attrs: str = ""
    lang_href: bool = True
    json_int: bool = False
    absent: bool = False  # multilang field absent from a write body (null in memory)
    false_if_empty: bool = False  # getter returns PHP false (JSON lists show ``false``)


@dataclass(slots=True)
class OutAssoc:
    spec: AssocSpec
    items: list[tuple[str | None, list[OutField]]]


@dataclass(slots=True)
class OutObject:
    node: str
    fields: list[OutField]
    assocs: list[OutAssoc] | None
    id_value: str = ""
    extra: list[OutField] = field(default_factory=list)


def field_href(ctx: RenderContext, spec: FieldSpec, value: Any, object_id: str) -> str | None:
    """xlink:href of a scalar field, or None (dropped on empty/0 ``id_*`` fields)."""
    if not spec.xlink_resource or isinstance(value, dict):
        return None
    text = "" if value is None else str(value)
    if spec.name.startswith("id_") and text in ("", "0"):
        return None
    if spec.xlink_sub:
        return f"{ctx.ws_url}{spec.xlink_resource}/{spec.xlink_sub}/{object_id}/{text}"
    return f"{ctx.ws_url}{spec.xlink_resource}/{text}"


def build_object(
    ctx: RenderContext,
    spec: ResourceSpec,
    row: Row,
    selection: Selection,
    echo_lang_hrefless: frozenset[str] = frozenset(),
    extra: list[OutField] | None = None,
    echo_absent: frozenset[str] = frozenset(),
) -> OutObject:
    """Build the output tree of ``row`` (fields in resources.json order)."""
    object_id = str(row.get("id", ""))
    wanted = None if selection.fields is None else set(selection.fields)
    fields: list[OutField] = []
    for fspec in spec.visible_fields:
        if wanted is not None and fspec.name not in wanted:
            continue
        if fspec.name == "id":
            value: Any = object_id
        else:
            value = field_value(ctx.store, spec, row, fspec, ctx.id_shop)
        flagged = (fspec.computed or fspec.not_filterable) and not fspec.multilang
        attrs = ' notFilterable="true"' if flagged else ""
        fields.append(
            OutField(
                name=fspec.name,
                value=value,
                href=field_href(ctx, fspec, value, object_id),
                attrs=attrs,
                lang_href=fspec.name not in echo_lang_hrefless,
                absent=fspec.name in echo_absent,
                false_if_empty=(spec.name, fspec.name) == ("products", "manufacturer_name"),
                json_int=(spec.name, fspec.name) in JSON_INT_FIELDS
                or (ctx.echo and (spec.name, fspec.name) in ECHO_INT_FIELDS),
            )
        )
    assocs: list[OutAssoc] | None = None
    if spec.associations and (selection.assocs is None or selection.assocs):
        assocs = []
        for aspec in spec.associations:
            if selection.assocs is not None and aspec.name not in selection.assocs:
                continue
            sub = None if selection.assocs is None else selection.assocs[aspec.name]
            assocs.append(_build_assoc(ctx, spec, row, aspec, sub, object_id))
    return OutObject(spec.item_node, fields, assocs, object_id, list(extra or []))


def _build_assoc(
    ctx: RenderContext,
    spec: ResourceSpec,
    row: Row,
    aspec: AssocSpec,
    sub: list[str] | None,
    object_id: str,
) -> OutAssoc:
    items: list[tuple[str | None, list[OutField]]] = []
    for item in association_items(ctx.store, spec, row, aspec, ctx.id_shop):
        item_id = "" if item.get("id") is None else str(item.get("id"))
        href: str | None = None
        if not aspec.virtual_entity and aspec.api and aspec.name != "product_bundle":
            if aspec.api == "images" and spec.name == "products":
                href = f"{ctx.ws_url}images/products/{object_id}/{item_id}"
            elif aspec.api.startswith("images"):
                href = f"{ctx.ws_url}images/products/{row.get('id_product', '')}/{item_id}"
            else:
                href = f"{ctx.ws_url}{aspec.api}/{item_id}"
        out_fields: list[OutField] = []
        for afield in aspec.fields:
            if sub is not None and afield.name not in sub:
                continue
            raw = item.get(afield.name)
            value = None if raw is None else str(raw)
            afield_href = f"{ctx.ws_url}{afield.xlink_resource}/{value or ''}" if afield.xlink_resource else None
            out_fields.append(OutField(afield.name, value, afield_href))
        items.append((href, out_fields))
    return OutAssoc(aspec, items)


# ---------------------------------------------------------------------------------- XML
def _cdata(value: Any) -> str:
    return f"<![CDATA[{'' if value is None else value}]]>"


def _xml_field(ctx: RenderContext, f: OutField) -> str:
    href = f' xlink:href="{f.href}"' if f.href is not None else ""
    if isinstance(f.value, dict):
        parts = []
        for lang in ctx.languages:
            lhref = f' xlink:href="{ctx.ws_url}languages/{lang}"' if f.lang_href else ""
            parts.append(f'<language id="{lang}"{lhref}>{_cdata(f.value.get(lang, ""))}</language>')
        return f"\t<{f.name}{href}{f.attrs}>{''.join(parts)}</{f.name}>\n"
    return f"\t<{f.name}{href}{f.attrs}>{_cdata(f.value)}</{f.name}>\n"


def xml_object(ctx: RenderContext, obj: OutObject) -> str:
    """XML of one object, starting at its item node (no prologue)."""
    parts = [f"<{obj.node}>\n"]
    parts.extend(_xml_field(ctx, f) for f in obj.fields)
    if obj.assocs is not None:
        parts.append("<associations>\n")
        for assoc in obj.assocs:
            parts.append(_xml_assoc(assoc))
        parts.append("</associations>\n")
    parts.extend(_xml_field(ctx, f) for f in obj.extra)
    parts.append(f"</{obj.node}>\n")
    return "".join(parts)


def _assoc_header(aspec: AssocSpec) -> str:
    if aspec.virtual_entity:
        return f'{aspec.name} nodeType="{aspec.item_node}" virtualEntity="true"'
    api = f' api="{aspec.api}"' if aspec.api else ""
    return f'{aspec.name} nodeType="{aspec.item_node}"{api}'


def _xml_assoc(assoc: OutAssoc) -> str:
    header = _assoc_header(assoc.spec)
    if not assoc.items:
        return f"<{header}/>\n"
    parts = [f"<{header}>\n"]
    node = assoc.spec.item_node
    for href, fields in assoc.items:
        item_href = f' xlink:href="{href}"' if href else ""
        parts.append(f"\t<{node}{item_href}>\n")
        for f in fields:
            fhref = f' xlink:href="{f.href}"' if f.href is not None else ""
            parts.append(f"\t<{f.name}{fhref}>{_cdata(f.value)}</{f.name}>\n")
        parts.append(f"\t</{node}>\n")
    parts.append(f"</{assoc.spec.name}>\n")
    return "".join(parts)


def xml_document(inner: str) -> str:
    """Wrap ``inner`` in the prologue and ``<prestashop>`` root."""
    return XML_HEAD + inner + XML_TAIL


def xml_errors(errors: list[tuple[int, str]]) -> str:
    """The error envelope (no indentation, one ``<error>`` per entry)."""
    body = "".join(
        f"<error>\n<code>{_cdata(code)}</code>\n<message>{_cdata(message)}</message>\n</error>\n"
        for code, message in errors
    )
    return xml_document(f"<errors>\n{body}</errors>\n")


# ---------------------------------------------------------------------------------- JSON
def json_dumps(value: Any) -> str:
    """PHP ``json_encode`` with unescaped unicode (slashes escaped as ``\\/``)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).replace("/", "\\/")


def _json_lang(ctx: RenderContext, value: dict[int, str]) -> Any:
    if len(ctx.languages) == 1:
        return value.get(ctx.languages[0], "")
    out = []
    for index, lang in enumerate(ctx.languages):
        lang_id: Any = lang if ctx.lang_range and index > 0 else str(lang)
        out.append({"id": lang_id, "value": value.get(lang, "")})
    return out


def json_object(ctx: RenderContext, obj: OutObject, single: bool) -> dict[str, Any]:
    """JSON dict of one object; ``single`` applies PHP array_filter to top-level values."""
    out: dict[str, Any] = {}
    for f in obj.fields:
        if f.name == "id":
            text = "" if f.value is None else str(f.value)
            out["id"] = text if ctx.echo or not text.isdigit() else int(text)
        elif isinstance(f.value, dict):
            if f.absent:
                continue
            out[f.name] = _json_lang(ctx, f.value)
        elif f.false_if_empty and f.value in (None, ""):
            out[f.name] = False
        elif f.json_int and f.value not in (None, "") and str(f.value).isdigit():
            out[f.name] = int(str(f.value))
        else:
            out[f.name] = f.value
    if obj.assocs is not None:
        assocs: dict[str, Any] = {}
        for assoc in obj.assocs:
            if assoc.items:
                assocs[assoc.spec.name] = [{f.name: f.value for f in fields} for _, fields in assoc.items]
        if assocs:
            out["associations"] = assocs
    for f in obj.extra:
        out[f.name] = f.value
    if single:
        out = {k: v for k, v in out.items() if v not in ("", "0", 0, None, False, [], {})}
    return out


def json_errors(errors: list[tuple[int, str]]) -> str:
    """``{"errors":[{"code":N,"message":"..."}]}``."""
    return json_dumps({"errors": [{"code": c, "message": m} for c, m in errors]})
