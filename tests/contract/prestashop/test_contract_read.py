"""Contract: the read side of the Webservice that dolisync relies on.

Runs against the emulator, or a real shop when DOLISYNC_CONTRACT_PRESTASHOP_URL/_KEY are set.
"""

from __future__ import annotations

import json

import pytest

from .conftest import Target
from .helpers import create, delete, product_body, text, xml

pytestmark = pytest.mark.anyio


async def _two_products(shop: Target) -> list[str]:
    ids = []
    for index, price in enumerate(("11.5", "33.25")):
        root = await create(
            shop.client, "products", product_body(f"{shop.prefix}-{index}", price, f"{shop.prefix} en {index}", "fr")
        )
        ids.append(text(root, "product/id"))
    return ids


async def test_default_list_is_ids_with_links(shop: Target) -> None:
    response = await shop.client.get("/api/products", params={"limit": "3"})
    assert response.status_code == 200
    assert response.headers["content-type"].lower() == "text/xml;charset=utf-8"
    assert response.headers["psws-version"] == "8.2.1"
    items = xml(response).findall("products/product")
    assert 0 < len(items) <= 3
    for item in items:
        assert item.get("id", "").isdigit()
        assert item.get("{http://www.w3.org/1999/xlink}href", "").endswith(f"/api/products/{item.get('id')}")
        assert len(item) == 0


async def test_display_filter_sort_limit(shop: Target) -> None:
    ids = await _two_products(shop)
    try:
        response = await shop.client.get(
            "/api/products",
            params={
                "display": "[id,price,reference]",
                "filter[reference]": f"[{shop.prefix}-0|{shop.prefix}-1]",
                "sort": "[price_DESC]",
            },
        )
        assert response.status_code == 200
        rows = xml(response).findall("products/product")
        assert [text(r, "id") for r in rows] == list(reversed(ids))
        assert [text(r, "price") for r in rows] == ["33.250000", "11.500000"]
        assert [child.tag for child in rows[0]] == ["id", "reference", "price"]  # resource order
        limited = await shop.client.get(
            "/api/products",
            params={"filter[reference]": f"[{shop.prefix}]%", "limit": "1,1", "sort": "[id_ASC]"},
        )
        assert [i.get("id") for i in xml(limited).findall("products/product")] == [ids[1]]
        between = await shop.client.get(
            "/api/products", params={"filter[id]": f"[{ids[0]},{ids[1]}]", "filter[reference]": f"[{shop.prefix}]%"}
        )
        assert sorted(i.get("id") for i in xml(between).findall("products/product")) == sorted(ids)
    finally:
        await delete(shop.client, "products", ids)


async def test_date_filter_needs_date_param(shop: Target) -> None:
    refused = await shop.client.get("/api/orders", params={"filter[date_upd]": ">[2000-01-01 00:00:00]"})
    assert refused.status_code == 500  # code 32 followed by four PHP warnings on PHP 8
    codes = [c.text for c in xml(refused).findall("errors/error/code")]
    assert codes[0] == "32" and codes[1:] == ["3", "3", "3", "3"]
    accepted = await shop.client.get(
        "/api/orders",
        params={
            "date": "1",
            "filter[date_upd]": "[2000-01-01 00:00:00,2099-12-31 23:59:59]",
            "sort": "[date_upd_ASC]",
            "display": "[id,date_upd]",
        },
    )
    assert accepted.status_code == 200
    dates = [text(o, "date_upd") for o in xml(accepted).findall("orders/order")]
    assert dates == sorted(dates)


async def test_json_output_rules(shop: Target) -> None:
    ids = await _two_products(shop)
    try:
        single = await shop.client.get(f"/api/products/{ids[0]}", params={"output_format": "JSON"})
        assert single.headers["content-type"] == "application/json"
        product = json.loads(single.text)["product"]
        assert product["id"] == int(ids[0])
        assert "ean13" not in product  # empty values are filtered out of single objects
        assert {entry["id"] for entry in product["name"]} == {"1", "2"}
        listed = await shop.client.get(
            "/api/products",
            params={"output_format": "JSON", "display": "[id,ean13]", "filter[id]": f"[{ids[0]}]"},
        )
        assert json.loads(listed.text) == {"products": [{"id": int(ids[0]), "ean13": ""}]}
        empty = await shop.client.get(
            "/api/products", params={"output_format": "JSON", "filter[reference]": f"[{shop.prefix}-none]"}
        )
        assert empty.text == "[]"
        one_language = await shop.client.get(
            f"/api/products/{ids[0]}", params={"output_format": "JSON", "language": "1"}
        )
        assert json.loads(one_language.text)["product"]["name"] == f"{shop.prefix} en 0"
    finally:
        await delete(shop.client, "products", ids)


async def test_error_shapes(shop: Target) -> None:
    missing = await shop.client.get("/api/products/999999999")
    assert missing.status_code == 404 and missing.content == b""
    unknown = await shop.client.get("/api/product")
    assert unknown.status_code == 400
    assert text(xml(unknown), "errors/error/code") == "27"
    bad_json = await shop.client.get("/api/product", params={"output_format": "JSON"})
    assert json.loads(bad_json.text)["errors"][0]["code"] == 27
    no_key = await shop.client.get("/api/products", auth=None)
    assert no_key.status_code == 401 and "www-authenticate" in no_key.headers
    bad_key = await shop.client.get("/api/products", auth=("SHORT", ""))
    assert bad_key.status_code == 401 and text(xml(bad_key), "errors/error/code") == "18"
    forbidden = await shop.client.post("/api/stock_availables", content=b"<prestashop/>")
    assert forbidden.status_code == 405 and text(xml(forbidden), "errors/error/code") == "101"


async def test_conditional_get_and_head(shop: Target) -> None:
    first = await shop.client.get("/api/languages/1")
    sha1 = first.headers["content-sha1"]
    again = await shop.client.get("/api/languages/1", headers={"Local-Content-Sha1": sha1})
    assert again.status_code == 304 and again.content == b""
    head = await shop.client.head("/api/languages/1")
    assert head.status_code == 200 and head.content == b"" and head.headers["content-sha1"] == sha1
