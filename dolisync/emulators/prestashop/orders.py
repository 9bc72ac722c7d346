"""``POST /api/orders``: a small ``PaymentModule::validateOrder`` on the posted cart.

Contract: the order lines come from the cart's ``cart_rows`` (unit prices from
:func:`pricing.compute_price` for the delivery country: tax per the product's tax rule group,
specific-price reductions), shipping from the carrier (``_shipping_cost`` on the carrier row, else
the shipping of the last order made with that carrier, else 0). The order is stored with its
lines (order_details + ``order_rows``), an order_carrier row, a random reference and secure key,
then moved to state 11 "Remote payment accepted" when the posted ``total_paid`` equals the
computed total, else to state 8 "Payment error" with ``total_paid_real`` = the posted amount
(what 8.2.1 does, DIFFERENCES.md section 8). The ordered quantities leave the available stock
(the product row stays the sum of its combinations). Without a known cart the posted values
are stored as they are.
"""

from __future__ import annotations

import secrets
import string
from decimal import Decimal
from typing import Any

from dolisync.emulators.prestashop.pricing import compute_price
from dolisync.emulators.prestashop.schema import ResourceSpec
from dolisync.emulators.prestashop.store import PrestaShopStore, Row
from dolisync.mapping.money import round_half_up, to_decimal

__all__ = ["validate_order", "PS_OS_WS_PAYMENT", "PS_OS_ERROR"]

PS_OS_WS_PAYMENT = 11
PS_OS_ERROR = 8


def _money(value: Decimal) -> str:
    return f"{value:.6f}"


def _combination_label(store: PrestaShopStore, id_attribute: str) -> str:
    combo = store.get("combinations", int(id_attribute)) if id_attribute.isdigit() else None
    if combo is None:
        return ""
    parts = []
    for item in (combo.get("associations") or {}).get("product_option_values") or []:
        value = store.get("product_option_values", int(item.get("id") or 0)) or {}
        group = store.get("product_options", int(value.get("id_attribute_group") or 0)) or {}
        value_name = value.get("name")
        group_name = group.get("public_name") or group.get("name")
        value_text = value_name.get(1, "") if isinstance(value_name, dict) else str(value_name or "")
        group_text = group_name.get(1, "") if isinstance(group_name, dict) else str(group_name or "")
        if value_text:
            parts.append(f"{group_text}: {value_text}" if group_text else value_text)
    return " - ".join(parts)


def _shipping(store: PrestaShopStore, id_carrier: str) -> Decimal:
    carrier = store.get("carriers", int(id_carrier)) if id_carrier.isdigit() else None
    if carrier is not None:
        if carrier.get("is_free") == "1":
            return Decimal(0)
        if carrier.get("_shipping_cost"):
            return to_decimal(carrier["_shipping_cost"])
    for order in reversed(store.index("orders", "id_carrier").get(id_carrier, [])):
        if order.get("total_shipping_tax_excl"):
            return to_decimal(order["total_shipping_tax_excl"])
    return Decimal(0)


def _line(store: PrestaShopStore, item: Row, country: str) -> Row | None:
    product = store.get("products", int(item.get("id_product") or 0))
    if product is None:
        return None
    attribute = str(item.get("id_product_attribute") or "0")
    quantity = int(to_decimal(item.get("quantity") or 1))
    base = {"product_attribute": attribute, "country": country, "decimals": "6"}
    excl = compute_price(store, product, {**base, "use_tax": "0"})
    incl = compute_price(store, product, {**base, "use_tax": "1"})
    original = compute_price(store, product, {**base, "use_tax": "0", "use_reduction": "0"})
    name = product.get("name")
    title = name.get(1, "") if isinstance(name, dict) else str(name or "")
    label = _combination_label(store, attribute)
    return {
        "product_id": str(product["id"]),
        "product_attribute_id": attribute,
        "product_quantity": str(quantity),
        "product_name": f"{title} ({label})" if label else title,
        "product_reference": product.get("reference", ""),
        "product_ean13": product.get("ean13", ""),
        "product_isbn": product.get("isbn", ""),
        "product_upc": product.get("upc", ""),
        "product_mpn": product.get("mpn", ""),
        "product_price": _money(excl),
        "original_product_price": _money(original),
        "unit_price_tax_excl": _money(excl),
        "unit_price_tax_incl": _money(incl),
        "total_price_tax_excl": _money(round_half_up(excl * quantity, 6)),
        "total_price_tax_incl": _money(round_half_up(incl * quantity, 6)),
        "id_tax_rules_group": product.get("id_tax_rules_group", "0"),
        "id_customization": "0",
        "id_shop": "1",
        "id_warehouse": "0",
        "id_order_invoice": "0",
    }


