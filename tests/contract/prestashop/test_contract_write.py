"""Contract: writes dolisync performs (products, multilang, stock, order states, images).

Runs against the emulator, or a real shop when DOLISYNC_CONTRACT_PRESTASHOP_URL/_KEY are set.
Every test creates its own data (reference prefixed with a unique token) and deletes it.
"""

from __future__ import annotations

import json

import pytest

from dolisync.emulators.prestashop._extract_reference import PLACEHOLDER_JPEG

from .conftest import Target
from .helpers import create, delete, language, product_body, text, xml

pytestmark = pytest.mark.anyio


async def test_create_update_patch_product(shop: Target) -> None:
    root = await create(shop.client, "products", product_body(shop.prefix, "19.9", "Sync EN", "Sync FR"))
    id_ = text(root, "product/id")
    try:
        assert text(root, "product/price") == "19.9"  # the echo shows values as sent
        got = xml(await shop.client.get(f"/api/products/{id_}"))
        assert text(got, "product/price") == "19.900000"
        assert language(got, "product/link_rewrite", 1) == "sync-en"
        before = text(got, "product/date_upd")
        put = (
            f"<prestashop><product><id>{id_}</id><price>21</price><state>1</state><reference>{shop.prefix}</reference>"
            '<name><language id="1">PUT EN</language><language id="2">PUT FR</language></name>'
            '<link_rewrite><language id="1">put-en</language><language id="2">put-fr</language></link_rewrite>'
            "</product></prestashop>"
        )
        response = await shop.client.put(f"/api/products/{id_}", content=put.encode())
        assert response.status_code == 200, response.text[:300]
        patch = f"<prestashop><product><id>{id_}</id><wholesale_price>7.5</wholesale_price></product></prestashop>"
        response = await shop.client.patch(f"/api/products/{id_}", content=patch.encode())
        assert response.status_code == 200
        got = xml(await shop.client.get(f"/api/products/{id_}"))
        assert text(got, "product/price") == "21.000000"  # PATCH left the price alone
        assert text(got, "product/wholesale_price") == "7.500000"
        assert language(got, "product/name", 2) == "PUT FR"
        assert text(got, "product/date_upd") >= before
        stock = xml(
            await shop.client.get(
                "/api/stock_availables", params={"filter[id_product]": f"[{id_}]", "display": "full"}
            )
        )
        assert [text(s, "id_product_attribute") for s in stock.findall("stock_availables/stock_available")] == ["0"]
    finally:
        await delete(shop.client, "products", [id_])


async def test_write_errors(shop: Target) -> None:
    with_id = b"<prestashop><product><id>5</id><price>10</price></product></prestashop>"
    response = await shop.client.post("/api/products", content=with_id)
    assert response.status_code == 400 and text(xml(response), "errors/error/code") == "91"
    read_only = b"<prestashop><product><price>10</price><quantity>5</quantity></product></prestashop>"
    response = await shop.client.post("/api/products", content=read_only)
    assert text(xml(response), "errors/error/code") == "93"
    bad_price = b'<prestashop><product><price>abc</price><name><language id="1">x</language></name></product></prestashop>'
    response = await shop.client.post("/api/products", content=bad_price)
    message = text(xml(response), "errors/error/message")
    assert response.status_code == 400 and message == 'Validation error: "Property Product-&gt;price is not valid"'
    missing = b"<prestashop><customer><lastname>Doe</lastname><firstname>J</firstname><passwd>Secret123!</passwd></customer></prestashop>"
    response = await shop.client.post("/api/customers", content=missing)
    assert text(xml(response), "errors/error/message") == 'parameter "email" required'
    malformed = await shop.client.post("/api/products", content=b"<product>")
    assert malformed.status_code == 500
    assert [c.text for c in xml(malformed).findall("errors/error/code")][-1] == "127"
    doctype = b'<!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/passwd">]><prestashop><product><price>&x;</price></product></prestashop>'
    response = await shop.client.post("/api/products", content=doctype)
    assert response.status_code in (400, 500) and "root:" not in response.text


async def test_multilang_write_replaces_every_language(shop: Target) -> None:
    root = await create(shop.client, "products", product_body(shop.prefix, "5", "Name EN", "Nom FR"))
    id_ = text(root, "product/id")
    try:
        patch = f'<prestashop><product><id>{id_}</id><name><language id="2">Nouveau</language></name></product></prestashop>'
        response = await shop.client.patch(f"/api/products/{id_}", content=patch.encode())
        assert response.status_code == 200
        got = xml(await shop.client.get(f"/api/products/{id_}"))
        assert language(got, "product/name", 1) == ""  # languages not sent are emptied
        assert language(got, "product/name", 2) == "Nouveau"
        plain = f"<prestashop><product><id>{id_}</id><name>Same everywhere</name></product></prestashop>"
        await shop.client.patch(f"/api/products/{id_}", content=plain.encode())
        got = xml(await shop.client.get(f"/api/products/{id_}"))
        assert language(got, "product/name", 1) == language(got, "product/name", 2) == "Same everywhere"
    finally:
        await delete(shop.client, "products", [id_])


