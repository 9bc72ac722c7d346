"""Everything one Dolibarr → PrestaShop run of one shop needs, in one object.

Contract:

* :class:`ReverseRun` wraps a catalog :class:`~dolisync.sync.flows.context.FlowContext` (so
  per-item errors are parked exactly like the catalog flows park theirs: ``guard``/``each``)
  and adds what only this direction needs: the PrestaShop client for writes, the per-shop
  options, the ownership table, the conflict journal and the *reverse state* bindings.
* Reverse state (entities ``erp_<flow>``): per item, ``read_hash`` is the hash of the value
  Dolibarr had when we last looked, ``written_hash`` the hash of the value we last wrote to (or
  found in) the shop. Stored write-behind, in batches (:meth:`ReverseRun.flush`). Bindings of the catalog (``product``, ``combination``, ``category``...)
  are the same rows the shop → ERP flows use: read through :attr:`ReverseRun.catalog`.
* :meth:`ReverseRun.shop_write` is the one door for shop writes: in a dry run it records the
  write in the summary's plan and sends nothing.
* :meth:`ReverseRun.decide` is the ownership rule, the same for every field group (see it).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from dolisync.clients.prestashop import PrestaShopClient
from dolisync.mapping.reverse import ReverseOptions
from dolisync.store import Journal, Store, utcnow
from dolisync.sync.binder import Binder, Binding, content_hash
from dolisync.sync.flows.context import FlowContext
from dolisync.sync.plan import PlannedWrite

__all__ = ["Decision", "ReverseRun", "owner_of_group"]

_FLUSH_EVERY = 200

_GROUP_OWNER_KEY = {"price": "price", "stock": "stock", "active": "active", "descriptions": "descriptions",
                    "images": "images"}


def owner_of_group(ownership: dict[str, str], group: str) -> str:
    """Master side of ``group``; product data (reference, weight, barcodes) follows Dolibarr."""
    key = _GROUP_OWNER_KEY.get(group)
    return ownership.get(key, "dolibarr") if key else "dolibarr"


@dataclass(frozen=True, slots=True)
class Decision:
    """What to do with one field group of one item."""

    write: bool
    conflict: bool = False


@dataclass(slots=True)
class ReverseRun:
    """One shop's Dolibarr → PrestaShop run (see module docstring)."""

    flow: FlowContext
    prestashop: PrestaShopClient
    dolibarr: Any
    store: Store
    shop: Any
    settings: Any
    options: ReverseOptions
    ownership: dict[str, str]
    dry_run: bool = False
    _state: dict[str, dict[str, Binding]] = field(default_factory=dict)
    _pending: dict[str, dict[str, tuple[str, str, str]]] = field(default_factory=dict)

    @property
    def connection(self) -> str:
        """The shop name (binding namespace)."""
        return str(self.shop.name)

    @property
    def catalog(self) -> Any:
        """The catalog's binding cache (``product``, ``combination``, ``category``...)."""
        return self.flow.bindings

    def binder(self) -> Binder:
        """The binder of reverse-state rows (source side: Dolibarr)."""
        return Binder(self.store, self.connection, source_side="dolibarr")

    # -- reverse state ---------------------------------------------------------------------
    def state(self, entity: str) -> dict[str, Binding]:
        """Reverse-state bindings of ``entity`` (loaded once per run)."""
        if entity not in self._state:
            self._state[entity] = dict(self.binder().all(entity))
        return self._state[entity]

    def remember(self, entity: str, source_id: str, target_id: object, *, read: Any, written: Any) -> None:
        """Note the hashes of the Dolibarr value seen and the shop value written/found.

        Visible at once to the run; stored in batches (:meth:`flush`), like the catalog's
        binding cache: a state lost in a crash only costs a comparison on the next run.
        """
        if self.dry_run:
            return
        read_hash, written_hash = content_hash(read), content_hash(written)
        current = self.state(entity).get(source_id)
        if current is not None and (current.read_hash, current.written_hash, current.target_id) == (
                read_hash, written_hash, str(target_id)):
            return
        self._state[entity][source_id] = Binding(self.connection, entity, "dolibarr", source_id, str(target_id), "",
                                                 written_hash, read_hash, utcnow())
        pending = self._pending.setdefault(entity, {})
        pending[source_id] = (str(target_id), written_hash, read_hash)
        if len(pending) >= _FLUSH_EVERY:
            self._flush(entity)

    def forget(self, entity: str, source_id: str) -> None:
        """Drop the reverse state of one item (its object is gone on both sides)."""
        if self.dry_run:
            return
        self.state(entity).pop(source_id, None)
        self._pending.get(entity, {}).pop(source_id, None)
        self.binder().unbind(entity, source_id)

    def flush(self) -> None:
        """Store every pending reverse state (and the catalog bindings this run made)."""
        for entity in list(self._pending):
            self._flush(entity)
        self.flow.bindings.flush()

    def _flush(self, entity: str) -> None:
        pending = self._pending.pop(entity, {})
        if pending:
            self.binder().bind_many(entity, [(sid, target, written, read)
                                             for sid, (target, written, read) in pending.items()])

    def decide(self, entity: str, source_id: str, group: str, *, desired: Any, current: Any,
               creating: bool = False) -> Decision:
        """The ownership rule for one field group whose shop value differs from Dolibarr's.

        * ``prestashop`` master: never written (except when the product is being created);
        * ``shared``: written only when Dolibarr's value changed since we last saw it (a shop
          edit is left alone: the shop → ERP flow carries it to Dolibarr);
        * ``dolibarr`` master: always written; when the shop value is not the one we last
          wrote, the shop was edited: a conflict is recorded.
        """
        if creating:
            return Decision(write=True)
        owner = owner_of_group(self.ownership, group)
        previous = self.state(entity).get(source_id)
        if owner == "prestashop":
            return Decision(write=False)
        if owner == "shared":
            changed = previous is None or previous.read_hash != content_hash(desired)
            return Decision(write=changed)
        edited = previous is not None and previous.written_hash not in (None, content_hash(current))
        return Decision(write=True, conflict=edited)

    def conflict(self, entity: str, object_id: str, group: str, old: Any, new: Any) -> None:
        """Record that a shop edit of a Dolibarr-owned field was overwritten."""
        if self.dry_run:
            return
        Journal(self.store).record_conflict(self.connection, entity, object_id, group, _jsonable(old),
                                            _jsonable(new))
        self.flow.summary.counts(entity).add("warnings")

    # -- writes -----------------------------------------------------------------------------
    async def shop_write(self, method: str, resource: str, payload: dict[str, Any], *, entity: str,
                         source_id: str, send: Callable[[], Awaitable[Any]]) -> Any:
        """Send one shop write (or plan it in a dry run)."""
        if self.dry_run:
            summary = ", ".join(f"{k}={str(v)[:40]}" for k, v in list(payload.items())[:6])
            self.flow.summary.plan.add(PlannedWrite("prestashop", method, resource, entity, source_id, summary))
            return None
        return await send()


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, bool | int | str) or value is None:
        return value
    return str(value)