def validate_order(store: PrestaShopStore, spec: ResourceSpec, posted: Row) -> int | None:
    """Create the order of ``posted['id_cart']``; None when the cart is unknown."""
    cart = store.get("carts", int(posted.get("id_cart") or 0)) if str(posted.get("id_cart") or "").isdigit() else None
    if cart is None:
        return None
    address = store.get("addresses", int(posted.get("id_address_delivery") or 0)) or {}
    country = str(address.get("id_country") or "")
    lines = [line for line in (_line(store, i, country) for i in (cart.get("associations") or {}).get("cart_rows") or []) if line]
    products_excl = sum((to_decimal(line["total_price_tax_excl"]) for line in lines), Decimal(0))
    products_incl = sum((to_decimal(line["total_price_tax_incl"]) for line in lines), Decimal(0))
    shipping = _shipping(store, str(posted.get("id_carrier") or ""))
    paid_excl = round_half_up(products_excl + shipping, 2)
    paid_incl = round_half_up(products_incl + shipping, 2)
    row: Row = {name: "" for name in spec.by_name if name != "id"}
    row.update({k: v for k, v in posted.items() if k in spec.by_name and k not in ("id", "current_state", "valid")})
    row.update(
        {
            "current_state": "0",
            "valid": "0",
            "reference": "".join(secrets.choice(string.ascii_uppercase) for _ in range(9)),
            "secure_key": secrets.token_hex(16),
            "id_shop": "1",
            "id_shop_group": "1",
            "round_mode": "2",
            "round_type": "2",
            "total_products": _money(products_excl),
            "total_products_wt": _money(products_incl),
            "total_shipping": _money(shipping),
            "total_shipping_tax_incl": _money(shipping),
            "total_shipping_tax_excl": _money(shipping),
            "carrier_tax_rate": "0.000",
            "total_paid": _money(paid_incl),
            "total_paid_tax_incl": _money(paid_incl),
            "total_paid_tax_excl": _money(paid_excl),
            "total_paid_real": "0.000000",
            "total_discounts": "0.000000",
            "total_discounts_tax_incl": "0.000000",
            "total_discounts_tax_excl": "0.000000",
            "total_wrapping": "0.000000",
            "total_wrapping_tax_incl": "0.000000",
            "total_wrapping_tax_excl": "0.000000",
            "invoice_date": "0000-00-00 00:00:00",
            "delivery_date": "0000-00-00 00:00:00",
        }
    )
    row["conversion_rate"] = f"{to_decimal(posted.get('conversion_rate') or 1):.6f}"
    for name, fspec in spec.by_name.items():
        if name in row and not isinstance(row[name], dict):
            row[name] = fspec.normalize(str(row[name]))
    id_order = store.insert("orders", row)
    order_rows: list[dict[str, Any]] = []
    for line in lines:
        id_detail = store.insert("order_details", {"id_order": str(id_order), **line})
        order_rows.append(
            {"id": str(id_detail), **{k: line[k] for k in line if k in _ORDER_ROW_FIELDS}}
        )
    stored = store.get("orders", id_order)
    assert stored is not None
    stored["associations"] = {"order_rows": order_rows}
    store.insert(
        "order_carriers",
        {
            "id_order": str(id_order),
            "id_carrier": str(posted.get("id_carrier") or "0"),
            "id_order_invoice": "0",
            "weight": "0.000000",
            "shipping_cost_tax_excl": _money(shipping),
            "shipping_cost_tax_incl": _money(shipping),
            "tracking_number": "",
        },
    )
    for line in lines:  # validateOrder takes the ordered quantities out of the available stock
        _decrement_stock(store, line["product_id"], line["product_attribute_id"], int(line["product_quantity"]))
    posted_total = round_half_up(to_decimal(posted.get("total_paid") or 0), 2)
    if posted_total == paid_incl:
        store.change_order_state(id_order, PS_OS_WS_PAYMENT)
    else:
        store.change_order_state(id_order, PS_OS_ERROR)
        store.update("orders", id_order, {"total_paid_real": _money(posted_total)})
    store.touch()
    return id_order


def _decrement_stock(store: PrestaShopStore, id_product: str, id_attribute: str, quantity: int) -> None:
    for stock in store.index("stock_availables", "id_product").get(id_product, []):
        if stock.get("id_product_attribute", "0") == id_attribute:
            remaining = int(stock.get("quantity") or 0) - quantity
            store.update("stock_availables", int(stock["id"]), {"quantity": str(remaining)})
            return


_ORDER_ROW_FIELDS = (
    "product_id",
    "product_attribute_id",
    "product_quantity",
    "product_name",
    "product_reference",
    "product_ean13",
    "product_isbn",
    "product_upc",
    "product_price",
    "id_customization",
    "unit_price_tax_incl",
    "unit_price_tax_excl",
)
