"""Tax rule groups with rules per state only (Canada): the merchant's own state gives the product rate."""

from __future__ import annotations

from decimal import Decimal

import pytest

from dolisync.emulators.dataset import VatRate
from dolisync.mapping.errors import MappingError
from dolisync.mapping.taxes import TaxTable

CA, QC, BC = 4, 99, 90
GROUPS = [{"id": "1", "name": "CA standard"}, {"id": "2", "name": "with a country-wide rule"}]
TAXES = [{"id": "5", "rate": "5.000"}, {"id": "6", "rate": "9.975"}, {"id": "7", "rate": "7.000"}]
RULES = [
    {"id": "1", "id_tax_rules_group": "1", "id_country": str(CA), "id_state": str(QC), "id_tax": "5", "behavior": "1"},
    {"id": "2", "id_tax_rules_group": "1", "id_country": str(CA), "id_state": str(QC), "id_tax": "6", "behavior": "1"},
    {"id": "3", "id_tax_rules_group": "1", "id_country": str(CA), "id_state": str(BC), "id_tax": "5", "behavior": "2"},
    {"id": "4", "id_tax_rules_group": "1", "id_country": str(CA), "id_state": str(BC), "id_tax": "7", "behavior": "2"},
    {"id": "5", "id_tax_rules_group": "2", "id_country": str(CA), "id_state": "0", "id_tax": "5", "behavior": "0"},
    {"id": "6", "id_tax_rules_group": "2", "id_country": str(CA), "id_state": str(QC), "id_tax": "7", "behavior": "0"},
]
VAT = [VatRate("5.000", code="GST"), VatRate("5.000", code="GST-QC", localtax1="9.975", localtax1_type="1"),
       VatRate("5.000", code="GST-BC", localtax1="7", localtax1_type="2")]


def table(home_state: int) -> TaxTable:
    return TaxTable(groups=GROUPS, rules=RULES, taxes=TAXES, ps_country_id=CA, country_code="CA", vat_rates=VAT,
                    home_state_id=home_state)


def test_the_merchants_state_gives_gst_plus_its_provincial_tax() -> None:
    quebec = table(QC).vat_for_group(1)
    assert (quebec.tva_tx, quebec.localtax1_tx) == (Decimal("5.000"), Decimal("9.975"))
    british_columbia = table(BC).vat_for_group(1)
    assert (british_columbia.tva_tx, british_columbia.localtax1_tx) == (Decimal("5.000"), Decimal("7"))


def test_a_country_wide_rule_wins_over_the_state_rules() -> None:
    assert table(QC).vat_for_group(2).tva_tx == Decimal("5.000")
    assert table(QC).components(2) == [Decimal("5.000")]


def test_without_the_shops_state_the_product_is_parked_with_what_to_do() -> None:
    with pytest.raises(MappingError) as raised:
        table(0).vat_for_group(1, source_id=42)
    assert "shop's own state" in str(raised.value) and "Shop Parameters" in str(raised.value)
