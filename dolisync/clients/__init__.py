"""Thin async clients of the two remotes, and the typed records they return.

* :class:`~dolisync.clients.prestashop.PrestaShopClient` — PrestaShop 8 Webservice.
* :class:`~dolisync.clients.dolibarr.DolibarrClient` — Dolibarr REST API.
* :mod:`dolisync.clients.errors` — ``Transient`` / ``Permanent`` / ``RemoteRejected`` /
  ``NotFound`` / ``Unauthorized`` / ``NotModified`` / ``MalformedResponse``.
* :mod:`dolisync.clients.records` — typed records of both sides (Decimal money).
* :mod:`dolisync.clients.http` — shared plumbing (limits, retries, ``RequestStats``).
"""

from __future__ import annotations

from dolisync.clients.dolibarr import DolibarrClient, build_sqlfilters
from dolisync.clients.errors import (
    MalformedResponse,
    NotFound,
    NotModified,
    Permanent,
    RemoteError,
    RemoteRejected,
    Transient,
    Unauthorized,
)
from dolisync.clients.http import RemoteLimits, RequestStats
from dolisync.clients.prestashop import PrestaShopClient

__all__ = [
    "DolibarrClient",
    "PrestaShopClient",
    "build_sqlfilters",
    "RemoteLimits",
    "RequestStats",
    "RemoteError",
    "Transient",
    "Permanent",
    "RemoteRejected",
    "NotFound",
    "Unauthorized",
    "NotModified",
    "MalformedResponse",
]
