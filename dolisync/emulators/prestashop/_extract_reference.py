"""Developer tool: rebuild ``reference_shop.json`` from the real 8.2.1 captures.

Usage::

    python -m dolisync.emulators.prestashop._extract_reference /work/shared/reference/prestashop/real

Contract: only captures answered *before the first write* (the fresh demo shop) are read; every
object rendered in full (single GET or ``display=full`` lists) becomes a row (first capture
wins); ids seen only in minimal lists become stub rows. Product images get the captured binary
when the capture holds it, a small placeholder JPEG otherwise. Never run at import time.
"""

from __future__ import annotations

import base64
import json
import sys
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from lxml import etree

from dolisync.emulators.prestashop.schema import load_schema

_CR_MARK = "\ue00d"
_FRESH_BEFORE = "2026-11-28 03:27:00+00:00"
_OUTPUT = Path(__file__).with_name("reference_shop.json")
# Smallest valid JPEG-like payload used when a capture does not hold the image bytes.
PLACEHOLDER_JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQEAYABgAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwc"
    "KDcpLDAxNDQ0Hyc5PTgyPC4zNDL/wAALCAABAAEBAREA/8QAFAABAAAAAAAAAAAAAAAAAAAACf/EABQQAQAAAAAAAAAA"
    "AAAAAAAAAAD/2gAIAQEAAD8AKp//2Q=="
)


def _text(element: etree._Element) -> str:
    return (element.text or "").replace(_CR_MARK, "\r")


def _parse_object(element: etree._Element) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for child in element:
        if not isinstance(child.tag, str):
            continue
        if child.tag == "associations":
            assocs: dict[str, list[dict[str, str]]] = {}
            for assoc in child:
                items = []
                for item in assoc:
                    items.append({sub.tag: _text(sub) for sub in item if isinstance(sub.tag, str)})
                assocs[assoc.tag] = items
            row["associations"] = assocs
            continue
        languages = [c for c in child if isinstance(c.tag, str) and c.tag == "language"]
        if languages:
            row[child.tag] = {str(c.get("id")): _text(c) for c in languages}
        else:
            row[child.tag] = _text(child)
    return row


