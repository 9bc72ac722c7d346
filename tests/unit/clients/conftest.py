"""Fixtures of the client tests: the recorded reference bodies and the async backend."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest


def reference_root() -> Path:
    """``shared/reference``: beside the repository (CI) or at /work/shared (dev machine)."""
    here = Path(__file__).resolve()
    for candidate in (here.parents[4] / "shared" / "reference", Path("/work/shared/reference")):
        if candidate.is_dir():
            return candidate
    raise RuntimeError("shared/reference not found beside the repository")


def ps_capture(name: str) -> dict[str, Any]:
    """One real PrestaShop exchange (``prestashop/real/<name>.json``)."""
    return json.loads((reference_root() / "prestashop" / "real" / f"{name}.json").read_text())


def ps_body(name: str) -> Any:
    """The JSON body of a real PrestaShop capture."""
    return json.loads(ps_capture(name)["body"])


def doli_sample(name: str) -> dict[str, Any]:
    """One recorded Dolibarr exchange (``dolibarr/samples/<name>.json``)."""
    return json.loads((reference_root() / "dolibarr" / "samples" / f"{name}.json").read_text())


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
