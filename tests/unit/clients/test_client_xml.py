"""Safe XML parsing, XML->JSON-shape conversion and write bodies."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from lxml import etree

from dolisync.clients.errors import MalformedResponse, UnsafeXml
from dolisync.clients.prestashop_records import Combination, Order, Product
from dolisync.clients.prestashop_xml import (
    IncompleteMultilang,
    association_item_node,
    build_write_xml,
    format_value,
    item_node_for,
)
from dolisync.clients.xmlsafe import element_to_item, parse_xml

from .conftest import ps_body, ps_capture, reference_root


def _entity(name: str, node: str) -> dict:
    root = parse_xml(ps_capture(name)["body"].encode(), remote="ps", resource=node, object_id=None)
    return element_to_item(root.find(node))


def test_xml_and_json_of_the_same_object_parse_to_equal_records() -> None:
    assert Combination.model_validate(_entity("combination_1-xml", "combination")) == Combination.model_validate(
        ps_body("combination_1-json")["combination"]
    )
    assert Order.model_validate(_entity("order_1-xml", "order")) == Order.model_validate(ps_body("order_1-json")["order"])


@pytest.mark.parametrize(
    "body",
    [
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><p>&lol2;</p>',
        b'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><p>&xxe;</p>',
        b'<!doctype html><p/>',
    ],
)
def test_doctype_and_entities_are_refused(body: bytes) -> None:
    with pytest.raises(UnsafeXml) as info:
        parse_xml(body, remote="ps", resource="products", object_id="4")
    assert "products 4" in str(info.value)


def test_malformed_xml_names_resource_and_id() -> None:
    with pytest.raises(MalformedResponse) as info:
        parse_xml(b"<prestashop><product>", remote="ps", resource="products", object_id="9")
    assert "products 9" in str(info.value) and "invalid XML" in str(info.value)


def test_item_nodes_match_the_reference_resource_table() -> None:
    resources = json.loads((reference_root() / "prestashop" / "resources.json").read_text())["resources"]
    checked = 0
    for name, spec in resources.items():
        if "xml_item_node" not in spec:  # `images` has its own handler, no entity node
            continue
        checked += 1
        assert item_node_for(name) == spec["xml_item_node"], name
        for association in spec.get("associations") or []:
            if isinstance(association, dict) and association.get("item_node"):
                assert association_item_node(association["name"]) == association["item_node"], (name, association["name"])
    assert checked > 30


def test_write_body_multilang_associations_and_values() -> None:
    body = build_write_xml(
        "products",
        {
            "price": Decimal("19.900000"),
            "active": True,
            "reference": "R&D <1>",
            "id_manufacturer": None,
            "name": {2: "Nom", 1: "Name"},
            "associations": {"categories": [{"id": 2}, {"id": 3}], "product_features": [{"id": 1, "id_feature_value": 4}]},
        },
        languages=[1, 2],
    )
    root = etree.fromstring(body)
    product = root.find("product")
    assert product.findtext("price") == "19.900000" and product.findtext("active") == "1"
    assert product.findtext("reference") == "R&D <1>" and product.findtext("id_manufacturer") == ""
    assert [(n.get("id"), n.text) for n in product.find("name")] == [("1", "Name"), ("2", "Nom")]
    assert [c.findtext("id") for c in product.find("associations/categories")] == ["2", "3"]
    feature = product.find("associations/product_features/product_feature")
    assert feature.findtext("id_feature_value") == "4"
    # The body round-trips into the same record the JSON side gives.
    parsed = Product.model_validate(element_to_item(product))
    assert parsed.name == {1: "Name", 2: "Nom"} and parsed.associations.categories == [2, 3]


def test_partial_multilang_write_is_refused() -> None:
    with pytest.raises(IncompleteMultilang) as info:
        build_write_xml("products", {"name": {1: "Only English"}}, languages=[1, 2, 3])
    assert info.value.missing == [2, 3] and "name" in str(info.value)


def test_values_are_written_inline_without_exponent_or_float() -> None:
    assert format_value(Decimal("1E+1")) == "10"
    assert format_value(Decimal("0.000001")) == "0.000001"
    assert format_value(False) == "0"
    with pytest.raises(TypeError):
        format_value(0.1)
    assert item_node_for("order_histories") == "order_history" and item_node_for("addresses") == "address"
    assert item_node_for("taxes") == "tax"
