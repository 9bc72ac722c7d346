"""List parameters of the webservice: ``display``, ``filter``, ``sort``, ``limit``, ``date``,
``language``, ``price[...]``.

Contract: ``parse_*`` functions validate the raw query values exactly like 8.2.1 and raise
:class:`WsError` with PrestaShop's code and message (list-parameter errors come with the four
PHP warnings, HTTP 500); :func:`apply_filters`, :func:`apply_sort` and :func:`apply_limit`
select rows like the SQL the webservice builds (case-insensitive LIKE, inclusive BETWEEN,
MySQL-like number/string comparison).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from dolisync.emulators.prestashop.errors import WsError, did_you_mean, param_error
from dolisync.emulators.prestashop.render import Selection
from dolisync.emulators.prestashop.schema import ResourceSpec

__all__ = [
    "Condition",
    "parse_display",
    "parse_filters",
    "parse_sort",
    "parse_limit",
    "parse_languages",
    "apply_filters",
    "apply_sort",
    "apply_limit",
    "split_top_level",
]

_RANGE_SIDE = re.compile(r"^[0-9.:\- ]+$")
Getter = Callable[[dict[str, Any], str], Any]


def split_top_level(text: str) -> list[str]:
    """Split ``a,b[c,d],e`` on commas that are not inside brackets."""
    parts: list[str] = []
    depth = 0
    current = ""
    for char in text:
        if char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return parts


def parse_display(
    value: str | None, spec: ResourceSpec, price_aliases: list[str], is_list: bool
) -> tuple[Selection, bool]:
    """Return (selection, explicit) where explicit is True when ``display`` was given."""
    if value is None:
        return (Selection(fields=["id"], assocs={}) if is_list else Selection()), False
    available = [f.name for f in spec.visible_fields]
    available_text = ", ".join(available)
    if value == "full":
        return Selection(), True
    if value == "minimum":
        return Selection(fields=["id"], assocs={}), True
    if not (value.startswith("[") and value.endswith("]")):
        raise param_error(
            36,
            "The 'display' syntax is wrong. You can set 'full' or '[field_1,field_2,field_3,...]'. "
            f"These are available: {available_text}",
        )
    fields: list[str] = []
    assocs: dict[str, list[str] | None] = {}
    for token in split_top_level(value[1:-1]):
        name, _, rest = token.partition("[")
        if rest:
            aspec = spec.assoc_by_name.get(name)
            sub = [s for s in rest.rstrip("]").split(",") if s]
            if aspec is None:
                raise param_error(
                    35, f'Unable to display this field "{name}". However, these are available: {available_text}'
                )
            allowed = {f.name for f in aspec.fields} | {"id"}
            for item in sub:
                if item not in allowed:
                    raise param_error(
                        35,
                        f'Unable to display this field "{name}({item})". However, these are available: '
                        + ", ".join(f.name for f in aspec.fields),
                    )
            assocs[name] = sub
            continue
        if name in spec.by_name and not spec.by_name[name].hidden:
            fields.append(name)
        elif name in price_aliases:
            fields.append(name)
        elif name in spec.assoc_by_name:
            assocs[name] = None
        else:
            raise param_error(
                35, f'Unable to display this field "{name}". However, these are available: {available_text}'
            )
    return Selection(fields=fields, assocs=assocs), True


@dataclass(frozen=True, slots=True)
class Condition:
    """One ``filter[field]`` condition."""

    field: str
    kind: str  # eq | in | between | like | gt | lt | not | none
    values: tuple[str, ...]


def _filter_candidates(spec: ResourceSpec, with_dates: bool) -> list[str]:
    return spec.filterable_names(with_dates)


def parse_filters(params: list[tuple[str, str]], spec: ResourceSpec, with_dates: bool) -> list[Condition]:
    """Parse every ``filter[...]`` query parameter (in order)."""
    conditions: list[Condition] = []
    for key, raw in params:
        if not key.startswith("filter["):
            continue
        inner = key[len("filter[") :]
        name, _, tail = inner.partition("]")
        fspec = spec.by_name.get(name)
        valid = fspec is not None and not fspec.hidden and (with_dates or not fspec.needs_date)
        if tail.startswith("["):
            if not valid:
                raise param_error(31, f'The field "{name}" is not available for linked tables.')
            continue
        if not valid:
            raise param_error(
                32,
                did_you_mean("This filter does not exist.", name, _filter_candidates(spec, with_dates)),
            )
        assert fspec is not None
        if fspec.not_filterable:
            raise param_error(
                34, f'The field "{name}" is dynamic. It is not possible to filter GET query with this field.'
            )
        if raw == "":
            raise param_error(33, f'The filter "{name}" is malformed.')
        conditions.append(_parse_condition(name, raw))
    return conditions


def _parse_condition(name: str, raw: str) -> Condition:
    open_at = raw.find("[")
    close_at = raw.rfind("]")
    if open_at == -1 or close_at < open_at:
        return Condition(name, "eq", (raw,))
    prefix, inner, suffix = raw[:open_at], raw[open_at + 1 : close_at], raw[close_at + 1 :]
    if prefix == "%" and suffix == "%":
        return Condition(name, "like", (f"%{inner}%",))
    if prefix == "%" and not suffix:
        return Condition(name, "like", (f"%{inner}",))
    if suffix == "%" and not prefix:
        return Condition(name, "like", (f"{inner}%",))
    if prefix == ">" and not suffix:
        return Condition(name, "gt", (inner,))
    if prefix == "<" and not suffix:
        return Condition(name, "lt", (inner,))
    if prefix == "!" and not suffix:
        return Condition(name, "not", tuple(inner.split("|")))
    if prefix or suffix:
        return Condition(name, "none", ())
    if "," in inner:
        low, _, high = inner.partition(",")
        if _RANGE_SIDE.match(low) and _RANGE_SIDE.match(high):
            bounds = sorted([low, high], key=_sort_key)
            return Condition(name, "between", (bounds[0], bounds[1]))
    if "|" in inner and not inner.startswith("|"):
        return Condition(name, "in", tuple(inner.split("|")))
    return Condition(name, "eq", (inner,))


_NUMERIC = re.compile(r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$")


def _number(text: str) -> Decimal | None:
    if not _NUMERIC.match(text):
        return None
    try:
        return Decimal(text.strip())
    except (InvalidOperation, ValueError):
        return None


def _sort_key(text: str) -> tuple[int, Any]:
    number = _number(text)
    return (0, number) if number is not None else (1, text.lower())


def _compare(left: str, right: str) -> int:
    a, b = _number(left), _number(right)
    if a is not None and b is not None:
        return (a > b) - (a < b)
    x, y = left.lower(), right.lower()
    return (x > y) - (x < y)


def _like(value: str, pattern: str) -> bool:
    regex = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.IGNORECASE | re.DOTALL) is not None


def _equal(value: str, target: str) -> bool:
    if value == target:
        return True
    if value.isdigit() and target.isdigit():
        return int(value) == int(target)
    return _compare(value, target) == 0


def _match(values: list[str], cond: Condition) -> bool:
    for value in values:
        if cond.kind == "eq":
            if _equal(value, cond.values[0]):
                return True
            continue
        if cond.kind == "in":
            if any(_equal(value, v) for v in cond.values):
                return True
            continue
        if cond.kind == "eq" and _compare(value, cond.values[0]) == 0:
            return True
        if cond.kind == "in" and any(_compare(value, v) == 0 for v in cond.values):
            return True
        if cond.kind == "between" and _compare(value, cond.values[0]) >= 0 and _compare(value, cond.values[1]) <= 0:
            return True
        if cond.kind == "like" and _like(value, cond.values[0]):
            return True
        if cond.kind == "gt" and _compare(value, cond.values[0]) > 0:
            return True
        if cond.kind == "lt" and _compare(value, cond.values[0]) < 0:
            return True
        if cond.kind == "not" and all(_compare(value, v) != 0 for v in cond.values):
            return True
    return False


def apply_filters(
    rows: list[dict[str, Any]], conditions: list[Condition], getter: Getter, languages: list[int]
) -> list[dict[str, Any]]:
    """Rows matching every condition (multilang fields match in any requested language)."""
    result = []
    for row in rows:
        ok = True
        for cond in conditions:
            if cond.kind == "none":
                continue
            value = getter(row, cond.field)
            values = [value.get(lang, "") for lang in languages] if isinstance(value, dict) else [
                "" if value is None else str(value)
            ]
            if not _match(values, cond):
                ok = False
                break
        if ok:
            result.append(row)
    return result


def parse_sort(value: str | None, spec: ResourceSpec, with_dates: bool) -> list[tuple[str, bool]]:
    """``[f_ASC,g_DESC]`` / ``f_DESC`` -> [(field, descending)]."""
    if value is None:
        return []
    inner = value[1:-1] if value.startswith("[") and value.endswith("]") else value
    result: list[tuple[str, bool]] = []
    fields = [f for f in spec.fields if not f.hidden and (with_dates or not f.needs_date)]
    plain = [f.name for f in fields if not f.multilang]
    i18n = [f.name for f in fields if f.multilang]
    for token in inner.split(","):
        name, sep, direction = token.rpartition("_")
        if not sep or direction.upper() not in ("ASC", "DESC") or not name:
            raise param_error(
                37,
                'The "sort" value has to be formed as this example: "field_ASC" or '
                "'[field_1_DESC,field_2_ASC,field_3_ASC,...]' (\"field\" has to be an available field)",
            )
        if name not in plain and name not in i18n:
            message = "Unable to filter by this field. However, these are available: " + ", ".join(plain)
            if i18n:
                message += ", for i18n fields:" + ", ".join(i18n)
            raise param_error(38, message)
        result.append((name, direction.upper() == "DESC"))
    return result


def apply_sort(
    rows: list[dict[str, Any]], keys: list[tuple[str, bool]], getter: Getter, languages: list[int]
) -> list[dict[str, Any]]:
    """Stable multi-key sort (numbers numerically, text case-insensitively)."""
    result = list(rows)
    for name, descending in reversed(keys):

        def key(row: dict[str, Any], name: str = name) -> tuple[int, Any]:
            value = getter(row, name)
            if isinstance(value, dict):
                value = value.get(languages[0], "") if languages else ""
            return _sort_key("" if value is None else str(value))

        result.sort(key=key, reverse=descending)
    return result


def parse_limit(value: str | None) -> tuple[int, int | None]:
    """``N`` or ``offset,N`` -> (offset, count)."""
    if value is None:
        return 0, None
    parts = value.split(",")
    if len(parts) > 2:
        raise param_error(39, 'The "limit" value has to be formed as this example: "5,25" or "10"')

    def to_int(text: str) -> int:
        match = re.match(r"\s*-?\d+", text)
        return max(int(match.group()), 0) if match else 0

    if len(parts) == 1:
        return 0, to_int(parts[0])
    return to_int(parts[0]), to_int(parts[1])


def apply_limit(rows: list[Any], offset: int, count: int | None) -> list[Any]:
    """Slice like SQL ``LIMIT offset, count``."""
    if count is None:
        return rows[offset:] if offset else rows
    return rows[offset : offset + count]


def parse_languages(value: str | None, active: list[int]) -> tuple[list[int], bool]:
    """``language`` parameter -> (language ids to output, range form used)."""
    if value is None:
        return list(active), False
    is_range = False
    if value.startswith("[") and value.endswith("]"):
        inner = value[1:-1]
        if "," in inner:
            low, _, high = inner.partition(",")
            if not (low.strip().isdigit() and high.strip().isdigit()):
                raise WsError(400, [(79, "The language range is malformed")])
            a, b = sorted((int(low), int(high)))
            wanted = list(range(a, b + 1))
            is_range = True
        else:
            pieces = inner.split("|")
            if not all(p.strip().isdigit() for p in pieces):
                raise WsError(400, [(80, "The language list is malformed")])
            wanted = [int(p) for p in pieces]
    elif value.strip().isdigit():
        wanted = [int(value)]
    else:
        raise WsError(400, [(78, "language is not correct")])
    chosen = [lang for lang in active if lang in wanted]
    if not chosen:
        raise WsError(400, [(81, "language is not available")])
    return chosen, is_range
