"""``tva_tx: "5 (GST-BC)"``: Dolibarr's addline picks the VAT row by code (and its local tax)."""

from __future__ import annotations

from decimal import Decimal

from dolisync.mapping.dolibarr_money import SellerTaxes, TaxRow, add_line, line_input_from_request, split_vat_code

D = Decimal
SELLER = SellerTaxes(localtax1_on=True, rows=(
    TaxRow(D("5"), code="GST", localtax1="0"),
    TaxRow(D("5"), code="GST-BC", localtax1="7", localtax1_type="1"),
    TaxRow(D("5"), code="GST-QC", localtax1="9.975", localtax1_type="1"),
))


def test_split_vat_code_reads_both_forms() -> None:
    assert split_vat_code("5 (GST-BC)") == (D("5"), "GST-BC")
    assert split_vat_code(" 14.975(QC) ") == (D("14.975"), "QC")
    assert split_vat_code("20") == (D("20"), "")
    assert split_vat_code(None) == (D("0"), "")


def test_the_named_row_gives_its_local_tax() -> None:
    def line(tva: str) -> Decimal:
        body = {"qty": "1", "subprice": "100", "tva_tx": tva, "localtax1_tx": "1"}
        return add_line(line_input_from_request(body, honour_price_base=False), SELLER).total_ttc

    assert line("5") == D("105.00")  # first row of the rate: no local tax
    assert line("5 (GST-BC)") == D("112.00")
    assert line("5 (GST-QC)") == D("114.98")
    assert line("5 (UNKNOWN)") == D("105.00")  # an unknown code falls back to the first row
