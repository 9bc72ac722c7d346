"""Replay every file of ``reference/prestashop/samples`` (its index.json request) against the
emulator, one test per file.

The samples hold invented data, so only the shape is compared: status, Content-Type (case of the
charset aside: the real shop sends ``utf-8``), error codes, and for each element/key path the
order of distinct children, attribute names and JSON value types (paths present on both sides).
The request of a sample is taken from the real capture of the same name when there is one (it
is concrete), else parsed from index.json; samples naming ids the reference shop does not have
are pointed at equivalent rows. Entries of UNSUPPORTED.md get the weaker check.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import httpx2
import pytest
from lxml import etree

from dolisync.emulators.prestashop import PrestaShopStore, create_app
from dolisync.emulators.prestashop._extract_reference import PLACEHOLDER_JPEG
from dolisync.emulators.prestashop.reference import REFERENCE_BASE_URL, REFERENCE_KEYS

from .conftest import fresh_reference_store
from .replay import REAL_DIR, SAMPLES_DIR, unsupported

UNSUPPORTED_FILE = Path(__file__).resolve().parents[1] / "UNSUPPORTED.md"
_INDEX: list[dict[str, Any]] = json.loads((SAMPLES_DIR / "index.json").read_text(encoding="utf-8"))
# Samples whose ids do not exist in the reference shop: (method, url) to use instead.
_OVERRIDES: dict[str, tuple[str, str]] = {
    "order_history_10": ("GET", "/api/order_histories/1"),
    "order_payment_4": ("GET", "/api/order_payments/1"),
    "order_invoice_3": ("GET", "/api/order_invoices/1"),
    "order_carrier_4": ("GET", "/api/order_carriers/1"),
    "order_payments_by_reference": ("GET", "/api/order_payments?display=full&filter[order_reference]=FFATNOMMJ"),
    "orders_changed_since": (
        "GET",
        "/api/orders?display=[id,reference,current_state,valid,total_paid_tax_incl,date_upd]&date=1"
        "&filter[date_upd]=[2000-01-01%2000:00:00,2099-12-31%2023:59:59]&sort=[date_upd_ASC]",
    ),
    "order_histories_by_order": ("GET", "/api/order_histories?display=full&filter[id_order]=1&sort=[id_ASC]"),
    "delete_success": ("DELETE", "/api/order_histories/7"),
    "image_post_response": ("POST", "/api/images/products/2"),
    "stock_available_put_response": ("PUT", "/api/stock_availables/10"),
}
# These need earlier writes (an order state change creates the payment / invoice rows).
_NEEDS_STATE_CHANGE = ("order_payment_4", "order_invoice_3", "order_payments_by_reference")


def _samples() -> list[str]:
    return [entry["file"] for entry in _INDEX if entry["file"]]


def _entry(file: str) -> dict[str, Any]:
    return next(e for e in _INDEX if e["file"] == file)


def _real_counterpart(file: str) -> dict[str, Any] | None:
    stem, _, ext = file.rpartition(".")
    path = REAL_DIR / f"{stem}-{'json' if ext == 'json' else 'xml'}.json"
    if ext == "txt":
        path = REAL_DIR / f"{stem}-xml.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def _auth(key: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:".encode()).decode()


def _build_request(file: str) -> tuple[dict[str, Any], PrestaShopStore]:
    store = fresh_reference_store()
    stem, _, ext = file.rpartition(".")
    json_suffix = "output_format=JSON" if ext == "json" else ""
    entry = _entry(file)
    real = _real_counterpart(file)
    headers = {"Authorization": _auth(REFERENCE_KEYS["full"])}
    body: bytes | None = None
    files = None
    if stem in _OVERRIDES:
        method, url = _OVERRIDES[stem]
    elif real is not None:
        request = real["request"]
        method = request["method"]
        url = request["path"] + (f"?{request['query']}" if request["query"] else "")
        url = url.replace("<KEY>", REFERENCE_KEYS["full"])
        headers = dict(request["headers"])
        if headers.get("Authorization") == "Basic base64(<key>:)":
            label = request.get("key") or ""
            kind = "limited" if label.startswith("limited") else "inactive" if "inactive" in label else "full"
            key = REFERENCE_KEYS[kind]
            headers["Authorization"] = _auth(key)
        if request.get("body") is not None and not request["body"].startswith("multipart"):
            body = request["body"].encode("utf-8")
        json_suffix = ""  # the capture's query already holds the format
    else:
        method, _, rest = entry["request"].partition(" ")
        url = rest.split(" ", 1)[0]
    match = re.search(r"\(body: samples/(request_[\w]+\.xml)\)", entry["request"])
    if match:
        body = (SAMPLES_DIR / match.group(1)).read_bytes()
    if stem.startswith("request_"):  # a client request body: sending it must succeed
        body = (SAMPLES_DIR / file).read_bytes()
    if stem == "image_post_response":
        files = {"image": ("upload.jpg", PLACEHOLDER_JPEG, "image/jpeg")}
    if stem.startswith("error_503"):
        store.webservice_enabled = False
    if stem.startswith("error_404_not_on_shop"):
        shop = dict(store.rows("shops")[0])
        shop.update({"id": "2"})
        store.table("shops")[2] = shop
        for product in store.table("products").values():
            product["_shops"] = [1]
    if stem == "error_401_no_key":
        headers = {}
    if json_suffix:
        url += ("&" if "?" in url else "?") + json_suffix
    return {"method": method, "url": url, "headers": headers, "content": body, "files": files}, store


async def _send(file: str) -> httpx2.Response:
    spec, store = _build_request(file)
    app = create_app(store, base_url=REFERENCE_BASE_URL)
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app), base_url=REFERENCE_BASE_URL) as client:
        if file.rpartition(".")[0] in _NEEDS_STATE_CHANGE:
            history = b"<prestashop><order_history><id_order>4</id_order><id_order_state>2</id_order_state></order_history></prestashop>"
            await client.post("/api/order_histories", content=history, headers={"Authorization": _auth(REFERENCE_KEYS["full"])})
        request = client.build_request(
            spec["method"], spec["url"], headers=spec["headers"], content=spec["content"], files=spec["files"]
        )
        return await client.send(request)


def _xml_shape(body: str) -> tuple[dict[str, list[str]], dict[str, set[str]], list[str]]:
    root = etree.fromstring(body.encode("utf-8"))
    children: dict[str, list[str]] = {}
    attrs: dict[str, set[str]] = {}
    codes: list[str] = []

    def walk(element: etree._Element, path: str) -> None:
        here = f"{path}/{element.tag}"
        attrs.setdefault(here, set()).update(k.split("}")[-1] for k in element.attrib)
        order = children.setdefault(here, [])
        for child in element:
            if not isinstance(child.tag, str):
                continue
            if child.tag not in order:
                order.append(child.tag)
            if child.tag == "code":
                codes.append((child.text or "").strip())
            walk(child, here)

    walk(root, "")
    return children, attrs, codes


def _json_shape(value: Any, path: str, keys: dict[str, list[str]], types: dict[str, set[str]]) -> None:
    if isinstance(value, dict):
        order = keys.setdefault(path, [])
        for key, item in value.items():
            if key not in order:
                order.append(key)
            _json_shape(item, f"{path}.{key}", keys, types)
    elif isinstance(value, list):
        for item in value:
            _json_shape(item, f"{path}[]", keys, types)
    else:
        types.setdefault(path, set()).add(type(value).__name__ if value is not None else "null")


def compare_shape(file: str, expected_body: str, response: httpx2.Response) -> list[str]:
    """Shape differences between a sample and the emulator's answer."""
    problems: list[str] = []
    if file.endswith(".xml"):
        exp_children, exp_attrs, exp_codes = _xml_shape(expected_body)
        got_children, got_attrs, got_codes = _xml_shape(response.text)
        if exp_codes != got_codes:
            problems.append(f"error codes {got_codes} != {exp_codes}")
        for path, order in exp_children.items():
            if path in got_children:
                ours = [t for t in got_children[path] if t in order]
                theirs = [t for t in order if t in got_children[path]]
                if ours != theirs:
                    problems.append(f"{path}: child order {ours[:8]} != {theirs[:8]}")
                if path.count("/") <= 3 and set(order) - set(got_children[path]) and "associations" not in path:
                    missing = sorted(set(order) - set(got_children[path]))
                    if not (path.endswith("s") and len(order) == 1):  # list wrappers: other item data
                        problems.append(f"{path}: missing children {missing[:8]}")
            value_dependent = path.rsplit("/", 1)[-1].startswith("id_")  # href dropped on 0/empty
            if path in got_attrs and exp_attrs[path] != got_attrs[path] and not value_dependent:
                problems.append(f"{path}: attributes {sorted(got_attrs[path])} != {sorted(exp_attrs[path])}")
    else:
        exp_value = json.loads(expected_body)
        got_value = json.loads(response.text)
        if type(exp_value) is not type(got_value):
            return [f"json root {type(got_value).__name__} != {type(exp_value).__name__}"]
        exp_keys: dict[str, list[str]] = {}
        exp_types: dict[str, set[str]] = {}
        got_keys: dict[str, list[str]] = {}
        got_types: dict[str, set[str]] = {}
        _json_shape(exp_value, "$", exp_keys, exp_types)
        _json_shape(got_value, "$", got_keys, got_types)
        for path, order in exp_keys.items():
            if path in got_keys:
                ours = [k for k in got_keys[path] if k in order]
                theirs = [k for k in order if k in got_keys[path]]
                if ours != theirs:
                    problems.append(f"{path}: key order {ours[:8]} != {theirs[:8]}")
        for path, kinds in exp_types.items():
            nullable = "null" in kinds or "null" in got_types.get(path, set())  # NULL columns: data-dependent
            if path in got_types and not (got_types[path] & kinds) and not nullable:
                problems.append(f"{path}: types {got_types[path]} != {kinds}")
        if "errors" in exp_value if isinstance(exp_value, dict) else False:
            exp_codes = [e["code"] for e in exp_value["errors"]]
            got_codes = [e["code"] for e in got_value.get("errors", [])]
            if exp_codes != got_codes:
                problems.append(f"error codes {got_codes} != {exp_codes}")
    return problems


