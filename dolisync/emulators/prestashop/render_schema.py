"""``?schema=blank`` and ``?schema=synopsis`` documents (XML and the degenerate JSON form).

Contract: blank = every writable field empty (read-only fields omitted), no xlinks, one empty
item per association; synopsis = no ``<id>``, constraint attributes (required, maxSize, format,
notFilterable, read_only/readOnly), association headers. JSON keeps only the associations.
"""

from __future__ import annotations

from typing import Any

from dolisync.emulators.prestashop.render import XML_HEAD, XML_TAIL, json_dumps
from dolisync.emulators.prestashop.schema import AssocSpec, FieldSpec, ResourceSpec

__all__ = ["schema_xml", "schema_json"]


def _field_attrs(f: FieldSpec) -> str:
    attrs = ""
    if (f.computed or f.not_filterable) and not f.multilang:
        attrs += ' notFilterable="true"'
    if f.read_only:
        attrs += ' read_only="true"'
    if f.required:
        attrs += ' required="true"'
    if f.size is not None:
        attrs += f' maxSize="{f.size}"'
    if f.validate:
        attrs += f' format="{f.validate[0]}"'
    if f.read_only or f.synopsis_read_only:
        attrs += ' readOnly="true"'
    return attrs


def _assoc_header(aspec: AssocSpec) -> str:
    if aspec.virtual_entity:
        return f'{aspec.name} nodeType="{aspec.item_node}" virtualEntity="true"'
    api = f' api="{aspec.api}"' if aspec.api else ""
    return f'{aspec.name} nodeType="{aspec.item_node}"{api}'


def schema_xml(spec: ResourceSpec, kind: str, ws_url: str, languages: list[int]) -> str:
    """The XML schema document of ``spec`` (kind = blank | synopsis)."""
    synopsis = kind == "synopsis"
    parts = [f"<{spec.item_node}>\n"]
    for f in spec.visible_fields:
        if synopsis and f.name == "id":
            continue
        if not synopsis and f.read_only:
            continue
        attrs = _field_attrs(f) if synopsis else ""
        if f.multilang:
            if synopsis:
                langs = "".join(
                    f'<language id="{lang}" xlink:href="{ws_url}languages/{lang}" format="isUnsignedId" >'
                    "<![CDATA[]]></language>"
                    for lang in languages
                )
            else:
                langs = "".join(f'<language id="{lang}"><![CDATA[]]></language>' for lang in languages)
            parts.append(f"\t<{f.name}{attrs}>{langs}</{f.name}>\n")
        else:
            parts.append(f"\t<{f.name}{attrs}><![CDATA[]]></{f.name}>\n")
    if spec.associations:
        parts.append("<associations>\n")
        for aspec in spec.associations:
            header = _assoc_header(aspec) if synopsis else aspec.name
            parts.append(f"<{header}>\n\t<{aspec.item_node}>\n")
            for af in aspec.fields:
                attrs = ""
                if synopsis:
                    if af.xlink_resource:
                        attrs += f' xlink:href="{ws_url}{af.xlink_resource}/"'
                    if af.required:
                        attrs += ' required="true"'
                    if af.read_only:
                        attrs += ' read_only="true" readOnly="true"'
                parts.append(f"\t<{af.name}{attrs}><![CDATA[]]></{af.name}>\n")
            parts.append(f"\t</{aspec.item_node}>\n</{aspec.name}>\n")
        parts.append("</associations>\n")
    parts.append(f"</{spec.item_node}>\n")
    return XML_HEAD + "".join(parts) + XML_TAIL


def schema_json(spec: ResourceSpec) -> str:
    """JSON schema: every empty top-level value filtered out, only associations survive."""
    body: dict[str, Any] = {}
    if spec.associations:
        body["associations"] = {
            a.name: [{f.name: None for f in a.fields}] for a in spec.associations
        }
    return json_dumps({spec.item_node: body})
