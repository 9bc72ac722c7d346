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
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from dolisync.emulators.dataset import DolibarrSetup, VatRate

__all__ = ["DolibarrState", "EmittedEvent", "StoredFile", "Row", "DEFAULT_API_KEY", "DEFAULT_MODULES"]

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
        self.files: dict[str, StoredFile] = {}
        self.extra: dict[str, Any] = {}
        self.api_keys: dict[str, str] = dict(self.setup.api_keys) or {DEFAULT_API_KEY: "admin"}
        #: login -> granted rights (``None`` = every right, like an admin).
        self.user_rights: dict[str, frozenset[str] | None] = {}
        self.events: list[EmittedEvent] = []
        self.event_hooks: list[Callable[[EmittedEvent], None]] = []
        self.clock: Callable[[], int] = lambda: int(time.time())

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
            rows = self.tables[name] = {}
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
        self.table(name)[new_id] = row
        return new_id

    def get(self, name: str, object_id: int) -> Row | None:
        """The row ``object_id`` of table ``name`` or ``None``."""
        return self.tables.get(name, {}).get(object_id)

    def delete(self, name: str, object_id: int) -> Row | None:
        """Remove and return row ``object_id`` (``None`` if absent)."""
        return self.tables.get(name, {}).pop(object_id, None)

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
        state.tables = {name: _decode(rows) for name, rows in data.get("tables", {}).items()}
        state.sequences = dict(data.get("sequences", {}))
        state.ref_counters = dict(data.get("ref_counters", {}))
        state.files = {path: StoredFile(base64.b64decode(f["content"]), int(f["date"]), f["mime"], int(f["position"]),
                                        int(f.get("ecm_id", 0)), bool(f.get("generated", False)))
                       for path, f in data.get("files", {}).items()}
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
