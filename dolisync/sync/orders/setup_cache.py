"""The setup facts of recent order runs, kept a short while in one process.

The service syncs each order in a job of its own; without this, every job would read the
shop's reference data (currencies, carriers, order states, taxes, countries, languages) and
Dolibarr's setup (company, VAT dictionary, bank accounts, warehouses, payment types,
currencies, countries) again — a dozen requests for one order.

Contract of :class:`SetupCache`:

* :meth:`~SetupCache.get` answers what :meth:`~SetupCache.put` stored for a shop, or ``None``
  once it is older than ``ttl_s`` seconds (or was never stored, or was cleared);
* :meth:`~SetupCache.clear` forgets one shop (or all): the order flows clear it after a run
  that parked or failed something, so the fix a person makes next is read, not a stale copy;
* it holds the objects themselves: callers must not mutate them (no order flow does).

Retries never use it (their whole point is to see a fix); neither does the CLI (one run, one
read). One instance per process: scale-out workers each keep their own.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from dolisync.sync.orders.erp_setup import ErpSetup
from dolisync.sync.orders.shop_reader import ShopReference

__all__ = ["SetupCache", "SetupFacts"]


@dataclass(frozen=True, slots=True)
class SetupFacts:
    """What an order run reads before its first order."""

    reference: ShopReference
    erp: ErpSetup


@dataclass
class SetupCache:
    """Setup facts per shop name, for ``ttl_s`` seconds (see module docstring)."""

    ttl_s: float = 60.0
    clock: Callable[[], float] = time.monotonic
    _entries: dict[str, tuple[float, SetupFacts]] = field(default_factory=dict)

    def get(self, shop: str) -> SetupFacts | None:
        """The facts stored for ``shop`` if still fresh."""
        entry = self._entries.get(shop)
        if entry is None:
            return None
        stored_at, facts = entry
        if self.clock() - stored_at > self.ttl_s:
            del self._entries[shop]
            return None
        return facts

    def put(self, shop: str, facts: SetupFacts) -> None:
        """Keep ``facts`` for ``shop`` from now on."""
        self._entries[shop] = (self.clock(), facts)

    def clear(self, shop: str | None = None) -> None:
        """Forget ``shop`` (every shop when None)."""
        if shop is None:
            self._entries.clear()
        else:
            self._entries.pop(shop, None)
