"""The PrestaShop and Dolibarr reference data a catalog run reads once, lazily.

Contract: each accessor reads its resource in bulk the first time it is awaited (one
``display=full`` listing, every page) and returns the cached result afterwards; concurrent
awaits share one read. Nothing here writes. ``since`` restricts the product listing to
products changed after it (PrestaShop ``date_upd`` filter, shop local time).

Products are the one resource that is not held whole by the catalog run: the products flow
walks :meth:`CatalogData.product_pages` (the same listing, page by page, the next page read
while the current one is synced), and only a :class:`ProductSummary` of each product is kept
(:meth:`CatalogData.product_summaries`: what the feature and image flows need). So the
memory of the run does not hold every product's names, descriptions and fields at once.
:meth:`CatalogData.products` / :meth:`CatalogData.all_products` still return whole records
(the reverse and order syncs use them; a catalog run only when it must resolve a product
it did not list itself).
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
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

__all__ = ["CatalogData", "ProductSummary", "StockLevel"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class StockLevel:
    """The quantity of one ``stock_availables`` row: product, combination (0 = the product row)."""

    id_product: int
    id_product_attribute: int
    quantity: int

    @classmethod
    def of(cls, row: StockAvailable) -> StockLevel:
        """The level of a whole row."""
        return cls(row.id_product, row.id_product_attribute, row.quantity)


@dataclass(frozen=True, slots=True)
class ProductSummary:
    """What is kept of every product of a run once it is synced: its id, its reference (the
    Dolibarr ref derives from it), its images and cover, its ``date_upd``, its features."""

    id: int
    reference: str
    id_default_image: int
    date_upd: datetime | None
    images: tuple[int, ...]
    feature_ids: tuple[int, ...]

    @classmethod
    def of(cls, product: Product) -> ProductSummary:
        """The summary of a whole product record."""
        return cls(id=product.id, reference=product.reference, id_default_image=product.id_default_image,
                   date_upd=product.date_upd, images=tuple(product.associations.images),
                   feature_ids=tuple(link.id for link in product.associations.product_features))


class CatalogData:
    """Lazily loaded, cached reference data of one shop run (see module docstring)."""

    def __init__(self, shop: ShopPort, erp: ErpPort, *, id_shop: int, since: datetime | None = None) -> None:
        self.shop = shop
        self.erp = erp
        self.id_shop = id_shop
        self.since = since
        self._cache: dict[str, Any] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._walking: asyncio.Event | None = None  # set when the product walk in progress ends

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

    def _product_filters(self) -> dict[str, str] | None:
        if self.since is None:
            return None
        return {"date_upd": f">[{self.since.strftime('%Y-%m-%d %H:%M:%S')}]"}

    async def products(self) -> list[Product]:
        """Products of the shop (only those changed after ``since`` when given), by id, as whole
        records held together (see the module docstring for the catalog run's own walk).

        Drafts (``state`` 0: the back office's temporary products, purged after a day) are left out.
        """
        async def load() -> list[Product]:
            filters = self._product_filters()
            products = await self.shop.list_all("products", Product, filters=filters, date=filters is not None)
            return sorted((p for p in products if not _is_draft(p)), key=lambda product: product.id)
        return await self._once("products", load)

    async def product_pages(self) -> AsyncIterator[list[Product]]:
        """The products of :meth:`products`, in the same order, page by page; the next page is read
        while the caller works on the current one, and no page is kept once handed on.

        Walking to the end also makes :meth:`product_summaries` (no second listing). One walker at
        a time: a second concurrent walk raises ``RuntimeError``. Served from :meth:`products`
        when that is already loaded; a walk after the summaries are known reads the listing again.
        """
        if "products" in self._cache:
            products: list[Product] = self._cache["products"]
            for start in range(0, len(products), 500):
                yield products[start:start + 500]
            return
        if self._walking is not None:
            raise RuntimeError("the product listing is already being walked")
        self._walking = asyncio.Event()
        summaries: list[ProductSummary] = []
        filters = self._product_filters()
        try:
            async with contextlib.aclosing(_read_ahead(self.shop.pages("products", Product, filters=filters,
                                                                       date=filters is not None))) as pages:
                async for page in pages:
                    kept = sorted((p for p in page if not _is_draft(p)), key=lambda product: product.id)
                    summaries.extend(ProductSummary.of(product) for product in kept)
                    yield kept
            self._cache["product_summaries"] = sorted(summaries, key=lambda summary: summary.id)
        finally:
            self._walking.set()
            self._walking = None

    async def product_summaries(self) -> list[ProductSummary]:
        """A :class:`ProductSummary` of every product of :meth:`products`, by id.

        Known without a read once :meth:`product_pages` was walked to the end (a walk in progress
        is waited for); otherwise derived from :meth:`products` (so a run that does not sync the
        products reads the listing once, as :meth:`all_products` then needs it whole anyway).
        """
        while "product_summaries" not in self._cache:
            if self._walking is not None:
                await self._walking.wait()  # a walk that stopped early leaves the reading to us
            else:
                summaries = [ProductSummary.of(product) for product in await self.products()]
                self._cache.setdefault("product_summaries", summaries)
        return self._cache["product_summaries"]  # type: ignore[no-any-return]

    def lists_product(self, id_product: int) -> bool | None:
        """Whether the summaries of this run's listing, when it covered the whole shop (no
        ``since``), have product ``id_product`` (False: no such product, or a draft); None when
        they are not known yet (then ask :meth:`all_products`)."""
        if self.since is not None:
            return None
        if "product_summaries" in self._cache:
            summaries: list[ProductSummary] = self._cache["product_summaries"]
            index = bisect.bisect_left(summaries, id_product, key=lambda summary: summary.id)
            return index < len(summaries) and summaries[index].id == id_product
        return None

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
            return _shop_rows(await self.shop.list_all("stock_availables", StockAvailable), self.id_shop)
        return await self._once("stock_availables", load)

    async def stock_levels(self) -> list[StockLevel]:
        """The quantities of :meth:`stock_rows`, in the same order, as small :class:`StockLevel`
        values (all the catalog's stock flow reads); the rows are let go page by page."""
        async def load() -> list[StockLevel]:
            if "stock_availables" in self._cache:
                return [StockLevel.of(row) for row in self._cache["stock_availables"]]
            chosen: dict[tuple[int, int], StockLevel] = {}
            async for page in self.shop.pages("stock_availables", StockAvailable):
                for row in page:  # as in _shop_rows: this shop's own row, else the shared (group) row
                    if row.id_shop not in (self.id_shop, 0):
                        continue
                    key = (row.id_product, row.id_product_attribute)
                    if key not in chosen or row.id_shop == self.id_shop:
                        chosen[key] = StockLevel.of(row)
            return [chosen[key] for key in sorted(chosen)]
        return await self._once("stock_levels", load)

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


def _shop_rows(rows: list[StockAvailable], id_shop: int) -> list[StockAvailable]:
    """One row per (product, combination): this shop's own row, else the shared (group) row."""
    chosen: dict[tuple[int, int], StockAvailable] = {}
    for row in rows:
        if row.id_shop not in (id_shop, 0):
            continue
        key = (row.id_product, row.id_product_attribute)
        if key not in chosen or row.id_shop == id_shop:
            chosen[key] = row
    return sorted(chosen.values(), key=lambda r: (r.id_product, r.id_product_attribute))


async def _read_ahead(pages: AsyncIterator[list[T]]) -> AsyncIterator[list[T]]:
    """``pages``, with the next page already being read while the caller works on the current one."""
    iterator = aiter(pages)
    pending: asyncio.Future[list[T] | None] = asyncio.ensure_future(anext(iterator, None))
    try:
        while True:
            page = await pending
            if page is None:
                return
            pending = asyncio.ensure_future(anext(iterator, None))
            yield page
    finally:
        if not pending.done():
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await pending
        elif not pending.cancelled():
            pending.exception()  # retrieved: the caller stopped, the next page is not wanted
        close = getattr(iterator, "aclose", None)
        if close is not None:
            await close()


def _is_draft(product: Product) -> bool:
    """A temporary product of the new product page (``state`` printed as 0)."""
    return "state" in product.model_fields_set and product.state == 0
