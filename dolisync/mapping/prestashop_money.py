"""A pure Decimal model of how PrestaShop 8.2.1 computes an order's money.

Contract (``reference/prestashop/ORDER_TOTALS.md`` and WEBSERVICE.md section 11): given a cart
(lines with their catalogue prices and tax rules, cart rules, carrier, wrapping, currency and the
shop's round type), :func:`compute_order` returns every amount PrestaShop stores on the order,
its ``order_details``, ``order_cart_rules``, ``order_carriers``, ``order_invoices`` and the
payment, exactly as ``validateOrder`` stores them:

* unit prices: ``(base + combination impact) x conversion_rate``, then tax (rule group behaviour
  0 single / 1 combine / 2 one after another), then the specific price reduction, rounded to 6;
* lines by round type: 1 = per item (unit rounded to 2, x quantity), 2 = per line
  (r2(unit x quantity)), 3 = on total (nothing rounded per line);
* cart rules in priority order: free shipping, percentage of every line, amount (converted,
  capped at the remaining products, spread over the lines in proportion, each part's tax at
  the line's own rate); the discount total is capped at products + shipping;
* shipping from the carrier range price (converted, taxed at the carrier's rate, r2); gift
  wrapping rounded in the default currency **then** converted (not rounded again);
* the grand-totals trap: ``total_paid_tax_incl/excl`` = sum of the *unrounded* lines
  - r2(discounts) + r2(shipping) + r2(wrapping), whereas ``total_products(_wt)`` is the sum of
  the *rounded* lines, so the grand total often differs by a cent from its rounded parts.

All rounding is PHP's (:func:`dolisync.mapping.money.php_round`). Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from dolisync.mapping.money import php_round

__all__ = [
    "ROUND_ITEM",
    "ROUND_LINE",
    "ROUND_TOTAL",
    "Tax",
    "TaxRule",
    "NO_TAX",
    "SpecificPrice",
    "CartLine",
    "CartRuleSpec",
    "OrderInput",
    "LineMoney",
    "CartRuleMoney",
    "OrderMoney",
    "unit_price",
    "compute_order",
    "fmt",
]

ROUND_ITEM = 1
ROUND_LINE = 2
ROUND_TOTAL = 3

BEHAVIOR_SINGLE = 0
BEHAVIOR_COMBINE = 1
BEHAVIOR_ONE_AFTER_ANOTHER = 2

_ZERO = Decimal(0)
_ONE = Decimal(1)
_HUNDRED = Decimal(100)
_ZERO_TEXT = {places: f"{Decimal(0):.{places}f}" for places in range(7)}


def fmt(value: Decimal, places: int = 6) -> str:
    """Format an amount as PrestaShop prints a ``decimal(20, places)`` column (``"23.900000"``).

    The value is rounded half away from zero (PHP) to ``places`` first; ``-0`` prints as ``0``.
    """
    if not value:
        return _ZERO_TEXT.get(places) or f"{_ZERO:.{places}f}"
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent >= -places:
        rounded = value  # already has at most ``places`` decimals: nothing to round
    else:
        rounded = php_round(value, places)
    if rounded.is_zero():
        rounded = abs(rounded)
    return f"{rounded:.{places}f}"


def _r(value: Decimal, places: int) -> Decimal:
    return php_round(value, places)


@dataclass(frozen=True, slots=True)
class Tax:
    """A ``taxes`` row: id and rate in percent (``Decimal("20.000")``)."""

    id_tax: int
    rate: Decimal


@dataclass(frozen=True, slots=True)
class TaxRule:
    """The taxes a tax rule group gives for one address, with the rule's behaviour.

    ``behavior`` follows ``tax_rules.behavior``: 0 = this tax only (the first tax wins),
    1 = combine (rates add up), 2 = one after another (compound).
    """

    taxes: tuple[Tax, ...] = ()
    behavior: int = BEHAVIOR_SINGLE

    @property
    def effective_taxes(self) -> tuple[Tax, ...]:
        """The taxes that apply: behaviour 0 keeps only the first one."""
        if self.behavior == BEHAVIOR_SINGLE:
            return self.taxes[:1]
        return self.taxes

    def total_rate(self) -> Decimal:
        """Total rate in percent: sum (combine) or ``(prod(1 + r) - 1) x 100`` (compound)."""
        taxes = self.effective_taxes
        if self.behavior == BEHAVIOR_ONE_AFTER_ANOTHER:
            factor = _ONE
            for tax in taxes:
                factor *= _ONE + abs(tax.rate) / _HUNDRED
            return (factor - _ONE) * _HUNDRED
        return sum((tax.rate for tax in taxes), _ZERO)

    def add_taxes(self, price_excl: Decimal) -> Decimal:
        """``price x (1 + total rate)`` (unrounded), as ``TaxCalculator::addTaxes``."""
        return price_excl * (_ONE + self.total_rate() / _HUNDRED)

    def remove_taxes(self, price_incl: Decimal) -> Decimal:
        """``price / (1 + total rate)`` (unrounded), as ``TaxCalculator::removeTaxes``."""
        return price_incl / (_ONE + self.total_rate() / _HUNDRED)

    def split(self, amount_excl: Decimal) -> list[tuple[Tax, Decimal]]:
        """Each tax's amount on a net amount (compound taxes are computed on net + previous)."""
        parts: list[tuple[Tax, Decimal]] = []
        base = amount_excl
        for tax in self.effective_taxes:
            amount = base * tax.rate / _HUNDRED
            parts.append((tax, amount))
            if self.behavior == BEHAVIOR_ONE_AFTER_ANOTHER:
                base = base + amount
        return parts


