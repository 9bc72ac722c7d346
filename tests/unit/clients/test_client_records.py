"""Typed records parsed from recorded PrestaShop and Dolibarr bodies."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from dolisync.clients.errors import MalformedResponse
from dolisync.clients.records import (
    Category,
    Combination,
    Customer,
    DoliBankAccount,
    DoliContact,
    DoliInvoice,
    DoliOrder,
    DoliProduct,
    DoliProductStock,
    DoliThirdParty,
    DoliVariant,
    DoliVatRate,
    DoliWarehouse,
    Order,
    OrderDetail,
    OrderPayment,
    OrderState,
    Product,
    SpecificPrice,
    StockAvailable,
    multilang_text,
    parse_multilang,
)
from dolisync.clients.dolibarr_records import parse_doli_record
from dolisync.clients.prestashop_records import PS_RECORD_TYPES, parse_ps_record

from .conftest import doli_sample, ps_body


def test_product_from_real_full_list_keeps_money_multilang_and_associations() -> None:
    raw = ps_body("products_display_full-json")["products"][0]
    product = Product.model_validate(raw)
    assert product.id == 1
    assert product.price == Decimal(raw["price"]) and isinstance(product.price, Decimal)
    assert product.name == {int(item["id"]): item["value"] for item in raw["name"]}
    assert product.associations.categories == [int(c["id"]) for c in raw["associations"]["categories"]]
    assert [(f.id, f.id_feature_value) for f in product.associations.product_features] == [
        (int(f["id"]), int(f["id_feature_value"])) for f in raw["associations"]["product_features"]
    ]
    assert product.has_combinations
    assert product.date_upd == datetime.strptime(raw["date_upd"], "%Y-%m-%d %H:%M:%S")
    assert product.weight == Decimal(raw["weight"])


def test_single_object_json_with_dropped_zero_fields_gets_defaults() -> None:
    # PrestaShop drops "", "0" and null top-level fields of single objects: defaults fill in.
    raw = ps_body("address_5-json")["address"]
    assert "vat_number" not in raw and "deleted" not in raw
    payment = OrderPayment.model_validate(ps_body("order_payment_first-json")["order_payment"])
    assert payment.transaction_id == "" and payment.amount == Decimal("21.300000")


def test_write_echo_with_string_id_parses_like_a_get() -> None:
    echo = ps_body("post_product-json")["product"]
    assert echo["id"] == "24"
    product = Product.model_validate(echo)
    assert product.id == 24 and product.price == Decimal("19.9")
    assert product.associations.stock_availables[0].id_product_attribute == 0


def test_order_and_its_rows_are_decimal() -> None:
    raw = ps_body("order_1-json")["order"]
    order = Order.model_validate(raw)
    assert order.total_paid_tax_incl == Decimal(raw["total_paid_tax_incl"])
    assert order.conversion_rate == Decimal("1.000000")
    assert order.invoice_date is None  # 0000-00-00 00:00:00
    rows = order.associations.order_rows
    assert [row.id for row in rows] == [int(r["id"]) for r in raw["associations"]["order_rows"]]
    assert rows[0].unit_price_tax_excl == Decimal(raw["associations"]["order_rows"][0]["unit_price_tax_excl"])
    detail = OrderDetail.model_validate(ps_body("order_detail_1-json")["order_detail"])
    assert detail.total_price_tax_incl == Decimal("23.900000") and detail.id_order == 1


def test_specific_price_reads_from_and_to_aliases() -> None:
    price = SpecificPrice.model_validate(
        {"id": 3, "price": "-1.000000", "reduction": "0.200000", "from": "2026-01-01 00:00:00", "to": "0000-00-00 00:00:00"}
    )
    assert price.date_from == datetime(2026, 1, 1) and price.date_to is None
    assert price.reduction == Decimal("0.2")


def test_multilang_shapes_plain_string_range_and_dict() -> None:
    assert parse_multilang([{"id": "1", "value": "A"}, {"id": 2, "value": "B"}]) == {1: "A", 2: "B"}
    assert parse_multilang("Only", language_id=2) == {2: "Only"}
    category = Category.model_validate({"id": 4, "name": "Men"}, context={"language_id": 1})
    assert category.name == {1: "Men"}
    assert multilang_text({0: "plain"}, 5) == "plain"
    assert multilang_text({1: "en", 2: ""}, 2, fallback_id=1) == "en"
    with pytest.raises(ValueError):
        parse_multilang([{"value": "no id"}])


def test_other_real_records_parse() -> None:
    combination = Combination.model_validate(ps_body("combination_1-json")["combination"])
    assert combination.associations.product_option_values == [1, 8]
    assert combination.default_on is True
    stock = StockAvailable.model_validate(ps_body("stock_available_1-json")["stock_available"])
    assert stock.quantity == 2400 and stock.id_product_attribute == 0
    state = OrderState.model_validate(ps_body("order_state_2-json")["order_state"])
    assert state.paid and state.logable and not state.shipped
    customer = Customer.model_validate(ps_body("customer_2-json")["customer"])
    assert customer.email == "pub@prestashop.com" and customer.associations.groups == [3]
    assert "passwd" not in Customer.model_fields


def test_record_registry_covers_every_resource_name() -> None:
    assert PS_RECORD_TYPES["order_details"] is OrderDetail
    assert all(name.endswith("s") for name in PS_RECORD_TYPES)


def test_bad_ps_value_names_resource_and_id_not_value() -> None:
    with pytest.raises(MalformedResponse) as info:
        parse_ps_record(Product, {"id": 7, "price": "12,50 secret"})
    text = str(info.value)
    assert "Product 7" in text and "price" in text and "secret" not in text


def test_dolibarr_order_with_lines_strings_and_timestamps() -> None:
    raw = doli_sample("orders_get_validated")["response"]
    order = DoliOrder.model_validate(raw)
    assert order.id == int(raw["id"]) and order.status == 1 and order.ref == raw["ref"]
    assert order.total_ttc == Decimal(raw["total_ttc"])
    assert order.date == datetime.fromtimestamp(raw["date"], tz=UTC)
    line = order.lines[0]
    assert line.fk_product == int(raw["lines"][0]["fk_product"])
    assert line.subprice == Decimal(raw["lines"][0]["subprice"]) and line.qty == Decimal(2)


def test_dolibarr_native_types_from_action_answers_parse_too() -> None:
    order = DoliOrder.model_validate({"id": 6, "statut": 0, "total_ttc": 70.74, "array_options": []})
    assert order.id == 6 and order.total_ttc == Decimal("70.74") and order.array_options == {}
    assert order.is_draft


def test_dolibarr_invoice_links_and_paid_amounts() -> None:
    invoice = DoliInvoice.model_validate(doli_sample("invoices_get_draft_but_paid")["response"])
    assert invoice.linked_order_ids == [8]
    assert invoice.paye and invoice.totalpaid == Decimal("70.74") and invoice.remaintopay == 0


def test_dolibarr_catalog_and_setup_records() -> None:
    product = DoliProduct.model_validate(doli_sample("products_get")["response"])
    assert product.cost_price == Decimal("7.5") and product.stock_reel is None
    assert product.array_options == {"options_ps_id": "42"}
    assert DoliProductStock.model_validate(doli_sample("products_stock")["response"]).per_warehouse == {1: Decimal(47)}
    variant = DoliVariant.model_validate(doli_sample("variants_list_of_parent")["response"][0])
    assert variant.fk_product_child == 8 and variant.attribute_values == {1: 1, 2: 3}
    warehouse = DoliWarehouse.model_validate(doli_sample("warehouses_get")["response"])
    assert warehouse.ref == "WH-MAIN" and warehouse.status == 1
    vat = [DoliVatRate.model_validate(row) for row in doli_sample("dict_vat_es")["response"]]
    assert any(row.localtax2.startswith("-") for row in vat)
    third = DoliThirdParty.model_validate(doli_sample("thirdparties_get")["response"])
    assert third.client == 1 and third.country_code == "FR"
    contact = DoliContact.model_validate(doli_sample("contacts_get")["response"])
    assert contact.socid == 1 and contact.ref_ext.startswith("ps:")
    bank = DoliBankAccount.model_validate(doli_sample("bankaccounts_get")["response"])
    assert bank.currency_code == "EUR" and bank.balance == 0


def test_bad_dolibarr_value_is_malformed_with_resource() -> None:
    with pytest.raises(MalformedResponse) as info:
        parse_doli_record(DoliProduct, {"id": "3", "price": "abc"}, resource="products")
    assert "products 3" in str(info.value) and "abc" not in str(info.value)
