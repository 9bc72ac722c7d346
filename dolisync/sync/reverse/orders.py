"""Order state and invoice number, Dolibarr → PrestaShop, for orders synced shop → ERP.

Orders are the ones bound by the order flows (entity ``order``: PrestaShop order id ->
Dolibarr order id; ``invoice``: PrestaShop order id -> Dolibarr invoice id).

:class:`OrderStateFlow`, per bound order:

* targets from Dolibarr: invoice paid → ``payment_accepted``; order shipping in process or
  closed (a shipment was validated) → ``shipped``; order closed → ``delivered`` (the state ids
  come from ``[shop.order_state_rules]``; a target set to nothing is off);
* a target is not posted when the order's history already holds it, or any state with the
  same meaning (PrestaShop's ``paid``/``shipped`` flags: a "remote payment accepted"
  order is paid, a delivered one was shipped); an order in the cancelled state is left
  alone; each missing target is one ``POST order_histories`` (PrestaShop's real state change);
* the tracking numbers of the validated shipments go on the order carrier
  (``PATCH order_carriers/{id}`` ``tracking_number``) when they differ;
* the state seen is remembered (entity ``erp_order_state``): an order whose Dolibarr side did
  not change costs no shop request on the next run.

:class:`InvoiceNumberFlow`: the validated Dolibarr invoice number and its PDF link on the order's
private note — the same line the order flow writes (:mod:`dolisync.sync.orders.linkback`),
written only when the note differs (an invoice validated after the order sync, a renumbering).
"""

from __future__ import annotations

from typing import Any

from dolisync.clients.errors import NotFound
from dolisync.sync.binder import content_hash
from dolisync.sync.orders.linkback import note_with_invoice, pdf_link
from dolisync.sync.reverse.context import ReverseRun

__all__ = ["OrderStateFlow", "InvoiceNumberFlow", "STATE_ENTITY", "INVOICE_ENTITY", "order_targets"]

STATE_ENTITY = "erp_order_state"
INVOICE_ENTITY = "erp_invoice_number"
ORDER = "order"
INVOICE = "invoice"
SHIPPING, CLOSED = 2, 3
# PrestaShop flag that says a state already means the target (``delivery`` only means "a delivery
# slip exists" — set on "shipped" too — so "delivered" is matched by its state id alone).
_MEANING = {"payment_accepted": "paid", "shipped": "shipped", "delivered": ""}


def order_targets(order_status: int, invoice_paid: bool, rules: Any) -> list[tuple[str, int]]:
    """``[(name, PrestaShop state id)]`` the order should have reached, in life order."""
    targets: list[tuple[str, int]] = []
    if invoice_paid and rules.payment_accepted:
        targets.append(("payment_accepted", int(rules.payment_accepted)))
    if order_status in (SHIPPING, CLOSED) and rules.shipped:
        targets.append(("shipped", int(rules.shipped)))
    if order_status == CLOSED and rules.delivered:
        targets.append(("delivered", int(rules.delivered)))
    return targets


async def _doli_rows(run: ReverseRun, path: str) -> dict[str, dict[str, Any]]:
    rows = await run.flow.erp.list_all(path, params={"sortfield": "t.rowid"})
    return {str(row["id"]): row for row in rows if isinstance(row, dict) and "id" in row}


async def _shop_orders(run: ReverseRun) -> dict[int, dict[str, Any]]:
    rows = [row async for row in run.prestashop.list_raw("orders", display="[id,current_state,note]")]
    return {int(row["id"]): row for row in rows if str(row.get("id", "")).isdigit()}


