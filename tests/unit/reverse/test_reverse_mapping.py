"""Pure Dolibarr -> PrestaShop mappers: stock rule, price rule, product data, descriptions."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dolisync.clients.prestashop_records import Product
from dolisync.mapping.catalog import CatalogOptions, map_product
from dolisync.mapping.errors import MappingError
from dolisync.mapping.reverse import (
    ReverseOptions,
    active_fields,
    convert_length,
    convert_weight,
    data_fields,
    description_fields,
    shop_price,
    shop_quantity,
    shop_values,
    stock_figures,
)
from dolisync.mapping.taxes import ProductVat

D = Decimal


def test_stock_figures_read_both_dolibarr_shapes() -> None:
    listed = {"stock_reel": 47, "stock_theorique": 50, "stock_warehouse": {"1": {"real": "40", "id": "1"},
                                                                         "3": {"real": "7", "id": "3"}}}
    assert stock_figures(listed) == ({1: D(40), 3: D(7)}, D(47), D(50))
    single = {"stock_reel": "5", "stock_theorique": "5", "stock_warehouses": {"2": {"real": "5"}}}
    assert stock_figures(single) == ({2: D(5)}, D(5), D(5))
    assert stock_figures({"stock_warehouses": []}) == ({}, D(0), D(0))


def test_quantity_sums_selected_warehouses_minus_buffer_never_negative() -> None:
    per = {1: D(40), 2: D(7), 3: D("2.5")}
    assert shop_quantity(per, warehouse_ids=None) == 49  # 49.5 rounds down: never promise half a unit
    assert shop_quantity(per, warehouse_ids=frozenset({1, 2})) == 47
    assert shop_quantity(per, warehouse_ids=frozenset({2}), buffer=3) == 4
    assert shop_quantity(per, warehouse_ids=frozenset({2}), buffer=30) == 0
    assert shop_quantity({1: D(-4)}, warehouse_ids=None) == 0


def test_virtual_stock_adds_pending_movements_once() -> None:
    per = {1: D(40), 2: D(10)}
    # 3 units ordered by customers, not yet shipped: virtual total 47 = physical 50 - 3
    assert shop_quantity(per, warehouse_ids=frozenset({1}), kind="virtual", physical_total=D(50),
                         virtual_total=D(47)) == 37
    assert shop_quantity(per, warehouse_ids=None, kind="virtual", physical_total=D(50), virtual_total=D(47)) == 47


@given(st.dictionaries(st.integers(1, 5), st.integers(-50, 500)), st.integers(0, 20))
def test_quantity_is_whole_and_bounded(stock: dict[int, int], buffer: int) -> None:
    per = {k: D(v) for k, v in stock.items()}
    quantity = shop_quantity(per, warehouse_ids=None, buffer=buffer)
    assert quantity >= 0
    assert quantity == max(0, sum(stock.values()) - buffer)


def test_price_from_single_price_or_level_ht_or_ttc() -> None:
    product = {"id": "9", "price": "20.00000000", "price_ttc": "24.00000000",
               "multiprices": {"1": "20.00000000", "2": "18.50000000"},
               "multiprices_ttc": {"1": "24.00000000", "2": "22.20000000"}}
    assert shop_price(product, level=None, source="HT", tax_rate=D(20)) == D("20.000000")
    assert shop_price(product, level=2, source="HT", tax_rate=D(20)) == D("18.5")
    assert shop_price(product, level=2, source="TTC", tax_rate=D(20)) == D("18.5")
    assert shop_price({"id": "1", "price_ttc": "9.99"}, level=None, source="TTC", tax_rate=D("5.5")) == D("9.469194")
    with pytest.raises(MappingError) as error:
        shop_price({"id": "3", "price": "1", "multiprices": []}, level=3, source="HT", tax_rate=D(0))
    assert "price level 3" in error.value.hint and error.value.source_id == "3"


@given(st.integers(1, 10_000_00), st.sampled_from(["20", "5.5", "10", "0", "2.1"]))
def test_ttc_price_round_trips_through_the_catalog_mapper(cents: int, rate: str) -> None:
    """The shop price we write from a TTC Dolibarr price maps back to the same TTC price:
    the shop -> ERP flow has nothing to change (no ping-pong on rounding)."""
    gross = D(cents) / 100
    net = shop_price({"id": "1", "price_ttc": str(gross)}, level=None, source="TTC", tax_rate=D(rate))
    back = map_product(Product(id=1, price=net, reference="R", name={1: "Mug"}), options=CatalogOptions(price_base="TTC"),
                       vat=ProductVat(tva_tx=D(rate)), external_key="k").body
    assert D(back["price_ttc"]) == gross


def test_units_convert_between_metric_units_and_refuse_unknown_pairs() -> None:
    assert convert_weight(D("1500"), -3, "kg") == D("1.5")
    assert convert_weight(D("1.5"), 0, "g") == D("1500")
    assert convert_weight(D("2"), 99, "lb") == D("2")
    assert convert_length(D("0.3"), 0, "cm") == D("30")
    with pytest.raises(MappingError):
        convert_weight(D("1"), 99, "kg")


def test_data_fields_put_the_barcode_in_its_shop_field() -> None:
    options = ReverseOptions(weight_unit="kg", dimension_unit="cm")
    base = {"id": "4", "ref": "MUG-1", "weight": "300", "weight_units": "-3", "length": "0.1", "length_units": "0",
            "width": "8", "width_units": "-2", "height": None, "height_units": None}
    ean = data_fields({**base, "barcode": "3760000000011", "barcode_type": "2"}, options)
    assert ean == {"reference": "MUG-1", "weight": D("0.3"), "depth": D(10), "width": D(8), "height": D(0),
                   "ean13": "3760000000011", "upc": "", "isbn": ""}
    assert data_fields({**base, "barcode": "036000291452", "barcode_type": "3"}, options)["upc"] == "036000291452"
    assert data_fields({**base, "barcode": "9780306406157", "barcode_type": "4"}, options)["isbn"] == "9780306406157"


def test_active_and_descriptions_per_language() -> None:
    assert active_fields({"status": "1"}) == {"active": True}
    assert active_fields({"status": "0"}) == {"active": False}
    options = ReverseOptions(languages={1: "en", 2: "fr"})
    texts = description_fields({"label": "Mug", "description": "<p>Big</p>",
                                "multilangs": {"fr_FR": {"label": "Tasse", "description": "<p>Grande</p>"}}}, options)
    assert texts == {"name": {1: "Mug", 2: "Tasse"}, "description": {1: "<p>Big</p>", 2: "<p>Grande</p>"}}


def test_shop_values_have_the_mappers_shape_so_equal_means_no_write() -> None:
    options = ReverseOptions(languages={1: "en"})
    product = Product(id=3, price=D("20"), active=True, reference="MUG-1", weight=D("0.3"),
                      name={1: "Mug"}, description={1: "<p>Big</p>"})
    doli = {"id": "8", "price": "20.00000000", "status": "1", "ref": "MUG-1", "weight": "0.3", "weight_units": "0",
            "label": "Mug", "description": "<p>Big</p>"}
    assert shop_values(product, "price", options) == {"price": shop_price(doli, level=None, source="HT",
                                                                          tax_rate=D(0))}
    assert shop_values(product, "active", options) == active_fields(doli)
    assert shop_values(product, "data", options) == data_fields(doli, options)
    assert shop_values(product, "descriptions", options) == description_fields(doli, options)


def test_reference_loses_the_prefix_the_shop_to_erp_flow_adds() -> None:
    options = ReverseOptions(ref_prefix="FR-")
    assert data_fields({"id": "1", "ref": "FR-MUG-1"}, options)["reference"] == "MUG-1"
    assert data_fields({"id": "1", "ref": "MUG-2"}, options)["reference"] == "MUG-2"
