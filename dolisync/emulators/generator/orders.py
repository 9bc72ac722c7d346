"""The order factory: one new, consistent PrestaShop order from the current catalogue (or, with
:meth:`OrderFactory.build_split`, the several orders of one cart split by PrestaShop).

Contract: :meth:`OrderFactory.build` returns an :class:`OrderDraft` holding every row the order
needs (a new customer and address when asked, the cart, the order, its ``order_details``,
``order_cart_rules``, ``order_carriers``, ``order_histories``, ``order_invoices`` when an
invoiced state was reached, ``order_payments`` when a paid state was reached). All money comes
from :func:`dolisync.mapping.prestashop_money.compute_order`. :meth:`OrderDraft.commit` inserts
the rows in dependency order through a caller-given ``insert(resource, row) -> id`` and wires
the foreign keys, so the same draft can fill a generated dataset or a live emulator
(``PrestaShopStore.insert``). The factory only reads ``tables`` at construction; it then keeps
its own view (customers it created, invoice and delivery numbers, references).
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from dolisync.emulators.generator.catalog_index import Catalog, Sellable, TaxResolver
from dolisync.emulators.generator.people import COUNTRY_WEIGHTS_FR, PeopleMaker
from dolisync.emulators.generator.reference import CARRIERS, COUNTRIES, PAYMENT_MODULES
from dolisync.emulators.generator.rows import Row, RowFactory, money6, ps_date
from dolisync.mapping.money import to_decimal
from dolisync.mapping.prestashop_money import (
    CartLine,
    CartRuleSpec,
    OrderInput,
    OrderMoney,
    compute_order,
)

__all__ = ["OrderFactory", "OrderDraft", "OrderMix", "STATE_PATHS", "Insert", "Update", "NumberSource"]

Insert = Callable[[str, Row], int]
Update = Callable[[str, int, Row], None]
NumberSource = Callable[[str, str], int]  # (resource, field) -> next number, e.g. PrestaShopStore.next_number

# module -> list of (weight, path of order states)
STATE_PATHS: dict[str, list[tuple[int, list[int]]]] = {
    "ps_checkpayment": [(8, [1, 2, 3, 4, 5]), (1, [1, 6]), (1, [12, 9, 4, 5])],
    "ps_wirepayment": [(8, [10, 2, 3, 4, 5]), (1, [10, 6]), (1, [11, 3, 4, 5])],
    "ps_cashondelivery": [(9, [13, 4, 5]), (1, [13, 6])],
    "ps_checkout": [(8, [2, 3, 4, 5]), (1, [2, 7]), (1, [8]), (1, [9, 4, 5])],
}
_ROUND_TYPE_WEIGHTS = ((2, 80), (1, 10), (3, 10))
_LETTERS = string.ascii_uppercase
_ZERO = Decimal(0)


@dataclass(slots=True)
class OrderMix:
    """Shares that shape generated orders."""

    new_customer_share: float = 0.0
    guest_share: float = 0.25
    cart_rule_share: float = 0.3
    gift_share: float = 0.08
    max_lines: int = 5
    modules: tuple[tuple[str, int], ...] = (
        ("ps_checkpayment", 20), ("ps_wirepayment", 25), ("ps_cashondelivery", 10), ("ps_checkout", 45))
    round_types: tuple[tuple[int, int], ...] = _ROUND_TYPE_WEIGHTS


@dataclass(slots=True)
class OrderDraft:
    """Every row of one order, not inserted yet (``"id"`` empty, foreign keys wired by commit)."""

    order: Row
    cart: Row
    details: list[Row]
    cart_rules: list[Row]
    carrier: Row
    histories: list[Row]
    payments: list[Row]
    invoice: Row | None
    money: OrderMoney
    customer: Row | None = None  # new customer to insert first
    addresses: list[Row] = field(default_factory=list)  # new addresses to insert
    ids: dict[str, Any] = field(default_factory=dict)
    # what another order of the same (split) cart reuses: the customer row and both addresses
    customer_row: Row = field(default_factory=dict)
    delivery_row: Row = field(default_factory=dict)
    invoice_row: Row = field(default_factory=dict)
    same_cart_as: OrderDraft | None = None

    @property
    def final_state(self) -> int:
        """The order's ``current_state``."""
        return int(self.order["current_state"])

    def commit(self, insert: Insert, update: Update | None = None) -> dict[str, Any]:
        """Insert every row with ``insert`` (customer, addresses, cart, order, invoice, lines,
        cart rules, carrier, histories, payments) and return the ids given.

        The order's ``associations/order_rows`` can only be filled once the lines have ids: it
        is set on the local order row and, when ``update`` is given (a store that copies rows
        on insert), written with ``update("orders", id, {"associations": ...})``.
        """
        if self.same_cart_as is not None:
            self._wire_to_cart(self.same_cart_as)
        if self.customer is not None:
            customer_id = insert("customers", self.customer)
            self.customer["id"] = str(customer_id)
            for row in (self.order, self.cart):
                row["id_customer"] = str(customer_id)
        for address in self.addresses:
            if self.customer is not None:
                address["id_customer"] = self.customer["id"]
            placeholder = address["id"]
            address["id"] = str(insert("addresses", address))
            for row, key in ((self.order, "id_address_delivery"), (self.order, "id_address_invoice"),
                             (self.cart, "id_address_delivery"), (self.cart, "id_address_invoice")):
                if row[key] == placeholder:
                    row[key] = address["id"]
            for item in self.cart.get("associations", {}).get("cart_rows", []):
                if item["id_address_delivery"] == placeholder:
                    item["id_address_delivery"] = address["id"]
        if self.same_cart_as is None:
            self.cart["id"] = str(insert("carts", self.cart))
        else:
            self.cart["id"] = self.same_cart_as.cart["id"]
        self.order["id_cart"] = self.cart["id"]
        order_id = str(insert("orders", self.order))
        self.order["id"] = order_id
        invoice_id = "0"
        if self.invoice is not None:
            self.invoice["id_order"] = order_id
            invoice_id = str(insert("order_invoices", self.invoice))
            self.invoice["id"] = invoice_id
        order_rows = []
        for detail in self.details:
            detail["id_order"] = order_id
            detail["id_order_invoice"] = invoice_id
            detail["id"] = str(insert("order_details", detail))
            order_rows.append({
                "id": detail["id"], "product_id": detail["product_id"],
                "product_attribute_id": detail["product_attribute_id"],
                "product_quantity": detail["product_quantity"], "product_name": detail["product_name"],
                "product_reference": detail["product_reference"], "product_ean13": detail["product_ean13"],
                "product_isbn": detail["product_isbn"], "product_upc": detail["product_upc"],
                "product_price": detail["product_price"], "id_customization": "0",
                "unit_price_tax_incl": detail["unit_price_tax_incl"],
                "unit_price_tax_excl": detail["unit_price_tax_excl"],
            })
        self.order["associations"] = {"order_rows": order_rows}
        if update is not None:
            update("orders", int(order_id), {"associations": {"order_rows": order_rows}})
        for rule in self.cart_rules:
            rule["id_order"] = order_id
            rule["id_order_invoice"] = invoice_id
            rule["id"] = str(insert("order_cart_rules", rule))
        self.carrier["id_order"] = order_id
        self.carrier["id_order_invoice"] = invoice_id if invoice_id != "0" else ""
        self.carrier["id"] = str(insert("order_carriers", self.carrier))
        for history in self.histories:
            history["id_order"] = order_id
            history["id"] = str(insert("order_histories", history))
        for payment in self.payments:
            payment["id"] = str(insert("order_payments", payment))
        self.ids = {
            "order": int(order_id), "cart": int(self.cart["id"]),
            "customer": int(self.order["id_customer"]),
            "order_details": [int(d["id"]) for d in self.details],
            "order_invoice": int(invoice_id) if invoice_id != "0" else None,
        }
        return self.ids

    def _wire_to_cart(self, first: OrderDraft) -> None:
        """Take the customer, address and cart ids the first order of the cart got on insert."""
        for name in ("id_customer", "id_address_delivery", "id_address_invoice", "id_cart"):
            self.order[name] = first.order[name]
        for name in ("id_customer", "id_address_delivery", "id_address_invoice"):
            self.cart[name] = first.cart[name]
        for item in self.cart.get("associations", {}).get("cart_rows", []):
            item["id_address_delivery"] = first.order["id_address_delivery"]