@pytest.mark.anyio
@pytest.mark.parametrize("file", _samples())
async def test_replay_sample(file: str) -> None:
    entry = _entry(file)
    response = await _send(file)
    listed = unsupported(UNSUPPORTED_FILE)
    problems = _problems(file, entry, response)
    if file in listed:
        assert "Traceback" not in response.text
        assert response.status_code >= 400 if entry["status"] >= 400 else response.status_code < 400
        assert problems, f"{file} now matches: remove it from {UNSUPPORTED_FILE.name}"
        return
    assert not problems, f"{file}: " + "; ".join(problems)


def _problems(file: str, entry: dict[str, Any], response: httpx2.Response) -> list[str]:
    problems: list[str] = []
    if file.startswith("request_"):
        expected_status = 201 if entry["request"].startswith("POST") else 200
        if response.status_code != expected_status:
            problems.append(f"{response.status_code} {response.text[:400]}")
        if not response.text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<prestashop'):
            problems.append("not an XML echo")
        return problems
    if response.status_code != entry["status"]:
        problems.append(f"status {response.status_code} != {entry['status']}")
    expected_type = ((entry.get("response_headers") or {}).get("Content-Type") or "").lower() or None
    got_type = response.headers.get("content-type")
    if (got_type or None) != expected_type and not (expected_type == "" and got_type is None):
        problems.append(f"content-type {got_type!r} != {expected_type!r}")
    expected_body = (SAMPLES_DIR / file).read_text(encoding="utf-8")
    if not problems:
        if file.endswith(".txt"):
            if response.text != expected_body:
                problems.append(f"body {response.text[:100]!r} != {expected_body[:100]!r}")
        elif expected_body.strip():
            problems.extend(compare_shape(file, expected_body, response))
    return problems
