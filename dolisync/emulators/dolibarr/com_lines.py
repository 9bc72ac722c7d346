"""Lines of orders and invoices: storage, amounts (via the money model) and serialization.

A document row (order or invoice) keeps ``row["lines"]``: a list of line rows with native
values. Amounts always come from :mod:`dolisync.mapping.dolibarr_money`: :func:`insert_line`
computes the new line, then :func:`update_price` runs Dolibarr's consistency pass over every
line; header totals are summed by :func:`totals_of` when serializing.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from dolisync.emulators.dolibarr.com_common import options_out, product_or_none, seller_taxes, shape
from dolisync.emulators.dolibarr.core import (
    as_decimal, as_int, as_str, fmt_amount, fmt_int, fmt_rate,
)
from dolisync.emulators.dolibarr.state import DolibarrState, Row
from dolisync.mapping.dolibarr_money import (
    DocumentTotals, LineAmounts, LineInput, compute_line, document_totals, line_input_from_request, recheck_line,
)

__all__ = [
    "insert_line", "update_price", "totals_of", "amounts_of", "serialize_line", "line_from_body",
    "product_type_of", "vat_text", "AMOUNT_FIELDS",
]

AMOUNT_FIELDS = ("subprice", "total_ht", "total_tva", "total_localtax1", "total_localtax2", "total_ttc",
                 "localtax1_tx", "localtax1_type", "localtax2_tx", "localtax2_type", "multicurrency_subprice",
                 "multicurrency_total_ht", "multicurrency_total_tva", "multicurrency_total_ttc")


def product_type_of(state: DolibarrState, body: dict[str, Any]) -> int:
    """The line's product type: the product's when ``fk_product`` names one, else the body's."""
    product = product_or_none(state, body.get("fk_product"))
    if product is not None:
        for key in ("type", "fk_product_type", "product_type"):
            if product.get(key) not in (None, ""):
                return as_int(product.get(key), 0) or 0
    return as_int(body.get("product_type"), 0) or 0


def line_from_body(state: DolibarrState, body: dict[str, Any], *, honour_price_base: bool,
                   multicurrency_tx: Decimal, honour_multicurrency_price: bool, negate: bool = False,
                   table: str) -> Row:
    """A new line row (with its id from ``table``'s sequence) computed from a REST line body."""
    kind = product_type_of(state, body)
    request = line_input_from_request(body, honour_price_base=honour_price_base, multicurrency_tx=multicurrency_tx,
                                      honour_multicurrency_price=honour_multicurrency_price, product_type=kind)
    if negate:  # credit notes store negative unit prices
        request = LineInput(**{**_as_kwargs(request), "unit_price": -abs(request.unit_price)})
    amounts = compute_line(request, seller_taxes(state))
    row: Row = {
        "id": state.next_id(table), "fk_product": as_int(body.get("fk_product"), None) or None,
        "product_type": kind, "desc": as_str(body.get("desc"), "") or "", "label": as_str(body.get("label")),
        "qty": request.qty, "remise_percent": request.discount_percent, "tva_tx": request.vat_rate,
        "vat_src_code": request.vat_code,
        "rang": as_int(body.get("rang"), 0) or 0, "special_code": as_int(body.get("special_code"), 0) or 0,
        "info_bits": 0, "date_start": body.get("date_start") or "", "date_end": body.get("date_end") or "",
        "ref_ext": as_str(body.get("ref_ext"), "") or "",
        "array_options": dict(body["array_options"]) if isinstance(body.get("array_options"), dict) else {},
        "fk_parent_line": as_int(body.get("fk_parent_line"), None),
    }
    _store_amounts(row, amounts)
    return row


def _as_kwargs(line: LineInput) -> dict[str, Any]:
    return {name: getattr(line, name) for name in LineInput.__slots__}


def _store_amounts(row: Row, amounts: LineAmounts) -> None:
    for name in AMOUNT_FIELDS:
        row[name] = getattr(amounts, name)


def vat_text(line: Row) -> Any:
    """A stored line's rate as a request would send it again (``"5 (GST-BC)"`` when coded)."""
    code = line.get("vat_src_code") or ""
    return f"{line['tva_tx']} ({code})" if code else line["tva_tx"]


def amounts_of(line: Row) -> LineAmounts:
    """The stored amounts of a line row."""
    return LineAmounts(**{name: line[name] for name in AMOUNT_FIELDS})


def insert_line(document: Row, line: Row) -> None:
    """Append ``line`` to ``document`` then run :func:`update_price`."""
    document.setdefault("lines", []).append(line)
    update_price(document)


def update_price(document: Row) -> None:
    """Dolibarr's ``update_price``: re-check every line from its stored ``subprice``."""
    for line in document.get("lines", []):
        checked = recheck_line(amounts_of(line), as_decimal(line["qty"]), as_decimal(line["tva_tx"]),
                               as_decimal(line["remise_percent"]), as_int(line.get("product_type"), 0) or 0)
        _store_amounts(line, checked)


