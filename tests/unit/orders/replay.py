"""Replay a mapping's payload through Dolibarr's money model, as the REST API would receive it.

The bodies are the strings the sync sends. ``tva_tx`` may name the dictionary row by code
(``"5 (GST-BC)"``), as Dolibarr's ``addline`` reads it: the code selects the row whose local
taxes apply. Lines inside ``POST /orders`` ignore ``multicurrency_subprice``; lines posted on
``/lines`` honour it.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from dolisync.mapping.dolibarr_money import (
    DocumentTotals,
    LineAmounts,
    SellerTaxes,
    add_line,
    createfromorder_line,
    document_totals,
    line_input_from_request,
)
from dolisync.mapping.order_taxes import LineTax, seller_view
from dolisync.mapping.orders import OrderMapping

_CODE = re.compile(r"^\s*([-0-9.]+)\s*\((.*)\)\s*$")


def _split_code(body: dict[str, Any]) -> tuple[dict[str, Any], str]:
    match = _CODE.match(str(body.get("tva_tx", "")))
    if not match:
        return body, ""
    return {**body, "tva_tx": match.group(1)}, match.group(2)


def replay_lines(mapping: OrderMapping, seller: SellerTaxes) -> list[LineAmounts]:
    """Each line body of ``mapping`` computed as Dolibarr computes it on insert."""
    inline = mapping.lines_inline
    tx = mapping.multicurrency_tx or Decimal(1)
    out = []
    for body in mapping.line_bodies():
        clean, code = _split_code(body)
        request = line_input_from_request(
            clean, honour_price_base=not inline, multicurrency_tx=tx, honour_multicurrency_price=not inline,
        )
        view = seller_view(seller, LineTax(request.vat_rate, code=code, pick_code=bool(code)))
        out.append(add_line(request, view))
    return out


def replay_totals(mapping: OrderMapping, seller: SellerTaxes) -> tuple[Decimal, Decimal]:
    """Net and gross Dolibarr computes from the payload, in the order currency."""
    totals = document_totals(replay_lines(mapping, seller))
    if mapping.multicurrency_tx is not None:
        return totals.multicurrency_total_ht, totals.multicurrency_total_ttc
    return totals.total_ht, totals.total_ttc


def createfromorder_totals(mapping: OrderMapping, seller: SellerTaxes) -> DocumentTotals:
    """What ``POST /invoices/createfromorder`` would compute from the stored order lines."""
    lines = []
    for stored, line in zip(replay_lines(mapping, seller), mapping.lines, strict=True):
        request = createfromorder_line(stored, line.qty, line.tax.vat_rate, line.discount_percent, line.product_type)
        lines.append(add_line(request, seller_view(seller, line.tax)))
    return document_totals(lines)
