"""The bindings of one order run, read once per entity and kept in memory.

Contract: :class:`RunBindings` answers ``get``/``target_for`` from one bulk read of the
entity's bindings (:meth:`~dolisync.sync.binder.Binder.all`) and writes through to the store
on ``bind``/``set_hashes``/``unbind`` (atomic upserts, as the binder does). Only this run
writes the order entities of its connection (one run per shop at a time), so the memory view
stays true; it is dropped with the run.

With ``preload=False`` (a run of a few orders: the service syncs one order per job) each
binding is read on first use and remembered (a miss too) instead: the cost of a run no longer
grows with every binding the shop ever made.
"""

from __future__ import annotations

from dataclasses import replace

from dolisync.store import utcnow
from dolisync.sync.binder import Binder, Binding

__all__ = ["RunBindings"]


class RunBindings:
    """Cached view of a :class:`Binder` (see module docstring)."""

    def __init__(self, binder: Binder, *, preload: bool = True) -> None:
        self.binder = binder
        self.preload = preload
        self._entities: dict[str, dict[str, Binding]] = {}
        self._missing: set[tuple[str, str]] = set()  # read and not bound (preload=False)

    def _entity(self, entity: str) -> dict[str, Binding]:
        if entity not in self._entities:
            self._entities[entity] = dict(self.binder.all(entity)) if self.preload else {}
        return self._entities[entity]

    def get(self, entity: str, source_id: object) -> Binding | None:
        """The binding of ``source_id`` or None."""
        known, key = self._entity(entity), str(source_id)
        if self.preload or key in known:
            return known.get(key)
        if (entity, key) in self._missing:
            return None
        binding = self.binder.get(entity, key)
        if binding is None:
            self._missing.add((entity, key))
        else:
            known[key] = binding
        return binding

    def target_for(self, entity: str, source_id: object) -> str | None:
        """The bound target id or None."""
        binding = self.get(entity, source_id)
        return None if binding is None else binding.target_id

    def bind(self, entity: str, source_id: object, target_id: object, external_key: str | None = None,
             written_hash: str | None = None, read_hash: str | None = None) -> Binding:
        """Store the binding (write-through) and remember it; skipped when nothing changes."""
        current = self.get(entity, source_id)
        if (current is not None and current.target_id == str(target_id)
                and (written_hash is None or written_hash == current.written_hash)
                and (read_hash is None or read_hash == current.read_hash)):
            return current
        binding = self.binder.bind(entity, str(source_id), target_id, external_key, written_hash=written_hash,
                                   read_hash=read_hash)
        self._entity(entity)[str(source_id)] = binding
        self._missing.discard((entity, str(source_id)))
        return binding

    def set_hashes(self, entity: str, source_id: object, *, written_hash: str | None = None,
                   read_hash: str | None = None) -> bool:
        """Update the hashes of an existing binding."""
        current = self.get(entity, source_id)
        if current is None:
            return False
        if (written_hash in (None, current.written_hash)) and (read_hash in (None, current.read_hash)):
            return True
        done = self.binder.set_hashes(entity, str(source_id), written_hash=written_hash, read_hash=read_hash)
        self._entity(entity)[str(source_id)] = replace(
            current, written_hash=written_hash or current.written_hash, read_hash=read_hash or current.read_hash,
            updated_at=utcnow())
        return done

    def unbind(self, entity: str, source_id: object) -> None:
        """Forget a binding (its target vanished)."""
        self._entity(entity).pop(str(source_id), None)
        if not self.preload:
            self._missing.add((entity, str(source_id)))
        self.binder.unbind(entity, str(source_id))
