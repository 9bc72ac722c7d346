"""One order run of one shop: clients, bindings, failures, journal, counters, locks.

Contract:

* :class:`OrderRun` is built by :func:`dolisync.sync.orders.api.sync_orders` (or a test) and
  shared by the customer, document and order steps. It owns no connection: the caller opens
  and closes the clients.
* :meth:`OrderRun.find_existing` is the crash-healing lookup made before any create: Dolibarr
  objects carrying our external key (``ref_ext``). Large runs read one listing per resource
  (:class:`~dolisync.sync.flows.lookup.ErpIndex`); small runs (``--id``) ask per object.
  :meth:`OrderRun.remember` adds what the run created.
* :meth:`OrderRun.park` stores an item's failure (what to fix) in the failure queue and the
  summary; :meth:`OrderRun.resolve` forgets it once the item synced. Nothing is stored in a
  dry run.
* :meth:`OrderRun.lock` gives a named :class:`asyncio.Lock` (one creation at a time per
  customer e-mail, one validation at a time: Dolibarr's numbering race).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dolisync.clients.dolibarr import DolibarrClient, build_sqlfilters
from dolisync.clients.errors import Transient
from dolisync.clients.prestashop import PrestaShopClient
from dolisync.config import Settings, ShopSettings
from dolisync.store import Store
from dolisync.store.journal import Journal
from dolisync.sync.binder import Binder, external_key
from dolisync.sync.failures import FailureKey, FailureQueue, ItemError
from dolisync.sync.flows.adapters import DolibarrErp
from dolisync.sync.flows.lookup import ErpIndex, pick_one
from dolisync.sync.orders.bindings import RunBindings
from dolisync.sync.orders.erp_setup import ErpSetup
from dolisync.sync.orders.rules import StateRules
from dolisync.sync.orders.shop_reader import ShopReader, ShopReference
from dolisync.sync.plan import ParkedItem, PlannedWrite, SyncSummary

__all__ = ["OrderRun", "OrderSyncOptions", "ProgressCallback", "BULK_LOOKUP_FROM"]

ProgressCallback = Callable[[str, int, int], None]
BULK_LOOKUP_FROM = 20
_RESOURCES = {"customer": "thirdparties", "guest": "thirdparties", "address": "contacts", "order": "orders",
              "invoice": "invoices", "credit_note": "invoices"}


IN_DOUBT_UNTIL = "in_doubt_until"
"""Failure payload key: until when (ISO 8601, UTC) an order waits for a create in doubt."""


def in_doubt_until(payload: Any) -> datetime | None:
    """When the order of a failure with this payload may be tried again (None: no create in doubt)."""
    value = payload.get(IN_DOUBT_UNTIL) if isinstance(payload, dict) else None
    try:
        return None if value is None else datetime.fromisoformat(str(value))
    except ValueError:
        return None


class CreateInDoubt(Transient):
    """A create whose answer was lost (timeout, dropped connection): Dolibarr may have committed it,
    or may still commit it — PHP goes on after the client gives up. The order waits
    ``wait_s`` (``[dolibarr] in_doubt_s``) before it is looked for by its external key again, so a
    late commit is found instead of duplicated."""

    def __init__(self, cause: Transient, resource: str, wait_s: float) -> None:
        super().__init__(cause.remote, f"{cause.message}; the POST {resource} may still be applied by Dolibarr: "
                         f"checked again in {wait_s:.0f}s", where=cause.where)
        self.wait_s = wait_s


@dataclass(frozen=True, slots=True)
class OrderSyncOptions:
    """Order-flow switches (``from_shop`` takes them from the ``[[shop]]`` configuration).

    ``guests``: ``"per_email"`` (a guest checkout becomes — or adopts — the third party of its
    e-mail) or ``"generic"`` (every guest order goes to one "Web customer" third party).
    ``match_by_email``: adopt an existing third party with the customer's e-mail (one match);
    two or more park the customer for review.
    """

    guests: str = "per_email"
    match_by_email: bool = True
    concurrency: int = 8
    generic_customer_name: str = "Web customer"

    @classmethod
    def from_shop(cls, shop: Any) -> OrderSyncOptions:
        """The options a ``[[shop]]`` sets (``guests``, ``match_customers_by_email``); defaults otherwise."""
        return cls(guests=getattr(shop, "guests", "per_email"),
                   match_by_email=getattr(shop, "match_customers_by_email", True))


@dataclass(slots=True)
class OrderRun:
    """Everything one order run of one shop shares (see module docstring)."""

    settings: Settings
    shop: ShopSettings
    store: Store
    prestashop: PrestaShopClient
    dolibarr: DolibarrClient
    reader: ShopReader
    reference: ShopReference
    erp: ErpSetup
    rules: StateRules
    summary: SyncSummary
    options: OrderSyncOptions = field(default_factory=OrderSyncOptions)
    dry_run: bool = False
    bulk_lookup: bool = True
    progress: ProgressCallback | None = None
    binder: Binder = field(init=False)
    bindings: RunBindings = field(init=False)
    failures: FailureQueue = field(init=False)
    journal: Journal = field(init=False)
    _locks: dict[str, asyncio.Lock] = field(default_factory=dict, init=False)
    _indexes: dict[str, ErpIndex] = field(default_factory=dict, init=False)
    _done: dict[str, int] = field(default_factory=dict, init=False)
    extra: dict[str, Any] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self.binder = Binder(self.store, self.shop.name)
        self.bindings = RunBindings(self.binder, preload=self.bulk_lookup)
        self.failures = FailureQueue(self.store)
        self.journal = Journal(self.store)

    @property
    def connection(self) -> str:
        """The shop name (connection of bindings, failures, journal)."""
        return self.shop.name

    def key(self, entity: str, source_id: object) -> str:
        """Our external key for ``entity`` ``source_id`` (stamped as ``ref_ext``)."""
        return external_key(self.connection, entity, str(source_id))

    def lock(self, name: str) -> asyncio.Lock:
        """A named lock shared by the run."""
        if name not in self._locks:
            self._locks[name] = asyncio.Lock()
        return self._locks[name]

    # -- crash-healing lookup -----------------------------------------------------------------
    def _index(self, resource: str) -> ErpIndex:
        if resource not in self._indexes:
            prefix = external_key(self.connection, "x", "0")[: -len("x-0")]
            self._indexes[resource] = ErpIndex(DolibarrErp(self.dolibarr), resource, key_prefix=prefix)
        return self._indexes[resource]

    async def find_existing(self, entity: str, source_id: object) -> int | None:
        """The Dolibarr object carrying our key for ``entity`` ``source_id``; ``AmbiguousMatch``
        when several do (the item is parked, nothing is created)."""
        resource = _RESOURCES[entity]
        key = self.key(entity, source_id)
        if self.bulk_lookup:
            candidates = await self._index(resource).by_key(key)
        else:
            filters = build_sqlfilters(("t.ref_ext", "=", key))
            candidates = [str(item.get("id")) async for item in self.dolibarr.list_raw(resource, sqlfilters=filters)]
        found = pick_one(entity, source_id, candidates, f"external key {key}")
        return None if found is None else int(found)

    async def create(self, entity: str, source_id: object, resource: str, body: dict[str, Any]) -> int:
        """``POST`` ``body`` to ``resource`` for ``entity`` ``source_id``; the new object is remembered.

        A create that fails in any way may still have been applied (an answer lost after Dolibarr
        committed, the process dying): the lookup index of its kind is then dropped, so the next
        lookup (another order of the run with the same customer or address) lists Dolibarr again
        instead of trusting an index that misses the object — never a duplicate.
        """
        try:
            new_id = await self.dolibarr.create(resource, body)
        except Transient as error:
            self._indexes.pop(_RESOURCES[entity], None)
            if error.not_applied or error.status not in (None, 502, 504):  # Dolibarr answered: rolled back
                raise
            raise CreateInDoubt(error, resource, self.settings.dolibarr.in_doubt_s) from error
        except BaseException:
            self._indexes.pop(_RESOURCES[entity], None)
            raise
        self.remember(entity, source_id, new_id)
        return new_id

    def remember(self, entity: str, source_id: object, target_id: int) -> None:
        """A Dolibarr object the run created (keeps the bulk index true)."""
        if self.bulk_lookup:
            self._index(_RESOURCES[entity]).add(target_id, key=self.key(entity, source_id))

    # -- outcomes -------------------------------------------------------------------------------
    def count(self, entity: str, outcome: str) -> None:
        """Count an item outcome and report progress."""
        self.summary.counts(entity).add(outcome)
        done = self._done.get(entity, 0) + 1
        self._done[entity] = done
        if self.progress is not None:
            self.progress(entity, done, -1)

    def park(self, entity: str, source_id: object, error: BaseException, message: str, *,
             failed: bool = False, not_before: datetime | None = None) -> None:
        """Record that an item could not sync, with what to fix.

        ``failed=False`` (bad input, setup, review: a person must act) parks the item at once —
        no automatic retries; it comes back with its next change or ``dolisync retry``.
        ``failed=True`` (a transient error, a bug) is retried on the failure queue's backoff, and not
        before ``not_before`` (a create in doubt: also noted in the failure's payload, which
        :meth:`in_doubt_until` reads)."""
        self.count(entity, "failed" if failed else "parked")
        self.summary.parked.append(ParkedItem(entity, str(source_id), type(error).__name__, message))
        if not self.dry_run:
            hint = getattr(error, "hint", None)
            self.failures.record(FailureKey(self.connection, entity, str(source_id)),
                                 ItemError(type(error).__name__, message, None if hint is None else str(hint)),
                                 None if not_before is None else {IN_DOUBT_UNTIL: not_before.isoformat()},
                                 park=not failed, not_before=not_before)

    def resolve(self, entity: str, source_id: object) -> None:
        """The item synced: forget a previous failure."""
        if not self.dry_run:
            self.failures.resolve(FailureKey(self.connection, entity, str(source_id)))

    def plan(self, method: str, path: str, entity: str, source_id: object, summary: str) -> None:
        """A write a dry run would have sent."""
        self.summary.plan.add(PlannedWrite("dolibarr", method, path, entity, str(source_id), summary))
