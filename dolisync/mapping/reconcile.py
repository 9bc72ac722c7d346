"""Reconciliation: PrestaShop's grand totals against Dolibarr's, per order (or invoice).

Contract: a :class:`Reconciliation` states, in the order's currency, the shop's three grand
totals (``total_paid_tax_excl``, tax = ``total_paid_tax_incl - total_paid_tax_excl``,
``total_paid_tax_incl``), the ERP's (predicted by the mapper, or read back from Dolibarr after
creation), their difference, and the fix applied (``"none"``, or the rounding-adjustment line
and the cents absorbed in line taxes). It also compares the shipping and discount amounts.
:attr:`Reconciliation.exact` is the goal: all three deltas are zero. It is plain data
(:meth:`Reconciliation.as_dict` gives a JSON-able dict for the state store and
``dolisync reconcile --json``).

:func:`reconcile_document` reads a Dolibarr order or invoice as ``GET /orders/{id}`` (or
``/invoices/{id}``) returns it — string amounts, ``multicurrency_*`` totals for a document in a
foreign currency — and compares it with the same shop totals.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from dolisync.mapping.money import to_decimal

__all__ = ["Totals", "Reconciliation", "reconcile_document", "document_totals_from_api"]

_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Totals:
    """Net, tax and gross of a document, in one currency."""

    excl: Decimal
    tax: Decimal
    incl: Decimal

    @classmethod
    def of(cls, excl: Decimal, incl: Decimal) -> Totals:
        """From net and gross (tax is their difference, as on both sides)."""
        return cls(excl=excl, tax=incl - excl, incl=incl)

    def minus(self, other: Totals) -> Totals:
        """Component-wise ``self - other``."""
        return Totals(self.excl - other.excl, self.tax - other.tax, self.incl - other.incl)

    @property
    def is_zero(self) -> bool:
        """All three are zero."""
        return self.excl.is_zero() and self.tax.is_zero() and self.incl.is_zero()

    def as_dict(self) -> dict[str, str]:
        """``{"excl": "12.34", "tax": ..., "incl": ...}``."""
        return {"excl": f"{self.excl:f}", "tax": f"{self.tax:f}", "incl": f"{self.incl:f}"}


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """Shop totals vs ERP totals for one document (see module docstring)."""

    order_id: str
    reference: str
    currency: str
    document: str  # "order" or "invoice"
    source: str  # "predicted" or "dolibarr"
    shop: Totals
    erp: Totals
    fix: str = "none"
    adjustment_excl: Decimal = _ZERO
    adjustment_incl: Decimal = _ZERO
    shipping_shop: Totals | None = None
    shipping_erp: Totals | None = None
    discounts_shop: Totals | None = None
    discounts_erp: Totals | None = None

    @property
    def delta(self) -> Totals:
        """``erp - shop`` for each total."""
        return self.erp.minus(self.shop)

    @property
    def exact(self) -> bool:
        """The three grand totals are equal to the cent."""
        return self.delta.is_zero

    @property
    def has_adjustment(self) -> bool:
        """A rounding-adjustment line was added."""
        return not (self.adjustment_excl.is_zero() and self.adjustment_incl.is_zero())

    def against(self, erp: Totals, *, source: str = "dolibarr", document: str | None = None) -> Reconciliation:
        """The same record with other ERP totals (e.g. read back after creation)."""
        return replace(self, erp=erp, source=source, document=document or self.document)

    def as_dict(self) -> dict[str, Any]:
        """JSON-able view (amounts as strings)."""
        out: dict[str, Any] = {
            "order_id": self.order_id,
            "reference": self.reference,
            "currency": self.currency,
            "document": self.document,
            "source": self.source,
            "shop": self.shop.as_dict(),
            "erp": self.erp.as_dict(),
            "delta": self.delta.as_dict(),
            "exact": self.exact,
            "fix": self.fix,
            "adjustment": {"excl": f"{self.adjustment_excl:f}", "incl": f"{self.adjustment_incl:f}"},
        }
        for name in ("shipping", "discounts"):
            shop = getattr(self, f"{name}_shop")
            erp = getattr(self, f"{name}_erp")
            if shop is not None and erp is not None:
                out[name] = {"shop": shop.as_dict(), "erp": erp.as_dict(), "delta": erp.minus(shop).as_dict()}
        return out


def document_totals_from_api(document: Mapping[str, Any], *, multicurrency: bool) -> Totals:
    """Net and gross of a Dolibarr order/invoice as read from the API.

    With ``multicurrency`` the ``multicurrency_total_ht/ttc`` are used (Dolibarr keeps
    ``multicurrency_total_localtax*`` null but includes local taxes in the currency TTC).
    """
    prefix = "multicurrency_" if multicurrency else ""
    excl = to_decimal(document.get(f"{prefix}total_ht"))
    incl = to_decimal(document.get(f"{prefix}total_ttc"))
    return Totals.of(excl, incl)


def reconcile_document(
    expected: Reconciliation,
    document: Mapping[str, Any],
    *,
    document_kind: str = "order",
    multicurrency: bool | None = None,
) -> Reconciliation:
    """Compare a Dolibarr document read back (``GET /orders/{id}``) with the shop totals.

    ``multicurrency`` (which totals to read) defaults to "the document's ``multicurrency_tx`` is
    not 1"; at rate 1 both sets of totals are equal anyway.
    """
    if multicurrency is None:
        rate = to_decimal(document.get("multicurrency_tx") or "1")
        multicurrency = rate != Decimal(1)
    erp = document_totals_from_api(document, multicurrency=multicurrency)
    return expected.against(erp, source="dolibarr", document=document_kind)
