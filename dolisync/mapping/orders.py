"""Map a PrestaShop order to Dolibarr order/invoice lines whose totals equal PrestaShop's.

Contract of :func:`map_order` (pure, no I/O): given a :class:`ShopOrder` (header, lines, cart
rules, carrier name, in the order's currency), the Dolibarr side (:class:`DolibarrSide`: VAT
dictionary and local-tax options, company currency, product bindings) and
:class:`OrderMappingOptions`, it returns an :class:`OrderMapping` whose lines — once Dolibarr
computes them (predicted with :mod:`dolisync.mapping.dolibarr_money`, the one implementation the
emulator also uses) — total exactly PrestaShop's ``total_paid_tax_excl``, tax and
``total_paid_tax_incl``, to the cent, in the order's currency:

1. product lines: quantity, net unit price on the r5 grid found by
   :func:`~dolisync.mapping.order_pricing.price_line` so that Dolibarr's line net equals
   PrestaShop's and its gross does too when the rates allow; tax rebuilt per line
   (:mod:`dolisync.mapping.order_taxes`); a percentage line reduction kept as ``remise_percent``;
   ecotax as its own line at its own rate;
2. shipping as a service line labelled with the carrier name at ``carrier_tax_rate``;
3. gift wrapping as a service line, its rate rebuilt from its two totals;
4. discounts (``total_discounts``): the free-shipping part at the carrier's rate, the rest
   **split across the products' tax rates in proportion to the goods at each rate** — one
   line per rate, or per cart rule and rate (option);
5. PrestaShop's grand totals add *unrounded* lines (ORDER_TOTALS.md), so its rounded lines
   often miss them by a cent: by default (``spread_line_cents``) the product lines are rounded
   by largest remainder so they add up to the grand total — each stays within a cent of
   PrestaShop's exact line amount; otherwise, and for what is left,
   :func:`~dolisync.mapping.order_adjust.close_gap` moves a line's tax by whole cents (net
   unchanged, noted), then adds ONE labelled rounding adjustment within ``tolerance``;
   beyond it, or when unreachable, :class:`MappingError` (the order is parked).

Multicurrency: an order in another currency than Dolibarr's becomes a multicurrency document at
PrestaShop's ``conversion_rate`` (valid when PrestaShop's default currency is Dolibarr's
company currency); prices are searched as ``multicurrency_subprice``, which Dolibarr honours
only on ``POST /orders/{id}/lines`` — so :attr:`OrderMapping.lines_inline` is false and the
flow posts the lines one by one. The invoice is built from the same lines
(:meth:`OrderMapping.invoice_body`), never with ``createfromorder`` (which drops the currency).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from dolisync.mapping.dolibarr_money import DocumentTotals, LineAmounts, SellerTaxes, document_totals
from dolisync.mapping.errors import MappingError
from dolisync.mapping.money import r2, r5
from dolisync.mapping.order_input import ProductKey, ShopCartRule, ShopOrder, ShopOrderLine
from dolisync.mapping.order_adjust import GapRules, LineDraft, LineKind, close_gap, draft_sums, price_draft
from dolisync.mapping.order_pricing import split_cents, spread_cents
from dolisync.mapping.order_taxes import NO_TAX, LineTax, TaxResolver
from dolisync.mapping.prestashop_money import ROUND_ITEM
from dolisync.mapping.reconcile import Reconciliation, Totals

__all__ = [
    "OrderMappingOptions",
    "DolibarrSide",
    "MappedLine",
    "Adjustment",
    "OrderMapping",
    "LineKind",
    "map_order",
]

_ZERO = Decimal(0)
_ONE = Decimal(1)
_CENT = Decimal("0.01")
_HUNDRED = Decimal(100)
_SERVICE = 1


@dataclass(frozen=True, slots=True)
class OrderMappingOptions:
    """How an order is laid out in Dolibarr (defaults suit a stock PrestaShop 8)."""

    discount_lines: Literal["single", "per_rule"] = "single"
    tolerance: Decimal = Decimal("0.05")  # largest adjustment line accepted, order currency
    line_discount_as_percent: bool = True  # PrestaShop reduction_percent -> remise_percent
    absorb_tax_cents: bool = True  # move a line's gross by a cent rather than add a line
    spread_line_cents: bool = True  # round product lines so they add up to PrestaShop's total
    shipping_label: str = "Shipping: {carrier}"
    free_carrier_line: bool = False  # add a 0.00 shipping line when shipping is free
    discount_label: str = "Discount"
    free_shipping_label: str = "Free shipping"
    wrapping_label: str = "Gift wrapping"
    ecotax_label: str = "Ecotax"
    adjustment_label: str = "Rounding adjustment to the PrestaShop total"


@dataclass(frozen=True, slots=True)
class DolibarrSide:
    """What the mapper needs to know about the Dolibarr instance and the bindings.

    ``tax_rates``: PrestaShop ``id_tax`` -> rate (``taxes`` resource). ``product_ids``: bound
    Dolibarr product id per ``(product_id, product_attribute_id)`` — ``None`` maps lines as
    free text (previews, tests); a missing key raises :class:`MappingError` listing every
    product to sync first. ``service_keys``: products that are services in Dolibarr.
    ``shop_default_currency``: PrestaShop's default currency (``None`` = the company's).
    ``*_product_id``: optional Dolibarr service products for shipping/discount/wrapping lines.
    """

    seller: SellerTaxes = field(default_factory=SellerTaxes)
    company_currency: str = "EUR"
    country_code: str = ""
    tax_rates: Mapping[int, Decimal] = field(default_factory=dict)
    product_ids: Mapping[ProductKey, int] | None = None
    service_keys: frozenset[ProductKey] = frozenset()
    shop_default_currency: str | None = None
    shipping_product_id: int | None = None
    discount_product_id: int | None = None
    wrapping_product_id: int | None = None


@dataclass(frozen=True, slots=True)
class MappedLine:
    """One Dolibarr line and what Dolibarr will compute for it (order currency amounts).

    ``unit_price`` is on the r5 grid, in the order currency; ``subprice`` the company-currency
    price sent alongside (equal when there is no multicurrency).
    """

    kind: LineKind
    label: str
    qty: Decimal
    unit_price: Decimal
    subprice: Decimal
    tax: LineTax
    product_type: int
    discount_percent: Decimal
    fk_product: int | None
    source: str
    target_excl: Decimal
    target_incl: Decimal
    amounts: LineAmounts
    excl: Decimal
    incl: Decimal
    multicurrency: bool

    def body(self, rang: int) -> dict[str, Any]:
        """The line body for ``POST /orders`` (``lines``), ``/orders/{id}/lines`` or invoices."""
        out: dict[str, Any] = {
            "desc": self.label,
            "qty": _fmt(self.qty),
            "subprice": _fmt(self.subprice),
            "remise_percent": _fmt(self.discount_percent),
            "product_type": self.product_type,
            "rang": rang,
            **self.tax.payload(),
        }
        if self.fk_product is not None:
            out["fk_product"] = self.fk_product
        if self.multicurrency:
            out["multicurrency_subprice"] = _fmt(self.unit_price)
        return out


@dataclass(frozen=True, slots=True)
class Adjustment:
    """The rounding-adjustment line added, if any: its net and gross and why."""

    excl: Decimal
    incl: Decimal
    reason: str


@dataclass(frozen=True, slots=True)
class OrderMapping:
    """The result of :func:`map_order` (see module docstring)."""

    order_id: int
    reference: str
    currency: str
    multicurrency_tx: Decimal | None  # None = the company currency
    lines: tuple[MappedLine, ...]
    predicted: DocumentTotals
    predicted_totals: Totals  # order currency
    adjustment: Adjustment | None
    reconciliation: Reconciliation
    notes: tuple[str, ...] = ()
    products_needed: tuple[ProductKey, ...] = ()

    @property
    def lines_inline(self) -> bool:
        """Lines may go inside ``POST /orders`` (no multicurrency price to honour)."""
        return self.multicurrency_tx is None

    def line_bodies(self) -> list[dict[str, Any]]:
        """Every line body, in order (``rang`` 1..n)."""
        return [line.body(index) for index, line in enumerate(self.lines, start=1)]

    def _header(self, socid: int, date: int, ref_ext: str, ref_client: str | None) -> dict[str, Any]:
        out: dict[str, Any] = {"socid": socid, "date": date, "ref_ext": ref_ext}
        if ref_client is not None:
            out["ref_client"] = ref_client
        if self.multicurrency_tx is not None:
            out["multicurrency_code"] = self.currency
            out["multicurrency_tx"] = _fmt(self.multicurrency_tx)
        if self.lines_inline:
            out["lines"] = self.line_bodies()
        return out

    def order_body(self, *, socid: int, date: int, ref_ext: str, ref_client: str | None = None) -> dict[str, Any]:
        """``POST /orders`` body; without ``lines`` when they must be posted one by one."""
        return self._header(socid, date, ref_ext, ref_client)

    def invoice_body(self, *, socid: int, date: int, ref_ext: str, ref_client: str | None = None) -> dict[str, Any]:
        """``POST /invoices`` body (standard invoice) carrying the order's amounts and currency."""
        return {"type": 0, **self._header(socid, date, ref_ext, ref_client)}


