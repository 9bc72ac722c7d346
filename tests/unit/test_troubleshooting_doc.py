"""docs/troubleshooting.md stays in step with the messages the code prints.

Convention of the doc (stated at its top): every ``####`` heading is an index entry made of one
or more backquoted fragments of a message, quoted exactly as the code prints it; ``…`` stands
for a variable part (an id, a rate, a name). This module checks that

* every fragment is found in a string the product code can print: a string literal of a Python
  module under ``dolisync/`` (docstrings and the emulators excluded; an f-string placeholder
  breaks the literal, so a fragment cannot silently span a value) or a template of the web app;
  the pieces of a fragment split at ``…`` must appear in that order in the same literal;
* every fix the doctor (``dolisync/doctor.py``) can print is explained in the doc;
* every ``MappingError(...)`` raised with a literal hint has at least one index entry quoting
  a fragment of that hint.

The matcher itself is tested too, so a check that always passes cannot hide here.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "troubleshooting.md"
PACKAGE = ROOT / "dolisync"
EXCLUDED_DIRS = ("emulators", "static")
TEMPLATE_SUFFIXES = (".html",)
PLACEHOLDER = "\x00"
"""Stands for an f-string placeholder inside a literal's text: no fragment can contain it."""
ELLIPSIS = "…"


# --- what the code can print -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Literal:
    path: Path
    line: int
    text: str


def _literal_text(node: ast.AST) -> str | None:
    """The text of a string literal or f-string (placeholders as :data:`PLACEHOLDER`)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        parts: list[str] = []
        for value in node.values:
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                parts.append(value.value)
            else:
                parts.append(PLACEHOLDER)
        return "".join(parts)
    return None


def _docstring_nodes(tree: ast.AST) -> set[int]:
    """ids of docstrings and bare string statements (text nobody sees at run time)."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            found.add(id(node.value))
    return found


def _python_files() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if not set(EXCLUDED_DIRS) & set(p.relative_to(PACKAGE).parts))


@cache
def _trees() -> tuple[tuple[Path, ast.Module], ...]:
    return tuple((path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))) for path in _python_files())


@cache
def source_literals() -> tuple[Literal, ...]:
    """Every printable string of the product code (see module docstring)."""
    literals: list[Literal] = []
    for path, tree in _trees():
        skip = _docstring_nodes(tree)
        inside_fstring: set[int] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.JoinedStr):
                inside_fstring.update(id(value) for value in node.values)
        for node in ast.walk(tree):
            if id(node) in skip or id(node) in inside_fstring:
                continue
            text = _literal_text(node)
            if text:
                literals.append(Literal(path, getattr(node, "lineno", 0), text))
    for path in sorted(PACKAGE.rglob("*")):
        if path.suffix in TEMPLATE_SUFFIXES and not set(EXCLUDED_DIRS) & set(path.relative_to(PACKAGE).parts):
            literals.append(Literal(path, 1, path.read_text(encoding="utf-8")))
    return tuple(literals)


def fragment_pieces(fragment: str) -> list[str]:
    """The fixed pieces of a quoted fragment (``…`` marks a variable part)."""
    return [piece.strip() for piece in fragment.split(ELLIPSIS) if piece.strip()]


def matches(fragment: str, text: str) -> bool:
    """True when every piece of ``fragment`` occurs in ``text``, in order, none across a placeholder."""
    pieces = fragment_pieces(fragment)
    if not pieces:
        return False
    position = 0
    for piece in pieces:
        if PLACEHOLDER in piece:
            return False
        found = text.find(piece, position)
        if found < 0:
            return False
        position = found + len(piece)
    return True


def found_in_code(fragment: str) -> bool:
    return any(matches(fragment, literal.text) for literal in source_literals())


# --- what the doc quotes -----------------------------------------------------------------

_CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)")


def code_spans(line: str) -> list[str]:
    """Inline code spans of a markdown line (double backquotes allow a backquote inside)."""
    spans = []
    for match in _CODE_SPAN.finditer(line):
        content = match.group(2)
        if len(match.group(1)) > 1 and content.startswith(" ") and content.endswith(" "):
            content = content[1:-1]
        spans.append(content)
    return spans


@cache
def doc_text() -> str:
    return DOC.read_text(encoding="utf-8")


@cache
def index_entries() -> tuple[tuple[int, str, tuple[str, ...]], ...]:
    """``(line number, heading, fragments)`` of every ``####`` heading (index entry) of the doc."""
    entries = []
    in_fence = False
    for number, line in enumerate(doc_text().splitlines(), start=1):
        if line.startswith("```"):
            in_fence = not in_fence
        if not in_fence and line.startswith("#### "):
            entries.append((number, line, tuple(code_spans(line))))
    return tuple(entries)


