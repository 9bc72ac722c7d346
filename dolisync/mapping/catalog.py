"""Catalog mapping, PrestaShop → Dolibarr: categories, products and combinations.

Pure functions from typed PrestaShop records (:mod:`dolisync.clients.prestashop_records`) plus
:class:`CatalogOptions` and already-resolved Dolibarr ids to Dolibarr request bodies. No I/O.
Field by field rules are written up in ``docs/mapping.md``; the important contracts:

* Every body carries ``ref_ext`` = the stable external key given by the caller (the binder's),
  so an object created before a crash is found again by a lookup, never created twice.
* Money is ``Decimal`` and sent as plain decimal strings (``"19.9"``): HT prices rounded to 5
  decimals (Dolibarr's unit price precision), TTC prices to 2 (what the shop displays).
* With ``price_base == "TTC"`` the gross price goes in ``price_ttc`` (Dolibarr ignores
  ``price`` then, API.md §3.2).
* Bad input raises :class:`~dolisync.mapping.errors.MappingError` (one item, with a hint).
  Barcode problems do not: they are returned in ``problems`` and the code is not sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal, Protocol

from dolisync.clients.prestashop_records import Category, Combination, Product, ProductOption, ProductOptionValue
from dolisync.mapping.barcodes import choose_barcode
from dolisync.mapping.errors import MappingError
from dolisync.mapping.money import r2, r5
from dolisync.mapping.taxes import ProductVat

__all__ = [
    "CatalogOptions",
    "Referenced",
    "MappedObject",
    "VariantMapping",
    "linked_category_ids",
    "DOLIBARR_MAX_TEXT_BYTES",
    "DOLIBARR_MAX_REF",
    "DOLIBARR_MAX_LABEL",
    "WEIGHT_UNITS",
    "LENGTH_UNITS",
    "decimal_text",
    "text_in",
    "product_ref",
    "combination_ref",
    "combination_label_suffix",
    "map_product",
    "map_combination_product",
    "map_variant",
    "map_attribute",
    "map_attribute_value",
    "CategoryTree",
    "map_category",
    "shop_root_category",
]

# llx_product.description / llx_categorie.description are TEXT columns on MySQL/MariaDB.
DOLIBARR_MAX_TEXT_BYTES = 65535
DOLIBARR_MAX_REF = 128  # llx_product.ref varchar(128)
DOLIBARR_MAX_LABEL = 255  # llx_product.label varchar(255)
DOLIBARR_MAX_CATEGORY_LABEL = 180  # llx_categorie.label varchar(180)

# PrestaShop PS_WEIGHT_UNIT / PS_DIMENSION_UNIT -> Dolibarr unit scale (llx_c_units).
WEIGHT_UNITS: dict[str, int] = {"kg": 0, "g": -3, "mg": -6, "t": 3, "lb": 99, "lbs": 99, "oz": 98}
LENGTH_UNITS: dict[str, int] = {"m": 0, "dm": -1, "cm": -2, "mm": -3, "in": 99, "inch": 99, "ft": 98}


@dataclass(frozen=True, slots=True)
class CatalogOptions:
    """Per-shop switches the catalog mappers need (built by the flow from the shop config)."""

    shop_name: str = "shop"
    language_id: int = 1
    fallback_language_id: int | None = None
    price_base: Literal["HT", "TTC"] = "HT"
    ref_prefix: str = ""
    matching: Literal["external_key", "ref"] = "external_key"
    sync_descriptions: bool = True
    weight_unit: str = "kg"
    dimension_unit: str = "cm"
    max_text_bytes: int = DOLIBARR_MAX_TEXT_BYTES


@dataclass(frozen=True, slots=True)
class MappedObject:
    """A Dolibarr body, the body fields sent only on create, and non-blocking problems."""

    body: dict[str, Any]
    create_only: dict[str, Any] = field(default_factory=dict)
    problems: tuple[str, ...] = ()

    def create_body(self) -> dict[str, Any]:
        """``body`` plus the create-only fields."""
        return {**self.body, **self.create_only}


@dataclass(frozen=True, slots=True)
class VariantMapping:
    """``POST /products/{parent}/variants`` body and the ``PUT`` body for the child product.

    Dolibarr copies the parent's ``ref_ext`` onto the child: ``child_body`` gives the child its
    own key (and the combination's barcode), so lookups by key never confuse the two.
    """

    body: dict[str, Any]
    child_body: dict[str, Any]
    problems: tuple[str, ...] = ()


def decimal_text(value: Decimal) -> str:
    """A Decimal as plain text without exponent or useless zeros: ``20.50000`` -> ``"20.5"``."""
    if value.is_zero():
        return "0"
    text = format(value.normalize(), "f")
    return text


def text_in(values: Mapping[int, str], options: CatalogOptions) -> str:
    """The text in the shop's language, else the fallback language, else any non-empty one."""
    for key in (options.language_id, options.fallback_language_id, 0):
        if key is not None and values.get(key):
            return values[key].strip()
    return next((text.strip() for text in values.values() if text and text.strip()), "")


def _check_text_size(entity: str, source_id: int, field_name: str, text: str, options: CatalogOptions) -> None:
    size = len(text.encode("utf-8"))
    if size > options.max_text_bytes:
        raise MappingError(
            entity, source_id, field_name, text,
            f"{field_name} is {size:,} bytes; Dolibarr stores at most {options.max_text_bytes:,} bytes "
            f"(a TEXT column): shorten it in PrestaShop (language {options.language_id}), or set "
            "sync_descriptions = false for this shop",
        )


class Referenced(Protocol):
    """What :func:`product_ref` reads: a :class:`Product`, or any summary of one."""

    @property
    def id(self) -> int: ...

    @property
    def reference(self) -> str: ...


def product_ref(product: Referenced, options: CatalogOptions) -> str:
    """Dolibarr ``ref``: prefix + PrestaShop reference.

    An empty reference is a :class:`MappingError` in ``ref`` matching mode (there is nothing to
    match on); otherwise it falls back to ``{prefix}PS{id}``.
    """
    reference = product.reference.strip()
    if not reference:
        if options.matching == "ref":
            raise MappingError(
                "products", product.id, "reference", product.reference,
                "matching mode is 'ref' but the product has no reference: give it a unique reference "
                "in PrestaShop, or use matching = 'external_key' for this shop",
            )
        reference = f"PS{product.id}"
    return _checked_ref("products", product.id, options.ref_prefix + reference)


def _checked_ref(entity: str, source_id: int, ref: str) -> str:
    if len(ref) > DOLIBARR_MAX_REF:
        raise MappingError(entity, source_id, "reference", ref,
                           f"the Dolibarr ref would be {len(ref)} characters; Dolibarr allows {DOLIBARR_MAX_REF}: "
                           "shorten the reference or the ref_prefix")
    if "/" in ref:
        raise MappingError(entity, source_id, "reference", ref,
                           "Dolibarr cannot address a ref containing '/': change the reference in PrestaShop")
    return ref


def combination_ref(combination: Combination, parent_ref: str, options: CatalogOptions) -> str:
    """Ref of a combination: its own reference (prefixed), else ``{product ref}-{id_product_attribute}``."""
    own = combination.reference.strip()
    if own:
        return _checked_ref("combinations", combination.id, options.ref_prefix + own)
    if options.matching == "ref":
        raise MappingError(
            "combinations", combination.id, "reference", combination.reference,
            "matching mode is 'ref' but the combination has no reference: give it a unique reference "
            "in PrestaShop, or use matching = 'external_key' for this shop",
        )
    return _checked_ref("combinations", combination.id, f"{parent_ref}-{combination.id}")


def _label(product: Product, options: CatalogOptions) -> str:
    label = text_in(product.name, options)
    if not label:
        raise MappingError("products", product.id, "name", product.name,
                           f"the product has no name in language {options.language_id}: give it a name in PrestaShop")
    return label[:DOLIBARR_MAX_LABEL]


def _description(product: Product, options: CatalogOptions) -> str:
    text = text_in(product.description, options) or text_in(product.description_short, options)
    _check_text_size("products", product.id, "description", text, options)
    return text


def _price_fields(price_ht: Decimal, vat: ProductVat, options: CatalogOptions) -> dict[str, Any]:
    if options.price_base == "TTC":
        gross = r2(price_ht * (Decimal(100) + vat.total_rate) / Decimal(100))
        return {"price_ttc": decimal_text(gross), "price_base_type": "TTC"}
    return {"price": decimal_text(r5(price_ht)), "price_base_type": "HT"}


def _vat_fields(vat: ProductVat) -> dict[str, Any]:
    body: dict[str, Any] = {"tva_tx": decimal_text(vat.tva_tx)}
    if vat.vat_code:
        body["default_vat_code"] = vat.vat_code
    if not vat.localtax1_tx.is_zero():
        body["localtax1_tx"] = decimal_text(vat.localtax1_tx)
        body["localtax1_type"] = vat.localtax1_type
    if not vat.localtax2_tx.is_zero():
        body["localtax2_tx"] = decimal_text(vat.localtax2_tx)
        body["localtax2_type"] = vat.localtax2_type
    return body


def _unit(table: Mapping[str, int], unit: str, kind: str) -> int:
    key = unit.strip().lower()
    if key not in table:
        raise MappingError("configuration", "shop", f"{kind}_unit", unit,
                           f"unknown {kind} unit {unit!r}: use one of {', '.join(sorted(table))}")
    return table[key]


def _measure_fields(weight: Decimal, product: Product, options: CatalogOptions) -> dict[str, Any]:
    length_unit = _unit(LENGTH_UNITS, options.dimension_unit, "dimension")
    return {
        "weight": decimal_text(weight),
        "weight_units": _unit(WEIGHT_UNITS, options.weight_unit, "weight"),
        "length": decimal_text(product.depth),
        "length_units": length_unit,
        "width": decimal_text(product.width),
        "width_units": length_unit,
        "height": decimal_text(product.height),
        "height_units": length_unit,
    }


def _barcode_fields(ean13: str, upc: str, isbn: str) -> tuple[dict[str, Any], tuple[str, ...]]:
    choice = choose_barcode(ean13, upc, isbn)
    if choice.value is None:
        return {"barcode": "", "barcode_type": 0}, choice.problems
    return {"barcode": choice.value, "barcode_type": choice.barcode_type}, choice.problems


def map_product(
    product: Product,
    *,
    options: CatalogOptions,
    vat: ProductVat,
    external_key: str,
    extrafields: Mapping[str, str] | None = None,
) -> MappedObject:
    """Body of ``POST``/``PUT /products`` for a PrestaShop product (simple or variant parent).

    ``extrafields`` maps Dolibarr extrafield names (features) to values; sent in
    ``array_options`` as ``options_<name>``. Virtual products become services (``type`` 1).
    """
    body: dict[str, Any] = {
        "ref": product_ref(product, options),
        "label": _label(product, options),
        "type": 1 if product.is_virtual or product.type == "virtual" else 0,
        "ref_ext": external_key,
        "status": 1 if product.active else 0,
        "cost_price": decimal_text(r5(product.wholesale_price)),
        **_vat_fields(vat),
        **_price_fields(product.price, vat, options),
        **_measure_fields(product.weight, product, options),
    }
    create_only: dict[str, Any] = {"status_buy": 1}
    if options.sync_descriptions:
        body["description"] = _description(product, options)
    else:  # "do not sync descriptions": written once, when the product is created
        text = text_in(product.description, options) or text_in(product.description_short, options)
        if len(text.encode("utf-8")) <= options.max_text_bytes:
            create_only["description"] = text
    barcode, problems = _barcode_fields(product.ean13, product.upc, product.isbn)
    body.update(barcode)
    if extrafields:
        body["array_options"] = {f"options_{name}": value for name, value in sorted(extrafields.items())}
    return MappedObject(body=body, create_only=create_only, problems=problems)


def combination_label_suffix(
    combination: Combination,
    values: Mapping[int, ProductOptionValue],
    groups: Mapping[int, ProductOption],
    options: CatalogOptions,
) -> str:
    """``"Size: S, Color: Blue"`` in the shop language (groups in PrestaShop position order)."""
    parts: list[tuple[int, int, str]] = []
    for value_id in combination.associations.product_option_values:
        value = values.get(value_id)
        if value is None:
            raise MappingError("combinations", combination.id, "product_option_values", value_id,
                               f"attribute value {value_id} does not exist in PrestaShop: fix the combination")
        group = groups.get(value.id_attribute_group)
        group_name = text_in(group.public_name or group.name, options) if group else ""
        position = group.position if group else 0
        parts.append((position, value.id_attribute_group, f"{group_name}: {text_in(value.name, options)}"))
    return ", ".join(text for _, _, text in sorted(parts))


def map_combination_product(
    combination: Combination,
    product: Product,
    *,
    options: CatalogOptions,
    vat: ProductVat,
    external_key: str,
    label_suffix: str,
    extrafields: Mapping[str, str] | None = None,
) -> MappedObject:
    """A combination as a separate Dolibarr product (``combinations = "products"`` mode).

    Price and weight = product's + the combination's impacts; barcode = the combination's own;
    cost price = the combination's wholesale price when set, else the product's.
    """
    parent = map_product(product, options=options, vat=vat, external_key=external_key, extrafields=extrafields)
    body = dict(parent.body)
    body["ref"] = combination_ref(combination, body["ref"], options)
    base_label = body["label"]
    body["label"] = (f"{base_label} - {label_suffix}" if label_suffix else base_label)[:DOLIBARR_MAX_LABEL]
    body.update(_price_fields(product.price + combination.price, vat, options))
    body.update(_measure_fields(product.weight + combination.weight, product, options))
    cost = combination.wholesale_price if not combination.wholesale_price.is_zero() else product.wholesale_price
    body["cost_price"] = decimal_text(r5(cost))
    barcode, problems = _barcode_fields(combination.ean13, combination.upc, combination.isbn)
    body.update(barcode)
    return MappedObject(body=body, create_only=dict(parent.create_only), problems=problems)


def map_variant(
    combination: Combination,
    *,
    parent_ref: str,
    options: CatalogOptions,
    vat: ProductVat,
    attribute_ids: Mapping[int, int],
    value_ids: Mapping[int, int],
    values: Mapping[int, ProductOptionValue],
    external_key: str,
) -> VariantMapping:
    """Body of ``POST /products/{parent}/variants`` for a combination (``variants`` mode).

    ``attribute_ids``/``value_ids`` map PrestaShop attribute groups/values to Dolibarr
    attribute/value ids (created beforehand). The price impact is expressed in the parent's
    price base: tax included when ``price_base`` is TTC (API.md §3.3).
    """
    features: dict[str, str] = {}
    for value_id in combination.associations.product_option_values:
        value = values.get(value_id)
        if value is None or value_id not in value_ids or value.id_attribute_group not in attribute_ids:
            raise MappingError("combinations", combination.id, "product_option_values", value_id,
                               f"attribute value {value_id} is not mapped to a Dolibarr attribute value: "
                               "sync the attribute groups first (entity 'attributes')")
        features[str(attribute_ids[value.id_attribute_group])] = str(value_ids[value_id])
    if not features:
        raise MappingError("combinations", combination.id, "product_option_values", [],
                           "the combination has no attribute value: fix it in PrestaShop")
    impact = combination.price
    if options.price_base == "TTC":
        impact = r2(impact * (Decimal(100) + vat.total_rate) / Decimal(100))
    else:
        impact = r5(impact)
    body = {
        "features": dict(sorted(features.items())),
        "price_impact": decimal_text(impact),
        "price_impact_is_percent": False,
        "weight_impact": decimal_text(combination.weight),
        "reference": combination_ref(combination, parent_ref, options),
        "ref_ext": external_key,
    }
    barcode, problems = _barcode_fields(combination.ean13, combination.upc, combination.isbn)
    child = {"ref_ext": external_key, **barcode}
    return VariantMapping(body=body, child_body=child, problems=problems)


def map_attribute(group: ProductOption, *, options: CatalogOptions, external_key: str) -> dict[str, Any]:
    """Body of ``POST /products/attributes`` for a PrestaShop attribute group."""
    label = text_in(group.public_name, options) or text_in(group.name, options)
    if not label:
        raise MappingError("product_options", group.id, "name", group.name, "the attribute group has no name")
    return {"ref": f"{options.ref_prefix}PSATTR{group.id}", "label": label, "ref_ext": external_key}


def map_attribute_value(value: ProductOptionValue, *, options: CatalogOptions) -> dict[str, Any]:
    """Body of ``POST /products/attributes/{id}/values`` for a PrestaShop attribute value."""
    name = text_in(value.name, options)
    if not name:
        raise MappingError("product_option_values", value.id, "name", value.name, "the attribute value has no name")
    return {"ref": f"PSV{value.id}", "value": name}


# --- categories ---------------------------------------------------------------------------


class CategoryTree:
    """The categories of one shop, under its home category (``shops.id_category``).

    PrestaShop's Root (``is_root_category`` / id 1) and the shop's home are not copied as such:
    the home is represented in Dolibarr by one container category labelled with the shop name
    (:func:`shop_root_category`), so two shops' trees never collide.
    """

    def __init__(self, categories: Iterable[Category], home_id: int) -> None:
        self.home_id = home_id
        self.by_id: dict[int, Category] = {c.id: c for c in categories}
        children: dict[int, list[int]] = {}
        for category in self.by_id.values():
            children.setdefault(category.id_parent, []).append(category.id)
        self.children = {parent: sorted(ids) for parent, ids in children.items()}

    def ordered(self) -> list[Category]:
        """Categories under the home, parents before children (breadth first, by id)."""
        result: list[Category] = []
        queue = list(self.children.get(self.home_id, []))
        seen: set[int] = {self.home_id}
        while queue:
            current = queue.pop(0)
            if current in seen or current not in self.by_id:
                continue
            seen.add(current)
            result.append(self.by_id[current])
            queue.extend(self.children.get(current, []))
        return result

    def in_shop_tree(self, category_id: int) -> bool:
        """True when ``category_id`` is strictly under the home category."""
        seen: set[int] = set()
        current = self.by_id.get(category_id)
        while current is not None and current.id not in seen:
            seen.add(current.id)
            if current.id_parent == self.home_id:
                return True
            current = self.by_id.get(current.id_parent)
        return False

    def label_of(self, category: Category, options: CatalogOptions) -> str:
        """Label in the shop language; a sibling with the same label makes it ``"label (id)"``.

        Dolibarr refuses two categories with the same label under one parent (500), PrestaShop
        allows it: the lowest id keeps the plain label, the others get their id appended.
        """
        label = text_in(category.name, options) or f"Category {category.id}"
        label = label[: DOLIBARR_MAX_CATEGORY_LABEL - 12]
        for sibling_id in self.children.get(category.id_parent, []):
            if sibling_id >= category.id:
                break
            sibling = self.by_id[sibling_id]
            if (text_in(sibling.name, options) or "").strip().casefold() == label.casefold():
                return f"{label} ({category.id})"
        return label


def shop_root_category(options: CatalogOptions, external_key: str) -> dict[str, Any]:
    """Body of the container category standing for the shop's home in Dolibarr."""
    return {"label": options.shop_name[:DOLIBARR_MAX_CATEGORY_LABEL], "type": "product", "ref_ext": external_key,
            "description": f"PrestaShop shop {options.shop_name} (dolisync)"}


def map_category(
    category: Category,
    *,
    tree: CategoryTree,
    options: CatalogOptions,
    parent_target_id: int,
    external_key: str,
) -> dict[str, Any]:
    """Body of ``POST``/``PUT /categories`` (``ref_ext`` always sent: a PUT without it clears it)."""
    body: dict[str, Any] = {
        "label": tree.label_of(category, options),
        "type": "product",
        "fk_parent": parent_target_id,
        "ref_ext": external_key,
    }
    if options.sync_descriptions:
        description = text_in(category.description, options)
        _check_text_size("categories", category.id, "description", description, options)
        body["description"] = description
    return body


def linked_category_ids(product: Product, tree: CategoryTree) -> list[int]:
    """The product's PrestaShop categories that belong to the shop tree (home and root excluded)."""
    return sorted({cid for cid in product.associations.categories if tree.in_shop_tree(cid)})

