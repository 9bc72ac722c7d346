"""How the payments of a split cart spread over the invoices of its orders (pure, no I/O).

PrestaShop books the payment of a cart split into several orders once, by the shared order
reference, with the whole amount (``PaymentModule::validateOrder`` -> ``addOrderPayment``; later
``Order::setInvoice`` links that one payment to every order's invoice). Dolibarr needs to know
which invoice each part pays: :func:`allocate_payments` decides it, the same way on every run
and whichever order of the cart is synced last.

Contract: payments are taken in id order, invoices in the order given (the orders' ids); each
payment fills the invoices in turn up to what remains of each, so every invoice is paid in full
before the next one receives anything. A share that completes an invoice is flagged
``settles`` (sent as ``"remain"``, so Dolibarr also closes the company-currency cent a
conversion can leave). A payment larger than everything left is not trimmed: the excess stays
on the last invoice, where Dolibarr refuses the over-payment and the order is parked with its
message — never a silent loss.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Generic, TypeVar

from dolisync.mapping.money import r2

__all__ = ["Share", "allocate_payments"]

K = TypeVar("K", bound=Hashable)
P = TypeVar("P", bound=Hashable)
_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Share(Generic[K]):
    """The part of one payment on one invoice."""

    invoice: K
    amount: Decimal
    settles: bool


def allocate_payments(invoices: Sequence[tuple[K, Decimal]],
                      payments: Sequence[tuple[P, Decimal]]) -> dict[P, list[Share[K]]]:
    """Shares of each payment (``(id, amount)``) over ``invoices`` (``(key, total)``, in order).

    Amounts are rounded to the cent; payments of zero or less get no share. See the module
    docstring for the rule.
    """
    if not invoices:
        raise ValueError("allocate_payments needs at least one invoice")
    left = [r2(total) for _key, total in invoices]
    out: dict[P, list[Share[K]]] = {}
    for payment_id, amount in sorted(payments, key=lambda p: p[0]):  # type: ignore[type-var]
        rest = r2(amount)
        shares: list[Share[K]] = []
        for index, (key, _total) in enumerate(invoices):
            if rest <= _ZERO:
                break
            last = index == len(invoices) - 1
            if left[index] <= _ZERO and not last:
                continue
            part = rest if last else min(rest, left[index])
            left[index] -= part
            rest -= part
            shares.append(Share(key, part, settles=left[index] == _ZERO))
        out[payment_id] = shares
    return out
