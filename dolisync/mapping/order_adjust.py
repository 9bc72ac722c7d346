"""Close the last cents between Dolibarr's predicted totals and PrestaShop's grand totals.

PrestaShop's ``total_paid_tax_excl/incl`` add *unrounded* lines (round types 2 and 3), and with
round type 1 (per item) its tax is the sum of per-unit rounded taxes — so the lines, each exact,
can still miss the grand totals by a few cents. Contract of :func:`close_gap`, in this order:

1. a net gap ``dH`` (with the gross gap ``dG``): ONE adjustment line, at the rate (0 %, or one
   of the order's VAT rates) that makes it reach ``(dH, dG)`` exactly when one exists, else at
   0 % (``dH``, ``dH``);
2. what is left of the gross gap (tax only): absorbed, when allowed, by moving the gross of
   existing lines by whole cents *without changing their net* (discount lines first, then the
   adjustment, shipping, wrapping, products — largest first); each move is noted;
3. still left (per-item rounding on large quantities): the adjustment becomes a VAT rounding
   correction — a line at one of the order's VAT rates and a 0 % line whose nets cancel
   (plus ``dH``), so net stays right and the tax moves by exactly what is missing.

The gaps are checked against the tolerance first: ``|dH|`` against ``tolerance``; the tax gap
against ``tolerance`` plus, for round type 1, one cent per item (PrestaShop rounds each unit's
price with and without tax). Beyond: :class:`MappingError`. Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from dolisync.mapping.dolibarr_money import SellerTaxes
from dolisync.mapping.errors import MappingError
from dolisync.mapping.money import r2
from dolisync.mapping.order_pricing import PricedLine, price_line
from dolisync.mapping.order_taxes import NO_TAX, LineTax, seller_view

__all__ = ["LineKind", "LineDraft", "GapRules", "price_draft", "draft_sums", "close_gap"]

LineKind = Literal["product", "ecotax", "shipping", "wrapping", "discount", "adjustment"]

_ZERO = Decimal(0)
_ONE = Decimal(1)
_CENT = Decimal("0.01")
_HUNDRED = Decimal(100)
_SERVICE = 1
_NUDGE_ORDER: dict[str, int] = {"discount": 0, "adjustment": 1, "shipping": 2, "wrapping": 3, "ecotax": 4, "product": 5}


@dataclass(slots=True)
class LineDraft:
    """A line being built: what it must reach (order currency), how it is priced, its price."""

    kind: LineKind
    label: str
    qty: Decimal
    target_excl: Decimal
    target_incl: Decimal
    tax: LineTax
    product_type: int
    discount_percent: Decimal = _ZERO
    preferred: tuple[Decimal, ...] = ()
    fk_product: int | None = None
    source: str = ""
    priced: PricedLine | None = None
    exact_excl: Decimal | None = None  # PrestaShop's unrounded amounts (product lines)
    exact_incl: Decimal | None = None

    @property
    def excl(self) -> Decimal:
        """Predicted net (after pricing)."""
        assert self.priced is not None
        return self.priced.ht

    @property
    def incl(self) -> Decimal:
        """Predicted gross (after pricing)."""
        assert self.priced is not None
        return self.priced.ttc


@dataclass(frozen=True, slots=True)
class GapRules:
    """What :func:`close_gap` may do; ``item_count`` > 0 widens the tax tolerance (round type 1)."""

    tolerance: Decimal
    absorb_tax_cents: bool
    label: str
    item_count: int = 0
    order_id: object = "?"
    currency: str = ""


def price_draft(draft: LineDraft, seller: SellerTaxes, tx: Decimal | None, target_incl: Decimal | None = None) -> PricedLine:
    """Price ``draft`` on the r5 grid (in the order currency when ``tx`` is set)."""
    return price_line(
        qty=draft.qty,
        ht=draft.target_excl,
        ttc=draft.target_incl if target_incl is None else target_incl,
        tax=draft.tax,
        seller=seller_view(seller, draft.tax),
        product_type=draft.product_type,
        discount_percent=draft.discount_percent,
        multicurrency_tx=tx if tx is not None else _ONE,
        preferred=draft.preferred,
    )


def draft_sums(drafts: Sequence[LineDraft]) -> tuple[Decimal, Decimal]:
    """Predicted (net, gross) of the priced drafts."""
    return (sum((d.excl for d in drafts), _ZERO), sum((d.incl for d in drafts), _ZERO))


def _adjust_line(excl: Decimal, incl: Decimal, tax: LineTax, seller: SellerTaxes, tx: Decimal | None,
                 label: str) -> LineDraft:
    draft = LineDraft("adjustment", label, _ONE, excl, incl, tax, _SERVICE, preferred=(excl,), source="adjustment")
    draft.priced = price_draft(draft, seller, tx)
    return draft


def _plain_rates(taxes: Sequence[LineTax]) -> list[LineTax]:
    out: list[LineTax] = []
    for tax in taxes:
        plain = LineTax(tax.vat_rate, code=tax.code)
        if plain.vat_rate > 0 and plain not in out:
            out.append(plain)
    return out


def _absorb(drafts: list[LineDraft], gap: Decimal, seller: SellerTaxes, tx: Decimal | None, notes: list[str]) -> Decimal:
    """Move lines' gross (net unchanged) by whole cents toward ``gap``; return what is left."""
    order = sorted(range(len(drafts)), key=lambda i: (_NUDGE_ORDER[drafts[i].kind], -abs(drafts[i].target_excl)))
    for index in order:
        if gap.is_zero():
            break
        draft = drafts[index]
        priced = draft.priced
        if priced is None or priced.ht != draft.target_excl:
            continue
        room = priced.ttc_high - priced.ttc if gap > 0 else priced.ttc_low - priced.ttc
        move = min(gap, room) if gap > 0 else max(gap, room)
        if move.is_zero():
            continue
        repriced = price_draft(draft, seller, tx, priced.ttc + move)
        if repriced.ht != priced.ht or repriced.ttc == priced.ttc:
            continue
        gap -= repriced.ttc - priced.ttc
        notes.append(f"tax of line '{draft.label}' moved by {repriced.ttc - priced.ttc:+f} to reach the total")
        draft.priced = repriced
    return gap


