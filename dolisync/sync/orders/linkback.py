"""The Dolibarr invoice number and PDF link, made available on the PrestaShop order.

Mechanism (documented in docs/orders.md): the order's ``note`` field — the back-office
*private note* of the order page, writable with ``PATCH /api/orders/{id}`` — gets one line
``Dolibarr invoice FA2611-0001: <link>``. The merchant's own note lines are kept; a previous
dolisync line is replaced, so re-running writes nothing new (the text is compared first).
The link is Dolibarr's document download page
``<dolibarr>/document.php?modulepart=facture&file=<ref>/<ref>.pdf`` (opens for a logged-in
Dolibarr user). The Webservice has no resource to attach a file or a message to an order, and
``order_invoices`` belongs to PrestaShop's own invoice numbering, so the note is the one
writable place staff see on the order.
"""

from __future__ import annotations

from urllib.parse import quote

__all__ = ["MARKER", "pdf_link", "note_with_invoice", "web_root"]

MARKER = "Dolibarr invoice "


def web_root(api_url: str) -> str:
    """Dolibarr's web root from its REST base URL (``.../api/index.php`` removed)."""
    root = api_url.rstrip("/")
    for suffix in ("/api/index.php", "/api"):
        if root.endswith(suffix):
            root = root[: -len(suffix)]
    return root


def pdf_link(api_url: str, invoice_ref: str) -> str:
    """The download link of an invoice's PDF."""
    file = quote(f"{invoice_ref}/{invoice_ref}.pdf", safe="/")
    return f"{web_root(api_url)}/document.php?modulepart=facture&file={file}"


def note_with_invoice(note: str, invoice_ref: str, link: str) -> str:
    """``note`` with our line set to this invoice (other lines kept, in order)."""
    kept = [line for line in (note or "").splitlines() if not line.startswith(MARKER)]
    return "\n".join([*kept, f"{MARKER}{invoice_ref}: {link}"]).strip()
