"""Unit tests of the PrestaShop emulator store, schema and list-parameter parsing."""

from __future__ import annotations

import itertools
from pathlib import Path

import httpx2
import pytest

from dolisync.emulators.dataset import ImageBlob, PrestaShopDataset
from dolisync.emulators.prestashop import PrestaShopStore, create_app, reference_dataset
from dolisync.emulators.prestashop.errors import WsError, did_you_mean
from dolisync.emulators.prestashop.listing import apply_filters, parse_filters, parse_languages, parse_limit
from dolisync.emulators.prestashop.schema import load_schema


def _ticking_store(dataset: PrestaShopDataset) -> PrestaShopStore:
    store = PrestaShopStore.from_dataset(dataset)
    seconds = itertools.count()
    store.clock = lambda: f"2026-11-28 10:00:{next(seconds):02d}"
    return store


def _shop() -> PrestaShopDataset:
    return PrestaShopDataset(
        tables={
            "languages": [{"id": "1", "active": "1"}, {"id": "2", "active": "1"}],
            "products": [{"id": "7", "price": "10.000000", "name": {1: "A", 2: "B"}}],
            "order_states": [
                {"id": "1", "logable": "0", "invoice": "0", "paid": "0"},
                {"id": "2", "logable": "1", "invoice": "1", "paid": "1"},
            ],
            "orders": [
                {
                    "id": "3",
                    "current_state": "1",
                    "valid": "0",
                    "reference": "ABCDEFGHI",
                    "module": "ps_checkpayment",
                    "payment": "Payment by check",
                    "total_paid_tax_incl": "12.500000",
                    "total_paid_real": "0.000000",
                }
            ],
        },
        images={1: ImageBlob(id_image=1, id_product=7, content=b"\xff\xd8jpeg")},
        api_keys={"K" * 32: None},
    )


def test_insert_assigns_id_and_dates_and_update_moves_date_upd() -> None:
    store = _ticking_store(_shop())
    new_id = store.insert("products", {"price": "3.000000", "name": {1: "x", 2: "y"}})
    assert new_id == 8
    row = store.get("products", new_id)
    assert row is not None and row["date_add"] == row["date_upd"] == "2026-11-28 10:00:00"
    store.update("products", new_id, {"price": "4.000000"})
    row = store.get("products", new_id)
    assert row is not None and row["price"] == "4.000000" and row["date_upd"] == "2026-11-28 10:00:01"
    assert [r["id"] for r in store.rows("products")] == ["7", "8"]
    stock = [r for r in store.rows("stock_availables") if r["id_product"] == "8"]
    assert [r["id_product_attribute"] for r in stock] == ["0"]  # a product gets its stock row
    with pytest.raises(KeyError):
        store.update("products", 999, {})


def test_product_stock_row_is_the_sum_of_combination_rows() -> None:
    store = _ticking_store(_shop())
    combos = [store.insert("combinations", {"id_product": "7"}) for _ in range(3)]
    rows = {r["id_product_attribute"]: r for r in store.rows("stock_availables") if r["id_product"] == "7"}
    assert set(rows) == {"0", *map(str, combos)}
    for quantity, combo in zip((4, 5, 6), combos, strict=True):
        store.update("stock_availables", int(rows[str(combo)]["id"]), {"quantity": str(quantity)})
    assert store.get("stock_availables", int(rows["0"]["id"]))["quantity"] == "15"  # type: ignore[index]
    store.delete("combinations", combos[0])
    assert store.get("stock_availables", int(rows["0"]["id"]))["quantity"] == "11"  # type: ignore[index]


