"""Find a Dolibarr unit price that makes one line come out at given totals, to the cent.

Dolibarr stores a line's unit price with 5 decimals (``subprice = r5(pu)``) and computes
``HT = r2(pu x qty x (1 - r/100))`` and ``TTC`` from the same unrounded product
(:mod:`dolisync.mapping.dolibarr_money`). Every price this module returns lies **on the r5 grid**
(a multiple of 0.00001), so re-pricing the line from its stored ``subprice`` — which is what
``createfromorder`` and Dolibarr's consistency pass do — gives the very same amounts.

Contract of :func:`price_line`: among the grid prices whose ``HT`` equals the target, pick
one whose ``TTC`` equals the target too (TTC grows with the price, so both ends of the
"right TTC" run are found by bisection), as close as possible to a preferred unit price
(PrestaShop's own). When no grid price reaches a target (huge quantities, or a TTC that the
rates cannot produce) the closest one is returned with ``exact = False``. The result also
carries the range of TTC reachable without changing ``HT`` (``ttc_low``/``ttc_high``), which
the order mapper uses to absorb a tax-only cent. With a currency (``multicurrency_tx`` not 1)
the price searched is ``multicurrency_subprice`` and the amounts compared are the currency ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from dolisync.mapping.dolibarr_money import LineAmounts, LineInput, SellerTaxes, add_line
from dolisync.mapping.money import r2, r5
from dolisync.mapping.order_taxes import LineTax

__all__ = ["GRID", "PricedLine", "price_line", "line_input", "split_cents", "spread_cents"]

GRID = Decimal("0.00001")
_ZERO = Decimal(0)
_ONE = Decimal(1)
_HUNDRED = Decimal(100)
_HALF_CENT = Decimal("0.005")


@dataclass(frozen=True, slots=True)
class PricedLine:
    """A grid unit price and what Dolibarr makes of it (amounts in the pricing currency)."""

    unit_price: Decimal  # r5 grid; the currency price when multicurrency
    amounts: LineAmounts
    ht: Decimal
    ttc: Decimal
    ttc_low: Decimal  # lowest TTC reachable with the same HT
    ttc_high: Decimal
    exact: bool


def line_input(
    *,
    qty: Decimal,
    unit_price: Decimal,
    tax: LineTax,
    product_type: int,
    discount_percent: Decimal = _ZERO,
    multicurrency_tx: Decimal = _ONE,
) -> LineInput:
    """The :class:`LineInput` for a net-priced line; ``unit_price`` is in the document currency."""
    common = dict(
        qty=qty,
        vat_rate=tax.vat_rate,
        discount_percent=discount_percent,
        price_base="HT",
        product_type=product_type,
        localtax1_tx=tax.localtax1_rate,
        localtax2_tx=tax.localtax2_rate,
    )
    if multicurrency_tx == _ONE:
        return LineInput(unit_price=unit_price, **common)  # type: ignore[arg-type]
    return LineInput(
        unit_price=r5(unit_price / multicurrency_tx),
        multicurrency_tx=multicurrency_tx,
        multicurrency_unit_price=unit_price,
        **common,  # type: ignore[arg-type]
    )


class _Evaluator:
    """Dolibarr's amounts for a grid index ``k`` (price ``k x GRID``), memoised."""

    def __init__(
        self,
        qty: Decimal,
        tax: LineTax,
        seller: SellerTaxes,
        product_type: int,
        discount_percent: Decimal,
        multicurrency_tx: Decimal,
    ) -> None:
        self.qty = qty
        self.tax = tax
        self.seller = seller
        self.product_type = product_type
        self.discount = discount_percent
        self.tx = multicurrency_tx
        self.factor = qty * (_ONE - discount_percent / _HUNDRED)
        self._cache: dict[int, LineAmounts] = {}

    def ht(self, k: int) -> Decimal:
        return r2(Decimal(k) * GRID * self.factor)

    def amounts(self, k: int) -> LineAmounts:
        found = self._cache.get(k)
        if found is None:
            found = add_line(
                line_input(
                    qty=self.qty,
                    unit_price=Decimal(k) * GRID,
                    tax=self.tax,
                    product_type=self.product_type,
                    discount_percent=self.discount,
                    multicurrency_tx=self.tx,
                ),
                self.seller,
            )
            self._cache[k] = found
        return found

    def ttc(self, k: int) -> Decimal:
        amounts = self.amounts(k)
        return amounts.total_ttc if self.tx == _ONE else amounts.multicurrency_total_ttc

    def line_ht(self, k: int) -> Decimal:
        amounts = self.amounts(k)
        return amounts.total_ht if self.tx == _ONE else amounts.multicurrency_total_ht


def _first(lo: int, hi: int, test: object) -> int:
    """Smallest k in [lo, hi] with ``test(k)`` true (``test`` monotone false→true); hi + 1 if none."""
    check = test  # type: ignore[assignment]
    while lo <= hi:
        mid = (lo + hi) // 2
        if check(mid):  # type: ignore[operator]
            hi = mid - 1
        else:
            lo = mid + 1
    return lo


