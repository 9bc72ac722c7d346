"""The binder: the identity map between a source object and its target copy.

Per ``(connection, entity)`` a binding links one source id to one target id (both unique),
records the stable *external key* we stamped on the target (``ref_ext``/``import_key``) so
a crash between "created remotely" and "binding saved" is healed by a lookup, and keeps two
content hashes:

* ``written_hash``: hash of the payload we last wrote to the target (skip unchanged writes);
* ``read_hash``: hash of the source record we last read (recognise our own echo).

Contract:

* :meth:`Binder.bind` is an atomic upsert keyed on the source id (``ON CONFLICT DO UPDATE``),
  safe when several workers bind the same key at once; binding a target id already bound to
  a *different* source id raises :class:`BindingConflict` (never two sources on one target).
* :meth:`Binder.claim` inserts only if the source id is unbound and returns the binding that
  won, so racing creators can tell whether theirs is the one to keep.
* Ids are accepted as ``int`` or ``str`` and always returned as ``str``.
* :func:`content_hash` (defined in :mod:`dolisync.store.hashing`, re-exported here) is
  sha256 over a canonical JSON: keys sorted, ``Decimal`` by value (``Decimal("20.00")``
  hashes like ``Decimal("20")``), floats via their repr as Decimal, datetimes as aware-UTC
  ISO strings, tuples/sets as lists.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, select
from sqlalchemy.exc import IntegrityError

from dolisync.store import Store, utcnow
from dolisync.store.hashing import canonical_json, content_hash
from dolisync.store.schema import bindings

__all__ = [
    "BindItem",
    "Binder",
    "Binding",
    "BindingConflict",
    "canonical_json",
    "content_hash",
    "external_key",
]

RemoteId = int | str
BindItem = tuple[RemoteId, RemoteId, str | None, str | None]
_RACE_RETRIES = 4

_KEY_PART = re.compile(r"[^A-Za-z0-9_.]+")


def external_key(connection: str, entity: str, source_id: RemoteId, *, prefix: str = "ps") -> str:
    """The stable key stamped on a target object: ``ps-<connection>-<entity>-<id>``.

    ``prefix`` names the side the id comes from (``"ps"``, or ``"doli"`` for objects created
    in a shop from Dolibarr).

    Only ``[A-Za-z0-9_.-]`` appear in it: Dolibarr's WAF refuses ``: ; " ' < > ? ( ) { } $ % #``
    in a path, and ``/`` breaks its routing. Runs of other characters in a part become ``_``
    and parts are lower-cased (Dolibarr compares ``ref_ext`` case-insensitively in MySQL), so
    connection names that differ only in punctuation or case share keys: keep them plain.
    """
    parts = [_slug(connection), _slug(entity), _slug(str(source_id))]
    for label, part in zip(("connection", "entity", "source_id"), parts, strict=True):
        if not part.strip("_"):
            raise ValueError(f"external key: {label} has no usable character")
    if not prefix.isalnum():
        raise ValueError(f"external key prefix must be alphanumeric, got {prefix!r}")
    key = prefix.lower() + "-" + "-".join(parts)
    if len(key) > 128:
        raise ValueError(f"external key too long ({len(key)} > 128): shorten the connection name")
    return key


_make_external_key = external_key  # methods take an ``external_key`` argument


def _slug(value: str) -> str:
    return _KEY_PART.sub("_", value.strip()).lower().replace("-", "_")


@dataclass(frozen=True, slots=True)
class Binding:
    """One row of the identity map."""

    connection: str
    entity: str
    source_side: str
    source_id: str
    target_id: str
    external_key: str
    written_hash: str | None
    read_hash: str | None
    updated_at: datetime


class BindingConflict(Exception):
    """A target id is already bound to another source id of the same entity."""

    def __init__(
        self, connection: str, entity: str, source_id: str, target_id: str, bound_to: str | None
    ) -> None:
        self.connection = connection
        self.entity = entity
        self.source_id = source_id
        self.target_id = target_id
        self.bound_to = bound_to
        self.hint = (
            f"target {entity} {target_id} already belongs to source id {bound_to}; "
            "unbind one of them (duplicate on the target side?)"
        )
        super().__init__(
            f"{connection}/{entity}: cannot bind source {source_id} "
            f"to target {target_id}: {self.hint}"
        )


_COLUMNS = (
    bindings.c.connection,
    bindings.c.entity,
    bindings.c.source_side,
    bindings.c.source_id,
    bindings.c.target_id,
    bindings.c.external_key,
    bindings.c.written_hash,
    bindings.c.read_hash,
    bindings.c.updated_at,
)


def _row_to_binding(row: Any) -> Binding:
    return Binding(
        connection=row.connection,
        entity=row.entity,
        source_side=row.source_side,
        source_id=row.source_id,
        target_id=row.target_id,
        external_key=row.external_key,
        written_hash=row.written_hash,
        read_hash=row.read_hash,
        updated_at=row.updated_at,
    )


class Binder:
    """The identity map of one connection (see module docstring).

    ``source_side`` names the remote the source ids belong to (``"prestashop"`` or
    ``"dolibarr"``); it is recorded on new bindings.
    """

    external_key = staticmethod(_make_external_key)
    content_hash = staticmethod(content_hash)

    def __init__(self, store: Store, connection: str, *, source_side: str = "prestashop") -> None:
        self.store = store
        self.connection = connection
        self.source_side = source_side

    # -- reads -------------------------------------------------------------------------
    def get(self, entity: str, source_id: RemoteId) -> Binding | None:
        """The binding of ``source_id``, or None."""
        query = select(*_COLUMNS).where(
            bindings.c.connection == self.connection,
            bindings.c.entity == entity,
            bindings.c.source_id == str(source_id),
        )
        with self.store.read() as conn:
            row = conn.execute(query).first()
        return None if row is None else _row_to_binding(row)

    def target_for(self, entity: str, source_id: RemoteId) -> str | None:
        """The target id bound to ``source_id``, or None."""
        binding = self.get(entity, source_id)
        return None if binding is None else binding.target_id

    def source_for(self, entity: str, target_id: RemoteId) -> str | None:
        """The source id bound to ``target_id``, or None."""
        query = select(bindings.c.source_id).where(
            bindings.c.connection == self.connection,
            bindings.c.entity == entity,
            bindings.c.target_id == str(target_id),
        )
        with self.store.read() as conn:
            return conn.execute(query).scalar_one_or_none()

    def hashes(self, entity: str, source_id: RemoteId) -> tuple[str | None, str | None]:
        """``(written_hash, read_hash)`` of the binding; ``(None, None)`` when unbound."""
        binding = self.get(entity, source_id)
        if binding is None:
            return (None, None)
        return (binding.written_hash, binding.read_hash)

    def all(self, entity: str) -> dict[str, Binding]:
        """Every binding of ``entity`` keyed by source id, in one query (bulk preload)."""
        query = select(*_COLUMNS).where(
            bindings.c.connection == self.connection, bindings.c.entity == entity
        )
        with self.store.read() as conn:
            return {row.source_id: _row_to_binding(row) for row in conn.execute(query)}

    # -- writes ------------------------------------------------------------------------
    def bind(
        self,
        entity: str,
        source_id: RemoteId,
        target_id: RemoteId,
        external_key: str | None = None,
        written_hash: str | None = None,
        read_hash: str | None = None,
    ) -> Binding:
        """Create or update the binding of ``source_id`` atomically; return it.

        ``external_key`` defaults to :func:`external_key` of this connection/entity/id. A
        hash passed as None keeps the stored one on update.
        """
        source, target = str(source_id), str(target_id)
        row_values = self._row_values(entity, source, target, external_key, written_hash, read_hash)
        statement = self._upsert().values(**row_values).returning(*_COLUMNS)
        for _attempt in range(_RACE_RETRIES):
            try:
                with self.store.transaction() as conn:
                    row = conn.execute(statement).one()
                return _row_to_binding(row)
            except IntegrityError:
                self._raise_if_target_taken(entity, source, target)
        raise self._conflict(entity, source, target)

    def bind_many(self, entity: str, items: Iterable[BindItem]) -> int:
        """Bind many ``(source_id, target_id, written_hash, read_hash)`` in one transaction.

        Same per-row semantics as :meth:`bind` (a None hash keeps the stored one); a later
        item for the same source id wins. If a target id is already bound to another source,
        the batch is rolled back and replayed item by item, so every item before the culprit
        is bound and :class:`BindingConflict` names the culprit. Returns the number bound.
        """
        latest: dict[str, dict[str, Any]] = {}
        for source_id, target_id, written_hash, read_hash in items:
            source = str(source_id)
            latest.pop(source, None)
            latest[source] = self._row_values(
                entity, source, str(target_id), None, written_hash, read_hash
            )
        if not latest:
            return 0
        rows = list(latest.values())
        try:
            with self.store.transaction() as conn:
                conn.execute(self._upsert(), rows)
        except IntegrityError:
            for row in rows:
                self.bind(
                    entity,
                    row["source_id"],
                    row["target_id"],
                    row["external_key"],
                    row["written_hash"],
                    row["read_hash"],
                )
        return len(rows)

    def claim(
        self,
        entity: str,
        source_id: RemoteId,
        target_id: RemoteId,
        external_key: str | None = None,
        written_hash: str | None = None,
        read_hash: str | None = None,
    ) -> tuple[Binding, bool]:
        """Bind only if ``source_id`` is unbound; return ``(binding that holds, won)``.

        ``won`` is False when another binding already existed (possibly just created by a
        concurrent worker): the caller then uses that binding's target, and discards its own.
        """
        source, target = str(source_id), str(target_id)
        row_values = self._row_values(entity, source, target, external_key, written_hash, read_hash)
        statement = (
            self.store.insert(bindings)
            .values(**row_values)
            .on_conflict_do_nothing(
                index_elements=[bindings.c.connection, bindings.c.entity, bindings.c.source_id]
            )
            .returning(*_COLUMNS)
        )
        for _attempt in range(_RACE_RETRIES):
            try:
                with self.store.transaction() as conn:
                    row = conn.execute(statement).first()
                    if row is not None:
                        return _row_to_binding(row), True
                    existing = self._select_source(conn, entity, source)
                if existing is not None:
                    return existing, False
            except IntegrityError:
                self._raise_if_target_taken(entity, source, target)
        raise self._conflict(entity, source, target)

    def set_hashes(
        self,
        entity: str,
        source_id: RemoteId,
        *,
        written_hash: str | None = None,
        read_hash: str | None = None,
    ) -> bool:
        """Update one or both hashes of an existing binding; False if it is not bound."""
        values: dict[str, Any] = {"updated_at": utcnow()}
        if written_hash is not None:
            values["written_hash"] = written_hash
        if read_hash is not None:
            values["read_hash"] = read_hash
        statement = (
            bindings.update()
            .where(
                bindings.c.connection == self.connection,
                bindings.c.entity == entity,
                bindings.c.source_id == str(source_id),
            )
            .values(**values)
        )
        with self.store.transaction() as conn:
            return conn.execute(statement).rowcount == 1

    def unbind(self, entity: str, source_id: RemoteId) -> bool:
        """Remove the binding of ``source_id``; True if there was one."""
        statement = delete(bindings).where(
            bindings.c.connection == self.connection,
            bindings.c.entity == entity,
            bindings.c.source_id == str(source_id),
        )
        with self.store.transaction() as conn:
            return conn.execute(statement).rowcount == 1

    # -- internals ---------------------------------------------------------------------
    def _row_values(
        self,
        entity: str,
        source: str,
        target: str,
        key: str | None,
        written_hash: str | None,
        read_hash: str | None,
    ) -> dict[str, Any]:
        now = utcnow()
        return {
            "connection": self.connection,
            "entity": entity,
            "source_side": self.source_side,
            "source_id": source,
            "target_id": target,
            "external_key": key or _make_external_key(self.connection, entity, source),
            "written_hash": written_hash,
            "read_hash": read_hash,
            "created_at": now,
            "updated_at": now,
        }

    def _upsert(self) -> Any:
        """INSERT ... ON CONFLICT (connection, entity, source_id) DO UPDATE, keeping stored
        hashes where the new row has None."""
        statement = self.store.insert(bindings)
        excluded = statement.excluded
        return statement.on_conflict_do_update(
            index_elements=[bindings.c.connection, bindings.c.entity, bindings.c.source_id],
            set_={
                "target_id": excluded.target_id,
                "external_key": excluded.external_key,
                "updated_at": excluded.updated_at,
                "written_hash": func.coalesce(excluded.written_hash, bindings.c.written_hash),
                "read_hash": func.coalesce(excluded.read_hash, bindings.c.read_hash),
            },
        )

    def _select_source(self, conn: Connection, entity: str, source: str) -> Binding | None:
        row = conn.execute(
            select(*_COLUMNS).where(
                bindings.c.connection == self.connection,
                bindings.c.entity == entity,
                bindings.c.source_id == source,
            )
        ).first()
        return None if row is None else _row_to_binding(row)

    def _raise_if_target_taken(self, entity: str, source: str, target: str) -> None:
        """After an IntegrityError: raise BindingConflict if ``target`` belongs to another
        source. Otherwise the error was a concurrent insert of the same source id, which
        PostgreSQL may report on the *other* unique index instead of taking the ON CONFLICT
        path; the caller retries and then sees the committed row."""
        bound_to = self.source_for(entity, target)
        if bound_to is not None and bound_to != source:
            raise BindingConflict(self.connection, entity, source, target, bound_to) from None

    def _conflict(self, entity: str, source: str, target: str) -> BindingConflict:
        bound_to = self.source_for(entity, target)
        return BindingConflict(self.connection, entity, source, target, bound_to)