NO_TAX = TaxRule()


@dataclass(frozen=True, slots=True)
class SpecificPrice:
    """A ``specific_prices`` row that applies to the line.

    ``reduction`` is a fraction for ``"percentage"`` (``0.2`` = 20 %) or an amount for
    ``"amount"`` (in the default currency unless ``id_currency`` is set, tax included when
    ``reduction_tax``). ``price`` >= 0 replaces the base price; ``-1`` keeps it. A fixed price
    set for one combination (``id_product_attribute``) already includes that combination's
    impact, so the impact is not added again.
    """

    reduction_type: str = "percentage"
    reduction: Decimal = _ZERO
    reduction_tax: bool = True
    price: Decimal = Decimal(-1)
    id_currency: int = 0
    id_product_attribute: int = 0


@dataclass(frozen=True, slots=True)
class CartLine:
    """One cart line with its catalogue data (prices tax excluded, default currency)."""

    id_product: int
    quantity: int
    base_price: Decimal
    tax: TaxRule = NO_TAX
    id_product_attribute: int = 0
    attribute_price: Decimal = _ZERO
    specific_price: SpecificPrice | None = None
    id_tax_rules_group: int = 0
    name: str = ""
    reference: str = ""
    ean13: str = ""
    isbn: str = ""
    upc: str = ""
    mpn: str = ""
    weight: Decimal = _ZERO
    wholesale_price: Decimal = _ZERO


@dataclass(frozen=True, slots=True)
class CartRuleSpec:
    """A cart rule in the cart. ``reduction_percent`` in percent (10 = 10 %).

    ``reduction_amount`` is expressed in the currency whose conversion rate is
    ``reduction_currency_rate`` (1 = the shop's default currency); ``reduction_tax`` says whether
    that amount includes tax.
    """

    id_cart_rule: int
    name: str
    priority: int = 1
    free_shipping: bool = False
    reduction_percent: Decimal = _ZERO
    reduction_amount: Decimal = _ZERO
    reduction_tax: bool = True
    reduction_currency_rate: Decimal = _ONE


@dataclass(frozen=True, slots=True)
class OrderInput:
    """Everything :func:`compute_order` needs. Catalogue amounts are in the default currency.

    ``conversion_rate`` is the order currency's rate against the default currency.
    ``shipping_price`` is the carrier's range price tax excluded (0 for a free carrier).
    ``wrapping_price`` is ``PS_GIFT_WRAPPING_PRICE`` (tax excluded), used when ``gift``.
    """

    lines: Sequence[CartLine]
    cart_rules: Sequence[CartRuleSpec] = ()
    round_type: int = ROUND_LINE
    conversion_rate: Decimal = _ONE
    shipping_price: Decimal = _ZERO
    carrier_tax: TaxRule = NO_TAX
    gift: bool = False
    wrapping_price: Decimal = _ZERO
    wrapping_tax: TaxRule = NO_TAX
    precision: int = 2


