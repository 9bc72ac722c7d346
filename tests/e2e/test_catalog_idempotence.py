"""Crash safety, dry run and matching of the catalog sync.

* The sync is "killed" (a ``BaseException`` raised from the Dolibarr transport, after or
  before the request is applied, and for every later request) at 12 different points; each
  time it is simply run again. At the end: no duplicate, nothing missing, stock not moved
  twice, and one more sync writes nothing.
* ``dry_run`` reads but writes nothing, stores nothing, and plans what the real run does.
* ``matching = "ref"`` adopts an existing Dolibarr product; two Dolibarr products carrying
  one external key park the item instead of creating a third.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import MutableMapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from dolisync.sync.binder import Binder, external_key
from tests.e2e.test_catalog_harness import CatalogWorld

Scope = MutableMapping[str, Any]


class Killed(BaseException):
    """The process died (not an ``Exception``: nothing in the sync may catch it)."""


class Killer:
    """ASGI wrapper: the ``at``-th write request (and everything after it) kills the process."""

    def __init__(self) -> None:
        self.at: int | None = None
        self.writes = 0
        self.apply_last = True
        self.dead = False

    def arm(self, at: int, *, apply_last: bool) -> None:
        self.at, self.writes, self.apply_last, self.dead = at, 0, apply_last, False

    def disarm(self) -> None:
        self.at, self.dead = None, False

    def wrap(self, app: Any) -> Any:
        async def wrapper(scope: Scope, receive: Any, send: Any) -> None:
            if scope.get("type") != "http" or self.at is None:
                await app(scope, receive, send)
                return
            if self.dead:
                raise Killed()
            if scope["method"] not in ("GET", "HEAD"):
                self.writes += 1
                if self.writes >= self.at:
                    self.dead = True
                    if self.apply_last:  # the write happened, the answer never came back
                        await app(scope, receive, lambda message: asyncio.sleep(0))
                    raise Killed()
            await app(scope, receive, send)
        return wrapper


def run(coro: Any) -> Any:
    """Each sync in its own event loop: a "killed" run leaves no task behind."""
    return asyncio.run(coro)


def _install_killer(world: CatalogWorld, killer: Killer) -> None:
    original = world._erp_transport

    def transport() -> Any:
        base = original()
        base.app = killer.wrap(base.app)
        return base

    world._erp_transport = transport  # type: ignore[method-assign]


def test_killed_at_twelve_points_then_rerun_leaves_no_duplicate(tmp_path: Path) -> None:
    world = CatalogWorld.build(tmp_path, products=25)
    killer = Killer()
    _install_killer(world, killer)
    points = [1, 2, 3, 5, 8, 13, 21, 1, 34, 2, 40, 55]  # a full first sync is ~290 writes
    for index, at in enumerate(points):
        killer.arm(at, apply_last=index % 2 == 0)
        with pytest.raises(Killed):
            run(world.sync("main"))
    killer.disarm()
    final = run(world.sync("main"))
    assert final.parked == [], [p.message for p in final.parked]
    world.erp_log.clear()
    again = run(world.sync("main"))
    assert world.erp_log.writes() == [] and again.requests["dolibarr"].writes == 0

    async def check() -> None:
        products = await world.erp_list("products", includestockdata=1)
        assert all(n == 1 for n in Counter(p["ref"] for p in products).values())
        keyed = Counter(p["ref_ext"] for p in products)
        assert all(n == 1 for key, n in keyed.items()), [k for k, n in keyed.items() if n > 1]
        categories = await world.erp_list("categories", type="product")
        assert all(n == 1 for n in Counter(c["ref_ext"] for c in categories).values())
        attributes = await world.erp_list("products/attributes")
        assert all(n == 1 for n in Counter(a["ref"] for a in attributes).values())
        for attribute in attributes:
            values = await world.erp_get(f"products/attributes/{attribute['id']}/values") or []
            assert all(n == 1 for n in Counter(v["ref"] for v in values).values())
        by_key = {p["ref_ext"]: p for p in products}
        warehouse = next(int(w["id"]) for w in await world.erp_list("warehouses") if w["ref"] == "WH-MAIN")
        shop_products = [p for p in world.shop.rows("products") if not p.get("_shops") or 1 in p["_shops"]]
        combinations = Counter(int(c["id_product"]) for c in world.shop.rows("combinations"))
        stock = {(int(r["id_product"]), int(r["id_product_attribute"])): int(r["quantity"])
                 for r in world.shop.rows("stock_availables") if int(r["id_shop"]) == 1}
        for row in shop_products:
            product = by_key[external_key("main", "product", row["id"])]  # nothing missing
            variants = await world.erp_get(f"products/{product['id']}/variants") or []
            assert len(variants) == combinations.get(int(row["id"]), 0)
            assert len({v["variation_ref_ext"] for v in variants}) == len(variants)
            targets = [(product, 0)] if not variants else [
                (by_key[v["variation_ref_ext"]], int(v["variation_ref_ext"].rsplit("-", 1)[1])) for v in variants]
            for doli, id_attribute in targets:  # no stock movement applied twice
                per = doli.get("stock_warehouse") or {}
                real = Decimal(per.get(str(warehouse), {}).get("real", "0")) if isinstance(per, dict) else Decimal(0)
                assert real == stock[(int(row["id"]), id_attribute)], doli["ref"]
            images = row.get("associations", {}).get("images") or []
            try:
                documents = await world.erp_get("documents", modulepart="product", id=product["id"])
            except Exception:  # noqa: BLE001 - 404 = none
                documents = []
            assert len(documents) == len(images), product["ref"]

    run(check())


def test_dry_run_writes_nothing_and_plans_the_real_run(tmp_path: Path) -> None:
    world = CatalogWorld.build(tmp_path, products=15)
    planned = run(world.sync("main", dry_run=True))
    assert world.erp_log.writes() == []
    assert planned.requests["dolibarr"].writes == 0 and planned.dry_run
    assert Binder(world.store, "main").all("product") == {}
    plan = Counter((w.method, w.path) for w in planned.plan.writes)
    assert plan[("POST", "/products")] == planned.entities["product"].created > 0
    real = run(world.sync("main"))
    assert real.entities["product"].created == planned.entities["product"].created
    assert real.entities["combination"].created == planned.entities["combination"].created
    assert len(world.erp_log.writes()) == len(planned.plan.writes)


def test_ref_matching_adopts_and_two_candidates_park(tmp_path: Path) -> None:
    world = CatalogWorld.build(tmp_path, products=10, shops=[{"name": "main", "id_shop": 1, "matching": "ref"}])
    simple = [p for p in world.shop.rows("products")
              if (not p.get("_shops") or 1 in p["_shops"])
              and not any(c["id_product"] == p["id"] for c in world.shop.rows("combinations"))]
    adopted, doubled = simple[0], simple[1]

    async def prepare() -> tuple[int, list[int]]:
        async with world.dolibarr_client() as erp:
            existing = await erp.create("products", {"ref": adopted["reference"], "label": "made in Dolibarr",
                                                     "price": "1", "price_base_type": "HT", "status": 1})
            key = external_key("main", "product", doubled["id"])
            twins = [await erp.create("products", {"ref": f"TWIN-{n}", "label": "twin", "ref_ext": key,
                                                   "price": "1", "price_base_type": "HT"}) for n in (1, 2)]
        return existing, twins

    existing, twins = run(prepare())
    summary = run(world.sync("main", entities=["products"]))
    parked = {(i.entity, i.source_id): i.message for i in summary.parked}
    assert list(parked) == [("product", str(doubled["id"]))]
    assert "2 Dolibarr objects match" in parked[("product", str(doubled["id"]))]

    async def check() -> None:
        products = await world.erp_list("products")
        same_ref = [p for p in products if p["ref"] == adopted["reference"]]
        assert [int(p["id"]) for p in same_ref] == [existing]
        assert same_ref[0]["ref_ext"] == external_key("main", "product", adopted["id"])
        assert same_ref[0]["label"] != "made in Dolibarr"
        keyed = [int(p["id"]) for p in products if p["ref_ext"] == external_key("main", "product", doubled["id"])]
        assert sorted(keyed) == sorted(twins)

    run(check())


def test_category_links_follow_the_shop_and_spare_dolibarr_ones(tmp_path: Path) -> None:
    world = CatalogWorld.build(tmp_path, products=12)
    run(world.sync("main", entities=["categories", "products"]))
    home = int(world.shop.get("shops", 1)["id_category"])
    product = next(p for p in world.shop.rows("products")
                   if (not p.get("_shops") or 1 in p["_shops"])
                   and len([c for c in p["associations"]["categories"] if int(c["id"]) != home]) >= 2)
    kept, dropped = [int(c["id"]) for c in product["associations"]["categories"] if int(c["id"]) != home][:2]

    async def links(doli_id: str) -> set[str]:
        return {c.get("ref_ext") or c["label"] for c in await world.erp_get(f"products/{doli_id}/categories")}

    async def prepare() -> str:
        doli_id = {p["ref_ext"]: p["id"] for p in await world.erp_list("products")}[
            external_key("main", "product", product["id"])]
        async with world.dolibarr_client() as erp:  # a category made and linked in Dolibarr by a person
            own = await erp.create("categories", {"label": "Made in Dolibarr", "type": "product"})
            await erp.request_json("POST", f"categories/{own}/objects/product/{doli_id}")
        return str(doli_id)

    doli_id = run(prepare())
    assert external_key("main", "category", dropped) in run(links(doli_id))
    remaining = [c for c in product["associations"]["categories"] if int(c["id"]) != dropped]
    world.shop.update("products", int(product["id"]), {"associations": {**product["associations"],
                                                                          "categories": remaining}})
    world.erp_log.clear()
    run(world.sync("main", entities=["categories", "products"]))
    now = run(links(doli_id))
    assert external_key("main", "category", dropped) not in now
    assert external_key("main", "category", kept) in now and "Made in Dolibarr" in now
    assert world.erp_log.writes() == [  # the product itself did not change: no PUT
        ("DELETE", f"/api/index.php/categories/{world_category_id(world, dropped)}/objects/product/{doli_id}")]


def world_category_id(world: CatalogWorld, category_id: int) -> str:
    """Dolibarr id of the copy of a PrestaShop category of shop ``main``."""
    async def find() -> str:
        categories = await world.erp_list("categories", type="product")
        return next(str(c["id"]) for c in categories if c.get("ref_ext") == external_key("main", "category", category_id))
    return run(find())
