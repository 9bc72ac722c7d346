"""Everything a catalog flow of one shop needs, in one object.

Contract:

* :class:`BindingCache` preloads a whole entity's bindings in one query
  (:meth:`Binder.all`) and keeps them in memory for the run; ``bind`` is visible at once and
  written to the store in batches (write-behind, one transaction per batch). In a dry run
  nothing is written: bindings of planned creations live in memory only.
* :meth:`FlowContext.guard` runs one item (an ``Unauthorized`` error is not an item's
  problem: it stops the run): it returns the outcome ("created", "updated",
  "unchanged", "not_mappable"), counts it, and turns the exceptions of one bad item into a
  parked item with a message (mapping errors, remote rejections, ambiguous matches) or a
  failed one (transient errors that outlived the client's retries). Nothing else stops the run.
* Parked and failed items go to the failure sink (the state store's failure queue) so they
  are visible and retried; a later success resolves them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from dolisync.clients.errors import (
    MalformedResponse,
    Permanent,
    RemoteError,
    Transient,
    Unauthorized,
)
from dolisync.mapping.catalog import CatalogOptions
from dolisync.mapping.errors import MappingError
from dolisync.sync.binder import Binder, Binding, BindingConflict, external_key
from dolisync.sync.flows.ports import ErpPort, ShopPort
from dolisync.sync.plan import ParkedItem, SyncSummary

__all__ = [
    "AmbiguousMatch",
    "BindingCache",
    "FailureSink",
    "FlowContext",
    "ProgressCallback",
    "SyncSettings",
    "remote_hint",
]

T = TypeVar("T")
ProgressCallback = Callable[[str, int, int], None]
"""``(entity, done, total)``: called when a flow announces its total and as items finish
(``total`` is -1 when not known yet; it may grow when dependencies are synced first)."""


class AmbiguousMatch(Exception):
    """Several Dolibarr objects could be the copy of one source item: park it, create nothing."""

    def __init__(self, entity: str, source_id: str, message: str) -> None:
        self.entity = entity
        self.source_id = source_id
        super().__init__(message)


class FailureSink(Protocol):
    """Where parked/failed items go (adapter over the store's failure queue)."""

    def park(self, entity: str, source_id: str, error_class: str, message: str, *, retry: bool) -> None:
        """Record (or refresh) the failure of one item."""
        ...

    def resolve(self, entity: str, source_id: str) -> None:
        """The item synced: forget its failure, if any."""
        ...


@dataclass(frozen=True, slots=True)
class SyncSettings:
    """The per-shop knobs of the catalog flows that are not mapping options."""

    connection: str
    combinations: str = "variants"  # "variants" | "products"
    sync_stock: bool = True
    default_warehouse: str = ""
    concurrency: int = 8
    multiprices_enabled: bool = False


def remote_hint(error: RemoteError) -> str:
    """What to do about a remote refusal (known Dolibarr messages get a specific hint)."""
    text = str(error)
    if "barcode" in text.lower():
        return " — the barcode is already used by another Dolibarr product: fix the duplicate code"
    if "ErrorProductAlreadyExists" in text or "already exists" in text.lower():
        return (" — an object with this ref already exists in Dolibarr but was not created for this shop: "
                "set a ref_prefix for the shop, or matching = 'ref' to adopt existing products")
    if isinstance(error, Transient):
        return " — Dolibarr or PrestaShop failed temporarily; the item is retried on the next sync"
    if isinstance(error, MalformedResponse):
        return " — PrestaShop answered something that is not valid data for this item: check the object in the back office"
    return ""


class BindingCache:
    """In-memory view of the binder for one run, with write-behind (see module docstring).

    New bindings are visible at once to the run and written to the store in batches
    (:meth:`Binder.bind_many`, one transaction per batch): every ``flush_every`` bindings of
    an entity, after each flow and at the end of the run (:meth:`flush`). A binding lost in a
    crash is harmless: every flow finds its objects again by external key (or overwrites the
    same file, or reads the stock it would correct) before writing. In a dry run nothing is
    ever written.
    """

    def __init__(self, binder: Binder, *, dry_run: bool, flush_every: int = 200,
                 on_conflict: Callable[[BindingConflict], None] | None = None) -> None:
        self.binder = binder
        self.dry_run = dry_run
        self.flush_every = flush_every
        self.on_conflict = on_conflict
        self._entities: dict[str, dict[str, Binding | _PlannedBinding]] = {}
        self._pending: dict[str, dict[str, tuple[str, str | None]]] = {}
        self._reverse: dict[str, dict[str, str]] = {}

    def entity(self, entity: str) -> dict[str, Binding | _PlannedBinding]:
        """All bindings of ``entity`` keyed by source id (one query, then cached).

        Only the target id and the written hash of each are kept (what the flows read): a
        re-run of a large catalogue holds every binding of the shop at once.
        """
        if entity not in self._entities:
            self._entities[entity] = {sid: _PlannedBinding(b.target_id, b.written_hash)
                                      for sid, b in self.binder.all(entity).items()}
        return self._entities[entity]

    def target(self, entity: str, source_id: object) -> str | None:
        """Target id bound to ``source_id`` or None."""
        binding = self.entity(entity).get(str(source_id))
        return None if binding is None else binding.target_id

    def written_hash(self, entity: str, source_id: object) -> str | None:
        """Hash of what we last wrote for ``source_id`` (None if never, or unbound)."""
        binding = self.entity(entity).get(str(source_id))
        return None if binding is None else binding.written_hash

    def key(self, entity: str, source_id: object) -> str:
        """The external key stamped on the Dolibarr copy of ``source_id``."""
        return external_key(self.binder.connection, entity, str(source_id))

    def key_prefix(self, entity: str | None = None) -> str:
        """Common prefix of the external keys of ``entity`` (or of every entity) in this connection."""
        if entity is None:
            return external_key(self.binder.connection, "x", "0")[: -len("x-0")]
        return external_key(self.binder.connection, entity, "0")[:-1]

    def bind(self, entity: str, source_id: object, target_id: object, *, written_hash: str | None = None) -> None:
        """Record the binding (and, when given, the written hash); see the class docstring."""
        sid = str(source_id)
        previous = self.entity(entity).get(sid)
        keep = written_hash if written_hash is not None else (previous.written_hash if previous else None)
        self.entity(entity)[sid] = _PlannedBinding(str(target_id), keep)
        if entity in self._reverse:
            self._reverse[entity][str(target_id)] = sid
        if self.dry_run:
            return
        pending = self._pending.setdefault(entity, {})
        pending[sid] = (str(target_id), written_hash)
        if len(pending) >= self.flush_every:
            self._flush_entity(entity)

    def unbind(self, entity: str, source_id: object) -> None:
        """Forget a binding (its target vanished)."""
        sid = str(source_id)
        gone = self.entity(entity).pop(sid, None)
        if gone is not None and entity in self._reverse:
            self._reverse[entity].pop(gone.target_id, None)
        self._pending.get(entity, {}).pop(sid, None)
        if not self.dry_run:
            self.binder.unbind(entity, sid)

    def bound_targets(self, entity: str) -> set[str]:
        """Every target id bound for ``entity``."""
        return {binding.target_id for binding in self.entity(entity).values()}

    def source_of(self, entity: str, target_id: object) -> str | None:
        """The source id bound to ``target_id`` (reverse lookup), or None."""
        if entity not in self._reverse:
            self._reverse[entity] = {b.target_id: sid for sid, b in self.entity(entity).items()}
        return self._reverse[entity].get(str(target_id))

    def flush(self) -> None:
        """Write every pending binding to the store."""
        for entity in list(self._pending):
            self._flush_entity(entity)

    def _flush_entity(self, entity: str) -> None:
        pending = self._pending.pop(entity, {})
        items = [(sid, target, digest, None) for sid, (target, digest) in pending.items()]
        while items:
            try:
                self.binder.bind_many(entity, items)
                return
            except BindingConflict as conflict:  # bound up to the culprit; skip it, go on
                culprit = next(i for i, item in enumerate(items) if item[0] == conflict.source_id)
                self.entity(entity).pop(conflict.source_id, None)
                if self.on_conflict is not None:
                    self.on_conflict(conflict)
                items = items[culprit + 1:]


class _PlannedBinding:
    """A binding as a run keeps it: the target id and the written hash, nothing else.

    A hash in lowercase hex (what :func:`~dolisync.sync.binder.content_hash` gives) is held as
    its bytes (65 bytes instead of 113 for a SHA-256): a large catalogue's run holds one per
    object. ``written_hash`` gives back the same text.
    """

    __slots__ = ("_hash", "target_id")

    def __init__(self, target_id: str, written_hash: str | None) -> None:
        self.target_id = target_id
        self._hash: bytes | str | None = _packed(written_hash)

    @property
    def written_hash(self) -> str | None:
        """The hash of what was last written (None: never)."""
        return self._hash.hex() if isinstance(self._hash, bytes) else self._hash


def _packed(digest: str | None) -> bytes | str | None:
    """``digest`` as bytes when its hex text comes back exactly from them, else as it is."""
    if not digest or len(digest) % 2:
        return digest
    try:
        raw = bytes.fromhex(digest)
    except ValueError:
        return digest
    return raw if raw.hex() == digest else digest


@dataclass(slots=True)
class FlowContext:
    """One shop's catalog run: ports, options, bindings, counters (see module docstring)."""

    shop: ShopPort
    erp: ErpPort
    options: CatalogOptions
    settings: SyncSettings
    bindings: BindingCache
    summary: SyncSummary
    failures: FailureSink | None = None
    progress: ProgressCallback | None = None
    dry_run: bool = False
    locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    _progress_done: dict[str, int] = field(default_factory=dict)
    _progress_total: dict[str, int] = field(default_factory=dict)

    def lock(self, name: str) -> asyncio.Lock:
        """A named lock (one creation at a time for a shared dependency, e.g. a category)."""
        if name not in self.locks:
            self.locks[name] = asyncio.Lock()
        return self.locks[name]

    def warn(self, entity: str, source_id: object, message: str, *, kind: str = "warning") -> None:
        """The item synced, with a problem the user should fix (shown, and kept in the failure
        queue under ``<entity>_<kind>`` until :meth:`clear_warning`)."""
        self.summary.counts(entity).add("warnings")
        self.summary.warnings.append(ParkedItem(entity, str(source_id), "Warning", message))
        if self.failures is not None and not self.dry_run:
            self.failures.park(f"{entity}_{kind}", str(source_id), "Warning", message, retry=False)

    def clear_warning(self, entity: str, source_id: object, *, kind: str = "warning") -> None:
        """The problem of a previous :meth:`warn` is gone."""
        if self.failures is not None and not self.dry_run:
            self.failures.resolve(f"{entity}_{kind}", str(source_id))

    def not_mappable(self, entity: str, source_id: object, reason: str) -> None:
        """The item cannot exist in Dolibarr; say why (no failure: fixing Dolibarr setup is a choice)."""
        self.summary.counts(entity).add("not_mappable")
        self.summary.not_mappable.append(ParkedItem(entity, str(source_id), "NotMappable", reason))
        self._tick(entity)

    def _park(self, entity: str, source_id: str, error: BaseException, message: str, outcome: str) -> None:
        self.summary.counts(entity).add(outcome)
        item = ParkedItem(entity, source_id, type(error).__name__, message)
        self.summary.parked.append(item)
        if self.failures is not None and not self.dry_run:
            self.failures.park(entity, source_id, type(error).__name__, message, retry=outcome == "failed")

    async def guard(self, entity: str, source_id: object, work: Callable[[], Awaitable[str]]) -> str:
        """Run one item's work; count its outcome; park it on a per-item error (see module doc).

        ``work`` answers "created", "updated", "unchanged", "not_mappable", or "skip" for a
        bookkeeping step that is not an item (not counted, but still parked on error).
        """
        outcome = await self._guarded(entity, str(source_id), work)
        if outcome != "skip":
            self._tick(entity)
        return outcome

    async def _guarded(self, entity: str, sid: str, work: Callable[[], Awaitable[str]]) -> str:
        try:
            outcome = await work()
        except MappingError as error:
            self._park(entity, sid, error, error.user_message(), "parked")
            return "parked"
        except AmbiguousMatch as error:
            self._park(entity, sid, error, f"{entity} {sid}: {error}", "parked")
            return "parked"
        except BindingConflict as error:
            self._park(entity, sid, error, f"{entity} {sid}: {error.hint}", "parked")
            return "parked"
        except Unauthorized:
            raise  # a key or permission problem stops the run: every item would fail the same way
        except Transient as error:
            self._park(entity, sid, error, f"{entity} {sid}: {error}{remote_hint(error)}", "failed")
            return "failed"
        except (Permanent, RemoteError) as error:
            self._park(entity, sid, error, f"{entity} {sid}: {error}{remote_hint(error)}", "parked")
            return "parked"
        if outcome == "skip":  # bookkeeping step, not an item
            return outcome
        self.summary.counts(entity).add(outcome)
        if self.failures is not None and not self.dry_run and outcome != "not_mappable":
            self.failures.resolve(entity, sid)
        return outcome

    def expect(self, entity: str, total: int) -> None:
        """Announce how many items of ``entity`` this run will look at (for progress bars)."""
        self._progress_total[entity] = self._progress_total.get(entity, 0) + total
        if self.progress is not None:
            self.progress(entity, self._progress_done.get(entity, 0), self._progress_total[entity])

    def _tick(self, entity: str) -> None:
        done = self._progress_done.get(entity, 0) + 1
        self._progress_done[entity] = done
        if self.progress is not None:
            self.progress(entity, done, self._progress_total.get(entity, -1))

    async def each(self, items: Iterable[T] | AsyncIterable[T], work: Callable[[T], Awaitable[Any]]) -> None:
        """Run ``work`` on every item with at most ``settings.concurrency`` at once.

        Per-item errors never get here (:meth:`guard` handles them). An error that does (an
        ``Unauthorized`` key, a bug) cancels the other items and is raised as itself.

        ``settings.concurrency`` workers pull items from one shared iterator: memory stays flat
        whatever the number of items (no task per item is created up front). ``items`` may be
        an async iterable (items read while others are worked on): one worker at a time takes
        the next item from it.
        """
        if isinstance(items, AsyncIterable):
            iterator = aiter(items)
            taking = asyncio.Lock()

            async def pull() -> None:
                while True:
                    async with taking:  # an async iterator cannot be advanced by two tasks at once
                        try:
                            item = await anext(iterator)
                        except StopAsyncIteration:
                            return
                    await work(item)
            worker = pull
        else:
            plain = iter(items)

            async def loop() -> None:
                for item in plain:  # workers share the iterator: each item is taken once
                    await work(item)
            worker = loop

        try:
            async with asyncio.TaskGroup() as group:
                for _ in range(max(1, self.settings.concurrency)):
                    group.create_task(worker())
        except BaseExceptionGroup as errors:
            first = errors.exceptions[0]
            while isinstance(first, BaseExceptionGroup):
                first = first.exceptions[0]
            raise first from None