@dataclass(slots=True)
class LineMoney:
    """The money of one order line (``order_details``), unrounded values kept for the totals."""

    line: CartLine
    unit_price_tax_excl: Decimal  # r6, after specific price reduction
    unit_price_tax_incl: Decimal  # r6
    original_product_price: Decimal  # r6, excl, before reduction, order currency
    total_price_tax_excl: Decimal  # as stored (rounded per round type)
    total_price_tax_incl: Decimal
    initial_total_tax_excl: Decimal  # what the grand total sums (unrounded for types 2 and 3)
    initial_total_tax_incl: Decimal
    reduction_percent: Decimal = _ZERO  # percent, 2 decimals
    reduction_amount: Decimal = _ZERO
    reduction_amount_tax_incl: Decimal = _ZERO
    reduction_amount_tax_excl: Decimal = _ZERO
    discount_tax_excl: Decimal = _ZERO  # cart-rule discounts booked on this line (unrounded)
    discount_tax_incl: Decimal = _ZERO

    @property
    def tax_rate(self) -> Decimal:
        """The line's total tax rate in percent (3 decimals, as ``carrier_tax_rate``)."""
        return _r(self.line.tax.total_rate(), 3)

    def detail_fields(self) -> dict[str, str]:
        """The money fields of the ``order_details`` row, formatted as PrestaShop stores them."""
        return {
            "product_price": fmt(self.unit_price_tax_excl),
            "original_product_price": fmt(self.original_product_price),
            "unit_price_tax_excl": fmt(self.unit_price_tax_excl),
            "unit_price_tax_incl": fmt(self.unit_price_tax_incl),
            "total_price_tax_excl": fmt(self.total_price_tax_excl),
            "total_price_tax_incl": fmt(self.total_price_tax_incl),
            "reduction_percent": fmt(self.reduction_percent, 2),
            "reduction_amount": fmt(self.reduction_amount),
            "reduction_amount_tax_incl": fmt(self.reduction_amount_tax_incl),
            "reduction_amount_tax_excl": fmt(self.reduction_amount_tax_excl),
        }


@dataclass(slots=True)
class CartRuleMoney:
    """What one cart rule took (``order_cart_rules.value`` / ``value_tax_excl``, 6 decimals)."""

    rule: CartRuleSpec
    value: Decimal
    value_tax_excl: Decimal
    amount_tax_incl: Decimal  # unrounded, what the discount total sums
    amount_tax_excl: Decimal
    per_line: list[tuple[Decimal, Decimal]] = field(default_factory=list)  # (incl, excl) per line

    def cart_rule_fields(self) -> dict[str, str]:
        """The money fields of the ``order_cart_rules`` row."""
        return {
            "name": self.rule.name,
            "value": fmt(self.value),
            "value_tax_excl": fmt(self.value_tax_excl),
            "free_shipping": "1" if self.rule.free_shipping else "0",
        }


