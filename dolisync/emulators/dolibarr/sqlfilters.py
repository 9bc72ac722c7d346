"""Dolibarr's ``sqlfilters`` language, parsed and evaluated in Python.

Grammar (what Dolibarr accepts, API.md §2.3)::

    expr      := and_expr ("or" and_expr)*
    and_expr  := primary ("and" primary)*
    primary   := "(" expr ")" | "(" field ":" operator ":" value ")"
    field     := [A-Za-z0-9_.]+          e.g. t.ref, ef.ps_id, t.tms (bare names mean t.<name>)
    operator  := = | != | <> | < | > | <= | >= | like | notlike | in | notin | is | isnot

Values: ``'quoted text'`` (``\\'`` escapes a quote), numbers, ``NULL`` (for ``is``/``isnot``);
``in``/``notin`` take a comma list with each string quoted. Comparison follows MySQL with a
case-insensitive collation: strings compare case-insensitively, a number against a string
compares numerically, ``NULL`` never equals anything, ``like`` uses ``%`` and ``_``.

Errors, as Dolibarr reports them:

* :class:`SqlFilterError` (answered 400 "Error when validating parameter sqlfilters -> ...")
  for unbalanced parentheses ("Wrong balance of parenthesis in sqlfilters=(...)") and anything
  outside the grammar ("Bad syntax of the search string: (...)"), e.g. ``(t.ref:=:'x') or 1=1``.
* :class:`UnknownColumn` (answered 503 with MySQL's "Unknown column" text) for a bare word that
  reaches SQL unquoted (``(t.code_iso:in:'EUR,USD')`` becomes ``IN (EUR,USD)``) and for a
  field the row does not have (raised at evaluation).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

__all__ = ["SqlFilterError", "UnknownColumn", "Predicate", "compile_sqlfilters"]

_FIELD_RE = re.compile(r"^[A-Za-z0-9_.]+$")
_NUMBER_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_WORD_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")
_OPERATORS = {"=", "!=", "<>", "<", ">", "<=", ">=", "like", "notlike", "in", "notin", "is", "isnot"}

Columns = Mapping[str, Any]


class SqlFilterError(ValueError):
    """The filter string is refused by Dolibarr's validator (HTTP 400)."""


class UnknownColumn(LookupError):
    """The filter reaches SQL with a column that does not exist (HTTP 503)."""

    def __init__(self, column: str) -> None:
        super().__init__(column)
        self.column = column


class _Null:
    """The SQL ``NULL`` literal."""


NULL = _Null()


class _Column:
    """A bare word that Dolibarr passes to SQL unquoted (resolved as a column)."""

    def __init__(self, name: str) -> None:
        self.name = name


Predicate = Callable[[Columns], bool]


def _lookup(columns: Columns, name: str) -> Any:
    if name in columns:
        return columns[name]
    lowered = name.lower()
    if lowered in columns:
        return columns[lowered]
    if "." not in name and f"t.{lowered}" in columns:
        return columns[f"t.{lowered}"]
    raise UnknownColumn(name)


def _to_number(value: Any) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        return Decimal(int(value))
    if isinstance(value, (int, float)):
        return Decimal(str(value))
    match = re.match(r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)", str(value))
    if not match:
        return Decimal(0)
    try:
        return Decimal(match.group(0).strip())
    except InvalidOperation:
        return Decimal(0)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def _compare(left: Any, right: Any) -> int | None:
    """MySQL-like three-way comparison; ``None`` when either side is NULL."""
    if left is None or right is None or right is NULL:
        return None
    if _is_number(left) or _is_number(right):
        a, b = _to_number(left), _to_number(right)
    else:
        a, b = str(left).casefold().rstrip(" "), str(right).casefold().rstrip(" ")
    return (a > b) - (a < b)


@lru_cache(maxsize=512)
def _like_regex(pattern: str) -> re.Pattern[str]:
    out: list[str] = []
    escaped = False
    for char in pattern:
        if escaped:
            out.append(re.escape(char))
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "%":
            out.append(".*")
        elif char == "_":
            out.append(".")
        else:
            out.append(re.escape(char))
    return re.compile("^" + "".join(out) + "$", re.IGNORECASE | re.DOTALL)


def _resolve(value: Any, columns: Columns) -> Any:
    if isinstance(value, _Column):
        return _lookup(columns, value.name)
    return value


def _criterion(field: str, operator: str, value: Any) -> Predicate:
    if operator in {"is", "isnot"}:
        want_null = operator == "is"
        return lambda cols: (_lookup(cols, field) is None) == want_null
    if operator in {"in", "notin"}:
        items: list[Any] = value
        negate = operator == "notin"

        def member(cols: Columns) -> bool:
            current = _lookup(cols, field)
            resolved = [_resolve(item, cols) for item in items]
            if current is None:
                return False
            found = any(_compare(current, item) == 0 for item in resolved)
            return found != negate
        return member
    if operator in {"like", "notlike"}:
        negate = operator == "notlike"

        def like(cols: Columns) -> bool:
            current = _lookup(cols, field)
            pattern = _resolve(value, cols)
            if current is None or pattern is None or pattern is NULL:
                return False
            return bool(_like_regex(str(pattern)).match(str(current))) != negate
        return like
    tests: dict[str, Callable[[int], bool]] = {
        "=": lambda c: c == 0, "!=": lambda c: c != 0, "<>": lambda c: c != 0,
        "<": lambda c: c < 0, ">": lambda c: c > 0, "<=": lambda c: c <= 0, ">=": lambda c: c >= 0,
    }
    test = tests[operator]

    def compare(cols: Columns) -> bool:
        result = _compare(_lookup(cols, field), _resolve(value, cols))
        return result is not None and test(result)
    return compare