# --- internals ---------------------------------------------------------------------------


def _fmt(value: Decimal) -> str:
    text = f"{value.normalize():f}" if value == value.to_integral_value() else f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _multicurrency_tx(order: ShopOrder, side: DolibarrSide) -> Decimal | None:
    if order.currency == side.company_currency.upper():
        return None
    default = (side.shop_default_currency or side.company_currency).upper()
    if default != side.company_currency.upper():
        raise MappingError(
            "orders", order.id, "conversion_rate", f"{order.conversion_rate} {order.currency}",
            f"PrestaShop's default currency {default} is not Dolibarr's company currency "
            f"{side.company_currency}: PrestaShop's conversion rate cannot be used; make them the same",
        )
    if order.conversion_rate <= 0:
        raise MappingError("orders", order.id, "conversion_rate", order.conversion_rate,
                           "the order has no conversion rate: fix the order's currency in PrestaShop")
    return order.conversion_rate


def _product_drafts(order: ShopOrder, side: DolibarrSide, resolver: TaxResolver,
                    options: OrderMappingOptions) -> list[LineDraft]:
    missing = [key for key in order.products_needed if side.product_ids is not None and key not in side.product_ids]
    if missing:
        shown = ", ".join(f"{p}" if a == 0 else f"{p}/{a}" for p, a in missing)
        raise MappingError("orders", order.id, "product_id", shown,
                           f"sync these PrestaShop products (product/combination) to Dolibarr first: {shown}")
    drafts: list[LineDraft] = []
    for line in order.lines:
        drafts.extend(_line_drafts(order, line, side, resolver, options))
    return drafts


