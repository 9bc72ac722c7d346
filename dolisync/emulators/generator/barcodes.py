"""Barcodes with valid check digits (EAN-13, UPC-A, ISBN-13), and deliberately broken ones.

Contract: every function is pure; ``valid=False`` returns the same number with a wrong check
digit (the correct one + 1 mod 10), which a sync must reject or report, never "fix" silently.
"""

from __future__ import annotations

__all__ = ["ean13_check_digit", "upc_check_digit", "make_ean13", "make_upc", "make_isbn13", "is_valid_ean13", "is_valid_upc"]


def ean13_check_digit(first12: str) -> int:
    """GS1 check digit of 12 digits: weights 1,3,1,3... from the left."""
    if len(first12) != 12 or not first12.isdigit():
        raise ValueError(f"EAN-13 body must be 12 digits: {first12!r}")
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first12))
    return (10 - total % 10) % 10


def upc_check_digit(first11: str) -> int:
    """UPC-A check digit of 11 digits: weights 3,1,3,1... from the left."""
    if len(first11) != 11 or not first11.isdigit():
        raise ValueError(f"UPC-A body must be 11 digits: {first11!r}")
    total = sum(int(d) * (1 if i % 2 else 3) for i, d in enumerate(first11))
    return (10 - total % 10) % 10


def _finish(body: str, check: int, valid: bool) -> str:
    return body + str(check if valid else (check + 1) % 10)


def make_ean13(serial: int, *, prefix: str = "376", valid: bool = True) -> str:
    """An EAN-13 from a GS1 prefix (``376`` = France range) and a serial number (taken modulo
    what fits after the prefix)."""
    width = 12 - len(prefix)
    body = prefix + str(serial % 10**width).zfill(width)
    return _finish(body, ean13_check_digit(body), valid)


def make_upc(serial: int, *, valid: bool = True) -> str:
    """A 12-digit UPC-A (number system 0) from a serial number."""
    body = "0" + str(serial % 10**10).zfill(10)
    return _finish(body, upc_check_digit(body), valid)


def make_isbn13(serial: int, *, valid: bool = True) -> str:
    """An ISBN-13 in the 978 range (digits only, as PrestaShop's ``isbn`` accepts)."""
    body = "9782" + str(serial % 10**8).zfill(8)
    return _finish(body, ean13_check_digit(body), valid)


def is_valid_ean13(code: str) -> bool:
    """True when ``code`` is 13 digits with the right check digit (also ISBN-13)."""
    return len(code) == 13 and code.isdigit() and ean13_check_digit(code[:12]) == int(code[12])


def is_valid_upc(code: str) -> bool:
    """True when ``code`` is 12 digits with the right check digit."""
    return len(code) == 12 and code.isdigit() and upc_check_digit(code[:11]) == int(code[11])
