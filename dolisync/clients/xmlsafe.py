"""Safe XML for the PrestaShop Webservice: parsing that refuses DOCTYPE/entities, and the
conversion of PrestaShop XML into the same dict shape as its JSON output.

Contract:

* :func:`parse_xml` never expands an entity, never loads a DTD, never touches the network, and
  refuses any document with a DOCTYPE (raises :class:`~dolisync.clients.errors.UnsafeXml`).
  Malformed XML raises :class:`~dolisync.clients.errors.MalformedResponse` naming the resource
  and id.
* :func:`element_to_item` turns ``<product>...</product>`` into what ``output_format=JSON``
  would give: scalar fields as text, multilang fields as ``[{"id": "1", "value": "..."}]``,
  ``associations`` as ``{"categories": [{"id": "2"}, ...]}``. Typed records then parse either.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from dolisync.clients.errors import MalformedResponse, UnsafeXml

__all__ = ["parse_xml", "element_to_item", "safe_parser", "XLINK_HREF"]

XLINK_HREF = "{http://www.w3.org/1999/xlink}href"


def safe_parser() -> etree.XMLParser:
    """An lxml parser that refuses DTDs, entities and network access (a new one per call: lxml
    parsers are not thread-safe to share). Used for every XML body we read, ours or a client's."""
    return etree.XMLParser(
        resolve_entities=False,
        load_dtd=False,
        dtd_validation=False,
        no_network=True,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def parse_xml(body: bytes, *, remote: str, resource: str, object_id: str | None) -> etree._Element:
    """Parse ``body`` safely (see module contract) and return the root element."""
    head = body[:4096].lower()
    if b"<!doctype" in head or b"<!entity" in body.lower():
        raise UnsafeXml(remote=remote, resource=resource, object_id=object_id, detail="DOCTYPE/ENTITY refused")
    try:
        root = etree.fromstring(body, safe_parser())
    except etree.XMLSyntaxError as exc:
        raise MalformedResponse(
            remote=remote, resource=resource, object_id=object_id, detail=f"invalid XML ({exc.msg})"
        ) from None
    if root is None:
        raise MalformedResponse(remote=remote, resource=resource, object_id=object_id, detail="empty XML")
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise UnsafeXml(remote=remote, resource=resource, object_id=object_id, detail="DOCTYPE refused")
    return root


def _text(node: etree._Element) -> str:
    return node.text or ""


def element_to_item(node: etree._Element) -> dict[str, Any]:
    """Convert one PrestaShop entity element into its JSON-shaped dict (see module contract)."""
    item: dict[str, Any] = {}
    if node.get("id") is not None and len(node) == 0:  # list item <product id="1" .../>
        return {"id": node.get("id")}
    for child in node:
        if not isinstance(child.tag, str):
            continue
        if child.tag == "associations":
            item["associations"] = {
                assoc.tag: [_association_item(entry) for entry in assoc if isinstance(entry.tag, str)]
                for assoc in child
                if isinstance(assoc.tag, str)
            }
        elif len(child) and all(grand.tag == "language" for grand in child):
            item[child.tag] = [{"id": lang.get("id", ""), "value": _text(lang)} for lang in child]
        else:
            item[child.tag] = _text(child)
    return item


def _association_item(entry: etree._Element) -> dict[str, Any]:
    if len(entry) == 0:
        return {"id": entry.get("id") or _text(entry)}
    return {sub.tag: _text(sub) for sub in entry if isinstance(sub.tag, str)}