async def test_stock_update_and_product_row_sum(shop: Target) -> None:
    root = await create(shop.client, "products", product_body(shop.prefix, "10", "Stock EN", "Stock FR"))
    id_product = text(root, "product/id")
    combos: list[str] = []
    try:
        values = xml(await shop.client.get("/api/product_option_values", params={"limit": "2"}))
        value_ids = [v.get("id") for v in values.findall("product_option_values/product_option_value")]
        for index, value_id in enumerate(value_ids):
            body = (
                f"<prestashop><combination><id_product>{id_product}</id_product><minimal_quantity>1</minimal_quantity>"
                f"<reference>{shop.prefix}-c{index}</reference><associations><product_option_values>"
                f"<product_option_value><id>{value_id}</id></product_option_value>"
                "</product_option_values></associations></combination></prestashop>"
            )
            combos.append(text(await create(shop.client, "combinations", body.encode()), "combination/id"))
        rows = xml(
            await shop.client.get(
                "/api/stock_availables", params={"filter[id_product]": f"[{id_product}]", "display": "full"}
            )
        ).findall("stock_availables/stock_available")
        by_attribute = {text(r, "id_product_attribute"): text(r, "id") for r in rows}
        assert set(by_attribute) == {"0", *combos}
        for quantity, combo in zip(("7", "5"), combos, strict=True):
            patch = f"<prestashop><stock_available><id>{by_attribute[combo]}</id><quantity>{quantity}</quantity></stock_available></prestashop>"
            response = await shop.client.patch(f"/api/stock_availables/{by_attribute[combo]}", content=patch.encode())
            assert response.status_code == 200, response.text[:300]
        product_row = xml(await shop.client.get(f"/api/stock_availables/{by_attribute['0']}"))
        assert text(product_row, "stock_available/quantity") == "12"
        refused = await shop.client.delete(f"/api/stock_availables/{by_attribute['0']}")
        assert refused.status_code == 405
    finally:
        await delete(shop.client, "combinations", combos)
        await delete(shop.client, "products", [id_product])


async def test_order_history_changes_order_state(shop: Target) -> None:
    orders = xml(await shop.client.get("/api/orders", params={"sort": "[id_DESC]", "limit": "1"}))
    id_order = orders.findall("orders/order")[0].get("id")
    states = xml(await shop.client.get("/api/order_states", params={"display": "[id,logable]", "sort": "[id_ASC]"}))
    logable = {text(s, "id"): text(s, "logable") for s in states.findall("order_states/order_state")}
    before = xml(await shop.client.get(f"/api/orders/{id_order}"))
    current = text(before, "order/current_state")
    target = next(s for s, flag in logable.items() if flag == "1" and s != current)
    body = f"<prestashop><order_history><id_order>{id_order}</id_order><id_order_state>{target}</id_order_state></order_history></prestashop>"
    response = await shop.client.post("/api/order_histories", content=body.encode(), params={"output_format": "JSON"})
    assert response.status_code == 201
    assert isinstance(json.loads(response.text)["order_history"]["id"], str)  # echo ids are strings
    after = xml(await shop.client.get(f"/api/orders/{id_order}"))
    assert text(after, "order/current_state") == target
    assert text(after, "order/valid") == "1"
    history = xml(
        await shop.client.get(
            "/api/order_histories",
            params={"filter[id_order]": f"[{id_order}]", "sort": "[id_ASC]", "display": "full"},
        )
    )
    assert text(history.findall("order_histories/order_history")[-1], "id_order_state") == target


async def test_image_upload_and_download(shop: Target) -> None:
    root = await create(shop.client, "products", product_body(shop.prefix, "3", "Img EN", "Img FR"))
    id_product = text(root, "product/id")
    try:
        files = {"image": ("photo.jpg", PLACEHOLDER_JPEG, "image/jpeg")}
        response = await shop.client.post(f"/api/images/products/{id_product}", files=files)
        assert response.status_code == 200, response.text[:300]
        uploaded = xml(response)
        id_image = text(uploaded, "image/id")
        assert text(uploaded, "image/cover") == "1"
        listing = xml(await shop.client.get(f"/api/images/products/{id_product}"))
        assert [d.get("id") for d in listing.findall("image/declination")] == [id_image]
        binary = await shop.client.get(f"/api/images/products/{id_product}/{id_image}")
        assert binary.status_code == 200 and binary.headers["content-type"] == "image/jpeg"
        assert binary.content[:2] == b"\xff\xd8"
        if not shop.real:  # a real shop re-encodes the file
            assert binary.content == PLACEHOLDER_JPEG
        product = xml(await shop.client.get(f"/api/products/{id_product}", params={"display": "[id,id_default_image]"}))
        assert text(product, "product/id_default_image") == id_image
        wrong = await shop.client.post(
            f"/api/images/products/{id_product}", files={"image": ("a.txt", b"hello", "text/plain")}
        )
        assert wrong.status_code == 400
        removed = await shop.client.delete(f"/api/images/products/{id_product}/{id_image}")
        assert removed.status_code == 200
        gone = await shop.client.get(f"/api/images/products/{id_product}")
        assert gone.status_code == 404
    finally:
        await delete(shop.client, "products", [id_product])


