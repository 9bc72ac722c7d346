"""Housekeeping of the state store while the service runs: processed inbox events are purged.

Contract:

* :func:`purge_inbox` deletes the inbox events processed more than ``retention`` before
  ``now`` and returns how many. Unprocessed events are never touched (they are work), and an
  event processed within the retention stays (a trace of what arrived, for an operator). A
  redelivered webhook of a purged event is stored again, which is harmless: an event is a
  hint to re-read one object.
* :func:`purge_loop` runs :func:`purge_inbox` at start and then every ``every_s`` seconds
  until cancelled; an error is logged and the next round tries again. Both executors run it:
  the asyncio one beside its sweep, the procrastinate one in its leader (one process at a
  time purges).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta

from dolisync.logs import get_logger
from dolisync.store import Store, utcnow
from dolisync.store.inbox import Inbox

__all__ = ["DEFAULT_PURGE_EVERY_S", "purge_inbox", "purge_loop"]

log = get_logger("dolisync.runtime.housekeeping")

DEFAULT_PURGE_EVERY_S = 3600.0


def purge_inbox(store: Store, retention: timedelta, *, now: datetime | None = None) -> int:
    """Delete the events processed before ``now - retention``; return how many."""
    if retention <= timedelta(0):
        raise ValueError("the inbox retention must be positive")
    return Inbox(store).purge_processed((now or utcnow()) - retention)


async def purge_loop(
    store: Store,
    retention: timedelta,
    *,
    every_s: float = DEFAULT_PURGE_EVERY_S,
    clock: Callable[[], datetime] | None = None,
) -> None:
    """Purge now, then every ``every_s`` seconds (see module docstring)."""
    while True:
        try:
            now = clock() if clock is not None else None
            purged = await asyncio.to_thread(purge_inbox, store, retention, now=now)
            if purged:
                log.info("inbox purged", events=purged, retention_days=round(retention / timedelta(days=1), 3))
        except Exception as exc:  # the store may be briefly unavailable; try next time
            log.warning("inbox purge failed", error_class=type(exc).__name__, error=str(exc))
        await asyncio.sleep(every_s)

