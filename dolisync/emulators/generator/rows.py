"""Blank rows of every PrestaShop Webservice resource, and the value formats they use.

``blank_rows.json`` (next to this module) was derived once from
``reference/prestashop/resources.json``: for each resource, each field with the value a fresh
row stores when nothing sets it (``"0.000000"``, ``"0"``, ``"0000-00-00 00:00:00"``, ``""``);
multilang fields are ``null`` there and become ``{id_lang: ""}`` here.

Contract: :meth:`RowFactory.blank` returns a new dict the caller owns (a shallow copy; multilang
values are fresh dicts), keyed in the resource's field order, so generated rows always carry
every field the Webservice shows.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from importlib import resources
from typing import Any

from dolisync.mapping.prestashop_money import fmt

__all__ = ["RowFactory", "money6", "money2", "rate3", "ps_date", "ps_bool", "Row"]

Row = dict[str, Any]


def money6(value: Decimal) -> str:
    """``decimal(20,6)`` text: ``"23.900000"``."""
    return fmt(value, 6)


def money2(value: Decimal) -> str:
    """``decimal(x,2)`` text: ``"10.00"``."""
    return fmt(value, 2)


def rate3(value: Decimal) -> str:
    """``decimal(10,3)`` text: ``"20.000"``."""
    return fmt(value, 3)


def ps_date(value: datetime | None) -> str:
    """``"YYYY-MM-DD HH:MM:SS"``; ``None`` gives PrestaShop's zero date."""
    if value is None:
        return "0000-00-00 00:00:00"
    return value.isoformat(" ", "seconds")


def ps_bool(value: bool) -> str:
    """``"1"`` / ``"0"``."""
    return "1" if value else "0"


def _load_blank_rows() -> dict[str, dict[str, str | None]]:
    text = resources.files(__package__).joinpath("blank_rows.json").read_text(encoding="utf-8")
    data: dict[str, dict[str, str | None]] = json.loads(text)
    return data


class RowFactory:
    """Makes blank rows for a shop with the given language ids."""

    def __init__(self, language_ids: list[int]) -> None:
        self._languages = list(language_ids)
        self._templates = _load_blank_rows()
        self._multilang = {
            resource: [name for name, default in fields.items() if default is None]
            for resource, fields in self._templates.items()
        }

    @property
    def language_ids(self) -> list[int]:
        """The shop's language ids, default language first."""
        return list(self._languages)

    def fields(self, resource: str) -> list[str]:
        """The resource's field names in Webservice order."""
        return list(self._templates[resource])

    def multilang_fields(self, resource: str) -> list[str]:
        """The resource's multilang field names."""
        return list(self._multilang[resource])

    def blank(self, resource: str, **values: Any) -> Row:
        """A new row of ``resource`` with defaults, then ``values`` applied on top."""
        row: Row = dict(self._templates[resource])
        for name in self._multilang[resource]:
            row[name] = dict.fromkeys(self._languages, "")
        row.update(values)
        return row

    def text(self, by_language: dict[int, str] | str) -> dict[int, str]:
        """A multilang value: the same text for every language, or the given mapping filled."""
        if isinstance(by_language, str):
            return dict.fromkeys(self._languages, by_language)
        default = by_language.get(self._languages[0], "")
        return {lang: by_language.get(lang, default) for lang in self._languages}
