"""Dolibarr → PrestaShop end to end, with the shop → ERP catalog flow running too: stock and
price changes made in Dolibarr reach the shop with one write each, and neither direction sends
them back (echo suppression), counted request by request over a quiet period."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from dolisync.store import Journal
from dolisync.sync.plan import SyncSummary
from dolisync.sync.reverse import sync_reverse
from tests.e2e.test_catalog_harness import CatalogWorld

pytestmark = pytest.mark.anyio


REVERSE = ["stock", "prices", "product_data"]


def build(tmp_path: Path, **shop: Any) -> CatalogWorld:
    entry = {"name": "main", "id_shop": 1, "erp_to_shop": REVERSE, **shop}
    return CatalogWorld.build(tmp_path, products=6, shops=[entry])


async def reverse(world: CatalogWorld, **options: Any) -> SyncSummary:
    shop = world.settings.shop_named("main")
    async with world.prestashop_client(shop.id_shop) as prestashop, world.dolibarr_client() as dolibarr:
        return await sync_reverse(world.settings, shop, world.store, prestashop=prestashop, dolibarr=dolibarr,
                                  **options)


def bound_products(world: CatalogWorld) -> dict[str, str]:
    from dolisync.sync.binder import Binder

    return {sid: b.target_id for sid, b in Binder(world.store, "main").all("product").items()}


def simple_products(world: CatalogWorld) -> list[int]:
    with_combinations = {int(row["id_product"]) for row in world.shop.rows("combinations")}
    return sorted(int(p["id"]) for p in world.shop.rows("products") if int(p["id"]) not in with_combinations)


def stock_row(world: CatalogWorld, id_product: int, id_product_attribute: int = 0) -> dict[str, Any]:
    return next(r for r in world.shop.rows("stock_availables")
                if int(r["id_product"]) == id_product and int(r["id_product_attribute"]) == id_product_attribute
                and int(r["id_shop"]) in (0, 1))


async def settle(world: CatalogWorld) -> None:
    """Both directions until nothing more is written (bounded)."""
    for _ in range(4):
        world.shop_log.clear()
        world.erp_log.clear()
        await world.sync()
        await reverse(world)
        if not world.shop_log.writes() and not world.erp_log.writes():
            return
    raise AssertionError(f"never settled: shop {world.shop_log.writes()} erp {world.erp_log.writes()}")


async def test_price_edit_on_each_side_gives_one_write_and_then_quiet(tmp_path: Path) -> None:
    world = build(tmp_path, ownership={"price": "shared"})
    await settle(world)
    products = bound_products(world)
    simple = simple_products(world)
    shop_side, erp_side = simple[0], simple[1]
    # one edit in Dolibarr (product A), one in PrestaShop (product B)
    async with world.dolibarr_client() as dolibarr:
        await dolibarr.request_json("PUT", f"/products/{products[str(shop_side)]}",
                                    body={"price": "123.45", "price_base_type": "HT"})
    async with world.prestashop_client(1) as prestashop:
        await prestashop.patch("products", {"id": erp_side, "price": Decimal("77.700000")})
    world.shop_log.clear()
    world.erp_log.clear()
    for _ in range(3):  # both directions, repeatedly
        await world.sync()
        await reverse(world)
    assert world.shop_log.writes() == [("PATCH", f"/api/products/{shop_side}")]
    assert world.erp_log.writes() == [("PUT", f"/api/index.php/products/{products[str(erp_side)]}")]
    assert Decimal(str(world.shop.get("products", shop_side)["price"])) == Decimal("123.45")
    doli_b = await world.erp_get(f"products/{products[str(erp_side)]}")
    assert Decimal(doli_b["price"]) == Decimal("77.7")
    # quiet period: nothing more, in either direction
    world.shop_log.clear()
    world.erp_log.clear()
    for _ in range(3):
        await world.sync()
        await reverse(world)
    assert world.shop_log.writes() == []
    assert world.erp_log.writes() == []


async def test_stock_follows_dolibarr_without_echo_movement(tmp_path: Path) -> None:
    world = build(tmp_path, stock_buffer=2)
    await world.sync()
    await reverse(world)  # buffer applied once to every row
    products = bound_products(world)
    target = simple_products(world)[0]
    before = int(stock_row(world, target)["quantity"])
    warehouse = world.generated.dolibarr.warehouses[0]["ref"]
    warehouses = await world.erp_list("warehouses")
    warehouse_id = next(int(w["id"]) for w in warehouses if w["ref"] == warehouse)
    async with world.dolibarr_client() as dolibarr:
        await dolibarr.request_json("POST", "/stockmovements", body={
            "product_id": int(products[str(target)]), "warehouse_id": warehouse_id, "qty": 9, "label": "restock"})
    world.shop_log.clear()
    world.erp_log.clear()
    for _ in range(3):
        await reverse(world)
        await world.sync()
    assert world.shop_log.writes() == [("PATCH", f"/api/stock_availables/{stock_row(world, target)['id']}")]
    assert world.erp_log.writes() == []  # the catalog did not post our figure back as a movement
    assert int(stock_row(world, target)["quantity"]) == before + 9
    stock = await world.erp_get(f"products/{products[str(target)]}/stock")
    assert int(Decimal(str(stock["stock_reel"]))) - 2 == before + 9


async def test_shop_edit_of_dolibarr_owned_price_is_overwritten_and_logged(tmp_path: Path) -> None:
    world = build(tmp_path, ownership={"price": "dolibarr"})
    await world.sync()
    await reverse(world)
    products = bound_products(world)
    target = simple_products(world)[0]
    doli = await world.erp_get(f"products/{products[str(target)]}")
    async with world.prestashop_client(1) as prestashop:
        await prestashop.patch("products", {"id": target, "price": Decimal("1.000000")})
    summary = await reverse(world)
    assert summary.ok, summary.to_dict()
    assert Decimal(str(world.shop.get("products", target)["price"])) == Decimal(doli["price"])
    conflicts = Journal(world.store).conflicts(connection="main")
    assert [(c.entity, c.object_id, c.field_group) for c in conflicts] == [("erp_product", str(target), "price")]
    assert conflicts[0].old_value == {"price": "1.000000"}


async def test_dry_run_plans_the_writes_and_sends_none(tmp_path: Path) -> None:
    world = build(tmp_path)
    await world.sync()
    await reverse(world)
    products = bound_products(world)
    target = simple_products(world)[0]
    async with world.dolibarr_client() as dolibarr:
        await dolibarr.request_json("PUT", f"/products/{products[str(target)]}",
                                    body={"price": "55.5", "price_base_type": "HT"})
    world.shop_log.clear()
    plan = await reverse(world, dry_run=True)
    assert world.shop_log.writes() == []
    assert [(w.remote, w.method, w.path) for w in plan.plan.writes] == [("prestashop", "PATCH", f"products/{target}")]
    real = await reverse(world)
    assert real.counts("erp_product").updated == 1
    assert world.shop_log.writes() == [("PATCH", f"/api/products/{target}")]


async def test_variant_price_edit_becomes_the_combination_impact_without_echo(tmp_path: Path) -> None:
    world = build(tmp_path)
    await settle(world)
    from dolisync.sync.binder import Binder

    combinations = {sid: b.target_id for sid, b in Binder(world.store, "main").all("combination").items()}
    combination_id, child = sorted(combinations.items(), key=lambda kv: int(kv[0]))[0]
    combination = world.shop.get("combinations", int(combination_id))
    parent_price = Decimal(str(world.shop.get("products", int(combination["id_product"]))["price"]))
    async with world.dolibarr_client() as dolibarr:
        await dolibarr.request_json("PUT", f"/products/{child}", body={"price": str(parent_price + Decimal("7.25")),
                                                                        "price_base_type": "HT"})
    world.shop_log.clear()
    world.erp_log.clear()
    for _ in range(3):
        await reverse(world)
        await world.sync()
    assert world.shop_log.writes() == [("PATCH", f"/api/combinations/{combination_id}")]
    assert Decimal(str(world.shop.get("combinations", int(combination_id))["price"])) == Decimal("7.25")
    assert world.erp_log.writes() == []  # the catalog does not send the impact back


async def test_product_data_labels_and_on_sale_flag_follow_dolibarr_when_it_owns_them(tmp_path: Path) -> None:
    world = build(tmp_path, descriptions_on_update=True,
                  ownership={"descriptions": "dolibarr", "active": "dolibarr", "price": "dolibarr"})
    await settle(world)
    products = bound_products(world)
    target = simple_products(world)[0]
    async with world.dolibarr_client() as dolibarr:
        await dolibarr.request_json("PUT", f"/products/{products[str(target)]}", body={
            "label": "Renamed in the ERP", "description": "<p>new text</p>", "status": 0, "weight": "2.5",
            "weight_units": 0})
    world.shop_log.clear()
    world.erp_log.clear()
    for _ in range(3):
        await reverse(world)
        await world.sync()
    assert world.shop_log.writes() == [("PATCH", f"/api/products/{target}")]
    assert world.erp_log.writes() == []
    product = world.shop.get("products", target)
    names = product["name"]
    assert set(names.values()) == {"Renamed in the ERP"} and len(names) == 2
    assert set(product["description"].values()) == {"<p>new text</p>"}
    assert str(product["active"]) == "0"
    assert Decimal(str(product["weight"])) == Decimal("2.5")
