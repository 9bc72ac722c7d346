"""Where the recorded reference material lives: ``shared/reference`` beside the repository.

CI clones the repository next to a copy of ``shared/``; a developer's checkout sits at
``/work/main`` beside ``/work/shared``. ``DOLISYNC_REFERENCE`` overrides both. A missing
reference is an error, never a silent skip: the replay tests are the emulators' proof.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["REFERENCE", "find_reference"]


def find_reference() -> Path:
    """The ``shared/reference`` folder (see module docstring)."""
    override = os.environ.get("DOLISYNC_REFERENCE")
    candidates = [Path(override)] if override else []
    repo = Path(__file__).resolve().parents[1]
    candidates += [repo.parent / "shared" / "reference", Path("/work/shared/reference")]
    for candidate in candidates:
        if (candidate / "prestashop").is_dir() and (candidate / "dolibarr").is_dir():
            return candidate
    raise RuntimeError(f"shared/reference not found (looked in {', '.join(map(str, candidates))}); "
                       "set DOLISYNC_REFERENCE")


REFERENCE = find_reference()
