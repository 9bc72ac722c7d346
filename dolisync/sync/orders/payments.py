"""Payments: PrestaShop ``order_payments`` -> Dolibarr payments on the order's invoice, once each.

Contract of :meth:`Payments.record`:

* Each ``order_payments`` row (amount, date, transaction id) becomes one Dolibarr payment on the
  invoice, into the bank account mapped to the order's payment module
  (``[shop.payment_accounts]``); an unmapped module raises
  :class:`~dolisync.sync.orders.erp_setup.SetupProblem` ("map module X to a bank account") —
  accounts and dictionary rows are never created automatically.
* The endpoint is ``POST /invoices/paymentsdistributed``, which refuses over-payment; in a
  foreign currency the amount is given as ``multicurrency_amount``. ``closepaidinvoices`` is
  ``yes``: a fully paid invoice is classified paid.
* Exactly once: a payment is skipped when bound; otherwise the invoice's payments are read and
  one carrying our external key (``ref_ext``) is adopted (a crash between the payment and its
  binding); only then is it sent, without automatic resend (a payment is not idempotent).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from dolisync.clients.prestashop_records import OrderPayment
from dolisync.mapping.money import r2
from dolisync.mapping.orders import OrderMapping
from dolisync.sync.orders.context import OrderRun
from dolisync.sync.orders.erp_setup import SetupProblem
from dolisync.sync.orders.shop_reader import OrderBundle

__all__ = ["Payments", "payment_body"]


def payment_body(invoice_id: int, payment: OrderPayment, *, amount: Decimal, multicurrency: bool, timestamp: int,
                 account_id: int, type_id: int, key: str, reference: str, settles: bool = False) -> dict[str, Any]:
    """``POST /invoices/paymentsdistributed`` body for one shop payment.

    ``settles``: the payment pays exactly what remains, sent as ``"remain"`` so that Dolibarr
    also settles the company-currency rest of a foreign-currency invoice (its company amount is
    the sum of rounded lines, which the converted payment can miss by a cent) and closes it.
    """
    text = "remain" if settles else f"{r2(amount):f}"
    share = {"amount": "", "multicurrency_amount": text} if multicurrency else {"amount": text,
                                                                              "multicurrency_amount": ""}
    return {
        "arrayofamounts": {str(invoice_id): share},
        "datepaye": timestamp,
        "paymentid": type_id,
        "closepaidinvoices": "yes",
        "accountid": account_id,
        "num_payment": payment.transaction_id or reference,
        "comment": f"PrestaShop {payment.payment_method} — order {reference}".strip(),
        "ref_ext": key,
    }


class Payments:
    """Payments of one run (see module docstring)."""

    def __init__(self, run: OrderRun) -> None:
        self.run = run

    async def record(self, bundle: OrderBundle, invoice_id: int, invoice: dict[str, Any],
                     mapping: OrderMapping, *, fresh: bool = False) -> int:
        """Record the shop payments of ``bundle`` not yet in Dolibarr; returns how many were sent.

        ``fresh``: the invoice was validated in this very call, so it has no payment to look for.
        """
        run = self.run
        pending = [p for p in sorted(bundle.payments, key=lambda p: p.id)
                   if run.bindings.target_for("payment", p.id) is None and p.amount > 0]
        if not pending:
            return 0
        foreign = [p for p in pending if p.id_currency and p.id_currency != bundle.order.id_currency]
        if foreign:
            raise SetupProblem(
                f"payment {foreign[0].id} is in another currency (id {foreign[0].id_currency}) than the order "
                f"(id {bundle.order.id_currency}): record it in Dolibarr by hand, then `dolisync retry`")
        module = bundle.order.module
        account_id = run.erp.bank_account_id(module, run.shop.payment_accounts)
        type_id = run.erp.payment_type_id(module)
        existing = [] if fresh else await run.dolibarr.request_json("GET", f"invoices/{invoice_id}/payments")
        by_key = {str(row.get("ref_ext") or ""): row for row in (existing if isinstance(existing, list) else [])}
        sent = 0
        from dolisync.sync.orders.engine import _timestamp  # noqa: PLC0415 - shared helper, avoids a cycle

        prefix = "multicurrency_" if mapping.multicurrency_tx is not None else ""
        remain = r2(Decimal(str(invoice.get(f"{prefix}total_ttc") or 0))) - sum(
            (r2(p.amount) for p in bundle.payments if run.bindings.target_for("payment", p.id) is not None), Decimal(0))

        for payment in pending:
            key = run.key("payment", payment.id)
            if key in by_key:
                row = by_key[key]
                run.bindings.bind("payment", payment.id, str(row.get("ref") or row.get("id") or key), key)
                continue
            body = payment_body(invoice_id, payment, amount=payment.amount,
                                multicurrency=mapping.multicurrency_tx is not None,
                                timestamp=_timestamp(payment.date_add, run.shop.timezone), account_id=account_id,
                                type_id=type_id, key=key, reference=bundle.order.reference,
                                settles=r2(payment.amount) == remain)
            answer = await run.dolibarr.post_action("invoices/paymentsdistributed", body, idempotent=False)
            run.bindings.bind("payment", payment.id, str(answer), key)
            remain -= r2(payment.amount)
            run.count("payments", "created")
            sent += 1
        return sent
