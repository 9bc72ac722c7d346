"""Dolibarr sales documents of one order: order, invoice, credit note, shipment — each exactly once.

Contract (every method is safe to re-run, and after a crash at any point):

* ``ensure_*`` first uses the binding, then our external key in Dolibarr (``ref_ext``), and
  only then creates. A document found as a draft is repaired before validation: when its
  lines do not give the predicted totals (a crash between ``POST /orders`` and the last
  ``POST /orders/{id}/lines``), its lines are replaced by the mapped ones.
* Validation happens only on drafts, one at a time per run and document type (Dolibarr numbers
  each type — orders, invoices and credit notes, shipments — as "max + 1" of its own table
  without a lock; the client also retries its duplicate-ref 500), with the
  warehouse mapped from the order's carrier so the stock decrement lands where the parcel
  leaves from. A validation that keeps failing leaves a draft that the next run validates.
* Invoices are built from the mapped lines (never ``createfromorder``, which drops the
  currency), validated, their PDF built (``PUT /documents/builddoc``), and the order is
  classified billed.
* ``order_ref_mode = "ref"``: the order is created with the ``ref`` of the header (Dolibarr keeps
  it through validation); a ref another Dolibarr order already has is a
  :class:`~dolisync.sync.orders.erp_setup.SetupProblem` (the order is parked). Invoices and
  credit notes never take it: they keep Dolibarr's numbering (the legal invoice sequence).
* Amounts are checked after each write: :func:`~dolisync.mapping.reconcile.reconcile_document`
  of what Dolibarr stored against PrestaShop's grand totals.
"""

from __future__ import annotations

from typing import Any

from dolisync.clients.errors import NotFound, RemoteRejected
from dolisync.mapping.orders import OrderMapping
from dolisync.mapping.reconcile import Reconciliation, reconcile_document
from dolisync.sync.binder import content_hash
from dolisync.sync.orders.context import OrderRun
from dolisync.sync.orders.customers import CALLER
from dolisync.sync.orders.erp_setup import SetupProblem

__all__ = ["Documents", "DRAFT", "lines_hash"]

DRAFT = 0
CLOSED = 3


def lines_hash(mapping: OrderMapping) -> str:
    """Digest of what the document lines and currency are (detects order edits)."""
    return content_hash({"lines": mapping.line_bodies(), "currency": mapping.currency,
                         "tx": mapping.multicurrency_tx})


def _status(document: dict[str, Any]) -> int:
    value = document.get("statut", document.get("status", 0))
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


