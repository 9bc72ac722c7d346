"""Reading one PrestaShop shop for the order flows: reference data once, orders in bulk.

Contract:

* :meth:`ShopReader.reference` reads, once per run, the currencies, carriers, order states,
  taxes, countries, languages and the default currency (``PS_CURRENCY_DEFAULT``).
* :meth:`ShopReader.order_ids` lists the orders to look at: all, created since a date
  (``date_add``, shop local time), changed since a date (``date_upd``: the periodic poll), or
  given ids / references.
* :meth:`ShopReader.bundles` reads orders by id in chunks of :data:`CHUNK` with **one** listing
  per resource and chunk (orders, ``order_details``, ``order_cart_rules``, ``order_histories``,
  ``order_payments`` by reference, the ids of every order sharing a reference, customers,
  addresses): a few requests per hundred orders, never one per order and resource.
* Split carts: PrestaShop gives every order split from one cart the same ``reference`` and books
  the cart's payment once, by reference (``PaymentModule::validateOrder`` ->
  ``addOrderPayment`` with the whole amount). Each bundle therefore carries every payment of
  its reference and ``siblings``: the ids of all orders with that reference, ascending (also
  those outside the selection), so that a ref or a payment can be decided the same way
  whichever order of the cart is synced first.
* Nothing here writes; every read goes through :class:`~dolisync.clients.prestashop.PrestaShopClient`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from dolisync.clients.prestashop import PrestaShopClient
from dolisync.clients.prestashop_records import (
    Address,
    Carrier,
    Country,
    Currency,
    Customer,
    Language,
    Order,
    OrderCartRule,
    OrderDetail,
    OrderHistory,
    OrderPayment,
    OrderState,
    Tax,
)

__all__ = ["CHUNK", "ShopReference", "OrderBundle", "ShopReader"]

CHUNK = 100


@dataclass(frozen=True, slots=True)
class ShopReference:
    """Reference data of one shop, read once per run."""

    currencies: dict[int, Currency]
    carriers: dict[int, Carrier]
    states: list[OrderState]
    taxes: dict[int, Decimal]
    countries: dict[int, Country]
    languages: dict[int, Language]
    default_currency: str

    def currency_iso(self, currency_id: int) -> str:
        """ISO code of a currency id ('' when unknown)."""
        currency = self.currencies.get(currency_id)
        return currency.iso_code.upper() if currency is not None else ""

    def country_iso(self, country_id: int) -> str:
        """ISO code of a country id ('' when unknown)."""
        country = self.countries.get(country_id)
        return country.iso_code.upper() if country is not None else ""

    def locale(self, language_id: int) -> str:
        """Dolibarr language code (``fr_FR``) of a shop language id ('' when unknown)."""
        language = self.languages.get(language_id)
        if language is None:
            return ""
        locale = (language.locale or language.language_code or "").replace("-", "_")
        if "_" in locale:
            head, tail = locale.split("_", 1)
            return f"{head.lower()}_{tail.upper()}"
        return f"{locale.lower()}_{locale.upper()}" if len(locale) == 2 else ""


@dataclass(slots=True)
class OrderBundle:
    """One order and every row the order flows need about it."""

    order: Order
    details: list[OrderDetail] = field(default_factory=list)
    cart_rules: list[OrderCartRule] = field(default_factory=list)
    histories: list[OrderHistory] = field(default_factory=list)
    payments: list[OrderPayment] = field(default_factory=list)
    customer: Customer | None = None
    addresses: dict[int, Address] = field(default_factory=dict)
    siblings: tuple[int, ...] = ()
    """Ids of every order with this order's reference, ascending (itself included; empty when the
    reference is empty). More than one: a split cart."""

    @property
    def split(self) -> bool:
        """True when other orders share this order's reference (a cart split into several orders)."""
        return len(self.siblings) > 1

    @property
    def state_history(self) -> list[int]:
        """Order state ids reached, oldest first."""
        return [h.id_order_state for h in sorted(self.histories, key=lambda h: h.id)]


