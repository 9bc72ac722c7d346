"""Pure mappers Dolibarr → PrestaShop: what the shop should show for one Dolibarr product.

Every function is pure (no I/O) and returns plain values in PrestaShop's terms, grouped by
*field group* (the unit of ownership): ``stock``, ``price``, ``data`` (reference, weight,
dimensions, barcodes), ``categories``, ``active`` and ``descriptions``. Dolibarr products are taken as the raw
JSON dicts of ``GET /products[?includestockdata=1]`` (they carry ``multiprices``,
``multilangs`` and ``stock_warehouse``, which the typed record leaves out).

Contracts:

* :func:`shop_quantity` — the quantity of one product/combination for one shop: the sum of the
  selected warehouses (all when ``warehouse_ids`` is None) of the physical stock, or of the
  virtual stock, minus ``buffer``, floored at 0 and rounded down to a whole unit. Dolibarr
  gives the virtual stock only as a total, so for a subset of warehouses the virtual figure is
  *selected physical + (virtual total − physical total)* (pending orders count once).
* :func:`shop_price` — PrestaShop ``price`` (tax excl., 6 decimals) from the single price or
  the price level ``level``; with ``source="TTC"`` the gross price is converted with the shop's
  tax rate, so the shop's tax-incl. price equals Dolibarr's to the cent. Raises
  :class:`MappingError` when the level is missing.
* :func:`data_fields` / :func:`active_fields` / :func:`description_fields` — the other groups.
* :func:`shop_values` — the same groups read from a PrestaShop product, in the same shape, so
  ``desired == current`` is the whole echo/no-op test.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from dolisync.clients.prestashop_records import Combination, Product
from dolisync.mapping.barcodes import BARCODE_TYPE_ISBN, BARCODE_TYPE_UPC
from dolisync.mapping.errors import MappingError
from dolisync.mapping.money import r6, to_decimal

__all__ = [
    "FIELD_GROUPS",
    "ReverseOptions",
    "active_fields",
    "barcode_fields",
    "category_fields",
    "combination_data_fields",
    "combination_values",
    "convert_length",
    "convert_weight",
    "data_fields",
    "description_fields",
    "doli_decimal",
    "shop_price",
    "shop_quantity",
    "shop_reference",
    "shop_values",
    "stock_figures",
]

FIELD_GROUPS = ("price", "data", "categories", "active", "descriptions")
"""Product field groups written by the product flow (stock has its own flow)."""

_WEIGHT_EXP = {"kg": 0, "g": -3, "mg": -6, "t": 3}
_WEIGHT_CODE = {0: "kg", -3: "g", -6: "mg", 3: "t", 99: "lb", 98: "oz"}
_LENGTH_EXP = {"m": 0, "dm": -1, "cm": -2, "mm": -3}
_LENGTH_CODE = {0: "m", -1: "dm", -2: "cm", -3: "mm", 99: "in", 98: "ft"}
_SIX = Decimal("0.000001")


@dataclass(frozen=True, slots=True)
class ReverseOptions:
    """Per-shop switches of the Dolibarr → shop mappers."""

    price_level: int | None = None
    price_source: str = "HT"
    stock_kind: str = "physical"
    stock_buffer: int = 0
    weight_unit: str = "kg"
    dimension_unit: str = "cm"
    languages: Mapping[int, str] = field(default_factory=dict)
    """PrestaShop language id -> ISO code (``fr``); labels go to every language."""
    ref_prefix: str = ""
    """The shop's ``ref_prefix``: stripped from Dolibarr refs (the shop → ERP flow adds it)."""


def doli_decimal(value: Any, default: Decimal = Decimal(0)) -> Decimal:
    """A Dolibarr number (``"20.00000000"``, ``20``, ``None``, ``""``) as Decimal."""
    if value is None or value == "":
        return default
    try:
        return to_decimal(value)
    except (InvalidOperation, ValueError, TypeError):
        return default


def stock_figures(product: Mapping[str, Any]) -> tuple[dict[int, Decimal], Decimal, Decimal]:
    """``(physical per warehouse, physical total, virtual total)`` of a product read with
    ``includestockdata=1`` (``stock_warehouse``), or from ``/products/{id}/stock``
    (``stock_warehouses``)."""
    raw = product.get("stock_warehouse") or product.get("stock_warehouses") or {}
    per: dict[int, Decimal] = {}
    if isinstance(raw, Mapping):
        for key, item in raw.items():
            value = item.get("real") if isinstance(item, Mapping) else item
            if str(key).lstrip("-").isdigit():
                per[int(key)] = doli_decimal(value)
    physical = doli_decimal(product.get("stock_reel"), sum(per.values(), Decimal(0)))
    virtual = doli_decimal(product.get("stock_theorique"), physical)
    return per, physical, virtual


