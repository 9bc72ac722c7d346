"""Typed PrestaShop records of customers and orders (see :mod:`dolisync.clients.prestashop_records`).

Same contract as the catalog records: frozen, unknown fields ignored, every field defaulted,
money as ``Decimal``, dates naive in the shop's timezone, associations as typed lists.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from dolisync.clients.fields import Flag, IdList, Int, Money, Multilang, PsDate, Text
from dolisync.clients.prestashop_base import PsRecord, association_items

__all__ = [
    "CustomerAssociations",
    "Customer",
    "Address",
    "OrderRow",
    "OrderAssociations",
    "Order",
    "OrderDetailAssociations",
    "OrderDetail",
    "OrderCartRule",
    "OrderPayment",
    "OrderState",
    "OrderHistory",
    "OrderInvoice",
    "OrderCarrier",
]


class CustomerAssociations(BaseModel):
    """Customer groups."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    groups: IdList = Field(default_factory=list)


class Customer(PsRecord):
    """``customers`` (``passwd`` and ``secure_key`` are deliberately not parsed)."""

    id_default_group: Int = 0
    id_lang: Int = 0
    id_gender: Int = 0
    lastname: Text = ""
    firstname: Text = ""
    email: Text = ""
    birthday: Text = ""
    newsletter: Flag = False
    optin: Flag = False
    website: Text = ""
    company: Text = ""
    siret: Text = ""
    ape: Text = ""
    active: Flag = False
    note: Text = ""
    is_guest: Flag = False
    deleted: Flag = False
    id_shop: Int = 0
    id_shop_group: Int = 0
    date_add: PsDate = None
    date_upd: PsDate = None
    associations: CustomerAssociations = Field(default_factory=CustomerAssociations)


class Address(PsRecord):
    """``addresses``: belongs to a customer (``id_customer``) or a manufacturer/supplier/warehouse."""

    id_customer: Int = 0
    id_manufacturer: Int = 0
    id_supplier: Int = 0
    id_warehouse: Int = 0
    id_country: Int = 0
    id_state: Int = 0
    alias: Text = ""
    company: Text = ""
    lastname: Text = ""
    firstname: Text = ""
    vat_number: Text = ""
    address1: Text = ""
    address2: Text = ""
    postcode: Text = ""
    city: Text = ""
    other: Text = ""
    phone: Text = ""
    phone_mobile: Text = ""
    dni: Text = ""
    deleted: Flag = False
    date_add: PsDate = None
    date_upd: PsDate = None


# --- orders ------------------------------------------------------------------------------


class OrderRow(BaseModel):
    """An ``order_rows`` item; ``id`` is the ``order_details`` id, ``product_attribute_id`` 0 = none."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: Int = 0
    product_id: Int = 0
    product_attribute_id: Int = 0
    product_quantity: Int = 0
    product_name: Text = ""
    product_reference: Text = ""
    product_ean13: Text = ""
    product_isbn: Text = ""
    product_upc: Text = ""
    product_price: Money = Decimal(0)
    id_customization: Int = 0
    unit_price_tax_incl: Money = Decimal(0)
    unit_price_tax_excl: Money = Decimal(0)


OrderRows = Annotated[list[OrderRow], BeforeValidator(association_items)]


class OrderAssociations(BaseModel):
    """Lines of an order (short form; full data in ``order_details``)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    order_rows: OrderRows = Field(default_factory=list)


class Order(PsRecord):
    """``orders``: every amount is in the order currency (``id_currency``).

    ``conversion_rate`` = order currency per default currency at order time.
    ``round_type``: 1 item, 2 line, 3 total. ``total_paid_real`` = sum of payments.
    """

    id_address_delivery: Int = 0
    id_address_invoice: Int = 0
    id_cart: Int = 0
    id_currency: Int = 0
    id_lang: Int = 0
    id_customer: Int = 0
    id_carrier: Int = 0
    current_state: Int = 0
    module: Text = ""
    invoice_number: Int = 0
    invoice_date: PsDate = None
    delivery_number: Int = 0
    delivery_date: PsDate = None
    valid: Flag = False
    date_add: PsDate = None
    date_upd: PsDate = None
    shipping_number: Text = ""
    note: Text = ""
    id_shop_group: Int = 0
    id_shop: Int = 0
    payment: Text = ""
    recyclable: Flag = False
    gift: Flag = False
    gift_message: Text = ""
    total_discounts: Money = Decimal(0)
    total_discounts_tax_incl: Money = Decimal(0)
    total_discounts_tax_excl: Money = Decimal(0)
    total_paid: Money = Decimal(0)
    total_paid_tax_incl: Money = Decimal(0)
    total_paid_tax_excl: Money = Decimal(0)
    total_paid_real: Money = Decimal(0)
    total_products: Money = Decimal(0)
    total_products_wt: Money = Decimal(0)
    total_shipping: Money = Decimal(0)
    total_shipping_tax_incl: Money = Decimal(0)
    total_shipping_tax_excl: Money = Decimal(0)
    carrier_tax_rate: Money = Decimal(0)
    total_wrapping: Money = Decimal(0)
    total_wrapping_tax_incl: Money = Decimal(0)
    total_wrapping_tax_excl: Money = Decimal(0)
    round_mode: Int = 0
    round_type: Int = 0
    conversion_rate: Money = Decimal(1)
    reference: Text = ""
    associations: OrderAssociations = Field(default_factory=OrderAssociations)


