"""Replay every capture of ``reference/prestashop/real`` against the emulator (one test each).

Each test starts from a fresh reference shop (the demo shop before any write), applies the
small setup a capture needs (webservice disabled, second shop), sends the recorded request and
compares the answer (see ``replay.py``). Captures listed in
``tests/contract/UNSUPPORTED.md`` depend on shop state the reference dataset does not
hold; for them only the weaker invariant is checked (PrestaShop-shaped answer, same status class).
"""

from __future__ import annotations

import base64
import json
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import httpx2
import pytest
from lxml import etree

from dolisync.emulators.prestashop import PrestaShopStore, create_app
from dolisync.emulators.prestashop._extract_reference import PLACEHOLDER_JPEG
from dolisync.emulators.prestashop.reference import REFERENCE_BASE_URL, REFERENCE_KEYS

from .conftest import fresh_reference_store
from .replay import REAL_DIR, Masking, count_items, decode_binary, json_outline, unsupported, xml_outline

UNSUPPORTED_FILE = Path(__file__).resolve().parents[1] / "UNSUPPORTED.md"
_FRESH_BEFORE = "2026-11-28 03:27:00+00:00"
_KEY_BY_LABEL = {
    "full-permission key": REFERENCE_KEYS["full"],
    "limited key: products GET+HEAD only": REFERENCE_KEYS["limited"],
    "existing but inactive key": REFERENCE_KEYS["inactive"],
}
_MULTISTORE = ("multishop_", "error_403_key_not_on_shop", "error_404_not_on_shop")

# The recorded write scenario, in the order it ran on the real shop (same-second captures are
# ordered by what the later reads show). A capture that depends on earlier writes is replayed
# after the script prefix it needs, so that ids and state match the recording.
SCRIPT = [
    "error_400_unknown_association-json",
    "error_400_unknown_association-xml",
    "post_product_minimal-xml",
    "post_product-xml",
    "post_product-json",
    "put_product_roundtrip-xml",
    "put_product_sparse-xml",
    "patch_product-xml",
    "patch_product-json",
    "put_product_url_id_mismatch-xml",
    "post_combination-xml",
    "put_stock_available-xml",
    "patch_stock_available-json",
    "patch_stock_available_simple-xml",
    "post_specific_price-xml",
    "post_image_product-xml",
    "post_customer-xml",
    "post_customer-json",
    "post_address-xml",
    "post_order_history-xml",
    "post_order_history_sendemail-json",
    "post_order_history_shipped-xml",
    "patch_order_carrier_tracking-xml",
    "delete_address-xml",
    "delete_combination-xml",
    "delete_customer-xml",
    "delete_specific_price-xml",
    "delete_product-xml",
    "delete_product_again-xml",
    "delete_products_many-json",
    "post_product_unknown_element-xml",
    "patch_product_one_language-xml",
    "put_product_one_language-xml",
    "patch_product_plain_multilang-xml",
    "patch_product_whitespace_value-xml",
    "post_ps_method_patch-xml",
    "post_two_products_one_body-xml",
    "delete_products_cleanup-xml",
    "post_cart-xml",
    "post_order-xml",
    # carts 7 and 8 were made like cart 6 but not captured (README section 5): same request again
    "post_cart-xml#cart7",
    "post_cart-xml#cart8",
    "post_order_correct_total-xml",
    "post_order_correct_total-json",
    "patch_order_current_state-xml",
]
AFTER = {
    "get_product_minimal_after_post-xml": "post_product_minimal-xml",
    "get_product_minimal_after_post-json": "post_product_minimal-xml",
    "get_product_after_post-xml": "post_product-json",
    "get_product_after_post-json": "post_product-json",
    "get_product_after_patch-xml": "patch_product-xml",
    "get_product_after_put_roundtrip-xml": "put_product_roundtrip-xml",
    "get_product_after_put_sparse-xml": "put_product_sparse-xml",
    "get_product_after_put_sparse-json": "put_product_sparse-xml",
    "get_product2_after_patch-json": "patch_product-json",
    "get_product2_after_url_mismatch-xml": "put_product_url_id_mismatch-xml",
    "get_product_min_after_url_mismatch-xml": "put_product_url_id_mismatch-xml",
    "get_product_with_new_combination-xml": "post_combination-xml",
    "stock_availables_of_new_product-xml": "post_combination-xml",
    "stock_availables_after_put-xml": "put_stock_available-xml",
    "stock_availables_after_patch-json": "patch_stock_available-json",
    "get_product_min_quantity_after_stock-xml": "patch_stock_available_simple-xml",
    "get_product_price_with_reduction-xml": "post_specific_price-xml",
    "get_product_after_image-xml": "post_image_product-xml",
    "images_product_new-xml": "post_image_product-xml",
    "get_customer_after_post-xml": "post_customer-xml",
    "get_customer_after_post-json": "post_customer-xml",
    "order_4_after_state_change-xml": "post_order_history-xml",
    "order_4_after_state_change-json": "post_order_history-xml",
    "order_histories_order_4-xml": "post_order_history-xml",
    "order_histories_order_4-json": "post_order_history-xml",
    "order_invoices_list-xml": "post_order_history_sendemail-json",
    "order_invoices_list-json": "post_order_history_sendemail-json",
    "order_payments_list-xml": "post_order_history_sendemail-json",
    "order_4_after_shipped-xml": "post_order_history_shipped-xml",
    "order_4_shipping_number-xml": "patch_order_carrier_tracking-xml",
    "order_carriers_of_order_4-xml": "post_order_history_shipped-xml",
    "order_carriers_of_order_4-json": "post_order_history_shipped-xml",
    "order_invoice_first-xml": "patch_order_carrier_tracking-xml",
    "order_invoice_first-json": "patch_order_carrier_tracking-xml",
    "order_payment_first-xml": "patch_order_carrier_tracking-xml",
    "order_payment_first-json": "patch_order_carrier_tracking-xml",
    "order_payments_by_reference-xml": "patch_order_carrier_tracking-xml",
    "order_payments_by_reference-json": "patch_order_carrier_tracking-xml",
    "order_payments_list-json": "patch_order_carrier_tracking-xml",
    "get_deleted_product-xml": "delete_product-xml",
    "get_after_patch_one_language-xml": "patch_product_one_language-xml",
    "get_after_put_one_language-xml": "put_product_one_language-xml",
    "order_5_after_patch_state-xml": "patch_order_current_state-xml",
    "order_6_after_post-xml": "post_order-xml",
    "order_histories_order_6-xml": "post_order-xml",
    "order_histories_order_5_after_patch-xml": "patch_order_current_state-xml",
}


