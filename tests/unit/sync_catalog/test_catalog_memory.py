"""What a catalog run keeps in memory: product pages are let go, only small summaries stay.

Measured with ``tracemalloc`` (bytes still allocated after a walk, not time), against the
PrestaShop emulator in-process; the same emulator data and the same requests either way.
"""

from __future__ import annotations

import asyncio
import gc
import tracemalloc
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx2
import pytest

from dolisync.clients.prestashop import PrestaShopClient
from dolisync.clients.prestashop_records import Product
from dolisync.emulators.faults import FaultPlan, FaultRule
from dolisync.emulators.generator import DEFAULT_API_KEY, GeneratedStore
from dolisync.emulators.prestashop import create_app as prestashop_app
from dolisync.sync.engine import sync_catalog
from dolisync.sync.binder import Binder, content_hash
from dolisync.sync.flows.adapters import DolibarrErp, PrestaShopShop
from dolisync.sync.flows.catalog_data import CatalogData, ProductSummary, StockLevel
from dolisync.sync.flows.context import BindingCache
from tests.e2e.test_catalog_harness import FAST, SHOP_URL, CatalogWorld

PRODUCTS = 300
PAGE = 50


async def _retained(work: Callable[[], Awaitable[Any]]) -> tuple[int, Any]:
    """Bytes still allocated once ``work`` is done (its result kept), and the result."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        result = await work()
        gc.collect()
        return tracemalloc.get_traced_memory()[0] - before, result
    finally:
        tracemalloc.stop()


def _long_texts(generated: GeneratedStore) -> None:
    """Descriptions of a real catalogue's size (a few KB per language), not the generator's one line."""
    for row in generated.prestashop.tables["products"]:
        row["description"] = {1: "<p>" + "Lorem ipsum dolor sit amet. " * 80 + "</p>",
                              2: "<p>" + "Portez-le partout, tout le temps. " * 80 + "</p>"}


@pytest.fixture
def world(tmp_path: Path) -> CatalogWorld:
    return CatalogWorld.build(tmp_path, products=PRODUCTS, edit=_long_texts)


def _data(world: CatalogWorld, prestashop: Any, dolibarr: Any) -> CatalogData:
    return CatalogData(PrestaShopShop(prestashop, page_size=PAGE), DolibarrErp(dolibarr), id_shop=1)


@pytest.mark.anyio
async def test_walking_the_products_keeps_summaries_not_records(world: CatalogWorld) -> None:
    async with world.prestashop_client(1) as prestashop, world.dolibarr_client() as dolibarr:
        await _data(world, prestashop, dolibarr).products()  # warm the emulator up: not measured

        walked = _data(world, prestashop, dolibarr)
        pages: list[int] = []

        async def walk() -> list[ProductSummary]:
            async for page in walked.product_pages():
                pages.append(len(page))
            return await walked.product_summaries()

        world.shop_log.clear()
        walk_bytes, summaries = await _retained(walk)
        walk_requests = [call for call in world.shop_log.calls if call[1] == "/api/products"]

        held = _data(world, prestashop, dolibarr)
        world.shop_log.clear()
        hold_bytes, products = await _retained(held.products)
        hold_requests = [call for call in world.shop_log.calls if call[1] == "/api/products"]

    assert [s.id for s in summaries] == [p.id for p in products] and len(products) > PRODUCTS // 2
    assert sum(pages) == len(products) and max(pages) <= PAGE
    assert walk_requests == hold_requests  # the same listing, the same pages
    # whole records (texts, prices, associations) weigh far more than what the walk keeps
    assert walk_bytes * 8 < hold_bytes, (walk_bytes, hold_bytes)
    by_id = {p.id: p for p in products}
    for summary in summaries:
        product = by_id[summary.id]
        assert summary == ProductSummary.of(product)
        assert summary.images == tuple(product.associations.images)
        assert summary.feature_ids == tuple(link.id for link in product.associations.product_features)


@pytest.mark.anyio
async def test_summaries_wait_for_a_walk_in_progress_instead_of_reading_again(world: CatalogWorld) -> None:
    async with world.prestashop_client(1) as prestashop, world.dolibarr_client() as dolibarr:
        data = _data(world, prestashop, dolibarr)
        world.shop_log.clear()
        pages = data.product_pages()
        first = await anext(pages)
        assert first and data.lists_product(first[0].id) is None  # not known before the walk ends
        waiting = asyncio.ensure_future(data.product_summaries())
        async for _page in pages:
            pass
        summaries = await waiting
        walk = [call for call in world.shop_log.calls if call[1] == "/api/products"]
        assert data.lists_product(summaries[0].id) is True
        assert data.lists_product(max(s.id for s in summaries) + 1) is False

        world.shop_log.clear()
        products = await _data(world, prestashop, dolibarr).products()
        assert walk == [call for call in world.shop_log.calls if call[1] == "/api/products"]  # one listing
        assert [s.id for s in summaries] == [p.id for p in products]
        assert isinstance(first[0], Product) and first[0] == products[0]


@pytest.mark.anyio
async def test_stock_levels_choose_the_rows_stock_rows_chooses(tmp_path: Path) -> None:
    world = CatalogWorld.build(tmp_path, products=60)  # two shops: own rows and shared rows
    for id_shop in (1, 2):
        async with world.prestashop_client(id_shop) as prestashop, world.dolibarr_client() as dolibarr:
            rows = await CatalogData(PrestaShopShop(prestashop, page_size=40), DolibarrErp(dolibarr),
                                     id_shop=id_shop).stock_rows()
            levels = await CatalogData(PrestaShopShop(prestashop, page_size=40), DolibarrErp(dolibarr),
                                       id_shop=id_shop).stock_levels()
        assert levels == [StockLevel(r.id_product, r.id_product_attribute, r.quantity) for r in rows]
        assert len(levels) == len({(lv.id_product, lv.id_product_attribute) for lv in levels}) > 60


def test_binding_cache_gives_back_the_hashes_it_was_given(tmp_path: Path) -> None:
    world = CatalogWorld.build(tmp_path, products=1)
    cache = BindingCache(Binder(world.store, "main"), dry_run=False)
    digest = content_hash({"quantity": 3})
    odd = ["A" * 64, "abc", "zz", "", None, digest[:32] + content_hash({"x": 1})[:32]]
    cache.bind("stock", "1-0", "10", written_hash=digest)
    for index, value in enumerate(odd):
        cache.bind("stock", f"{index + 2}-0", str(index + 11), written_hash=value)
    assert cache.written_hash("stock", "1-0") == digest
    assert [cache.written_hash("stock", f"{i + 2}-0") for i in range(len(odd))] == odd
    cache.flush()
    again = BindingCache(Binder(world.store, "main"), dry_run=False)
    assert again.written_hash("stock", "1-0") == digest and again.target("stock", "1-0") == "10"
    assert [again.written_hash("stock", f"{i + 2}-0") for i in range(len(odd))] == odd


@pytest.mark.anyio
@pytest.mark.parametrize("failing", ["combinations", "products"])
async def test_a_listing_that_fails_stops_the_run_with_its_own_error(tmp_path: Path, failing: str) -> None:
    world = CatalogWorld.build(tmp_path, products=30)
    faults = FaultPlan([FaultRule(path_pattern=f"/api/{failing}", methods={"GET"}, error_rate=1.0,
                                  error_status=500)])
    app = prestashop_app(world.shop, base_url=SHOP_URL, faults=faults)
    shop = world.settings.shop_named("main")
    prestashop = PrestaShopClient(SHOP_URL, DEFAULT_API_KEY, id_shop=1, limits=FAST,
                                  transport=httpx2.ASGITransport(app=app))
    async with prestashop, world.dolibarr_client() as dolibarr:
        summary = await sync_catalog(world.settings, shop, world.store, prestashop=prestashop, dolibarr=dolibarr,
                                     entities=["categories", "products"])
    assert summary.error is not None and failing in summary.error and "500" in summary.error
    assert summary.entities.get("product") is None or summary.entities["product"].created == 0
