"""The order script: one PrestaShop order to its Dolibarr effects, exactly once.

Per order (:meth:`OrderEngine.sync`), reading like the steps it takes:

1. **skip?** — unbound and no state in the *create* set: nothing yet; bound and nothing read
   changed since the last complete sync (``read_hash``) and no open failure: unchanged, no
   Dolibarr request.
2. **dependencies** — the customer's third party and the billing/shipping contacts
   (:class:`~dolisync.sync.orders.customers.CustomerSync`), the products of the lines
   (:class:`~dolisync.sync.orders.catalog_bridge.CatalogBridge`: synced first when unbound).
3. **map** — :func:`~dolisync.mapping.orders.map_order` (lines exact to the cent).
4. **order** — created or found, repaired, validated with the carrier's warehouse
   (:class:`~dolisync.sync.orders.documents.Documents`), reconciled.
5. **effects of the reached states** (:class:`~dolisync.sync.orders.rules.StateRules`): the
   invoice (validated, PDF, link back on the shop order), the payments, the shipment, the
   delivered state, the cancellation (with a credit note when the invoice exists).
6. **bind** the read hash; forget a previous failure.

Every step first checks what already exists (binding, then our ``ref_ext`` in Dolibarr, then
the document's own state), so a re-run or a replayed state produces no second effect, and a
crash between any two requests is healed by the next run. Bad input parks the order with what
to fix (:meth:`OrderRun.park`); the other orders go on. An order whose lines changed in the shop
after it was invoiced keeps its Dolibarr documents and is parked with an explanation.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from dolisync.clients.errors import Permanent, RemoteError, Transient, Unauthorized
from dolisync.mapping.errors import MappingError
from dolisync.mapping.order_input import ShopOrder
from dolisync.mapping.order_refs import order_ref
from dolisync.mapping.orders import DolibarrSide, OrderMapping, OrderMappingOptions, map_order
from dolisync.mapping.reconcile import Reconciliation, reconcile_document
from dolisync.sync.binder import BindingConflict, content_hash
from dolisync.sync.failures import FailureKey
from dolisync.sync.flows.context import AmbiguousMatch
from dolisync.sync.orders.catalog_bridge import CatalogBridge
from dolisync.sync.orders.context import CreateInDoubt, OrderRun, in_doubt_until
from dolisync.sync.orders.customers import AmbiguousCustomer, CustomerSync
from dolisync.sync.orders.documents import Documents
from dolisync.sync.orders.erp_setup import SetupProblem
from dolisync.sync.orders.linkback import note_with_invoice, pdf_link
from dolisync.sync.orders.payments import Payments
from dolisync.sync.orders.shop_reader import OrderBundle
from dolisync.sync.plan import ParkedItem

__all__ = ["OrderEngine", "TotalsMismatch", "EditedAfterInvoice", "ENTITY"]

ENTITY = "orders"


class TotalsMismatch(Exception):
    """Dolibarr stored other totals than PrestaShop's (never expected; the order is parked)."""


class EditedAfterInvoice(Exception):
    """The order's lines changed in the shop after its Dolibarr invoice was made."""


def _timestamp(moment: datetime | None, timezone: str) -> int:
    if moment is None:
        return int(datetime.now(UTC).timestamp())
    aware = moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(timezone))
    return int(aware.timestamp())


def _read_hash(bundle: OrderBundle) -> str:
    order = bundle.order
    return content_hash({
        "state": order.current_state, "history": bundle.state_history,
        "paid": order.total_paid_tax_incl, "shipping_number": order.shipping_number,
        "details": [(d.id, d.product_id, d.product_attribute_id, d.product_quantity, d.unit_price_tax_excl,
                     d.unit_price_tax_incl, d.total_price_tax_incl, d.product_name, d.reduction_percent)
                    for d in sorted(bundle.details, key=lambda d: d.id)],
        "totals": (order.total_paid_tax_excl, order.total_shipping_tax_incl, order.total_discounts_tax_incl,
                   order.total_wrapping_tax_incl, order.id_currency, order.id_carrier, order.module),
        "rules": [(r.id, r.value) for r in sorted(bundle.cart_rules, key=lambda r: r.id)],
        "payments": [(p.id, p.amount) for p in sorted(bundle.payments, key=lambda p: p.id)],
    })


