"""Catalog mapping, PrestaShop → Dolibarr: features, stock, specific prices and images.

Pure functions, no I/O (see :mod:`dolisync.mapping.catalog` for the shared contract).

* Features become Dolibarr **product extrafields** named ``psfeat_<id_feature>`` (varchar 255,
  created on first use); the value is the feature value text in the shop language.
* Stock is written as one labelled correction movement of the difference between the
  PrestaShop quantity and Dolibarr's stock in the shop's warehouse.
* Specific prices: Dolibarr's REST API cannot write per-customer, per-quantity or dated
  prices, and price levels only exist when ``PRODUIT_MULTIPRICES`` is on; each specific price is
  classified with the reason it is not mappable (:func:`classify_specific_price`).
* Images are product documents named ``ps-<id_image>.<ext>``; the cover is named
  ``ps-<id_image>-cover.<ext>`` so it sorts first and is recognisable; the content hash decides
  re-uploads.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from dolisync.clients.prestashop_records import Product, ProductFeature, ProductFeatureValue, SpecificPrice
from dolisync.mapping.catalog import CatalogOptions, text_in
from dolisync.mapping.errors import MappingError

__all__ = [
    "FEATURE_EXTRAFIELD_PREFIX",
    "feature_extrafield_name",
    "feature_extrafield_definition",
    "product_feature_values",
    "StockCorrection",
    "stock_correction",
    "SpecificPriceVerdict",
    "classify_specific_price",
    "ImageDocument",
    "image_document",
    "image_extension",
]

FEATURE_EXTRAFIELD_PREFIX = "psfeat_"
_EXTRAFIELD_VALUE_MAX = 255


def feature_extrafield_name(id_feature: int) -> str:
    """Dolibarr extrafield name for a PrestaShop feature (lower case, ``[a-z0-9_]``)."""
    return f"{FEATURE_EXTRAFIELD_PREFIX}{id_feature}"


def feature_extrafield_definition(feature: ProductFeature, options: CatalogOptions) -> dict[str, Any]:
    """Body of ``POST /setup/extrafields/product/<name>`` for a feature."""
    label = text_in(feature.name, options) or f"Feature {feature.id}"
    return {"label": label[:255], "type": "varchar", "size": str(_EXTRAFIELD_VALUE_MAX), "list": "1",
            "elementtype": "product", "pos": str(100 + feature.position)}


def product_feature_values(
    product: Product,
    values: Mapping[int, ProductFeatureValue],
    options: CatalogOptions,
) -> dict[str, str]:
    """``{extrafield name: value text}`` for every feature of a product.

    A feature value id that does not exist is a :class:`MappingError`; a value longer than the
    extrafield (255) is cut, since features are labels, not documents.
    """
    result: dict[str, str] = {}
    for link in product.associations.product_features:
        value = values.get(link.id_feature_value)
        if value is None:
            raise MappingError("products", product.id, "product_features", link.id_feature_value,
                               f"feature value {link.id_feature_value} does not exist in PrestaShop: "
                               "re-assign the feature on the product")
        result[feature_extrafield_name(link.id)] = text_in(value.value, options)[:_EXTRAFIELD_VALUE_MAX]
    return result


@dataclass(frozen=True, slots=True)
class StockCorrection:
    """``POST /stockmovements`` body, or ``None`` when Dolibarr already has the quantity."""

    body: dict[str, Any] | None
    target_quantity: int
    current_quantity: Decimal


def stock_correction(
    *,
    product_id: int,
    warehouse_id: int,
    prestashop_quantity: int,
    dolibarr_quantity: Decimal,
    shop_name: str,
    source_label: str,
) -> StockCorrection:
    """Correction movement bringing Dolibarr's warehouse stock to the PrestaShop quantity.

    ``qty`` is the signed difference (Dolibarr refuses 0). The label says where it came from;
    ``movementcode`` tags every dolisync movement so they can be listed.
    """
    difference = Decimal(prestashop_quantity) - dolibarr_quantity
    if difference.is_zero():
        return StockCorrection(None, prestashop_quantity, dolibarr_quantity)
    body = {
        "product_id": product_id,
        "warehouse_id": warehouse_id,
        "qty": format(difference.normalize(), "f"),
        "label": f"dolisync: PrestaShop stock of {source_label} in shop {shop_name} is {prestashop_quantity}",
        "movementcode": "DOLISYNC-PS",
    }
    return StockCorrection(body, prestashop_quantity, dolibarr_quantity)


@dataclass(frozen=True, slots=True)
class SpecificPriceVerdict:
    """Whether a specific price can go to Dolibarr, and why not (``reason``)."""

    mappable: bool
    reason: str


def classify_specific_price(price: SpecificPrice, *, multiprices_enabled: bool) -> SpecificPriceVerdict:
    """Say what Dolibarr can do with a PrestaShop specific price (see module doc).

    Only a shop-wide, customer-less, group-level, undated, quantity-1 price can become a
    Dolibarr price level, and only when ``PRODUIT_MULTIPRICES`` is on; everything else is
    reported with the Dolibarr limitation that blocks it.
    """
    if price.id_customer:
        return SpecificPriceVerdict(False, f"customer-specific price (customer {price.id_customer}): Dolibarr's "
                                    "REST API has no endpoint to write per-customer prices")
    if price.id_cart:
        return SpecificPriceVerdict(False, "cart-specific price: exists only for one cart")
    if price.from_quantity > 1:
        return SpecificPriceVerdict(False, f"quantity price from {price.from_quantity} units: Dolibarr per-quantity "
                                    "prices cannot be written through the REST API")
    if price.date_from is not None or price.date_to is not None:
        return SpecificPriceVerdict(False, "dated promotion: Dolibarr product prices have no validity dates")
    if price.id_specific_price_rule:
        return SpecificPriceVerdict(False, "generated by a catalog price rule: rules have no Dolibarr equivalent")
    if not multiprices_enabled:
        return SpecificPriceVerdict(False, "price level/discount: enable price levels (PRODUIT_MULTIPRICES) in "
                                    "Dolibarr to map group prices; 'one price per product' mode has no place for it")
    return SpecificPriceVerdict(True, "group price → Dolibarr price level")


_EXTENSIONS = {"image/jpeg": "jpg", "image/pjpeg": "jpg", "image/png": "png", "image/x-png": "png",
               "image/gif": "gif", "image/webp": "webp"}


def image_extension(mime: str, content: bytes) -> str:
    """File extension from the MIME type, else from the magic bytes, else ``jpg``."""
    if mime in _EXTENSIONS:
        return _EXTENSIONS[mime]
    if content.startswith(b"\x89PNG"):
        return "png"
    if content.startswith(b"GIF8"):
        return "gif"
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "webp"
    return "jpg"


@dataclass(frozen=True, slots=True)
class ImageDocument:
    """One product image as a Dolibarr product document."""

    id_image: int
    filename: str
    content_hash: str
    is_cover: bool


def image_document(id_image: int, content: bytes, mime: str, *, is_cover: bool) -> ImageDocument:
    """Document name and content hash (sha256) for a PrestaShop product image."""
    extension = image_extension(mime, content)
    suffix = "-cover" if is_cover else ""
    return ImageDocument(id_image, f"ps-{id_image}{suffix}.{extension}",
                         hashlib.sha256(content).hexdigest(), is_cover)


def image_names(documents: Iterable[ImageDocument]) -> set[str]:
    """The set of file names of a product's images (what should exist in Dolibarr)."""
    return {document.filename for document in documents}