class OrderStateFlow:
    """Move shop orders along what Dolibarr did (see module docstring)."""

    def __init__(self, run: ReverseRun) -> None:
        self.run = run
        self.rules = run.shop.order_state_rules
        self._flags: dict[int, set[str]] | None = None

    async def run_all(self) -> None:
        """Every bound order."""
        orders = self.run.catalog.entity(ORDER)
        if not orders:
            return
        invoices = self.run.catalog.entity(INVOICE)
        doli_orders = await _doli_rows(self.run, "/orders")
        doli_invoices = await _doli_rows(self.run, "/invoices") if self.rules.payment_accepted and invoices else {}
        shop_orders: dict[int, dict[str, Any]] | None = None
        items = []
        for source_id, binding in orders.items():
            doli = doli_orders.get(binding.target_id)
            if doli is None or not source_id.isdigit():
                continue
            invoice = invoices.get(source_id)
            paid = invoice is not None and str(doli_invoices.get(invoice.target_id, {}).get("paye", "0")) == "1"
            targets = order_targets(int(doli.get("statut") or doli.get("status") or 0), paid, self.rules)
            if targets:
                items.append((int(source_id), binding.target_id, targets))
        if items:
            shop_orders = await _shop_orders(self.run)
        await self.run.flow.each(items, lambda item: self.run.flow.guard(
            STATE_ENTITY, item[0], lambda: self._sync(item[0], item[1], item[2], shop_orders or {})))

    async def _tracking(self, doli_order_id: str) -> str:
        try:
            shipments = await self.run.flow.erp.get(f"/orders/{doli_order_id}/shipment")
        except NotFound:
            return ""
        numbers = [str(s.get("tracking_number") or "").strip() for s in shipments or []
                   if isinstance(s, dict) and int(s.get("statut") or s.get("status") or 0) >= 1]
        return ", ".join(dict.fromkeys(n for n in numbers if n))

    async def _sync(self, order_id: int, doli_order_id: str, targets: list[tuple[str, int]],
                    shop_orders: dict[int, dict[str, Any]]) -> str:
        tracking = await self._tracking(doli_order_id) if any(n != "payment_accepted" for n, _ in targets) else ""
        seen = {"targets": targets, "tracking": tracking}
        previous = self.run.state(STATE_ENTITY).get(str(order_id))
        if previous is not None and previous.read_hash == content_hash(seen):
            return "unchanged"
        shop_order = shop_orders.get(order_id)
        if shop_order is None:
            return "unchanged"  # deleted in the shop: nothing to move
        cancelled = self.run.shop.order_state_rules.cancelled
        outcome = "unchanged"
        if not (cancelled and int(shop_order.get("current_state") or 0) == int(cancelled)):
            reached = await self._history(order_id)
            flags = await self._state_flags()
            for name, state in targets:
                meaning = _MEANING[name]
                if state in reached or (meaning and any(meaning in flags.get(r, set()) for r in reached)):
                    continue
                body = {"id_order": order_id, "id_order_state": state}
                await self.run.shop_write("POST", "order_histories", body, entity=STATE_ENTITY, source_id=str(order_id),
                                          send=lambda b=body: self.run.prestashop.create("order_histories", b))
                reached.add(state)
                outcome = "updated"
            if tracking and await self._set_tracking(order_id, tracking):
                outcome = "updated"
        self.run.remember(STATE_ENTITY, str(order_id), doli_order_id, read=seen, written=seen)
        return outcome

    async def _state_flags(self) -> dict[int, set[str]]:
        """PrestaShop order state id -> its flags among ``paid``, ``shipped``, ``delivery`` (read once)."""
        if self._flags is None:
            rows = [row async for row in self.run.prestashop.list_raw("order_states", display="[id,paid,shipped,delivery]")]
            self._flags = {int(row["id"]): {name for name in ("paid", "shipped", "delivery")
                                            if str(row.get(name) or "0") == "1"} for row in rows}
        return self._flags

    async def _history(self, order_id: int) -> set[int]:
        rows = [row async for row in self.run.prestashop.list_raw(
            "order_histories", display="[id,id_order_state]", filters={"id_order": f"[{order_id}]"})]
        return {int(row.get("id_order_state") or 0) for row in rows}

    async def _set_tracking(self, order_id: int, tracking: str) -> bool:
        carriers = [row async for row in self.run.prestashop.list_raw(
            "order_carriers", display="[id,tracking_number]", filters={"id_order": f"[{order_id}]"})]
        if not carriers:
            return False
        carrier = min(carriers, key=lambda row: int(row["id"]))
        if str(carrier.get("tracking_number") or "") == tracking:
            return False
        body = {"id": int(carrier["id"]), "tracking_number": tracking}
        await self.run.shop_write("PATCH", f"order_carriers/{carrier['id']}", body, entity=STATE_ENTITY,
                                  source_id=str(order_id),
                                  send=lambda: self.run.prestashop.patch("order_carriers", body))
        return True


class InvoiceNumberFlow:
    """Put the Dolibarr invoice number and PDF link on the shop order (see module docstring)."""

    def __init__(self, run: ReverseRun) -> None:
        self.run = run

    async def run_all(self) -> None:
        """Every bound invoice."""
        invoices = self.run.catalog.entity(INVOICE)
        if not invoices:
            return
        doli_invoices = await _doli_rows(self.run, "/invoices")
        shop_orders = await _shop_orders(self.run)
        items = []
        for source_id, binding in invoices.items():
            invoice = doli_invoices.get(binding.target_id)
            ref = str((invoice or {}).get("ref") or "")
            if source_id.isdigit() and ref and not ref.startswith("(PROV") and int(source_id) in shop_orders:
                items.append((int(source_id), ref))
        await self.run.flow.each(items, lambda item: self.run.flow.guard(
            INVOICE_ENTITY, item[0], lambda: self._sync(item[0], item[1], shop_orders[item[0]])))

    async def _sync(self, order_id: int, ref: str, shop_order: dict[str, Any]) -> str:
        note = str(shop_order.get("note") or "")
        wanted = note_with_invoice(note, ref, pdf_link(self.run.settings.dolibarr.url, ref))
        if wanted == note:
            return "unchanged"
        body = {"id": order_id, "note": wanted}
        await self.run.shop_write("PATCH", f"orders/{order_id}", body, entity=INVOICE_ENTITY, source_id=str(order_id),
                                  send=lambda: self.run.prestashop.patch("orders", body))
        return "updated"
