"""Fixtures of the client tests: the recorded reference bodies and the async backend."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


from tests.reference import find_reference


def reference_root() -> Path:
    """``shared/reference`` (see :mod:`tests.reference`)."""
    return find_reference()


def ps_capture(name: str) -> dict[str, Any]:
    """One real PrestaShop exchange (``prestashop/real/<name>.json``)."""
    return json.loads((reference_root() / "prestashop" / "real" / f"{name}.json").read_text())


def ps_body(name: str) -> Any:
    """The JSON body of a real PrestaShop capture."""
    return json.loads(ps_capture(name)["body"])


def doli_sample(name: str) -> dict[str, Any]:
    """One recorded Dolibarr exchange (``dolibarr/samples/<name>.json``)."""
    return json.loads((reference_root() / "dolibarr" / "samples" / f"{name}.json").read_text())