def _vat_correction(gap: Decimal, net: Decimal, rates: Sequence[LineTax], seller: SellerTaxes, tx: Decimal | None,
                    label: str) -> list[LineDraft] | None:
    """Lines adding ``net`` to the net and ``net + gap`` to the gross (one line, or a pair)."""
    for tax in rates:
        single = _adjust_line(net, net + gap, tax, seller, tx, label)
        if single.priced is not None and single.priced.exact:
            return [single]
    for tax in rates:
        base = r2(gap * _HUNDRED / tax.total_rate)
        for shift in (0, 1, -1, 2, -2, 3, -3):
            amount = base + _CENT * shift
            if amount.is_zero():
                continue
            taxed = _adjust_line(amount, amount + gap, tax, seller, tx, f"{label} (VAT {tax.label()})")
            if taxed.priced is None or not taxed.priced.exact:
                continue
            rest = _adjust_line(net - amount, net - amount, NO_TAX, seller, tx, label)
            if rest.priced is not None and rest.priced.exact:
                return [taxed, rest]
    return None


def close_gap(
    drafts: list[LineDraft],
    *,
    shop_excl: Decimal,
    shop_incl: Decimal,
    taxes: Sequence[LineTax],
    seller: SellerTaxes,
    tx: Decimal | None,
    rules: GapRules,
) -> tuple[list[LineDraft], list[str]]:
    """Add/adjust lines so the drafts total ``(shop_excl, shop_incl)``; see module docstring.

    ``taxes``: the order's product taxes, main one (most goods) first. Returns the drafts (with
    any adjustment lines appended) and notes on the cents moved.
    """
    excl, incl = draft_sums(drafts)
    gap_excl, gap_incl = shop_excl - excl, shop_incl - incl
    gap_tax = gap_incl - gap_excl
    tax_tolerance = rules.tolerance + _CENT * rules.item_count
    if abs(gap_excl) > rules.tolerance or abs(gap_tax) > tax_tolerance:
        raise MappingError(
            "orders", rules.order_id, "total_paid_tax_incl", f"{shop_excl}/{shop_incl} {rules.currency}",
            f"the order's lines come to {excl}/{incl} (net/gross) but PrestaShop's totals are {shop_excl}/{shop_incl}: "
            f"a difference beyond the {rules.tolerance} tolerance — check the order's lines, discounts and shipping "
            "in PrestaShop (or raise the reconciliation tolerance)",
        )
    notes: list[str] = []
    rates = _plain_rates(taxes)
    out = list(drafts)
    if not gap_excl.is_zero():
        candidates = ([NO_TAX] if gap_excl == gap_incl else []) + rates + [NO_TAX]
        chosen = None
        for tax in candidates:
            line = _adjust_line(gap_excl, gap_incl, tax, seller, tx, rules.label)
            if line.priced is not None and line.priced.exact:
                chosen = line
                break
        out.append(chosen or _adjust_line(gap_excl, gap_excl, NO_TAX, seller, tx, rules.label))
    remaining = shop_incl - draft_sums(out)[1]
    if not remaining.is_zero() and rules.absorb_tax_cents:
        remaining = _absorb(out, remaining, seller, tx, notes)
    if not remaining.is_zero():
        current = [d for d in out if d.kind == "adjustment"]
        net = sum((d.excl for d in current), _ZERO)
        gross = sum((d.incl for d in current), _ZERO)
        fix = _vat_correction(gross + remaining - net, net, rates or [NO_TAX], seller, tx, rules.label)
        if fix is None:
            raise MappingError(
                "orders", rules.order_id, "total_paid_tax_incl", f"{shop_excl}/{shop_incl} {rules.currency}",
                f"Dolibarr's line rounding cannot reach PrestaShop's totals (missing {remaining} of tax): "
                "book this order by hand or report it",
            )
        out = [d for d in out if d.kind != "adjustment"] + fix
    final_excl, final_incl = draft_sums(out)
    if final_excl != shop_excl or final_incl != shop_incl:  # pragma: no cover - guarded by the steps above
        raise MappingError("orders", rules.order_id, "total_paid_tax_incl", f"{shop_excl}/{shop_incl}",
                           f"internal: lines total {final_excl}/{final_incl}; report this order")
    return out, notes
