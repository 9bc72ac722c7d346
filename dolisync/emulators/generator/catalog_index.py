"""Read-only indexes over a shop's tables that the order factory prices carts from.

Contract: everything is parsed once from the dataset rows (strings as PrestaShop stores them)
into Decimal-typed records: what can be sold in which shop at which base price, which specific
price applies, and which taxes a tax rule group gives for an address (resolved exactly like
``TaxRulesTaxManager``: most specific rule first, behaviour of the first row, stop after a
"this tax only" row).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from dolisync.mapping.money import to_decimal
from dolisync.mapping.prestashop_money import SpecificPrice, Tax, TaxRule

__all__ = ["Sellable", "Catalog", "TaxResolver"]

Row = dict[str, Any]


@dataclass(slots=True)
class Sellable:
    """One product or combination that can be put in a cart."""

    id_product: int
    id_product_attribute: int
    prices: dict[int, Decimal]  # shop -> base price tax excl (default currency)
    attribute_price: Decimal
    id_tax_rules_group: int
    names: dict[int, str]  # language -> order line name (with the combination label)
    reference: str
    ean13: str
    isbn: str
    upc: str
    mpn: str
    weight: Decimal
    wholesale_price: Decimal


class TaxResolver:
    """Resolve ``(tax rules group, country, state)`` to a :class:`TaxRule` (cached)."""

    def __init__(self, tables: Mapping[str, list[Row]]) -> None:
        self._rates = {int(t["id"]): to_decimal(t["rate"]) for t in tables.get("taxes", [])}
        self._rules: dict[int, list[tuple[int, int, int, int, int, int]]] = {}
        for rule in tables.get("tax_rules", []):
            self._rules.setdefault(int(rule["id_tax_rules_group"] or 0), []).append((
                int(rule["id_country"] or 0), int(rule["id_state"] or 0), int(rule["id_tax"] or 0),
                int(rule["behavior"] or 0), int(rule["zipcode_from"] or 0), int(rule["zipcode_to"] or 0)))
        self._cache: dict[tuple[int, int, int], TaxRule] = {}

    def resolve(self, group: int, country: int, state: int) -> TaxRule:
        """The taxes of ``group`` for an address in ``country``/``state`` (no zip ranges used)."""
        key = (group, country, state)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        matching = [r for r in self._rules.get(group, []) if r[0] == country and r[1] in (0, state)]
        matching.sort(key=lambda r: (r[4], r[5], r[1], r[0]), reverse=True)
        taxes: list[Tax] = []
        behavior = 0
        for index, (_country, _state, id_tax, rule_behavior, _zf, _zt) in enumerate(matching):
            taxes.append(Tax(id_tax, self._rates.get(id_tax, Decimal(0))))
            if index == 0:
                behavior = rule_behavior
            if rule_behavior == 0:
                break
        result = TaxRule(tuple(taxes), behavior)
        self._cache[key] = result
        return result


class Catalog:
    """Sellables per shop and specific prices per product."""

    def __init__(self, sellables: list[Sellable], by_shop: dict[int, list[Sellable]],
                 specific: dict[int, list[Row]]) -> None:
        self.sellables = sellables
        self.by_shop = by_shop
        self._specific = specific

    @classmethod
    def from_tables(cls, tables: Mapping[str, list[Row]]) -> Catalog:
        """Index the active, orderable products and their combinations of every shop."""
        shop_ids = [int(s["id"]) for s in tables.get("shops", [])] or [1]
        value_names: dict[int, tuple[int, dict[int, str]]] = {
            int(v["id"]): (int(v["id_attribute_group"]), dict(v["name"]))
            for v in tables.get("product_option_values", [])
        }
        group_names = {int(g["id"]): dict(g["public_name"]) for g in tables.get("product_options", [])}
        combos_by_product: dict[int, list[Row]] = {}
        for combo in tables.get("combinations", []):
            combos_by_product.setdefault(int(combo["id_product"]), []).append(combo)
        sellables: list[Sellable] = []
        by_shop: dict[int, list[Sellable]] = {shop: [] for shop in shop_ids}
        for product in tables.get("products", []):
            if product.get("available_for_order", "1") != "1":
                continue
            pid = int(product["id"])
            shops = [int(s) for s in product.get("_shops", shop_ids)]
            overrides = product.get("_shop_fields", {})
            prices: dict[int, Decimal] = {}
            for shop in shops:
                fields = {**product, **overrides.get(shop, {})}
                if fields.get("active", "1") == "1":
                    prices[shop] = to_decimal(fields["price"])
            if not prices:
                continue
            names: dict[int, str] = dict(product["name"])
            common = dict(
                id_product=pid, prices=prices, id_tax_rules_group=int(product["id_tax_rules_group"] or 0),
                mpn=str(product.get("mpn", "")), wholesale_price=to_decimal(product["wholesale_price"]))
            combos = combos_by_product.get(pid, [])
            items: list[Sellable] = []
            if not combos:
                items.append(Sellable(
                    id_product_attribute=0, attribute_price=Decimal(0), names=names,
                    reference=str(product["reference"]), ean13=str(product["ean13"]),
                    isbn=str(product["isbn"]), upc=str(product["upc"]),
                    weight=to_decimal(product["weight"]), **common))
            for combo in combos:
                labels: dict[int, list[str]] = {lang: [] for lang in names}
                for item in combo.get("associations", {}).get("product_option_values", []):
                    group, value = value_names.get(int(item["id"]), (0, {}))
                    for lang in names:
                        labels[lang].append(f"{group_names.get(group, {}).get(lang, '')}: {value.get(lang, '')}")
                combo_names = {lang: f"{names[lang]} ({' - '.join(labels[lang])})" for lang in names}
                items.append(Sellable(
                    id_product_attribute=int(combo["id"]), attribute_price=to_decimal(combo["price"]),
                    names=combo_names, reference=str(combo["reference"] or product["reference"]),
                    ean13=str(combo["ean13"]), isbn=str(combo["isbn"]), upc=str(combo["upc"]),
                    weight=to_decimal(product["weight"]) + to_decimal(combo["weight"]), **common))
            sellables.extend(items)
            for shop in prices:
                by_shop.setdefault(shop, []).extend(items)
        specific: dict[int, list[Row]] = {}
        for sp in tables.get("specific_prices", []):
            specific.setdefault(int(sp["id_product"]), []).append(sp)
        return cls(sellables, by_shop, specific)

    def specific_price(
        self, item: Sellable, *, shop: int, currency: int, country: int, group: int, quantity: int
    ) -> SpecificPrice | None:
        """The specific price PrestaShop would apply (most specific match wins), or None."""
        best: tuple[tuple[int, ...], Row] | None = None
        for sp in self._specific.get(item.id_product, []):
            attr = int(sp["id_product_attribute"] or 0)
            checks = (
                (attr, item.id_product_attribute), (int(sp["id_shop"] or 0), shop),
                (int(sp["id_currency"] or 0), currency), (int(sp["id_country"] or 0), country),
                (int(sp["id_group"] or 0), group),
            )
            if any(value not in (0, wanted) for value, wanted in checks):
                continue
            if int(sp["id_customer"] or 0) or int(sp["id_cart"] or 0):
                continue
            if int(sp["from_quantity"] or 1) > quantity:
                continue
            score = tuple(1 if value else 0 for value, _w in checks) + (int(sp["from_quantity"] or 1),)
            if best is None or score > best[0]:
                best = (score, sp)
        if best is None:
            return None
        sp = best[1]
        return SpecificPrice(
            reduction_type=str(sp["reduction_type"]), reduction=to_decimal(sp["reduction"]),
            reduction_tax=sp["reduction_tax"] == "1", price=to_decimal(sp["price"]),
            id_currency=int(sp["id_currency"] or 0), id_product_attribute=int(sp["id_product_attribute"] or 0))
