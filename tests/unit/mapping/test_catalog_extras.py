"""Features, stock corrections, specific prices and image documents."""

from __future__ import annotations

from decimal import Decimal

import pytest

from dolisync.clients.prestashop_records import Product, ProductFeature, ProductFeatureValue, SpecificPrice
from dolisync.mapping.catalog import CatalogOptions
from dolisync.mapping.catalog_extras import (
    classify_specific_price,
    feature_extrafield_definition,
    image_document,
    product_feature_values,
    stock_correction,
)
from dolisync.mapping.errors import MappingError


def test_feature_values_in_shop_language() -> None:
    product = Product.model_validate({"id": 1, "associations": {"product_features": [
        {"id": "3", "id_feature_value": "30"}, {"id": "4", "id_feature_value": "40"}]}})
    values = {30: ProductFeatureValue(id=30, id_feature=3, value={1: "Cotton", 2: "Coton"}),
              40: ProductFeatureValue(id=40, id_feature=4, value={1: "Long"})}
    assert product_feature_values(product, values, CatalogOptions(language_id=2, fallback_language_id=1)) == {
        "psfeat_3": "Coton", "psfeat_4": "Long"}
    with pytest.raises(MappingError):
        product_feature_values(product, {30: values[30]}, CatalogOptions())
    definition = feature_extrafield_definition(ProductFeature(id=3, name={1: "Composition"}), CatalogOptions())
    assert definition["label"] == "Composition" and definition["type"] == "varchar"


def test_stock_correction_is_the_signed_difference() -> None:
    up = stock_correction(product_id=5, warehouse_id=1, prestashop_quantity=12, dolibarr_quantity=Decimal(2),
                          shop_name="main", source_label="product 9")
    assert up.body is not None and up.body["qty"] == "10" and "12" in up.body["label"]
    down = stock_correction(product_id=5, warehouse_id=1, prestashop_quantity=0, dolibarr_quantity=Decimal(3),
                            shop_name="main", source_label="p")
    assert down.body is not None and down.body["qty"] == "-3"
    same = stock_correction(product_id=5, warehouse_id=1, prestashop_quantity=4, dolibarr_quantity=Decimal(4),
                            shop_name="main", source_label="p")
    assert same.body is None


def test_specific_prices_report_the_blocking_limitation() -> None:
    customer = SpecificPrice(id=1, id_customer=9, price=Decimal(10))
    assert not classify_specific_price(customer, multiprices_enabled=True).mappable
    quantity = SpecificPrice(id=2, from_quantity=10)
    assert "quantity" in classify_specific_price(quantity, multiprices_enabled=True).reason
    group = SpecificPrice(id=3, id_group=3, reduction=Decimal("0.1"), reduction_type="percentage")
    assert "PRODUIT_MULTIPRICES" in classify_specific_price(group, multiprices_enabled=False).reason
    assert classify_specific_price(group, multiprices_enabled=True).mappable


def test_image_document_names_and_hash() -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"x" * 10
    cover = image_document(12, png, "application/octet-stream", is_cover=True)
    other = image_document(13, png, "image/jpeg", is_cover=False)
    assert cover.filename == "ps-12-cover.png" and other.filename == "ps-13.jpg"
    assert cover.content_hash == other.content_hash
    assert image_document(12, png + b"!", "image/png", is_cover=True).content_hash != cover.content_hash