def shop_quantity(
    per_warehouse: Mapping[int, Decimal],
    *,
    warehouse_ids: frozenset[int] | None,
    kind: str = "physical",
    physical_total: Decimal | None = None,
    virtual_total: Decimal | None = None,
    buffer: int = 0,
) -> int:
    """The shop quantity of one product/combination (see module docstring)."""
    if warehouse_ids is None:
        selected = sum(per_warehouse.values(), Decimal(0))
    else:
        selected = sum((qty for wid, qty in per_warehouse.items() if wid in warehouse_ids), Decimal(0))
    if kind == "virtual":
        physical = physical_total if physical_total is not None else sum(per_warehouse.values(), Decimal(0))
        virtual = virtual_total if virtual_total is not None else physical
        selected += virtual - physical
    quantity = int(selected.to_integral_value(rounding="ROUND_FLOOR")) - max(0, buffer)
    return max(0, quantity)


def _level_value(values: Any, level: int) -> Any:
    if isinstance(values, Mapping):
        return values.get(str(level), values.get(level))  # type: ignore[call-overload]
    if isinstance(values, list) and 0 < level <= len(values):
        return values[level - 1]
    return None


def shop_price(product: Mapping[str, Any], *, level: int | None, source: str, tax_rate: Decimal) -> Decimal:
    """PrestaShop ``price`` (tax excl., 6 decimals) of a Dolibarr product (see module docstring)."""
    source_id = str(product.get("id", "?"))
    if level is None:
        net, gross = product.get("price"), product.get("price_ttc")
    else:
        net = _level_value(product.get("multiprices"), level)
        gross = _level_value(product.get("multiprices_ttc"), level)
        if net in (None, "") and gross in (None, ""):
            raise MappingError("product", source_id, "multiprices", level,
                               f"Dolibarr has no price level {level} for this product: enable price levels "
                               "(PRODUIT_MULTIPRICES) and set the level, or clear price_level for the shop")
    if source == "TTC":
        gross_value = doli_decimal(gross)
        return r6(gross_value * Decimal(100) / (Decimal(100) + tax_rate))
    return r6(doli_decimal(net))


def convert_weight(value: Decimal, from_code: int, to_unit: str) -> Decimal:
    """Convert a Dolibarr weight (unit code ``weight_units``) into the shop's unit."""
    return _convert(value, from_code, to_unit, _WEIGHT_EXP, _WEIGHT_CODE, "weight")


def convert_length(value: Decimal, from_code: int, to_unit: str) -> Decimal:
    """Convert a Dolibarr length (unit code ``*_units``) into the shop's unit."""
    return _convert(value, from_code, to_unit, _LENGTH_EXP, _LENGTH_CODE, "dimension")


def _convert(value: Decimal, from_code: int, to_unit: str, exponents: Mapping[str, int],
             codes: Mapping[int, str], kind: str) -> Decimal:
    unit = to_unit.strip().lower().rstrip("s") if to_unit.strip().lower() not in ("lbs",) else "lb"
    source = codes.get(from_code)
    if source == unit:
        return value
    if source in exponents and unit in exponents:
        return value.scaleb(exponents[source] - exponents[unit])
    raise MappingError("product", "?", f"{kind}_units", from_code,
                       f"cannot convert Dolibarr {kind} unit {source or from_code} to the shop's {to_unit}: "
                       f"use the same {kind} unit on both sides")


def _measure(product: Mapping[str, Any], name: str, to_unit: str, *, weight: bool) -> Decimal:
    value = doli_decimal(product.get(name))
    code = int(doli_decimal(product.get(f"{name}_units")))
    converted = convert_weight(value, code, to_unit) if weight else convert_length(value, code, to_unit)
    return r6(converted)


def shop_reference(ref: str, options: ReverseOptions) -> str:
    """The shop reference of a Dolibarr ref: without the shop's ``ref_prefix`` (which the shop →
    ERP flow puts back), so the round trip keeps the Dolibarr ref unchanged."""
    prefix = options.ref_prefix
    return ref[len(prefix):] if prefix and ref.startswith(prefix) else ref


def barcode_fields(product: Mapping[str, Any]) -> dict[str, str]:
    """Dolibarr's barcode in PrestaShop's ``ean13``/``upc``/``isbn`` by its type (others empty)."""
    barcode = str(product.get("barcode") or "").strip()
    barcode_type = int(doli_decimal(product.get("barcode_type")))
    codes = {"ean13": "", "upc": "", "isbn": ""}
    if barcode:
        if barcode_type == BARCODE_TYPE_UPC:
            codes["upc"] = barcode
        elif barcode_type == BARCODE_TYPE_ISBN:
            codes["isbn"] = barcode
        else:
            codes["ean13"] = barcode
    return codes


