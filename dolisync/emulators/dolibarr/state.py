"""In-memory database of the Dolibarr emulator.

Contract:

* ``DolibarrState.tables[name]`` is a ``dict[int, Row]`` per object type (``"products"``,
  ``"categories"``, ``"orders"`` ...), keyed by the object id. A row is a plain ``dict`` of
  *native* values (``int``, ``str``, ``Decimal``, ``None``, lists, dicts, ``bytes``); area
  modules turn rows into Dolibarr's string-typed JSON when they answer (see ``core``).
  Tables are created on first use by :meth:`DolibarrState.table`.
* Ids come from one sequence per table (:meth:`next_id`), starting at 1 and never reused, like
  an auto-increment column. :meth:`insert` assigns ``row["id"]``.
* Time comes only from :meth:`now` (an ``int`` UTC Unix timestamp). Tests replace
  ``state.clock`` with any zero-argument callable.
* Refs: :meth:`next_ref` gives ``{prefix}{yymm}-{nnnn}`` ("max + 1" per prefix and month, like
  Dolibarr's numbering modules); :meth:`draft_ref` gives ``(PROV{id})``.
* Events: :meth:`emit` appends an :class:`EmittedEvent` to ``state.events`` and then calls
  every callable in ``state.event_hooks`` with it, in order, inside the request. A hook may
  raise ``core.ApiError`` to make the business action fail (blocking webhook target).
* Files (``/documents``): ``state.files`` maps ``"<dir>/<ref>/<filename>"`` to
  :class:`StoredFile` (bytes in memory).
* ``state.extra`` is free JSON-able storage for area modules (webhook targets ...).
* :meth:`save` / :meth:`load` round-trip everything except ``events``, hooks and the clock, as
  JSON (``Decimal`` and ``bytes`` are tagged).
* Indexes (performance only, never visible in an answer): :meth:`lookup` finds the rows of a
  table whose indexed key (see ``INDEXED_KEYS``: product ref/ref_ext/barcode folded like
  MySQL's case-insensitive collation, stock rows by product, combinations by parent, category
  links by object and by category) equals a value, in id order, without scanning the table.
  An index is built on first use and kept by :meth:`insert` and :meth:`delete`; code that
  changes an indexed column of a stored row in place must call :meth:`reindex` with the row.
  Tables are :class:`Table` dicts that count their changes, so rows added or removed behind
  the state's back (``table(name)[id] = row``, ``del``) make the index rebuild on next use; a
  candidate whose key no longer matches also triggers a rebuild. ``state.files`` is a
  :class:`FileStore` that indexes its folders (:meth:`files_in`).
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Self

from dolisync.emulators.dataset import DolibarrSetup, VatRate

__all__ = ["DolibarrState", "EmittedEvent", "StoredFile", "FileStore", "Table", "Row", "INDEXED_KEYS",
           "DEFAULT_API_KEY", "DEFAULT_MODULES"]

Row = dict[str, Any]

#: Key accepted when the setup declares none (login ``admin``, every right).
DEFAULT_API_KEY = "dolisync-emulator-key"

#: Enabled modules of the recorded instance (``setup_modules_list``).
DEFAULT_MODULES: tuple[str, ...] = (
    "agenda", "api", "banque", "barcode", "categorie", "commande", "expedition", "export", "facture",
    "fckeditor", "import", "multicurrency", "product", "propal", "service", "societe", "stock", "user",
    "variants", "webhook",
)


@dataclass(slots=True)
class EmittedEvent:
    """One business trigger fired during a request (what Dolibarr's triggers see)."""

    triggercode: str
    object: Row
    context: dict[str, Any]
    at: int


@dataclass(slots=True)
class StoredFile:
    """A document stored under ``<dir>/<ref>/<filename>`` with its bytes and metadata."""

    content: bytes
    date: int
    mime: str = "application/octet-stream"
    position: int = 0
    ecm_id: int = 0
    generated: bool = False


def _folded(value: Any) -> str | None:
    """A column compared case-insensitively, like MySQL's default collation (``None`` stays out)."""
    return None if value is None else str(value).casefold()


#: table -> index name -> key of a row (``None``: the row is in no bucket of that index).
INDEXED_KEYS: dict[str, dict[str, Callable[[Row], Hashable]]] = {
    "products": {
        "ref": lambda row: str(row.get("ref")).casefold(),
        "ref_ext": lambda row: _folded(row.get("ref_ext")),
        "barcode": lambda row: _folded(row.get("barcode")),
    },
    "product_stock": {"product": lambda row: row.get("fk_product")},
    "product_combinations": {"parent": lambda row: row.get("fk_product_parent")},
    "category_links": {
        "object": lambda row: (row.get("type"), row.get("fk_object")),
        "category": lambda row: row.get("fk_categorie"),
    },
}


class Table(dict[int, Row]):
    """A table: a plain ``dict`` of id -> row that counts the changes made to it (``version``).

    Indexes compare that count with the one they were kept at, so a row added or removed
    without :meth:`DolibarrState.insert` / :meth:`DolibarrState.delete` makes them rebuild.
    """

    version: int = 0

    def __setitem__(self, row_id: int, row: Row) -> None:
        super().__setitem__(row_id, row)
        self.version += 1

    def __delitem__(self, row_id: int) -> None:
        super().__delitem__(row_id)
        self.version += 1

    def pop(self, row_id: int, *default: Any) -> Any:  # type: ignore[override]
        self.version += 1
        return super().pop(row_id, *default)

    def popitem(self) -> tuple[int, Row]:
        self.version += 1
        return super().popitem()

    def setdefault(self, row_id: int, default: Row) -> Row:  # type: ignore[override]
        self.version += 1
        return super().setdefault(row_id, default)

    def update(self, *args: Any, **kwargs: Any) -> None:
        self.version += 1
        super().update(*args, **kwargs)

    def clear(self) -> None:
        self.version += 1
        super().clear()

    def __ior__(self, other: Any) -> Self:  # type: ignore[override]
        self.version += 1
        return super().__ior__(other)


class _Index:
    """One secondary index of one table: key -> ids (see module docstring)."""

    __slots__ = ("buckets", "key_of", "keys", "rows", "version")

    def __init__(self, rows: dict[int, Row], key_of: Callable[[Row], Hashable]) -> None:
        self.rows = rows  # the table this index was built for (identity checked on use)
        self.version = getattr(rows, "version", None)
        self.key_of = key_of
        self.buckets: dict[Hashable, set[int]] = {}
        self.keys: dict[int, Hashable] = {}  # id -> key it was filed under
        for row_id, row in rows.items():
            self.add(row_id, row)

    def add(self, row_id: int, row: Row) -> None:
        key = self.key_of(row)
        self.keys[row_id] = key
        if key is not None:
            self.buckets.setdefault(key, set()).add(row_id)

    def remove(self, row_id: int) -> None:
        if row_id not in self.keys:
            return
        key = self.keys.pop(row_id)
        bucket = self.buckets.get(key)
        if bucket is not None:
            bucket.discard(row_id)
            if not bucket:
                del self.buckets[key]

    def fresh(self, rows: dict[int, Row]) -> bool:
        """Same table object, unchanged since this index last followed it (a plain dict: never)."""
        return self.rows is rows and self.version is not None and self.version == getattr(rows, "version", None)


class FileStore(dict[str, StoredFile]):
    """``state.files``: a dict of ``"<dir>/<key>/<filename>"`` -> file that also indexes folders.

    Behaves as a plain dict (equality, iteration order, JSON); :meth:`folder` lists the paths
    starting with ``"<dir>/<key>/"`` without scanning every file (each path is filed under
    every folder above it).
    """

    def __init__(self, items: Mapping[str, StoredFile] | Iterable[tuple[str, StoredFile]] = ()) -> None:
        super().__init__()
        self._folders: dict[str, dict[str, None]] = {}
        for path, stored in dict(items).items():
            self[path] = stored

    @staticmethod
    def _folders_of(path: str) -> list[str]:
        return [path[:at] for at, char in enumerate(path) if char == "/"]

    def __setitem__(self, path: str, stored: StoredFile) -> None:
        super().__setitem__(path, stored)
        if "_folders" not in self.__dict__:  # unpickling sets items before the instance state
            self._folders = {}
        for folder in self._folders_of(path):
            self._folders.setdefault(folder, {})[path] = None

    def __delitem__(self, path: str) -> None:
        super().__delitem__(path)
        self._forget(path)

    def _forget(self, path: str) -> None:
        for folder in self._folders_of(path):
            paths = self._folders.get(folder)
            if paths is not None:
                paths.pop(path, None)
                if not paths:
                    del self._folders[folder]

    def pop(self, path: str, *default: Any) -> Any:  # type: ignore[override]
        if path in self:
            self._forget(path)
        return super().pop(path, *default)

    def popitem(self) -> tuple[str, StoredFile]:
        path, stored = super().popitem()
        self._forget(path)
        return path, stored

    def setdefault(self, path: str, default: StoredFile) -> StoredFile:  # type: ignore[override]
        if path not in self:
            self[path] = default
        return self[path]

    def update(self, *args: Any, **kwargs: Any) -> None:
        for path, stored in dict(*args, **kwargs).items():
            self[path] = stored

    def clear(self) -> None:
        super().clear()
        self._folders.clear()

    def folder(self, folder: str) -> list[str]:
        """Paths starting with ``folder + "/"``, in the order they were first stored."""
        return list(self._folders.get(folder, ()))


def _encode(value: Any) -> Any:
    if isinstance(value, Decimal):
        return {"__decimal__": str(value)}
    if isinstance(value, bytes):
        return {"__bytes__": base64.b64encode(value).decode("ascii")}
    if isinstance(value, dict):
        return {"__dict__": [[_encode(k), _encode(v)] for k, v in value.items()]}
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if "__decimal__" in value:
            return Decimal(value["__decimal__"])
        if "__bytes__" in value:
            return base64.b64decode(value["__bytes__"])
        if "__dict__" in value:
            return {_decode(k): _decode(v) for k, v in value["__dict__"]}
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


class DolibarrState:
    """All data of one emulated Dolibarr instance (see module docstring)."""

    def __init__(self, setup: DolibarrSetup | None = None) -> None:
        self.setup: DolibarrSetup = setup or DolibarrSetup()
        self.tables: dict[str, dict[int, Row]] = {}
        self.sequences: dict[str, int] = {}
        self.ref_counters: dict[str, int] = {}
        self.files: dict[str, StoredFile] = FileStore()
        self.extra: dict[str, Any] = {}
        self.api_keys: dict[str, str] = dict(self.setup.api_keys) or {DEFAULT_API_KEY: "admin"}
        #: login -> granted rights (``None`` = every right, like an admin).
        self.user_rights: dict[str, frozenset[str] | None] = {}
        self.events: list[EmittedEvent] = []
        self.event_hooks: list[Callable[[EmittedEvent], None]] = []
        self.clock: Callable[[], int] = lambda: int(time.time())
        self._indexes: dict[tuple[str, str], _Index] = {}

    # ---- construction -------------------------------------------------------------------
    @classmethod
    def from_setup(cls, setup: DolibarrSetup) -> DolibarrState:
        """A fresh instance configured by ``setup``: warehouses, bank accounts, currencies.

        Area modules that need seeded rows read ``state.setup`` lazily; this method only
        creates rows whose ids other tables point to.
        """
        state = cls(setup)
        now = state.now()
        if "admin" in state.api_keys.values():
            state.insert("users", {"login": "admin", "lastname": "SuperAdmin", "firstname": "", "email": "",
                                   "admin": 1, "statut": 1, "employee": 1})
        for wh in setup.warehouses:
            label = str(wh.get("label") or wh.get("ref") or "")
            state.insert("warehouses", {
                "ref": str(wh.get("ref") or label), "label": label,
                "description": str(wh.get("description", "")), "statut": int(wh.get("statut", 1)),
                "lieu": str(wh.get("lieu", "")), "address": wh.get("address") or "", "zip": wh.get("zip") or "",
                "town": wh.get("town") or "", "country_id": wh.get("country_id") or 0,
                "fk_parent": wh.get("fk_parent"), "datec": now, "tms": now, "phone": None, "fax": None,
            })
        for account in setup.bank_accounts:
            row = dict(account)
            row.setdefault("currency_code", setup.currency)
            row.setdefault("datec", now)
            state.insert("bankaccounts", row)
        names = {"EUR": "Euros (€)", "USD": "US Dollar", "GBP": "Pound sterling", "CHF": "Swiss franc"}
        currencies = {setup.currency: "1", **setup.multicurrencies}
        for code, rate in currencies.items():
            currency_id = state.insert("multicurrencies", {"code": code, "name": names.get(code, code), "datec": now})
            state.insert("multicurrency_rates", {"fk_multicurrency": currency_id, "rate": Decimal(str(rate)),
                                                 "date_sync": now})
        return state

    # ---- time, ids, refs ----------------------------------------------------------------
    def now(self) -> int:
        """Current UTC time as an ``int`` Unix timestamp (from ``self.clock``)."""
        return int(self.clock())

    def table(self, name: str) -> dict[int, Row]:
        """The table ``name`` (created empty on first use)."""
        rows = self.tables.get(name)
        if rows is None:
            rows = self.tables[name] = Table()
        return rows

    def next_id(self, name: str) -> int:
        """Next auto-increment id of table ``name`` (ids are never reused)."""
        value = self.sequences.get(name, 0) + 1
        self.sequences[name] = value
        return value

    def insert(self, name: str, row: Row) -> int:
        """Store ``row`` in table ``name`` under a new id, set ``row["id"]``, return the id."""
        new_id = self.next_id(name)
        row["id"] = new_id
        rows = self.table(name)
        fresh = self._fresh_indexes(name, rows)
        rows[new_id] = row
        for index in fresh:
            index.add(new_id, row)
            index.version = getattr(rows, "version", None)
        return new_id

    def get(self, name: str, object_id: int) -> Row | None:
        """The row ``object_id`` of table ``name`` or ``None``."""
        return self.tables.get(name, {}).get(object_id)

    def delete(self, name: str, object_id: int) -> Row | None:
        """Remove and return row ``object_id`` (``None`` if absent)."""
        rows = self.tables.get(name, {})
        fresh = self._fresh_indexes(name, rows)
        row = rows.pop(object_id, None)
        for index in fresh:
            index.remove(object_id)
            index.version = getattr(rows, "version", None)
        return row

    # ---- indexes (see module docstring) ---------------------------------------------------
    def _fresh_indexes(self, name: str, rows: dict[int, Row]) -> list[_Index]:
        """Built indexes of table ``name`` still in step with ``rows``; stale ones are dropped."""
        fresh: list[_Index] = []
        for index_name in INDEXED_KEYS.get(name, ()):
            index = self._indexes.get((name, index_name))
            if index is None:
                continue
            if index.fresh(rows):
                fresh.append(index)
            else:
                del self._indexes[(name, index_name)]
        return fresh

    def _index(self, name: str, index_name: str) -> _Index:
        rows = self.table(name)
        index = self._indexes.get((name, index_name))
        if index is None or not index.fresh(rows):
            index = self._indexes[(name, index_name)] = _Index(rows, INDEXED_KEYS[name][index_name])
        return index

    def lookup(self, name: str, index_name: str, key: Hashable) -> list[Row]:
        """Rows of table ``name`` whose ``index_name`` key (``INDEXED_KEYS``) equals ``key``, by id.

        Same answer as scanning the table with the key function, kept fast by an index.
        """
        if key is None:
            return []
        index = self._index(name, index_name)
        found = [index.rows.get(row_id) for row_id in sorted(index.buckets.get(key, ()))]
        if any(row is None or index.key_of(row) != key for row in found):  # changed behind our back
            del self._indexes[(name, index_name)]
            index = self._index(name, index_name)
            found = [index.rows[row_id] for row_id in sorted(index.buckets.get(key, ()))]
        return [row for row in found if row is not None]

    def reindex(self, name: str, row: Row) -> None:
        """File ``row`` (already stored in table ``name``) under its current indexed keys.

        Call after changing an indexed column of a stored row in place.
        """
        rows = self.tables.get(name, {})
        for index in self._fresh_indexes(name, rows):
            index.remove(row["id"])
            if rows.get(row["id"]) is row:
                index.add(row["id"], row)

    def files_in(self, folder: str) -> list[str]:
        """Paths of ``state.files`` starting with ``folder + "/"`` (``folder`` is ``"<dir>/<key>"``)."""
        if isinstance(self.files, FileStore):
            return self.files.folder(folder)
        return [path for path in self.files if path.startswith(folder + "/")]

    def next_ref(self, prefix: str, when: int | None = None) -> str:
        """Next final ref ``{prefix}{yymm}-{nnnn}`` for the month of ``when`` (default now)."""
        moment = datetime.fromtimestamp(self.now() if when is None else when, tz=timezone.utc)
        yymm = moment.strftime("%y%m")
        key = f"{prefix}{yymm}"
        value = self.ref_counters.get(key, 0) + 1
        self.ref_counters[key] = value
        return f"{key}-{value:04d}"

    @staticmethod
    def draft_ref(object_id: int) -> str:
        """Dolibarr's provisional ref of a draft: ``(PROV{id})``."""
        return f"(PROV{object_id})"

    # ---- events -------------------------------------------------------------------------
    def emit(self, triggercode: str, obj: Row, context: dict[str, Any] | None = None) -> EmittedEvent:
        """Record a trigger and run the hooks (which may raise to abort the request)."""
        event = EmittedEvent(triggercode, obj, dict(context or {}), self.now())
        self.events.append(event)
        for hook in list(self.event_hooks):
            hook(event)
        return event

    # ---- setup helpers ------------------------------------------------------------------
    def vat_rates(self) -> list[VatRate]:
        """The company country's VAT dictionary (the setup's, or France's default)."""
        if self.setup.vat_rates:
            return list(self.setup.vat_rates)
        return [VatRate("20.000", "", note="VAT rate - standard"), VatRate("10.000", "", note="VAT rate - reduced"),
                VatRate("5.500", "", note="VAT rate - reduced"), VatRate("2.100", "", note="VAT rate - super-reduced"),
                VatRate("0.000", "", note="VAT rate 0")]

    def modules(self) -> list[str]:
        """Enabled module keys, sorted."""
        return sorted(self.setup.modules or DEFAULT_MODULES)

    def rights_of(self, login: str) -> frozenset[str] | None:
        """Rights of ``login`` (``None`` = all)."""
        return self.user_rights.get(login)

    # ---- persistence --------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        """A JSON-able snapshot (see :meth:`save`)."""
        from dataclasses import asdict

        return {
            "setup": _encode(asdict(self.setup)),
            "tables": {name: _encode(rows) for name, rows in self.tables.items()},
            "sequences": self.sequences,
            "ref_counters": self.ref_counters,
            "files": {path: {"content": base64.b64encode(f.content).decode("ascii"), "date": f.date,
                             "mime": f.mime, "position": f.position, "ecm_id": f.ecm_id,
                             "generated": f.generated}
                      for path, f in self.files.items()},
            "extra": _encode(self.extra),
            "api_keys": self.api_keys,
            "user_rights": {k: (sorted(v) if v is not None else None) for k, v in self.user_rights.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DolibarrState:
        """Rebuild a state from :meth:`to_json` output."""
        setup_data = _decode(data["setup"])
        setup_data["vat_rates"] = [VatRate(**v) for v in setup_data.get("vat_rates", [])]
        state = cls(DolibarrSetup(**setup_data))
        state.tables = {name: Table(_decode(rows)) for name, rows in data.get("tables", {}).items()}
        state.sequences = dict(data.get("sequences", {}))
        state.ref_counters = dict(data.get("ref_counters", {}))
        state.files = FileStore({
            path: StoredFile(base64.b64decode(f["content"]), int(f["date"]), f["mime"], int(f["position"]),
                             int(f.get("ecm_id", 0)), bool(f.get("generated", False)))
            for path, f in data.get("files", {}).items()})
        state.extra = _decode(data.get("extra", {}))
        state.api_keys = dict(data.get("api_keys", state.api_keys))
        state.user_rights = {k: (frozenset(v) if v is not None else None)
                             for k, v in data.get("user_rights", {}).items()}
        return state

    def save(self, path: str | Path) -> None:
        """Write the state as JSON to ``path`` (atomically, via a temporary file)."""
        target = Path(path)
        tmp = target.with_suffix(target.suffix + ".tmp")
        tmp.write_text(json.dumps(self.to_json(), ensure_ascii=False), encoding="utf-8")
        tmp.replace(target)

    @classmethod
    def load(cls, path: str | Path) -> DolibarrState:
        """Read a state written by :meth:`save`."""
        return cls.from_json(json.loads(Path(path).read_text(encoding="utf-8")))