@dataclass(slots=True)
class OrderMoney:
    """Every amount of an order, as ``validateOrder`` stores it (order currency)."""

    round_type: int
    conversion_rate: Decimal
    lines: list[LineMoney]
    cart_rules: list[CartRuleMoney]
    total_products: Decimal
    total_products_wt: Decimal
    total_discounts_tax_excl: Decimal
    total_discounts_tax_incl: Decimal
    total_shipping_tax_excl: Decimal
    total_shipping_tax_incl: Decimal
    carrier_tax_rate: Decimal
    total_wrapping_tax_excl: Decimal  # converted, not re-rounded (up to 6 decimals)
    total_wrapping_tax_incl: Decimal
    total_paid_tax_excl: Decimal
    total_paid_tax_incl: Decimal

    @property
    def total_paid(self) -> Decimal:
        """``total_paid`` always equals ``total_paid_tax_incl``."""
        return self.total_paid_tax_incl

    @property
    def total_tax(self) -> Decimal:
        """The order's tax: ``total_paid_tax_incl - total_paid_tax_excl``."""
        return self.total_paid_tax_incl - self.total_paid_tax_excl

    @property
    def rounded_parts_gap(self) -> Decimal:
        """``total_paid_tax_incl`` minus the sum of its rounded parts (often +-0.01)."""
        return self.total_paid_tax_incl - (
            self.total_products_wt
            + self.total_shipping_tax_incl
            + _r(self.total_wrapping_tax_incl, 2)
            - self.total_discounts_tax_incl
        )

    def order_fields(self) -> dict[str, str]:
        """The money fields of the ``orders`` row (``total_paid_real`` is the caller's)."""
        return {
            "total_discounts": fmt(self.total_discounts_tax_incl),
            "total_discounts_tax_incl": fmt(self.total_discounts_tax_incl),
            "total_discounts_tax_excl": fmt(self.total_discounts_tax_excl),
            "total_paid": fmt(self.total_paid_tax_incl),
            "total_paid_tax_incl": fmt(self.total_paid_tax_incl),
            "total_paid_tax_excl": fmt(self.total_paid_tax_excl),
            "total_products": fmt(self.total_products),
            "total_products_wt": fmt(self.total_products_wt),
            "total_shipping": fmt(self.total_shipping_tax_incl),
            "total_shipping_tax_incl": fmt(self.total_shipping_tax_incl),
            "total_shipping_tax_excl": fmt(self.total_shipping_tax_excl),
            "carrier_tax_rate": fmt(self.carrier_tax_rate, 3),
            "total_wrapping": fmt(self.total_wrapping_tax_incl),
            "total_wrapping_tax_incl": fmt(self.total_wrapping_tax_incl),
            "total_wrapping_tax_excl": fmt(self.total_wrapping_tax_excl),
            "round_mode": "2",
            "round_type": str(self.round_type),
            "conversion_rate": fmt(self.conversion_rate),
        }

    def invoice_fields(self) -> dict[str, str]:
        """The money fields of the ``order_invoices`` row (one invoice for the whole order)."""
        return {
            "total_discount_tax_excl": fmt(self.total_discounts_tax_excl),
            "total_discount_tax_incl": fmt(self.total_discounts_tax_incl),
            "total_paid_tax_excl": fmt(self.total_paid_tax_excl),
            "total_paid_tax_incl": fmt(self.total_paid_tax_incl),
            "total_products": fmt(self.total_products),
            "total_products_wt": fmt(self.total_products_wt),
            "total_shipping_tax_excl": fmt(self.total_shipping_tax_excl),
            "total_shipping_tax_incl": fmt(self.total_shipping_tax_incl),
            "shipping_tax_computation_method": "0",
            "total_wrapping_tax_excl": fmt(self.total_wrapping_tax_excl),
            "total_wrapping_tax_incl": fmt(self.total_wrapping_tax_incl),
        }

    def carrier_fields(self) -> dict[str, str]:
        """The money fields of the ``order_carriers`` row."""
        return {
            "shipping_cost_tax_excl": fmt(self.total_shipping_tax_excl),
            "shipping_cost_tax_incl": fmt(self.total_shipping_tax_incl),
        }

    def payment_fields(self) -> dict[str, str]:
        """The money fields of the ``order_payments`` row made when the order is paid: the
        whole total in the order currency, ``conversion_rate`` always 1 (8.2.1 behaviour)."""
        return {"amount": fmt(self.total_paid_tax_incl), "conversion_rate": fmt(Decimal(1))}

    def discounts_by_rate(self) -> dict[Decimal, tuple[Decimal, Decimal]]:
        """Cart-rule discounts on products grouped by line tax rate: ``{rate: (excl, incl)}``.

        Unrounded sums; this is how a voucher on a mixed-rate cart splits across VAT rates.
        """
        out: dict[Decimal, tuple[Decimal, Decimal]] = {}
        for line in self.lines:
            if line.discount_tax_excl.is_zero() and line.discount_tax_incl.is_zero():
                continue
            excl, incl = out.get(line.tax_rate, (_ZERO, _ZERO))
            out[line.tax_rate] = (excl + line.discount_tax_excl, incl + line.discount_tax_incl)
        return out


