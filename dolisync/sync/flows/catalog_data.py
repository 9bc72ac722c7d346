"""The PrestaShop and Dolibarr reference data a catalog run reads once, lazily.

Contract: each accessor reads its resource in bulk the first time it is awaited (one
``display=full`` listing, every page) and returns the cached result afterwards; concurrent
awaits share one read. Nothing here writes. ``since`` restricts the product listing to
products changed after it (PrestaShop ``date_upd`` filter, shop local time).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

from dolisync.clients.dolibarr_records import DoliCompany, DoliVatRate, DoliWarehouse
from dolisync.clients.errors import RemoteError
from dolisync.clients.prestashop_records import (
    Category,
    Combination,
    Country,
    Product,
    ProductFeature,
    ProductFeatureValue,
    ProductOption,
    ProductOptionValue,
    Shop,
    SpecificPrice,
    StockAvailable,
    Tax,
    TaxRule,
    TaxRuleGroup,
)
from dolisync.mapping.catalog import CategoryTree
from dolisync.mapping.errors import MappingError
from dolisync.mapping.taxes import TaxTable
from dolisync.sync.flows.ports import ErpPort, ShopPort
from dolisync.sync.flows.shop_setup import shop_configuration

__all__ = ["CatalogData"]

T = TypeVar("T")


class CatalogData:
    """Lazily loaded, cached reference data of one shop run (see module docstring)."""

    def __init__(self, shop: ShopPort, erp: ErpPort, *, id_shop: int, since: datetime | None = None) -> None:
        self.shop = shop
        self.erp = erp
        self.id_shop = id_shop
        self.since = since
        self._cache: dict[str, Any] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def _once(self, name: str, load: Callable[[], Awaitable[T]]) -> T:
        if name in self._cache:
            return self._cache[name]  # type: ignore[no-any-return]
        lock = self._locks.setdefault(name, asyncio.Lock())
        async with lock:
            if name not in self._cache:
                self._cache[name] = await load()
        return self._cache[name]  # type: ignore[no-any-return]

    # -- PrestaShop ------------------------------------------------------------------------
    async def shop_record(self) -> Shop:
        """The ``shops`` row of this shop (its home category is ``id_category``)."""
        async def load() -> Shop:
            shops = await self.shop.list_all("shops", Shop)
            for shop in shops:
                if shop.id == self.id_shop:
                    return shop
            raise MappingError("shops", self.id_shop, "id_shop", self.id_shop,
                               "this shop id does not exist in PrestaShop: fix id_shop in the [[shop]] entry")
        return await self._once("shop", load)

    async def category_tree(self) -> CategoryTree:
        """Every category of the shop, as a tree under the shop's home."""
        async def load() -> CategoryTree:
            shop = await self.shop_record()
            categories = await self.shop.list_all("categories", Category)
            return CategoryTree(categories, home_id=shop.id_category or 2)
        return await self._once("categories", load)

    async def products(self) -> list[Product]:
        """Products of the shop (only those changed after ``since`` when given), by id.

        Drafts (``state`` 0: the back office's temporary products, purged after a day) are left out.
        """
        async def load() -> list[Product]:
            filters = None
            if self.since is not None:
                stamp = self.since.strftime("%Y-%m-%d %H:%M:%S")
                filters = {"date_upd": f">[{stamp}]"}
            products = await self.shop.list_all("products", Product, filters=filters, date=filters is not None)
            return sorted((p for p in products if not _is_draft(p)), key=lambda product: product.id)
        return await self._once("products", load)

    async def all_products(self) -> dict[int, Product]:
        """Every product of the shop by id (for dependency resolution)."""
        async def load() -> dict[int, Product]:
            if self.since is None:
                return {product.id: product for product in await self.products()}
            return {product.id: product for product in await self.shop.list_all("products", Product)
                    if not _is_draft(product)}
        return await self._once("all_products", load)

    async def combinations_by_product(self) -> dict[int, list[Combination]]:
        """Combinations grouped by product id, each list by combination id."""
        async def load() -> dict[int, list[Combination]]:
            grouped: dict[int, list[Combination]] = {}
            for combination in await self.shop.list_all("combinations", Combination):
                grouped.setdefault(combination.id_product, []).append(combination)
            return {pid: sorted(items, key=lambda c: c.id) for pid, items in grouped.items()}
        return await self._once("combinations", load)

    async def option_groups(self) -> dict[int, ProductOption]:
        """Attribute groups by id."""
        async def load() -> dict[int, ProductOption]:
            return {group.id: group for group in await self.shop.list_all("product_options", ProductOption)}
        return await self._once("product_options", load)

    async def option_values(self) -> dict[int, ProductOptionValue]:
        """Attribute values by id."""
        async def load() -> dict[int, ProductOptionValue]:
            return {value.id: value for value in await self.shop.list_all("product_option_values", ProductOptionValue)}
        return await self._once("product_option_values", load)

    async def features(self) -> dict[int, ProductFeature]:
        """Features by id."""
        async def load() -> dict[int, ProductFeature]:
            return {feature.id: feature for feature in await self.shop.list_all("product_features", ProductFeature)}
        return await self._once("product_features", load)

    async def feature_values(self) -> dict[int, ProductFeatureValue]:
        """Feature values by id."""
        async def load() -> dict[int, ProductFeatureValue]:
            return {value.id: value
                    for value in await self.shop.list_all("product_feature_values", ProductFeatureValue)}
        return await self._once("product_feature_values", load)

    async def stock_rows(self) -> list[StockAvailable]:
        """``stock_availables`` rows of the shop (filtered here too: shop rows, else shared rows)."""
        async def load() -> list[StockAvailable]:
            rows = await self.shop.list_all("stock_availables", StockAvailable)
            # One row per (product, combination): this shop's own row, else the shared (group) row.
            chosen: dict[tuple[int, int], StockAvailable] = {}
            for row in rows:
                if row.id_shop not in (self.id_shop, 0):
                    continue
                key = (row.id_product, row.id_product_attribute)
                if key not in chosen or row.id_shop == self.id_shop:
                    chosen[key] = row
            return sorted(chosen.values(), key=lambda r: (r.id_product, r.id_product_attribute))
        return await self._once("stock_availables", load)

    async def specific_prices(self) -> list[SpecificPrice]:
        """Specific prices that apply to this shop (``id_shop`` 0 or this shop)."""
        async def load() -> list[SpecificPrice]:
            rows = await self.shop.list_all("specific_prices", SpecificPrice)
            return [row for row in rows if row.id_shop in (0, self.id_shop)]
        return await self._once("specific_prices", load)

    # -- both ------------------------------------------------------------------------------
    async def company(self) -> DoliCompany:
        """Dolibarr's own company (country of the VAT rates)."""
        async def load() -> DoliCompany:
            return DoliCompany.model_validate(await self.erp.get("/setup/company"))
        return await self._once("company", load)

    async def home_state_id(self) -> int:
        """``PS_SHOP_STATE_ID``: the state of the merchant's own address (0 = none or unknown)."""
        async def load() -> int:
            client = getattr(self.shop, "client", None)
            if client is None:
                return 0
            try:
                value = await shop_configuration(client, "PS_SHOP_STATE_ID", self.id_shop)
            except RemoteError:
                return 0
            return int(value) if value.isdigit() else 0
        return await self._once("home_state_id", load)

    async def tax_table(self) -> TaxTable:
        """Tax rule groups resolved for the Dolibarr company country."""
        async def load() -> TaxTable:
            company = await self.company()
            code = company.country_code.upper()
            countries = await self.shop.list_all("countries", Country, filters={"iso_code": f"[{code}]"})
            ps_country = next((country.id for country in countries if country.iso_code.upper() == code), 0)
            groups = await self.shop.list_all("tax_rule_groups", TaxRuleGroup)
            rules = await self.shop.list_all("tax_rules", TaxRule)
            taxes = await self.shop.list_all("taxes", Tax)
            raw_rates = await self.erp.list_all("/setup/dictionary/vat",
                                                params={"fk_country": company.country_id, "sortfield": "t.rowid"})
            rates = [DoliVatRate.model_validate(row) for row in raw_rates]
            return TaxTable(groups=groups, rules=rules, taxes=taxes, ps_country_id=ps_country,
                            country_code=code, vat_rates=rates, home_state_id=await self.home_state_id())
        return await self._once("tax_table", load)

    async def warehouses(self) -> list[DoliWarehouse]:
        """Dolibarr warehouses."""
        async def load() -> list[DoliWarehouse]:
            rows = await self.erp.list_all("/warehouses", params={"sortfield": "t.rowid"})
            return [DoliWarehouse.model_validate(row) for row in rows]
        return await self._once("warehouses", load)


def _is_draft(product: Product) -> bool:
    """A temporary product of the new product page (``state`` printed as 0)."""
    return "state" in product.model_fields_set and product.state == 0
