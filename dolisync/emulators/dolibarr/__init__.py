"""Emulated Dolibarr REST API (``/api/index.php/...``) over an in-memory state.

``create_app(DolibarrState.from_setup(setup))`` gives an ASGI app; see ``core`` for how area
modules register their routes and ``state`` for the data model.
"""

from __future__ import annotations

from dolisync.emulators.dolibarr.app import create_app
from dolisync.emulators.dolibarr.state import DolibarrState

__all__ = ["DolibarrState", "create_app"]
