"""Dolibarr → PrestaShop after creation: images (ownership ``images``), categories and variant
data of bound products follow Dolibarr, with both directions running and no echo, counted
request by request."""

from __future__ import annotations

import base64
import hashlib
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from dolisync.store import Journal
from dolisync.sync.binder import Binder
from dolisync.sync.plan import SyncSummary
from dolisync.sync.reverse import sync_reverse
from tests.e2e.test_catalog_harness import CatalogWorld

pytestmark = pytest.mark.anyio

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")
OTHER_PNG = PNG + b"\x00other"


def build(tmp_path: Path, **shop: Any) -> CatalogWorld:
    entry = {"name": "main", "id_shop": 1, "erp_to_shop": ["stock", "prices", "product_data"], **shop}
    return CatalogWorld.build(tmp_path, products=6, shops=[entry])


async def reverse(world: CatalogWorld, **options: Any) -> SyncSummary:
    shop = world.settings.shop_named("main")
    async with world.prestashop_client(shop.id_shop) as prestashop, world.dolibarr_client() as dolibarr:
        return await sync_reverse(world.settings, shop, world.store, prestashop=prestashop, dolibarr=dolibarr,
                                  **options)


async def doli(world: CatalogWorld, method: str, path: str, body: Any = None, **params: Any) -> Any:
    async with world.dolibarr_client() as dolibarr:
        return await dolibarr.request_json(method, path, body=body, params=params or None)


def bindings(world: CatalogWorld, entity: str) -> dict[str, str]:
    return {sid: b.target_id for sid, b in Binder(world.store, "main").all(entity).items()}


async def settle(world: CatalogWorld) -> None:
    """Both directions until nothing more is written (bounded)."""
    for _ in range(4):
        world.shop_log.clear()
        world.erp_log.clear()
        await world.sync()
        summary = await reverse(world)
        assert summary.ok and not summary.parked, summary.to_dict()
        if not world.shop_log.writes() and not world.erp_log.writes():
            return
    raise AssertionError(f"never settled: shop {world.shop_log.writes()} erp {world.erp_log.writes()}")


async def both_ways(world: CatalogWorld, times: int = 3) -> None:
    world.shop_log.clear()
    world.erp_log.clear()
    for _ in range(times):
        assert (await reverse(world)).ok
        assert (await world.sync()).ok


def product_with_images(world: CatalogWorld) -> tuple[int, str]:
    """A bound simple product that has at least two images, and its Dolibarr id."""
    with_combinations = {int(row["id_product"]) for row in world.shop.rows("combinations")}
    bound = bindings(world, "product")
    for product in sorted(world.shop.rows("products"), key=lambda p: int(p["id"])):
        pid = int(product["id"])
        if (pid not in with_combinations and str(pid) in bound
                and len((product.get("associations") or {}).get("images") or []) >= 2):
            return pid, bound[str(pid)]
    raise AssertionError("the generated store has no simple product with two images")


def shop_images(world: CatalogWorld, product_id: int) -> list[int]:
    product = world.shop.get("products", product_id)
    return [int(i["id"]) for i in (product.get("associations") or {}).get("images") or []]


async def documents(world: CatalogWorld, doli_id: str) -> dict[str, bytes]:
    """Image documents of a Dolibarr product: name -> content."""
    rows = await doli(world, "GET", "/documents", modulepart="product", id=doli_id)
    out = {}
    for row in rows:
        name = row["relativename"]
        if name.lower().endswith((".jpg", ".jpeg", ".png", ".gif", ".webp")):
            answer = await doli(world, "GET", "/documents/download", modulepart="product",
                                original_file=f"{row['level1name']}/{name}")
            out[name] = base64.b64decode(answer["content"])
    return out


async def upload(world: CatalogWorld, doli_id: str, name: str, content: bytes) -> None:
    ref = (await world.erp_get(f"products/{doli_id}"))["ref"]
    await doli(world, "POST", "/documents/upload", {
        "filename": name, "modulepart": "product", "ref": ref, "filecontent": base64.b64encode(content).decode(),
        "fileencoding": "base64", "overwriteifexists": 1})