async def test_image_replace_through_a_form_ps_method(shop: Target) -> None:
    root = await create(shop.client, "products", product_body(shop.prefix, "3", "Form EN", "Form FR"))
    id_product = text(root, "product/id")
    try:
        first = await shop.client.post(
            f"/api/images/products/{id_product}", files={"image": ("a.jpg", PLACEHOLDER_JPEG, "image/jpeg")}
        )
        id_image = text(xml(first), "image/id")
        replacement = PLACEHOLDER_JPEG + b"\x00"
        replaced = await shop.client.post(
            f"/api/images/products/{id_product}/{id_image}",
            data={"ps_method": "PUT"},
            files={"image": ("b.jpg", replacement, "image/jpeg")},
        )
        assert replaced.status_code == 200
        listing = xml(await shop.client.get(f"/api/images/products/{id_product}"))
        assert [d.get("id") for d in listing.findall("image/declination")] == [id_image]  # replaced, not added
        if not shop.real:
            binary = await shop.client.get(f"/api/images/products/{id_product}/{id_image}")
            assert binary.content == replacement
    finally:
        await delete(shop.client, "products", [id_product])


async def test_post_cleans_an_invalid_link_rewrite(shop: Target) -> None:
    extra = '<link_rewrite><language id="1">bad rewrite!</language><language id="2">Keep_This-1</language></link_rewrite>'
    root = await create(shop.client, "products", product_body(shop.prefix, "4", "Slug EN", "Slug FR", extra))
    id_ = text(root, "product/id")
    try:
        assert language(root, "product/link_rewrite", 1) == "bad-rewrite"  # Tools::str2url of the invalid one
        assert language(root, "product/link_rewrite", 2) == "Keep_This-1"  # a valid one is kept as sent
        got = xml(await shop.client.get(f"/api/products/{id_}"))
        assert language(got, "product/link_rewrite", 1) == "bad-rewrite"
        assert language(got, "product/link_rewrite", 2) == "Keep_This-1"
    finally:
        await delete(shop.client, "products", [id_])


async def test_order_history_with_unknown_order_or_state_is_a_bare_500(shop: Target) -> None:
    orders = xml(await shop.client.get("/api/orders", params={"sort": "[id_DESC]", "limit": "1"}))
    id_order = orders.findall("orders/order")[0].get("id")
    before = xml(await shop.client.get(f"/api/orders/{id_order}"))
    params = {"filter[id_order]": f"[{id_order}]", "display": "[id]"}
    histories = xml(await shop.client.get("/api/order_histories", params=params))
    count = len(histories.findall("order_histories/order_history"))
    for order, state in ((id_order, "999999"), ("999999999", "2")):
        body = f"<prestashop><order_history><id_order>{order}</id_order><id_order_state>{state}</id_order_state></order_history></prestashop>"
        response = await shop.client.post("/api/order_histories", content=body.encode())
        # uncaught "Invalid new order status": production mode prints nothing, not even PSWS-Version
        assert response.status_code == 500 and response.content == b""
        assert response.headers["content-type"].startswith("text/html")
        assert "psws-version" not in response.headers
    histories = xml(await shop.client.get("/api/order_histories", params=params))
    assert len(histories.findall("order_histories/order_history")) == count  # nothing stored
    after = xml(await shop.client.get(f"/api/orders/{id_order}"))
    assert text(after, "order/current_state") == text(before, "order/current_state")


async def test_combination_writes_refresh_the_product_default(shop: Target) -> None:
    root = await create(shop.client, "products", product_body(shop.prefix, "8", "Default EN", "Default FR"))
    id_product = text(root, "product/id")
    combos: list[str] = []
    fields = {"display": "[id,cache_default_attribute,id_default_combination]"}

    async def defaults() -> tuple[str, str]:
        got = xml(await shop.client.get(f"/api/products/{id_product}", params=fields))
        return text(got, "product/cache_default_attribute"), text(got, "product/id_default_combination")

    try:
        assert await defaults() == ("0", "0")
        for index in range(2):  # no default_on sent: updateDefaultAttribute falls back to the lowest id
            body = (
                f"<prestashop><combination><id_product>{id_product}</id_product><minimal_quantity>1</minimal_quantity>"
                f"<reference>{shop.prefix}-d{index}</reference></combination></prestashop>"
            )
            combos.append(text(await create(shop.client, "combinations", body.encode()), "combination/id"))
        assert await defaults() == (combos[0], combos[0])
        response = await shop.client.delete(f"/api/combinations/{combos[0]}")
        assert response.status_code == 200
        assert await defaults() == (combos[1], combos[1])
        response = await shop.client.delete(f"/api/combinations/{combos[1]}")
        assert response.status_code == 200
        assert await defaults() == ("0", "0")
    finally:
        await delete(shop.client, "combinations", combos)
        await delete(shop.client, "products", [id_product])