class OrderFactory:
    """Builds orders against a catalogue (see module docstring)."""

    def __init__(
        self,
        tables: Mapping[str, list[Row]],
        *,
        seed: int,
        rows: RowFactory | None = None,
        mix: OrderMix | None = None,
        country_weights: list[tuple[int, int]] | None = None,
        catalog: Catalog | None = None,
        numbers: NumberSource | None = None,
    ) -> None:
        self._rng = random.Random(seed)
        self.numbers = numbers
        languages = [int(lang["id"]) for lang in tables.get("languages", [])] or [1, 2]
        self._rows = rows or RowFactory(languages)
        self._languages = languages
        self.mix = mix or OrderMix()
        self.catalog = catalog or Catalog.from_tables(tables)
        self.taxes = TaxResolver(tables)
        self.people = PeopleMaker(self._rows, self._rng, country_weights or COUNTRY_WEIGHTS_FR)
        config = {c["name"]: c["value"] for c in tables.get("configurations", [])}
        self._default_currency = int(config.get("PS_CURRENCY_DEFAULT", "1") or 1)
        self._wrapping_price = to_decimal(config.get("PS_GIFT_WRAPPING_PRICE", "0"))
        self._wrapping_group = int(config.get("PS_GIFT_WRAPPING_TAX_RULES_GROUP", "0") or 0)
        self._currencies = {int(c["id"]): (str(c["iso_code"]), to_decimal(c["conversion_rate"]))
                            for c in tables.get("currencies", [])}
        self._currency_by_iso = {iso: cid for cid, (iso, _r) in self._currencies.items()}
        self._carriers: dict[int, tuple[str, int, Decimal, bool]] = {}
        for carrier in tables.get("carriers", []):
            cid = int(carrier["id"])
            known = CARRIERS.get(cid)
            price = known[2] if known and known[0] == carrier["name"] else Decimal("7")
            self._carriers[cid] = (str(carrier["name"]), int(carrier["id_tax_rules_group"] or 0), price,
                                   carrier["is_free"] == "1")
        self._states = {int(s["id"]): s for s in tables.get("order_states", [])}
        self._cart_rules = [r for r in tables.get("cart_rules", []) if r.get("active", "1") == "1"]
        self._shop_names = {int(s["id"]): str(s["name"]) for s in tables.get("shops", [])}
        self._shop_ids = sorted(self._shop_names) or [1]
        self._customers_by_shop: dict[int, list[Row]] = {}
        for customer in tables.get("customers", []):
            if customer.get("deleted", "0") == "0":
                self._customers_by_shop.setdefault(int(customer["id_shop"] or 1), []).append(customer)
        self._addresses: dict[str, list[Row]] = {}
        for address in tables.get("addresses", []):
            if address.get("deleted", "0") == "0" and address.get("id_customer", "0") not in ("", "0"):
                self._addresses.setdefault(str(address["id_customer"]), []).append(address)
        self._references = {str(o["reference"]) for o in tables.get("orders", [])}
        self._next_invoice = 1 + max((int(i["number"] or 0) for i in tables.get("order_invoices", [])), default=0)
        self._next_delivery = 1 + max((int(o["delivery_number"] or 0) for o in tables.get("orders", [])), default=0)
        self._serial = len(tables.get("customers", [])) + 1
        self._placeholder = 0

    # -- choices ------------------------------------------------------------------------

    def _reference(self) -> str:
        while True:
            ref = "".join(self._rng.choice(_LETTERS) for _ in range(9))
            if ref not in self._references:
                self._references.add(ref)
                return ref

    def _currency_for(self, country_iso: str) -> int:
        rng = self._rng
        wanted = {"US": ("USD", 0.8), "CA": ("CAD", 0.85), "GB": ("GBP", 0.7)}.get(country_iso)
        if wanted and wanted[0] in self._currency_by_iso and rng.random() < wanted[1]:
            return self._currency_by_iso[wanted[0]]
        if rng.random() < 0.05 and "USD" in self._currency_by_iso:
            return self._currency_by_iso["USD"]
        return self._default_currency

    def new_customer(self, when: datetime, *, id_shop: int, guest: bool | None = None) -> tuple[Row, list[Row]]:
        """A new customer row and 1-3 address rows (placeholders until inserted)."""
        rng = self._rng
        is_guest = rng.random() < self.mix.guest_share if guest is None else guest
        lang = self._languages[0] if rng.random() < 0.5 or len(self._languages) < 2 else self._languages[1]
        customer = self.people.customer(self._serial, when=when, id_shop=id_shop, guest=is_guest, id_lang=lang)
        self._serial += 1
        addresses = []
        count = 1 if is_guest else rng.choice((1, 1, 2, 3))
        country = None
        for index in range(count):
            self._placeholder += 1
            address = self.people.address(customer, when=when, alias=("My address", "Home", "Work")[index],
                                          country=country)
            country = int(address["id_country"]) if rng.random() < 0.7 else None
            address["id"] = f"new-{self._placeholder}"
            addresses.append(address)
        return customer, addresses

    def raise_number_floors(self, *, invoice: int = 0, delivery: int = 0) -> None:
        """Never hand out invoice / delivery numbers below these (numbers the shop gave meanwhile)."""
        self._next_invoice = max(self._next_invoice, invoice)
        self._next_delivery = max(self._next_delivery, delivery)

    def _take_number(self, resource: str, name: str) -> int:
        """The next invoice or delivery number: from ``numbers`` (the live shop's counter,
        shared with its own state changes) or from the factory's counters."""
        if self.numbers is not None:
            return self.numbers(resource, name)
        if resource == "order_invoices":
            self._next_invoice += 1
            return self._next_invoice - 1
        self._next_delivery += 1
        return self._next_delivery - 1

    def remember_customer(self, customer: Row, addresses: list[Row]) -> None:
        """Make an inserted customer (rows with real ids) available to later orders."""
        self._customers_by_shop.setdefault(int(customer["id_shop"] or 1), []).append(customer)
        self._addresses.setdefault(str(customer["id"]), []).extend(addresses)

    def commit(self, draft: OrderDraft, insert: Insert, update: Update | None = None) -> dict[str, Any]:
        """Insert ``draft`` (see :meth:`OrderDraft.commit`) and remember a new customer or new
        addresses for later orders."""
        ids = draft.commit(insert, update)
        if draft.customer is not None:
            self.remember_customer(draft.customer, draft.addresses)
        elif draft.addresses:
            self._addresses.setdefault(str(draft.order["id_customer"]), []).extend(draft.addresses)
        return ids

    # -- building -------------------------------------------------------------------------

    def build(
        self,
        when: datetime,
        *,
        id_shop: int | None = None,
        new_customer: bool | None = None,
        progress: int | None = None,
        module: str | None = None,
        horizon: datetime | None = None,
    ) -> OrderDraft:
        """A new order placed at ``when``.

        ``progress`` = how many states of the payment module's path were reached (1 = only the
        initial state, as checkout leaves it; None = random). ``new_customer`` forces or
        forbids a new customer (None: ``mix.new_customer_share``, or new when the shop has none).
        ``horizon``: state changes that would happen after it are not made (an order placed an
        hour before the horizon is not delivered yet).
        """
        rng = self._rng
        shop = id_shop or rng.choice(self._shop_ids)
        known = self._customers_by_shop.get(shop, [])
        create = (rng.random() < self.mix.new_customer_share) if new_customer is None else new_customer
        new_customer_row: Row | None = None
        draft_addresses: list[Row] = []
        if create or not known:
            customer, addresses = self.new_customer(when - timedelta(minutes=rng.randrange(1, 30)), id_shop=shop)
            new_customer_row = customer
            draft_addresses = addresses
        else:
            customer = rng.choice(known)
            addresses = self._addresses.get(str(customer["id"]), [])
            if not addresses:
                self._placeholder += 1
                address = self.people.address(customer, when=when, alias="My address")
                address["id"] = f"new-{self._placeholder}"
                addresses = draft_addresses = [address]
        delivery = rng.choice(addresses)
        invoice_address = delivery if rng.random() < 0.8 else rng.choice(addresses)
        country = int(delivery["id_country"])
        state = int(delivery["id_state"] or 0)
        country_iso = _country_iso(country)
        currency = self._currency_for(country_iso)
        conversion = self._currencies.get(currency, ("", Decimal(1)))[1]
        lang = int(customer["id_lang"] or self._languages[0])
        group = int(customer["id_default_group"] or 3)

        pool = self.catalog.by_shop.get(shop) or self.catalog.sellables
        count = min(len(pool), rng.choices((1, 2, 3, 4, 5), (20, 30, 25, 15, 10))[0], self.mix.max_lines)
        items: list[Sellable] = rng.sample(pool, count) if count < len(pool) else list(pool)
        lines: list[CartLine] = []
        for item in items:
            quantity = rng.choices((1, 2, 3, 4, 6), (60, 20, 10, 6, 4))[0]
            tax = self.taxes.resolve(item.id_tax_rules_group, country, state)
            lines.append(CartLine(
                id_product=item.id_product, quantity=quantity,
                base_price=item.prices.get(shop, next(iter(item.prices.values()))),
                tax=tax, id_product_attribute=item.id_product_attribute,
                attribute_price=item.attribute_price,
                specific_price=self.catalog.specific_price(
                    item, shop=shop, currency=currency, country=country, group=group, quantity=quantity),
                id_tax_rules_group=item.id_tax_rules_group,
                name=item.names.get(lang) or next(iter(item.names.values())),
                reference=item.reference, ean13=item.ean13, isbn=item.isbn, upc=item.upc, mpn=item.mpn,
                weight=item.weight, wholesale_price=item.wholesale_price))

        carrier_ids = [c for c in self._carriers if country == 8 or not self._carriers[c][3]] or list(self._carriers)
        carrier_id = rng.choice(carrier_ids)
        _cname, carrier_group, carrier_price, carrier_free = self._carriers[carrier_id]
        carrier_tax = self.taxes.resolve(carrier_group, country, state)

        chosen_rules: list[Row] = []
        if self._cart_rules and rng.random() < self.mix.cart_rule_share:
            chosen_rules = rng.sample(self._cart_rules, min(len(self._cart_rules), rng.choice((1, 1, 1, 2))))
        specs = [CartRuleSpec(
            id_cart_rule=int(r["id"]), name=str(r["name"].get(lang) or next(iter(r["name"].values()))),
            priority=int(r["priority"] or 1), free_shipping=r["free_shipping"] == "1",
            reduction_percent=to_decimal(r["reduction_percent"]),
            reduction_amount=to_decimal(r["reduction_amount"]), reduction_tax=r["reduction_tax"] == "1",
            reduction_currency_rate=self._currencies.get(int(r["reduction_currency"] or 1), ("", Decimal(1)))[1],
        ) for r in chosen_rules]

        gift = rng.random() < self.mix.gift_share
        round_type = rng.choices([t for t, _w in self.mix.round_types], [w for _t, w in self.mix.round_types])[0]
        money = compute_order(OrderInput(
            lines=lines, cart_rules=specs, round_type=round_type, conversion_rate=conversion,
            shipping_price=_ZERO if carrier_free else carrier_price, carrier_tax=carrier_tax,
            gift=gift, wrapping_price=self._wrapping_price,
            wrapping_tax=self.taxes.resolve(self._wrapping_group, country, state)))

        chosen_module = module or rng.choices([m for m, _w in self.mix.modules], [w for _m, w in self.mix.modules])[0]
        paths = STATE_PATHS[chosen_module]
        path = rng.choices([p for _w, p in paths], [w for w, _p in paths])[0]
        reached = len(path) if progress is None and rng.random() < 0.55 else (
            rng.randint(1, len(path)) if progress is None else max(1, min(progress, len(path))))
        steps = path[:reached]
        draft = self._rows_for(
            when=when, shop=shop, customer=customer, new_customer=new_customer_row, draft_addresses=draft_addresses,
            delivery=delivery, invoice_address=invoice_address, currency=currency, conversion=conversion,
            lang=lang, lines=lines, carrier_id=carrier_id, money=money, gift=gift,
            chosen_rules=chosen_rules, module=chosen_module, steps=steps, horizon=horizon)
        draft.customer_row, draft.delivery_row, draft.invoice_row = customer, delivery, invoice_address
        return draft

    def build_split(self, when: datetime, parts: int = 2, *, id_shop: int | None = None,
                    module: str | None = None, progress: int | None = None,
                    horizon: datetime | None = None) -> list[OrderDraft]:
        """The ``parts`` orders PrestaShop makes from one cart split into packages
        (``PaymentModule::validateOrder``): same customer, addresses, currency, payment module,
        state history and ``reference``; each its own products, carrier and invoice; no cart
        rule or wrapping. When a paid state was reached the cart's payment is **one**
        ``order_payments`` row with the whole amount, linked by the shared reference and added
        to the ``total_paid_real`` of the last order only (``addOrderPayment`` is called once,
        on the last order of the loop). Commit the drafts in the returned order.
        """
        if parts < 2:
            raise ValueError("a split cart has at least two orders")
        saved = (self.mix.cart_rule_share, self.mix.gift_share)
        self.mix.cart_rule_share = self.mix.gift_share = 0.0
        try:
            first = self.build(when, id_shop=id_shop, module=module, progress=progress, horizon=horizon,
                               new_customer=False)
            drafts = [first]
            for _ in range(parts - 1):
                drafts.append(self._build_sibling(first, when))
        finally:
            self.mix.cart_rule_share, self.mix.gift_share = saved
        paid = [d for d in drafts if d.payments]
        if paid:
            total = sum((d.money.total_paid_tax_incl for d in drafts), _ZERO)
            payment = dict(first.payments[0], amount=money6(total))
            for draft in drafts:
                draft.payments = []
                draft.order["total_paid_real"] = money6(_ZERO)
            drafts[-1].payments = [payment]
            drafts[-1].order["total_paid_real"] = money6(total)
        return drafts

    def _build_sibling(self, first: OrderDraft, when: datetime) -> OrderDraft:
        """Another order of ``first``'s cart (see :meth:`build_split`)."""
        rng = self._rng
        order = first.order
        shop = int(order["id_shop"])
        country = int(first.delivery_row["id_country"])
        state = int(first.delivery_row["id_state"] or 0)
        currency = int(order["id_currency"])
        conversion = self._currencies.get(currency, ("", Decimal(1)))[1]
        lang = int(order["id_lang"])
        group = int(first.customer_row.get("id_default_group") or 3)
        pool = self.catalog.by_shop.get(shop) or self.catalog.sellables
        count = min(len(pool), rng.choice((1, 2, 3)), self.mix.max_lines)
        lines = [self._cart_line(item, shop=shop, currency=currency, country=country, state=state, group=group,
                                 lang=lang, quantity=rng.choice((1, 1, 2)))
                 for item in (rng.sample(pool, count) if count < len(pool) else list(pool))]
        carrier_id = int(order["id_carrier"])
        _cname, carrier_group, carrier_price, carrier_free = self._carriers[carrier_id]
        money = compute_order(OrderInput(
            lines=lines, cart_rules=[], round_type=int(order["round_type"]), conversion_rate=conversion,
            shipping_price=_ZERO if carrier_free else carrier_price,
            carrier_tax=self.taxes.resolve(carrier_group, country, state), gift=False,
            wrapping_price=self._wrapping_price,
            wrapping_tax=self.taxes.resolve(self._wrapping_group, country, state)))
        steps = [int(h["id_order_state"]) for h in first.histories]
        draft = self._rows_for(
            when=when, shop=shop, customer=first.customer_row, new_customer=None, draft_addresses=[],
            delivery=first.delivery_row, invoice_address=first.invoice_row, currency=currency,
            conversion=conversion, lang=lang, lines=lines, carrier_id=carrier_id, money=money, gift=False,
            chosen_rules=[], module=str(order["module"]), steps=steps, horizon=None,
            reference=str(order["reference"]), times=[_parse_ps_date(h["date_add"]) for h in first.histories])
        draft.customer_row, draft.delivery_row, draft.invoice_row = (first.customer_row, first.delivery_row,
                                                                     first.invoice_row)
        draft.same_cart_as = first
        return draft

    def _cart_line(self, item: Sellable, *, shop: int, currency: int, country: int, state: int, group: int,
                   lang: int, quantity: int) -> CartLine:
        return CartLine(
            id_product=item.id_product, quantity=quantity,
            base_price=item.prices.get(shop, next(iter(item.prices.values()))),
            tax=self.taxes.resolve(item.id_tax_rules_group, country, state),
            id_product_attribute=item.id_product_attribute, attribute_price=item.attribute_price,
            specific_price=self.catalog.specific_price(
                item, shop=shop, currency=currency, country=country, group=group, quantity=quantity),
            id_tax_rules_group=item.id_tax_rules_group,
            name=item.names.get(lang) or next(iter(item.names.values())),
            reference=item.reference, ean13=item.ean13, isbn=item.isbn, upc=item.upc, mpn=item.mpn,
            weight=item.weight, wholesale_price=item.wholesale_price)

    def _rows_for(
        self, *, when: datetime, shop: int, customer: Row, new_customer: Row | None,
        draft_addresses: list[Row], delivery: Row, invoice_address: Row, currency: int,
        conversion: Decimal, lang: int, lines: list[CartLine], carrier_id: int, money: OrderMoney,
        gift: bool, chosen_rules: list[Row], module: str, steps: list[int], horizon: datetime | None,
        reference: str | None = None, times: list[datetime] | None = None,
    ) -> OrderDraft:
        rng = self._rng
        rows = self._rows
        secure_key = str(customer.get("secure_key") or self.people.secure_key())
        payment_label, payment_method, _first = PAYMENT_MODULES[module]
        if times is None:
            times = [when]
            for _ in steps[1:]:
                times.append(times[-1] + timedelta(minutes=rng.randrange(20, 3 * 24 * 60)))
        if horizon is not None:
            kept = max(1, sum(1 for at in times if at <= horizon))
            steps, times = steps[:kept], times[:kept]
        histories = [rows.blank("order_histories", id="", id_employee="0", id_order_state=str(state),
                                id_order="", date_add=ps_date(at)) for state, at in zip(steps, times, strict=True)]

        def flag(state: int, name: str) -> bool:
            return self._states.get(state, {}).get(name, "0") == "1"

        invoice_at = next((t for s, t in zip(steps, times) if flag(s, "invoice")), None)
        delivery_at = next((t for s, t in zip(steps, times) if flag(s, "delivery")), None)
        paid_at = next((t for s, t in zip(steps, times) if flag(s, "paid")), None)
        shipped = any(flag(s, "shipped") for s in steps)
        current = steps[-1]
        reference = reference or self._reference()
        total_paid = money.total_paid_tax_incl
        invoice_number = delivery_number = 0
        if invoice_at is not None:
            invoice_number = self._take_number("order_invoices", "number")
        if delivery_at is not None and invoice_at is not None:
            delivery_number = self._take_number("orders", "delivery_number")
        tracking = f"TRK{rng.randrange(10**9, 10**10)}" if shipped and rng.random() < 0.8 else ""

        order = rows.blank(
            "orders", id="", id_address_delivery=str(delivery["id"]), id_address_invoice=str(invoice_address["id"]),
            id_cart="", id_currency=str(currency), id_lang=str(lang), id_customer=str(customer.get("id", "")),
            id_carrier=str(carrier_id), current_state=str(current), module=module,
            invoice_number=str(invoice_number), invoice_date=ps_date(invoice_at),
            delivery_number=str(delivery_number),
            delivery_date=ps_date(delivery_at) if delivery_number else "0000-00-00 00:00:00",
            valid="1" if flag(current, "logable") else "0", date_add=ps_date(when), date_upd=ps_date(times[-1]),
            shipping_number=tracking, note="", id_shop_group="1", id_shop=str(shop), secure_key=secure_key,
            payment=payment_label, recyclable="0", gift="1" if gift else "0",
            gift_message="Happy birthday!" if gift and rng.random() < 0.5 else "", mobile_theme="0",
            total_paid_real=money6(total_paid if paid_at is not None else _ZERO), reference=reference,
        )
        order.update(money.order_fields())
        cart = rows.blank(
            "carts", id="", id_address_delivery=str(delivery["id"]), id_address_invoice=str(invoice_address["id"]),
            id_currency=str(currency), id_customer=str(customer.get("id", "")), id_guest="0", id_lang=str(lang),
            id_shop_group="1", id_shop=str(shop), id_carrier=str(carrier_id), recyclable="0",
            gift="1" if gift else "0", gift_message=order["gift_message"], mobile_theme="0",
            delivery_option="", secure_key=secure_key, allow_seperated_package="0",
            date_add=ps_date(when - timedelta(minutes=5)), date_upd=ps_date(when),
            associations={"cart_rows": [
                {"id_product": str(line.id_product), "id_product_attribute": str(line.id_product_attribute),
                 "id_address_delivery": str(delivery["id"]), "id_customization": "0",
                 "quantity": str(line.quantity)} for line in lines]})
        details = []
        for line_money in money.lines:
            line = line_money.line
            detail = rows.blank(
                "order_details", id="", id_order="", product_id=str(line.id_product),
                product_attribute_id=str(line.id_product_attribute), download_deadline="0000-00-00 00:00:00",
                id_order_invoice="0", id_warehouse="0", id_shop=str(shop), id_customization="0",
                product_name=line.name, product_quantity=str(line.quantity),
                product_quantity_in_stock=str(line.quantity), product_ean13=line.ean13,
                product_isbn=line.isbn, product_upc=line.upc, product_mpn=line.mpn,
                product_reference=line.reference, product_weight=money6(line.weight),
                tax_computation_method=str(line.tax.behavior), id_tax_rules_group=str(line.id_tax_rules_group),
                purchase_supplier_price=money6(line.wholesale_price),
                original_wholesale_price=money6(line.wholesale_price),
                associations={"taxes": [{"id": str(t.id_tax)} for t in line.tax.effective_taxes]})
            detail.update(line_money.detail_fields())
            details.append(detail)
        rule_rows = []
        names = {int(r["id"]): r for r in chosen_rules}
        for rule_money in money.cart_rules:
            source = names[rule_money.rule.id_cart_rule]
            rule_rows.append(rows.blank(
                "order_cart_rules", id="", id_order="", id_cart_rule=str(rule_money.rule.id_cart_rule),
                id_order_invoice="0", deleted="0",
                **{**rule_money.cart_rule_fields(), "name": str(source["name"].get(lang, rule_money.rule.name))}))
        weight = sum((line.weight * line.quantity for line in lines), _ZERO)
        carrier = rows.blank(
            "order_carriers", id="", id_order="", id_carrier=str(carrier_id), id_order_invoice="",
            weight=money6(weight), tracking_number=tracking, date_add=ps_date(when), **money.carrier_fields())
        invoice = None
        if invoice_at is not None:
            invoice = rows.blank(
                "order_invoices", id="", id_order="", number=str(invoice_number),
                delivery_number=str(delivery_number),
                delivery_date=ps_date(delivery_at) if delivery_number else "0000-00-00 00:00:00",
                shop_address=f"{self._shop_names.get(shop, 'Shop')}<br />12 rue de la Paix<br />75002 Paris<br />France",
                note="", date_add=ps_date(invoice_at), **money.invoice_fields())
        payments = []
        if paid_at is not None:
            card = module == "ps_checkout"
            payments.append(rows.blank(
                "order_payments", id="", order_reference=reference, id_currency=str(currency),
                payment_method=payment_method, **money.payment_fields(),
                transaction_id=f"ch_{rng.randrange(16**12):012x}" if card else "",
                card_number="****4242" if card else "", card_brand="VISA" if card else "",
                card_expiration="12/29" if card else "", card_holder=str(customer["lastname"]) if card else "",
                date_add=ps_date(paid_at), id_employee=""))
        return OrderDraft(
            order=order, cart=cart, details=details, cart_rules=rule_rows, carrier=carrier,
            histories=histories, payments=payments, invoice=invoice, money=money,
            customer=new_customer, addresses=list(draft_addresses))


def _parse_ps_date(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S")


def _country_iso(country: int) -> str:
    entry = COUNTRIES.get(country)
    return entry[0] if entry else ""


def moment(epoch: datetime, index: int, total: int, days: int) -> datetime:
    """The placing time of order ``index`` of ``total`` spread over ``days`` before ``epoch``."""
    span = days * 86400
    offset = span - (span * index) // max(total, 1)
    return epoch - timedelta(seconds=offset)