def digests(contents: Any) -> list[str]:
    return sorted(hashlib.sha256(c).hexdigest() for c in contents)


async def test_shared_images_one_change_each_way_gives_one_write_then_quiet(tmp_path: Path) -> None:
    world = build(tmp_path, ownership={"images": "shared"})
    await settle(world)
    product_id, doli_id = product_with_images(world)
    before = shop_images(world, product_id)
    cover = int(world.shop.get("products", product_id)["id_default_image"])

    # a new image in Dolibarr: one upload to the shop, nothing back to Dolibarr
    await upload(world, doli_id, "added-in-erp.png", PNG)
    await both_ways(world)
    added = [i for i in shop_images(world, product_id) if i not in before]
    assert world.shop_log.writes() == [("POST", f"/api/images/products/{product_id}")]
    assert world.erp_log.writes() == []
    assert len(added) == 1 and world.shop.images[added[0]].content == PNG
    assert int(world.shop.get("products", product_id)["id_default_image"]) == cover  # cover unchanged
    await both_ways(world)
    assert world.shop_log.writes() == [] and world.erp_log.writes() == []

    # new content for it in Dolibarr: replaced in place (same id), nothing back
    await upload(world, doli_id, "added-in-erp.png", OTHER_PNG)
    await both_ways(world)
    assert world.shop_log.writes() == [("POST", f"/api/images/products/{product_id}/{added[0]}")]  # ps_method=PUT
    assert world.shop.images[added[0]].content == OTHER_PNG
    assert world.erp_log.writes() == []

    # deleted in Dolibarr: deleted from the shop, and the catalog does not delete anything back
    ref = (await world.erp_get(f"products/{doli_id}"))["ref"]
    await doli(world, "DELETE", "/documents", modulepart="product", original_file=f"{ref}/added-in-erp.png")
    await both_ways(world)
    assert world.shop_log.writes() == [("DELETE", f"/api/images/products/{product_id}/{added[0]}")]
    assert world.erp_log.writes() == []
    assert shop_images(world, product_id) == before

    # the other way round: an image added in the shop goes to Dolibarr once, never back
    async with world.prestashop_client(1) as prestashop:
        new_id = await prestashop.upload_image(product_id, OTHER_PNG, "shop.png", "image/png")
    await both_ways(world)
    assert world.shop_log.writes() == []
    assert world.erp_log.writes() == [("POST", "/api/index.php/documents/upload")]
    assert hashlib.sha256(OTHER_PNG).hexdigest() in digests((await documents(world, doli_id)).values())
    await both_ways(world)
    assert world.shop_log.writes() == [] and world.erp_log.writes() == []
    assert new_id in shop_images(world, product_id)


async def test_shop_image_edits_are_overwritten_and_logged_when_dolibarr_owns_images(tmp_path: Path) -> None:
    world = build(tmp_path)
    await settle(world)  # the catalog has copied the shop's images into Dolibarr
    world.settings.shop_named("main").ownership["images"] = "dolibarr"
    await settle(world)
    product_id, doli_id = product_with_images(world)
    images = shop_images(world, product_id)
    wanted = digests((await documents(world, doli_id)).values())
    assert digests(world.shop.images[i].content for i in images) == wanted
    # in the back office: one image deleted, one added
    async with world.prestashop_client(1) as prestashop:
        await prestashop.delete_image(product_id, images[-1])
        extra = await prestashop.upload_image(product_id, OTHER_PNG, "extra.png", "image/png")
    world.erp_log.clear()
    assert (await world.sync()).ok
    assert world.erp_log.writes() == []  # the catalog does not carry the shop's edit to Dolibarr
    asked = await world.sync(entities=["images"])  # asked for by name: nothing written, and the reason said
    assert world.erp_log.writes() == [] and "images" not in asked.entities
    assert [(w.entity, w.error_class) for w in asked.warnings] == [("images", "Ownership")]
    assert "ownership.images" in asked.warnings[0].message
    world.shop_log.clear()
    summary = await reverse(world)
    assert summary.ok, summary.to_dict()
    writes = world.shop_log.writes()
    assert sorted(writes) == sorted([("DELETE", f"/api/images/products/{product_id}/{extra}"),
                                     ("POST", f"/api/images/products/{product_id}")])
    now = shop_images(world, product_id)
    assert extra not in now and images[-1] not in now
    assert digests(world.shop.images[i].content for i in now) == wanted
    conflicts = [c for c in Journal(world.store).conflicts(connection="main") if c.field_group == "images"]
    assert [(c.entity, c.object_id) for c in conflicts] == [("erp_product", str(product_id))]
    # the catalog leaves Dolibarr's documents alone (Dolibarr is the master), and all is quiet
    await both_ways(world)
    assert world.shop_log.writes() == [] and world.erp_log.writes() == []
    assert digests((await documents(world, doli_id)).values()) == wanted