def prerequisites(name: str) -> list[str]:
    """Script captures to replay before ``name`` (see SCRIPT)."""
    if name in SCRIPT:
        return SCRIPT[: SCRIPT.index(name)]
    if name in AFTER:
        return SCRIPT[: SCRIPT.index(AFTER[name]) + 1]
    return []


def _captures() -> list[str]:
    return sorted(p.stem for p in REAL_DIR.glob("*.json") if p.stem not in ("index", "latency"))


def _load(name: str) -> dict[str, Any]:
    return json.loads((REAL_DIR / f"{name}.json").read_text(encoding="utf-8"))


def _setup(name: str, store: PrestaShopStore) -> None:
    if name.startswith("error_503"):
        store.webservice_enabled = False
    if name.startswith(_MULTISTORE):
        shop = dict(store.rows("shops")[0])
        shop.update({"id": "2", "name": "Second shop"})
        store.table("shops")[2] = shop
        for product in store.table("products").values():
            product["_shops"] = [1]
        allowed = [1] if name.startswith("error_403") else [1, 2]
        store.key_shops[REFERENCE_KEYS["full"]] = allowed


def _request(capture: dict[str, Any]) -> dict[str, Any]:
    request = capture["request"]
    headers = dict(request["headers"])
    key = _KEY_BY_LABEL.get(request.get("key") or "")
    if headers.get("Authorization") == "Basic base64(<key>:)":
        token = base64.b64encode(f"{key}:".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    query = request["query"].replace("<KEY>", REFERENCE_KEYS["full"])
    url = request["path"] + (f"?{query}" if query else "")
    content: bytes | None = None
    files = None
    if "multipart/form-data" in headers.get("Content-Type", ""):
        headers.pop("Content-Type")
        files = {"image": ("upload.jpg", PLACEHOLDER_JPEG, "image/jpeg")}
    elif request.get("body") is not None:
        content = request["body"].encode("utf-8")
    return {"method": request["method"], "url": url, "headers": headers, "content": content, "files": files}


def _header(headers: dict[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value
    return None


async def _roundtrip_body(client: httpx2.AsyncClient, headers: dict[str, str]) -> bytes:
    """The body described by put_product_roundtrip: GET product 23, edited as the note says."""
    got = await client.get("/api/products/23", headers=headers)
    root = etree.fromstring(got.content)
    product = root.find("product")
    assert product is not None
    for name in ("manufacturer_name", "quantity"):
        node = product.find(name)
        if node is not None:
            product.remove(node)
    product.find("reference").text = "SYNC-001-PUT"
    product.find("price").text = "24.5"
    product.find("name").find("language").text = "Sync test product (PUT)"
    return etree.tostring(root, encoding="utf-8")


async def _send_spec(client: httpx2.AsyncClient, name: str, spec: dict[str, Any]) -> httpx2.Response:
    content = spec["content"]
    if name == "put_product_roundtrip-xml":
        content = await _roundtrip_body(client, spec["headers"])
    request = client.build_request(
        spec["method"], spec["url"], headers=spec["headers"], content=content, files=spec["files"]
    )
    return await client.send(request)


async def _send(name: str, capture: dict[str, Any]) -> httpx2.Response:
    store = fresh_reference_store()
    _setup(name, store)
    app = create_app(store, base_url=REFERENCE_BASE_URL)
    spec = _request(capture)
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app), base_url=REFERENCE_BASE_URL) as client:
        for earlier in prerequisites(name):
            source = earlier.split("#")[0]
            await _send_spec(client, source, _request(_load(source)))
        return await _send_spec(client, name, spec)


def compare(name: str, capture: dict[str, Any], response: httpx2.Response) -> list[str]:
    """Differences between a recorded answer and the emulator's (empty = same)."""
    problems: list[str] = []
    if response.status_code != capture["status"]:
        problems.append(f"status {response.status_code} != {capture['status']}")
    recorded = capture["headers"]
    ours = dict(response.headers)
    for header in ("Content-Type", "PSWS-Version", "WWW-Authenticate", "Location"):
        if _header(recorded, header) != _header(ours, header):
            problems.append(f"header {header}: {_header(ours, header)!r} != {_header(recorded, header)!r}")
    if (_header(recorded, "Content-Sha1") is None) != (_header(ours, "Content-Sha1") is None):
        problems.append("Content-Sha1 presence differs")
    if problems:
        return problems
    when = str(parsedate_to_datetime(recorded["Date"]))
    masking = Masking(ids=when >= _FRESH_BEFORE)
    body = capture.get("body")
    if body is None:
        if capture.get("body_binary"):
            expected = decode_binary(capture)
            if not response.content:
                problems.append("binary body missing")
            elif expected is not None and capture["request"]["path"].count("/") == 5 and expected != response.content:
                problems.append("binary body differs")
        return problems
    text = response.text
    if body == "" or capture["request"]["method"] == "HEAD":
        if text != "":
            problems.append(f"expected empty body, got {text[:200]!r}")
        return problems
    content_type = _header(recorded, "Content-Type") or ""
    truncated = bool(capture.get("truncated"))
    if "xml" in content_type:
        limit = count_items(body, is_json=False) if truncated else None
        expected_lines = xml_outline(body, masking)
        got_lines = xml_outline(text, masking, truncate_to=limit if isinstance(limit, dict) else None)
        if expected_lines != got_lines:
            problems.append(_first_difference(expected_lines, got_lines))
    elif "json" in content_type:
        limit = count_items(body, is_json=True) if truncated else None
        expected = json_outline(body, masking)
        got = json_outline(text, masking, truncate_to=limit if isinstance(limit, int) else None)
        if expected != got:
            problems.append(_first_json_difference(expected, got, "$"))
    elif text != body:
        problems.append(f"body {text[:200]!r} != {body[:200]!r}")
    return problems


def _first_difference(expected: list[str], got: list[str]) -> str:
    for index, (a, b) in enumerate(zip(expected, got, strict=False)):
        if a != b:
            return f"line {index}: expected {a[:300]} | got {b[:300]}"
    return f"length {len(got)} != {len(expected)}; extra: {(got[len(expected):] or expected[len(got):])[:3]}"


def _first_json_difference(expected: Any, got: Any, path: str) -> str:
    if type(expected) is not type(got):
        return f"{path}: expected {str(expected)[:200]} got {str(got)[:200]}"
    if isinstance(expected, dict):
        if expected.get("__keys__") != got.get("__keys__"):
            return f"{path}: keys {got.get('__keys__')} != {expected.get('__keys__')}"
        for key in expected:
            if expected[key] != got[key]:
                return _first_json_difference(expected[key], got[key], f"{path}.{key}")
    if isinstance(expected, list):
        if len(expected) != len(got):
            return f"{path}: {len(got)} items != {len(expected)}"
        for index, (a, b) in enumerate(zip(expected, got, strict=True)):
            if a != b:
                return _first_json_difference(a, b, f"{path}[{index}]")
    return f"{path}: expected {str(expected)[:200]} got {str(got)[:200]}"


def _prestashop_shaped(response: httpx2.Response) -> bool:
    if "Traceback" in response.text:
        return False
    if response.status_code in (200, 201, 204, 302, 304, 404) and not response.text.strip():
        return True
    kind = response.headers.get("content-type", "")
    if "xml" in kind:
        return response.text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<prestashop')
    if "json" in kind:
        json.loads(response.text)
        return True
    return bool(response.content)


@pytest.mark.anyio
@pytest.mark.parametrize("name", _captures())
async def test_replay_real_capture(name: str) -> None:
    capture = _load(name)
    if capture.get("body_identical_to"):
        capture["body"] = _load(capture["body_identical_to"].removesuffix(".json"))["body"]
    response = await _send(name, capture)
    listed = unsupported(UNSUPPORTED_FILE)
    if name in listed:
        assert _prestashop_shaped(response), f"{name}: not a PrestaShop-shaped answer"
        assert response.status_code < 500 or capture["status"] >= 500 or response.status_code == capture["status"]
        assert compare(name, capture, response), f"{name} now matches: remove it from {UNSUPPORTED_FILE.name}"
        return
    problems = compare(name, capture, response)
    assert not problems, f"{name}: " + "; ".join(problems)
