"""The durable state of dolisync: bindings, cursors, inbox, failures, runs, reconciliation,
conflicts. SQLite (WAL) by default, PostgreSQL for scale-out; Alembic migrations applied on
open. Use :func:`open_store` and close the returned :class:`Store`.

The binder, cursor, failure queue and run recorder that work on it live in
:mod:`dolisync.sync` (``binder``, ``cursor``, ``failures``, ``runs``); the webhook inbox and
the reconciliation/conflict journal are :class:`Inbox` and :class:`Journal` here.
"""

from __future__ import annotations

from dolisync.store.engine import StoreOpenError, open_store
from dolisync.store.inbox import Inbox, InboxEvent
from dolisync.store.journal import Conflict, Journal, Reconciliation
from dolisync.store.store import Store, utcnow

__all__ = [
    "Conflict",
    "Inbox",
    "InboxEvent",
    "Journal",
    "Reconciliation",
    "Store",
    "StoreOpenError",
    "open_store",
    "utcnow",
]
