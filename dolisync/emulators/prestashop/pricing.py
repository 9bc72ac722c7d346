"""``price[alias][param]=value`` virtual fields (a simplified ``Product::priceCalculation``).

Contract: for products and combinations, each alias yields ``%f``-formatted price =
(base price + combination impact) x (1 + tax rate of the product's tax rule group for the shop
country, when ``use_tax`` is on) minus the best matching specific price reduction (when
``use_reduction`` is on), rounded to ``decimals`` (default 2, PrestaShop's price precision).
"""

from __future__ import annotations

from decimal import Decimal

from dolisync.emulators.prestashop.render import OutField
from dolisync.emulators.prestashop.schema import ResourceSpec
from dolisync.emulators.prestashop.store import PrestaShopStore, Row
from dolisync.mapping.money import round_half_up, to_decimal

__all__ = ["price_fields", "compute_price"]


def _flag(options: dict[str, str], name: str, default: bool) -> bool:
    value = options.get(name)
    if value is None:
        return default
    return value not in ("0", "false", "")


def _tax_rate(store: PrestaShopStore, id_group: str, id_country: str) -> Decimal:
    for rule in store.rows("tax_rules"):
        if rule.get("id_tax_rules_group") == id_group and rule.get("id_country") == id_country:
            tax = store.get("taxes", int(rule.get("id_tax") or 0))
            if tax is not None:
                return to_decimal(tax.get("rate"))
    return Decimal(0)


def compute_price(store: PrestaShopStore, product: Row, options: dict[str, str]) -> Decimal:
    """Price of ``product`` for the given price parameters (see module docstring)."""
    price = to_decimal(product.get("price"))
    id_attribute = options.get("product_attribute")
    if id_attribute is None:  # priceCalculation falls back on the default combination
        id_attribute = str(product.get("cache_default_attribute") or "0")
    id_attribute = id_attribute or "0"
    if id_attribute != "0":
        combo = store.get("combinations", int(id_attribute)) if id_attribute.isdigit() else None
        if combo is not None:
            price += to_decimal(combo.get("price"))
    country = options.get("country") or store.configuration("PS_COUNTRY_DEFAULT", "8")
    if _flag(options, "use_tax", True):
        rate = _tax_rate(store, str(product.get("id_tax_rules_group") or ""), country)
        price = price * (1 + rate / 100)
    if _flag(options, "use_reduction", True):
        best = _best_specific_price(store, product, id_attribute)
        if best is not None:
            reduction = to_decimal(best.get("reduction"))
            if best.get("reduction_type") == "percentage":
                price = price * (1 - reduction)
            else:
                price = price - reduction
    decimals = int(options.get("decimals", "2") or 2)
    return round_half_up(price, decimals)


def _best_specific_price(store: PrestaShopStore, product: Row, id_attribute: str) -> Row | None:
    for sp in store.rows("specific_prices"):
        if sp.get("id_product") != str(product.get("id")):
            continue
        if sp.get("id_product_attribute", "0") not in ("0", "", id_attribute):
            continue
        if to_decimal(sp.get("from_quantity") or 1) > 1:
            continue
        if sp.get("id_customer", "0") not in ("0", "") or sp.get("id_cart", "0") not in ("0", ""):
            continue
        return sp
    return None


def price_fields(
    store: PrestaShopStore,
    spec: ResourceSpec,
    row: Row,
    params: list[tuple[str, str]],
    aliases: list[str],
    selected: list[str] | None,
) -> list[OutField]:
    """One OutField per requested alias (only when displayed)."""
    if spec.name not in ("products", "combinations") or not aliases:
        return []
    out: list[OutField] = []
    for alias in dict.fromkeys(aliases):
        if selected is not None and alias not in selected:
            continue
        options: dict[str, str] = {}
        prefix = f"price[{alias}]["
        for key, value in params:
            if key.startswith(prefix):
                options[key[len(prefix) :].rstrip("]")] = value
        if spec.name == "combinations":
            product = store.get("products", int(row.get("id_product") or 0)) or {}
            options.setdefault("product_attribute", str(row.get("id")))
        else:
            product = row
        out.append(OutField(alias, f"{compute_price(store, product, options):.6f}"))
    return out
