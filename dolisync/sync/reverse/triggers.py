"""What should run when: Dolibarr webhook triggers and parked items, mapped to reverse flows.

Contract (pure, no I/O): :func:`flows_for_dolibarr_event` names the reverse flows a Dolibarr
webhook trigger code makes worth running now (empty = none); :func:`flow_of_failure_entity`
names the flow that retries a parked ``erp_*`` item. The runtime calls
:func:`dolisync.sync.reverse.sync_reverse` with ``entities=`` those flows, intersected with the
shop's ``erp_to_shop`` switch.
"""

from __future__ import annotations

__all__ = ["DOLIBARR_EVENT_FLOWS", "flow_of_failure_entity", "flows_for_dolibarr_event"]

DOLIBARR_EVENT_FLOWS: dict[str, tuple[str, ...]] = {
    "STOCK_MOVEMENT": ("stock",),
    "PRODUCT_PRICE_MODIFY": ("prices",),
    "PRODUCT_MODIFY": ("prices", "product_data"),
    "PRODUCT_CREATE": ("new_products",),
    "CATEGORY_LINK": ("new_products", "product_data"),
    "CATEGORY_UNLINK": ("product_data",),
    "PRODUCT_ATTRIBUTE_CREATE": ("new_products",),
    "ECMFILES_CREATE": ("product_data",),
    "ECMFILES_MODIFY": ("product_data",),
    "ECMFILES_DELETE": ("product_data",),
    "SHIPPING_VALIDATE": ("order_states",),
    "SHIPPING_CLOSED": ("order_states",),
    "ORDER_CLOSE": ("order_states",),
    "ORDER_CLASSIFY_BILLED": ("order_states",),
    "BILL_PAYED": ("order_states",),
    "PAYMENT_CUSTOMER_CREATE": ("order_states",),
    "BILL_VALIDATE": ("invoice_numbers",),
}

_FAILURE_FLOWS = {
    "erp_stock": "stock",
    "erp_product": "prices",
    "erp_combination_price": "prices",
    "erp_combination_data": "product_data",
    "erp_image": "product_data",
    "erp_new_product": "new_products",
    "erp_order_state": "order_states",
    "erp_invoice_number": "invoice_numbers",
}


def flows_for_dolibarr_event(trigger_code: str) -> tuple[str, ...]:
    """Reverse flows to run for a Dolibarr webhook ``triggercode`` (``BILL_PAYED`` ...)."""
    return DOLIBARR_EVENT_FLOWS.get(trigger_code.strip().upper(), ())


def flow_of_failure_entity(entity: str) -> str | None:
    """The reverse flow that retries a parked item of ``entity`` (None: not a reverse item)."""
    if entity.startswith("erp_product_"):
        return "product_data" if entity != "erp_product_price" else "prices"
    return _FAILURE_FLOWS.get(entity)