def _line_drafts(order: ShopOrder, line: ShopOrderLine, side: DolibarrSide, resolver: TaxResolver,
                 options: OrderMappingOptions) -> list[LineDraft]:
    where = f"{order.id}/order_details {line.detail_id}"
    kind = _SERVICE if line.key in side.service_keys else 0
    fk = side.product_ids.get(line.key) if side.product_ids is not None else None
    qty = Decimal(line.qty)
    excl, incl = r2(line.total_price_tax_excl), r2(line.total_price_tax_incl)
    unit_excl, unit_incl = line.unit_price_tax_excl, line.unit_price_tax_incl
    out: list[LineDraft] = []
    if line.ecotax > 0:
        eco_tax = resolver.for_total_rate(line.ecotax_tax_rate, product_type=_SERVICE, source_id=where,
                                          field="ecotax_tax_rate")
        eco_excl = r2(line.ecotax * qty)
        eco_incl = r2(line.ecotax * (_ONE + eco_tax.total_rate / _HUNDRED) * qty)
        out.append(LineDraft("ecotax", f"{options.ecotax_label} — {line.name}", qty, eco_excl, eco_incl, eco_tax,
                          _SERVICE, preferred=(r5(line.ecotax),), source=f"order_detail:{line.detail_id}:ecotax"))
        excl, incl = excl - eco_excl, incl - eco_incl
        unit_excl = unit_excl - line.ecotax
        unit_incl = unit_incl - line.ecotax * (_ONE + eco_tax.total_rate / _HUNDRED)
    tax = resolver.for_line(unit_excl=unit_excl, unit_incl=unit_incl, tax_ids=line.tax_ids, product_type=kind,
                            source_id=where, field="unit_price_tax_incl")
    discount = _ZERO
    preferred: list[Decimal] = [r5(unit_excl), r5(r2(unit_excl))]
    if options.line_discount_as_percent and _ZERO < line.reduction_percent < _HUNDRED and line.original_product_price > 0:
        discount = line.reduction_percent
        base = line.original_product_price - (line.ecotax if line.ecotax > 0 else _ZERO)
        preferred = [r5(base), r5(unit_excl / (_ONE - discount / _HUNDRED))]
    label = line.name or f"{line.reference or line.product_id}"
    if order.round_type == ROUND_ITEM:
        exact_excl, exact_incl = line.total_price_tax_excl, line.total_price_tax_incl
    else:  # per line and on total: the grand total adds unit price x quantity, unrounded
        exact_excl, exact_incl = line.unit_price_tax_excl * qty, line.unit_price_tax_incl * qty
    eco = [d for d in out if d.kind == "ecotax"]
    if eco:
        exact_excl, exact_incl = exact_excl - eco[0].target_excl, exact_incl - eco[0].target_incl
    out.insert(0, LineDraft("product", label, qty, excl, incl, tax, kind, discount, tuple(preferred), fk,
                            f"order_detail:{line.detail_id}", exact_excl=exact_excl, exact_incl=exact_incl))
    return out


