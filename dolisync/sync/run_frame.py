"""The frame every client-driven sync run shares (catalog and Dolibarr → shop).

Contract of :func:`recorded_run` (an async context manager yielding ``(prestashop, dolibarr)``):

* a client not given is built from the settings, opened, and closed at the end; a given one is
  left open (the caller owns it);
* a :class:`~dolisync.mapping.errors.MappingError` or :class:`~dolisync.clients.errors.RemoteError`
  escaping the block means the whole run could not go on (setup, auth, shop id): it becomes
  ``summary.error`` and is not raised;
* at the end the summary gets the reads and writes each remote received during the block and
  the run's duration, and — unless ``kind`` is None (dry runs, nothing to do) — the run is
  stored as a run of ``kind`` (:meth:`~dolisync.sync.plan.SyncSummary.record`).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from dolisync.clients.errors import RemoteError
from dolisync.clients.prestashop import PrestaShopClient
from dolisync.mapping.errors import MappingError
from dolisync.store import Store
from dolisync.sync.plan import SyncSummary
from dolisync.sync.runs import RunRecorder

__all__ = ["recorded_run"]


@asynccontextmanager
async def recorded_run(summary: SyncSummary, settings: Any, shop: Any, store: Store, kind: str | None, *,
                       prestashop: PrestaShopClient | None, dolibarr: Any) -> AsyncIterator[tuple[PrestaShopClient, Any]]:
    """See module docstring."""
    started = time.monotonic()
    own_ps, own_doli = prestashop is None, dolibarr is None
    if prestashop is None:
        prestashop = PrestaShopClient.from_settings(shop)
        await prestashop.open()
    if dolibarr is None:
        from dolisync.clients.dolibarr import DolibarrClient

        dolibarr = DolibarrClient.from_settings(settings.dolibarr)
        await dolibarr.open()
    ps_before, doli_before = prestashop.stats(), dolibarr.stats()
    run = None if kind is None else RunRecorder(store).start(shop.name, kind)
    try:
        yield prestashop, dolibarr
    except (MappingError, RemoteError) as error:  # the whole run could not go on (setup, auth, shop id)
        summary.error = error.user_message() if isinstance(error, MappingError) else str(error)
    finally:
        summary.take_request_counts("prestashop", ps_before, prestashop.stats())
        summary.take_request_counts("dolibarr", doli_before, dolibarr.stats())
        summary.duration_seconds = time.monotonic() - started
        if own_ps:
            await prestashop.aclose()
        if own_doli:
            await dolibarr.aclose()
        if run is not None:
            summary.record(run)
