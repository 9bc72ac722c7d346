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
* Split carts (several orders sharing one reference, :attr:`OrderBundle.split`): PrestaShop
  booked the cart's payment once for all of them, so it becomes **one** Dolibarr payment spread
  over the invoices of the orders of the cart
  (:func:`~dolisync.mapping.order_payments.allocate_payments`: in order id order, each invoice
  paid in full before the next). It is recorded by the sync of whichever order of the cart
  finds every order of the cart invoiced in Dolibarr; until then it waits (not an error).
* Cheques: when the module's Dolibarr payment type is ``CHQ``, the body carries
  ``chqemetteur`` (Dolibarr refuses a cheque without it when its Banks module is on, 400
  "Emetteur is mandatory when payment code is CHQ"): the payer, named like the customer's third
  party (:func:`~dolisync.sync.orders.customers.thirdparty_name`: the company, else the person,
  else the e-mail; a guest's own name even when guests share the generic third party), cut to
  :data:`ISSUER_MAX` characters. ``chqbank`` (the payer's bank) is unknown to PrestaShop and
  left out.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from dolisync.clients.prestashop_records import OrderPayment
from dolisync.mapping.money import r2
from dolisync.mapping.order_payments import Share, allocate_payments
from dolisync.mapping.orders import OrderMapping
from dolisync.sync.orders.context import OrderRun
from dolisync.sync.orders.customers import thirdparty_name
from dolisync.sync.orders.erp_setup import SetupProblem
from dolisync.sync.orders.shop_reader import OrderBundle

__all__ = ["ISSUER_MAX", "Payments", "cheque_issuer", "payment_body"]

ISSUER_MAX = 255
"""Characters Dolibarr keeps of a cheque's issuer (``llx_bank.emetteur`` is ``varchar(255)``)."""


def _amounts(share: Share[int], multicurrency: bool) -> dict[str, str]:
    text = "remain" if share.settles else f"{r2(share.amount):f}"
    return {"amount": "", "multicurrency_amount": text} if multicurrency else {"amount": text,
                                                                             "multicurrency_amount": ""}


def cheque_issuer(bundle: OrderBundle, *, upper: bool, fallback: str) -> str:
    """The payer of ``bundle``'s cheque: its customer's third-party name (``fallback`` when it has
    none), at most :data:`ISSUER_MAX` characters."""
    customer = bundle.customer
    name = ""
    if customer is not None:
        name = thirdparty_name(customer, bundle.addresses.get(bundle.order.id_address_invoice), upper=upper)
    return (name.strip() or fallback)[:ISSUER_MAX]


def payment_body(invoice_id: int, payment: OrderPayment, *, amount: Decimal, multicurrency: bool, timestamp: int,
                 account_id: int, type_id: int, key: str, reference: str, settles: bool = False,
                 shares: list[Share[int]] | None = None, issuer: str | None = None) -> dict[str, Any]:
    """``POST /invoices/paymentsdistributed`` body for one shop payment.

    ``settles``: the payment pays exactly what remains, sent as ``"remain"`` so that Dolibarr
    also settles the company-currency rest of a foreign-currency invoice (its company amount is
    the sum of rounded lines, which the converted payment can miss by a cent) and closes it.
    ``shares``: the payment spread over several invoices (a split cart); ``invoice_id``,
    ``amount`` and ``settles`` are then not used. ``issuer``: a cheque's payer, sent as
    ``chqemetteur`` (given for ``CHQ`` payments only).
    """
    parts = shares if shares is not None else [Share(invoice_id, amount, settles)]
    body: dict[str, Any] = {
        "arrayofamounts": {str(part.invoice): _amounts(part, multicurrency) for part in parts},
        "datepaye": timestamp,
        "paymentid": type_id,
        "closepaidinvoices": "yes",
        "accountid": account_id,
        "num_payment": payment.transaction_id or reference,
        "comment": f"PrestaShop {payment.payment_method} — order {reference}".strip(),
        "ref_ext": key,
    }
    if issuer:
        body["chqemetteur"] = issuer
    return body


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
        if bundle.split:
            return await self._record_split(bundle, invoice_id, invoice, mapping, pending)
        self._check_currency(bundle, pending)
        module = bundle.order.module
        account_id = run.erp.bank_account_id(module, run.shop.payment_accounts)
        type_id = run.erp.payment_type_id(module)
        issuer = self._issuer(bundle, type_id)
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
                                settles=r2(payment.amount) == remain, issuer=issuer)
            answer = await run.dolibarr.post_action("invoices/paymentsdistributed", body, idempotent=False)
            run.bindings.bind("payment", payment.id, str(answer), key)
            remain -= r2(payment.amount)
            run.count("payments", "created")
            sent += 1
        return sent

    async def _record_split(self, bundle: OrderBundle, invoice_id: int, invoice: dict[str, Any],
                            mapping: OrderMapping, pending: list[OrderPayment]) -> int:
        """The payments of a split cart, each spread over the invoices of the cart's orders."""
        run = self.run
        invoice_ids: list[int] = []
        for sibling in bundle.siblings:
            target = invoice_id if sibling == bundle.order.id else run.bindings.target_for("invoice", sibling)
            if target is None:
                return 0  # an order of the cart has no Dolibarr invoice yet: its sync records the payment
            invoice_ids.append(int(target))
        self._check_currency(bundle, pending)
        module = bundle.order.module
        account_id = run.erp.bank_account_id(module, run.shop.payment_accounts)
        type_id = run.erp.payment_type_id(module)
        issuer = self._issuer(bundle, type_id)
        multicurrency = mapping.multicurrency_tx is not None
        total_field = "multicurrency_total_ttc" if multicurrency else "total_ttc"
        totals: list[tuple[int, Decimal]] = []
        by_key: dict[str, dict[str, Any]] = {}
        for target in invoice_ids:
            document = invoice if target == invoice_id else await run.dolibarr.get_raw("invoices", target)
            totals.append((target, Decimal(str(document.get(total_field) or 0))))
            rows = await run.dolibarr.request_json("GET", f"invoices/{target}/payments")
            for row in rows if isinstance(rows, list) else []:
                by_key.setdefault(str(row.get("ref_ext") or ""), row)
        payments = {p.id: p for p in bundle.payments if p.amount > 0}
        plan = allocate_payments(totals, [(p.id, p.amount) for p in payments.values()])
        from dolisync.sync.orders.engine import _timestamp  # noqa: PLC0415 - shared helper, avoids a cycle

        sent = 0
        for payment in pending:
            key = run.key("payment", payment.id)
            if key in by_key:  # sent before a crash, binding lost
                row = by_key[key]
                run.bindings.bind("payment", payment.id, str(row.get("ref") or row.get("id") or key), key)
                continue
            body = payment_body(invoice_id, payment, amount=payment.amount, multicurrency=multicurrency,
                                timestamp=_timestamp(payment.date_add, run.shop.timezone), account_id=account_id,
                                type_id=type_id, key=key, reference=bundle.order.reference,
                                shares=plan[payment.id], issuer=issuer)
            answer = await run.dolibarr.post_action("invoices/paymentsdistributed", body, idempotent=False)
            run.bindings.bind("payment", payment.id, str(answer), key)
            run.count("payments", "created")
            sent += 1
        return sent

    def _issuer(self, bundle: OrderBundle, type_id: int) -> str | None:
        """The cheque's payer when ``type_id`` is Dolibarr's ``CHQ`` type, else ``None``."""
        run = self.run
        if run.erp.payment_types.get("CHQ") != type_id:
            return None
        return cheque_issuer(bundle, upper=run.shop.customer_name_upper, fallback=run.options.generic_customer_name)

    @staticmethod
    def _check_currency(bundle: OrderBundle, pending: list[OrderPayment]) -> None:
        foreign = [p for p in pending if p.id_currency and p.id_currency != bundle.order.id_currency]
        if foreign:
            raise SetupProblem(
                f"payment {foreign[0].id} is in another currency (id {foreign[0].id_currency}) than the order "
                f"(id {bundle.order.id_currency}): record it in Dolibarr by hand, then `dolisync retry`")