def _spread(drafts: Sequence[LineDraft], shop: Totals) -> None:
    """Round the product lines (by largest remainder) so they add up to PrestaShop's total.

    PrestaShop's grand total adds the *unrounded* lines; giving the cent to the line PrestaShop
    rounded furthest makes every line within a cent of its exact amount and the sum exact.
    """
    products = [d for d in drafts if d.kind == "product" and d.exact_excl is not None and d.exact_incl is not None]
    chosen = {id(d) for d in products}
    others = [d for d in drafts if id(d) not in chosen]
    want_excl = shop.excl - sum((d.target_excl for d in others), _ZERO)
    want_incl = shop.incl - sum((d.target_incl for d in others), _ZERO)
    new_excl = spread_cents([d.exact_excl for d in products], [d.target_excl for d in products], want_excl)  # type: ignore[misc]
    new_incl = spread_cents([d.exact_incl for d in products], [d.target_incl for d in products], want_incl)  # type: ignore[misc]
    for draft, excl, incl in zip(products, new_excl, new_incl, strict=True):
        draft.target_excl, draft.target_incl = excl, incl


def _shipping_drafts(order: ShopOrder, side: DolibarrSide, resolver: TaxResolver,
                     options: OrderMappingOptions) -> tuple[list[LineDraft], LineTax]:
    excl, incl = r2(order.total_shipping_tax_excl), r2(order.total_shipping_tax_incl)
    if excl.is_zero() and incl.is_zero() and not options.free_carrier_line:
        return [], NO_TAX
    tax = resolver.for_total_rate(order.carrier_tax_rate, product_type=_SERVICE, source_id=order.id)
    if not excl.is_zero() and abs(r2(excl * (_ONE + tax.total_rate / _HUNDRED)) - incl) > _CENT:
        # carrier_tax_rate disagrees with the shipping amounts (seen on fixtures): trust the amounts.
        tax = resolver.for_amounts(excl, incl, product_type=_SERVICE, source_id=order.id,
                                   field="total_shipping_tax_incl")
    label = options.shipping_label.format(carrier=order.carrier_name or "carrier").strip()
    draft = LineDraft("shipping", label, _ONE, excl, incl, tax, _SERVICE, preferred=(excl,),
                   fk_product=side.shipping_product_id, source="shipping")
    return [draft], tax


def _wrapping_drafts(order: ShopOrder, side: DolibarrSide, resolver: TaxResolver, options: OrderMappingOptions,
                     known: Sequence[LineTax]) -> list[LineDraft]:
    excl, incl = r2(order.total_wrapping_tax_excl), r2(order.total_wrapping_tax_incl)
    if excl.is_zero() and incl.is_zero():
        return []
    tax = resolver.for_amounts(order.total_wrapping_tax_excl, order.total_wrapping_tax_incl, product_type=_SERVICE,
                               preferred=known, source_id=order.id)
    return [LineDraft("wrapping", options.wrapping_label, _ONE, excl, incl, tax, _SERVICE, preferred=(excl,),
                   fk_product=side.wrapping_product_id, source="wrapping")]


