"""Replaying recorded PrestaShop exchanges against the emulator and comparing the answers.

Comparison contract: same status; same headers that matter (Content-Type, PSWS-Version,
WWW-Authenticate, Location, presence of Content-Sha1); same body structure (XML: element order,
nesting, attribute names and values; JSON: keys in order and value types) and values, except
per-instance values which are masked first (dates, PHP install paths, secure keys, password
hashes, random order references, and - for exchanges recorded after the shop had been written
to - ids).
"""

from __future__ import annotations

from tests.reference import REFERENCE as SHARED_REFERENCE

import base64
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

REFERENCE = SHARED_REFERENCE / "prestashop"
REAL_DIR = REFERENCE / "real"
SAMPLES_DIR = REFERENCE / "samples"

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}( \d{2}:\d{2}:\d{2})?")
_PHP_PATH = re.compile(r"\((?:/[^ ()]*)?/classes/")
_HEX32 = re.compile(r"^[0-9a-f]{32}$")
_BCRYPT = re.compile(r"^\$2y\$.*")
_ID_ISH = re.compile(r"^(id|id_.*|.*_id)$")
_NUMBER_IN_URL = re.compile(r"/\d+")
_MASKED_FIELDS = {"secure_key", "passwd", "reference", "last_passwd_gen", "content"}


@dataclass(slots=True)
class Masking:
    """What counts as per-instance in one comparison."""

    ids: bool
    ws_url_from: str = ""
    ws_url_to: str = ""


def unsupported(md_path: Path) -> dict[str, str]:
    """Names listed as ``- `name` - reason`` in an UNSUPPORTED markdown file."""
    listed: dict[str, str] = {}
    if not md_path.exists():
        return listed
    for line in md_path.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^- `([^`]+)`\s*[-—:]?\s*(.*)$", line.strip())
        if match:
            listed[match.group(1)] = match.group(2)
    return listed


def _mask_text(field: str, value: str, masking: Masking) -> str:
    if masking.ws_url_from:
        value = value.replace(masking.ws_url_from, masking.ws_url_to)
    value = _PHP_PATH.sub("(<root>/classes/", value)
    value = _DATE.sub("<date>", value)
    if field in _MASKED_FIELDS or _HEX32.match(value) or _BCRYPT.match(value):
        return "<instance>"
    if masking.ids and _ID_ISH.match(field) and value.strip().isdigit():
        return "<id>"
    if masking.ids:
        value = _NUMBER_IN_URL.sub("/<n>", value)
    return value


def _xml_lines(element: etree._Element, masking: Masking, depth: int = 0) -> list[str]:
    attrs = []
    for key, value in element.attrib.items():
        name = key.replace("{http://www.w3.org/1999/xlink}", "xlink:")
        if name == "id" and masking.ids:
            value = "<id>" if value.isdigit() else value
        attrs.append(f"{name}={_mask_text(name, value, masking)!r}")
    text = element.text or ""
    if len(element):
        text = text.strip()
    field = element.tag
    if field == "language":
        parent = element.getparent()
        field = parent.tag if parent is not None else field
    line = "  " * depth + f"<{element.tag} {' '.join(attrs)}> {_mask_text(field, text, masking)!r}"
    lines = [line]
    for child in element:
        if isinstance(child.tag, str):
            lines.extend(_xml_lines(child, masking, depth + 1))
    return lines


def xml_outline(body: str, masking: Masking, truncate_to: dict[str, int] | None = None) -> list[str]:
    """Masked line-per-element outline of an XML document."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, strip_cdata=True)
    root = etree.fromstring(body.encode("utf-8"), parser)
    if truncate_to:
        for child in root:
            keep = truncate_to.get(child.tag)
            if keep is not None:
                for extra in list(child)[keep:]:
                    child.remove(extra)
    return _xml_lines(root, masking)


def _json_outline(value: Any, masking: Masking, path: str, key: str) -> Any:
    if isinstance(value, dict):
        return {"__keys__": list(value), **{k: _json_outline(v, masking, f"{path}.{k}", k) for k, v in value.items()}}
    if isinstance(value, list):
        return [_json_outline(v, masking, path + "[]", key) for v in value]
    kind = type(value).__name__
    if isinstance(value, str):
        return (kind, _mask_text(key, value, masking))
    if isinstance(value, int) and not isinstance(value, bool) and masking.ids and _ID_ISH.match(key):
        return (kind, "<id>")
    return (kind, value)


def json_outline(body: str, masking: Masking, truncate_to: int | None = None) -> Any:
    """Masked outline of a JSON document (key order and value types kept)."""
    value = json.loads(body)
    if truncate_to is not None and isinstance(value, dict):
        for key, items in value.items():
            if isinstance(items, list):
                value[key] = items[:truncate_to]
    return _json_outline(value, masking, "$", "")


def count_items(body: str, is_json: bool) -> int | dict[str, int]:
    """Number of list items in a (possibly truncated) recorded list body."""
    if is_json:
        value = json.loads(body)
        return max((len(v) for v in value.values() if isinstance(v, list)), default=0)
    root = etree.fromstring(body.encode("utf-8"))
    return {child.tag: len(child) for child in root}


def decode_binary(capture: dict[str, Any]) -> bytes | None:
    """The recorded binary body when the capture holds it."""
    binary = capture.get("body_binary") or {}
    encoded = binary.get("base64")
    return base64.b64decode(encoded) if encoded else None
