"""Defensive field types for the typed records parsed at the edge of both clients.

Contract: each ``Annotated`` type below accepts every spelling the two remotes are known to
use for a value and turns it into one Python type, or raises ``ValueError`` naming the value:

* ``Int``: ``1``, ``"1"``, ``"0001"``, ``""``/``None``/``False`` -> ``0``.
* ``OptInt``: same, but ``""``/``None`` -> ``None`` (Dolibarr ids that may be absent).
* ``Money``: ``"23.900000"``, ``7.5``, ``70``, ``""``/``None`` -> ``Decimal`` (0 when empty).
  Floats go through ``repr`` (see :func:`dolisync.mapping.money.to_decimal`): never binary noise.
* ``OptMoney``: same, but ``""``/``None`` -> ``None``.
* ``Flag``: ``"0"``/``"1"``/``0``/``1``/``True``/``""``/``None`` -> ``bool``.
* ``Text``: ``None``/``False`` (PrestaShop prints ``false`` for an absent manufacturer) -> ``""``;
  numbers -> their text.
* ``PsDate``: PrestaShop ``"YYYY-MM-DD HH:MM:SS"`` or ``"YYYY-MM-DD"`` in the **shop's local
  time** -> naive ``datetime``; ``"0000-00-00..."``/``""``/``None`` -> ``None``. The naive value
  is deliberate: the shop timezone is applied by whoever compares it with other clocks.
* ``DoliDate``: Dolibarr Unix timestamp (int or numeric string, UTC) or
  ``"YYYY-MM-DD HH:MM:SS"`` (taken as UTC) -> aware UTC ``datetime``; ``""``/``None``/``0`` -> ``None``.
* ``Multilang``: PrestaShop multilang value -> ``dict[int, str]`` (language id -> text). Accepts
  the JSON list ``[{"id": "1", "value": "A"}, {"id": 2, "value": "B"}]``, an already parsed
  ``dict``, or a **plain string** (PrestaShop prints one when a single language was output): the
  string is stored under the language id given in the validation context
  (``model_validate(data, context={"language_id": 2})``) or under ``0`` ("the only language
  returned") when none was given.
* ``IdList``: association items ``[{"id": "2"}, ...]`` (``None`` items skipped) -> ``list[int]``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator, ValidationInfo

from dolisync.mapping.money import to_decimal

__all__ = [
    "Int",
    "OptInt",
    "Money",
    "OptMoney",
    "Flag",
    "Text",
    "PsDate",
    "DoliDate",
    "Multilang",
    "IdList",
    "AnyDict",
    "parse_int",
    "parse_ps_date",
    "parse_doli_date",
    "parse_multilang",
    "multilang_text",
]


def parse_int(value: object) -> int:
    """Parse an id / count / flag printed by either remote; empty -> 0."""
    if value is None or value == "" or value is False:
        return 0
    if value is True:
        return 1
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"not an integer: {value!r}")
        return int(value)
    text = str(value).strip()
    try:
        return int(text)
    except ValueError:
        number = Decimal(text) if text.replace(".", "", 1).lstrip("-").isdigit() else None
        if number is None or number != number.to_integral_value():
            raise ValueError(f"not an integer: {value!r}") from None
        return int(number)


def _opt_int(value: object) -> int | None:
    if value is None or value == "":
        return None
    return parse_int(value)


def _money(value: object) -> Decimal:
    return to_decimal(value)


def _opt_money(value: object) -> Decimal | None:
    if value is None or value == "":
        return None
    return to_decimal(value)


def _flag(value: object) -> bool:
    if isinstance(value, str) and value.strip().lower() in {"true", "false"}:
        return value.strip().lower() == "true"
    return parse_int(value) != 0


def _text(value: object) -> str:
    if value is None or value is False:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float | Decimal):
        return str(value)
    raise ValueError(f"not a text value: {type(value).__name__}")


def parse_ps_date(value: object) -> datetime | None:
    """Parse a PrestaShop date (shop local time, naive); zero dates and empty -> ``None``."""
    if value is None or value == "" or value is False:
        return None
    if isinstance(value, datetime):
        return value
    text = str(value).strip()
    if text.startswith("0000-00-00"):
        return None
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    raise ValueError(f"not a PrestaShop date: {value!r}")


def parse_doli_date(value: object) -> datetime | None:
    """Parse a Dolibarr date: Unix timestamp (UTC) or ``YYYY-MM-DD[ HH:MM:SS]`` (UTC)."""
    if value is None or value == "" or value is False:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float) or (isinstance(value, str) and value.strip().lstrip("-").isdigit()):
        stamp = int(float(value))
        return None if stamp == 0 else datetime.fromtimestamp(stamp, tz=UTC)
    text = str(value).strip()
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise ValueError(f"not a Dolibarr date: {value!r}")


def parse_multilang(value: object, language_id: int = 0) -> dict[int, str]:
    """Turn any PrestaShop multilang spelling into ``{language id: text}`` (see module doc)."""
    if value is None or value == "" or value is False:
        return {}
    if isinstance(value, str):
        return {language_id: value}
    if isinstance(value, dict):
        if "language" in value:  # XML-shaped {"language": [...]} from an XML->dict conversion
            return parse_multilang(value["language"], language_id)
        return {parse_int(key): _text(text) for key, text in value.items()}
    if isinstance(value, list):
        result: dict[int, str] = {}
        for item in value:
            if not isinstance(item, dict) or "id" not in item:
                raise ValueError(f"malformed multilang item: {item!r}")
            result[parse_int(item["id"])] = _text(item.get("value"))
        return result
    raise ValueError(f"not a multilang value: {type(value).__name__}")


def _multilang_validator(value: object, info: ValidationInfo) -> dict[int, str]:
    context = info.context if isinstance(info.context, dict) else {}
    return parse_multilang(value, parse_int(context.get("language_id", 0)))


def multilang_text(values: dict[int, str], language_id: int, fallback_id: int | None = None) -> str:
    """The text for ``language_id``, else ``fallback_id``'s, else the only/first one, else ``""``.

    Key ``0`` (a plain string returned for a single language) matches any language.
    """
    for key in (language_id, fallback_id, 0):
        if key is not None and values.get(key):
            return values[key]
    return next((text for text in values.values() if text), "")


def _id_list(value: object) -> list[int]:
    if value is None or value == "":
        return []
    if isinstance(value, dict):  # XML-shaped {"category": [...]} or a single item
        inner = list(value.values())
        value = inner[0] if len(inner) == 1 and isinstance(inner[0], list) else [value]
    if not isinstance(value, list):
        raise ValueError(f"not an association list: {value!r}")
    ids: list[int] = []
    for item in value:
        if item is None:
            continue
        ids.append(parse_int(item.get("id") if isinstance(item, dict) else item))
    return ids


def _any_dict(value: object) -> dict[str, Any]:
    """Dolibarr prints an empty ``array_options`` as ``[]``: normalise to ``{}``."""
    if value is None or value == [] or value == "":
        return {}
    if isinstance(value, dict):
        return dict(value)
    raise ValueError(f"not an object: {type(value).__name__}")


Int = Annotated[int, BeforeValidator(parse_int)]
OptInt = Annotated[int | None, BeforeValidator(_opt_int)]
Money = Annotated[Decimal, BeforeValidator(_money)]
OptMoney = Annotated[Decimal | None, BeforeValidator(_opt_money)]
Flag = Annotated[bool, BeforeValidator(_flag)]
Text = Annotated[str, BeforeValidator(_text)]
PsDate = Annotated[datetime | None, BeforeValidator(parse_ps_date)]
DoliDate = Annotated[datetime | None, BeforeValidator(parse_doli_date)]
Multilang = Annotated[dict[int, str], BeforeValidator(_multilang_validator)]
IdList = Annotated[list[int], BeforeValidator(_id_list)]
AnyDict = Annotated[dict[str, Any], BeforeValidator(_any_dict)]
