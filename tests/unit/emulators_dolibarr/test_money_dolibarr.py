"""The Dolibarr money model against every recorded order/invoice and MONEY.md's rules."""

from __future__ import annotations

from tests.reference import REFERENCE as SHARED_REFERENCE

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dolisync.emulators.dataset import DolibarrSetup, VatRate
from dolisync.mapping.dolibarr_money import (
    LineAmounts,
    LineInput,
    SellerTaxes,
    TaxRow,
    add_line,
    compute_line,
    createfromorder_line,
    document_totals,
    line_input_from_request,
    predict_totals,
    recheck_line,
)
from dolisync.mapping.money import r2, r5

SAMPLES = SHARED_REFERENCE / "dolibarr" / "samples"
D = Decimal


def _load(name: str) -> dict[str, Any]:
    return json.loads((SAMPLES / f"{name}.json").read_text())


def _documents(node: Any, origin: str) -> list[tuple[str, dict[str, Any]]]:
    """Every order/invoice object (a dict with ``lines`` carrying totals) inside a sample."""
    found: list[tuple[str, dict[str, Any]]] = []
    if isinstance(node, dict):
        lines = node.get("lines")
        if (
            isinstance(lines, list)
            and lines
            and all(isinstance(x, dict) and "subprice" in x and x.get("total_ht") is not None for x in lines)
            and node.get("total_ht") is not None
        ):
            found.append((origin, node))
        for key, value in node.items():
            found.extend(_documents(value, f"{origin}/{key}"))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.extend(_documents(value, f"{origin}[{index}]"))
    return found


def _recorded_documents() -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    for path in sorted(SAMPLES.glob("*.json")):
        data = json.loads(path.read_text())
        for origin, doc in _documents(data, path.stem):
            # createfromorder echoes 2N lines (source lines then invoice lines): keep the
            # invoice lines, which carry an id.
            lines = [line for line in doc["lines"] if line.get("id") not in (None, "")]
            if path.stem.startswith(("orders_shipments", "shipments_")):
                continue  # shipment lines repeat order amounts; not a priced document
            found.append((origin, {**doc, "lines": lines}))
    return found


RECORDED = _recorded_documents()


def _amount(value: Any) -> Decimal:
    """A recorded amount; in-request objects carry PHP float noise (29.950000000000003)."""
    return r5(D(repr(value))) if isinstance(value, float) else D(str(value))


def _stored_line_input(line: dict[str, Any], tx: Decimal) -> LineInput:
    """The net line that reproduces a stored line (what update_price re-checks)."""
    mc_price = line.get("multicurrency_subprice")
    return LineInput(
        qty=D(str(line["qty"])),
        unit_price=D(str(line["subprice"])),
        vat_rate=D(str(line.get("tva_tx") or 0)),
        discount_percent=D(str(line.get("remise_percent") or 0)),
        product_type=int(line.get("product_type") or 0),
        multicurrency_tx=tx,
        multicurrency_unit_price=D(str(mc_price)) if tx != 1 and mc_price is not None else None,
    )


def test_the_recorded_documents_are_found() -> None:
    names = {origin.split("/")[0] for origin, _ in RECORDED}
    assert {"orders_get_draft", "orders_get_validated", "invoices_validate_direct", "orders_get_multicurrency"} <= names
    assert len(RECORDED) >= 15


@pytest.mark.parametrize(("origin", "doc"), RECORDED, ids=[o for o, _ in RECORDED])
def test_recorded_line_and_header_totals_are_reproduced(origin: str, doc: dict[str, Any]) -> None:
    tx = D(str(doc.get("multicurrency_tx") or 1))
    computed = []
    for line in doc["lines"]:
        amounts = add_line(_stored_line_input(line, tx))
        computed.append(amounts)
        assert amounts.subprice == _amount(line["subprice"])
        assert amounts.total_ht == _amount(line["total_ht"]), origin
        for key in ("total_tva", "total_ttc", "total_localtax1", "total_localtax2"):
            if line.get(key) is not None:
                assert getattr(amounts, key) == _amount(line[key]), (origin, key)
        for key in ("multicurrency_total_ht", "multicurrency_total_ttc", "multicurrency_subprice"):
            if line.get(key) is not None:
                assert getattr(amounts, key) == _amount(line[key]), (origin, key)
    totals = document_totals(computed)
    for key in (
        "total_ht",
        "total_tva",
        "total_localtax1",
        "total_localtax2",
        "total_ttc",
        "multicurrency_total_ht",
        "multicurrency_total_tva",
        "multicurrency_total_ttc",
    ):
        if doc.get(key) is not None:
            assert getattr(totals, key) == _amount(doc[key]), (origin, key)


