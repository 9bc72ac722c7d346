"""Barcode check digits and the small image encoders of the generator."""

from __future__ import annotations

import pytest

from dolisync.emulators.generator.barcodes import (
    ean13_check_digit,
    is_valid_ean13,
    is_valid_upc,
    make_ean13,
    make_isbn13,
    make_upc,
    upc_check_digit,
)
from dolisync.emulators.generator.images import make_jpeg, make_png


def test_known_real_barcodes() -> None:
    assert ean13_check_digit("400638133393") == 1  # 4006381333931
    assert upc_check_digit("03600029145") == 2  # 036000291452
    assert is_valid_ean13("9780306406157")  # ISBN-13 of a real book
    assert not is_valid_ean13("9780306406158")
    assert is_valid_upc("036000291452") and not is_valid_upc("036000291453")


def test_made_barcodes_are_valid_unless_asked_otherwise() -> None:
    for serial in (1, 42, 99999, 123456789):
        assert is_valid_ean13(make_ean13(serial)) and not is_valid_ean13(make_ean13(serial, valid=False))
        assert is_valid_upc(make_upc(serial)) and not is_valid_upc(make_upc(serial, valid=False))
        isbn = make_isbn13(serial)
        assert isbn.startswith("978") and is_valid_ean13(isbn)
    assert len({make_ean13(s) for s in range(500)}) == 500
    with pytest.raises(ValueError):
        ean13_check_digit("12345")


def test_images_are_deterministic_and_tagged() -> None:
    colors = ((255, 0, 0), (0, 255, 0), (0, 0, 255), (10, 10, 10))
    assert make_jpeg(colors, tag="a") == make_jpeg(colors, tag="a")
    assert make_jpeg(colors, tag="a") != make_jpeg(colors, tag="b")
    assert make_png(colors, tag="a") != make_png(colors, tag="b")
    jpeg = make_jpeg(colors)
    # SOI, JFIF, quantisation, 16x16 3-component baseline frame, Huffman tables, scan, EOI
    for marker in (b"\xff\xd8", b"\xff\xe0", b"\xff\xdb", b"\xff\xc0\x00\x11\x08\x00\x10\x00\x10\x03",
                   b"\xff\xc4", b"\xff\xda"):
        assert marker in jpeg
    assert jpeg.endswith(b"\xff\xd9")
