"""Replay recorded Dolibarr samples against an emulator and compare the answers.

Reusable by every area: :func:`run_sequence` replays sample names in order on one client
(applying ``prepare`` hooks), :func:`compare` reports differences between a recorded and an
actual response: same status, same keys and nesting, same value types (string / number /
bool / null / list / object), same values except ids, dates and per-instance values
(:data:`VOLATILE_KEYS`, plus per-sample extras).
"""

from __future__ import annotations

from tests.reference import REFERENCE as SHARED_REFERENCE

import json
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2 as httpx

SAMPLES_DIR = Path(os.environ.get("DOLISYNC_DOLIBARR_SAMPLES", str(SHARED_REFERENCE / "dolibarr" / "samples")))
UNSUPPORTED_FILE = Path(__file__).resolve().parents[1] / "UNSUPPORTED.md"

#: Keys whose values are ids, dates or otherwise per instance: type-checked loosely, never compared.
VOLATILE_KEYS = frozenset({
    "id", "rowid", "date_creation", "date_modification", "tms", "datem", "datec", "date", "date_c", "date_m",
    "date_sync", "timestamp_now_utc", "date_tz", "source", "fk_product_child", "fk_product_parent",
    "fk_prod_combination", "fk_prod_attr", "fk_prod_attr_val", "fk_product_attribute", "product_id",
    "warehouse_id", "src_object_id", "ref", "fk_user_author", "user_creation_id", "user_modification_id",
    "fk_parent", "0", "1",
})


@dataclass(slots=True)
class Sample:
    """One recorded call."""

    name: str
    data: dict[str, Any]

    @property
    def method(self) -> str:
        return str(self.data.get("method") or "GET")

    @property
    def path(self) -> str:
        return str(self.data["path"]).removeprefix("/api/index.php")

    @property
    def status(self) -> int:
        return int(self.data["status"])

    @property
    def is_call(self) -> bool:
        return self.data.get("method") is not None and self.data.get("status") is not None


@dataclass(slots=True)
class Outcome:
    """What the emulator answered for a sample."""

    status: int
    content_type: str
    body: Any
    differences: list[str] = field(default_factory=list)


def load_sample(name_or_path: str | Path) -> Sample:
    """Load ``samples/<name>.json`` (or an explicit path)."""
    path = Path(name_or_path)
    if not path.suffix:
        path = SAMPLES_DIR / f"{name_or_path}.json"
    return Sample(path.stem, json.loads(path.read_text(encoding="utf-8")))


def unsupported_samples(path: Path = UNSUPPORTED_FILE) -> dict[str, str]:
    """Names listed in ``UNSUPPORTED.md`` as ``- `name`: reason``."""
    if not path.exists():
        return {}
    found: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^\s*[-*]\s+`([A-Za-z0-9_]+)`\s*[:\-—]?\s*(.*)$", line)
        if match:
            found[match.group(1)] = match.group(2)
    return found


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    return "object"


def compare(expected: Any, actual: Any, *, ignore: Iterable[str] = (), subset: bool = False,
            path: str = "$") -> list[str]:
    """Differences between a recorded value and the emulator's (empty list = equivalent).

    ``subset`` is for samples the recorder trimmed to a few keys: extra keys are allowed at the
    top level and a recorded ``null`` may be absent.
    """
    skip = VOLATILE_KEYS | frozenset(ignore)
    if subset and isinstance(expected, dict) and isinstance(actual, dict):
        trimmed = {k: v for k, v in expected.items() if not (v is None and k not in actual)}
        return _compare(trimmed, {k: actual[k] for k in trimmed if k in actual}, skip, path)
    return _compare(expected, actual, skip, path)