def unit_price(line: CartLine, *, with_tax: bool, conversion_rate: Decimal = _ONE) -> Decimal:
    """``Product::priceCalculation`` for one unit, in the order currency, rounded to 6.

    Base and combination impact are converted first (a fixed specific price with its own
    currency is not converted), tax is added when ``with_tax``, then the specific price
    reduction (percentage of the price, or an amount converted and taxed to match) is taken.
    """
    spec = line.specific_price
    fixed = spec if spec is not None and spec.price >= 0 else None
    if fixed is not None:
        price = fixed.price if fixed.id_currency else fixed.price * conversion_rate
    else:
        price = line.base_price * conversion_rate
    if fixed is None or not fixed.id_product_attribute:
        price += line.attribute_price * conversion_rate
    if with_tax:
        price = line.tax.add_taxes(price)
    if spec is not None and spec.reduction > 0:
        if spec.reduction_type == "amount":
            amount = spec.reduction if spec.id_currency else spec.reduction * conversion_rate
            if not with_tax and spec.reduction_tax:
                amount = line.tax.remove_taxes(amount)
            elif with_tax and not spec.reduction_tax:
                amount = line.tax.add_taxes(amount)
            price -= amount
        else:
            price -= price * spec.reduction
    price = _r(price, 6)
    return price if price > 0 else _ZERO


def _original_price(line: CartLine, conversion_rate: Decimal) -> Decimal:
    return _r((line.base_price + line.attribute_price) * conversion_rate, 6)


def _line_money(line: CartLine, order: OrderInput) -> LineMoney:
    precision = order.precision
    excl = unit_price(line, with_tax=False, conversion_rate=order.conversion_rate)
    incl = unit_price(line, with_tax=True, conversion_rate=order.conversion_rate)
    qty = Decimal(line.quantity)
    if order.round_type == ROUND_ITEM:
        initial_excl = _r(excl, precision) * qty
        initial_incl = _r(incl, precision) * qty
        final_excl, final_incl = initial_excl, initial_incl
    elif order.round_type == ROUND_TOTAL:
        initial_excl, initial_incl = excl * qty, incl * qty
        final_excl, final_incl = initial_excl, initial_incl
    else:
        initial_excl, initial_incl = excl * qty, incl * qty
        final_excl, final_incl = _r(initial_excl, precision), _r(initial_incl, precision)
    money = LineMoney(
        line=line,
        unit_price_tax_excl=excl,
        unit_price_tax_incl=incl,
        original_product_price=_original_price(line, order.conversion_rate),
        total_price_tax_excl=final_excl,
        total_price_tax_incl=final_incl,
        initial_total_tax_excl=initial_excl,
        initial_total_tax_incl=initial_incl,
    )
    spec = line.specific_price
    if spec is not None and spec.reduction > 0:
        if spec.reduction_type == "amount":
            amount = spec.reduction if spec.id_currency else spec.reduction * order.conversion_rate
            money.reduction_amount = amount
            if spec.reduction_tax:
                money.reduction_amount_tax_incl = amount
                money.reduction_amount_tax_excl = _r(line.tax.remove_taxes(amount), precision)
            else:
                money.reduction_amount_tax_excl = amount
                money.reduction_amount_tax_incl = _r(line.tax.add_taxes(amount), precision)
        else:
            money.reduction_percent = spec.reduction * _HUNDRED
    return money


def _apply_flat(row: list[Decimal], incl: Decimal, excl: Decimal) -> None:
    row[0] = max(row[0] - incl, _ZERO)
    row[1] = max(row[1] - excl, _ZERO)


