"""Tax rule group → Dolibarr VAT for the company country."""

from __future__ import annotations

from decimal import Decimal

import pytest

from dolisync.clients.prestashop_records import Tax, TaxRule, TaxRuleGroup
from dolisync.emulators.dataset import VatRate
from dolisync.mapping.errors import MappingError
from dolisync.mapping.taxes import TaxTable

FR = 8
DE = 1


def _table(vat_rates: list[VatRate] | None = None) -> TaxTable:
    groups = [TaxRuleGroup(id=1, name="FR Taux standard (20%)"), TaxRuleGroup(id=2, name="FR Taux réduit (5.5%)"),
              TaxRuleGroup(id=3, name="DE only"), TaxRuleGroup(id=4, name="Combined"),
              TaxRuleGroup(id=5, name="Exotic 7%")]
    taxes = [Tax(id=1, rate=Decimal("20.000")), Tax(id=2, rate=Decimal("5.500")), Tax(id=3, rate=Decimal("19.000")),
             Tax(id=4, rate=Decimal("5.200")), Tax(id=5, rate=Decimal("7.000"))]
    rules = [
        TaxRule(id=1, id_tax_rules_group=1, id_country=FR, id_tax=1),
        TaxRule(id=2, id_tax_rules_group=1, id_country=DE, id_tax=3),
        TaxRule(id=3, id_tax_rules_group=2, id_country=FR, id_tax=2),
        TaxRule(id=4, id_tax_rules_group=2, id_country=FR, id_state=5, id_tax=1),  # state rule ignored
        TaxRule(id=5, id_tax_rules_group=3, id_country=DE, id_tax=3),
        TaxRule(id=6, id_tax_rules_group=4, id_country=FR, id_tax=1, behavior=1),
        TaxRule(id=7, id_tax_rules_group=4, id_country=FR, id_tax=4, behavior=1),
        TaxRule(id=8, id_tax_rules_group=5, id_country=FR, id_tax=5),
    ]
    rates = vat_rates if vat_rates is not None else [
        VatRate("20.000", code="FR20"), VatRate("5.500"), VatRate("0.000"),
        VatRate("20.000", code="RE", localtax1="5.2", localtax1_type="1"),
    ]
    return TaxTable(groups=groups, rules=rules, taxes=taxes, ps_country_id=FR, country_code="FR", vat_rates=rates)


def test_group_resolves_to_country_rate() -> None:
    table = _table()
    vat = table.vat_for_group(1, source_id=10)
    assert vat.tva_tx == Decimal("20") and vat.vat_code == "FR20" and vat.localtax1_tx == 0
    assert table.vat_for_group(2).tva_tx == Decimal("5.5")  # the state rule does not leak in


def test_no_tax_group_is_zero() -> None:
    assert _table().vat_for_group(0).tva_tx == 0


def test_combined_taxes_use_a_vat_row_with_local_tax() -> None:
    vat = _table().vat_for_group(4)
    assert (vat.tva_tx, vat.localtax1_tx, vat.localtax1_type) == (Decimal("20.000"), Decimal("5.200"), "1")
    assert vat.total_rate == Decimal("25.2")


def test_unknown_group_rule_and_rate_name_the_fix() -> None:
    table = _table()
    with pytest.raises(MappingError) as missing:
        table.vat_for_group(99, source_id=7)
    assert missing.value.source_id == "7" and "99" in str(missing.value)
    with pytest.raises(MappingError) as other_country:
        table.vat_for_group(3)
    assert "no country-wide rule for FR" in other_country.value.hint
    with pytest.raises(MappingError) as no_rate:
        table.vat_for_group(5, source_id=3)
    assert "map tax rule group 5" in no_rate.value.hint and "create VAT rate 7 " in no_rate.value.hint


def test_inactive_dolibarr_rate_does_not_count() -> None:
    table = _table([VatRate("20.000", active=0)])
    with pytest.raises(MappingError):
        table.vat_for_group(1)


def test_dolibarr_vat_records_are_accepted() -> None:
    from dolisync.clients.dolibarr_records import DoliVatRate

    rows = [DoliVatRate.model_validate({"id": "1", "taux": "20.000", "code": "", "localtax1": "-19:-15:-9",
                                        "active": 1}),
            DoliVatRate.model_validate({"id": "2", "taux": "5.500", "active": "0"})]
    table = _table(rows)
    assert table.vat_for_group(1).tva_tx == 20
    with pytest.raises(MappingError):
        table.vat_for_group(2)
