"""Barcodes: validate PrestaShop's EAN13/UPC/ISBN and choose the one Dolibarr stores.

Dolibarr keeps one barcode per product with a type from ``c_barcode_type``: 1 EAN8, 2 EAN13,
3 UPC(-A), 4 ISBN. PrestaShop has three fields; the first *valid* one in the order EAN13, UPC,
ISBN wins (the order the established connectors use). An invalid code is never sent: it is
reported in :attr:`BarcodeChoice.problems` so the flow can show what to fix while the product
itself still syncs.

Validation is the GS1 mod-10 check digit (EAN-8, EAN-13, UPC-A, ISBN-13) and the mod-11 check
of ISBN-10. PrestaShop itself only checks ``^[0-9]{0,13}$`` for EAN13, so shops carry plenty of
wrong codes; Dolibarr's barcode module rejects them later on generation, which is too late.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "BARCODE_TYPE_EAN8",
    "BARCODE_TYPE_EAN13",
    "BARCODE_TYPE_UPC",
    "BARCODE_TYPE_ISBN",
    "BarcodeChoice",
    "gs1_check_digit",
    "is_valid_gs1",
    "is_valid_isbn",
    "normalise_isbn",
    "choose_barcode",
]

BARCODE_TYPE_EAN8 = 1
BARCODE_TYPE_EAN13 = 2
BARCODE_TYPE_UPC = 3
BARCODE_TYPE_ISBN = 4


@dataclass(frozen=True, slots=True)
class BarcodeChoice:
    """The barcode to send (``value``/``barcode_type``, both ``None`` when none) and problems."""

    value: str | None
    barcode_type: int | None
    source_field: str | None
    problems: tuple[str, ...] = ()


def gs1_check_digit(body: str) -> int:
    """GS1 mod-10 check digit of ``body`` (all digits, without the check digit)."""
    total = 0
    for position, char in enumerate(reversed(body)):
        weight = 3 if position % 2 == 0 else 1
        total += int(char) * weight
    return (10 - total % 10) % 10


def is_valid_gs1(code: str, length: int) -> bool:
    """True when ``code`` has ``length`` digits and a correct GS1 check digit."""
    if len(code) != length or not code.isascii() or not code.isdigit():
        return False
    return gs1_check_digit(code[:-1]) == int(code[-1])


def normalise_isbn(code: str) -> str:
    """Drop the hyphens and spaces PrestaShop allows in ISBNs; upper-case a final ``x``."""
    return code.replace("-", "").replace(" ", "").upper()


def is_valid_isbn(code: str) -> bool:
    """ISBN-13 (978/979 prefix, GS1 check) or ISBN-10 (mod 11, ``X`` = 10), hyphens allowed."""
    compact = normalise_isbn(code)
    if len(compact) == 13:
        return compact.startswith(("978", "979")) and is_valid_gs1(compact, 13)
    if len(compact) == 10 and compact[:9].isascii() and compact[:9].isdigit():
        last = compact[9]
        if last == "X":
            last_value = 10
        elif last.isdigit():
            last_value = int(last)
        else:
            return False
        total = sum((10 - index) * int(char) for index, char in enumerate(compact[:9]))
        return (total + last_value) % 11 == 0
    return False


def _clean(value: object) -> str:
    return "" if value is None else str(value).strip()


def choose_barcode(ean13: object, upc: object, isbn: object) -> BarcodeChoice:
    """Pick the barcode Dolibarr gets from PrestaShop's three fields.

    * ``ean13``: 13 digits → EAN13 (type 2); 8 digits → EAN8 (type 1); check digit verified.
    * ``upc``: 12 digits → UPC-A (type 3), check digit verified.
    * ``isbn``: ISBN-10 or ISBN-13 → ISBN (type 4), sent without hyphens.

    Every non-empty invalid field adds a problem message naming the field, the value and the
    fix; the first valid field in that order is chosen.
    """
    problems: list[str] = []
    chosen: tuple[str, int, str] | None = None

    ean = _clean(ean13)
    if ean:
        if len(ean) == 8 and is_valid_gs1(ean, 8):
            chosen = (ean, BARCODE_TYPE_EAN8, "ean13")
        elif is_valid_gs1(ean, 13):
            chosen = (ean, BARCODE_TYPE_EAN13, "ean13")
        else:
            problems.append(
                f"ean13 {ean!r} is not a valid EAN-13/EAN-8 (13 or 8 digits with a correct check "
                "digit): correct it in PrestaShop; it was not sent to Dolibarr"
            )
    code_upc = _clean(upc)
    if code_upc:
        if is_valid_gs1(code_upc, 12):
            if chosen is None:
                chosen = (code_upc, BARCODE_TYPE_UPC, "upc")
        else:
            problems.append(
                f"upc {code_upc!r} is not a valid UPC-A (12 digits with a correct check digit): "
                "correct it in PrestaShop; it was not sent to Dolibarr"
            )
    code_isbn = _clean(isbn)
    if code_isbn:
        if is_valid_isbn(code_isbn):
            if chosen is None:
                chosen = (normalise_isbn(code_isbn), BARCODE_TYPE_ISBN, "isbn")
        else:
            problems.append(
                f"isbn {code_isbn!r} is not a valid ISBN-10/ISBN-13: correct it in PrestaShop; "
                "it was not sent to Dolibarr"
            )
    if chosen is None:
        return BarcodeChoice(None, None, None, tuple(problems))
    return BarcodeChoice(chosen[0], chosen[1], chosen[2], tuple(problems))
