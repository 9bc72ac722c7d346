"""Property test: random query strings and bodies never break the PrestaShop emulator.

Whatever is thrown at it, the emulator answers like PrestaShop: a known status, no Python
traceback, an XML/JSON error envelope (or the documented empty bodies), and a 5xx only with
PrestaShop's own documented 500 codes (PHP warnings 3, XML error 127, save errors 46/133/140/141,
shop group 999) or the two documented broken JSON renderers.
"""

from __future__ import annotations

import copy
import json
from functools import lru_cache

import anyio
import httpx2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dolisync.emulators.dataset import PrestaShopDataset
from dolisync.emulators.prestashop import PrestaShopStore, create_app, reference_dataset
from dolisync.emulators.prestashop.reference import REFERENCE_BASE_URL, REFERENCE_KEYS

DOCUMENTED_500_CODES = {3, 46, 88, 127, 133, 140, 141, 999}
STATUSES = {200, 201, 302, 304, 400, 401, 403, 404, 405, 500, 501, 503}
RESOURCES = [
    "products",
    "combinations",
    "stock_availables",
    "categories",
    "customers",
    "addresses",
    "orders",
    "order_histories",
    "order_details",
    "specific_prices",
    "configurations",
    "images",
    "languages",
    "nosuch",
    "",
]
FIELDS = ["id", "name", "price", "reference", "date_upd", "quantity", "id_product", "active", "zz"]
WEIRD = st.text(alphabet="[]|,%!<>_-:. 0123456789abcxyzAZ&=\"'/\\é", max_size=24)


@lru_cache(maxsize=1)
def _dataset() -> PrestaShopDataset:
    return reference_dataset()


def _param() -> st.SearchStrategy[tuple[str, str]]:
    name = st.one_of(
        st.sampled_from(["display", "sort", "limit", "language", "schema", "date", "id_shop", "ws_key", "ps_method"]),
        st.builds(lambda f: f"filter[{f}]", st.sampled_from(FIELDS)),
        st.builds(lambda f, g: f"filter[{f}][{g}]", st.sampled_from(FIELDS), WEIRD),
        st.builds(lambda a, p: f"price[{a}][{p}]", st.sampled_from(["p", "x"]), st.sampled_from(["use_tax", "zz"])),
        WEIRD,
    )
    value = st.one_of(
        WEIRD,
        st.sampled_from(["full", "[id,name]", "[id,categories[id]]", "[id_DESC]", "0,2", "[1|2]", "blank", "1", "all", "PATCH"]),
    )
    return st.tuples(name, value)


def _body() -> st.SearchStrategy[bytes]:
    node = st.sampled_from(["product", "customer", "stock_available", "order_history", "x"])
    field = st.sampled_from(["id", "price", "name", "email", "quantity", "id_order", "manufacturer_name", "foo"])
    element = st.builds(lambda f, v: f"<{f}>{v}</{f}>", field, WEIRD)
    xml = st.builds(
        lambda n, items: f"<prestashop><{n}>{''.join(items)}</{n}></prestashop>",
        node,
        st.lists(element, max_size=5),
    )
    return st.one_of(xml, WEIRD, st.just("<!DOCTYPE x [<!ENTITY e 'x'>]><prestashop>&e;</prestashop>")).map(
        lambda s: s.encode("utf-8")
    )


async def _exchange(method: str, path: str, params: list[tuple[str, str]], body: bytes, json_out: bool) -> httpx2.Response:
    store = PrestaShopStore.from_dataset(copy.copy(_dataset()))
    app = create_app(store, base_url=REFERENCE_BASE_URL)
    headers = {"Io-Format": "JSON"} if json_out else {}
    async with httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app), base_url=REFERENCE_BASE_URL, auth=(REFERENCE_KEYS["full"], "")
    ) as client:
        request = client.build_request(method, path, params=params, content=body or None, headers=headers)
        return await client.send(request)


def _check(response: httpx2.Response) -> None:
    text = response.text
    assert response.status_code in STATUSES, response.status_code
    assert "Traceback" not in text and "[PHP Error]" not in text, text[:500]
    kind = response.headers.get("content-type", "")
    if not text:
        return
    if kind.startswith("text/xml"):
        assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<prestashop'), text[:200]
        codes = [int(c) for c in _xml_codes(text)]
    elif kind == "application/json":
        value = json.loads(text)
        codes = [e["code"] for e in value.get("errors", [])] if isinstance(value, dict) else []
    else:
        assert response.status_code in (200, 302, 401), kind
        return
    if response.status_code >= 500 and response.status_code != 503:
        assert codes, text[:300]
        assert set(codes) <= DOCUMENTED_500_CODES | {61, 28, 31, 32, 33, 34, 35, 36, 37, 38, 39}, codes


def _xml_codes(text: str) -> list[str]:
    import re

    return re.findall(r"<code><!\[CDATA\[(\d+)\]\]></code>", text)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    method=st.sampled_from(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]),
    resource=st.sampled_from(RESOURCES),
    tail=st.sampled_from(["", "/1", "/999", "/abc", "/products", "/products/1", "/products/1/1/small_default"]),
    params=st.lists(_param(), max_size=4),
    body=_body(),
    json_out=st.booleans(),
)
def test_random_requests_get_prestashop_shaped_answers(
    method: str, resource: str, tail: str, params: list[tuple[str, str]], body: bytes, json_out: bool
) -> None:
    path = f"/api/{resource}{tail}" if resource else "/api/"
    response = anyio.run(_exchange, method, path, params, body, json_out)
    _check(response)