def extract(real_dir: Path) -> dict[str, Any]:
    """Return the dataset payload (tables, images) of the fresh demo shop."""
    schema = load_schema()
    by_item = {spec.item_node: name for name, spec in schema.resources.items()}
    by_list = {spec.list_node: name for name, spec in schema.resources.items()}
    captures = []
    for path in sorted(real_dir.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if "request" not in data or "headers" not in data:
            continue
        when = parsedate_to_datetime(data["headers"]["Date"])
        if str(when) >= _FRESH_BEFORE or data["request"]["method"] != "GET" or data["status"] != 200:
            continue
        captures.append((when, path.name, data))
    captures.sort(key=lambda c: (c[0], c[1]))
    tables: dict[str, dict[str, dict[str, Any]]] = {}
    stubs: dict[str, set[str]] = {}
    image_bytes: dict[str, bytes] = {}
    for _, name, data in captures:
        request = data["request"]
        if request["path"].startswith("/api/images/products/") and data.get("body_binary"):
            segments = request["path"].split("/")
            if len(segments) == 6 and data["body_binary"].get("base64"):
                image_bytes[segments[5]] = base64.b64decode(data["body_binary"]["base64"])
            continue
        body = data.get("body") or ""
        if body.startswith("{") and "schema=" not in request["query"]:
            _json_stubs(body, by_list, stubs)
            continue
        if not body.startswith("<?xml") or "schema=" in request["query"]:
            continue
        try:
            # XML parsers normalise CR LF; keep the CR of CDATA values through a private-use mark.
            protected = body.replace("\r", _CR_MARK).encode("utf-8")
            root = etree.fromstring(protected, etree.XMLParser(resolve_entities=False, no_network=True))
        except etree.XMLSyntaxError:
            continue
        for top in root:
            if not isinstance(top.tag, str):
                continue
            if top.tag in by_list:
                resource = by_list[top.tag]
                for item in top:
                    if len(item):
                        _keep(tables, resource, _parse_object(item))
                    elif item.get("id"):
                        stubs.setdefault(resource, set()).add(item.get("id") or "")
            elif top.tag in by_item and len(top):
                _keep(tables, by_item[top.tag], _parse_object(top))
    _fill_from_products(tables, stubs)
    for resource, rows in _SUPPLEMENT.items():
        for row in rows:
            tables.setdefault(resource, {}).setdefault(row["id"], {}).update(row)
    for resource, ids in stubs.items():
        table = tables.setdefault(resource, {})
        for id_ in ids:
            table.setdefault(id_, {"id": id_})
    _fill_order_children(tables)
    images = []
    for product in tables.get("products", {}).values():
        for item in (product.get("associations") or {}).get("images", []):
            content = image_bytes.get(item["id"], PLACEHOLDER_JPEG)
            images.append(
                {
                    "id_image": int(item["id"]),
                    "id_product": int(product["id"]),
                    "mime": "image/jpeg",
                    "content": base64.b64encode(content).decode("ascii"),
                }
            )
    return {
        "tables": {
            resource: [table[k] for k in sorted(table, key=lambda v: int(v) if v.isdigit() else 0)]
            for resource, table in sorted(tables.items())
        },
        "images": sorted(images, key=lambda i: i["id_image"]),
    }


# Facts the captures imply without showing the row: product 1 priced with tax in FR
# (products_1_price: 23.90 -> 22.94 with 20 % VAT and the 20 % specific price) needs the FR
# rule of tax group 1; the rule id itself was never captured.
_SUPPLEMENT: dict[str, list[dict[str, Any]]] = {
    "tax_rules": [
        {
            "id": "6",
            "id_tax_rules_group": "1",
            "id_state": "0",
            "id_country": "8",
            "zipcode_from": "0",
            "zipcode_to": "0",
            "id_tax": "1",
            "behavior": "0",
            "description": "",
        }
    ],
    # order_6_after_post names combination 1 (values 1 and 8) "Size: S - Color: White": value 8
    # is White in group 2 (Color). Its French name was never captured.
    "product_option_values": [{"id": "8", "id_attribute_group": "2", "name": {"1": "White", "2": ""}}],
}


def _json_stubs(body: str, by_list: dict[str, str], stubs: dict[str, set[str]]) -> None:
    try:
        value = json.loads(body)
    except ValueError:
        return
    if not isinstance(value, dict):
        return
    for key, items in value.items():
        if key in by_list and isinstance(items, list):
            for item in items:
                if isinstance(item, dict) and "id" in item:
                    stubs.setdefault(by_list[key], set()).add(str(item["id"]))


def _fill_from_products(tables: dict[str, dict[str, dict[str, Any]]], stubs: dict[str, set[str]]) -> None:
    """Give combination and stock rows known only by id their owner (from product associations)."""
    for product in list(tables.get("products", {}).values()):
        assocs = product.get("associations") or {}
        for item in assocs.get("combinations", []):
            row = tables.setdefault("combinations", {}).setdefault(item["id"], {"id": item["id"]})
            row.setdefault("id_product", product["id"])
        for item in assocs.get("stock_availables", []):
            row = tables.setdefault("stock_availables", {}).setdefault(item["id"], {"id": item["id"]})
            row.setdefault("id_product", product["id"])
            row.setdefault("id_product_attribute", item.get("id_product_attribute", "0"))


def _fill_order_children(tables: dict[str, dict[str, dict[str, Any]]]) -> None:
    """The demo orders have one carrier row and one history row each, with the order's id
    (orders 2-5; order 1 also has history 6). Captures after the first write confirm it
    (order_carriers_of_order_4, order_histories_order_4, order_histories_order_5_after_patch)."""
    orders = tables.get("orders", {})
    for order in orders.values():  # each demo order was made from its own cart
        id_cart = order.get("id_cart")
        if id_cart:
            tables.setdefault("carts", {}).setdefault(
                id_cart,
                {
                    "id": id_cart,
                    "id_customer": order.get("id_customer", "0"),
                    "id_address_delivery": order.get("id_address_delivery", "0"),
                    "id_address_invoice": order.get("id_address_invoice", "0"),
                    "id_currency": order.get("id_currency", "1"),
                    "id_lang": order.get("id_lang", "1"),
                    "id_carrier": order.get("id_carrier", "0"),
                    "id_shop": "1",
                    "id_shop_group": "1",
                    "date_add": order.get("date_add", ""),
                    "date_upd": order.get("date_add", ""),
                },
            )
    for id_, order in orders.items():
        carrier = tables.get("order_carriers", {}).get(id_)
        if carrier is not None and len(carrier) == 1:
            carrier.update(
                {
                    "id_order": id_,
                    "id_carrier": order.get("id_carrier", "0"),
                    "id_order_invoice": "0",
                    "weight": "0.000000",
                    "shipping_cost_tax_excl": order.get("total_shipping_tax_excl", "0.000000"),
                    "shipping_cost_tax_incl": order.get("total_shipping_tax_incl", "0.000000"),
                    "tracking_number": "",
                    "date_add": order.get("date_add", ""),
                }
            )
        history = tables.get("order_histories", {}).get(id_)
        if history is not None and len(history) == 1 and order.get("current_state"):
            history.update(
                {
                    "id_employee": "0",
                    "id_order_state": order["current_state"],
                    "id_order": id_,
                    "date_add": order.get("date_add", ""),
                }
            )


def _keep(tables: dict[str, dict[str, dict[str, Any]]], resource: str, row: dict[str, Any]) -> None:
    id_ = str(row.get("id") or "")
    if not id_:
        return
    table = tables.setdefault(resource, {})
    current = table.setdefault(id_, {})
    for key, value in row.items():  # the first capture of a field wins
        if key == "associations":
            assocs = current.setdefault("associations", {})
            for name, items in value.items():
                known = assocs.get(name)
                richer = known is None or (items and known and len(items[0]) > len(known[0]))
                if richer:
                    assocs[name] = items
            continue
        current.setdefault(key, value)


def main(argv: list[str]) -> int:
    """CLI entry: extract from ``argv[1]`` and write reference_shop.json next to this file."""
    real_dir = Path(argv[1] if len(argv) > 1 else "/work/shared/reference/prestashop/real")
    payload = extract(real_dir)
    _OUTPUT.write_text(json.dumps(payload, ensure_ascii=False, indent=0), encoding="utf-8")
    counts = {name: len(rows) for name, rows in payload["tables"].items()}
    print(f"wrote {_OUTPUT} {counts} images={len(payload['images'])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
