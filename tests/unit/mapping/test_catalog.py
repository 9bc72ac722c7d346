"""Product, combination and category mapping (PrestaShop records → Dolibarr bodies)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dolisync.clients.prestashop_records import Category, Combination, Product, ProductOption, ProductOptionValue
from dolisync.mapping.catalog import (
    CatalogOptions,
    CategoryTree,
    combination_label_suffix,
    decimal_text,
    linked_category_ids,
    map_category,
    map_combination_product,
    map_product,
    map_variant,
)
from dolisync.mapping.errors import MappingError
from dolisync.mapping.money import r2
from dolisync.mapping.taxes import ProductVat

VAT20 = ProductVat(Decimal("20"), "FR20")


def _product(**overrides: object) -> Product:
    data: dict[str, object] = {
        "id": 42, "reference": "TSHIRT", "price": "16.666667", "wholesale_price": "7.500000",
        "weight": "0.250000", "width": "20", "height": "1", "depth": "30", "ean13": "4006381333931",
        "active": "1", "name": [{"id": "1", "value": "T-shirt"}, {"id": "2", "value": "Tee FR"}],
        "description": {1: "<p>Cotton</p>", 2: "<p>Coton</p>"},
        "associations": {"categories": [{"id": "2"}, {"id": "3"}, {"id": "5"}]},
    }
    data.update(overrides)
    return Product.model_validate(data)


def test_product_ht_fields() -> None:
    mapped = map_product(_product(), options=CatalogOptions(language_id=2, ref_prefix="A-"), vat=VAT20,
                         external_key="k:42")
    body = mapped.body
    assert body["ref"] == "A-TSHIRT" and body["label"] == "Tee FR" and body["description"] == "<p>Coton</p>"
    assert body["price"] == "16.66667" and body["price_base_type"] == "HT" and "price_ttc" not in body
    assert body["tva_tx"] == "20" and body["default_vat_code"] == "FR20"
    assert body["cost_price"] == "7.5" and body["status"] == 1 and body["ref_ext"] == "k:42"
    assert (body["weight"], body["weight_units"]) == ("0.25", 0)
    assert (body["length"], body["width"], body["height"], body["length_units"]) == ("30", "20", "1", -2)
    assert (body["barcode"], body["barcode_type"]) == ("4006381333931", 2)
    assert mapped.create_body()["status_buy"] == 1 and "status_buy" not in body


def test_product_ttc_puts_gross_in_price_ttc() -> None:
    body = map_product(_product(), options=CatalogOptions(price_base="TTC"), vat=VAT20, external_key="k").body
    assert body["price_base_type"] == "TTC" and body["price_ttc"] == "20" and "price" not in body


@given(st.decimals(min_value=0, max_value=100000, places=6), st.sampled_from(["0", "5.5", "20", "21"]))
def test_ttc_is_ht_times_rate_rounded_to_cents(price: Decimal, rate: str) -> None:
    vat = ProductVat(Decimal(rate))
    body = map_product(_product(price=str(price)), options=CatalogOptions(price_base="TTC"), vat=vat,
                       external_key="k").body
    assert Decimal(body["price_ttc"]) == r2(price * (100 + Decimal(rate)) / 100)


def test_descriptions_switch_and_size_limit() -> None:
    off = map_product(_product(description={1: "x" * 100_000}), options=CatalogOptions(sync_descriptions=False),
                      vat=VAT20, external_key="k")
    assert "description" not in off.body and "description" not in off.create_only  # too big even once
    once = map_product(_product(), options=CatalogOptions(sync_descriptions=False), vat=VAT20, external_key="k")
    assert "description" not in once.body and once.create_body()["description"] == "<p>Cotton</p>"
    with pytest.raises(MappingError) as error:
        map_product(_product(description={1: "é" * 2_500_000}), options=CatalogOptions(), vat=VAT20, external_key="k")
    assert error.value.field == "description" and "5,000,000 bytes" in error.value.hint
    assert len(str(error.value)) < 600  # the 5 MB value is not copied into the message


def test_empty_reference() -> None:
    with pytest.raises(MappingError) as error:
        map_product(_product(reference=""), options=CatalogOptions(matching="ref"), vat=VAT20, external_key="k")
    assert error.value.field == "reference" and "ref" in error.value.hint
    body = map_product(_product(reference=""), options=CatalogOptions(ref_prefix="B-"), vat=VAT20, external_key="k").body
    assert body["ref"] == "B-PS42"


def test_invalid_ean_is_not_sent_but_reported() -> None:
    mapped = map_product(_product(ean13="1234567890123"), options=CatalogOptions(), vat=VAT20, external_key="k")
    assert mapped.body["barcode"] == "" and mapped.problems and "1234567890123" in mapped.problems[0]


def test_units_and_virtual_product() -> None:
    body = map_product(_product(is_virtual="1"), options=CatalogOptions(weight_unit="g", dimension_unit="mm"),
                       vat=VAT20, external_key="k").body
    assert (body["type"], body["weight_units"], body["length_units"]) == (1, -3, -3)
    with pytest.raises(MappingError):
        map_product(_product(), options=CatalogOptions(weight_unit="stone"), vat=VAT20, external_key="k")


def test_missing_name_is_an_error() -> None:
    with pytest.raises(MappingError) as error:
        map_product(_product(name={}), options=CatalogOptions(), vat=VAT20, external_key="k")
    assert error.value.field == "name"


OPTIONS = {1: ProductOption(id=1, position=0, name={1: "Size"}), 2: ProductOption(id=2, position=1, name={1: "Color"})}
VALUES = {10: ProductOptionValue(id=10, id_attribute_group=1, name={1: "S"}),
          20: ProductOptionValue(id=20, id_attribute_group=2, name={1: "Blue"})}


def _combination(**overrides: object) -> Combination:
    data: dict[str, object] = {"id": 7, "id_product": 42, "reference": "", "price": "2.500000", "weight": "0.1",
                               "upc": "036000291452",
                               "associations": {"product_option_values": [{"id": "20"}, {"id": "10"}]}}
    data.update(overrides)
    return Combination.model_validate(data)


def test_combination_as_separate_product() -> None:
    combination = _combination()
    suffix = combination_label_suffix(combination, VALUES, OPTIONS, CatalogOptions())
    assert suffix == "Size: S, Color: Blue"
    body = map_combination_product(combination, _product(), options=CatalogOptions(), vat=VAT20, external_key="c:7",
                                   label_suffix=suffix).body
    assert body["ref"] == "TSHIRT-7" and body["label"] == "T-shirt - Size: S, Color: Blue"
    assert body["price"] == decimal_text(Decimal("19.16667")) and body["weight"] == "0.35"
    assert (body["barcode"], body["barcode_type"]) == ("036000291452", 3) and body["ref_ext"] == "c:7"
    own = map_combination_product(_combination(reference="TS-S-B"), _product(), options=CatalogOptions(ref_prefix="P"),
                                  vat=VAT20, external_key="c", label_suffix="").body
    assert own["ref"] == "PTS-S-B"


def test_variant_body_in_ttc_mode() -> None:
    mapping = map_variant(_combination(), parent_ref="TSHIRT", options=CatalogOptions(price_base="TTC"), vat=VAT20,
                          attribute_ids={1: 100, 2: 200}, value_ids={10: 1000, 20: 2000}, values=VALUES,
                          external_key="c:7")
    assert mapping.body["features"] == {"100": "1000", "200": "2000"}
    assert mapping.body["price_impact"] == "3" and mapping.body["weight_impact"] == "0.1"
    assert mapping.body["reference"] == "TSHIRT-7" and mapping.child_body["ref_ext"] == "c:7"
    assert mapping.child_body["barcode"] == "036000291452"
    with pytest.raises(MappingError):
        map_variant(_combination(), parent_ref="T", options=CatalogOptions(), vat=VAT20, attribute_ids={1: 100},
                    value_ids={10: 1000}, values=VALUES, external_key="c")


def _cat(cid: int, parent: int, name: str) -> Category:
    return Category(id=cid, id_parent=parent, name={1: name}, description={1: f"about {name}"})


def test_category_tree_under_home_with_duplicate_sibling_labels() -> None:
    cats = [_cat(1, 0, "Root"), _cat(2, 1, "Home"), _cat(3, 2, "Clothes"), _cat(4, 3, "Men"), _cat(5, 2, "clothes"),
            _cat(9, 1, "Other shop home"), _cat(10, 9, "Elsewhere")]
    tree = CategoryTree(cats, home_id=2)
    assert [c.id for c in tree.ordered()] == [3, 5, 4]
    assert tree.label_of(tree.by_id[3], CatalogOptions()) == "Clothes"
    assert tree.label_of(tree.by_id[5], CatalogOptions()) == "clothes (5)"
    body = map_category(tree.by_id[4], tree=tree, options=CatalogOptions(), parent_target_id=77, external_key="c:4")
    assert body == {"label": "Men", "type": "product", "fk_parent": 77, "ref_ext": "c:4", "description": "about Men"}
    assert linked_category_ids(_product(), tree) == [3, 5]  # home (2) is not a link target
    assert not tree.in_shop_tree(10)
