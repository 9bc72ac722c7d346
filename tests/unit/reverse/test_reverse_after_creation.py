"""Pure rules of what follows Dolibarr after a product's creation: categories, variant data,
the cover document."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from dolisync.clients.prestashop_records import Combination
from dolisync.mapping.reverse import ReverseOptions, category_fields, combination_data_fields, combination_values
from dolisync.sync.reverse.images import wanted_cover

D = Decimal


def test_linked_categories_follow_dolibarr_and_others_are_kept() -> None:
    result = category_fields([2, 5, 9], 5, managed={5, 6, 7}, wanted={6})
    assert result == {"categories": [2, 6, 9], "id_category_default": 6}  # 5 left Dolibarr's category
    kept = category_fields([2, 5], 2, managed={5, 6}, wanted={5, 6})
    assert kept == {"categories": [2, 5, 6], "id_category_default": 2}


def test_a_product_is_never_left_without_a_category() -> None:
    assert category_fields([5], 5, managed={5}, wanted=set()) == {"categories": [5], "id_category_default": 5}


@given(current=st.lists(st.integers(1, 30), max_size=8, unique=True), default=st.integers(0, 30),
       managed=st.sets(st.integers(1, 30), max_size=10), wanted_pick=st.sets(st.integers(1, 30), max_size=10))
def test_the_default_category_is_always_one_of_the_product_categories(current: list[int], default: int,
                                                                      managed: set[int],
                                                                      wanted_pick: set[int]) -> None:
    wanted = wanted_pick & managed
    result = category_fields(current, default, managed=managed, wanted=wanted)
    categories = result["categories"]
    assert wanted <= set(categories)
    assert {c for c in current if c not in managed} <= set(categories)
    assert not (set(categories) & managed) - wanted - ({default} if default else set())
    if categories:
        assert result["id_category_default"] in categories
    assert category_fields(categories, result["id_category_default"], managed=managed, wanted=wanted) == result


def child(**fields: object) -> dict[str, object]:
    return {"id": "12", "ref": "P_TSHIRT-RED", "weight": "1.25", "weight_units": 0, "barcode": "",
            "barcode_type": 0, **fields}


def test_variant_data_is_the_child_s_ref_barcode_and_weight_over_its_base() -> None:
    options = ReverseOptions(weight_unit="kg", ref_prefix="P_")
    data = combination_data_fields(child(barcode="036000291452", barcode_type=3), base_weight=D("1"),
                                   default_reference="P_TSHIRT-7", current_reference="old", options=options)
    assert data == {"reference": "TSHIRT-RED", "weight": D("0.250000"), "ean13": "", "upc": "036000291452",
                    "isbn": ""}


def test_variant_weight_is_converted_to_the_shop_unit() -> None:
    options = ReverseOptions(weight_unit="g")
    data = combination_data_fields(child(weight="1.5", weight_units=0), base_weight=D("1000"),
                                   default_reference="x", current_reference="", options=options)
    assert data["weight"] == D("500")


def test_a_combination_without_reference_keeps_none_while_the_child_has_the_default_ref() -> None:
    options = ReverseOptions(ref_prefix="P_")
    same = combination_data_fields(child(ref="P_TSHIRT-7"), base_weight=D("1.25"), default_reference="P_TSHIRT-7",
                                   current_reference="", options=options)
    assert same["reference"] == ""
    renamed = combination_data_fields(child(ref="P_TSHIRT-RED"), base_weight=D("1.25"),
                                      default_reference="P_TSHIRT-7", current_reference="", options=options)
    assert renamed["reference"] == "TSHIRT-RED"


def test_shop_combination_values_have_the_mapper_shape() -> None:
    combination = Combination(id=7, reference="TSHIRT-RED", weight=D("0.25"), ean13="", upc="036000291452")
    options = ReverseOptions(ref_prefix="P_")
    desired = combination_data_fields(child(barcode="036000291452", barcode_type=3), base_weight=D("1"),
                                      default_reference="P_TSHIRT-7", current_reference="TSHIRT-RED",
                                      options=options)
    assert combination_values(combination) == desired  # in step: nothing to write


def test_the_cover_document_is_the_one_named_cover_else_the_first() -> None:
    assert wanted_cover(["b.png", "ps-4-cover.jpg", "a.png"]) == "ps-4-cover.jpg"
    assert wanted_cover(["front.png", "back.png"]) == "front.png"
    assert wanted_cover([]) is None


def test_category_and_document_events_run_product_data_and_its_items_retry_there() -> None:
    from dolisync.sync.reverse.triggers import flow_of_failure_entity, flows_for_dolibarr_event

    assert flows_for_dolibarr_event("CATEGORY_UNLINK") == ("product_data",)
    assert "product_data" in flows_for_dolibarr_event("category_link")
    assert flows_for_dolibarr_event("ECMFILES_CREATE") == ("product_data",)
    for entity in ("erp_product_images", "erp_image", "erp_combination_data", "erp_product_categories"):
        assert flow_of_failure_entity(entity) == "product_data"
    assert flow_of_failure_entity("erp_combination_price") == "prices"