def totals_of(document: Row) -> DocumentTotals:
    """Header totals: sums of the line totals."""
    return document_totals(amounts_of(line) for line in document.get("lines", []))


_NO_PRODUCT = {"ref": None, "product_ref": None, "product_label": None, "libelle": None, "product_barcode": None,
               "product_desc": None, "product_custom_code": None, "fk_product_type": None, "product_tosell": None,
               "product_tobuy": None, "product_tobatch": None, "weight": None, "weight_units": None, "volume": None,
               "volume_units": None}


def _product_fields(state: DolibarrState, line: Row, kind: str) -> dict[str, Any]:
    """Product columns joined into a line (orders join more of them than invoices)."""
    product = product_or_none(state, line.get("fk_product"))
    if product is None:
        return dict(_NO_PRODUCT)
    from dolisync.emulators.dolibarr.catalog import serialize_product

    printed = serialize_product(state, product)
    out = dict(_NO_PRODUCT)
    out.update({
        "ref": printed.get("ref"), "product_ref": printed.get("ref"), "product_label": printed.get("label"),
        "libelle": printed.get("label"), "product_barcode": printed.get("barcode") or None,
        "product_desc": printed.get("description") or "", "fk_product_type": printed.get("type"),
    })
    if kind.startswith("order"):
        out.update({
            "product_custom_code": printed.get("customcode") or "", "product_tosell": printed.get("status"),
            "product_tobuy": printed.get("status_buy"), "product_tobatch": printed.get("status_batch") or "0",
            "weight": printed.get("weight"), "volume": printed.get("volume"),
            "weight_units": _text(printed.get("weight_units")) if printed.get("weight") is not None else None,
            "volume_units": _text(printed.get("volume_units")) if printed.get("volume") is not None else None,
        })
    return out


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def serialize_line(state: DolibarrState, line: Row, kind: str, parent_id: int,
                   currency_code: str | None = None) -> dict[str, Any]:
    """A line as printed by GET.

    ``kind``: ``"order_line"``/``"invoice_line"`` (inside a document) or ``"order_line_get"``/
    ``"invoice_line_get"`` (``GET .../lines``, a few more members, with the document currency).
    """
    out = shape(kind)
    values: dict[str, Any] = {
        "id": str(line["id"]), "rowid": str(line["id"]), "array_options": options_out(line.get("array_options")),
        "ref_ext": line.get("ref_ext") or "", "product_type": str(line.get("product_type") or 0),
        "fk_product": fmt_int(line.get("fk_product")), "desc": line.get("desc") or "",
        "description": line.get("desc") or "", "label": line.get("label"), "qty": _qty(line["qty"]),
        "remise_percent": _qty(line["remise_percent"]), "info_bits": "0",
        "special_code": str(line.get("special_code") or 0), "subprice": fmt_amount(line["subprice"]),
        "tva_tx": fmt_rate(line["tva_tx"]), "multicurrency_subprice": fmt_amount(line["multicurrency_subprice"]),
        "localtax1_tx": fmt_rate(line["localtax1_tx"]), "localtax2_tx": fmt_rate(line["localtax2_tx"]),
        "localtax1_type": str(line["localtax1_type"]), "localtax2_type": str(line["localtax2_type"]),
        "total_ht": fmt_amount(line["total_ht"]), "total_tva": fmt_amount(line["total_tva"]),
        "total_localtax1": fmt_amount(line["total_localtax1"]), "total_localtax2": fmt_amount(line["total_localtax2"]),
        "total_ttc": fmt_amount(line["total_ttc"]),
        "multicurrency_total_ht": fmt_amount(line["multicurrency_total_ht"]),
        "multicurrency_total_tva": fmt_amount(line["multicurrency_total_tva"]),
        "multicurrency_total_ttc": fmt_amount(line["multicurrency_total_ttc"]),
        "rang": str(line.get("rang") or 0), "fk_parent_line": fmt_int(line.get("fk_parent_line")),
        "date_start": line.get("date_start") or "", "date_end": line.get("date_end") or "",
        "pa_ht": "0.00000000", "marge_tx": "", "vat_src_code": line.get("vat_src_code") or "",
        "price": line.get("price_field"),
    }
    values.update(_product_fields(state, line, kind))
    if kind.startswith("order"):
        values.update({"fk_commande": str(parent_id), "commande_id": str(parent_id), "marque_tx": 100})
    else:
        values.update({"fk_facture": str(parent_id), "marque_tx": "100", "situation_percent": "100",
                       "fk_warehouse": "0", "fk_accounting_account": "0", "batch": "", "fk_code_ventilation": 0})
    if currency_code is not None and "multicurrency_code" in out:
        values["multicurrency_code"] = currency_code
    if kind == "invoice_line_get":
        values["fk_multicurrency"] = "0"
    for key, value in values.items():
        if key in out:
            out[key] = value
    return out


def _qty(value: Any) -> str:
    number = as_decimal(value)
    if number == number.to_integral_value():
        return str(int(number))
    return format(number.normalize(), "f")