def _header(body: dict[str, Any]) -> dict[str, Any]:
    return body["response"] if "response" in body else body


def test_order_create_request_gives_the_recorded_draft() -> None:
    request = _load("orders_create")["request"]
    recorded = _load("orders_get_draft")["response"]
    lines = [add_line(line_input_from_request(body, honour_price_base=False)) for body in request["lines"]]
    totals = document_totals(lines)
    assert totals.total_ht == D(recorded["total_ht"])
    assert totals.total_tva == D(recorded["total_tva"])
    assert totals.total_ttc == D(recorded["total_ttc"])
    assert [x.total_ttc for x in lines] == [D(x["total_ttc"]) for x in recorded["lines"]]


def test_gross_line_request_gives_the_recorded_net_subprice() -> None:
    body = _load("orders_add_line_ttc")["request"]
    amounts = add_line(line_input_from_request(body, honour_price_base=True))
    line6 = next(x for x in _load("orders_update_line")["response"]["lines"] if x["id"] == "6")
    assert amounts.subprice == D(line6["subprice"])
    assert (amounts.total_ht, amounts.total_tva, amounts.total_ttc) == (
        D(line6["total_ht"]),
        D(line6["total_tva"]),
        D(line6["total_ttc"]),
    )


def test_price_base_ttc_is_ignored_inside_create_lines() -> None:
    body = {"qty": 1, "subprice": 12, "price_base_type": "TTC", "tva_tx": 20}
    amounts = add_line(line_input_from_request(body, honour_price_base=False))
    assert amounts.total_ht == D("12.00") and amounts.total_ttc == D("14.40")


def test_multicurrency_order_reproduces_recorded_currency_totals() -> None:
    created = _load("orders_create_multicurrency_usd")["request"]
    added = _load("orders_add_line_multicurrency_subprice")["request"]
    recorded = _load("orders_get_multicurrency")["response"]
    tx = D(str(created["multicurrency_tx"]))
    lines = [add_line(line_input_from_request(x, honour_price_base=False, multicurrency_tx=tx)) for x in created["lines"]]
    lines.append(
        add_line(line_input_from_request(added, honour_price_base=True, multicurrency_tx=tx, honour_multicurrency_price=True))
    )
    totals = document_totals(lines)
    assert totals.total_ht == D(recorded["total_ht"])
    assert totals.total_ttc == D(recorded["total_ttc"])
    assert totals.multicurrency_total_ht == D(recorded["multicurrency_total_ht"])
    assert totals.multicurrency_total_ttc == D(recorded["multicurrency_total_ttc"])
    assert [x.subprice for x in lines] == [D(x["subprice"]) for x in recorded["lines"]]
    assert [x.multicurrency_subprice for x in lines] == [D(x["multicurrency_subprice"]) for x in recorded["lines"]]


def test_createfromorder_reproduces_the_recorded_invoice() -> None:
    order_request = _load("orders_create_for_invoice")["request"]
    invoice = _load("invoices_create_from_order")["response"]
    order_lines = [
        (body, add_line(line_input_from_request(body, honour_price_base=False))) for body in order_request["lines"]
    ]
    invoice_lines = [
        add_line(
            createfromorder_line(
                amounts, D(str(body["qty"])), D(str(body["tva_tx"])), D(str(body.get("remise_percent", 0)))
            )
        )
        for body, amounts in order_lines
    ]
    totals = document_totals(invoice_lines)
    assert totals.total_ht == D(str(invoice["total_ht"]))
    assert totals.total_tva == D(str(invoice["total_tva"]))
    assert totals.total_ttc == D(str(invoice["total_ttc"]))