class OrderDetailAssociations(BaseModel):
    """Ids of the taxes applied to an order line (the only trace of its tax)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    taxes: IdList = Field(default_factory=list)


class OrderDetail(PsRecord):
    """``order_details``: full line data; line totals are after reductions."""

    id_order: Int = 0
    product_id: Int = 0
    product_attribute_id: Int = 0
    id_order_invoice: Int = 0
    id_warehouse: Int = 0
    id_shop: Int = 0
    id_customization: Int = 0
    product_name: Text = ""
    product_quantity: Int = 0
    product_quantity_refunded: Int = 0
    product_quantity_return: Int = 0
    product_quantity_reinjected: Int = 0
    product_price: Money = Decimal(0)
    original_product_price: Money = Decimal(0)
    reduction_percent: Money = Decimal(0)
    reduction_amount: Money = Decimal(0)
    reduction_amount_tax_incl: Money = Decimal(0)
    reduction_amount_tax_excl: Money = Decimal(0)
    group_reduction: Money = Decimal(0)
    product_quantity_discount: Money = Decimal(0)
    product_ean13: Text = ""
    product_isbn: Text = ""
    product_upc: Text = ""
    product_mpn: Text = ""
    product_reference: Text = ""
    product_supplier_reference: Text = ""
    product_weight: Money = Decimal(0)
    tax_computation_method: Int = 0
    id_tax_rules_group: Int = 0
    ecotax: Money = Decimal(0)
    ecotax_tax_rate: Money = Decimal(0)
    unit_price_tax_incl: Money = Decimal(0)
    unit_price_tax_excl: Money = Decimal(0)
    total_price_tax_incl: Money = Decimal(0)
    total_price_tax_excl: Money = Decimal(0)
    total_shipping_price_tax_excl: Money = Decimal(0)
    total_shipping_price_tax_incl: Money = Decimal(0)
    total_refunded_tax_excl: Money = Decimal(0)
    total_refunded_tax_incl: Money = Decimal(0)
    associations: OrderDetailAssociations = Field(default_factory=OrderDetailAssociations)


class OrderCartRule(PsRecord):
    """``order_cart_rules``: a discount applied; ``value`` is tax included."""

    id_order: Int = 0
    id_cart_rule: Int = 0
    id_order_invoice: Int = 0
    name: Text = ""
    value: Money = Decimal(0)
    value_tax_excl: Money = Decimal(0)
    free_shipping: Flag = False
    deleted: Flag = False


class OrderPayment(PsRecord):
    """``order_payments``: linked by ``order_reference``; ``amount`` in the payment currency."""

    order_reference: Text = ""
    id_currency: Int = 0
    amount: Money = Decimal(0)
    payment_method: Text = ""
    conversion_rate: Money = Decimal(1)
    transaction_id: Text = ""
    card_brand: Text = ""
    date_add: PsDate = None
    id_employee: Int = 0


class OrderState(PsRecord):
    """``order_states`` with their meaning flags."""

    unremovable: Flag = False
    delivery: Flag = False
    hidden: Flag = False
    send_email: Flag = False
    module_name: Text = ""
    invoice: Flag = False
    color: Text = ""
    logable: Flag = False
    shipped: Flag = False
    paid: Flag = False
    pdf_delivery: Flag = False
    pdf_invoice: Flag = False
    deleted: Flag = False
    name: Multilang = Field(default_factory=dict)
    template: Multilang = Field(default_factory=dict)


class OrderHistory(PsRecord):
    """``order_histories``: a state change (``id_employee`` 0 = system/customer)."""

    id_employee: Int = 0
    id_order_state: Int = 0
    id_order: Int = 0
    date_add: PsDate = None


class OrderInvoice(PsRecord):
    """``order_invoices``: totals per invoice; ``number`` without its prefix."""

    id_order: Int = 0
    number: Int = 0
    delivery_number: Int = 0
    delivery_date: PsDate = None
    total_discount_tax_excl: Money = Decimal(0)
    total_discount_tax_incl: Money = Decimal(0)
    total_paid_tax_excl: Money = Decimal(0)
    total_paid_tax_incl: Money = Decimal(0)
    total_products: Money = Decimal(0)
    total_products_wt: Money = Decimal(0)
    total_shipping_tax_excl: Money = Decimal(0)
    total_shipping_tax_incl: Money = Decimal(0)
    total_wrapping_tax_excl: Money = Decimal(0)
    total_wrapping_tax_incl: Money = Decimal(0)
    note: Text = ""
    date_add: PsDate = None


class OrderCarrier(PsRecord):
    """``order_carriers``: one per shipment, with its tracking number."""

    id_order: Int = 0
    id_carrier: Int = 0
    id_order_invoice: Int = 0
    weight: Money = Decimal(0)
    shipping_cost_tax_excl: Money = Decimal(0)
    shipping_cost_tax_incl: Money = Decimal(0)
    tracking_number: Text = ""
    date_add: PsDate = None
