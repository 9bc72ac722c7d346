"""How Dolibarr computes the amounts of order and invoice lines and headers.

One implementation used twice: the sync predicts Dolibarr's totals with it (to make them equal
PrestaShop's, or to size an explicit adjustment line) and the Dolibarr emulator computes its
stored amounts with it. The rules are those of ``reference/dolibarr/MONEY.md`` (Dolibarr
23, ``MAIN_MAX_DECIMALS_UNIT`` = 5, ``MAIN_MAX_DECIMALS_TOT`` = 2, totals as the sum of rounded
lines). Every amount is a :class:`~decimal.Decimal`; rounding is half away from zero on the
decimal value (:func:`dolisync.mapping.money.r2` / :func:`r5`).

Contract, in short (pu = unit price sent, q = qty, r = discount %, t = VAT rate / 100,
``x = pu × q × (1 − r/100)``, never rounded before use):

* Net line (``price_base="HT"``): ``HT = r2(x)``, ``TTC = r2(x(1+t))``, ``VAT = TTC − HT``,
  ``subprice = r5(pu)``.
* Gross line (``price_base="TTC"``): ``TTC = r2(x)``, ``HT = r2(x/(1+t))``, ``VAT = TTC − HT``,
  ``subprice = r5(pu/(1+t))``; then :func:`recheck_line` (run by Dolibarr after every line
  insert or update, on every line) recomputes the line net from the stored ``subprice`` and
  overwrites VAT and TTC when they disagree (HT is kept).
* Local taxes apply only when the seller is subject to them, the VAT dictionary row of the
  line's rate has a non-zero local rate and a type covering the product type, and the request
  sent a non-zero ``localtaxN_tx`` (a switch: the dictionary rate is used). Types 1/3/5 are on
  net (``LT = r2(net × rate)``, added to TTC); 2/4/6 are compound on net + VAT
  (``LT = r2(r5(x(1+t)) × rate)``, ``TTC = r2(x(1+t) + LT)``, ``VAT = TTC − HT − LT``).
* Multicurrency: the same computation on ``pu_cur = pu × tx`` (or on the currency price when
  one is given, then ``pu = pu_cur / tx``); ``multicurrency_subprice = r5(pu_cur)``.
* Header totals: plain sums of the rounded line totals (currency ones too).
* Invoice created from an order: lines re-added net from the order line's stored ``subprice``,
  without multicurrency (:func:`createfromorder_line`).
* A Spanish company never gets RE/IRPF through the REST API (:meth:`SellerTaxes.from_setup`).

Entry points: :func:`add_line` (one line as stored), :func:`document_totals` (header),
:func:`predict_totals` (the REST line bodies the sync is about to send -> what Dolibarr stores),
:class:`SellerTaxes` (from a ``DolibarrSetup`` or from ``/setup/dictionary/vat`` rows via
:meth:`TaxRow.from_api`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, Literal

from dolisync.mapping.money import r2, r5, to_decimal

__all__ = [
    "PriceBase",
    "TaxRow",
    "SellerTaxes",
    "LineInput",
    "LineAmounts",
    "DocumentTotals",
    "compute_line",
    "recheck_line",
    "add_line",
    "document_totals",
    "createfromorder_line",
    "line_input_from_request",
    "predict_totals",
    "AppliedLocalTax",
    "split_vat_code",
]

PriceBase = Literal["HT", "TTC"]

_ZERO = Decimal(0)
_HUNDRED = Decimal(100)
_ONE = Decimal(1)

#: Company countries whose local taxes the REST API never books (Spain: RE/IRPF).
API_NEVER_APPLIES_LOCALTAX = frozenset({"ES"})

# Local tax types: which apply on net (vs net + VAT), and which product types they cover.
_ON_NET_TYPES = frozenset({"1", "3", "5"})
_COMPOUND_TYPES = frozenset({"2", "4", "6"})
_TYPES_FOR_PRODUCTS = frozenset({"1", "2", "3", "4"})
_TYPES_FOR_SERVICES = frozenset({"1", "2", "5", "6"})


def _choices(value: str) -> tuple[Decimal, ...]:
    """Parse a dictionary local-tax rate: ``"5.2"`` or a choice list ``"-19:-15:-9"``."""
    text = (value or "").strip()
    if not text:
        return ()
    return tuple(to_decimal(part) for part in text.split(":") if part.strip())


@dataclass(frozen=True, slots=True)
class TaxRow:
    """One row of the seller country's VAT dictionary (``llx_c_tva``).

    ``localtaxN`` keeps the dictionary text (a rate, or several separated by ``:``);
    ``localtaxN_type`` is ``"0"`` (none) to ``"6"`` as documented in the module docstring.
    """

    rate: Decimal
    localtax1: str = "0"
    localtax1_type: str = "0"
    localtax2: str = "0"
    localtax2_type: str = "0"
    code: str = ""
    active: bool = True

    @classmethod
    def from_api(cls, row: Mapping[str, Any]) -> TaxRow:
        """Build from a ``GET /setup/dictionary/vat`` row (``taux``, ``localtax1`` ...)."""
        return cls(
            rate=to_decimal(row.get("taux", row.get("rate", "0"))),
            localtax1=str(row.get("localtax1") or "0"),
            localtax1_type=str(row.get("localtax1_type") or "0"),
            localtax2=str(row.get("localtax2") or "0"),
            localtax2_type=str(row.get("localtax2_type") or "0"),
            code=str(row.get("code") or ""),
            active=str(row.get("active", "1")) not in ("0", "False", "false"),
        )

    @classmethod
    def from_record(cls, record: Any) -> TaxRow:
        """Build from any object with ``rate``/``localtax*`` attributes (e.g. ``VatRate``)."""
        return cls(
            rate=to_decimal(record.rate),
            localtax1=str(record.localtax1),
            localtax1_type=str(record.localtax1_type),
            localtax2=str(record.localtax2),
            localtax2_type=str(record.localtax2_type),
            code=str(getattr(record, "code", "") or ""),
            active=bool(getattr(record, "active", 1)),
        )


@dataclass(frozen=True, slots=True)
class AppliedLocalTax:
    """A local tax that applies to one line: its rate (%) and Dolibarr type ("1".."6")."""

    rate: Decimal
    type: str


@dataclass(frozen=True, slots=True)
class SellerTaxes:
    """What the seller (the Dolibarr company) is set up with for local taxes.

    ``localtax1_on``/``localtax2_on`` mirror ``FACTURE_LOCAL_TAXn_OPTION == "localtaxNon"``;
    ``rows`` is the VAT dictionary of the company country. The default is a seller with no
    local taxes (France), under which every line is plain VAT.
    """

    localtax1_on: bool = False
    localtax2_on: bool = False
    rows: tuple[TaxRow, ...] = ()

    @classmethod
    def from_setup(cls, setup: Any) -> SellerTaxes:
        """Build from a ``DolibarrSetup`` (duck-typed: ``localtax*_on``, ``vat_rates``, ``country_code``).

        A Spanish company gets no local tax at all: through the REST API Dolibarr never applies
        RE/IRPF (it checks buyer flags on an object the API does not load, MONEY.md).
        """
        spain = str(getattr(setup, "country_code", "") or "").upper() in API_NEVER_APPLIES_LOCALTAX
        return cls(
            localtax1_on=bool(setup.localtax1_on) and not spain,
            localtax2_on=bool(setup.localtax2_on) and not spain,
            rows=tuple(TaxRow.from_record(v) for v in setup.vat_rates),
        )

    def row_for(self, vat_rate: Decimal, code: str = "") -> TaxRow | None:
        """The active dictionary row of ``vat_rate`` (numerically): the one named ``code`` when
        given and present (Dolibarr's ``"5 (GST-BC)"`` form), else the first of that rate."""
        if code:
            for row in self.rows:
                if row.active and row.rate == vat_rate and row.code == code:
                    return row
        for row in self.rows:
            if row.active and row.rate == vat_rate:
                return row
        return None

    def dictionary_types(self, vat_rate: Decimal, code: str = "") -> tuple[str, str]:
        """The local-tax types the dictionary declares for ``vat_rate`` ("0" when none)."""
        row = self.row_for(vat_rate, code)
        if row is None:
            return ("0", "0")
        return (row.localtax1_type or "0", row.localtax2_type or "0")

    def applicable(
        self,
        which: int,
        vat_rate: Decimal,
        product_type: int,
        requested: Decimal,
        code: str = "",
    ) -> AppliedLocalTax | None:
        """The local tax ``which`` (1 or 2) that Dolibarr applies to a line, or ``None``.

        ``requested`` is the ``localtaxN_tx`` the request sent: only a switch (0 = off). When
        the dictionary lists several rates (``"-19:-15:-9"``) the requested one is used if it
        is in the list, else the first.
        """
        if requested.is_zero():
            return None
        if not (self.localtax1_on if which == 1 else self.localtax2_on):
            return None
        row = self.row_for(vat_rate, code)
        if row is None:
            return None
        text, kind = (
            (row.localtax1, row.localtax1_type) if which == 1 else (row.localtax2, row.localtax2_type)
        )
        kind = (kind or "0").strip()
        covered = _TYPES_FOR_SERVICES if product_type == 1 else _TYPES_FOR_PRODUCTS
        if kind not in covered:
            return None
        choices = [c for c in _choices(text) if not c.is_zero()]
        if not choices:
            return None
        rate = requested if requested in choices else choices[0]
        return AppliedLocalTax(rate=rate, type=kind)


@dataclass(frozen=True, slots=True)
class LineInput:
    """A line as sent to Dolibarr.

    ``unit_price`` is ``subprice`` (net, or gross when ``price_base == "TTC"``, which Dolibarr
    honours only on ``POST /orders/{id}/lines``). ``localtax1_tx``/``localtax2_tx`` are the values
    sent (a switch). ``multicurrency_tx`` is the document's rate; ``multicurrency_unit_price``
    the currency price sent on ``/lines`` (then the company price is derived from it).
    """

    qty: Decimal
    unit_price: Decimal
    vat_rate: Decimal = _ZERO
    discount_percent: Decimal = _ZERO
    price_base: PriceBase = "HT"
    product_type: int = 0
    localtax1_tx: Decimal = _ZERO
    localtax2_tx: Decimal = _ZERO
    multicurrency_tx: Decimal = _ONE
    multicurrency_unit_price: Decimal | None = None
    vat_code: str = ""  # the dictionary row named in ``tva_tx`` ("5 (GST-BC)" -> "GST-BC")


@dataclass(frozen=True, slots=True)
class LineAmounts:
    """The amounts Dolibarr stores on a line (and the local-tax rates/types it keeps)."""

    subprice: Decimal
    total_ht: Decimal
    total_tva: Decimal
    total_localtax1: Decimal
    total_localtax2: Decimal
    total_ttc: Decimal
    localtax1_tx: Decimal = _ZERO
    localtax1_type: str = "0"
    localtax2_tx: Decimal = _ZERO
    localtax2_type: str = "0"
    multicurrency_subprice: Decimal = _ZERO
    multicurrency_total_ht: Decimal = _ZERO
    multicurrency_total_tva: Decimal = _ZERO
    multicurrency_total_ttc: Decimal = _ZERO


@dataclass(frozen=True, slots=True)
class DocumentTotals:
    """Header totals of an order or invoice: sums of the rounded line totals."""

    total_ht: Decimal = _ZERO
    total_tva: Decimal = _ZERO
    total_localtax1: Decimal = _ZERO
    total_localtax2: Decimal = _ZERO
    total_ttc: Decimal = _ZERO
    multicurrency_total_ht: Decimal = _ZERO
    multicurrency_total_tva: Decimal = _ZERO
    multicurrency_total_ttc: Decimal = _ZERO
    line_count: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class _Core:
    """One run of Dolibarr's price computation in a single currency."""

    unit_net: Decimal
    ht: Decimal
    tva: Decimal
    lt1: Decimal
    lt2: Decimal
    ttc: Decimal


def _core(
    pu: Decimal,
    qty: Decimal,
    discount: Decimal,
    vat_rate: Decimal,
    base: PriceBase,
    lt1: AppliedLocalTax | None,
    lt2: AppliedLocalTax | None,
) -> _Core:
    """Dolibarr's line computation for one currency (see the module docstring)."""
    t = vat_rate / _HUNDRED
    amount = pu * qty * (_ONE - discount / _HUNDRED)
    gross = r5(amount * (_ONE + t)) if base == "HT" else amount  # "with VAT", base of compound taxes
    net = amount if base == "HT" else r5(amount / (_ONE + t))  # base of on-net taxes
    lt_amounts = [_ZERO, _ZERO]
    for index, tax in enumerate((lt1, lt2)):
        if tax is not None and tax.type in _COMPOUND_TYPES:
            lt_amounts[index] = r2(gross * tax.rate / _HUNDRED)
    compound = lt_amounts[0] + lt_amounts[1]
    if base == "HT":
        ht = r2(amount)
        ttc = r2(amount * (_ONE + t) + compound)
        unit_net = r5(pu)
    else:
        ttc = r2(amount + compound)
        ht = r2(amount / (_ONE + t))
        unit_net = r5(pu / (_ONE + t))
    tva = ttc - (ht + compound)
    for index, tax in enumerate((lt1, lt2)):
        if tax is not None and tax.type in _ON_NET_TYPES:
            lt_amounts[index] = r2(net * tax.rate / _HUNDRED)
            ttc += lt_amounts[index]
    return _Core(unit_net=unit_net, ht=ht, tva=tva, lt1=lt_amounts[0], lt2=lt_amounts[1], ttc=ttc)


def compute_line(line: LineInput, seller: SellerTaxes | None = None) -> LineAmounts:
    """Amounts of ``line`` as Dolibarr computes them at insert, before :func:`recheck_line`."""
    seller = seller or SellerTaxes()
    tx = line.multicurrency_tx if line.multicurrency_tx else _ONE
    pu = line.unit_price
    pu_cur: Decimal
    if line.multicurrency_unit_price is not None and not line.multicurrency_unit_price.is_zero():
        pu_cur = line.multicurrency_unit_price
        pu = pu_cur / tx
    else:
        pu_cur = pu * tx
    lt1 = seller.applicable(1, line.vat_rate, line.product_type, line.localtax1_tx, line.vat_code)
    lt2 = seller.applicable(2, line.vat_rate, line.product_type, line.localtax2_tx, line.vat_code)
    main = _core(pu, line.qty, line.discount_percent, line.vat_rate, line.price_base, lt1, lt2)
    if tx == _ONE:
        cur = main
    else:
        cur = _core(pu_cur, line.qty, line.discount_percent, line.vat_rate, line.price_base, lt1, lt2)
    type1, type2 = seller.dictionary_types(line.vat_rate, line.vat_code)
    return LineAmounts(
        subprice=main.unit_net,
        total_ht=main.ht,
        total_tva=main.tva,
        total_localtax1=main.lt1,
        total_localtax2=main.lt2,
        total_ttc=main.ttc,
        localtax1_tx=lt1.rate if lt1 else _ZERO,
        localtax1_type=lt1.type if lt1 else type1,
        localtax2_tx=lt2.rate if lt2 else _ZERO,
        localtax2_type=lt2.type if lt2 else type2,
        multicurrency_subprice=cur.unit_net,
        multicurrency_total_ht=cur.ht,
        multicurrency_total_tva=cur.tva,
        multicurrency_total_ttc=cur.ttc,
    )


def recheck_line(
    stored: LineAmounts,
    qty: Decimal,
    vat_rate: Decimal,
    discount_percent: Decimal = _ZERO,
    product_type: int = 0,
) -> LineAmounts:
    """Dolibarr's consistency pass over a stored line (run after every line insert/update).

    The line is recomputed net from its stored 5-decimal ``subprice`` and stored local-tax
    rates; when the recomputed VAT differs from the stored one, or the stored amounts do not
    add up (TTC ≠ HT + VAT + LT1 + LT2), VAT and TTC are overwritten with the recomputed ones.
    HT, local taxes and currency amounts are kept.
    """
    lt1 = AppliedLocalTax(stored.localtax1_tx, stored.localtax1_type) if not stored.localtax1_tx.is_zero() else None
    lt2 = AppliedLocalTax(stored.localtax2_tx, stored.localtax2_type) if not stored.localtax2_tx.is_zero() else None
    _ = product_type  # the stored type already encodes which product types the tax covers
    again = _core(stored.subprice, qty, discount_percent, vat_rate, "HT", lt1, lt2)
    inconsistent = stored.total_ttc != (
        stored.total_ht + stored.total_tva + stored.total_localtax1 + stored.total_localtax2
    )
    if again.tva != stored.total_tva or inconsistent:
        return replace(stored, total_tva=again.tva, total_ttc=again.ttc)
    return stored


def add_line(line: LineInput, seller: SellerTaxes | None = None) -> LineAmounts:
    """What a line ends with after being inserted: :func:`compute_line` then :func:`recheck_line`."""
    computed = compute_line(line, seller)
    return recheck_line(computed, line.qty, line.vat_rate, line.discount_percent, line.product_type)


def document_totals(lines: Iterable[LineAmounts]) -> DocumentTotals:
    """Header totals: the sums of the rounded line totals (multicurrency ones too)."""
    sums = [_ZERO] * 8
    count = 0
    for line in lines:
        count += 1
        for index, value in enumerate(
            (
                line.total_ht,
                line.total_tva,
                line.total_localtax1,
                line.total_localtax2,
                line.total_ttc,
                line.multicurrency_total_ht,
                line.multicurrency_total_tva,
                line.multicurrency_total_ttc,
            )
        ):
            sums[index] += value
    return DocumentTotals(*sums, line_count=count)


def createfromorder_line(
    order_line: LineAmounts,
    qty: Decimal,
    vat_rate: Decimal,
    discount_percent: Decimal = _ZERO,
    product_type: int = 0,
) -> LineInput:
    """The invoice line ``POST /invoices/createfromorder`` re-adds for an order line.

    Priced net from the stored r5 ``subprice``, with the stored local-tax rates as switches,
    and without multicurrency (the invoice is in the company currency at rate 1). Pass the
    result to :func:`add_line` with the same :class:`SellerTaxes`.
    """
    return LineInput(
        qty=qty,
        unit_price=order_line.subprice,
        vat_rate=vat_rate,
        discount_percent=discount_percent,
        price_base="HT",
        product_type=product_type,
        localtax1_tx=order_line.localtax1_tx,
        localtax2_tx=order_line.localtax2_tx,
    )


def line_input_from_request(
    body: Mapping[str, Any],
    *,
    honour_price_base: bool,
    multicurrency_tx: Decimal = _ONE,
    honour_multicurrency_price: bool = False,
    product_type: int | None = None,
) -> LineInput:
    """Read a REST line body (``qty``, ``subprice``, ``tva_tx``, ``remise_percent`` ...).

    ``honour_price_base``: ``True`` only for ``POST /orders/{id}/lines``-style calls (inside the
    ``lines`` of a create, a ``price_base_type`` of ``TTC`` is ignored). ``product_type`` overrides
    the body's (Dolibarr takes it from the product when ``fk_product`` is set).
    """
    base: PriceBase = "HT"
    if honour_price_base and str(body.get("price_base_type") or "HT").upper() == "TTC":
        base = "TTC"
    currency_price: Decimal | None = None
    if honour_multicurrency_price and body.get("multicurrency_subprice") not in (None, ""):
        currency_price = to_decimal(body.get("multicurrency_subprice"))
    kind = product_type if product_type is not None else int(to_decimal(body.get("product_type") or 0))
    vat_rate, vat_code = split_vat_code(body.get("tva_tx"))
    return LineInput(
        qty=to_decimal(body.get("qty", 1) if body.get("qty") not in (None, "") else 1),
        unit_price=to_decimal(body.get("subprice")),
        vat_rate=vat_rate,
        discount_percent=to_decimal(body.get("remise_percent")),
        price_base=base,
        product_type=kind,
        localtax1_tx=to_decimal(body.get("localtax1_tx")),
        localtax2_tx=to_decimal(body.get("localtax2_tx")),
        multicurrency_tx=multicurrency_tx,
        multicurrency_unit_price=currency_price,
        vat_code=vat_code,
    )


_VAT_WITH_CODE = re.compile(r"^\s*([-+0-9.]+)\s*\((.*)\)\s*$")


def split_vat_code(value: Any) -> tuple[Decimal, str]:
    """``tva_tx`` as Dolibarr's ``addline`` reads it: ``"5 (GST-BC)"`` -> ``(5, "GST-BC")``,
    ``"20"`` -> ``(20, "")``."""
    match = _VAT_WITH_CODE.match(str(value if value is not None else ""))
    if match:
        return to_decimal(match.group(1)), match.group(2).strip()
    return to_decimal(value), ""


def predict_totals(
    line_bodies: Iterable[Mapping[str, Any]],
    *,
    seller: SellerTaxes | None = None,
    multicurrency_tx: Decimal = _ONE,
    via_lines_endpoint: bool = False,
) -> tuple[list[LineAmounts], DocumentTotals]:
    """Predict what Dolibarr stores for the REST line bodies the sync is about to send.

    ``via_lines_endpoint``: the lines go through ``POST /orders/{id}/lines`` (``price_base_type``
    and ``multicurrency_subprice`` honoured) instead of the ``lines`` of ``POST /orders``. Returns
    the per-line amounts and the header totals, to compare with the source document's totals
    before writing (and size an explicit adjustment line when they cannot match).
    """
    amounts = [
        add_line(
            line_input_from_request(
                body,
                honour_price_base=via_lines_endpoint,
                multicurrency_tx=multicurrency_tx,
                honour_multicurrency_price=via_lines_endpoint,
            ),
            seller,
        )
        for body in line_bodies
    ]
    return amounts, document_totals(amounts)
