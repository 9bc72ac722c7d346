"""Products created in Dolibarr appear in the shop (variants as combinations, images,
categories), a second run writes nothing, and bad input parks the item with what to fix."""

from __future__ import annotations

import base64
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from dolisync.sync.binder import Binder
from dolisync.sync.failures import FailureQueue
from dolisync.sync.plan import SyncSummary
from dolisync.sync.reverse import sync_reverse
from tests.e2e.test_catalog_harness import CatalogWorld

pytestmark = pytest.mark.anyio

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


async def reverse(world: CatalogWorld, entities: list[str] | None = None) -> SyncSummary:
    shop = world.settings.shop_named("main")
    async with world.prestashop_client(shop.id_shop) as prestashop, world.dolibarr_client() as dolibarr:
        return await sync_reverse(world.settings, shop, world.store, prestashop=prestashop, dolibarr=dolibarr,
                                  entities=entities)


async def doli(world: CatalogWorld, method: str, path: str, body: Any = None) -> Any:
    async with world.dolibarr_client() as dolibarr:
        return await dolibarr.request_json(method, path, body=body)


async def make_product(world: CatalogWorld, ref: str, *, category: str | None, price: str = "40") -> int:
    product_id = int(await doli(world, "POST", "/products", {
        "ref": ref, "label": f"Made in Dolibarr {ref}", "description": "<p>ERP first</p>", "type": 0,
        "status": 1, "status_buy": 1, "price": price, "price_base_type": "HT", "tva_tx": "20", "weight": "0.5",
        "weight_units": 0}))
    if category is not None:
        await doli(world, "POST", f"/categories/{category}/objects/product/{product_id}")
    return product_id


def catalog_bindings(world: CatalogWorld, entity: str) -> dict[str, str]:
    return {sid: b.target_id for sid, b in Binder(world.store, "main").all(entity).items()}


@pytest.fixture
async def world(tmp_path: Path) -> CatalogWorld:
    world = CatalogWorld.build(tmp_path, products=6, shops=[{"name": "main", "id_shop": 1}])
    summary = await world.sync()
    assert summary.ok, summary.to_dict()
    return world


async def test_product_with_two_attributes_by_three_values_appears_with_six_combinations(world: CatalogWorld) -> None:
    categories = catalog_bindings(world, "category")
    ps_category, doli_category = sorted(categories.items(), key=lambda kv: int(kv[0]))[-1]
    values = catalog_bindings(world, "attribute_value")
    attributes = catalog_bindings(world, "attribute")
    sizes, colors = ["1", "3"], ["6", "7", "8"]  # 2 sizes x 3 colours = 6 combinations
    parent = await make_product(world, "DOLI-NEW-1", category=doli_category)
    for size in sizes:
        for color in colors:
            await doli(world, "POST", f"/products/{parent}/variants", {
                "weight_impact": 0, "price_impact": "2.5" if size == "3" else 0, "price_impact_is_percent": False,
                "features": {attributes["1"]: values[size], attributes["2"]: values[color]}})
    for name in ("front.png", "back.png"):
        await doli(world, "POST", "/documents/upload", {
            "filename": name, "modulepart": "product", "ref": "DOLI-NEW-1",
            "filecontent": base64.b64encode(PNG).decode(), "fileencoding": "base64"})

    summary = await reverse(world, ["new_products", "stock"])
    assert summary.ok and not summary.parked, summary.to_dict()
    created = [p for p in world.shop.rows("products") if p.get("reference") == "DOLI-NEW-1"]
    assert len(created) == 1
    product = created[0]
    assert Decimal(str(product["price"])) == Decimal("40")
    assert [c["id"] for c in product["associations"]["categories"]] == [ps_category]
    combinations = [c for c in world.shop.rows("combinations") if c["id_product"] == product["id"]]
    pairs = sorted(tuple(sorted(v["id"] for v in c["associations"]["product_option_values"])) for c in combinations)
    assert pairs == sorted(tuple(sorted((s, c))) for s in sizes for c in colors)
    impacts = {tuple(sorted(v["id"] for v in c["associations"]["product_option_values"])): Decimal(str(c["price"]))
               for c in combinations}
    assert {impact for key, impact in impacts.items() if "3" in key} == {Decimal("2.5")}
    assert {impact for key, impact in impacts.items() if "3" not in key} == {Decimal("0")}
    images = product["associations"].get("images") or []
    assert len(images) == 2, [c for c in world.shop_log.calls if "image" in c[1] or "documents" in c[1]]
    assert catalog_bindings(world, "product")[product["id"]] == str(parent)
    assert len([sid for sid in catalog_bindings(world, "combination") if sid in {c["id"] for c in combinations}]) == 6

    world.shop_log.clear()
    world.erp_log.clear()
    again = await reverse(world, ["new_products", "stock"])
    assert again.ok, again.to_dict()
    assert world.shop_log.writes() == []
    assert world.erp_log.writes() == []
    # the shop -> ERP catalog flow adopts it in place: no duplicate, no echo update
    world.erp_log.clear()
    catalog = await world.sync()
    assert catalog.ok, catalog.to_dict()
    assert [w for w in world.erp_log.writes() if w[0] == "POST" and w[1].endswith("/products")] == []
    assert world.erp_log.writes() == []


async def test_bad_input_parks_each_item_with_what_to_fix(world: CatalogWorld) -> None:
    categories = catalog_bindings(world, "category")
    doli_category = sorted(categories.items(), key=lambda kv: int(kv[0]))[-1][1]
    values = catalog_bindings(world, "attribute_value")
    attributes = catalog_bindings(world, "attribute")
    orphan = await make_product(world, "DOLI-NO-CATEGORY", category=None)
    purple = int(await doli(world, "POST", f"/products/attributes/{attributes['2']}/values",
                            {"ref": "PURPLE", "value": "Purple"}))
    twinless = await make_product(world, "DOLI-PURPLE", category=doli_category)
    await doli(world, "POST", f"/products/{twinless}/variants", {
        "weight_impact": 0, "price_impact": 0, "price_impact_is_percent": False,
        "features": {attributes["1"]: values["1"], attributes["2"]: str(purple)}})
    refused = await make_product(world, "DOLI-" + "X" * 70, category=doli_category)
    fine = await make_product(world, "DOLI-FINE", category=doli_category)

    summary = await reverse(world, ["new_products"])
    parked = {item.source_id: item.message for item in summary.parked}
    assert set(parked) == {str(orphan), str(twinless), str(refused)}, summary.to_dict()
    assert "in no category linked to shop main" in parked[str(orphan)]
    assert "'Purple'" in parked[str(twinless)] and "no PrestaShop twin" in parked[str(twinless)]
    assert "reference" in parked[str(refused)].lower()
    references = {p.get("reference") for p in world.shop.rows("products")}
    assert "DOLI-FINE" in references and "DOLI-PURPLE" not in references
    assert catalog_bindings(world, "product").get(str(fine)) is None  # bound the other way round
    assert str(fine) in catalog_bindings(world, "product").values()
    queue = {f.key.source_id for f in FailureQueue(world.store).list(connection="main")
             if f.key.entity == "erp_new_product"}
    assert queue == {str(orphan), str(twinless), str(refused)}