def _ht_range(ev: _Evaluator, target: Decimal) -> tuple[int, int]:
    """Grid indexes whose HT equals ``target`` (empty when ``lo > hi``)."""
    if ev.factor.is_zero():
        return (0, 0) if target.is_zero() else (1, 0)
    step = GRID * ev.factor
    centre = int((target / step).to_integral_value())
    span = int((_HALF_CENT / step).to_integral_value(rounding=ROUND_CEILING)) + 2
    lo = _first(centre - span, centre + span, lambda k: ev.ht(k) >= target)
    hi = _first(centre - span, centre + span, lambda k: ev.ht(k) > target) - 1
    return lo, hi


def price_line(
    *,
    qty: Decimal,
    ht: Decimal,
    ttc: Decimal,
    tax: LineTax,
    seller: SellerTaxes,
    product_type: int = 0,
    discount_percent: Decimal = _ZERO,
    multicurrency_tx: Decimal = _ONE,
    preferred: Sequence[Decimal] = (),
) -> PricedLine:
    """Grid price for a line of ``qty`` reaching ``ht`` and ``ttc`` (see module docstring)."""
    ev = _Evaluator(qty, tax, seller, product_type, discount_percent, multicurrency_tx)
    if ev.factor.is_zero():
        pref = preferred[0] if preferred else _ZERO
        k = int((pref / GRID).to_integral_value())
        return _result(ev, k, k, k, ht, ttc)
    lo, hi = _ht_range(ev, ht)
    if lo > hi:
        # No grid price gives this HT (quantity too large): take the nearest HT.
        step = GRID * ev.factor
        k = int((ht / step).to_integral_value())
        best = min((k - 1, k, k + 1), key=lambda i: (abs(ev.ht(i) - ht), abs(ev.ttc(i) - ttc)))
        return _result(ev, best, best, best, ht, ttc)
    first_ge = _first(lo, hi, lambda k: ev.ttc(k) >= ttc)
    first_gt = _first(first_ge, hi, lambda k: ev.ttc(k) > ttc)
    if first_ge < first_gt:  # [first_ge, first_gt - 1] all give the target TTC
        return _result(ev, _choose(preferred, first_ge, first_gt - 1, ht, ev), lo, hi, ht, ttc)
    candidates = [i for i in (first_ge - 1, first_ge) if lo <= i <= hi]
    best = min(candidates, key=lambda i: abs(ev.ttc(i) - ttc))
    return _result(ev, best, lo, hi, ht, ttc)


def _choose(preferred: Sequence[Decimal], lo: int, hi: int, ht: Decimal, ev: _Evaluator) -> int:
    """The first preferred price inside [lo, hi], else the average unit price clamped into it."""
    for price in preferred:
        k = int((price / GRID).to_integral_value())
        if lo <= k <= hi:
            return k
    average = int((ht / (GRID * ev.factor)).to_integral_value())
    return min(max(average, lo), hi)


def _result(ev: _Evaluator, k: int, lo: int, hi: int, ht: Decimal, ttc: Decimal) -> PricedLine:
    got_ht = ev.line_ht(k)
    got_ttc = ev.ttc(k)
    return PricedLine(
        unit_price=Decimal(k) * GRID,
        amounts=ev.amounts(k),
        ht=got_ht,
        ttc=got_ttc,
        ttc_low=ev.ttc(lo),
        ttc_high=ev.ttc(hi),
        exact=got_ht == ht and got_ttc == ttc,
    )


def split_cents(total: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """Split a 2-decimal ``total`` in proportion to ``weights`` into cents that add up exactly.

    Largest remainder: each share is floored (toward zero for the sign of ``total``) to the
    cent, then the missing cents go to the largest remainders. Zero weights get zero, unless
    every weight is zero (then the first share takes everything).
    """
    if not weights:
        return []
    weight_sum = sum(weights, _ZERO)
    if weight_sum.is_zero():
        return [total] + [_ZERO] * (len(weights) - 1)
    sign = -1 if total < 0 else 1
    magnitude = abs(total)
    cents = Decimal("0.01")
    raw = [magnitude * w / weight_sum for w in weights]
    floors = [value.quantize(cents, rounding=ROUND_FLOOR) for value in raw]
    missing = int(((magnitude - sum(floors, _ZERO)) / cents).to_integral_value())
    order = sorted(range(len(raw)), key=lambda i: (raw[i] - floors[i], weights[i]), reverse=True)
    for index in order[: max(missing, 0)]:
        floors[index] += cents
    return [value * sign for value in floors]


def spread_cents(exact: Sequence[Decimal], rounded: Sequence[Decimal], total: Decimal) -> list[Decimal]:
    """Move ``rounded`` amounts by at most a cent each so they add up to ``total``.

    The cents go where rounding moved the amount furthest from its ``exact`` value (largest
    remainder), so every result stays within a cent of its exact amount. When ``total`` is more
    than one cent per amount away, the amounts move by a cent each and the rest is left over.
    """
    out = list(rounded)
    cents = Decimal("0.01")
    missing = int(((total - sum(out, _ZERO)) / cents).to_integral_value())
    if missing == 0 or not out:
        return out
    step = cents if missing > 0 else -cents
    # Rounded down the most first when adding cents; rounded up the most first when taking them.
    order = sorted(range(len(out)), key=lambda i: (exact[i] - out[i]) * (1 if missing > 0 else -1), reverse=True)
    for index in order[: abs(missing)]:
        out[index] += step
    return out
