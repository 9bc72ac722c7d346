"""Key order and default values of the big objects Dolibarr prints (``cat_templates.json``).

The JSON file holds one recorded object per kind (product, category, warehouse, stock movement,
attribute, attribute value, document entry, company, extrafield, module status). Serializers
start from :func:`template` and override every field they model, so answers carry the same
~160 keys, in the same order, as the real API.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

__all__ = ["template"]


@lru_cache(maxsize=1)
def _templates() -> dict[str, dict[str, Any]]:
    text = resources.files("dolisync.emulators.dolibarr").joinpath("cat_templates.json").read_text("utf-8")
    return json.loads(text)


def template(kind: str) -> dict[str, Any]:
    """A fresh shallow copy of the template ``kind``; never mutate nested values in place."""
    return dict(_templates()[kind])