def test_change_order_state_sets_state_valid_invoice_and_payment_once() -> None:
    store = _ticking_store(_shop())
    history_id = store.change_order_state(3, 2, id_employee=5)
    order = store.get("orders", 3)
    assert order is not None
    assert (order["current_state"], order["valid"], order["invoice_number"]) == ("2", "1", "1")
    assert order["total_paid_real"] == "12.500000"
    history = store.get("order_histories", history_id)
    assert history is not None and (history["id_order_state"], history["id_employee"]) == ("2", "5")
    payments = store.rows("order_payments")
    assert [(p["order_reference"], p["amount"], p["payment_method"]) for p in payments] == [
        ("ABCDEFGHI", "12.500000", "Payments by check")
    ]
    store.change_order_state(3, 1)
    store.change_order_state(3, 2)
    assert len(store.rows("order_invoices")) == 1 and len(store.rows("order_payments")) == 1
    assert store.get("orders", 3)["valid"] == "1"  # type: ignore[index]
    store.change_order_state(3, 1)
    assert store.get("orders", 3)["valid"] == "0"  # type: ignore[index]
    with pytest.raises(KeyError):
        store.change_order_state(404, 2)


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    store = _ticking_store(_shop())
    store.insert("products", {"price": "1.000000", "name": {1: "é", 2: "ü"}, "associations": {"categories": [{"id": "2"}]}})
    store.inactive_keys.add("K" * 32)
    path = tmp_path / "state.json"
    store.save(path)
    loaded = PrestaShopStore.load(path)
    assert loaded.rows("products") == store.rows("products")
    assert loaded.get("products", 8)["name"] == {1: "é", 2: "ü"}  # type: ignore[index]
    assert loaded.images[1].content == b"\xff\xd8jpeg"
    assert loaded.inactive_keys == {"K" * 32}
    assert loaded.insert("products", {"price": "2"}) == 9


def test_from_dataset_and_clone_copy_the_data() -> None:
    dataset = _shop()
    store = PrestaShopStore.from_dataset(dataset)
    twin = store.clone()
    store.update("products", 7, {"price": "99.000000"})
    assert dataset.tables["products"][0]["price"] == "10.000000"
    assert twin.get("products", 7)["price"] == "10.000000"  # type: ignore[index]
    assert twin.insert("products", {"price": "1"}) == 8 and store.get("products", 8) is None


def test_reference_dataset_holds_the_captured_demo_shop() -> None:
    store = PrestaShopStore.from_dataset(reference_dataset())
    assert [r["id"] for r in store.rows("languages")] == ["1", "2"]
    assert len(store.rows("products")) == 19
    product = store.get("products", 1)
    assert product is not None and product["name"][2] == "T-shirt imprimé colibri"
    assert store.get("orders", 4)["current_state"] == "1"  # type: ignore[index]


def test_field_normalisation_follows_the_column() -> None:
    spec = load_schema().resources["products"]
    assert spec.by_name["price"].normalize("19.9") == "19.900000"
    assert spec.by_name["id_manufacturer"].normalize("") == "0"
    assert spec.by_name["active"].normalize("true") == "1"
    assert spec.by_name["available_date"].normalize("") == "0000-00-00"
    assert spec.by_name["reference"].normalize(" x ") == " x "


def test_list_parameter_parsing() -> None:
    spec = load_schema().resources["products"]
    assert parse_limit("5") == (0, 5) and parse_limit("10,20") == (10, 20)
    with pytest.raises(WsError) as limit_error:
        parse_limit("1,2,3")
    assert limit_error.value.status == 500 and [c for c, _ in limit_error.value.errors] == [39, 3, 3, 3, 3]
    assert parse_languages("[1|2]", [1, 2]) == ([1, 2], False)
    assert parse_languages("[1,2]", [1, 2]) == ([1, 2], True)
    with pytest.raises(WsError) as language_error:
        parse_languages("9", [1, 2])
    assert language_error.value.status == 400 and language_error.value.errors[0][0] == 81
    rows = [{"id": str(i), "price": f"{i}.000000"} for i in range(1, 8)]
    getter = lambda row, name: row[name]  # noqa: E731
    cases = {
        "[2|4]": ["2", "4"],
        "[5,3]": ["3", "4", "5"],
        ">[5]": ["6", "7"],
        "![1|2|3|4|5]": ["6", "7"],
        "7": ["7"],
    }
    for raw, expected in cases.items():
        conditions = parse_filters([("filter[id]", raw)], spec, with_dates=False)
        assert [r["id"] for r in apply_filters(rows, conditions, getter, [1])] == expected, raw
    with pytest.raises(WsError) as unknown:
        parse_filters([("filter[date_upd]", "[1]")], spec, with_dates=False)
    assert unknown.value.errors[0][0] == 32
    assert parse_filters([("filter[date_upd]", "[1]")], spec, with_dates=True)[0].field == "date_upd"


