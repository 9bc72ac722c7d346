"""The durable state of dolisync: bindings, cursors, inbox, failures, runs, reconciliation,
conflicts. SQLite (WAL) by default, PostgreSQL for scale-out; Alembic migrations applied on
open. Use :func:`open_store` and close the returned :class:`Store`.
"""

from __future__ import annotations

from dolisync.store.engine import StoreOpenError, open_store
from dolisync.store.store import Store, utcnow

__all__ = ["open_store", "Store", "StoreOpenError", "utcnow"]