def _chunks(items: Sequence[int], size: int) -> list[Sequence[int]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


class ShopReader:
    """Bulk reads of one shop (see module docstring)."""

    def __init__(self, client: PrestaShopClient, reference: ShopReference | None = None) -> None:
        """``reference``: reference data already read (a recent run's), used instead of reading it."""
        self.client = client
        self._reference: ShopReference | None = reference

    async def reference(self) -> ShopReference:
        """Reference data (cached)."""
        if self._reference is None:
            c = self.client
            currencies = {x.id: x async for x in c.list("currencies", record_type=Currency)}
            carriers = {x.id: x async for x in c.list("carriers", record_type=Carrier)}
            states = [x async for x in c.list("order_states", record_type=OrderState)]
            taxes = {x.id: x.rate async for x in c.list("taxes", record_type=Tax)}
            countries = {x.id: x async for x in c.list("countries", record_type=Country)}
            languages = {x.id: x async for x in c.list("languages", record_type=Language)}
            default = ""
            async for row in c.list_raw("configurations", filters={"name": "PS_CURRENCY_DEFAULT"}):
                value = str(row.get("value") or "")
                if value.isdigit() and int(value) in currencies:
                    default = currencies[int(value)].iso_code.upper()
            self._reference = ShopReference(currencies, carriers, states, taxes, countries, languages, default)
        return self._reference

    async def order_ids(self, *, since: datetime | None = None, ids: Iterable[str] | None = None,
                        changed_since: datetime | None = None) -> list[int]:
        """Ids of the orders to sync (see module docstring); ``ids`` items are ids or references;
        ``changed_since`` (shop local time) selects by ``date_upd`` (the periodic poll)."""
        if ids is not None:
            wanted = [str(i).strip() for i in ids if str(i).strip()]
            numeric = sorted({int(i) for i in wanted if i.isdigit()})
            refs = sorted({i for i in wanted if not i.isdigit()})
            found: set[int] = set()
            for chunk in _chunks(numeric, CHUNK):
                found.update(await self.client.list_ids("orders", filters={"id": list(chunk)}))
            for ref in refs:
                found.update(await self.client.list_ids("orders", filters={"reference": ref}))
            return sorted(found)
        filters: dict[str, str] = {}
        if since is not None:
            filters["date_add"] = f">[{since.strftime('%Y-%m-%d %H:%M:%S')}]"
        if changed_since is not None:
            filters["date_upd"] = f">[{changed_since.strftime('%Y-%m-%d %H:%M:%S')}]"
        if filters:
            return await self.client.list_ids("orders", filters=filters, date=True)
        return await self.client.list_ids("orders")

    async def customer_ids(self, *, since: datetime | None = None) -> list[int]:
        """Ids of the customers created since ``since`` (all when None)."""
        if since is not None:
            stamp = since.strftime("%Y-%m-%d %H:%M:%S")
            return await self.client.list_ids("customers", filters={"date_add": f">[{stamp}]"}, date=True)
        return await self.client.list_ids("customers")

    async def customers(self, ids: Sequence[int]) -> tuple[dict[int, Customer], dict[int, list[Address]]]:
        """Customers by id and their (not deleted) addresses, in bulk."""
        customers: dict[int, Customer] = {}
        addresses: dict[int, list[Address]] = defaultdict(list)
        for chunk in _chunks(sorted(set(ids)), CHUNK):
            async for customer in self.client.list("customers", record_type=Customer, filters={"id": list(chunk)}):
                customers[customer.id] = customer
            async for address in self.client.list("addresses", record_type=Address,
                                                  filters={"id_customer": list(chunk)}):
                if not address.deleted:
                    addresses[address.id_customer].append(address)
        return customers, addresses

    async def addresses(self, ids: Sequence[int]) -> dict[int, Address]:
        """Addresses by id (deleted ones included: an order keeps pointing at them)."""
        out: dict[int, Address] = {}
        for chunk in _chunks(sorted(set(ids)), CHUNK):
            async for address in self.client.list("addresses", record_type=Address, filters={"id": list(chunk)}):
                out[address.id] = address
        return out

    async def bundles(self, order_ids: Sequence[int]) -> list[OrderBundle]:
        """Every order of ``order_ids`` with its rows, in id order (missing ids are left out)."""
        out: list[OrderBundle] = []
        for chunk in _chunks(sorted(set(order_ids)), CHUNK):
            orders = [o async for o in self.client.list("orders", record_type=Order, filters={"id": list(chunk)})]
            if not orders:
                continue
            by_id = {o.id: OrderBundle(order=o) for o in orders}
            ids = sorted(by_id)
            async for detail in self.client.list("order_details", record_type=OrderDetail,
                                                 filters={"id_order": ids}):
                if detail.id_order in by_id:
                    by_id[detail.id_order].details.append(detail)
            async for rule in self.client.list("order_cart_rules", record_type=OrderCartRule,
                                               filters={"id_order": ids}):
                if rule.id_order in by_id and not rule.deleted:
                    by_id[rule.id_order].cart_rules.append(rule)
            async for history in self.client.list("order_histories", record_type=OrderHistory,
                                                  filters={"id_order": ids}):
                if history.id_order in by_id:
                    by_id[history.id_order].histories.append(history)
            by_reference: dict[str, list[OrderBundle]] = defaultdict(list)
            for bundle in by_id.values():
                if bundle.order.reference:
                    by_reference[bundle.order.reference].append(bundle)
            refs = sorted(r for r in by_reference if not any(ch in r for ch in "[]|"))
            for ref_chunk in _chunks(refs, CHUNK):  # type: ignore[type-var]
                siblings: dict[str, list[int]] = defaultdict(list)
                async for row in self.client.list_raw("orders", display="[id,reference]",
                                                      filters={"reference": list(ref_chunk)}):
                    siblings[str(row.get("reference") or "")].append(int(row["id"]))
                for ref in ref_chunk:
                    for bundle in by_reference[ref]:
                        bundle.siblings = tuple(sorted(set(siblings.get(ref, [])) | {bundle.order.id}))
                async for payment in self.client.list("order_payments", record_type=OrderPayment,
                                                      filters={"order_reference": list(ref_chunk)}):
                    for target in by_reference.get(payment.order_reference, []):
                        target.payments.append(payment)  # a split cart's payment: see Payments.record
            customer_ids = sorted({o.id_customer for o in orders if o.id_customer})
            customers = await self._customers_by_id(customer_ids)
            address_ids = sorted({a for o in orders for a in (o.id_address_delivery, o.id_address_invoice) if a})
            addresses = await self.addresses(address_ids)
            for bundle in by_id.values():
                bundle.customer = customers.get(bundle.order.id_customer)
                for address_id in (bundle.order.id_address_invoice, bundle.order.id_address_delivery):
                    if address_id in addresses:
                        bundle.addresses[address_id] = addresses[address_id]
            out.extend(by_id[i] for i in ids)
        return out

    async def _customers_by_id(self, ids: Sequence[int]) -> dict[int, Customer]:
        """Customers by id (without addresses)."""
        customers: dict[int, Customer] = {}
        for chunk in _chunks(sorted(set(ids)), CHUNK):
            async for customer in self.client.list("customers", record_type=Customer, filters={"id": list(chunk)}):
                customers[customer.id] = customer
        return customers
