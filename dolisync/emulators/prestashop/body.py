"""Parsing of write bodies (XML input, always) with a hardened lxml parser.

Contract: :func:`parse_body` returns the item elements of ``<prestashop>...</prestashop>`` or
raises :class:`WsError` 500 code 127 with the three libxml warnings PrestaShop prints before it.
DOCTYPE declarations and entities are refused (treated as malformed XML), nothing is fetched.
"""

from __future__ import annotations

from lxml import etree

from dolisync.clients.xmlsafe import safe_parser

from dolisync.emulators.prestashop.errors import PHP_ROOT, WsError

__all__ = ["parse_body", "element_text", "ParsedValue"]

ParsedValue = str | dict[int, str]

_WARNING = "[PHP Warning #2] SimpleXMLElement::__construct(): {text} (" + PHP_ROOT + (
    "/classes/webservice/WebserviceRequest.php, line 1544)"
)


_parser = safe_parser


def _xml_error(text: str, detail: str | None, line_text: str, column: int) -> WsError:
    errors: list[tuple[int, str]] = []
    if detail is not None:
        errors.append((3, _WARNING.format(text=f"Entity: line 1: parser error : {detail}")))
        errors.append((3, _WARNING.format(text=line_text)))
        errors.append((3, _WARNING.format(text=" " * max(column - 1, 0) + "^")))
    length = len(text.encode("utf-8"))
    errors.append(
        (127, f"XML error : String could not be parsed as XML\nXML length : {length}\nOriginal XML : {text}")
    )
    return WsError(500, errors)


def parse_body(raw: bytes) -> list[etree._Element]:
    """Item elements of the body (children of the root), or WsError 127."""
    text = raw.decode("utf-8", errors="replace")
    if text.startswith("xml="):
        text = text[4:]
    if not text.strip():
        raise _xml_error(text, None, "", 0)
    parser = _parser()
    try:
        root = etree.fromstring(text.encode("utf-8"), parser)
    except etree.XMLSyntaxError as exc:
        log = parser.error_log  # this parser's own log (the exception's may hold older entries)
        entry = log[0] if len(log) else None
        message = (entry.message if entry else str(exc)).strip()
        line_no = entry.line if entry else 1
        lines = text.splitlines() or [""]
        line_text = lines[min(max(line_no - 1, 0), len(lines) - 1)]
        column = entry.column if entry else 1
        raise _xml_error(text, message, line_text, column) from None
    if root.getroottree().docinfo.doctype:
        raise _xml_error(text, "DOCTYPE is not allowed", text.splitlines()[0], 1)
    return [child for child in root if isinstance(child.tag, str)]


def element_text(element: etree._Element) -> str:
    """Text of an element (CDATA or escaped text), whitespace kept."""
    return element.text or ""


def multilang_value(element: etree._Element, languages: list[int]) -> dict[int, str]:
    """A multilang element: listed languages set, the others emptied; plain text sets all."""
    children = [c for c in element if isinstance(c.tag, str) and c.tag == "language"]
    if not children:
        text = element.text or ""
        return {lang: text for lang in languages}
    values = {lang: "" for lang in languages}
    for child in children:
        raw_id = (child.get("id") or "").strip()
        if raw_id.isdigit():
            values[int(raw_id)] = child.text or ""
    return values
