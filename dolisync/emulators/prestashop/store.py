"""In-memory state of an emulated PrestaShop 8.2.1 shop.

Contract:

* Rows follow ``dolisync.emulators.dataset`` (string scalars, multilang ``dict[int, str]``,
  ``associations``, ``_shops``, ``_shop_fields``); missing fields read as ``""``.
* Every table is indexed by id (``dict[int, row]`` kept in id order) so that reads are O(1).
* :meth:`PrestaShopStore.insert` / :meth:`update` maintain ``date_add``/``date_upd`` (shop local
  time) and the business rules the webservice applies: a product gets its stock row, the
  product stock row (``id_product_attribute=0``) is the sum of its combination rows, and
  :meth:`change_order_state` does what ``POST /api/order_histories`` does.
* Keys: ``api_keys`` maps a 32-char key to its permissions (``None`` = every method on every
  resource, else ``{resource: [methods]}``); a permissions dict holding ``"_inactive"`` declares
  a disabled key (401 codes 20+21). ``key_shops[key]`` restricts a key to some shops (403 code
  132). ``webservice_enabled = False`` answers 503 code 22.
* Secondary indexes (:meth:`index`) are maintained by insert/update/delete; code that edits an
  indexed field of a stored row in place must call :meth:`touch`.
"""

from __future__ import annotations

import base64
import bisect
import copy
import json
import pickle
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from dolisync.emulators.dataset import ImageBlob, PrestaShopDataset
from dolisync.mapping.money import to_decimal

__all__ = ["PrestaShopStore", "DEFAULT_API_KEY", "Row"]

Row = dict[str, Any]
DEFAULT_API_KEY = "DOLISYNCEMULATORKEY0000000000001"