def index_fragments() -> list[str]:
    return [fragment for _line, _heading, fragments in index_entries() for fragment in fragments]


def _normalised(text: str) -> str:
    return " ".join(text.split())


# --- the matcher is honest -----------------------------------------------------------------


def test_matcher_accepts_pieces_in_order_within_one_literal() -> None:
    text = "tax rule group \x00 has no country-wide rule for \x00 (the Dolibarr company country)"
    assert matches("tax rule group … has no country-wide rule for …", text)
    assert matches("has no country-wide rule for", text)
    assert not matches("has no country-wide rule for … tax rule group", text)  # order matters
    assert not matches("tax rule group 12 has no country-wide rule", text)  # a value is not the code's text
    assert not matches("…", text)


def test_matcher_rejects_text_that_is_not_in_the_code() -> None:
    assert not found_in_code("this sentence is printed by no part of dolisync")
    assert not found_in_code("the shop is in maintenance mode (PS_SHOP_ENABLE=1)")


def test_matcher_sees_implicitly_concatenated_literals_but_not_docstrings() -> None:
    # "no write on: " and the doctor's hints are plain literals; a docstring sentence is not a message.
    assert found_in_code("no write on:")
    assert found_in_code("Advanced Parameters > Webservice > edit the key: tick View (GET) for these resources")
    assert not found_in_code("a doctor that says, line by line, what is wrong and how to fix it")


def test_code_spans_reads_single_and_double_backquotes() -> None:
    assert code_spans("### `a b` / ``run `x` now``") == ["a b", "run `x` now"]


# --- the doc --------------------------------------------------------------------------------


def test_doc_has_an_index_and_the_required_sections() -> None:
    text = doc_text()
    assert len(index_entries()) >= 60
    for title in ("First aid", "Totals differ by a cent"):
        assert re.search(rf"^## (\d+\. )?{title}$", text, re.MULTILINE), f"no section {title!r}"
    for command in ("dolisync check", "--dry-run", "dolisync status", "dolisync retry"):
        assert command in text


def test_every_index_heading_quotes_a_fragment() -> None:
    bare = [f"line {number}: {heading}" for number, heading, fragments in index_entries() if not fragments]
    assert not bare, "index headings without a backquoted fragment:\n" + "\n".join(bare)


def test_every_quoted_fragment_is_printed_by_the_code() -> None:
    missing = [f"line {number}: `{fragment}`" for number, _heading, fragments in index_entries()
               for fragment in fragments if not found_in_code(fragment)]
    assert not missing, ("fragments quoted in docs/troubleshooting.md but not printed by dolisync/ "
                         "(the message changed? update the doc):\n" + "\n".join(missing))


def _call_argument(call: ast.Call, position: int, keyword: str) -> ast.AST | None:
    if len(call.args) > position:
        return call.args[position]
    return next((kw.value for kw in call.keywords if kw.arg == keyword), None)


def _doctor_fixes() -> list[tuple[int, str]]:
    tree = ast.parse((PACKAGE / "doctor.py").read_text(encoding="utf-8"))
    fixes = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "add":
            argument = _call_argument(node, 4, "fix")
            text = None if argument is None else _literal_text(argument)
            if text:
                fixes.append((node.lineno, text))
    return fixes


def test_doc_explains_every_fix_of_the_doctor() -> None:
    fixes = _doctor_fixes()
    assert len(fixes) >= 15  # the doctor's report lines with a fix (guards the AST walk itself)
    doc = _normalised(doc_text())
    missing = []
    for line, fix in fixes:
        pieces = [_normalised(p) for p in fix.split(PLACEHOLDER) if p.strip()]
        longest = max(pieces, key=len)
        if longest not in doc:
            missing.append(f"doctor.py:{line}: {fix!r}")
    assert not missing, "doctor fixes not in docs/troubleshooting.md:\n" + "\n".join(missing)


def _mapping_error_hints() -> list[Literal]:
    hints = []
    for path, tree in _trees():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "MappingError":
                argument = _call_argument(node, 4, "hint")
                text = None if argument is None else _literal_text(argument)
                if text:  # a hint passed as a variable is built from literals quoted elsewhere
                    hints.append(Literal(path, node.lineno, text))
    return hints


def test_doc_covers_every_mapping_error_hint() -> None:
    hints = _mapping_error_hints()
    assert len(hints) >= 35  # guards the AST walk: dolisync raises MappingError in many places
    fragments = index_fragments()
    uncovered = [f"{hint.path.relative_to(ROOT)}:{hint.line}: {hint.text.replace(PLACEHOLDER, '…')!r}"
                 for hint in hints if not any(matches(fragment, hint.text) for fragment in fragments)]
    assert not uncovered, ("MappingError hints with no index entry in docs/troubleshooting.md:\n"
                           + "\n".join(uncovered))