def _compare(expected: Any, actual: Any, skip: frozenset[str], path: str) -> list[str]:
    key = path.rsplit(".", 1)[-1]
    if key in skip:
        return []
    kind_e, kind_a = _kind(expected), _kind(actual)
    if kind_e != kind_a:
        # PHP prints an empty associative array as [] -- an empty list and an empty object are the same thing.
        if {kind_e, kind_a} == {"list", "object"} and not expected and not actual:
            return []
        return [f"{path}: type {kind_e} ({_short(expected)}) != {kind_a} ({_short(actual)})"]
    if kind_e == "object":
        out: list[str] = []
        missing = [k for k in expected if k not in actual]
        extra = [k for k in actual if k not in expected]
        if missing:
            out.append(f"{path}: missing keys {missing[:8]}")
        if extra:
            out.append(f"{path}: extra keys {extra[:8]}")
        for k in expected:
            if k in actual:
                out.extend(_compare(expected[k], actual[k], skip, f"{path}.{k}"))
        return out
    if kind_e == "list":
        if len(expected) != len(actual):
            return [f"{path}: list length {len(expected)} != {len(actual)}"]
        out = []
        for index, (e, a) in enumerate(zip(expected, actual)):
            out.extend(_compare(e, a, skip, f"{path}[{index}]"))
        return out
    if kind_e == "number" and float(expected) == float(actual):
        return []
    if expected != actual:
        return [f"{path}: {_short(expected)} != {_short(actual)}"]
    return []


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) < 80 else text[:77] + "..."


async def replay(client: httpx.AsyncClient, sample: Sample, *, key: str | None) -> Outcome:
    """Send one sample's request (auth ``key``; ``None`` = no key) and decode the answer."""
    headers = {"DOLAPIKEY": key} if key else {}
    content: bytes | None = None
    if "request_raw" in sample.data:
        content = str(sample.data["request_raw"]).encode("utf-8")
    elif sample.data.get("request") is not None:
        content = json.dumps(sample.data["request"]).encode("utf-8")
    if content is not None:
        headers["Content-Type"] = "application/json"
    query = {k: str(v) for k, v in (sample.data.get("query") or {}).items()}
    response = await client.request(sample.method, sample.path, params=query, content=content, headers=headers)
    content_type = response.headers.get("content-type", "")
    body: Any
    if "json" in content_type and response.content:
        body = response.json()
    else:
        body = response.text
    return Outcome(response.status_code, content_type, body)


def check(sample: Sample, outcome: Outcome, *, ignore: Iterable[str] = (), subset: bool = False) -> list[str]:
    """Status, content type family and body comparison of one sample."""
    problems: list[str] = []
    if outcome.status != sample.status:
        problems.append(f"status {sample.status} != {outcome.status}: {_short(outcome.body)}")
        return problems
    recorded_type = str(sample.data.get("response_content_type") or "")
    if recorded_type and recorded_type.split(";")[0] != outcome.content_type.split(";")[0] and sample.status != 304:
        problems.append(f"content type {recorded_type} != {outcome.content_type}")
    expected = sample.data.get("response")
    if isinstance(expected, str) and expected.startswith("Access refused"):
        if not isinstance(outcome.body, str) or not outcome.body.startswith("Access refused"):
            problems.append("WAF body differs")
        return problems
    problems.extend(compare(expected, outcome.body, ignore=ignore, subset=subset))
    return problems


async def run_sequence(client: httpx.AsyncClient, names: Iterable[str], *, key_for: Callable[[str | None], str | None],
                       prepare: Mapping[str, Callable[[Any], None]] | None = None, state: Any = None,
                       ignore: Mapping[str, Iterable[str]] | None = None,
                       subset: Iterable[str] = ()) -> dict[str, tuple[Sample, Outcome]]:
    """Replay ``names`` in order; returns ``{name: (sample, outcome)}`` with differences filled in."""
    results: dict[str, tuple[Sample, Outcome]] = {}
    for name in names:
        sample = load_sample(name)
        if prepare and name in prepare:
            prepare[name](state)
        outcome = await replay(client, sample, key=key_for(sample.data.get("auth")))
        outcome.differences = check(sample, outcome, ignore=(ignore or {}).get(name, ()), subset=name in set(subset))
        results[name] = (sample, outcome)
    return results