def _now_in(timezone: str) -> str:
    return datetime.now(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M:%S")


class PrestaShopStore:
    """Tables of the emulated shop plus images, keys and shop settings."""

    def __init__(
        self,
        tables: dict[str, list[Row]] | None = None,
        images: dict[int, ImageBlob] | None = None,
        api_keys: dict[str, dict[str, list[str]] | None] | None = None,
        shop_domain: str = "127.0.0.1",
        timezone: str = "Europe/Paris",
    ) -> None:
        self.tables: dict[str, dict[int, Row]] = {}
        self.next_ids: dict[str, int] = {}
        self.images: dict[int, ImageBlob] = dict(images or {})
        self.api_keys: dict[str, dict[str, list[str]] | None] = dict(api_keys or {})
        if not self.api_keys:
            self.api_keys[DEFAULT_API_KEY] = None
        # A permissions dict holding the marker "_inactive" declares a disabled key.
        self.inactive_keys: set[str] = {
            key for key, perms in self.api_keys.items() if perms is not None and "_inactive" in perms
        }
        self.key_shops: dict[str, list[int]] = {}
        self.webservice_enabled = True
        self.shop_domain = shop_domain
        self.timezone = timezone
        self.clock: Callable[[], str] = lambda: _now_in(self.timezone)
        self.revision = 0
        self._indexes: dict[tuple[str, str], dict[str, list[Row]]] = {}
        self._numbers: dict[str, int] = {}
        self._category_sizes: dict[str, int] | None = None
        for resource, rows in (tables or {}).items():
            table = self.tables.setdefault(resource, {})
            for row in rows:
                copied = _normalize_row(row)
                table[int(copied["id"])] = copied
        for resource, table in self.tables.items():
            self.next_ids[resource] = max(table, default=0) + 1
        for id_image in self.images:
            self.next_ids["images"] = max(self.next_ids.get("images", 1), id_image + 1)

    # ------------------------------------------------------------------ construction / files
    @classmethod
    def from_dataset(cls, dataset: PrestaShopDataset) -> PrestaShopStore:
        """Build a store holding a deep copy of ``dataset``."""
        return cls(
            tables=copy.deepcopy(dataset.tables),
            images=dict(dataset.images),
            api_keys=copy.deepcopy(dataset.api_keys),
            shop_domain=dataset.shop_domain,
            timezone=dataset.timezone,
        )

    def clone(self) -> PrestaShopStore:
        """An independent copy of the whole state (a pickle round trip: fast for test fixtures)."""
        state = pickle.loads(
            pickle.dumps(
                (self.tables, self.next_ids, self.images, self.api_keys, self.inactive_keys, self.key_shops),
                protocol=pickle.HIGHEST_PROTOCOL,
            )
        )
        twin = PrestaShopStore(shop_domain=self.shop_domain, timezone=self.timezone)
        twin.tables, twin.next_ids, twin.images, twin.api_keys, twin.inactive_keys, twin.key_shops = state
        twin.webservice_enabled = self.webservice_enabled
        return twin

    def to_dataset(self) -> PrestaShopDataset:
        """Snapshot the current state as a dataset (deep copy)."""
        return PrestaShopDataset(
            tables={name: copy.deepcopy(list(t.values())) for name, t in self.tables.items()},
            images=dict(self.images),
            api_keys=copy.deepcopy(self.api_keys),
            shop_domain=self.shop_domain,
            timezone=self.timezone,
        )

    def save(self, path: str | Path) -> None:
        """Write the whole state to a JSON file (images base64-encoded)."""
        payload = {
            "tables": {name: list(t.values()) for name, t in self.tables.items()},
            "next_ids": self.next_ids,
            "images": [
                {
                    "id_image": b.id_image,
                    "id_product": b.id_product,
                    "mime": b.mime,
                    "content": base64.b64encode(b.content).decode("ascii"),
                }
                for b in self.images.values()
            ],
            "api_keys": self.api_keys,
            "inactive_keys": sorted(self.inactive_keys),
            "key_shops": self.key_shops,
            "shop_domain": self.shop_domain,
            "timezone": self.timezone,
            "webservice_enabled": self.webservice_enabled,
        }
        Path(path).write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> PrestaShopStore:
        """Read a file written by :meth:`save`."""
        payload = json.loads(Path(path).read_text(encoding="utf-8"))
        images = {
            int(i["id_image"]): ImageBlob(
                id_image=int(i["id_image"]),
                id_product=int(i["id_product"]),
                content=base64.b64decode(i["content"]),
                mime=i.get("mime", "image/jpeg"),
            )
            for i in payload.get("images", [])
        }
        store = cls(
            tables=payload.get("tables", {}),
            images=images,
            api_keys=payload.get("api_keys") or {},
            shop_domain=payload.get("shop_domain", "127.0.0.1"),
            timezone=payload.get("timezone", "Europe/Paris"),
        )
        for name, value in payload.get("next_ids", {}).items():
            store.next_ids[name] = max(int(value), store.next_ids.get(name, 1))
        store.inactive_keys = set(payload.get("inactive_keys", []))
        store.key_shops = {k: [int(s) for s in v] for k, v in (payload.get("key_shops") or {}).items()}
        store.webservice_enabled = bool(payload.get("webservice_enabled", True))
        return store

    # ------------------------------------------------------------------ basic access
    def now(self) -> str:
        """Current shop-local time as PrestaShop stores it."""
        return self.clock()

    def get(self, resource: str, id_: int) -> Row | None:
        """The row ``id_`` of ``resource`` (the stored object, not a copy) or None."""
        return self.tables.get(resource, {}).get(int(id_))

    def rows(self, resource: str) -> list[Row]:
        """All rows of ``resource`` in id order."""
        table = self.tables.get(resource, {})
        keys = list(table)
        if any(a > b for a, b in zip(keys, keys[1:])):
            keys.sort()
        return [table[k] for k in keys]

    def index(self, resource: str, field: str) -> dict[str, list[Row]]:
        """Rows of ``resource`` grouped by ``field`` value, in id order.

        Built on first use, then maintained by :meth:`insert`/:meth:`update`/:meth:`delete`.
        Code that edits an indexed field of a stored row in place must call :meth:`touch`.
        """
        key = (resource, field)
        groups = self._indexes.get(key)
        if groups is None:
            groups = {}
            for row in self.rows(resource):
                groups.setdefault(str(row.get(field, "")), []).append(row)
            self._indexes[key] = groups
        return groups

    def _index_add(self, resource: str, row: Row) -> None:
        for (name, field), groups in self._indexes.items():
            if name == resource:
                group = groups.setdefault(str(row.get(field, "")), [])
                bisect.insort(group, row, key=lambda r: int(r["id"]))

    def _index_remove(self, resource: str, row: Row) -> None:
        for (name, field), groups in self._indexes.items():
            if name == resource:
                group = groups.get(str(row.get(field, "")), [])
                for position, candidate in enumerate(group):
                    if candidate is row:
                        del group[position]
                        break

    def category_size(self, id_category: str) -> int:
        """How many products are associated with category ``id_category`` (category_product)."""
        if self._category_sizes is None:
            sizes: dict[str, int] = {}
            for product in self.table("products").values():
                for item in (product.get("associations") or {}).get("categories") or []:
                    sizes[str(item.get("id"))] = sizes.get(str(item.get("id")), 0) + 1
            self._category_sizes = sizes
        return self._category_sizes.get(str(id_category), 0)

    def set_product_categories(self, product: Row, items: list[Row]) -> None:
        """Replace the category links of ``product`` (keeps category sizes current)."""
        old = [str(i.get("id")) for i in (product.get("associations") or {}).get("categories") or []]
        product.setdefault("associations", {})["categories"] = items
        if self._category_sizes is not None:
            for id_category in old:
                self._category_sizes[id_category] = self._category_sizes.get(id_category, 1) - 1
            for item in items:
                key = str(item.get("id"))
                self._category_sizes[key] = self._category_sizes.get(key, 0) + 1
        self.revision += 1

    def next_number(self, resource: str, field: str) -> int:
        """1 + the highest ``field`` value of ``resource`` (invoice / delivery numbers)."""
        key = f"{resource}.{field}"
        if key not in self._numbers:
            self._numbers[key] = max((int(r.get(field) or 0) for r in self.table(resource).values()), default=0)
        self._numbers[key] += 1
        return self._numbers[key]

    def table(self, resource: str) -> dict[int, Row]:
        """The id -> row index of ``resource`` (created empty if needed)."""
        return self.tables.setdefault(resource, {})

    def allocate_id(self, resource: str) -> int:
        """Reserve the next auto-increment id of ``resource``."""
        table = self.table(resource)
        next_id = max(self.next_ids.get(resource, 1), max(table, default=0) + 1)
        self.next_ids[resource] = next_id + 1
        return next_id

    def insert(self, resource: str, row: Row) -> int:
        """Store ``row`` (id assigned if absent), set dates, apply side effects; return its id."""
        stored = _normalize_row(row)
        if not str(stored.get("id") or "").strip():
            stored["id"] = str(self.allocate_id(resource))
        id_ = int(stored["id"])
        stored["id"] = str(id_)
        self.next_ids[resource] = max(self.next_ids.get(resource, 1), id_ + 1)
        now = self.now()
        if "date_add" not in row or not row.get("date_add"):
            stored["date_add"] = now
        stored["date_upd"] = now
        previous = self.table(resource).get(id_)
        if previous is not None:
            self._index_remove(resource, previous)
        self.table(resource)[id_] = stored
        self._index_add(resource, stored)
        self.revision += 1
        self._after_write(resource, stored, created=True)
        return id_

    def update(self, resource: str, id_: int, changes: Row) -> None:
        """Apply ``changes`` to row ``id_`` and bump ``date_upd``; KeyError if absent."""
        row = self.tables.get(resource, {}).get(int(id_))
        if row is None:
            raise KeyError(f"{resource} {id_} does not exist")
        self._index_remove(resource, row)
        for key, value in _normalize_row(changes).items():
            if key == "id":
                continue
            row[key] = value
        row["date_upd"] = self.now()
        self._index_add(resource, row)
        self.revision += 1
        self._after_write(resource, row, created=False)

    def delete(self, resource: str, id_: int) -> bool:
        """Remove row ``id_``; True when it existed. Dependent rows are cleaned up."""
        row = self.tables.get(resource, {}).pop(int(id_), None)
        if row is None:
            return False
        self._index_remove(resource, row)
        self.revision += 1
        if resource == "products":
            self._category_sizes = None
            for name in ("stock_availables", "combinations", "specific_prices"):
                for child in list(self.index(name, "id_product").get(str(id_), [])):
                    self.tables[name].pop(int(child["id"]), None)
                    self._index_remove(name, child)
            for id_image in [i for i, b in self.images.items() if b.id_product == int(id_)]:
                del self.images[id_image]
        elif resource == "combinations":
            for stock in list(self.index("stock_availables", "id_product").get(str(row.get("id_product")), [])):
                if stock.get("id_product_attribute") == str(id_):
                    self.tables["stock_availables"].pop(int(stock["id"]), None)
                    self._index_remove("stock_availables", stock)
            self.recompute_product_stock(int(row.get("id_product") or 0))
            self._refresh_default_attribute(int(row.get("id_product") or 0))
        return True

    def touch(self) -> None:
        """Mark the state changed after in-place edits (secondary indexes are rebuilt)."""
        self.revision += 1
        self._indexes.clear()
        self._category_sizes = None

    # ------------------------------------------------------------------ shop settings
    def active_language_ids(self) -> list[int]:
        """Ids of active languages (id order); [1] when no language table."""
        langs = [int(r["id"]) for r in self.rows("languages") if r.get("active", "1") == "1"]
        return langs or [1]

    def shop_ids(self) -> list[int]:
        """Ids of the shops; [1] when no shop table."""
        return [int(r["id"]) for r in self.rows("shops")] or [1]

    def shop_name(self) -> str:
        """Name of the default shop (resource list header)."""
        shops = self.rows("shops")
        return str(shops[0].get("name", "")) if shops else "PrestaShop"

    def configuration(self, name: str, default: str = "") -> str:
        """Value of a global ``configurations`` row by name."""
        for row in self.table("configurations").values():
            if row.get("name") == name:
                return str(row.get("value") or "")
        return default

    # ------------------------------------------------------------------ business rules
    def _after_write(self, resource: str, row: Row, created: bool) -> None:
        if resource == "products" and (row.get("associations") or {}).get("categories"):
            self._category_sizes = None
        if resource == "products" and created:
            self._ensure_stock_row(int(row["id"]), 0)
        if resource == "combinations" and row.get("default_on") == "1":
            self._set_default_combination(row)
        elif resource == "combinations":
            self._refresh_default_attribute(int(row.get("id_product") or 0))
        if resource == "combinations" and created:
            id_product = int(row.get("id_product") or 0)
            product = self.get("products", id_product)
            if product is not None and product.get("product_type") in ("", "standard", None):
                product["product_type"] = "combinations"
            self._ensure_stock_row(id_product, 0)
            self._ensure_stock_row(id_product, int(row["id"]))
            self.recompute_product_stock(id_product)
        elif resource == "stock_availables" and row.get("id_product_attribute", "0") not in ("", "0"):
            self.recompute_product_stock(int(row.get("id_product") or 0))

    def _set_default_combination(self, combination: Row) -> None:
        """Only one default combination per product; the product caches its id."""
        id_product = combination.get("id_product")
        for other in self.index("combinations", "id_product").get(str(id_product), []):
            if other is not combination and other.get("id_product") == id_product and other.get("default_on") == "1":
                other["default_on"] = ""
        product = self.get("products", int(id_product or 0))
        if product is not None:
            product["cache_default_attribute"] = str(combination["id"])
            product.pop("id_default_combination", None)

    def _refresh_default_attribute(self, id_product: int) -> None:
        """``Product::updateDefaultAttribute`` (run by every combination add/update/delete).

        The product caches its ``default_on`` combination, else its lowest combination id, else 0.
        """
        product = self.get("products", id_product)
        if product is None:
            return
        combos = [
            c for c in self.index("combinations", "id_product").get(str(id_product), [])
            if c.get("id_product") == str(id_product)
        ]
        default = next((c for c in combos if c.get("default_on") == "1"), None)
        if default is None and combos:
            default = min(combos, key=lambda c: int(c["id"]))
        product["cache_default_attribute"] = str(default["id"]) if default is not None else "0"
        product.pop("id_default_combination", None)

    def _ensure_stock_row(self, id_product: int, id_attribute: int) -> None:
        for stock in self.index("stock_availables", "id_product").get(str(id_product), []):
            if stock.get("id_product_attribute") == str(id_attribute):
                return
        new_id = self.allocate_id("stock_availables")
        new_row: Row = {
            "id": str(new_id),
            "id_product": str(id_product),
            "id_product_attribute": str(id_attribute),
            "id_shop": "1",
            "id_shop_group": "0",
            "quantity": "0",
            "depends_on_stock": "0",
            "out_of_stock": "2",
            "location": "",
        }
        self.table("stock_availables")[new_id] = new_row
        self._index_add("stock_availables", new_row)

    def recompute_product_stock(self, id_product: int) -> None:
        """Set every product row (attribute 0) to the sum of its combination rows, per shop."""
        rows = self.index("stock_availables", "id_product").get(str(id_product), [])
        combos = [r for r in rows if r.get("id_product_attribute", "0") not in ("", "0")]
        if not combos:
            return
        for product_row in (r for r in rows if r.get("id_product_attribute", "0") in ("", "0")):
            scope = (product_row.get("id_shop"), product_row.get("id_shop_group"))
            total = sum(
                int(r.get("quantity") or 0)
                for r in combos
                if (r.get("id_shop"), r.get("id_shop_group")) == scope
            )
            product_row["quantity"] = str(total)

    def change_order_state(self, id_order: int, id_order_state: int, id_employee: int = 0) -> int:
        """Move order ``id_order`` to ``id_order_state`` like ``POST /api/order_histories``.

        Sets ``current_state``, ``valid`` (from the state's ``logable``), creates the invoice
        (state ``invoice=1``) and the payment row (state ``paid=1``) once, and stores the history
        row. Returns the id of the new order_histories row. KeyError if the order is unknown.
        """
        order = self.get("orders", id_order)
        if order is None:
            raise KeyError(f"order {id_order} does not exist")
        state = self.get("order_states", id_order_state) or {}
        history_id = self.insert(
            "order_histories",
            {
                "id_employee": str(id_employee),
                "id_order_state": str(id_order_state),
                "id_order": str(id_order),
            },
        )
        changes: Row = {"current_state": str(id_order_state)}
        if state:
            changes["valid"] = "1" if state.get("logable") == "1" else "0"
        now = self.now()
        if state.get("invoice") == "1" and order.get("invoice_number", "0") in ("", "0"):
            number = self.next_number("order_invoices", "number")
            self.insert("order_invoices", _invoice_row(order, number, now, self.shop_name()))
            changes["invoice_number"] = str(number)
            changes["invoice_date"] = now
        if state.get("paid") == "1" and to_decimal(order.get("total_paid_real") or 0) == 0:
            amount = order.get("total_paid_tax_incl") or order.get("total_paid") or "0"
            self.insert(
                "order_payments",
                {
                    "order_reference": order.get("reference", ""),
                    "id_currency": order.get("id_currency", "1"),
                    "amount": f"{to_decimal(amount):.6f}",
                    "payment_method": PAYMENT_MODULE_NAMES.get(
                        str(order.get("module") or ""), order.get("payment", "")
                    ),
                    "conversion_rate": order.get("conversion_rate", "1.000000"),
                    "transaction_id": "",
                    "card_number": "",
                    "card_brand": "",
                    "card_expiration": "",
                    "card_holder": "",
                    "date_add": now,
                    "id_employee": "",
                },
            )
            changes["total_paid_real"] = f"{to_decimal(amount):.6f}"
        if state.get("delivery") == "1" and order.get("delivery_number", "0") in ("", "0"):
            number = self.next_number("orders", "delivery_number")
            changes["delivery_number"] = str(number)
            changes["delivery_date"] = now
        self.update("orders", id_order, changes)
        return history_id


# Display names of the demo payment modules (order_payments.payment_method).
PAYMENT_MODULE_NAMES = {
    "ps_checkpayment": "Payments by check",
    "ps_wirepayment": "Bank transfer",
    "ps_cashondelivery": "Cash on delivery (COD)",
}


def _invoice_row(order: Row, number: int, now: str, shop_name: str) -> Row:
    names = (
        "total_discount_tax_excl total_discount_tax_incl total_paid_tax_excl total_paid_tax_incl "
        "total_products total_products_wt total_shipping_tax_excl total_shipping_tax_incl "
        "total_wrapping_tax_excl total_wrapping_tax_incl"
    ).split()
    source = {
        "total_discount_tax_excl": "total_discounts_tax_excl",
        "total_discount_tax_incl": "total_discounts_tax_incl",
    }
    row: Row = {"id_order": order["id"], "number": str(number), "delivery_number": "0"}
    row["delivery_date"] = "0000-00-00 00:00:00"
    for name in names:
        row[name] = f"{to_decimal(order.get(source.get(name, name)) or 0):.6f}"
    row["shipping_tax_computation_method"] = "0"
    row["shop_address"] = shop_name
    row["note"] = ""
    row["date_add"] = now
    return row


def _normalize_row(row: Row) -> Row:
    """Deep-copy ``row`` turning JSON-loaded multilang keys back into ints."""
    out: Row = {}
    for key, value in row.items():
        if isinstance(value, dict) and key not in ("associations", "_shop_fields"):
            out[key] = {int(k): ("" if v is None else str(v)) for k, v in value.items()}
        elif key == "_shop_fields" and isinstance(value, dict):
            out[key] = {int(k): copy.deepcopy(v) for k, v in value.items()}
        elif key in ("associations", "_shops"):
            out[key] = copy.deepcopy(value)
        elif value is None:
            out[key] = ""
        elif isinstance(value, Decimal):
            out[key] = str(value)
        elif isinstance(value, bool):
            out[key] = "1" if value else "0"
        else:
            out[key] = value if isinstance(value, str) else str(value)
    return out