def data_fields(product: Mapping[str, Any], options: ReverseOptions) -> dict[str, Any]:
    """Reference (without the shop's ref prefix), weight, dimensions and barcodes (group ``data``)."""
    codes = barcode_fields(product)
    try:
        return {
            "reference": shop_reference(str(product.get("ref") or ""), options),
            "weight": _measure(product, "weight", options.weight_unit, weight=True),
            "depth": _measure(product, "length", options.dimension_unit, weight=False),
            "width": _measure(product, "width", options.dimension_unit, weight=False),
            "height": _measure(product, "height", options.dimension_unit, weight=False),
            **codes,
        }
    except MappingError as error:
        raise MappingError("product", str(product.get("id", "?")), error.field, error.value, error.hint) from None


def combination_data_fields(child: Mapping[str, Any], *, base_weight: Decimal, default_reference: str,
                            current_reference: str, options: ReverseOptions) -> dict[str, Any]:
    """What a combination should carry from its Dolibarr product ``child`` (group ``data``).

    ``reference`` = the child's ref without the shop's prefix, except that a combination with no
    reference keeps none while the child has the catalog's default ref for it
    (``default_reference``, ``{parent ref}-{combination id}``); ``weight`` = the weight impact,
    the child's weight (converted to the shop unit) minus ``base_weight`` (its product's, already
    in the shop unit); ``ean13``/``upc``/``isbn`` = the child's barcode by type.
    """
    ref = str(child.get("ref") or "")
    reference = "" if not current_reference and ref == default_reference else shop_reference(ref, options)
    try:
        weight = _measure(child, "weight", options.weight_unit, weight=True)
    except MappingError as error:
        raise MappingError("product", str(child.get("id", "?")), error.field, error.value, error.hint) from None
    return {"reference": reference, "weight": r6(weight - base_weight), **barcode_fields(child)}


def combination_values(combination: Combination) -> dict[str, Any]:
    """The same fields read from a PrestaShop combination."""
    return {"reference": combination.reference, "weight": r6(combination.weight), "ean13": combination.ean13,
            "upc": combination.upc, "isbn": combination.isbn}


def category_fields(current: list[int], current_default: int, *, managed: set[int],
                    wanted: set[int]) -> dict[str, Any]:
    """A product's shop categories once Dolibarr's membership is applied (group ``categories``).

    ``managed`` are the shop categories linked to a Dolibarr category, ``wanted`` those of them
    whose Dolibarr twin holds the product. Categories not linked are kept as they are. The
    default category stays when it is still a category of the product; otherwise it becomes
    the first wanted one (else the first left). A product is never left in no category: when
    nothing would be left, its default category is kept.
    """
    kept = [cid for cid in current if cid not in managed or cid in wanted]
    categories = sorted(set(kept) | wanted)
    if not categories and current_default:
        categories = [current_default]
    default = current_default
    if default not in categories:
        default = min(wanted) if wanted else (categories[0] if categories else 0)
    return {"categories": categories, "id_category_default": default}


def active_fields(product: Mapping[str, Any]) -> dict[str, Any]:
    """On sale / off sale (group ``active``)."""
    return {"active": str(product.get("status", "0")) in ("1", "True", "true")}


def description_fields(product: Mapping[str, Any], options: ReverseOptions) -> dict[str, Any]:
    """Name and description per shop language (group ``descriptions``).

    A language with a Dolibarr translation (``multilangs`` keyed ``fr_FR``) gets it; the others
    get the main label/description.
    """
    label = str(product.get("label") or "")
    description = str(product.get("description") or "")
    translations = product.get("multilangs") or {}
    names: dict[int, str] = {}
    texts: dict[int, str] = {}
    for language_id, iso in sorted(options.languages.items()):
        own = _translation(translations, iso)
        names[language_id] = str(own.get("label") or label)
        texts[language_id] = str(own.get("description") or description)
    return {"name": names, "description": texts}


def _translation(translations: Any, iso: str) -> Mapping[str, Any]:
    if not isinstance(translations, Mapping):
        return {}
    for key, value in translations.items():
        if str(key).split("_", 1)[0].lower() == iso.lower() and isinstance(value, Mapping):
            return value
    return {}


def shop_values(product: Product, group: str, options: ReverseOptions) -> dict[str, Any]:
    """What a PrestaShop product currently has for ``group``, shaped like the mappers' output."""
    if group == "price":
        return {"price": r6(product.price)}
    if group == "active":
        return {"active": bool(product.active)}
    if group == "data":
        return {"reference": product.reference, "weight": r6(product.weight), "depth": r6(product.depth),
                "width": r6(product.width), "height": r6(product.height), "ean13": product.ean13,
                "upc": product.upc, "isbn": product.isbn}
    if group == "categories":
        return {"categories": sorted(set(product.associations.categories)),
                "id_category_default": product.id_category_default}
    if group == "descriptions":
        return {"name": {lid: str(product.name.get(lid, "")) for lid in sorted(options.languages)},
                "description": {lid: str(product.description.get(lid, "")) for lid in sorted(options.languages)}}
    raise ValueError(f"unknown field group {group!r}")