class Documents:
    """Dolibarr writes of the order flow (see module docstring)."""

    def __init__(self, run: OrderRun) -> None:
        self.run = run
        self.client = run.dolibarr

    # -- shared ---------------------------------------------------------------------------------
    async def _get(self, resource: str, document_id: int) -> dict[str, Any] | None:
        try:
            return await self.client.get_raw(resource, document_id)
        except NotFound:
            return None

    async def _locate(self, entity: str, resource: str, source_id: int) -> tuple[int | None, dict[str, Any] | None, bool]:
        """(id, document, bound) of our copy: binding, else external key; (None, None) when absent."""
        run = self.run
        bound = run.bindings.target_for(entity, source_id)
        if bound is not None:
            document = await self._get(resource, int(bound))
            if document is not None:
                return int(bound), document, True
            run.bindings.unbind(entity, source_id)  # deleted in Dolibarr: made again
        found = await run.find_existing(entity, source_id)
        if found is not None:
            document = await self._get(resource, found)
            if document is not None:
                return found, document, False
        return None, None, False

    async def _create(self, resource: str, entity: str, source_id: int, body: dict[str, Any],
                      mapping: OrderMapping) -> int:
        new_id = await self.run.create(entity, source_id, resource, {**body, "caller": CALLER})
        if not mapping.lines_inline:
            for line in mapping.line_bodies():
                await self.client.request_json("POST", f"{resource}/{new_id}/lines", body=line, idempotent=False)
        return new_id

    async def _repair_draft(self, resource: str, document_id: int, document: dict[str, Any],
                            mapping: OrderMapping, expected: Reconciliation) -> dict[str, Any]:
        """A draft whose lines miss the predicted totals gets the mapped lines again."""
        checked = reconcile_document(expected, document, document_kind=resource)
        lines = document.get("lines") or []
        if checked.exact and len(lines) == len(mapping.lines):
            return document
        for line in lines:
            line_id = line.get("id") or line.get("rowid")
            if line_id is not None:
                await self.client.request_json("DELETE", f"{resource}/{document_id}/lines/{int(line_id)}")
        for body in mapping.line_bodies():
            await self.client.request_json("POST", f"{resource}/{document_id}/lines", body=body, idempotent=False)
        return await self.client.get_raw(resource, document_id)

    async def _validate(self, resource: str, document_id: int, warehouse_id: int) -> dict[str, Any]:
        async with self.run.lock(f"validate:{resource}"):
            answer = await self.client.post_action(f"{resource}/{document_id}/validate",
                                                   {"idwarehouse": warehouse_id, "notrigger": 0})
        if isinstance(answer, dict) and answer.get("id"):
            return answer
        return await self.client.get_raw(resource, document_id)

    # -- order ----------------------------------------------------------------------------------
    async def ensure_order(self, source_id: int, mapping: OrderMapping, header: dict[str, Any],
                           contacts: dict[str, int], warehouse_id: int) -> tuple[int, dict[str, Any], str]:
        """Our Dolibarr order, validated: ``(id, document, outcome)``; outcome is ``created``,
        ``updated`` (lines replaced after an edit, or repaired) or ``unchanged``."""
        run = self.run
        digest = lines_hash(mapping)
        order_id, document, bound = await self._locate("order", "orders", source_id)
        outcome = "unchanged"
        if order_id is None:
            body = mapping.order_body(socid=header["socid"], date=header["date"], ref_ext=run.key("order", source_id),
                                      ref_client=header.get("ref_client"))
            body.update({k: v for k, v in header.items() if k not in ("socid", "date", "ref_client")})
            order_id = await self._create_order(source_id, body, mapping)
            outcome = "created"
            await self._link_contacts(order_id, contacts, existing=False)
            document = await self._validate("orders", order_id, warehouse_id)
        elif not bound:
            await self._link_contacts(order_id, contacts, existing=True)
            outcome = "created"
        assert document is not None
        previous = run.bindings.get("order", source_id) if bound else None
        if previous is not None and previous.written_hash not in (None, digest) and _status(document) != DRAFT:
            document = await self._reopen(order_id)  # edited in the shop before invoicing
            outcome = "updated"
        if _status(document) == DRAFT:
            document = await self._repair_draft("orders", order_id, document, mapping, mapping.reconciliation)
            document = await self._validate("orders", order_id, warehouse_id)
        run.bindings.bind("order", source_id, order_id, run.key("order", source_id), written_hash=digest)
        return order_id, document, outcome

    async def _create_order(self, source_id: int, body: dict[str, Any], mapping: OrderMapping) -> int:
        """``POST /orders``; a given ``ref`` that another Dolibarr order already has is a setup problem
        (our own order was looked for by its external key first, so it is never ours)."""
        try:
            return await self._create("orders", "order", source_id, body, mapping)
        except RemoteRejected as error:
            if "ref" not in body or "ErrorRefAlreadyExists" not in str(error):
                raise
            raise SetupProblem(
                f"Dolibarr already has another order with ref {body['ref']} (order_ref_mode = \"ref\"): rename or "
                "delete that Dolibarr order, or use order_ref_mode = \"ref_client\", then `dolisync retry`",
                field="order_ref_mode") from error

    async def _reopen(self, order_id: int) -> dict[str, Any]:
        """An order edited in the shop after sync (not invoiced): back to draft for new lines."""
        await self.client.post_action(f"orders/{order_id}/settodraft", {"idwarehouse": 0})
        document = await self.client.get_raw("orders", order_id)
        for line in document.get("lines") or []:
            line_id = line.get("id") or line.get("rowid")
            if line_id is not None:
                await self.client.request_json("DELETE", f"orders/{order_id}/lines/{int(line_id)}")
        return await self.client.get_raw("orders", order_id)

    async def _link_contacts(self, order_id: int, contacts: dict[str, int], *, existing: bool) -> None:
        linked: set[tuple[int, str]] = set()
        if existing:
            try:
                rows = await self.client.request_json("GET", f"orders/{order_id}/contacts")
            except NotFound:
                rows = []
            for row in rows if isinstance(rows, list) else []:
                code = str(row.get("code") or row.get("type_code") or row.get("libelle") or "").upper()
                contact = row.get("id") or row.get("contact_id") or row.get("fk_socpeople")
                if str(contact or "").isdigit():
                    linked.add((int(contact), code))
        for kind, contact_id in contacts.items():
            if contact_id > 0 and (contact_id, kind) not in linked:
                await self.client.post_action(f"orders/{order_id}/contact/{contact_id}/{kind}", {})

    async def order_edited_after_invoice(self, source_id: int, mapping: OrderMapping) -> bool:
        """True when the bound order's lines differ from the mapping (an edit in the shop)."""
        binding = self.run.bindings.get("order", source_id)
        return binding is not None and binding.written_hash not in (None, lines_hash(mapping))

    # -- invoice --------------------------------------------------------------------------------
    async def ensure_invoice(self, source_id: int, mapping: OrderMapping, header: dict[str, Any],
                             order_id: int, order: dict[str, Any], langcode: str) -> tuple[int, dict[str, Any], bool]:
        """Our validated invoice with its PDF: ``(id, document, created_now)``."""
        run = self.run
        invoice_id, document, bound = await self._locate("invoice", "invoices", source_id)
        created = False
        if invoice_id is None:
            body = mapping.invoice_body(socid=header["socid"], date=header["date"],
                                        ref_ext=run.key("invoice", source_id), ref_client=header.get("ref_client"))
            body.update({k: v for k, v in header.items() if k not in ("socid", "date", "ref_client", "ref")})
            invoice_id = await self._create("invoices", "invoice", source_id, body, mapping)
            document = await self._validate("invoices", invoice_id, 0)
            created = True
        assert document is not None
        if _status(document) == DRAFT:
            document = await self._repair_draft("invoices", invoice_id, document, mapping, mapping.reconciliation)
            document = await self._validate("invoices", invoice_id, 0)
            created = True
        if not document.get("last_main_doc") or not bound:
            ref = str(document.get("ref") or "")
            await self.client.request_json("PUT", "documents/builddoc", body={
                "modulepart": "invoice", "original_file": f"{ref}/{ref}.pdf", "doctemplate": "sponge",
                "langcode": langcode or "en_US"})
            document = {**document, "last_main_doc": f"facture/{ref}/{ref}.pdf"}
        if str(order.get("billed", "0")) not in ("1", "True", "true"):
            await self.client.post_action(f"orders/{order_id}/setinvoiced", {})
        run.bindings.bind("invoice", source_id, invoice_id, run.key("invoice", source_id))
        return invoice_id, document, created

    async def ensure_credit_note(self, source_id: int, mapping: OrderMapping, header: dict[str, Any],
                                 invoice_id: int) -> tuple[int, bool]:
        """A validated credit note cancelling invoice ``invoice_id``: ``(id, created_now)``."""
        run = self.run
        note_id, document, _bound = await self._locate("credit_note", "invoices", source_id)
        created = False
        if note_id is None:
            body = mapping.invoice_body(socid=header["socid"], date=header["date"],
                                        ref_ext=run.key("credit_note", source_id), ref_client=header.get("ref_client"))
            body.update({"type": 2, "fk_facture_source": invoice_id})
            note_id = await self._create("invoices", "credit_note", source_id, body, mapping)
            document = await self.client.get_raw("invoices", note_id)
            created = True
        assert document is not None
        if _status(document) == DRAFT:
            await self._validate("invoices", note_id, 0)
            created = True
        run.bindings.bind("credit_note", source_id, note_id, run.key("credit_note", source_id))
        return note_id, created

    # -- later states ---------------------------------------------------------------------------
    async def ensure_shipment(self, source_id: int, order_id: int, warehouse_id: int) -> bool:
        """One validated shipment of the whole order from ``warehouse_id``; True when made now."""
        run = self.run
        if run.bindings.target_for("shipment", source_id) is not None or warehouse_id <= 0:
            return False
        existing = await self.client.request_json("GET", f"orders/{order_id}/shipment")
        rows = existing if isinstance(existing, list) else []
        made = False
        if rows:
            shipment_id = int(rows[0]["id"])
            status = _status(rows[0])
        else:
            shipment_id = await self.client.create(f"orders/{order_id}/shipment/{warehouse_id}", {})
            status = DRAFT
            made = True
        if status == DRAFT:
            async with run.lock("validate:shipments"):
                await self.client.post_action(f"shipments/{shipment_id}/validate", {"notrigger": 0})
            made = True
        run.bindings.bind("shipment", source_id, shipment_id, run.key("shipment", source_id))
        return made

    async def ensure_closed(self, order_id: int, document: dict[str, Any]) -> bool:
        """The order classified delivered (status 3); True when changed now."""
        if _status(document) == CLOSED:
            return False
        answer = await self.client.post_action(f"orders/{order_id}/close", {"notrigger": 0})
        return answer is not None

    async def mark_cancelled(self, source_id: int, order_id: int, document: dict[str, Any], note: str) -> bool:
        """Record the cancellation on the Dolibarr order (its REST API has no cancel action)."""
        run = self.run
        if run.bindings.target_for("order_cancelled", source_id) is not None:
            return False
        current = str(document.get("note_private") or "")
        if note not in current:
            text = f"{current}\n{note}".strip()
            await self.client.update("orders", order_id, {"note_private": text})
        run.bindings.bind("order_cancelled", source_id, order_id, run.key("order_cancelled", source_id))
        return True
