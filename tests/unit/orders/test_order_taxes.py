"""Rebuilding a line's Dolibarr tax from PrestaShop's order data (order_taxes)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from dolisync.emulators.dataset import VatRate
from dolisync.mapping.dolibarr_money import SellerTaxes, TaxRow
from dolisync.mapping.errors import MappingError
from dolisync.mapping.order_taxes import NO_TAX, LineTax, TaxResolver, seller_view
from tests.unit.orders.builders import TAXES, seller_ca, seller_fr

D = Decimal


def resolver(seller: SellerTaxes, country: str = "FR") -> TaxResolver:
    return TaxResolver(seller, tax_rates=TAXES, country_code=country)


def test_single_rate_from_tax_id_and_ratio() -> None:
    tax = resolver(seller_fr()).for_line(unit_excl=D("19.916667"), unit_incl=D("23.900000"), tax_ids=(1,))
    assert tax == LineTax(D("20.000"))
    assert tax.payload() == {"tva_tx": "20", "localtax1_tx": "0", "localtax2_tx": "0"}


def test_rate_changed_since_the_order_trusts_the_prices() -> None:
    # Tax 1 is 20 % today, but the order was taxed at 10 %: the unit prices say 10 %.
    tax = resolver(seller_fr()).for_line(unit_excl=D("10"), unit_incl=D("11"), tax_ids=(1,))
    assert tax.vat_rate == D("10.000")


def test_without_tax_ids_the_ratio_snaps_to_the_dictionary() -> None:
    # 1.886256 x 1.055 = 1.990000 (r6): the ratio is 5.49999...% -> the dictionary's 5.5.
    tax = resolver(seller_fr()).for_line(unit_excl=D("1.886256"), unit_incl=D("1.990000"))
    assert tax.vat_rate == D("5.500")


def test_free_line_keeps_its_tax_from_the_ids() -> None:
    assert resolver(seller_fr()).for_line(unit_excl=D(0), unit_incl=D(0), tax_ids=(2,)).vat_rate == D("10.000")
    assert resolver(seller_fr()).for_line(unit_excl=D(0), unit_incl=D(0)) == NO_TAX


def test_two_taxes_combined_map_to_local_tax_type_1_in_either_order() -> None:
    ca = resolver(seller_ca(), "CA")
    for ids in ((10, 11), (11, 10)):
        tax = ca.for_line(unit_excl=D("10"), unit_incl=D("11.497500"), tax_ids=ids)
        assert (tax.vat_rate, tax.localtax1_rate, tax.localtax1_type) == (D("5.000"), D("9.975"), "1")
        assert tax.total_rate == D("14.975")


def test_two_taxes_compound_need_a_compound_row() -> None:
    ca = resolver(seller_ca(), "CA")
    # GST 5 then PST 10: 15.5 %. seller_ca has the row "5 + 10, type 2" (GST-PE) after the QST row.
    tax = ca.for_line(unit_excl=D("10"), unit_incl=D("11.550000"), tax_ids=(10, 15))
    assert (tax.localtax1_rate, tax.localtax1_type, tax.code, tax.pick_code) == (D("10"), "2", "GST-PE", True)
    # The combined behaviour with the same rates (15 %) has no row: the message says which one to create.
    with pytest.raises(MappingError) as caught:
        ca.for_line(unit_excl=D("10"), unit_incl=D("11.500000"), tax_ids=(10, 15), source_id="9/order_details 3")
    assert "create VAT rate 5 with local tax 10 of type 1 (on net)" in caught.value.hint
    assert "country CA" in caught.value.hint and caught.value.source_id == "9/order_details 3"


def test_row_named_by_code_when_not_first_of_its_rate() -> None:
    rows = (VatRate("5.000", code="GST-QC", localtax1="9.975", localtax1_type="1"),
            VatRate("5.000", code="GST-BC", localtax1="7", localtax1_type="2"))
    seller = SellerTaxes(localtax1_on=True, rows=tuple(TaxRow.from_record(r) for r in rows))
    tax = resolver(seller, "CA").for_line(unit_excl=D("100"), unit_incl=D("112.350000"), tax_ids=(10, 12))
    assert (tax.code, tax.pick_code) == ("GST-BC", True)
    assert tax.payload()["tva_tx"] == "5 (GST-BC)"
    view = seller_view(seller, tax)
    assert view.row_for(D(5)).code == "GST-BC" and seller.row_for(D(5)).code == "GST-QC"


def test_combined_vat_row_for_a_seller_without_local_taxes() -> None:
    seller = SellerTaxes(rows=(TaxRow(D("20")), TaxRow(D("14.975"), code="CA-QC")))
    tax = resolver(seller).for_line(unit_excl=D("10"), unit_incl=D("11.497500"), tax_ids=(10, 11))
    assert tax == LineTax(D("14.975"), code="CA-QC")


def test_carrier_rate_with_local_tax_for_services() -> None:
    tax = resolver(seller_ca(), "CA").for_total_rate(D("14.975"), product_type=1)
    assert (tax.vat_rate, tax.localtax1_rate) == (D("5.000"), D("9.975"))
    plain = resolver(seller_ca(), "CA").for_total_rate(D("5.000"), product_type=1)
    assert (plain.vat_rate, plain.has_local_tax, plain.pick_code) == (D("5.000"), False, False)
    with pytest.raises(MappingError) as caught:
        resolver(seller_fr()).for_total_rate(D("7.7"), source_id=12)
    assert "create VAT rate 7.7" in caught.value.hint and caught.value.field == "carrier_tax_rate"


def test_wrapping_rate_from_its_two_totals() -> None:
    fr = resolver(seller_fr())
    assert fr.for_amounts(D("2.00"), D("2.40")).vat_rate == D("20.000")
    # Converted, not re-rounded: 2.50 x 1.0847 = 2.71175 excl, 3.00 x 1.0847 = 3.2541 incl -> 20 %.
    assert fr.for_amounts(D("2.711750"), D("3.254100")).vat_rate == D("20.000")
    assert fr.for_amounts(D("2.00"), D("2.00")) == NO_TAX
    with pytest.raises(MappingError):
        fr.for_amounts(D("2.00"), D("2.30"))


def test_unknown_dictionary_accepts_prestashop_rates() -> None:
    open_resolver = TaxResolver(SellerTaxes(), tax_rates=TAXES)
    assert not open_resolver.knows_dictionary
    assert open_resolver.for_line(unit_excl=D("10"), unit_incl=D("10.7"), tax_ids=()).vat_rate == D("7.000")


def test_ambiguous_row_without_code_cannot_be_named() -> None:
    rows = (VatRate("5.000", localtax1="9.975", localtax1_type="1"), VatRate("5.000", localtax1="7", localtax1_type="2"))
    seller = SellerTaxes(localtax1_on=True, rows=tuple(TaxRow.from_record(r) for r in rows))
    with pytest.raises(MappingError) as caught:
        resolver(seller, "CA").for_line(unit_excl=D("100"), unit_incl=D("112.350000"), tax_ids=(10, 12))
    assert "has no code" in caught.value.hint