def test_fr_seller_drops_a_requested_localtax() -> None:
    body = _load("orders_add_line_localtax")["request"]
    recorded = _load("orders_get_line_localtax")["response"]
    seller = SellerTaxes.from_setup(DolibarrSetup(vat_rates=[VatRate(rate="20.000")]))
    amounts = add_line(line_input_from_request(body, honour_price_base=True), seller)
    assert amounts.localtax1_tx == D(recorded["localtax1_tx"])
    assert amounts.total_localtax1 == D(recorded["total_localtax1"])
    assert amounts.total_ttc == D(recorded["total_ttc"])


# --- MONEY.md worked rules ---------------------------------------------------------------


def test_net_line_rounds_the_product_not_the_unit_price() -> None:
    amounts = compute_line(LineInput(qty=D(3), unit_price=D("1.234567"), vat_rate=D(20)))
    assert amounts.total_ht == r2(D("3.703701"))
    assert amounts.total_ttc == r2(D("3.703701") * D("1.2"))
    assert amounts.total_tva == amounts.total_ttc - amounts.total_ht
    assert amounts.subprice == D("1.23457")


def test_rounding_is_half_away_from_zero() -> None:
    amounts = compute_line(LineInput(qty=D(1), unit_price=D("-0.125"), vat_rate=D(0)))
    assert amounts.total_ht == D("-0.13")
    amounts = compute_line(LineInput(qty=D(1), unit_price=D("3.015"), vat_rate=D(0)))
    assert amounts.total_ht == D("3.02")


def test_vat_is_ttc_minus_ht_not_rounded_ht_times_rate() -> None:
    # 3 x 0.15 at 5.5 %: HT 0.45; TTC r2(0.47475) = 0.47; VAT 0.02 (r2(0.45 x 0.055) would be 0.02 too),
    # pick an amount where the two differ: 1 x 0.285 at 20 %: HT 0.29, TTC r2(0.342) = 0.34, VAT 0.05
    # while r2(0.29 x 0.2) = 0.06.
    amounts = compute_line(LineInput(qty=D(1), unit_price=D("0.285"), vat_rate=D(20)))
    assert (amounts.total_ht, amounts.total_tva, amounts.total_ttc) == (D("0.29"), D("0.05"), D("0.34"))
    assert r2(amounts.total_ht * D("0.2")) != amounts.total_tva


def test_full_discount_gives_zeros() -> None:
    amounts = add_line(LineInput(qty=D(2), unit_price=D("19.99"), vat_rate=D(20), discount_percent=D(100)))
    assert (amounts.total_ht, amounts.total_tva, amounts.total_ttc) == (0, 0, 0)


def test_gross_line_is_rechecked_from_its_stored_net_subprice() -> None:
    # 4.995 gross at 7 %: TTC r2(4.995) = 5.00 at insert, subprice r5(4.668224...) = 4.66822,
    # and the re-check from 4.66822 gives TTC r2(4.9949954) = 4.99.
    line = LineInput(qty=D(1), unit_price=D("4.995"), vat_rate=D(7), price_base="TTC")
    inserted = compute_line(line)
    assert inserted.total_ttc == D("5.00")
    assert inserted.subprice == r5(D("4.995") / D("1.07"))
    final = add_line(line)
    assert final.total_ttc == D("4.99")
    assert final.total_ht == inserted.total_ht
    assert final.total_tva == r2(inserted.subprice * D("1.07")) - r2(inserted.subprice)


def test_recheck_keeps_consistent_lines() -> None:
    stored = compute_line(LineInput(qty=D(2), unit_price=D(30), vat_rate=D(20), discount_percent=D(10)))
    assert recheck_line(stored, D(2), D(20), D(10)) is stored