def test_did_you_mean_keeps_the_last_of_equal_candidates() -> None:
    message = did_you_mean("No.", "abc", ["abd", "abe", "zzz"])
    assert message.startswith('No. Did you mean: "abe"?') and message.endswith('"abd", "abe", "zzz"')
    assert did_you_mean("No.", "x", ["y"]) == 'No. Did you mean: "y"?'


@pytest.mark.anyio
async def test_faults_wrap_the_app() -> None:
    from dolisync.emulators.faults import FaultPlan, FaultRule

    store = PrestaShopStore.from_dataset(_shop())
    plan = FaultPlan([FaultRule(error_rate=1.0, error_status=503)])
    app = create_app(store, base_url="http://shop.test", faults=plan)
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app), base_url="http://shop.test") as client:
        response = await client.get("/api/products", auth=("K" * 32, ""))
    assert response.status_code == 503
    plan.enabled = False
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app), base_url="http://shop.test") as client:
        response = await client.get("/api/products", auth=("K" * 32, ""))
    assert response.status_code == 200 and 'xlink:href="http://shop.test/api/products/7"' in response.text


@pytest.mark.anyio
async def test_multistore_lists_follow_the_shop_context() -> None:
    dataset = _shop()
    dataset.tables["shops"] = [{"id": "1", "id_shop_group": "1"}, {"id": "2", "id_shop_group": "1"}]
    dataset.tables["products"].append(
        {"id": "8", "price": "5.000000", "_shops": [2], "_shop_fields": {2: {"price": "6.000000"}}}
    )
    dataset.tables["products"][0]["_shops"] = [1]
    dataset.tables["orders"][0]["id_shop"] = "1"
    store = PrestaShopStore.from_dataset(dataset)
    app = create_app(store, base_url="http://shop.test")
    async with httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app), base_url="http://shop.test", auth=("K" * 32, "")
    ) as client:
        default = await client.get("/api/products", params={"output_format": "JSON"})
        shop2 = await client.get("/api/products", params={"output_format": "JSON", "id_shop": "2", "display": "[id,price]"})
        every = await client.get("/api/products", params={"output_format": "JSON", "id_shop": "all"})
        orders2 = await client.get("/api/orders", params={"output_format": "JSON", "id_shop": "2"})
        not_here = await client.get("/api/products/7", params={"id_shop": "2"})
        redirect = await client.get("/api/products", params={"id_shop": "9"})
    assert default.json() == {"products": [{"id": 7}]}
    assert shop2.json() == {"products": [{"id": 8, "price": "6.000000"}]}
    assert every.json() == {"products": [{"id": 7}, {"id": 8}]}
    assert orders2.text == "[]"
    assert not_here.status_code == 404 and "<code><![CDATA[131]]></code>" in not_here.text
    assert redirect.status_code == 302 and redirect.headers["location"].endswith("/?url=products")


