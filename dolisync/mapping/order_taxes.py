"""The Dolibarr tax of one order line: VAT rate plus local-tax switches, from PrestaShop data.

PrestaShop does not expose a line's tax (``order_detail_tax`` is not a webservice resource).
What it gives: the unit prices tax excluded/included (their ratio is the line's *combined*
rate), the ids of the taxes applied (``order_details/associations/taxes``; ``taxes.rate`` is the
*current* rate, which may have changed since the order), ``carrier_tax_rate`` for shipping and
the two wrapping totals. Dolibarr wants one VAT rate (``tva_tx``) that exists in its VAT
dictionary for the company country, and, for a second tax (Canada's PST/QST ...), a dictionary
row of that VAT rate carrying the local tax, plus a non-zero ``localtaxN_tx`` switch.

Contract of :class:`TaxResolver` (pure, built once per order sync):

* :meth:`TaxResolver.for_line` — components from the tax ids when they agree with the observed
  combined rate, else the observed rate alone. One component: a VAT rate. Two components: a
  dictionary row ``rate = first`` with a local tax ``= second`` whose type matches PrestaShop's
  behaviour — *combine* (rates add up) maps to types 1/3/5 (on net), *one after another*
  (compound) to types 2/4/6 (on net + VAT); for *combine* the two may come in either order.
  The behaviour is read from the unit prices (``a + b`` vs ``a + b + ab``).
* :meth:`TaxResolver.for_total_rate` — a combined rate alone (``carrier_tax_rate``, wrapping):
  a plain VAT row of that rate, else a row whose VAT + local taxes give that rate.
* :meth:`TaxResolver.for_amounts` — a rate rebuilt from two rounded totals (wrapping): the
  dictionary (or order) rate that reproduces the tax-included total to the cent.
* Anything Dolibarr lacks raises :class:`~dolisync.mapping.errors.MappingError` with the exact
  row to create (or the local-tax option to enable). When the seller's dictionary is empty
  (unknown), rates are accepted as PrestaShop gives them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from dolisync.mapping.dolibarr_money import SellerTaxes, TaxRow
from dolisync.mapping.errors import MappingError
from dolisync.mapping.money import r2, round_half_up

__all__ = ["LineTax", "TaxResolver", "observed_rate", "fmt_rate", "NO_TAX", "seller_view"]

_ZERO = Decimal(0)
_ONE = Decimal(1)
_HUNDRED = Decimal(100)
#: How far (in percentage points) a rate rebuilt from 6-decimal unit prices may sit from the truth.
_RATE_TOLERANCE = Decimal("0.02")
_ON_NET = frozenset({"1", "3", "5"})
_COMPOUND = frozenset({"2", "4", "6"})
_FOR_PRODUCTS = frozenset({"1", "2", "3", "4"})
_FOR_SERVICES = frozenset({"1", "2", "5", "6"})


def fmt_rate(rate: Decimal) -> str:
    """``Decimal("20.000")`` -> ``"20"``, ``Decimal("9.975")`` -> ``"9.975"`` (for messages and payloads)."""
    text = f"{rate.normalize():f}"
    return "0" if text in ("-0", "") else text


@dataclass(frozen=True, slots=True)
class LineTax:
    """The tax of a Dolibarr line: VAT rate and the local taxes it switches on.

    ``localtaxN_rate`` is the rate (percent) Dolibarr will apply, 0 when off; it is also the
    ``localtaxN_tx`` value sent (a switch for Dolibarr). ``localtaxN_type`` is the dictionary type.
    """

    vat_rate: Decimal
    localtax1_rate: Decimal = _ZERO
    localtax1_type: str = "0"
    localtax2_rate: Decimal = _ZERO
    localtax2_type: str = "0"
    code: str = ""
    pick_code: bool = False  # the dictionary row is not the first of its rate: name it by code

    @property
    def has_local_tax(self) -> bool:
        """True when a second or third tax applies."""
        return not (self.localtax1_rate.is_zero() and self.localtax2_rate.is_zero())

    @property
    def total_rate(self) -> Decimal:
        """Combined rate in percent: VAT + on-net local taxes + compound ones on net + VAT."""
        total = self.vat_rate
        for rate, kind in ((self.localtax1_rate, self.localtax1_type), (self.localtax2_rate, self.localtax2_type)):
            if rate.is_zero():
                continue
            if kind in _COMPOUND:
                total += rate * (_ONE + self.vat_rate / _HUNDRED)
            else:
                total += rate
        return total

    def label(self) -> str:
        """``"20%"`` or ``"5% + 9.975%"`` (for line descriptions)."""
        parts = [f"{fmt_rate(self.vat_rate)}%"]
        for rate in (self.localtax1_rate, self.localtax2_rate):
            if not rate.is_zero():
                parts.append(f"{fmt_rate(rate)}%")
        return " + ".join(parts)

    def payload(self) -> dict[str, str]:
        """The tax fields of a Dolibarr line body.

        When several dictionary rows share the VAT rate and the one meant is not the first,
        ``tva_tx`` names it as Dolibarr's ``addline`` reads it: ``"5 (GST-BC)"`` (rate, code).
        """
        rate = fmt_rate(self.vat_rate)
        return {
            "tva_tx": f"{rate} ({self.code})" if self.pick_code and self.code else rate,
            "localtax1_tx": fmt_rate(self.localtax1_rate),
            "localtax2_tx": fmt_rate(self.localtax2_rate),
        }


NO_TAX = LineTax(_ZERO)


def observed_rate(unit_excl: Decimal, unit_incl: Decimal) -> Decimal:
    """``(incl / excl - 1) x 100`` unrounded; 0 when ``excl`` is 0 (as WEBSERVICE.md section 11)."""
    if unit_excl.is_zero():
        return _ZERO
    return (unit_incl / unit_excl - _ONE) * _HUNDRED


def _choices(text: str) -> list[Decimal]:
    out: list[Decimal] = []
    for part in (text or "").split(":"):
        part = part.strip()
        if part:
            value = Decimal(part)
            if not value.is_zero():
                out.append(value)
    return out


def _same(left: Decimal, right: Decimal) -> bool:
    return left.compare(right) == 0


@dataclass(frozen=True, slots=True)
class _Where:
    """Where a tax question comes from, for error messages."""

    entity: str
    source_id: str
    field: str


class TaxResolver:
    """Resolve PrestaShop line taxes to Dolibarr :class:`LineTax` (see module docstring)."""

    def __init__(
        self,
        seller: SellerTaxes,
        *,
        tax_rates: Mapping[int, Decimal] | None = None,
        country_code: str = "",
    ) -> None:
        self.seller = seller
        self.tax_rates = dict(tax_rates or {})
        self.country_code = country_code or "the company country"
        self._rows = [row for row in seller.rows if row.active]

    # -- public API -----------------------------------------------------------------------

    @property
    def knows_dictionary(self) -> bool:
        """False when no VAT dictionary was given: rates are then taken as PrestaShop gives them."""
        return bool(self._rows)

    def for_line(
        self,
        *,
        unit_excl: Decimal,
        unit_incl: Decimal,
        tax_ids: Sequence[int] = (),
        product_type: int = 0,
        entity: str = "orders",
        source_id: object = "?",
        field: str = "order_details",
    ) -> LineTax:
        """The tax of a product line (see module docstring)."""
        where = _Where(entity, str(source_id), field)
        seen = observed_rate(unit_excl, unit_incl)
        components = [self.tax_rates[i] for i in tax_ids if i in self.tax_rates]
        components = [rate for rate in components if not rate.is_zero()]
        if len(components) >= 2:
            behaviour = self._behaviour(components, seen, unit_excl)
            if behaviour is not None or (unit_excl.is_zero() and len(components) == 2):
                try:
                    return self._two_taxes(components[0], components[1], behaviour, product_type, where)
                except MappingError as missing:
                    # A seller without local taxes may book both taxes as one combined VAT rate.
                    combined = self._combined_row(components[0], components[1], behaviour or "combine")
                    if combined is None:
                        raise missing from None
                    return combined
            if len(components) > 2:
                raise MappingError(
                    where.entity, where.source_id, where.field, " + ".join(f"{fmt_rate(c)}%" for c in components),
                    "a line with three or more taxes cannot be booked in Dolibarr (VAT + 2 local taxes at most): "
                    "simplify the tax rule group in PrestaShop",
                )
        if len(components) == 1 and (unit_excl.is_zero() or abs(components[0] - seen) <= self._tolerance(unit_excl)):
            return self._single(components[0], product_type, where)
        if unit_excl.is_zero():
            return NO_TAX
        return self.for_total_rate(seen, product_type=product_type, entity=entity, source_id=source_id, field=field,
                                   tolerance=self._tolerance(unit_excl))

    def for_total_rate(
        self,
        rate: Decimal,
        *,
        product_type: int = 0,
        entity: str = "orders",
        source_id: object = "?",
        field: str = "carrier_tax_rate",
        tolerance: Decimal = Decimal("0.0005"),
    ) -> LineTax:
        """A combined rate alone (``carrier_tax_rate``): plain VAT row first, else VAT + local tax."""
        where = _Where(entity, str(source_id), field)
        if abs(rate) <= tolerance:
            return NO_TAX if not self.knows_dictionary or self._row_for(_ZERO) is not None else self._missing(_ZERO, where)
        if not self.knows_dictionary:
            return LineTax(round_half_up(rate, 3))
        best: tuple[Decimal, LineTax] | None = None
        for tax in self._candidates(product_type):
            gap = abs(tax.total_rate - rate)
            if gap <= tolerance and (best is None or gap < best[0] or (gap == best[0] and not tax.has_local_tax)):
                best = (gap, tax)
        if best is not None:
            return best[1]
        return self._missing(round_half_up(rate, 3), where)

    def for_amounts(
        self,
        excl: Decimal,
        incl: Decimal,
        *,
        product_type: int = 1,
        preferred: Iterable[LineTax] = (),
        entity: str = "orders",
        source_id: object = "?",
        field: str = "total_wrapping_tax_incl",
    ) -> LineTax:
        """The rate that turns the rounded ``excl`` into ``incl`` to the cent (wrapping).

        Candidates are ``preferred`` (rates of the order) then the dictionary; the one whose
        ``r2(excl x (1 + rate))`` is nearest ``incl`` wins (at most 1 cent away).
        """
        where = _Where(entity, str(source_id), field)
        if excl.is_zero():
            return NO_TAX
        seen = observed_rate(excl, incl)
        pool: list[LineTax] = [NO_TAX, *preferred]
        if self.knows_dictionary:
            pool.extend(self._candidates(product_type))
        best: tuple[Decimal, Decimal, LineTax] | None = None
        for tax in pool:
            gap = abs(r2(excl * (_ONE + tax.total_rate / _HUNDRED)) - r2(incl))
            closeness = abs(tax.total_rate - seen)
            if gap <= Decimal("0.01") and (best is None or (gap, closeness) < (best[0], best[1])):
                best = (gap, closeness, tax)
        if best is not None:
            return best[2]
        if not self.knows_dictionary:
            return LineTax(round_half_up(seen, 3))
        return self._missing(round_half_up(seen, 3), where)

    # -- internals ------------------------------------------------------------------------

    @staticmethod
    def _tolerance(unit_excl: Decimal) -> Decimal:
        """Rate error of a ratio of 6-decimal prices, plus slack."""
        if unit_excl.is_zero():
            return _RATE_TOLERANCE
        return max(_RATE_TOLERANCE, Decimal("0.000002") / abs(unit_excl) * _HUNDRED * 2)

    def _behaviour(self, components: list[Decimal], seen: Decimal, unit_excl: Decimal) -> str | None:
        """``"combine"`` or ``"compound"`` — whichever matches the observed rate (first two taxes)."""
        a, b = components[0], components[1]
        combine = a + b
        compound = a + b + a * b / _HUNDRED
        if len(components) > 2 or unit_excl.is_zero():
            return None  # a free line shows no ratio: either behaviour will do
        tolerance = self._tolerance(unit_excl)
        gaps = {"combine": abs(combine - seen), "compound": abs(compound - seen)}
        name = min(gaps, key=lambda k: gaps[k])
        return name if gaps[name] <= tolerance else None

    def _combined_row(self, first: Decimal, second: Decimal, behaviour: str) -> LineTax | None:
        """A plain VAT row equal to the two taxes combined (``a + b``, or ``a + b + ab`` compound)."""
        total = first + second + (first * second / _HUNDRED if behaviour == "compound" else _ZERO)
        for row in self._rows:
            if _same(row.rate, total) or abs(row.rate - total) <= Decimal("0.0005"):
                if self._row_for(row.rate) is row:
                    return LineTax(row.rate, code=row.code)
        return None

    def _row_for(self, rate: Decimal) -> TaxRow | None:
        for row in self._rows:
            if _same(row.rate, rate):
                return row
        return None

    def _single(self, rate: Decimal, product_type: int, where: _Where) -> LineTax:
        if not self.knows_dictionary:
            return LineTax(rate)
        row = self._row_for(rate)
        if row is None:
            return self._missing(rate, where)
        return LineTax(rate, code=row.code)

    def _candidates(self, product_type: int) -> list[LineTax]:
        """Every tax the dictionary can book for this product type (plain VAT and with local taxes)."""
        covered = _FOR_SERVICES if product_type == 1 else _FOR_PRODUCTS
        out: list[LineTax] = []
        for row in self._rows:
            pick = self._row_for(row.rate) is not row
            if not pick:
                out.append(LineTax(row.rate, code=row.code))
            elif not row.code:
                continue  # cannot be named on a line: Dolibarr would use the first row of the rate
            lt1 = self._local(row, 1, covered)
            lt2 = self._local(row, 2, covered)
            if lt1 is not None:
                out.append(LineTax(row.rate, lt1[0], lt1[1], code=row.code, pick_code=pick))
            if lt2 is not None:
                out.append(LineTax(row.rate, localtax2_rate=lt2[0], localtax2_type=lt2[1], code=row.code,
                                   pick_code=pick))
            if lt1 is not None and lt2 is not None:
                out.append(LineTax(row.rate, lt1[0], lt1[1], lt2[0], lt2[1], code=row.code, pick_code=pick))
        return out

    def _local(self, row: TaxRow, which: int, covered: frozenset[str]) -> tuple[Decimal, str] | None:
        subject = self.seller.localtax1_on if which == 1 else self.seller.localtax2_on
        text, kind = (row.localtax1, row.localtax1_type) if which == 1 else (row.localtax2, row.localtax2_type)
        kind = (kind or "0").strip()
        choices = _choices(text)
        if not subject or kind not in covered or not choices:
            return None
        return choices[0], kind

    def _two_taxes(self, first: Decimal, second: Decimal, behaviour: str | None, product_type: int,
                   where: _Where) -> LineTax:
        """VAT + one local tax for PrestaShop's two taxes (``behaviour`` None: either; see module doc)."""
        shown = f"{fmt_rate(first)}% + {fmt_rate(second)}%"
        if not self.knows_dictionary:
            kind = "2" if behaviour == "compound" else "1"
            return LineTax(first, second, kind)
        kinds = _COMPOUND if behaviour == "compound" else _ON_NET if behaviour == "combine" else _COMPOUND | _ON_NET
        covered = _FOR_SERVICES if product_type == 1 else _FOR_PRODUCTS
        orders = [(first, second)] if behaviour == "compound" else [(first, second), (second, first)]
        if behaviour is None and (second, first) not in orders:
            orders.append((second, first))
        blocked: str | None = None
        for vat, local in orders:
            for row in self._rows:
                if not _same(row.rate, vat):
                    continue
                for which, text, kind in ((1, row.localtax1, row.localtax1_type), (2, row.localtax2, row.localtax2_type)):
                    kind = (kind or "0").strip()
                    if kind not in kinds or not any(_same(c, local) for c in _choices(text)):
                        continue
                    if kind not in covered:
                        blocked = f"its type {kind} does not cover {'services' if product_type == 1 else 'products'}"
                        continue
                    subject = self.seller.localtax1_on if which == 1 else self.seller.localtax2_on
                    if not subject:
                        blocked = (f"the company is not subject to local tax {which}: enable it in Dolibarr "
                                   "(Setup > Company/Organization > local taxes)")
                        continue
                    pick = self._row_for(vat) is not row
                    if pick and not row.code:
                        blocked = (f"several VAT rows have rate {fmt_rate(vat)} and this one has no code: give it "
                                   "a code in Dolibarr's VAT dictionary so that order lines can name it")
                        continue
                    if which == 1:
                        return LineTax(vat, local, kind, code=row.code, pick_code=pick)
                    return LineTax(vat, localtax2_rate=local, localtax2_type=kind, code=row.code, pick_code=pick)
        wanted = "2 (on net + VAT), for PrestaShop 'one after another'" if behaviour == "compound" else \
            "1 (on net), for PrestaShop 'combine'"
        hint = (f"create VAT rate {fmt_rate(first)} with local tax {fmt_rate(second)} of type {wanted} in Dolibarr's "
                f"VAT dictionary for country {self.country_code} (Setup > Dictionaries > VAT rates)")
        if blocked is not None:
            hint = f"Dolibarr has VAT {fmt_rate(first)} with local tax {fmt_rate(second)} but {blocked}"
        raise MappingError(where.entity, where.source_id, where.field, shown, hint)

    def _missing(self, rate: Decimal, where: _Where) -> LineTax:
        raise MappingError(
            where.entity, where.source_id, where.field, f"{fmt_rate(rate)}%",
            f"create VAT rate {fmt_rate(rate)} in Dolibarr's VAT dictionary for country {self.country_code} "
            "(Setup > Dictionaries > VAT rates)",
        )


def seller_view(seller: SellerTaxes, tax: LineTax) -> SellerTaxes:
    """``seller`` as Dolibarr sees it for a line naming its row by code (``tax.pick_code``).

    Dolibarr then takes the local taxes from that row rather than from the first row of the
    rate; the returned view lists that row first so the money model does the same.
    """
    if not tax.pick_code or not tax.code:
        return seller
    chosen = [row for row in seller.rows if row.code == tax.code and _same(row.rate, tax.vat_rate)]
    if not chosen:
        return seller
    rest = tuple(row for row in seller.rows if row is not chosen[0])
    return SellerTaxes(localtax1_on=seller.localtax1_on, localtax2_on=seller.localtax2_on, rows=(chosen[0], *rest))