async def test_cover_follows_dolibarr_and_a_product_without_documents_keeps_its_images(tmp_path: Path) -> None:
    world = build(tmp_path)
    await settle(world)
    world.settings.shop_named("main").ownership["images"] = "dolibarr"
    product_id, doli_id = product_with_images(world)
    await settle(world)
    # the shop moves the cover: Dolibarr's cover document wins again
    cover = int(world.shop.get("products", product_id)["id_default_image"])
    other = next(i for i in shop_images(world, product_id) if i != cover)
    async with world.prestashop_client(1) as prestashop:
        await prestashop.patch("products", {"id": product_id, "id_default_image": other})
    world.shop_log.clear()
    assert (await reverse(world)).ok
    assert world.shop_log.writes() == [("PATCH", f"/api/products/{product_id}")]
    assert int(world.shop.get("products", product_id)["id_default_image"]) == cover
    # every document removed in Dolibarr by hand is removed in the shop...
    ref = (await world.erp_get(f"products/{doli_id}"))["ref"]
    for name in await documents(world, doli_id):
        await doli(world, "DELETE", "/documents", modulepart="product", original_file=f"{ref}/{name}")
    assert (await reverse(world)).ok
    assert shop_images(world, product_id) == []
    # ...but images Dolibarr never had are not stripped from a product that has no document
    async with world.prestashop_client(1) as prestashop:
        own = await prestashop.upload_image(product_id, PNG, "own.png", "image/png")
    world.shop_log.clear()
    assert (await reverse(world)).ok
    assert world.shop_log.writes() == []
    assert shop_images(world, product_id) == [own]


async def test_dry_run_plans_image_writes_and_sends_none(tmp_path: Path) -> None:
    world = build(tmp_path)
    await settle(world)  # the shop's images are in Dolibarr before Dolibarr becomes their master
    world.settings.shop_named("main").ownership["images"] = "dolibarr"
    await settle(world)
    product_id, doli_id = product_with_images(world)
    await upload(world, doli_id, "planned.png", PNG)
    world.shop_log.clear()
    plan = await reverse(world, dry_run=True)
    assert world.shop_log.writes() == []
    assert [(w.method, w.path) for w in plan.plan.writes] == [("POST", f"images/products/{product_id}")]


async def test_categories_of_a_bound_product_follow_dolibarr_without_echo(tmp_path: Path) -> None:
    world = build(tmp_path)
    await settle(world)
    linked = {int(sid): target for sid, target in bindings(world, "category").items()}
    product_id, doli_id = product_with_images(world)
    product = world.shop.get("products", product_id)
    current = {int(c["id"]) for c in product["associations"]["categories"]}
    default = int(product["id_category_default"])
    in_linked = sorted(current & set(linked))
    outside = sorted(set(linked) - current)
    assert in_linked and outside, (current, linked)
    added, removed = outside[0], default if default in linked else in_linked[0]
    await doli(world, "POST", f"/categories/{linked[added]}/objects/product/{doli_id}")
    await doli(world, "DELETE", f"/categories/{linked[removed]}/objects/product/{doli_id}")
    await both_ways(world)
    assert world.shop_log.writes() == [("PATCH", f"/api/products/{product_id}")]
    assert world.erp_log.writes() == []  # the catalog does not link or unlink back
    product = world.shop.get("products", product_id)
    now = {int(c["id"]) for c in product["associations"]["categories"]}
    assert now == (current | {added}) - {removed}
    assert int(product["id_category_default"]) in now  # still a category of the product
    await both_ways(world)
    assert world.shop_log.writes() == [] and world.erp_log.writes() == []


