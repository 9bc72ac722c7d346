"""Typed PrestaShop 8 Webservice records, parsed at the edge of :class:`PrestaShopClient`.

Contract:

* One frozen pydantic model per resource the sync reads, field names as the Webservice
  prints them (``reference/prestashop/resources.json``). Unknown fields are ignored.
* Input is the JSON item (``{"id": 1, "price": "23.900000", ...}``) of a GET, a list with
  ``display=full`` or a write echo. Every field has a default because PrestaShop **drops
  top-level ``""``/``"0"``/null fields of single-object JSON answers** (WEBSERVICE.md section 9).
* Money is :class:`~decimal.Decimal` (never float); ids and flags are ``int``/``bool``;
  multilang texts are ``dict[int, str]`` (see :mod:`dolisync.clients.fields` for a plain string
  returned for one language: pass ``context={"language_id": N}`` to key it properly);
  dates are naive ``datetime`` in the shop's timezone (``None`` for ``0000-00-00``).
* Associations become typed lists: ``product.associations.categories == [2, 3, 4]``.
* Parse with ``Product.model_validate(item)`` or :func:`parse_ps_record` (which names the
  resource and id in the error).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from dolisync.clients.errors import MalformedResponse
from dolisync.clients.fields import (
    Flag,
    IdList,
    Int,
    Money,
    Multilang,
    PsDate,
    Text,
    parse_int,
)
from dolisync.clients.prestashop_base import PsRecord, association_items
from dolisync.clients.prestashop_order_records import (
    Address,
    Customer,
    CustomerAssociations,
    Order,
    OrderAssociations,
    OrderCarrier,
    OrderCartRule,
    OrderDetail,
    OrderDetailAssociations,
    OrderHistory,
    OrderInvoice,
    OrderPayment,
    OrderRow,
    OrderState,
)

__all__ = [
    "PsRecord",
    "Category",
    "FeatureLink",
    "StockAvailableLink",
    "BundleItem",
    "ProductAssociations",
    "Product",
    "CombinationAssociations",
    "Combination",
    "ProductOption",
    "ProductOptionValue",
    "ProductFeature",
    "ProductFeatureValue",
    "StockAvailable",
    "SpecificPrice",
    "Tax",
    "TaxRule",
    "TaxRuleGroup",
    "Language",
    "Shop",
    "Currency",
    "Carrier",
    "Customer",
    "Address",
    "Country",
    "State",
    "CustomerAssociations",
    "OrderAssociations",
    "OrderDetailAssociations",
    "OrderRow",
    "Order",
    "OrderDetail",
    "OrderCartRule",
    "OrderPayment",
    "OrderState",
    "OrderHistory",
    "OrderInvoice",
    "OrderCarrier",
    "PS_RECORD_TYPES",
    "parse_ps_record",
]

# --- catalog -----------------------------------------------------------------------------


class CategoryAssociations(BaseModel):
    """``categories`` (children) and ``products`` of a category, as ids."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    categories: IdList = Field(default_factory=list)
    products: IdList = Field(default_factory=list)


class Category(PsRecord):
    """``categories``: tree node with multilang texts (``is_root_category`` = shop root)."""

    id_parent: Int = 0
    level_depth: Int = 0
    active: Flag = False
    id_shop_default: Int = 0
    is_root_category: Flag = False
    position: Int = 0
    date_add: PsDate = None
    date_upd: PsDate = None
    name: Multilang = Field(default_factory=dict)
    link_rewrite: Multilang = Field(default_factory=dict)
    description: Multilang = Field(default_factory=dict)
    additional_description: Multilang = Field(default_factory=dict)
    meta_title: Multilang = Field(default_factory=dict)
    meta_description: Multilang = Field(default_factory=dict)
    associations: CategoryAssociations = Field(default_factory=CategoryAssociations)


class FeatureLink(BaseModel):
    """A product's feature value: ``id`` = feature (product_features), ``id_feature_value``."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: Int = 0
    id_feature_value: Int = 0


class StockAvailableLink(BaseModel):
    """A product's stock row id and the combination it is for (0 = the product row)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: Int = 0
    id_product_attribute: Int = 0


