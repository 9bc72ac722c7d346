"""Exact money arithmetic shared by every part of dolisync.

Contract: amounts are :class:`decimal.Decimal`, never ``float``. Both PrestaShop and
Dolibarr round *half away from zero* on the decimal value (PHP ``round()``), which is
``ROUND_HALF_UP`` in :mod:`decimal` terms. PrestaShop additionally pre-rounds to 15
significant digits (PHP's float pre-rounding); :func:`php_round` reproduces that so
that binary noise such as ``3.0149999999999997`` rounds to ``3.02``.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation

__all__ = ["D", "round_half_up", "r2", "r5", "r6", "php_round", "to_decimal"]

_CONTEXT = Context(prec=40, rounding=ROUND_HALF_UP)


def D(value: object) -> Decimal:  # noqa: N802 - short constructor name is the point
    """Convert ``value`` (str, int, Decimal, or float via its repr) to ``Decimal``."""
    return to_decimal(value)


def to_decimal(value: object) -> Decimal:
    """Parse a remote amount defensively: ``"20.00000000"``, ``20``, ``7.5``, ``""`` -> 0.

    Floats go through ``repr`` so ``7.5`` becomes ``Decimal("7.5")``, not its binary value.
    Raises ``ValueError`` naming the value when it is not a number.
    """
    if value is None or value == "":
        return Decimal(0)
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        return Decimal(int(value))
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    try:
        return Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise ValueError(f"not a number: {value!r}") from exc


def round_half_up(value: Decimal, places: int) -> Decimal:
    """Round half away from zero to ``places`` decimals (r2(-0.125) == -0.13)."""
    quantum = Decimal(1).scaleb(-places)
    return value.quantize(quantum, rounding=ROUND_HALF_UP, context=_CONTEXT)


def r2(value: Decimal) -> Decimal:
    """Round to cents, half away from zero."""
    return round_half_up(value, 2)


def r5(value: Decimal) -> Decimal:
    """Round to 5 decimals (Dolibarr's stored unit price precision)."""
    return round_half_up(value, 5)


def r6(value: Decimal) -> Decimal:
    """Round to 6 decimals (PrestaShop's stored unit price precision)."""
    return round_half_up(value, 6)


def php_round(value: Decimal, places: int) -> Decimal:
    """PHP ``round()`` as PrestaShop uses it: pre-round to 15 significant digits, then half up.

    With exact ``Decimal`` inputs the pre-rounding only matters for values that carry more
    than 15 significant digits (typically products of long unit prices and rates).
    """
    if value.is_zero():
        return round_half_up(value, places)
    magnitude = value.adjusted()  # exponent of the most significant digit
    pre = round_half_up(value, max(0, 14 - magnitude)) if 14 - magnitude >= 0 else value
    return round_half_up(pre, places)
