"""PrestaShopClient against the in-process PrestaShop emulator (reference demo shop)."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from decimal import Decimal

import httpx2
import pytest

from dolisync.clients.errors import NotFound, RemoteRejected, Unauthorized
from dolisync.clients.pagination import PaginationError
from dolisync.clients.prestashop import PrestaShopClient, filter_param
from dolisync.clients.records import Order, Product, StockAvailable
from dolisync.emulators.prestashop import REFERENCE_KEYS, PrestaShopStore, create_app, reference_dataset

pytestmark = pytest.mark.anyio
SHOP = "http://shop.test"


class Recording(httpx2.AsyncBaseTransport):
    """Forwards to the emulator and keeps every request for inspection."""

    def __init__(self, inner: httpx2.AsyncBaseTransport) -> None:
        self.inner = inner
        self.requests: list[httpx2.Request] = []

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        return await self.inner.handle_async_request(request)


@pytest.fixture
def store() -> PrestaShopStore:
    return PrestaShopStore.from_dataset(reference_dataset())


@pytest.fixture
def transport(store: PrestaShopStore) -> Recording:
    return Recording(httpx2.ASGITransport(app=create_app(store, base_url=SHOP)))


@pytest.fixture
async def ps(transport: Recording) -> AsyncIterator[PrestaShopClient]:
    async with PrestaShopClient(SHOP, REFERENCE_KEYS["full"], transport=transport, page_size=4) as client:
        yield client


async def test_list_pages_through_everything_in_id_order(ps: PrestaShopClient, store: PrestaShopStore, transport: Recording) -> None:
    products = [p async for p in ps.list("products")]
    expected = sorted(int(row["id"]) for row in store.rows("products"))
    assert [p.id for p in products] == expected
    assert all(isinstance(p, Product) and isinstance(p.price, Decimal) for p in products)
    limits = [r.url.params["limit"] for r in transport.requests]
    assert limits[:3] == ["0,4", "4,4", "8,4"]
    assert ps.stats().reads == len(transport.requests)


async def test_key_is_basic_auth_username_never_in_the_url(ps: PrestaShopClient, transport: Recording) -> None:
    await ps.get("products", 1)
    request = transport.requests[-1]
    key = REFERENCE_KEYS["full"]
    assert request.headers["authorization"] == "Basic " + base64.b64encode(f"{key}:".encode()).decode()
    assert key not in str(request.url) and "ws_key" not in str(request.url)
    assert request.url.params["output_format"] == "JSON"


async def test_filters_sort_and_typed_stock_rows(ps: PrestaShopClient) -> None:
    rows = [row async for row in ps.list("stock_availables", filters={"id_product": 1, "id_product_attribute": 0})]
    assert len(rows) == 1 and isinstance(rows[0], StockAvailable) and rows[0].id_product == 1
    several = await ps.list_ids("products", filters={"id": [1, 3, 5]})
    assert several == [1, 3, 5]
    between = await ps.list_ids("products", filters={"id": (2, 4)})
    assert between == [2, 3, 4]


async def test_get_order_with_rows_and_missing_object(ps: PrestaShopClient) -> None:
    order = await ps.get("orders", 1)
    assert isinstance(order, Order) and order.associations.order_rows
    assert order.total_paid_tax_incl == order.total_paid_tax_excl + (order.total_paid_tax_incl - order.total_paid_tax_excl)
    with pytest.raises(NotFound) as info:
        await ps.get("products", 99999)
    assert "products/99999" in str(info.value)


async def test_remote_rejection_is_classified(ps: PrestaShopClient) -> None:
    with pytest.raises(RemoteRejected) as info:
        async for _ in ps.list("products", filters={"no_such_field": 1}):
            pass
    assert info.value.code == "32"


async def test_single_language_output_keys_texts_by_that_language(ps: PrestaShopClient) -> None:
    product = await ps.get("products", 1, language=2)
    assert set(product.name) == {2} and product.name[2]


async def test_bad_keys(transport: Recording) -> None:
    async with PrestaShopClient(SHOP, REFERENCE_KEYS["inactive"], transport=transport) as inactive:
        with pytest.raises(Unauthorized) as info:
            await inactive.get("products", 1)
    assert REFERENCE_KEYS["inactive"] not in str(info.value)
    async with PrestaShopClient(SHOP, REFERENCE_KEYS["limited"], transport=transport) as limited:
        allowed = await limited.resources_allowed()
        assert set(allowed) == {"products"} and "get" in allowed["products"] and "post" not in allowed["products"]
        with pytest.raises(Unauthorized):
            await limited.get("orders", 1)


async def test_resources_allowed_for_full_key(ps: PrestaShopClient) -> None:
    allowed = await ps.resources_allowed()
    assert {"products", "orders", "stock_availables"} <= set(allowed)
    assert "patch" in allowed["products"]


async def test_create_fills_languages_patch_keeps_the_others(ps: PrestaShopClient, transport: Recording) -> None:
    created = await ps.create(
        "products",
        {"price": Decimal("12.50"), "state": 1, "name": {1: "Sync shirt"}, "associations": {"categories": [{"id": 2}]}},
    )
    assert created.id > 0 and created.name == {1: "Sync shirt", 2: "Sync shirt"}
    assert created.price == Decimal("12.5")
    patched = await ps.patch("products", {"id": created.id, "name": {2: "Chemise"}})
    assert patched.name == {1: "Sync shirt", 2: "Chemise"}
    sent = transport.requests[-1]
    assert sent.method == "PATCH" and b'<language id="1">Sync shirt</language>' in sent.content
    again = await ps.get("products", created.id)
    assert again.name == {1: "Sync shirt", 2: "Chemise"} and again.associations.categories == [2]
    await ps.delete("products", created.id)
    with pytest.raises(NotFound):
        await ps.get("products", created.id)


async def test_stock_update_by_patch(ps: PrestaShopClient) -> None:
    row = [r async for r in ps.list("stock_availables", filters={"id_product": 6, "id_product_attribute": 0})][0]
    updated = await ps.patch("stock_availables", {"id": row.id, "quantity": row.quantity + 5})
    assert updated.quantity == row.quantity + 5
    assert (await ps.get("stock_availables", row.id)).quantity == row.quantity + 5


async def test_write_validation_errors_and_create_guard(ps: PrestaShopClient) -> None:
    with pytest.raises(ValueError, match="must not contain 'id'"):
        await ps.create("products", {"id": 3, "price": Decimal(1)})
    with pytest.raises(ValueError, match="must contain 'id'"):
        await ps.patch("products", {"price": Decimal(1)})
    with pytest.raises(RemoteRejected):
        await ps.patch("stock_availables", {"id": 1, "quantity": "not a number"})


async def test_images_upload_list_download_replace_delete(ps: PrestaShopClient) -> None:
    original = await ps.download_image(1, 1)
    assert original.mime.startswith("image/") and original.content
    assert await ps.image_ids(1)
    created = await ps.create("products", {"price": Decimal(3), "state": 1, "name": {1: "With image"}})
    assert await ps.image_ids(created.id) == []
    image_id = await ps.upload_image(created.id, original.content, "photo.jpg", original.mime)
    assert await ps.image_ids(created.id) == [image_id]
    assert (await ps.download_image(created.id, image_id)).content == original.content
    assert await ps.replace_image(created.id, image_id, original.content, "photo2.jpg", original.mime) == image_id
    await ps.delete_image(created.id, image_id)
    assert await ps.image_ids(created.id) == []


async def test_repeated_page_fails_loudly() -> None:
    def same_page(request: httpx2.Request) -> httpx2.Response:  # a remote ignoring `limit`
        return httpx2.Response(200, json={"products": [{"id": 1}, {"id": 2}]})

    async with PrestaShopClient(SHOP, "K" * 32, transport=httpx2.MockTransport(same_page), page_size=2) as client:
        with pytest.raises(PaginationError):
            [p async for p in client.list_raw("products")]


async def test_id_shop_is_sent_with_every_request(transport: Recording) -> None:
    async with PrestaShopClient(SHOP, REFERENCE_KEYS["full"], id_shop=1, transport=transport) as client:
        await client.get("products", 1)
        await client.image_ids(1)
    assert all(r.url.params.get("id_shop") == "1" for r in transport.requests)


def test_filter_param_syntax() -> None:
    assert filter_param(5) == "[5]" and filter_param("abc") == "[abc]"
    assert filter_param([1, 2, 3]) == "[1|2|3]" and filter_param(("2026-01-01", "2026-02-01")) == "[2026-01-01,2026-02-01]"
    assert filter_param(">[10]") == ">[10]"
    with pytest.raises(ValueError):
        filter_param("a|b")


async def test_client_from_settings_uses_name_limits_and_shop(transport: Recording) -> None:
    from dolisync.config import ShopSettings

    shop = ShopSettings(name="fr", url=SHOP, key=REFERENCE_KEYS["full"], id_shop=1, concurrency=2, timeout_s=5)
    async with PrestaShopClient.from_settings(shop, transport=transport) as client:
        assert (await client.get("products", 1)).id == 1
        stats = client.stats()
    assert stats.remote == "prestashop:fr" and stats.reads == 1
    assert transport.requests[-1].url.params["id_shop"] == "1"