def _rule_shares(order: ShopOrder, excl: Decimal, incl: Decimal) -> list[tuple[ShopCartRule | None, Decimal, Decimal]]:
    """The discount total split per cart rule (cents adding up to the order's totals)."""
    rules = list(order.cart_rules)
    if not rules:
        return [(None, excl, incl)]
    weights_excl = [abs(rule.value_tax_excl) for rule in rules]
    weights_incl = [abs(rule.value) for rule in rules]
    shares_excl = split_cents(excl, weights_excl)
    shares_incl = split_cents(incl, weights_incl)
    return [(rule, e, i) for rule, e, i in zip(rules, shares_excl, shares_incl, strict=True)]


def _discount_drafts(order: ShopOrder, side: DolibarrSide, products: Sequence[LineDraft], shipping_tax: LineTax,
                     options: OrderMappingOptions) -> list[LineDraft]:
    total_excl, total_incl = r2(order.total_discounts_tax_excl), r2(order.total_discounts_tax_incl)
    if total_excl.is_zero() and total_incl.is_zero():
        return []
    goods: dict[LineTax, tuple[Decimal, Decimal]] = {}
    for draft in products:
        excl, incl = goods.get(draft.tax, (_ZERO, _ZERO))
        goods[draft.tax] = (excl + draft.target_excl, incl + draft.target_incl)
    rates = list(goods)
    free_excl = free_incl = _ZERO
    if any(rule.free_shipping for rule in order.cart_rules):
        free_excl = min(r2(order.total_shipping_tax_excl), total_excl)
        free_incl = min(r2(order.total_shipping_tax_incl), total_incl)
    if options.discount_lines == "per_rule" and order.cart_rules:
        shares = _rule_shares(order, total_excl, total_incl)
    else:
        shares = [(None, total_excl, total_incl)]
    drafts: list[LineDraft] = []
    free_left = (free_excl, free_incl)
    for rule, share_excl, share_incl in shares:
        base = rule.name if rule is not None and rule.name else options.discount_label
        source = f"cart_rule:{rule.id_cart_rule}" if rule is not None else "discounts"
        take_free = rule is None or rule.free_shipping
        if take_free and (free_left[0] or free_left[1]):
            fe, fi = min(free_left[0], share_excl), min(free_left[1], share_incl)
            free_left = (free_left[0] - fe, free_left[1] - fi)
            share_excl, share_incl = share_excl - fe, share_incl - fi
            label = options.free_shipping_label if rule is None else f"{base} ({options.free_shipping_label.lower()})"
            drafts.append(LineDraft("discount", label, _ONE, -fe, -fi, shipping_tax, _SERVICE, preferred=(-fe,),
                                 fk_product=side.discount_product_id, source=f"{source}:free_shipping"))
        if share_excl.is_zero() and share_incl.is_zero():
            continue
        parts_excl = split_cents(share_excl, [goods[t][0] for t in rates]) if rates else [share_excl]
        parts_incl = split_cents(share_incl, [goods[t][1] for t in rates]) if rates else [share_incl]
        for index, tax in enumerate(rates or [NO_TAX]):
            pe, pi = parts_excl[index], parts_incl[index]
            if pe.is_zero() and pi.is_zero():
                continue
            label = base if len(rates) <= 1 else f"{base} (VAT {tax.label()})"
            drafts.append(LineDraft("discount", label, _ONE, -pe, -pi, tax, _SERVICE, preferred=(-pe,),
                                 fk_product=side.discount_product_id, source=f"{source}:{tax.label()}"))
    return drafts


def _finish(draft: LineDraft, tx: Decimal | None) -> MappedLine:
    priced = draft.priced
    assert priced is not None
    multicurrency = tx is not None
    return MappedLine(
        kind=draft.kind,
        label=draft.label,
        qty=draft.qty,
        unit_price=priced.unit_price,
        subprice=r5(priced.unit_price / tx) if tx is not None else priced.unit_price,
        tax=draft.tax,
        product_type=draft.product_type,
        discount_percent=draft.discount_percent,
        fk_product=draft.fk_product,
        source=draft.source,
        target_excl=draft.target_excl,
        target_incl=draft.target_incl,
        amounts=priced.amounts,
        excl=priced.ht,
        incl=priced.ttc,
        multicurrency=multicurrency,
    )


