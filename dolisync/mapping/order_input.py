"""The PrestaShop order as the order mapper reads it: header, lines, cart rules, in one currency.

Contract: :class:`ShopOrder` holds only what the money mapping needs, as Decimals in the
order's currency (every PrestaShop order amount is). :meth:`ShopOrder.from_webservice` builds it
from what the Webservice returns — typed records (:mod:`dolisync.clients.prestashop_records`)
or raw rows (``dict`` of strings, as the emulator dataset holds them); both are read by field
name. ``order_details`` are the full line rows (``GET /order_details?filter[id_order]=N``); the
short ``order_rows`` association is not enough (no line totals, no tax ids).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from dolisync.mapping.errors import MappingError
from dolisync.mapping.fields import as_flag, as_int, field_of
from dolisync.mapping.money import to_decimal

__all__ = ["ShopOrderLine", "ShopCartRule", "ShopOrder", "ProductKey"]

ProductKey = tuple[int, int]
"""``(product_id, product_attribute_id)``; attribute 0 = no combination."""

_ZERO = Decimal(0)


def _money(item: Any, name: str, entity: str, source_id: object) -> Decimal:
    raw = field_of(item, name, None)
    try:
        return to_decimal(raw)
    except ValueError:
        raise MappingError(entity, source_id, name, raw, f"{name} must be a number: fix the {entity} row") from None


def _tax_ids(detail: Any) -> tuple[int, ...]:
    """Ids of ``associations/taxes`` from a record (``list[int]``) or a raw row (``[{"id": "1"}]``)."""
    assoc = field_of(detail, "associations", None)
    if assoc is None:
        return ()
    taxes = field_of(assoc, "taxes", None) or ()
    out: list[int] = []
    for item in taxes:
        value = field_of(item, "id", None) if isinstance(item, Mapping) else item
        if value not in (None, ""):
            out.append(as_int(value))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class ShopOrderLine:
    """One ``order_details`` row (amounts in the order currency, totals after reductions)."""

    detail_id: int
    product_id: int
    product_attribute_id: int
    name: str
    reference: str
    qty: int
    unit_price_tax_excl: Decimal
    unit_price_tax_incl: Decimal
    total_price_tax_excl: Decimal
    total_price_tax_incl: Decimal
    original_product_price: Decimal = _ZERO
    reduction_percent: Decimal = _ZERO
    ecotax: Decimal = _ZERO
    ecotax_tax_rate: Decimal = _ZERO
    tax_ids: tuple[int, ...] = ()

    @property
    def key(self) -> ProductKey:
        """``(product_id, product_attribute_id)``."""
        return (self.product_id, self.product_attribute_id)

    @classmethod
    def from_row(cls, detail: Any, order_id: object = "?") -> ShopOrderLine:
        """From an ``OrderDetail`` record or a raw ``order_details`` row."""
        where = f"{order_id}/order_details {field_of(detail, 'id', '?')}"
        qty = as_int(field_of(detail, "product_quantity", 0))
        if qty <= 0:
            raise MappingError("orders", where, "product_quantity", field_of(detail, "product_quantity"),
                               "an order line needs a positive quantity: fix the order in PrestaShop")
        return cls(
            detail_id=as_int(field_of(detail, "id", 0)),
            product_id=as_int(field_of(detail, "product_id", 0)),
            product_attribute_id=as_int(field_of(detail, "product_attribute_id", 0)),
            name=str(field_of(detail, "product_name", "") or ""),
            reference=str(field_of(detail, "product_reference", "") or ""),
            qty=qty,
            unit_price_tax_excl=_money(detail, "unit_price_tax_excl", "orders", where),
            unit_price_tax_incl=_money(detail, "unit_price_tax_incl", "orders", where),
            total_price_tax_excl=_money(detail, "total_price_tax_excl", "orders", where),
            total_price_tax_incl=_money(detail, "total_price_tax_incl", "orders", where),
            original_product_price=_money(detail, "original_product_price", "orders", where),
            reduction_percent=_money(detail, "reduction_percent", "orders", where),
            ecotax=_money(detail, "ecotax", "orders", where),
            ecotax_tax_rate=_money(detail, "ecotax_tax_rate", "orders", where),
            tax_ids=_tax_ids(detail),
        )


@dataclass(frozen=True, slots=True)
class ShopCartRule:
    """One ``order_cart_rules`` row: ``value`` tax included, ``value_tax_excl``, 3–6 decimals."""

    id: int
    id_cart_rule: int
    name: str
    value: Decimal
    value_tax_excl: Decimal
    free_shipping: bool = False

    @classmethod
    def from_row(cls, row: Any, order_id: object = "?") -> ShopCartRule:
        """From an ``OrderCartRule`` record or a raw row."""
        where = f"{order_id}/order_cart_rules {field_of(row, 'id', '?')}"
        return cls(
            id=as_int(field_of(row, "id", 0)),
            id_cart_rule=as_int(field_of(row, "id_cart_rule", 0)),
            name=str(field_of(row, "name", "") or ""),
            value=_money(row, "value", "orders", where),
            value_tax_excl=_money(row, "value_tax_excl", "orders", where),
            free_shipping=as_flag(field_of(row, "free_shipping", False)),
        )


@dataclass(frozen=True, slots=True)
class ShopOrder:
    """An order's money in its own currency (``currency``, ISO code), ready for mapping."""

    id: int
    reference: str
    currency: str
    conversion_rate: Decimal
    round_type: int
    total_paid_tax_excl: Decimal
    total_paid_tax_incl: Decimal
    total_discounts_tax_excl: Decimal
    total_discounts_tax_incl: Decimal
    total_shipping_tax_excl: Decimal
    total_shipping_tax_incl: Decimal
    carrier_tax_rate: Decimal
    total_wrapping_tax_excl: Decimal
    total_wrapping_tax_incl: Decimal
    lines: tuple[ShopOrderLine, ...]
    cart_rules: tuple[ShopCartRule, ...] = ()
    carrier_name: str = ""

    @property
    def products_needed(self) -> list[ProductKey]:
        """The ``(product_id, product_attribute_id)`` keys the lines need bound, in line order."""
        seen: dict[ProductKey, None] = {}
        for line in self.lines:
            seen.setdefault(line.key, None)
        return list(seen)

    @classmethod
    def from_webservice(
        cls,
        order: Any,
        details: Iterable[Any],
        cart_rules: Iterable[Any] = (),
        *,
        currency: str,
        carrier_name: str = "",
    ) -> ShopOrder:
        """Build from an ``orders`` row/record, its ``order_details`` and ``order_cart_rules``.

        ``currency`` is the ISO code of ``order.id_currency`` (from ``currencies``);
        ``carrier_name`` the name of ``order.id_carrier`` (from ``carriers``).
        """
        order_id = as_int(field_of(order, "id", 0))
        lines = tuple(ShopOrderLine.from_row(d, order_id) for d in details)
        rules = tuple(ShopCartRule.from_row(r, order_id) for r in cart_rules)
        if not lines:
            raise MappingError("orders", order_id, "order_details", 0,
                               "the order has no lines: read them with GET /order_details?filter[id_order]=ID")
        rate = _money(order, "conversion_rate", "orders", order_id)

        def money(name: str) -> Decimal:
            return _money(order, name, "orders", order_id)

        return cls(
            id=order_id,
            reference=str(field_of(order, "reference", "") or ""),
            currency=currency.upper(),
            conversion_rate=rate if rate > 0 else Decimal(1),
            round_type=as_int(field_of(order, "round_type", 2)) or 2,
            total_paid_tax_excl=money("total_paid_tax_excl"),
            total_paid_tax_incl=money("total_paid_tax_incl"),
            total_discounts_tax_excl=money("total_discounts_tax_excl"),
            total_discounts_tax_incl=money("total_discounts_tax_incl"),
            total_shipping_tax_excl=money("total_shipping_tax_excl"),
            total_shipping_tax_incl=money("total_shipping_tax_incl"),
            carrier_tax_rate=money("carrier_tax_rate"),
            total_wrapping_tax_excl=money("total_wrapping_tax_excl"),
            total_wrapping_tax_incl=money("total_wrapping_tax_incl"),
            lines=lines,
            cart_rules=rules,
            carrier_name=carrier_name,
        )
