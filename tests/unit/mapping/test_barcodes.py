"""Barcode validation and choice (EAN13 > UPC > ISBN, invalid codes reported, not sent)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from dolisync.mapping.barcodes import (
    BARCODE_TYPE_EAN8,
    BARCODE_TYPE_EAN13,
    BARCODE_TYPE_ISBN,
    BARCODE_TYPE_UPC,
    choose_barcode,
    gs1_check_digit,
    is_valid_gs1,
    is_valid_isbn,
)


def test_known_codes() -> None:
    assert is_valid_gs1("4006381333931", 13)  # a real EAN-13
    assert not is_valid_gs1("4006381333932", 13)
    assert is_valid_gs1("036000291452", 12)  # a real UPC-A
    assert is_valid_gs1("96385074", 8)  # a real EAN-8
    assert is_valid_isbn("978-0-306-40615-7")
    assert is_valid_isbn("0-306-40615-2")
    assert is_valid_isbn("080442957X")
    assert not is_valid_isbn("0-306-40615-3")
    assert not is_valid_isbn("977-0-306-40615-7")  # not a Bookland prefix


@given(st.text(alphabet="0123456789", min_size=12, max_size=12))
def test_any_body_with_its_check_digit_is_valid_and_others_are_not(body: str) -> None:
    digit = gs1_check_digit(body)
    assert is_valid_gs1(body + str(digit), 13)
    for wrong in range(10):
        if wrong != digit:
            assert not is_valid_gs1(body + str(wrong), 13)


def test_ean13_wins_and_type_follows_field() -> None:
    choice = choose_barcode("4006381333931", "036000291452", "9780306406157")
    assert (choice.value, choice.barcode_type, choice.problems) == ("4006381333931", BARCODE_TYPE_EAN13, ())
    assert choose_barcode("", "036000291452", "").barcode_type == BARCODE_TYPE_UPC
    assert choose_barcode("96385074", "", "").barcode_type == BARCODE_TYPE_EAN8
    isbn = choose_barcode("", "", "978-0-306-40615-7")
    assert (isbn.value, isbn.barcode_type) == ("9780306406157", BARCODE_TYPE_ISBN)


def test_invalid_code_is_reported_not_sent() -> None:
    choice = choose_barcode("1234567890123", "", "")
    assert choice.value is None and choice.barcode_type is None
    assert len(choice.problems) == 1 and "1234567890123" in choice.problems[0] and "ean13" in choice.problems[0]
    fallback = choose_barcode("1234567890123", "036000291452", "")
    assert fallback.value == "036000291452" and len(fallback.problems) == 1


def test_empty_fields_give_nothing() -> None:
    assert choose_barcode("", None, " ") == choose_barcode(None, "", "")
    assert choose_barcode("", "", "").value is None