class OrderEngine:
    """Syncs orders of one run (see module docstring)."""

    def __init__(self, run: OrderRun) -> None:
        self.run = run
        self.customers = CustomerSync(run)
        self.catalog = CatalogBridge(run)
        self.documents = Documents(run)
        self.payments = Payments(run)
        self.options = OrderMappingOptions(
            discount_lines="per_rule" if run.shop.discount_line_per_cart_rule else "single",
            tolerance=run.shop.rounding_tolerance)
        self._open_failures = {f.key.source_id: f.payload
                               for f in run.failures.list(connection=run.connection, limit=1_000_000)
                               if f.key.entity == ENTITY} if not run.dry_run else {}

    async def sync(self, bundle: OrderBundle) -> str:
        """Sync one order; returns its outcome (counted in the run summary)."""
        run = self.run
        order_id = bundle.order.id
        waiting = in_doubt_until(self._open_failures.get(str(order_id)))
        if waiting is not None and waiting > datetime.now(UTC):  # an earlier create may still land
            run.count(ENTITY, "failed")
            run.summary.parked.append(ParkedItem(
                ENTITY, str(order_id), CreateInDoubt.__name__,
                f"order {order_id} ({bundle.order.reference}): waits until {waiting:%H:%M:%S} UTC for an earlier "
                "create whose answer was lost, then looks for it before creating anything"))
            return "failed"
        try:
            outcome = await self._sync(bundle)
        except Unauthorized:
            raise
        except CreateInDoubt as error:
            return self._parked(bundle, error, f"order {order_id} ({bundle.order.reference}): {error}", failed=True,
                                not_before=datetime.now(UTC) + timedelta(seconds=error.wait_s))
        except AmbiguousCustomer as error:
            customer = bundle.customer.id if bundle.customer else 0
            run.park("customers", customer, error, str(error))
            return self._parked(bundle, error, f"order {order_id}: its customer needs review — {error}")
        except (MappingError,) as error:
            return self._parked(bundle, error, f"order {order_id} ({bundle.order.reference}): {error.user_message()}")
        except (SetupProblem, AmbiguousMatch, BindingConflict, TotalsMismatch, EditedAfterInvoice) as error:
            text = getattr(error, "hint", None) if isinstance(error, BindingConflict) else str(error)
            return self._parked(bundle, error, f"order {order_id} ({bundle.order.reference}): {text}")
        except Transient as error:
            return self._parked(bundle, error, f"order {order_id} ({bundle.order.reference}): {error} — Dolibarr or "
                                "PrestaShop failed temporarily; `dolisync retry` (or the next sync) finishes it",
                                failed=True)
        except (Permanent, RemoteError) as error:
            return self._parked(bundle, error, f"order {order_id} ({bundle.order.reference}): {error}")
        except Exception as error:  # a bug must cost one order, not the run; kept visible as failed
            return self._parked(bundle, error, f"order {order_id} ({bundle.order.reference}): unexpected "
                                f"{type(error).__name__}: {error} — please report it; retried on the next sync",
                                failed=True)
        if outcome != "skipped":
            run.count(ENTITY, outcome)
        if str(order_id) in self._open_failures:
            run.resolve(ENTITY, order_id)
        return outcome

    def _parked(self, bundle: OrderBundle, error: BaseException, message: str, *, failed: bool = False,
                not_before: datetime | None = None) -> str:
        self.run.park(ENTITY, bundle.order.id, error, message, failed=failed, not_before=not_before)
        return "failed" if failed else "parked"

    # -- the script -------------------------------------------------------------------------
    async def _sync(self, bundle: OrderBundle) -> str:
        run = self.run
        order = bundle.order
        progress = run.rules.progress(order.current_state, bundle.state_history)
        binding = run.bindings.get("order", order.id)
        if binding is None and not progress.create:
            return "skipped"
        read_hash = _read_hash(bundle)
        if binding is not None and binding.read_hash == read_hash and str(order.id) not in self._open_failures:
            return "unchanged"
        if bundle.customer is None:
            raise SetupProblem(f"customer {order.id_customer} of the order does not exist in PrestaShop: "
                               "restore the customer or fix the order")
        invoice_address = bundle.addresses.get(order.id_address_invoice)
        delivery_address = bundle.addresses.get(order.id_address_delivery)
        socid = await self.customers.thirdparty_for(bundle.customer, invoice_address)
        contacts: dict[str, int] = {}
        if not (bundle.customer.is_guest and run.options.guests == "generic"):
            if invoice_address is not None:
                contacts["BILLING"] = await self.customers.contact_for(invoice_address, socid, bundle.customer.email)
            if delivery_address is not None:
                contacts["SHIPPING"] = await self.customers.contact_for(delivery_address, socid,
                                                                        bundle.customer.email)
        mapping = await self._map(bundle)
        header = self._header(bundle, socid)
        warehouse_id = self._warehouse(bundle)
        if run.dry_run:
            self._plan(bundle, mapping, progress)
            return "created" if binding is None else "updated"
        invoice_bound = run.bindings.target_for("invoice", order.id) is not None
        edited_after_invoice = invoice_bound and await self.documents.order_edited_after_invoice(order.id, mapping)
        if edited_after_invoice:
            order_id = int(binding.target_id) if binding is not None else 0
            document = await run.dolibarr.get_raw("orders", order_id)
            outcome = "unchanged"
        else:
            order_id, document, outcome = await self.documents.ensure_order(order.id, mapping, header, contacts,
                                                                            warehouse_id)
            if outcome != "unchanged":
                self._reconcile(bundle, mapping.reconciliation, document, "order")
        changed = outcome != "unchanged"
        if progress.invoice:
            changed |= await self._invoice(bundle, mapping, header, order_id, document, progress.payment)
        if progress.shipped:
            changed |= await self.documents.ensure_shipment(order.id, order_id, warehouse_id)
        if progress.delivered:
            changed |= await self.documents.ensure_closed(order_id, document)
        if progress.cancelled:
            changed |= await self._cancel(bundle, mapping, header, order_id, document)
        if edited_after_invoice:
            raise EditedAfterInvoice(
                "its lines changed in PrestaShop after the Dolibarr invoice was made; the invoice was left as it "
                "is: make a credit note and a new invoice in Dolibarr (or revert the edit in PrestaShop), then "
                "`dolisync retry`")
        run.bindings.set_hashes("order", order.id, read_hash=read_hash)
        if outcome == "unchanged" and changed:
            outcome = "updated"
        return outcome

    async def _map(self, bundle: OrderBundle) -> OrderMapping:
        run = self.run
        order = bundle.order
        currency = run.reference.currency_iso(order.id_currency)
        if not currency:
            raise SetupProblem(f"currency id {order.id_currency} of the order is unknown to the shop")
        carrier = run.reference.carriers.get(order.id_carrier)
        shop_order = ShopOrder.from_webservice(order, bundle.details, bundle.cart_rules, currency=currency,
                                               carrier_name=carrier.name if carrier is not None else "")
        run.erp.require_currency(currency)
        product_ids = await self.catalog.product_ids(shop_order.products_needed)
        side = DolibarrSide(seller=run.erp.seller, company_currency=run.erp.currency, country_code=run.erp.country_code,
                            tax_rates=run.reference.taxes, product_ids=product_ids,
                            shop_default_currency=run.reference.default_currency or None)
        return map_order(shop_order, side, self.options)

    def _header(self, bundle: OrderBundle, socid: int) -> dict[str, Any]:
        run = self.run
        order = bundle.order
        header: dict[str, Any] = {
            "socid": socid, "date": _timestamp(order.date_add, run.shop.timezone), "ref_client": order.reference,
        }
        if run.shop.order_ref_mode == "ref":
            ref = order_ref(order.reference, order.id, bundle.siblings)
            if ref is not None:
                header["ref"] = ref  # the order only: invoices keep Dolibarr's legal numbering
        try:
            header["mode_reglement_id"] = run.erp.payment_type_id(order.module)
        except SetupProblem:
            pass
        if order.gift and order.gift_message:
            header["note_public"] = order.gift_message
        return header

    def _warehouse(self, bundle: OrderBundle) -> int:
        run = self.run
        carrier = run.reference.carriers.get(bundle.order.id_carrier)
        mapped = None
        if carrier is not None:
            mapped = run.shop.carrier_warehouses.get(str(carrier.id_reference or carrier.id))
        return run.erp.warehouse_id(mapped or run.shop.default_warehouse)

    def _reconcile(self, bundle: OrderBundle, expected: Reconciliation, document: dict[str, Any], kind: str) -> None:
        checked = reconcile_document(expected, document, document_kind=kind)
        delta = max((abs(v) for v in (checked.delta.excl, checked.delta.tax, checked.delta.incl)), default=Decimal(0))
        detail = checked.as_dict()
        cent = Decimal("0.01")
        self.run.journal.record_reconciliation(
            self.run.connection, bundle.order.id,
            {name: getattr(checked.shop, name).quantize(cent) for name in ("excl", "tax", "incl")},
            {name: getattr(checked.erp, name).quantize(cent) for name in ("excl", "tax", "incl")},
            delta.quantize(cent), json.dumps({key: detail[key] for key in ("document", "reference", "currency", "fix", "adjustment",
                                                            "shipping", "discounts", "exact") if key in detail}),
        )
        if not checked.exact:
            raise TotalsMismatch(
                f"Dolibarr's {kind} totals {checked.erp.as_dict()} differ from PrestaShop's {checked.shop.as_dict()} "
                "(see `dolisync reconcile`): check the VAT dictionary and the local-tax options of the company")

    async def _invoice(self, bundle: OrderBundle, mapping: OrderMapping, header: dict[str, Any], order_id: int,
                       order_document: dict[str, Any], pay: bool) -> bool:
        run = self.run
        customer = bundle.customer
        langcode = run.reference.locale(customer.id_lang) if customer is not None and run.shop.customer_language else ""
        invoice_id, document, created = await self.documents.ensure_invoice(bundle.order.id, mapping, header, order_id,
                                                                            order_document, langcode)
        changed = created
        if created:
            self._reconcile(bundle, mapping.reconciliation, document, "invoice")
            run.count("invoices", "created")
        if run.shop.invoice_link_back:
            changed |= await self._link_back(bundle, str(document.get("ref") or ""))
        if pay and bundle.payments:
            paid = await self.payments.record(bundle, invoice_id, document, mapping, fresh=created)
            changed |= paid > 0
        if pay and mapping.predicted_totals.incl.is_zero() and str(document.get("paye", "0")) in ("0", "", "None"):
            # a free order (100 % voucher): nothing to pay, but PrestaShop counts it paid
            if await run.dolibarr.post_action(f"invoices/{invoice_id}/settopaid", {}) is not None:
                changed = True
        return changed

    async def _link_back(self, bundle: OrderBundle, invoice_ref: str) -> bool:
        run = self.run
        if not invoice_ref:
            return False
        text = note_with_invoice(bundle.order.note, invoice_ref, pdf_link(run.settings.dolibarr.url, invoice_ref))
        digest = content_hash(text)
        binding = run.bindings.get("invoice_link", bundle.order.id)
        if binding is not None and binding.written_hash == digest:
            return False
        if text != bundle.order.note:
            await run.prestashop.patch("orders", {"id": bundle.order.id, "note": text})
        run.bindings.bind("invoice_link", bundle.order.id, bundle.order.id, run.key("invoice_link", bundle.order.id),
                        written_hash=digest)
        return True

    async def _cancel(self, bundle: OrderBundle, mapping: OrderMapping, header: dict[str, Any], order_id: int,
                      document: dict[str, Any]) -> bool:
        run = self.run
        changed = False
        invoice = run.bindings.target_for("invoice", bundle.order.id)
        if invoice is not None:
            _note, created = await self.documents.ensure_credit_note(bundle.order.id, mapping, header, int(invoice))
            changed |= created
        state = run.rules.name_of(bundle.order.current_state)
        note = f"Cancelled in PrestaShop (state {state}) — order {bundle.order.reference}"
        changed |= await self.documents.mark_cancelled(bundle.order.id, order_id, document, note)
        return changed

    def _plan(self, bundle: OrderBundle, mapping: OrderMapping, progress: Any) -> None:
        run = self.run
        oid = bundle.order.id
        if run.bindings.get("order", oid) is None:
            run.plan("POST", "orders", "order", oid, f"{len(mapping.lines)} lines, {mapping.currency} "
                     f"{mapping.predicted_totals.incl}")
            run.plan("POST", "orders/{id}/validate", "order", oid, "validate")
        if progress.invoice and run.bindings.get("invoice", oid) is None:
            run.plan("POST", "invoices", "invoice", oid, f"{mapping.currency} {mapping.predicted_totals.incl}")
        if progress.payment and not (bundle.split and oid != bundle.siblings[-1]):  # a cart's payment once
            for payment in bundle.payments:
                if run.bindings.get("payment", payment.id) is None:
                    run.plan("POST", "invoices/paymentsdistributed", "payment", payment.id, f"{payment.amount}")


def failure_order_ids(run: OrderRun) -> list[int]:
    """PrestaShop ids of the orders of this shop that are in the failure queue."""
    return sorted(int(f.key.source_id) for f in run.failures.list(connection=run.connection, limit=1_000_000)
                  if f.key.entity == ENTITY and f.key.source_id.isdigit())


__all__ += ["failure_order_ids", "FailureKey"]