def compute_order(order: OrderInput) -> OrderMoney:
    """Compute every stored amount of the order described by ``order`` (see module docstring)."""
    precision = order.precision
    rate = order.conversion_rate
    lines = [_line_money(line, order) for line in order.lines]
    # Running (incl, excl) of each row: CartRow::finalTotalPrice, which cart rules reduce.
    running = [[m.total_price_tax_incl, m.total_price_tax_excl] for m in lines]

    shipping_excl = _r(order.shipping_price * rate, precision)
    shipping_incl = _r(order.carrier_tax.add_taxes(order.shipping_price * rate), precision)
    carrier_tax_rate = _r(order.carrier_tax.total_rate(), 3)

    if order.gift:
        wrap_excl = _r(order.wrapping_price, precision) * rate
        wrap_incl = _r(order.wrapping_tax.add_taxes(order.wrapping_price), precision) * rate
    else:
        wrap_excl = wrap_incl = _ZERO

    rules_money: list[CartRuleMoney] = []
    free_shipping_done = False
    for rule in sorted(order.cart_rules, key=lambda r: (r.priority, r.id_cart_rule)):
        taken_incl = _ZERO
        taken_excl = _ZERO
        per_line: list[tuple[Decimal, Decimal]] = [(_ZERO, _ZERO)] * len(lines)
        if rule.free_shipping and not free_shipping_done:
            taken_incl += shipping_incl
            taken_excl += shipping_excl
            free_shipping_done = True
        if rule.reduction_percent > 0:
            for index, row in enumerate(running):
                part_incl = row[0] * rule.reduction_percent / _HUNDRED
                part_excl = row[1] * rule.reduction_percent / _HUNDRED
                _apply_flat(row, part_incl, part_excl)
                per_line[index] = _add_pair(per_line[index], part_incl, part_excl)
                taken_incl += part_incl
                taken_excl += part_excl
        if rule.reduction_amount > 0:
            converted = rule.reduction_amount / rule.reduction_currency_rate * rate
            total_incl = sum((row[0] for row in running), _ZERO)
            total_excl = sum((row[1] for row in running), _ZERO)
            converted = min(converted, total_incl if rule.reduction_tax else total_excl)
            for index, row in enumerate(running):
                row_rate = (row[0] - row[1]) / row[1] if row[1] != 0 else _ZERO
                if rule.reduction_tax:
                    weight = row[0] / total_incl if total_incl != 0 else _ZERO
                    part_incl = converted * weight
                    divisor = _ONE + row_rate
                    part_excl = part_incl / divisor if divisor != 0 else _ZERO
                else:
                    weight = row[1] / total_excl if total_excl != 0 else _ZERO
                    part_excl = converted * weight
                    part_incl = part_excl * (_ONE + row_rate)
                _apply_flat(row, part_incl, part_excl)
                per_line[index] = _add_pair(per_line[index], part_incl, part_excl)
                taken_incl += part_incl
                taken_excl += part_excl
        rules_money.append(
            CartRuleMoney(
                rule=rule,
                value=_r(taken_incl, 6),
                value_tax_excl=_r(taken_excl, 6),
                amount_tax_incl=taken_incl,
                amount_tax_excl=taken_excl,
                per_line=per_line,
            )
        )
        for index, (part_incl, part_excl) in enumerate(per_line):
            lines[index].discount_tax_incl += part_incl
            lines[index].discount_tax_excl += part_excl

    initial_incl = sum((m.initial_total_tax_incl for m in lines), _ZERO)
    initial_excl = sum((m.initial_total_tax_excl for m in lines), _ZERO)
    discount_incl = sum((r.amount_tax_incl for r in rules_money), _ZERO)
    discount_excl = sum((r.amount_tax_excl for r in rules_money), _ZERO)
    # The discount total cannot exceed products + shipping.
    discount_incl = min(discount_incl, initial_incl + shipping_incl)
    discount_excl = min(discount_excl, initial_excl + shipping_excl)

    paid_incl = initial_incl - _r(discount_incl, precision) + shipping_incl + _r(wrap_incl, precision)
    paid_excl = initial_excl - _r(discount_excl, precision) + shipping_excl + _r(wrap_excl, precision)

    return OrderMoney(
        round_type=order.round_type,
        conversion_rate=rate,
        lines=lines,
        cart_rules=rules_money,
        total_products=_r(sum((m.total_price_tax_excl for m in lines), _ZERO), precision),
        total_products_wt=_r(sum((m.total_price_tax_incl for m in lines), _ZERO), precision),
        total_discounts_tax_excl=_r(discount_excl, precision),
        total_discounts_tax_incl=_r(discount_incl, precision),
        total_shipping_tax_excl=shipping_excl,
        total_shipping_tax_incl=shipping_incl,
        carrier_tax_rate=carrier_tax_rate,
        total_wrapping_tax_excl=_r(wrap_excl, 6),
        total_wrapping_tax_incl=_r(wrap_incl, 6),
        total_paid_tax_excl=_r(max(paid_excl, _ZERO), precision),
        total_paid_tax_incl=_r(max(paid_incl, _ZERO), precision),
    )


def _add_pair(pair: tuple[Decimal, Decimal], incl: Decimal, excl: Decimal) -> tuple[Decimal, Decimal]:
    return (pair[0] + incl, pair[1] + excl)

