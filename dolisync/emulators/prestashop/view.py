"""Turn stored rows into the values PrestaShop outputs (computed fields, live associations).

Contract: :func:`field_value` and :func:`association_items` read the store only; they apply the
shop context (``_shop_fields`` overrides) and compute what PrestaShop computes with getters:
product cover/default combination/stock rows/combinations/option values, order shipping number.
A value is ``str``, ``None`` (PHP null: rendered empty in XML, ``null`` in JSON lists) or, for a
multilang field, ``dict[int, str]``.
"""

from __future__ import annotations

from typing import Any

from dolisync.emulators.prestashop.schema import AssocSpec, FieldSpec, ResourceSpec
from dolisync.emulators.prestashop.store import PrestaShopStore, Row

__all__ = ["field_value", "association_items", "row_in_shop", "JSON_INT_FIELDS", "ECHO_INT_FIELDS"]

# Computed fields whose getter returns a PHP int (JSON number instead of string).
# Values a write echo holds as PHP ints (set by the class code, not from the XML).
ECHO_INT_FIELDS: frozenset[tuple[str, str]] = frozenset(
    {
        ("customers", "id_default_group"),
        ("customers", "id_shop"),
        ("order_histories", "id_order_state"),
    }
)
JSON_INT_FIELDS: frozenset[tuple[str, str]] = frozenset(
    {
        ("products", "id_default_combination"),
        ("carriers", "id_tax_rules_group"),
        ("carriers", "shipping_method"),
    }
)

_NULL_VIRTUALS: frozenset[tuple[str, str]] = frozenset({("products", "new")})


def row_in_shop(row: Row, id_shop: int | None) -> bool:
    """True when ``row`` is associated with shop ``id_shop`` (None = every shop)."""
    shops = row.get("_shops")
    if id_shop is None or shops is None:
        return True
    return id_shop in {int(s) for s in shops}


def _shop_override(row: Row, id_shop: int | None, name: str) -> Any:
    overrides = row.get("_shop_fields")
    if not overrides or id_shop is None:
        return None
    per_shop = overrides.get(id_shop) or overrides.get(str(id_shop))
    if not per_shop or name not in per_shop:
        return None
    value = per_shop[name]
    if isinstance(value, dict):
        return {int(k): ("" if v is None else str(v)) for k, v in value.items()}
    return "" if value is None else str(value)


def field_value(
    store: PrestaShopStore, spec: ResourceSpec, row: Row, field: FieldSpec, id_shop: int | None
) -> str | None | dict[int, str]:
    """The output value of ``field`` for ``row`` in the shop context."""
    name = field.name
    key = (spec.name, name)
    if key in _NULL_VIRTUALS and not row.get(name):
        return None
    override = _shop_override(row, id_shop, name) if field.shop_specific or field.multilang else None
    if override is not None:
        return override
    if spec.name == "products":
        computed = _product_computed(store, row, name)
        if computed is not None:
            return computed
    elif spec.name == "orders" and name == "shipping_number":
        return _order_shipping_number(store, row)
    value = row.get(name)
    if field.multilang:
        if isinstance(value, dict):
            return value
        text = "" if value is None else str(value)
        return {lang: text for lang in store.active_language_ids()}
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def _product_computed(store: PrestaShopStore, row: Row, name: str) -> str | None:
    if name == "id_default_combination" and "id_default_combination" not in row:
        combos = _product_combinations(store, row)
        default = next((c for c in combos if c.get("default_on") == "1"), None)  # Product::getDefaultAttribute
        if default is None and combos:
            default = min(combos, key=lambda c: int(c["id"]))
        return str(default["id"]) if default else "0"
    if name == "id_default_image" and "id_default_image" not in row:
        images = (row.get("associations") or {}).get("images") or []
        return str(images[0]["id"]) if images else ""
    if name == "type" and not row.get("type"):
        if row.get("cache_is_pack") == "1" or row.get("product_type") == "pack":
            return "pack"
        if row.get("is_virtual") == "1" or row.get("product_type") == "virtual":
            return "virtual"
        return "simple"
    return None


def _order_shipping_number(store: PrestaShopStore, row: Row) -> str:
    for carrier in store.index("order_carriers", "id_order").get(str(row.get("id")), []):
        return str(carrier.get("tracking_number") or "")
    return str(row.get("shipping_number") or "")


def _product_combinations(store: PrestaShopStore, row: Row) -> list[Row]:
    return store.index("combinations", "id_product").get(str(row.get("id")), [])


def association_items(
    store: PrestaShopStore, spec: ResourceSpec, row: Row, assoc: AssocSpec, id_shop: int | None
) -> list[dict[str, Any]]:
    """Items of association ``assoc`` of ``row`` (live for product combinations/stock/options)."""
    if spec.name == "products":
        captured = [str(i.get("id")) for i in (row.get("associations") or {}).get(assoc.name) or []]
        if assoc.name == "combinations":
            live = {str(c["id"]): c for c in _product_combinations(store, row)}
            return [{"id": i} for i in _ordered(captured, live)]
        if assoc.name == "stock_availables":
            id_product = str(row.get("id"))
            stock = {
                str(s["id"]): s
                for s in store.index("stock_availables", "id_product").get(id_product, [])
                if _stock_in_shop(s, id_shop)
            }
            return [
                {"id": i, "id_product_attribute": stock[i].get("id_product_attribute", "0")}
                for i in _ordered(captured, stock)
            ]
        if assoc.name == "product_option_values":
            seen: list[str] = []
            for combo in _product_combinations(store, row):
                for item in (combo.get("associations") or {}).get("product_option_values") or []:
                    value = str(item.get("id"))
                    if value not in seen:
                        seen.append(value)
            if seen:
                return [{"id": v} for v in seen]
    items = (row.get("associations") or {}).get(assoc.name) or []
    return [dict(item) for item in items]


def _ordered(captured: list[str], live: dict[str, Row]) -> list[str]:
    """Live ids, in the recorded order first (SQL order of the shop), new ones after."""
    kept = [i for i in captured if i in live]
    return kept + [i for i in live if i not in kept]


def _stock_in_shop(stock: Row, id_shop: int | None) -> bool:
    if id_shop is None:
        return True
    return stock.get("id_shop") in (str(id_shop), "0", "", None)
