"""Dolibarr's sqlfilters language: parsing, MySQL-like evaluation and the recorded errors."""

from __future__ import annotations

from decimal import Decimal

import pytest

from dolisync.emulators.dolibarr.sqlfilters import SqlFilterError, UnknownColumn, compile_sqlfilters

ROW = {"t.rowid": 7, "t.ref": "PS-DEMO-1", "t.ref_ext": "ps:1:42", "t.tosell": 1, "t.price": Decimal("20"),
       "t.tms": "2026-11-28 03:15:00", "t.note": None, "ef.ps_id": "42"}


@pytest.mark.parametrize(("text", "expected"), [
    ("(t.ref:=:'PS-DEMO-1')", True),
    ("(t.ref:=:'ps-demo-1')", True),  # case-insensitive collation
    ("(t.ref:!=:'PS-DEMO-1')", False),
    ("(t.ref_ext:=:'ps:1:42')", True),
    ("(ef.ps_id:=:'42')", True),
    ("(ef.ps_id:=:42)", True),
    ("(t.rowid:in:1,2,7)", True),
    ("(t.rowid:notin:1,2,7)", False),
    ("(t.ref:in:'A','PS-DEMO-1')", True),
    ("(t.ref:like:'PS-%')", True),
    ("(t.ref:like:'PS-_EMO-1')", True),
    ("(t.ref:notlike:'PS-%')", False),
    ("(t.price:>:19.99)", True),
    ("(t.price:<=:19.99)", False),
    ("(t.tms:>=:'2026-11-28 03:15:00')", True),
    ("(t.tms:>:'2026-11-28 03:15:00')", False),
    ("(t.note:is:NULL)", True),
    ("(t.ref_ext:isnot:NULL)", True),
    ("(t.note:=:'x')", False),  # NULL equals nothing
    ("(t.ref:like:'PS-%') and (t.tosell:=:1)", True),
    ("(t.ref:=:'x') or (t.tosell:=:1)", True),
    ("(t.ref:=:'x') or (t.tosell:=:1) and (t.rowid:=:8)", False),  # AND binds tighter
    ("((t.ref:=:'x') or (t.tosell:=:1)) and (t.rowid:=:7)", True),
    ("(ref:=:'PS-DEMO-1')", True),  # bare column = main table
    ("(t.ref:=:'it\\'s')", False),
])
def test_evaluation(text: str, expected: bool) -> None:
    assert compile_sqlfilters(text)(ROW) is expected


def test_unbalanced_parentheses_message() -> None:
    with pytest.raises(SqlFilterError, match=r"Wrong balance of parenthesis in sqlfilters=\(\(t.ref:=:'x'\)"):
        compile_sqlfilters("(t.ref:=:'x'")


@pytest.mark.parametrize("text", ["(t.ref:=:'x') or 1=1", "t.ref = 'x'", "(t.ref:drop:'x')", "(t.ref:=:'x');",
                                  "(t.ref;:=:'x')", "()", "(t.note:is:'x')", "(t.ref:=:'x') (t.ref:=:'y')"])
def test_bad_syntax_refused(text: str) -> None:
    with pytest.raises(SqlFilterError, match="Bad syntax of the search string"):
        compile_sqlfilters(text)


def test_single_quoted_in_list_reaches_sql_as_columns() -> None:
    predicate = compile_sqlfilters("(t.code_iso:in:'EUR,USD')")
    with pytest.raises(UnknownColumn) as info:
        predicate({"t.code_iso": "EUR"})
    assert info.value.column == "EUR"


def test_unknown_column_at_evaluation() -> None:
    with pytest.raises(UnknownColumn):
        compile_sqlfilters("(t.nope:=:1)")(ROW)