def test_header_vat_is_the_sum_of_line_vats_not_vat_per_rate() -> None:
    lines = [add_line(LineInput(qty=D(1), unit_price=D("0.285"), vat_rate=D(20))) for _ in range(3)]
    totals = document_totals(lines)
    assert totals.total_tva == D("0.15")  # 3 x 0.05
    assert r2(totals.total_ht * D("0.2")) == D("0.17")  # what "VAT per rate" would give


def test_multicurrency_computes_on_the_unrounded_currency_price() -> None:
    line = LineInput(qty=D(3), unit_price=D("9.99"), vat_rate=D(20), multicurrency_tx=D("1.0837"))
    amounts = compute_line(line)
    pu_cur = D("9.99") * D("1.0837")
    assert amounts.multicurrency_subprice == r5(pu_cur)
    assert amounts.multicurrency_total_ht == r2(pu_cur * 3)
    assert amounts.multicurrency_total_ttc == r2(pu_cur * 3 * D("1.2"))
    totals = document_totals([amounts, amounts])
    assert totals.multicurrency_total_ht == 2 * amounts.multicurrency_total_ht


# --- local taxes -------------------------------------------------------------------------

CANADA_QC = SellerTaxes(
    localtax1_on=True,
    localtax2_on=True,
    rows=(
        TaxRow(rate=D(5), localtax1="9.975", localtax1_type="1"),  # GST + QST on net
        TaxRow(rate=D(7), localtax1="8", localtax1_type="2"),  # compound (old style)
        TaxRow(rate=D(10), localtax1="5", localtax1_type="5"),  # services only
        TaxRow(rate=D(21), localtax2="-19:-15:-9", localtax2_type="1"),  # withholding
    ),
)


def test_localtax_on_net() -> None:
    line = LineInput(qty=D(3), unit_price=D("33.33"), vat_rate=D(5), localtax1_tx=D(-1))
    amounts = add_line(line, CANADA_QC)
    x = D("99.99")
    assert amounts.localtax1_tx == D("9.975") and amounts.localtax1_type == "1"
    assert amounts.total_localtax1 == r2(x * D("0.09975"))
    assert amounts.total_ttc == r2(x * D("1.05")) + amounts.total_localtax1
    assert amounts.total_tva == r2(x * D("1.05")) - r2(x)
    assert amounts.total_ht + amounts.total_tva + amounts.total_localtax1 == amounts.total_ttc


def test_localtax_compound() -> None:
    line = LineInput(qty=D(1), unit_price=D("10.01"), vat_rate=D(7), localtax1_tx=D(1))
    amounts = add_line(line, CANADA_QC)
    base = r5(D("10.01") * D("1.07"))
    lt = r2(base * D("0.08"))
    assert amounts.total_localtax1 == lt
    assert amounts.total_ttc == r2(D("10.01") * D("1.07") + lt)
    assert amounts.total_tva == amounts.total_ttc - amounts.total_ht - lt


def test_localtax_needs_the_request_switch_and_the_seller_option() -> None:
    off = add_line(LineInput(qty=D(1), unit_price=D(100), vat_rate=D(5)), CANADA_QC)
    assert off.total_localtax1 == 0 and off.total_ttc == D("105.00")
    not_subject = SellerTaxes(localtax1_on=False, rows=CANADA_QC.rows)
    amounts = add_line(LineInput(qty=D(1), unit_price=D(100), vat_rate=D(5), localtax1_tx=D(1)), not_subject)
    assert amounts.total_localtax1 == 0
    any_value = add_line(LineInput(qty=D(1), unit_price=D(100), vat_rate=D(5), localtax1_tx=D(42)), CANADA_QC)
    assert any_value.total_localtax1 == D("9.98")  # the dictionary rate, not 42 %


def test_localtax_type_restricts_product_type() -> None:
    product = add_line(LineInput(qty=D(1), unit_price=D(100), vat_rate=D(10), localtax1_tx=D(1)), CANADA_QC)
    service = add_line(
        LineInput(qty=D(1), unit_price=D(100), vat_rate=D(10), localtax1_tx=D(1), product_type=1), CANADA_QC
    )
    assert product.total_localtax1 == 0
    assert service.total_localtax1 == D("5.00")