class _Parser:
    """Recursive-descent parser over the raw filter string."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self) -> SqlFilterError:
        return SqlFilterError(f"Bad syntax of the search string: ({self.text})")

    def skip_spaces(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def keyword(self, word: str) -> bool:
        self.skip_spaces()
        end = self.pos + len(word)
        if self.text[self.pos:end].lower() == word and (end >= len(self.text) or not self.text[end].isalnum()):
            self.pos = end
            return True
        return False

    def parse(self) -> Predicate:
        predicate = self.parse_or()
        self.skip_spaces()
        if self.pos != len(self.text):
            raise self.fail()
        return predicate

    def parse_or(self) -> Predicate:
        parts = [self.parse_and()]
        while self.keyword("or"):
            parts.append(self.parse_and())
        if len(parts) == 1:
            return parts[0]
        return lambda cols: any(p(cols) for p in parts)

    def parse_and(self) -> Predicate:
        parts = [self.parse_primary()]
        while self.keyword("and"):
            parts.append(self.parse_primary())
        if len(parts) == 1:
            return parts[0]
        return lambda cols: all(p(cols) for p in parts)

    def parse_primary(self) -> Predicate:
        self.skip_spaces()
        if self.pos >= len(self.text) or self.text[self.pos] != "(":
            raise self.fail()
        self.pos += 1
        self.skip_spaces()
        if self.pos < len(self.text) and self.text[self.pos] == "(":
            inner = self.parse_or()
            self.skip_spaces()
            if self.pos >= len(self.text) or self.text[self.pos] != ")":
                raise self.fail()
            self.pos += 1
            return inner
        return self.parse_criterion()

    def parse_criterion(self) -> Predicate:
        colon = self.text.find(":", self.pos)
        if colon < 0:
            raise self.fail()
        field = self.text[self.pos:colon].strip()
        second = self.text.find(":", colon + 1)
        if second < 0:
            raise self.fail()
        operator = self.text[colon + 1:second].strip().lower()
        if not _FIELD_RE.match(field) or operator not in _OPERATORS:
            raise self.fail()
        self.pos = second + 1
        raw = self.scan_value()
        return _criterion(field.lower(), operator, self.parse_value(operator, raw))

    def scan_value(self) -> str:
        """Read up to the closing parenthesis that is outside quotes; consume it."""
        start = self.pos
        quoted = False
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if quoted and char == "\\":
                self.pos += 2
                continue
            if char == "'":
                quoted = not quoted
            elif char == ")" and not quoted:
                raw = self.text[start:self.pos]
                self.pos += 1
                return raw
            elif char == "(" and not quoted:
                raise self.fail()
            self.pos += 1
        raise self.fail()

    def parse_value(self, operator: str, raw: str) -> Any:
        raw = raw.strip()
        if operator in {"is", "isnot"}:
            if raw.upper() != "NULL":
                raise self.fail()
            return NULL
        if operator in {"in", "notin"}:
            items = _split_list(raw)
            if items is None or not items:
                raise self.fail()
            if len(items) == 1 and _is_quoted(items[0]) and "," in items[0]:
                # One pair of quotes around the whole list: Dolibarr passes it unquoted to SQL.
                items = [part.strip() for part in _unquote(items[0]).split(",")]
                return [self.literal(item, unquoted_is_column=True) for item in items]
            return [self.literal(item, unquoted_is_column=True) for item in items]
        if operator in {"like", "notlike"}:
            return _unquote(raw) if _is_quoted(raw) else raw
        return self.literal(raw, unquoted_is_column=True)

    def literal(self, raw: str, *, unquoted_is_column: bool) -> Any:
        raw = raw.strip()
        if _is_quoted(raw):
            return _unquote(raw)
        if _NUMBER_RE.match(raw):
            return Decimal(raw)
        if raw.upper() == "NULL":
            return NULL
        if unquoted_is_column and _WORD_RE.match(raw):
            return _Column(raw)
        raise self.fail()


def _is_quoted(raw: str) -> bool:
    return len(raw) >= 2 and raw[0] == "'" and raw[-1] == "'"


def _unquote(raw: str) -> str:
    return raw[1:-1].replace("\\'", "'").replace("''", "'")


def _split_list(raw: str) -> list[str] | None:
    items: list[str] = []
    current: list[str] = []
    quoted = False
    index = 0
    while index < len(raw):
        char = raw[index]
        if quoted and char == "\\" and index + 1 < len(raw):
            current.append(raw[index:index + 2])
            index += 2
            continue
        if char == "'":
            quoted = not quoted
        if char == "," and not quoted:
            items.append("".join(current).strip())
            current = []
        else:
            current.append(char)
        index += 1
    if quoted:
        return None
    items.append("".join(current).strip())
    return items


def _balanced(text: str) -> bool:
    depth = 0
    quoted = False
    escaped = False
    for char in text:
        if escaped:
            escaped = False
            continue
        if quoted and char == "\\":
            escaped = True
        elif char == "'":
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


def compile_sqlfilters(text: str) -> Predicate:
    """Parse ``text`` into a predicate over a row's column mapping (see module docstring).

    Raises :class:`SqlFilterError` for what Dolibarr refuses with 400. The predicate raises
    :class:`UnknownColumn` when it meets a column the mapping lacks.
    """
    if not _balanced(text):
        raise SqlFilterError(f"Wrong balance of parenthesis in sqlfilters=({text})")
    return _Parser(text).parse()
