"""Building PrestaShop Webservice write bodies (``<prestashop><product>...</product></prestashop>``).

Contract of :func:`build_write_xml`:

* ``payload`` maps field names to values: ``str``; ``int``; ``Decimal`` (written in plain
  notation, never exponent); ``bool`` (``1``/``0``); ``None`` (empty element); a
  ``dict[int, str]`` is a **multilang** field written as ``<language id="N">`` children —
  every language of ``languages`` must be present (PrestaShop empties the languages a write
  leaves out, WEBSERVICE.md section 7 [REAL]): a missing one raises :class:`IncompleteMultilang`;
  ``payload["associations"]`` maps an association name to a list of item dicts
  (``{"categories": [{"id": 2}]}``), written with the association's item node.
* Values are written inline (PrestaShop does not trim whitespace), escaped by lxml.
* The item node is the singular of the resource (``products`` -> ``product``,
  ``order_histories`` -> ``order_history``, ``addresses`` -> ``address``, ``taxes`` -> ``tax``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from lxml import etree

__all__ = ["IncompleteMultilang", "item_node_for", "association_item_node", "build_write_xml", "format_value"]

_ASSOCIATION_ITEMS = {
    "accessories": "product",
    "product_bundle": "product",
    "order_rows": "order_row",
}


class IncompleteMultilang(ValueError):
    """A multilang field lacks languages: writing it would empty them in PrestaShop."""

    def __init__(self, field_name: str, missing: Iterable[int]) -> None:
        self.field_name = field_name
        self.missing = sorted(missing)
        super().__init__(
            f"multilang field {field_name!r} lacks language(s) {self.missing}: PrestaShop would empty them; "
            "send every language"
        )


def item_node_for(resource: str) -> str:
    """The XML item node of a resource (its singular)."""
    if resource.endswith("ies"):
        return resource[:-3] + "y"
    if resource.endswith(("sses", "xes")):
        return resource[:-2]
    if resource.endswith("s"):
        return resource[:-1]
    return resource


def association_item_node(association: str) -> str:
    """The item node inside an association list (``categories`` -> ``category``)."""
    return _ASSOCIATION_ITEMS.get(association) or item_node_for(association)


def format_value(value: Any) -> str:
    """Text of a scalar as PrestaShop expects it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, Decimal):
        text = format(value, "f")
        return "0" if text in ("-0", "") else text
    if isinstance(value, float):
        raise TypeError("floats are not written to PrestaShop: use Decimal")
    return str(value)


def build_write_xml(
    resource: str,
    payload: Mapping[str, Any],
    *,
    languages: Iterable[int] | None = None,
) -> bytes:
    """The XML body of a POST/PUT/PATCH of one ``resource`` object (see module contract).

    ``languages`` = every language id of the shop; ``None`` skips the completeness check.
    """
    required = set(languages) if languages is not None else None
    root = etree.Element("prestashop")
    item = etree.SubElement(root, item_node_for(resource))
    for name, value in payload.items():
        if name == "associations":
            _write_associations(item, value)
            continue
        node = etree.SubElement(item, name)
        if isinstance(value, Mapping):
            missing = (required - {int(k) for k in value}) if required is not None else set()
            if missing:
                raise IncompleteMultilang(name, missing)
            for language_id, text in sorted(value.items(), key=lambda kv: int(kv[0])):
                lang = etree.SubElement(node, "language", id=str(int(language_id)))
                lang.text = format_value(text)
        else:
            node.text = format_value(value)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _write_associations(item: etree._Element, associations: Mapping[str, Any]) -> None:
    node = etree.SubElement(item, "associations")
    for name, entries in associations.items():
        assoc = etree.SubElement(node, name)
        for entry in entries or []:
            child = etree.SubElement(assoc, association_item_node(name))
            fields = entry if isinstance(entry, Mapping) else {"id": entry}
            for key, value in fields.items():
                etree.SubElement(child, key).text = format_value(value)