@pytest.mark.anyio
async def test_multistore_writes_go_to_the_context_shop() -> None:
    dataset = _shop()
    dataset.tables["shops"] = [{"id": "1", "id_shop_group": "1"}, {"id": "2", "id_shop_group": "1"}]
    dataset.tables["products"][0]["_shop_fields"] = {2: {"price": "12.000000"}}
    store = PrestaShopStore.from_dataset(dataset)
    app = create_app(store, base_url="http://shop.test")
    patch = b"<prestashop><product><id>7</id><price>15</price></product></prestashop>"
    new = b'<prestashop><product><price>3</price><state>1</state><name><language id="1">N</language></name></product></prestashop>'
    async with httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app), base_url="http://shop.test", auth=("K" * 32, "")
    ) as client:
        assert (await client.patch("/api/products/7", params={"id_shop": "2"}, content=patch)).status_code == 200
        shop1 = await client.get("/api/products/7", params={"display": "[id,price]", "output_format": "JSON"})
        shop2 = await client.get(
            "/api/products/7", params={"display": "[id,price]", "output_format": "JSON", "id_shop": "2"}
        )
        created = await client.post("/api/products", params={"id_shop": "2"}, content=new)
        in_shop1 = await client.get("/api/products", params={"output_format": "JSON"})
    assert shop1.json() == {"products": [{"id": 7, "price": "10.000000"}]}
    assert shop2.json() == {"products": [{"id": 7, "price": "15.000000"}]}
    assert created.status_code == 201
    assert in_shop1.json() == {"products": [{"id": 7}]}  # the new product belongs to shop 2 only


@pytest.mark.anyio
async def test_post_order_on_a_cart_validates_it() -> None:
    store = PrestaShopStore.from_dataset(reference_dataset())
    before = {r["id_product_attribute"]: int(r["quantity"]) for r in store.rows("stock_availables") if r.get("id_product") == "1"}
    app = create_app(store, base_url="http://shop.test")
    key = next(k for k, v in store.api_keys.items() if v is None and k not in store.inactive_keys)
    cart = (
        b"<prestashop><cart><id_currency>1</id_currency><id_lang>1</id_lang><id_customer>2</id_customer>"
        b"<id_address_delivery>5</id_address_delivery><id_address_invoice>5</id_address_invoice><id_carrier>2</id_carrier>"
        b"<associations><cart_rows><cart_row><id_product>1</id_product><id_product_attribute>1</id_product_attribute>"
        b"<id_address_delivery>5</id_address_delivery><quantity>2</quantity></cart_row></cart_rows></associations>"
        b"</cart></prestashop>"
    )
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app), base_url="http://shop.test", auth=(key, "")) as client:
        id_cart = (await client.post("/api/carts", content=cart)).text.split("<id><![CDATA[")[1].split("]")[0]
        order = (
            f"<prestashop><order><id_address_delivery>5</id_address_delivery><id_address_invoice>5</id_address_invoice>"
            f"<id_cart>{id_cart}</id_cart><id_currency>1</id_currency><id_lang>1</id_lang><id_customer>2</id_customer>"
            f"<id_carrier>2</id_carrier><module>ps_wirepayment</module><payment>Bank wire</payment>"
            f"<total_paid>45.24</total_paid><total_paid_real>0</total_paid_real><total_products>38.24</total_products>"
            f"<total_products_wt>38.24</total_products_wt><conversion_rate>1</conversion_rate></order></prestashop>"
        )
        response = await client.post("/api/orders", content=order.encode())
    assert response.status_code == 201
    id_order = int(response.text.split("<id><![CDATA[")[1].split("]")[0])
    stored = store.get("orders", id_order)
    assert stored is not None
    # address 5 is outside the EU (no tax); product 1 has a 20 % specific price; carrier 2 ships for 7.00
    assert (stored["total_products"], stored["total_shipping"], stored["total_paid_tax_incl"]) == (
        "38.240000",
        "7.000000",
        "45.240000",
    )
    assert (stored["current_state"], stored["valid"]) == ("11", "1")  # the posted total matched
    lines = [d for d in store.rows("order_details") if d.get("id_order") == str(id_order)]
    assert [(d["product_id"], d["product_quantity"], d["unit_price_tax_excl"]) for d in lines] == [("1", "2", "19.120000")]
    after = {r["id_product_attribute"]: int(r["quantity"]) for r in store.rows("stock_availables") if r.get("id_product") == "1"}
    assert after["1"] == before["1"] - 2 and after["0"] == before["0"] - 2
