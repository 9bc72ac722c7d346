"""The plain-data shape a generated (or recorded) store is exchanged in.

This is the contract between the store generator (``dolisync.emulators.generator``) and the
two emulators, which load it as their initial state. It holds no behaviour.

PrestaShop side (``PrestaShopDataset``):

* ``tables[resource]`` is the list of rows of a Webservice resource, named as in
  ``reference/prestashop/resources.json`` (``"products"``, ``"order_details"`` ...).
* A row is a ``dict`` keyed by the resource's field names (``"id"`` included). Scalar values
  are strings exactly as PrestaShop stores and prints them (``"23.900000"``, ``"1"``,
  ``"2026-11-28 10:00:00"``, ``""`` for null). A multilang field is a ``dict[int, str]``
  (language id -> text).
* ``row["associations"]`` (optional) maps an association name to a list of item dicts
  (``{"id": "3"}``, ``{"id": "4", "id_feature_value": "12"}``, order rows with their fields).
* ``row["_shops"]`` (optional, for tables with a ``_shop`` association): the shop ids the row
  is associated with; absent = every shop. ``row["_shop_fields"]`` (optional):
  ``{id_shop: {field: value}}`` overrides of shop-specific fields (price, active ...), and of
  multilang-per-shop texts.
* ``images[id_image]`` holds the binary of a product image (``ImageBlob``). Which images a
  product has is its row's ``associations["images"]``; the cover is ``id_default_image``;
  ``ImageBlob.id_product`` repeats the owner for convenience.
* ``api_keys``: the keys accepted, with their permissions (``None`` = every method on every
  resource).

Dolibarr side (``DolibarrSetup``): what an installed Dolibarr is configured with before any
sync: company country and currency, local-tax options, the VAT dictionary, warehouses, bank
accounts, payment types, enabled currencies and modules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["ImageBlob", "PrestaShopDataset", "VatRate", "DolibarrSetup"]

Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class ImageBlob:
    """One product image: owner, bytes and MIME type (``image/jpeg`` ...)."""

    id_image: int
    id_product: int
    content: bytes
    mime: str = "image/jpeg"


@dataclass(slots=True)
class PrestaShopDataset:
    """Initial content of an emulated PrestaShop 8 shop (see module docstring)."""

    tables: dict[str, list[Row]] = field(default_factory=dict)
    images: dict[int, ImageBlob] = field(default_factory=dict)
    api_keys: dict[str, dict[str, list[str]] | None] = field(default_factory=dict)
    shop_domain: str = "127.0.0.1"
    timezone: str = "Europe/Paris"


@dataclass(frozen=True, slots=True)
class VatRate:
    """A row of Dolibarr's VAT dictionary for the company country (``llx_c_tva``).

    ``localtax*_type`` follow Dolibarr: "0" none, "1"/"3"/"5" on net (all/products/services),
    "2"/"4"/"6" on net + VAT (compound).
    """

    rate: str  # "20.000" style, as Dolibarr prints `taux`
    code: str = ""
    localtax1: str = "0"
    localtax1_type: str = "0"
    localtax2: str = "0"
    localtax2_type: str = "0"
    note: str = ""
    active: int = 1


@dataclass(slots=True)
class DolibarrSetup:
    """Configuration of an emulated Dolibarr before any data is written."""

    company_name: str = "dolisync demo company"
    country_code: str = "FR"
    country_id: int = 1
    currency: str = "EUR"
    localtax1_on: bool = False  # FACTURE_LOCAL_TAX1_OPTION == "localtax1on"
    localtax2_on: bool = False
    vat_rates: list[VatRate] = field(default_factory=list)
    warehouses: list[dict[str, Any]] = field(default_factory=list)  # {"ref","label","statut"}
    bank_accounts: list[dict[str, Any]] = field(default_factory=list)  # {"ref","label","currency_code"}
    multicurrencies: dict[str, str] = field(default_factory=dict)  # code -> rate vs company currency
    modules: list[str] = field(default_factory=list)  # empty = the recorded instance's list
    api_keys: dict[str, str] = field(default_factory=dict)  # key -> login
    dolibarr_version: str = "23.0.0-beta"