def _kind_totals(lines: Sequence[MappedLine], kind: str, sign: int = 1) -> Totals:
    excl = sum((line.excl for line in lines if line.kind == kind), _ZERO) * sign
    incl = sum((line.incl for line in lines if line.kind == kind), _ZERO) * sign
    return Totals.of(excl, incl)


def map_order(order: ShopOrder, side: DolibarrSide, options: OrderMappingOptions | None = None) -> OrderMapping:
    """Map ``order`` to Dolibarr lines reaching PrestaShop's grand totals (see module docstring)."""
    options = options or OrderMappingOptions()
    tx = _multicurrency_tx(order, side)
    resolver = TaxResolver(side.seller, tax_rates=side.tax_rates, country_code=side.country_code)
    products = _product_drafts(order, side, resolver, options)
    shipping, shipping_tax = _shipping_drafts(order, side, resolver, options)
    known = [d.tax for d in products]
    wrapping = _wrapping_drafts(order, side, resolver, options, known)
    discounts = _discount_drafts(order, side, [d for d in products if d.kind == "product"], shipping_tax, options)
    drafts = [*products, *shipping, *wrapping, *discounts]
    shop = Totals.of(r2(order.total_paid_tax_excl), r2(order.total_paid_tax_incl))
    if options.spread_line_cents:
        _spread(drafts, shop)
    for draft in drafts:
        draft.priced = price_draft(draft, side.seller, tx)

    parts_excl, parts_incl = draft_sums(drafts)
    by_goods = sorted({d.tax: d.target_excl for d in products}.items(), key=lambda item: -item[1])
    rules = GapRules(
        tolerance=options.tolerance,
        absorb_tax_cents=options.absorb_tax_cents,
        label=options.adjustment_label,
        item_count=sum(line.qty for line in order.lines) if order.round_type == ROUND_ITEM else 0,
        order_id=order.id,
        currency=order.currency,
    )
    drafts, notes = close_gap(drafts, shop_excl=shop.excl, shop_incl=shop.incl, taxes=[t for t, _ in by_goods],
                              seller=side.seller, tx=tx, rules=rules)
    adjustment: Adjustment | None = None
    adjusting = [d for d in drafts if d.kind == "adjustment"]
    if adjusting:
        adj_excl, adj_incl = draft_sums(adjusting)
        adjustment = Adjustment(
            excl=adj_excl,
            incl=adj_incl,
            reason=(f"PrestaShop's grand totals {shop.excl}/{shop.incl} differ from its rounded parts "
                    f"{parts_excl}/{parts_incl} (round type {order.round_type})"),
        )
    lines = tuple(_finish(d, tx) for d in drafts)
    predicted = document_totals(line.amounts for line in lines)
    predicted_totals = Totals.of(
        predicted.multicurrency_total_ht if tx is not None else predicted.total_ht,
        predicted.multicurrency_total_ttc if tx is not None else predicted.total_ttc,
    )
    fixes = []
    if adjustment is not None:
        fixes.append(f"adjustment line {adjustment.excl:+f} net / {adjustment.incl:+f} gross")
    if notes:
        fixes.append(f"tax of {len(notes)} line(s) moved by whole cents (net unchanged)")
    reconciliation = Reconciliation(
        order_id=str(order.id),
        reference=order.reference,
        currency=order.currency,
        document="order",
        source="predicted",
        shop=shop,
        erp=predicted_totals,
        fix="; ".join(fixes) or "none",
        adjustment_excl=adjustment.excl if adjustment else _ZERO,
        adjustment_incl=adjustment.incl if adjustment else _ZERO,
        shipping_shop=Totals.of(r2(order.total_shipping_tax_excl), r2(order.total_shipping_tax_incl)),
        shipping_erp=_kind_totals(lines, "shipping"),
        discounts_shop=Totals.of(r2(order.total_discounts_tax_excl), r2(order.total_discounts_tax_incl)),
        discounts_erp=_kind_totals(lines, "discount", -1),
    )
    return OrderMapping(
        order_id=order.id,
        reference=order.reference,
        currency=order.currency,
        multicurrency_tx=tx,
        lines=lines,
        predicted=predicted,
        predicted_totals=predicted_totals,
        adjustment=adjustment,
        reconciliation=reconciliation,
        notes=tuple(notes),
        products_needed=tuple(order.products_needed),
    )