class BundleItem(BaseModel):
    """An item of a pack (``product_bundle``)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: Int = 0
    id_product_attribute: Int = 0
    quantity: Int = 0


FeatureLinks = Annotated[list[FeatureLink], BeforeValidator(association_items)]
StockLinks = Annotated[list[StockAvailableLink], BeforeValidator(association_items)]
BundleItems = Annotated[list[BundleItem], BeforeValidator(association_items)]


class ProductAssociations(BaseModel):
    """Typed ``associations`` of a product (missing ones are empty lists)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    categories: IdList = Field(default_factory=list)
    images: IdList = Field(default_factory=list)
    combinations: IdList = Field(default_factory=list)
    product_option_values: IdList = Field(default_factory=list)
    product_features: FeatureLinks = Field(default_factory=list)
    tags: IdList = Field(default_factory=list)
    stock_availables: StockLinks = Field(default_factory=list)
    accessories: IdList = Field(default_factory=list)
    product_bundle: BundleItems = Field(default_factory=list)


class Product(PsRecord):
    """``products``: ``price`` is the base price **tax excluded** of the context shop.

    ``type`` is simple|pack|virtual; ``product_type`` standard|pack|virtual|combinations.
    ``quantity`` is deprecated (read stock from ``stock_availables``).
    """

    id_manufacturer: Int = 0
    id_supplier: Int = 0
    id_category_default: Int = 0
    id_default_image: Int = 0
    id_default_combination: Int = 0
    id_tax_rules_group: Int = 0
    id_shop_default: Int = 0
    manufacturer_name: Text = ""
    type: Text = ""
    product_type: Text = ""
    reference: Text = ""
    supplier_reference: Text = ""
    ean13: Text = ""
    isbn: Text = ""
    upc: Text = ""
    mpn: Text = ""
    width: Money = Decimal(0)
    height: Money = Decimal(0)
    depth: Money = Decimal(0)
    weight: Money = Decimal(0)
    state: Int = 0
    on_sale: Flag = False
    online_only: Flag = False
    ecotax: Money = Decimal(0)
    minimal_quantity: Int = 0
    price: Money = Decimal(0)
    wholesale_price: Money = Decimal(0)
    unity: Text = ""
    unit_price: Money = Decimal(0)
    additional_shipping_cost: Money = Decimal(0)
    active: Flag = False
    available_for_order: Flag = False
    condition: Text = ""
    visibility: Text = ""
    is_virtual: Flag = False
    cache_is_pack: Flag = False
    date_add: PsDate = None
    date_upd: PsDate = None
    name: Multilang = Field(default_factory=dict)
    description: Multilang = Field(default_factory=dict)
    description_short: Multilang = Field(default_factory=dict)
    # The SEO and availability texts (link_rewrite, meta_*, available_*) are not read by any
    # flow: they are left out so that a 10k-product catalogue stays small in memory.
    associations: ProductAssociations = Field(default_factory=ProductAssociations)

    @property
    def has_combinations(self) -> bool:
        """True when the product declares combinations (or is typed ``combinations``)."""
        return self.product_type == "combinations" or bool(self.associations.combinations)


class CombinationAssociations(BaseModel):
    """Attribute values (``product_option_values``) and images of a combination."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    product_option_values: IdList = Field(default_factory=list)
    images: IdList = Field(default_factory=list)


class Combination(PsRecord):
    """``combinations``: ``price``/``weight``/``unit_price_impact`` are **impacts** on the product."""

    id_product: Int = 0
    reference: Text = ""
    supplier_reference: Text = ""
    ean13: Text = ""
    isbn: Text = ""
    upc: Text = ""
    mpn: Text = ""
    wholesale_price: Money = Decimal(0)
    price: Money = Decimal(0)
    ecotax: Money = Decimal(0)
    weight: Money = Decimal(0)
    unit_price_impact: Money = Decimal(0)
    minimal_quantity: Int = 0
    default_on: Flag = False
    # The availability texts (available_now, available_later) are not read by any flow: left out,
    # as for products, so that the combinations of a large catalogue stay small in memory.
    associations: CombinationAssociations = Field(default_factory=CombinationAssociations)


class ProductOptionAssociations(BaseModel):
    """Values of an attribute group."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    product_option_values: IdList = Field(default_factory=list)


class ProductOption(PsRecord):
    """``product_options`` = attribute group (Size, Color ...)."""

    is_color_group: Flag = False
    group_type: Text = ""
    position: Int = 0
    name: Multilang = Field(default_factory=dict)
    public_name: Multilang = Field(default_factory=dict)
    associations: ProductOptionAssociations = Field(default_factory=ProductOptionAssociations)


