"""Activity simulator: a seeded stream of shop and ERP events against the emulators.

What it does, at ``rate_per_s`` events per second on average (Poisson arrivals, seeded):

* ``order``: a new order (and sometimes a new customer) placed in the PrestaShop store the way
  checkout does it, i.e. inserted into the store (``store.insert``) with an
  :class:`~dolisync.emulators.generator.OrderFactory`, and the ordered stock decremented (never
  below zero: PrestaShop refuses to oversell by default, so a line ordering more than the stock
  is preceded by a restock of ``RESTOCK`` units more than ordered, recorded in the event);
* ``order_state``: an open order moved along its life (``store.change_order_state``);
* ``ps_stock`` / ``ps_price``: a stock quantity or a product price edited through the
  PrestaShop Webservice (``PATCH /api/stock_availables/{id}``, ``PATCH /api/products/{id}``);
* ``doli_stock`` / ``doli_price`` / ``doli_shipment``: a stock movement, a price edit and a
  shipment of a validated order through the Dolibarr REST API.

Contract: the simulator is an asyncio task (:meth:`ActivitySimulator.start` /
:meth:`ActivitySimulator.stop`, or ``async with``) bounded by ``max_events`` and/or
``duration_s``. Every event it attempted is recorded in :attr:`ActivitySimulator.events` with
wall-clock and monotonic timestamps, the ids it touched and the values it wrote, so latency
benchmarks and soak tests can check that each change reached the other side. An event that
cannot run (no open order, nothing in Dolibarr yet) is recorded as skipped; a failed HTTP call
is recorded with its error and does not stop the simulator. Clients are given ready to use:
the PrestaShop one with ``base_url`` ending in ``/api/`` and the key as basic auth, the Dolibarr
one with ``base_url`` ending in ``/api/index.php/`` and the ``DOLAPIKEY`` header; every call has
the client's timeout. Secrets never enter events or errors (only paths are recorded).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

import httpx2

from dolisync.emulators.generator.orders import OrderFactory, OrderMix

__all__ = ["ActivityConfig", "ActivityEvent", "ActivitySimulator", "StoreLike", "DEFAULT_WEIGHTS", "NEXT_STATES",
           "RESTOCK"]

Row = dict[str, Any]

DEFAULT_WEIGHTS: dict[str, float] = {
    "order": 4.0, "order_state": 3.0, "ps_stock": 2.0, "ps_price": 1.0,
    "doli_stock": 2.0, "doli_price": 1.0, "doli_shipment": 1.0,
}
RESTOCK = 50  # units a merchant receives when an order would take a product below zero
# current state -> [(next state, weight)]
NEXT_STATES: dict[int, list[tuple[int, int]]] = {
    1: [(2, 9), (6, 1)], 10: [(2, 9), (6, 1)], 13: [(4, 9), (6, 1)], 2: [(3, 1)], 3: [(4, 1)],
    4: [(5, 1)], 11: [(3, 1)], 12: [(9, 1)], 9: [(4, 1)], 8: [(2, 1)],
}


class StoreLike(Protocol):
    """What the simulator needs from ``dolisync.emulators.prestashop.PrestaShopStore``."""

    def insert(self, resource: str, row: Row) -> int: ...
    def update(self, resource: str, id_: int, changes: Row) -> None: ...
    def get(self, resource: str, id_: int) -> Row | None: ...
    def rows(self, resource: str) -> list[Row]: ...
    def change_order_state(self, id_order: int, id_order_state: int, id_employee: int = 0) -> int: ...
    def now(self) -> str: ...


@dataclass(slots=True)
class ActivityConfig:
    """Rate, bounds, seed and the mix of event kinds (weights; 0 disables a kind).

    ``rate_per_s`` is the mean of a Poisson arrival process (0 = as fast as possible);
    ``max_events`` and ``duration_s`` bound the run (None = unbounded: stop it yourself).
    """

    rate_per_s: float = 2.0
    seed: int = 0
    max_events: int | None = None
    duration_s: float | None = None
    weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    new_customer_share: float = 0.3
    ps_shop_id: int = 1


@dataclass(slots=True)
class ActivityEvent:
    """One attempted event: what, where, when, with which ids and values, and how it ended."""

    seq: int
    kind: str
    target: str  # "prestashop" or "dolibarr"
    started_at: float  # time.time()
    started_monotonic: float
    finished_at: float = 0.0
    ok: bool = True
    skipped: bool = False
    error: str = ""
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def duration_s(self) -> float:
        """How long the event took."""
        return max(0.0, self.finished_at - self.started_at)


class ActivitySimulator:
    """Generates events against a PrestaShop store/Webservice and a Dolibarr REST API."""

    def __init__(
        self,
        *,
        config: ActivityConfig | None = None,
        store: StoreLike | None = None,
        tables: Mapping[str, list[Row]] | None = None,
        factory: OrderFactory | None = None,
        prestashop: httpx2.AsyncClient | None = None,
        dolibarr: httpx2.AsyncClient | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.config = config or ActivityConfig()
        self.store = store
        self.prestashop = prestashop
        self.dolibarr = dolibarr
        self.events: list[ActivityEvent] = []
        self._rng = random.Random(self.config.seed)
        self._clock = clock or self._store_clock
        self._factory = factory
        self._tables = tables
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()
        self._open_orders: list[int] = []
        self._stock_index: dict[tuple[str, str, str], int] = {}
        self._doli_products: list[int] = []
        self._doli_warehouses: list[int] = []
        self._ps_products: list[int] = []
        self._ps_stock: list[int] = []
        self._prepared = False

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the event loop task (idempotent)."""
        if self._task is None or self._task.done():
            self._stop.clear()
            self._task = asyncio.create_task(self._run(), name="dolisync-activity")

    async def stop(self) -> None:
        """Ask the task to stop after the current event and wait for it."""
        self._stop.set()
        if self._task is not None:
            await self._task

    async def wait(self) -> list[ActivityEvent]:
        """Wait for the task to end by itself (bounds reached) and return the events."""
        if self._task is not None:
            await self._task
        return self.events

    async def __aenter__(self) -> ActivitySimulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def summary(self) -> dict[str, dict[str, int]]:
        """Counts per kind: ``{"order": {"ok": 12, "failed": 0, "skipped": 1}, ...}``."""
        out: dict[str, dict[str, int]] = {}
        for event in self.events:
            counts = out.setdefault(event.kind, {"ok": 0, "failed": 0, "skipped": 0})
            counts["ok" if event.ok else "skipped" if event.skipped else "failed"] += 1
        return out

    @property
    def running(self) -> bool:
        """True while the task runs."""
        return self._task is not None and not self._task.done()

    async def _run(self) -> None:
        started = time.monotonic()
        next_at = started
        config = self.config
        while not self._stop.is_set():
            if config.max_events is not None and len(self.events) >= config.max_events:
                return
            if config.duration_s is not None and time.monotonic() - started >= config.duration_s:
                return
            if config.rate_per_s > 0:
                next_at += self._rng.expovariate(config.rate_per_s)
            delay = next_at - time.monotonic()
            if delay > 0:
                try:
                    await asyncio.wait_for(self._stop.wait(), timeout=delay)
                    return
                except TimeoutError:
                    pass
            if config.duration_s is not None and time.monotonic() - started >= config.duration_s:
                return
            await self.step()
            await asyncio.sleep(0)  # store-only events never await: let the loop breathe

    # -- one event ---------------------------------------------------------------------------

    def _available_kinds(self) -> list[tuple[str, float]]:
        kinds = []
        for kind, weight in self.config.weights.items():
            if weight <= 0:
                continue
            needs_store = kind in ("order", "order_state")
            needs_ps = kind in ("ps_stock", "ps_price")
            needs_doli = kind.startswith("doli_")
            if (needs_store and self.store is None) or (needs_ps and self.prestashop is None) or (
                    needs_doli and self.dolibarr is None):
                continue
            kinds.append((kind, weight))
        return kinds

    async def step(self, kind: str | None = None) -> ActivityEvent:
        """Run one event (of ``kind``, or drawn from the weights) and record it."""
        if not self._prepared:
            self._prepare()
        if kind is None:
            kinds = self._available_kinds()
            if not kinds:
                raise RuntimeError("no event kind can run: give a store and/or API clients")
            kind = self._rng.choices([k for k, _w in kinds], [w for _k, w in kinds])[0]
        target = "dolibarr" if kind.startswith("doli_") else "prestashop"
        event = ActivityEvent(seq=len(self.events) + 1, kind=kind, target=target,
                              started_at=time.time(), started_monotonic=time.monotonic())
        handler = getattr(self, f"_do_{kind}")
        try:
            await handler(event)
        except httpx2.HTTPError as exc:
            event.ok = False
            event.error = f"{type(exc).__name__}: {_safe_message(exc)}"
        except _Skip as exc:
            event.skipped = True
            event.ok = False
            event.error = str(exc)
        except (KeyError, ValueError, TypeError) as exc:  # bad data from a remote or the store
            event.ok = False
            event.error = f"{type(exc).__name__}: {exc}"[:300]
        event.finished_at = time.time()
        self.events.append(event)
        return event

    # -- PrestaShop store side ------------------------------------------------------------

    def _store_clock(self) -> datetime:
        if self.store is not None:
            try:
                return datetime.strptime(self.store.now(), "%Y-%m-%d %H:%M:%S")
            except ValueError:
                pass
        return datetime.now().replace(microsecond=0)

    def _prepare(self) -> None:
        self._prepared = True
        if self.store is None:
            return
        if self._factory is None:
            tables = self._tables or {name: self.store.rows(name) for name in _FACTORY_TABLES}
            mix = OrderMix(new_customer_share=self.config.new_customer_share)
            self._factory = OrderFactory(tables, seed=self._rng.getrandbits(64), mix=mix)
        if self._factory.numbers is None:
            # share the shop's own invoice / delivery counters when it has them (PrestaShopStore)
            self._factory.numbers = getattr(self.store, "next_number", None)
        orders = self.store.rows("orders")
        self._open_orders = [int(o["id"]) for o in orders[-2000:] if int(o.get("current_state") or 0) in NEXT_STATES]
        self._ps_products = [int(p["id"]) for p in self.store.rows("products")]
        self._ps_stock = _editable_stock(self.store.rows("stock_availables"))

    async def _do_order(self, event: ActivityEvent) -> None:
        assert self.store is not None and self._factory is not None
        store = self.store
        if self._factory.numbers is None:
            # the shop numbers invoices and deliveries itself too (state changes): continue after them
            self._factory.raise_number_floors(
                invoice=1 + max((int(r.get("number") or 0) for r in store.rows("order_invoices")), default=0),
                delivery=1 + max((int(r.get("delivery_number") or 0) for r in store.rows("orders")), default=0))
        draft = self._factory.build(self._clock(), id_shop=self.config.ps_shop_id, progress=1)
        new_customer = draft.customer is not None

        def insert(resource: str, row: Row) -> int:
            return store.insert(resource, {k: v for k, v in row.items() if k != "id"})

        ids = self._factory.commit(draft, insert, store.update)
        self._open_orders.append(ids["order"])
        restocked: list[tuple[int, int]] = []
        decremented = self._decrement_stock(draft.details, restocked)
        event.data = {
            "id_order": ids["order"], "reference": draft.order["reference"], "id_customer": ids["customer"],
            "new_customer": new_customer, "current_state": draft.final_state,
            "total_paid_tax_incl": draft.order["total_paid_tax_incl"],
            "total_paid_tax_excl": draft.order["total_paid_tax_excl"], "id_currency": draft.order["id_currency"],
            "lines": [(d["product_id"], d["product_attribute_id"], d["product_quantity"]) for d in draft.details],
            "stock": decremented, "restocked": restocked,
        }

    def _decrement_stock(self, details: list[Row], restocked: list[tuple[int, int]]) -> list[tuple[int, int]]:
        """Decrement the ordered quantities; a line ordering more than the stock is first restocked
        (``restocked`` gets ``(stock id, quantity after the restock)``), so stock never goes negative."""
        assert self.store is not None
        changed = []
        for detail in details:
            key = (detail["product_id"], detail["product_attribute_id"], detail["id_shop"])
            stock_id = self._stock_index.get(key)
            if stock_id is None:
                self._stock_index = {
                    (s["id_product"], s["id_product_attribute"], s["id_shop"]): int(s["id"])
                    for s in self.store.rows("stock_availables")
                }
                stock_id = self._stock_index.get(key)
            row = self.store.get("stock_availables", stock_id) if stock_id is not None else None
            if row is None or stock_id is None:
                continue
            available, ordered = int(row.get("quantity") or 0), int(detail["product_quantity"])
            if available < ordered:  # PrestaShop refuses to oversell by default: the merchant restocked first
                available += ordered + RESTOCK
                self.store.update("stock_availables", stock_id, {"quantity": str(available)})
                restocked.append((stock_id, available))
            quantity = available - ordered
            self.store.update("stock_availables", stock_id, {"quantity": str(quantity)})
            changed.append((stock_id, quantity))
        return changed

    async def _do_order_state(self, event: ActivityEvent) -> None:
        assert self.store is not None
        while self._open_orders:
            index = self._rng.randrange(len(self._open_orders))
            order_id = self._open_orders[index]
            order = self.store.get("orders", order_id)
            current = int(order.get("current_state") or 0) if order else 0
            options = NEXT_STATES.get(current)
            if not options:
                self._open_orders.pop(index)
                continue
            new_state = self._rng.choices([s for s, _w in options], [w for _s, w in options])[0]
            history = self.store.change_order_state(order_id, new_state)
            if new_state not in NEXT_STATES:
                self._open_orders.pop(index)
            event.data = {"id_order": order_id, "from_state": current, "to_state": new_state,
                          "id_order_history": history}
            return
        raise _Skip("skipped: no open order to move")

    # -- PrestaShop Webservice side -----------------------------------------------------------

    async def _ps_ids(self, resource: str, cache: list[int]) -> list[int]:
        if cache:
            return cache
        assert self.prestashop is not None
        params = {"output_format": "JSON", "limit": "500"}
        if resource == "stock_availables":
            params["display"] = "[id,id_product,id_product_attribute]"
        response = await self.prestashop.get(resource, params=params)
        response.raise_for_status()
        payload = response.json()
        items = payload.get(resource, []) if isinstance(payload, dict) else []
        if resource == "stock_availables":
            cache.extend(_editable_stock(items))
        else:
            cache.extend(int(item["id"]) for item in items)
        return cache

    async def _do_ps_stock(self, event: ActivityEvent) -> None:
        assert self.prestashop is not None
        ids = await self._ps_ids("stock_availables", self._ps_stock)
        if not ids:
            raise _Skip("skipped: no stock row in PrestaShop")
        stock_id = self._rng.choice(ids)
        quantity = self._rng.randrange(0, 300)
        body = (f'<prestashop xmlns:xlink="http://www.w3.org/1999/xlink"><stock_available>'
                f"<id>{stock_id}</id><quantity>{quantity}</quantity></stock_available></prestashop>")
        response = await self.prestashop.patch(f"stock_availables/{stock_id}", content=body.encode(),
                                               headers={"Content-Type": "text/xml"})
        event.data = {"id_stock_available": stock_id, "quantity": quantity, "status": response.status_code}
        response.raise_for_status()

    async def _do_ps_price(self, event: ActivityEvent) -> None:
        assert self.prestashop is not None
        ids = await self._ps_ids("products", self._ps_products)
        if not ids:
            raise _Skip("skipped: no product in PrestaShop")
        product_id = self._rng.choice(ids)
        price = (Decimal(self._rng.randrange(150, 25000)) / 100).quantize(Decimal("0.000001"))
        body = (f'<prestashop xmlns:xlink="http://www.w3.org/1999/xlink"><product>'
                f"<id>{product_id}</id><price>{price}</price></product></prestashop>")
        response = await self.prestashop.patch(f"products/{product_id}", content=body.encode(),
                                               headers={"Content-Type": "text/xml"})
        event.data = {"id_product": product_id, "price": str(price), "status": response.status_code}
        response.raise_for_status()

    # -- Dolibarr side -------------------------------------------------------------------------

    async def _doli_list(self, path: str, params: dict[str, str]) -> list[Row]:
        assert self.dolibarr is not None
        response = await self.dolibarr.get(path, params=params)
        if response.status_code == 404:
            return []
        response.raise_for_status()
        data = response.json()
        return data if isinstance(data, list) else []

    async def _doli_product_ids(self) -> list[int]:
        if not self._doli_products:
            rows = await self._doli_list("products", {"limit": "200", "sortfield": "t.rowid", "sortorder": "DESC"})
            self._doli_products = [int(r["id"]) for r in rows if int(r.get("type") or 0) == 0]
        if not self._doli_products:
            raise _Skip("skipped: no product in Dolibarr yet")
        return self._doli_products

    async def _doli_warehouse_ids(self) -> list[int]:
        if not self._doli_warehouses:
            rows = await self._doli_list("warehouses", {"limit": "50"})
            self._doli_warehouses = [int(r["id"]) for r in rows]
        if not self._doli_warehouses:
            raise _Skip("skipped: no warehouse in Dolibarr")
        return self._doli_warehouses

    async def _do_doli_stock(self, event: ActivityEvent) -> None:
        assert self.dolibarr is not None
        product = self._rng.choice(await self._doli_product_ids())
        warehouse = self._rng.choice(await self._doli_warehouse_ids())
        qty = self._rng.randrange(1, 40)
        body = {"product_id": product, "warehouse_id": warehouse, "qty": qty,
                "label": "dolisync activity: restock", "movementcode": f"ACT-{len(self.events) + 1}"}
        response = await self.dolibarr.post("stockmovements", json=body)
        event.data = {"product_id": product, "warehouse_id": warehouse, "qty": qty, "status": response.status_code}
        response.raise_for_status()
        event.data["id_movement"] = response.json()

    async def _do_doli_price(self, event: ActivityEvent) -> None:
        assert self.dolibarr is not None
        product = self._rng.choice(await self._doli_product_ids())
        price = (Decimal(self._rng.randrange(150, 25000)) / 100).quantize(Decimal("0.01"))
        response = await self.dolibarr.put(f"products/{product}", json={"price": str(price), "price_base_type": "HT"})
        event.data = {"product_id": product, "price": str(price), "status": response.status_code}
        response.raise_for_status()

    async def _do_doli_shipment(self, event: ActivityEvent) -> None:
        assert self.dolibarr is not None
        orders = await self._doli_list("orders", {"limit": "50", "sortfield": "t.rowid", "sortorder": "DESC",
                                                  "sqlfilters": "(t.fk_statut:=:1)"})
        if not orders:
            raise _Skip("skipped: no validated order in Dolibarr")
        order = self._rng.choice(orders)
        warehouse = self._rng.choice(await self._doli_warehouse_ids())
        order_id = int(order["id"])
        created = await self.dolibarr.post(f"orders/{order_id}/shipment/{warehouse}")
        event.data = {"order_id": order_id, "order_ref": order.get("ref", ""), "warehouse_id": warehouse,
                      "status": created.status_code}
        created.raise_for_status()
        shipment_id = int(created.json())
        validated = await self.dolibarr.post(f"shipments/{shipment_id}/validate", json={"notrigger": 0})
        validated.raise_for_status()
        event.data["shipment_id"] = shipment_id
        if self._rng.random() < 0.5:
            closed = await self.dolibarr.post(f"shipments/{shipment_id}/close")
            closed.raise_for_status()
            event.data["closed"] = True


_FACTORY_TABLES = (
    "languages", "currencies", "configurations", "taxes", "tax_rules", "carriers", "order_states",
    "cart_rules", "shops", "customers", "addresses", "orders", "order_invoices", "products",
    "combinations", "product_options", "product_option_values", "specific_prices",
)


def _editable_stock(rows: list[Row]) -> list[int]:
    """Stock rows one would edit: combination rows, and product rows of products without
    combinations (a product row with combinations is their sum, PrestaShop recomputes it)."""
    with_combinations = {str(r["id_product"]) for r in rows if str(r.get("id_product_attribute", "0")) not in ("", "0")}
    return [
        int(r["id"]) for r in rows
        if str(r.get("id_product_attribute", "0")) not in ("", "0") or str(r["id_product"]) not in with_combinations
    ]


class _Skip(Exception):
    """The event could not run for lack of data (recorded as skipped)."""


def _safe_message(exc: httpx2.HTTPError) -> str:
    """The error text without the URL's query string (never a key)."""
    text = str(exc)
    request = getattr(exc, "_request", None)
    if request is not None:
        url = str(request.url)
        text = text.replace(url, url.split("?", 1)[0])
    return text[:300]