def test_negative_localtax_rate_withholds() -> None:
    amounts = add_line(LineInput(qty=D(1), unit_price=D(100), vat_rate=D(21), localtax2_tx=D(-15)), CANADA_QC)
    assert amounts.localtax2_tx == D(-15)
    assert amounts.total_localtax2 == D("-15.00")
    assert amounts.total_ttc == D("106.00")


def test_gross_price_means_net_plus_vat_and_localtax_comes_on_top() -> None:
    line = LineInput(qty=D(1), unit_price=D("105"), vat_rate=D(5), price_base="TTC", localtax1_tx=D(1))
    amounts = add_line(line, CANADA_QC)
    assert amounts.total_ht == D("100.00")
    assert amounts.total_localtax1 == D("9.98")
    assert amounts.total_ttc == D("114.98")


def test_multicurrency_ttc_includes_localtax() -> None:
    line = LineInput(qty=D(1), unit_price=D(100), vat_rate=D(5), localtax1_tx=D(1), multicurrency_tx=D(2))
    amounts = add_line(line, CANADA_QC)
    assert amounts.multicurrency_total_ttc == D("229.95")


def test_tax_row_from_api_dictionary() -> None:
    rows = [TaxRow.from_api(row) for row in _load("dict_vat_es")["response"]]
    assert rows[1].rate == D(4) and rows[1].localtax1 == "0.5" and rows[1].localtax2_type == "5"


@settings(max_examples=200, deadline=None)
@given(
    qty=st.integers(min_value=1, max_value=50),
    cents=st.integers(min_value=-100_000, max_value=100_000),
    extra=st.integers(min_value=0, max_value=999),
    vat=st.sampled_from([D(0), D("2.1"), D("5.5"), D(10), D(20), D("9.975")]),
    discount=st.sampled_from([D(0), D(5), D("12.5"), D(100)]),
)
def test_net_lines_always_add_up(qty: int, cents: int, extra: int, vat: Decimal, discount: Decimal) -> None:
    pu = D(cents) / 100 + D(extra) / 100_000
    amounts = add_line(LineInput(qty=D(qty), unit_price=pu, vat_rate=vat, discount_percent=discount))
    assert amounts.total_ht + amounts.total_tva == amounts.total_ttc
    assert amounts.total_ht == r2(pu * qty * (1 - discount / 100))
    assert amounts.subprice == r5(pu)


def test_line_amounts_are_decimal() -> None:
    amounts = add_line(LineInput(qty=D(1), unit_price=D("1.1"), vat_rate=D(20)))
    assert all(isinstance(getattr(amounts, name), Decimal) for name in LineAmounts.__slots__ if "type" not in name)


def test_predict_totals_of_a_recorded_order_request() -> None:
    request = _load("orders_create")["request"]
    recorded = _load("orders_get_draft")["response"]
    lines, totals = predict_totals(request["lines"])
    assert len(lines) == len(request["lines"])
    assert (totals.total_ht, totals.total_tva, totals.total_ttc) == (
        D(recorded["total_ht"]), D(recorded["total_tva"]), D(recorded["total_ttc"]))
    _, via_lines = predict_totals([{"qty": 1, "subprice": 12, "price_base_type": "TTC", "tva_tx": 20}],
                                  via_lines_endpoint=True)
    assert via_lines.total_ttc == D("12.00")


def test_spanish_company_never_gets_re_or_irpf_through_the_api() -> None:
    rows = [VatRate(rate="21", localtax1="5.2", localtax1_type="3", localtax2="-19:-15:-9", localtax2_type="5")]
    spain = SellerTaxes.from_setup(DolibarrSetup(country_code="ES", localtax1_on=True, localtax2_on=True, vat_rates=rows))
    canada_like = SellerTaxes.from_setup(DolibarrSetup(country_code="CA", localtax1_on=True, vat_rates=rows))
    line = LineInput(qty=D(1), unit_price=D(100), vat_rate=D(21), localtax1_tx=D(-1), localtax2_tx=D(-1))
    assert add_line(line, spain).total_ttc == D("121.00")
    assert add_line(line, canada_like).total_localtax1 == D("5.20")