class ProductOptionValue(PsRecord):
    """``product_option_values`` = attribute value (S, M, Blue ...)."""

    id_attribute_group: Int = 0
    color: Text = ""
    position: Int = 0
    name: Multilang = Field(default_factory=dict)


class ProductFeature(PsRecord):
    """``product_features`` = feature (Composition ...)."""

    position: Int = 0
    name: Multilang = Field(default_factory=dict)


class ProductFeatureValue(PsRecord):
    """``product_feature_values``: ``custom`` values belong to one product."""

    id_feature: Int = 0
    custom: Flag = False
    value: Multilang = Field(default_factory=dict)


class StockAvailable(PsRecord):
    """``stock_availables``: one row per (product, combination, shop or shop group).

    ``id_product_attribute == 0`` is the product row (sum of its combinations' rows).
    ``out_of_stock``: 0 deny, 1 allow, 2 default.
    """

    id_product: Int = 0
    id_product_attribute: Int = 0
    id_shop: Int = 0
    id_shop_group: Int = 0
    quantity: Int = 0
    depends_on_stock: Flag = False
    out_of_stock: Int = 0
    location: Text = ""


class SpecificPrice(PsRecord):
    """``specific_prices``: 0 in an ``id_*`` = all; ``price`` -1 = keep the base price;
    ``reduction`` 0.2 with ``reduction_type`` ``percentage`` = 20 %; ``from``/``to`` ``None`` = unlimited.
    """

    id_shop_group: Int = 0
    id_shop: Int = 0
    id_cart: Int = 0
    id_product: Int = 0
    id_product_attribute: Int = 0
    id_currency: Int = 0
    id_country: Int = 0
    id_group: Int = 0
    id_customer: Int = 0
    id_specific_price_rule: Int = 0
    price: Money = Decimal(0)
    from_quantity: Int = 0
    reduction: Money = Decimal(0)
    reduction_tax: Flag = False
    reduction_type: Text = ""
    date_from: PsDate = Field(default=None, alias="from")
    date_to: PsDate = Field(default=None, alias="to")

    model_config = ConfigDict(frozen=True, extra="ignore", validate_by_name=True, validate_by_alias=True)


# --- taxes, localisation, shops ----------------------------------------------------------


class Tax(PsRecord):
    """``taxes``: ``rate`` in percent (decimal(10,3))."""

    rate: Money = Decimal(0)
    active: Flag = False
    deleted: Flag = False
    name: Multilang = Field(default_factory=dict)


class TaxRule(PsRecord):
    """``tax_rules``: ``behavior`` 0 this tax only, 1 combine, 2 one after another."""

    id_tax_rules_group: Int = 0
    id_state: Int = 0
    id_country: Int = 0
    zipcode_from: Text = ""
    zipcode_to: Text = ""
    id_tax: Int = 0
    behavior: Int = 0
    description: Text = ""


class TaxRuleGroup(PsRecord):
    """``tax_rule_groups``."""

    name: Text = ""
    active: Flag = False
    deleted: Flag = False
    date_add: PsDate = None
    date_upd: PsDate = None


class Language(PsRecord):
    """``languages``: ``iso_code`` (en), ``locale`` (en-US)."""

    name: Text = ""
    iso_code: Text = ""
    locale: Text = ""
    language_code: Text = ""
    active: Flag = False
    is_rtl: Flag = False


class Shop(PsRecord):
    """``shops``."""

    id_shop_group: Int = 0
    id_category: Int = 0
    active: Flag = False
    deleted: Flag = False
    name: Text = ""


class Currency(PsRecord):
    """``currencies``: ``conversion_rate`` = units of this currency per default currency."""

    name: Text = ""
    names: Multilang = Field(default_factory=dict)
    symbol: Multilang = Field(default_factory=dict)
    iso_code: Text = ""
    numeric_iso_code: Text = ""
    precision: Int = 0
    conversion_rate: Money = Decimal(0)
    deleted: Flag = False
    active: Flag = False


class Carrier(PsRecord):
    """``carriers``: ``id_reference`` is stable across carrier edits (a new id per edit)."""

    deleted: Flag = False
    is_module: Flag = False
    id_tax_rules_group: Int = 0
    id_reference: Int = 0
    name: Text = ""
    active: Flag = False
    is_free: Flag = False
    url: Text = ""
    shipping_method: Int = 0
    delay: Multilang = Field(default_factory=dict)