async def test_variant_reference_barcode_and_weight_follow_dolibarr_without_echo(tmp_path: Path) -> None:
    world = build(tmp_path)
    await settle(world)
    combinations = bindings(world, "combination")
    combination_id, child = sorted(combinations.items(), key=lambda kv: int(kv[0]))[0]
    parent = bindings(world, "product")[str(world.shop.get("combinations", int(combination_id))["id_product"])]
    variants = await doli(world, "GET", f"/products/{parent}/variants")
    link = next(v["id"] for v in variants if str(v["fk_product_child"]) == child)
    await doli(world, "PUT", f"/products/{child}", {"ref": "ERP-VARIANT-REF", "barcode": "4006381333931",
                                                  "barcode_type": 2})
    await doli(world, "PUT", f"/products/variants/{link}", {"variation_weight": "0.75"})
    await both_ways(world)
    assert world.shop_log.writes() == [("PATCH", f"/api/combinations/{combination_id}")]
    assert world.erp_log.writes() == []  # nothing sent back by the catalog
    combination = world.shop.get("combinations", int(combination_id))
    assert combination["reference"] == "ERP-VARIANT-REF"
    assert combination["ean13"] == "4006381333931"
    assert Decimal(str(combination["weight"])) == Decimal("0.75")
    # a shop edit of that data is overwritten on the next run and logged
    async with world.prestashop_client(1) as prestashop:
        await prestashop.patch("combinations", {"id": int(combination_id), "reference": "EDITED-IN-SHOP"})
    assert (await reverse(world)).ok
    assert world.shop.get("combinations", int(combination_id))["reference"] == "ERP-VARIANT-REF"
    conflicts = Journal(world.store).conflicts(connection="main")
    assert [(c.entity, c.object_id, c.field_group) for c in conflicts][:1] == [
        ("erp_combination_data", combination_id, "data")]


@pytest.mark.parametrize("owner", ["shared", "dolibarr"])
async def test_images_of_a_product_created_from_dolibarr_are_twins_at_once(tmp_path: Path, owner: str) -> None:
    world = build(tmp_path, ownership={"images": owner})
    await settle(world)
    category = sorted(bindings(world, "category").items(), key=lambda kv: int(kv[0]))[-1][1]
    doli_id = str(await doli(world, "POST", "/products", {
        "ref": "ERP-PICTURES", "label": "Pictures first", "type": 0, "status": 1, "status_buy": 1, "price": "10",
        "price_base_type": "HT", "tva_tx": "20"}))
    await doli(world, "POST", f"/categories/{category}/objects/product/{doli_id}")
    for name, content in (("side.png", OTHER_PNG), ("main-cover.png", PNG)):
        await upload(world, doli_id, name, content)
    summary = await reverse(world, entities=["new_products", "product_data"])
    assert summary.ok and not summary.parked, summary.to_dict()
    product_id = next(int(p["id"]) for p in world.shop.rows("products") if p.get("reference") == "ERP-PICTURES")
    images = shop_images(world, product_id)
    assert digests(world.shop.images[i].content for i in images) == digests([PNG, OTHER_PNG])
    cover = int(world.shop.get("products", product_id)["id_default_image"])
    assert world.shop.images[cover].content == PNG  # the document named *-cover
    await both_ways(world)  # neither direction has anything left to do
    assert world.shop_log.writes() == [] and world.erp_log.writes() == []
    assert sorted(await documents(world, doli_id)) == ["main-cover.png", "side.png"]