class Country(PsRecord):
    """``countries``: ``iso_code`` is ISO 3166-1 alpha-2."""

    id_zone: Int = 0
    id_currency: Int = 0
    call_prefix: Text = ""
    iso_code: Text = ""
    active: Flag = False
    contains_states: Flag = False
    need_zip_code: Flag = False
    name: Multilang = Field(default_factory=dict)


class State(PsRecord):
    """``states`` (``name`` is not multilang)."""

    id_zone: Int = 0
    id_country: Int = 0
    iso_code: Text = ""
    name: Text = ""
    active: Flag = False


PS_RECORD_TYPES: dict[str, type[PsRecord]] = {
    "categories": Category,
    "products": Product,
    "combinations": Combination,
    "product_options": ProductOption,
    "product_option_values": ProductOptionValue,
    "product_features": ProductFeature,
    "product_feature_values": ProductFeatureValue,
    "stock_availables": StockAvailable,
    "specific_prices": SpecificPrice,
    "taxes": Tax,
    "tax_rules": TaxRule,
    "tax_rule_groups": TaxRuleGroup,
    "languages": Language,
    "shops": Shop,
    "currencies": Currency,
    "carriers": Carrier,
    "customers": Customer,
    "addresses": Address,
    "countries": Country,
    "states": State,
    "orders": Order,
    "order_details": OrderDetail,
    "order_cart_rules": OrderCartRule,
    "order_payments": OrderPayment,
    "order_states": OrderState,
    "order_histories": OrderHistory,
    "order_invoices": OrderInvoice,
    "order_carriers": OrderCarrier,
}
"""Resource name (plural, as in the URL) -> record type."""

R = TypeVar("R", bound=PsRecord)


def parse_ps_record(record_type: type[R], item: dict[str, Any], *, language_id: int = 0) -> R:
    """Validate one JSON item into ``record_type``; ``language_id`` keys single-language texts.

    Raises :class:`dolisync.clients.errors.MalformedResponse` naming the resource, the id and
    the first bad field (the value is not echoed: it may be customer data).
    """
    try:
        record = record_type.model_validate(item, context={"language_id": language_id})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ()))
        raw_id = item.get("id") if isinstance(item, dict) else None
        raise MalformedResponse(
            remote="prestashop",
            resource=record_type.__name__,
            object_id=str(parse_int(raw_id)) if _is_intlike(raw_id) else None,
            detail=f"field {where!r} has an invalid value ({first.get('type', 'invalid')})",
        ) from None
    _share_fields_set(record)
    _share_decimals(record)
    return record


_FIELDS_SETS: dict[frozenset[str], set[str]] = {}
_DECIMALS: dict[str, Decimal] = {}


def _share_decimals(record: BaseModel) -> None:
    """Most amounts of a catalogue repeat (``0.000000`` impacts, ecotax, dimensions...): records
    share one :class:`~decimal.Decimal` object per exact value (its text keeps sign, digits and
    exponent, so ``0.000000`` and ``0`` stay distinct). Decimals are immutable and the records frozen, so the
    sharing cannot be observed; the table is bounded (other values are simply not shared).
    """
    if not record.model_config.get("frozen"):
        return
    values = record.__dict__
    for name, value in values.items():
        if type(value) is Decimal:
            key = str(value)
            shared = _DECIMALS.get(key)
            if shared is None:
                if len(_DECIMALS) >= 4096:
                    continue
                shared = _DECIMALS[key] = value
            values[name] = shared


def _share_fields_set(record: BaseModel) -> None:
    """Records of one listing have the same set of present fields: keep one copy of it.

    Each pydantic model otherwise holds its own ``model_fields_set`` (a set of ~50 names, about
    2 KB); the models are frozen, so nothing mutates the shared set.
    """
    if not record.model_config.get("frozen"):
        return  # a mutable model adds to its own set on assignment: never share it
    own = record.__pydantic_fields_set__
    key = frozenset(own)
    shared = _FIELDS_SETS.get(key)
    if shared is None:
        if len(_FIELDS_SETS) >= 1024:  # bounded: odd shapes are simply not shared
            return
        shared = _FIELDS_SETS[key] = own
    object.__setattr__(record, "__pydantic_fields_set__", shared)


def _is_intlike(value: object) -> bool:
    try:
        parse_int(value)
    except (ValueError, TypeError):
        return False
    return value is not None
