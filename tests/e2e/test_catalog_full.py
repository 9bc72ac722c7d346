"""A generated store (500 products, combinations, 2 languages, 2 shops) lands in Dolibarr.

Both sides are compared field by field through their APIs: every category (label in the shop
language, parent), product (ref, label, description, price HT or TTC, VAT, cost, weight and
dimensions, on sale, barcode and type, categories), variant or combination product (ref,
impacts, barcode), stock level in the shop's warehouse and image document (name, cover, size).
Expected values are computed here from the PrestaShop data, independently of the mappers.
Then: a second sync writes nothing, and editing one product writes that product only.
"""

from __future__ import annotations

import asyncio
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest

from dolisync.clients.prestashop_records import (
    Category,
    Combination,
    Product,
    ProductOption,
    ProductOptionValue,
    StockAvailable,
)
from dolisync.emulators.generator.barcodes import is_valid_ean13, is_valid_upc
from dolisync.sync.binder import external_key
from tests.e2e.test_catalog_harness import CatalogWorld

SHOPS = [
    {"name": "main", "id_shop": 1, "language": "fr", "price_base": "HT", "combinations": "variants"},
    {"name": "second", "id_shop": 2, "language": "en", "price_base": "TTC", "combinations": "products",
     "ref_prefix": "S2-"},
]
LANG = {"fr": 2, "en": 1}
# The second shop skips images and specific prices to keep the test fast; the first covers them.
ENTITIES = {"main": None, "second": ["categories", "products", "stock"]}
EXT = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp"}


def q(value: Decimal, places: str) -> Decimal:
    return value.quantize(Decimal(places), rounding=ROUND_HALF_UP)


def num(value: Any) -> Decimal:
    return Decimal(str(value if value not in (None, "") else 0))


class ShopView:
    """The PrestaShop side of one shop, read through the Webservice in that shop's context."""

    def __init__(self, world: CatalogWorld, entry: dict[str, Any]) -> None:
        self.world = world
        self.entry = entry
        self.name = entry["name"]
        self.lang = LANG[entry["language"]]
        self.products: list[Product] = []
        self.combinations: dict[int, list[Combination]] = {}
        self.categories: dict[int, Category] = {}
        self.stock: dict[tuple[int, int], int] = {}
        self.values: dict[int, ProductOptionValue] = {}
        self.groups: dict[int, ProductOption] = {}

    async def load(self) -> None:
        async with self.world.prestashop_client(self.entry["id_shop"]) as ps:
            self.products = [p async for p in ps.list("products", record_type=Product)]
            for c in [c async for c in ps.list("combinations", record_type=Combination)]:
                self.combinations.setdefault(c.id_product, []).append(c)
            self.categories = {c.id: c async for c in ps.list("categories", record_type=Category)}
            for row in [r async for r in ps.list("stock_availables", record_type=StockAvailable)]:
                if row.id_shop == self.entry["id_shop"]:
                    self.stock[(row.id_product, row.id_product_attribute)] = row.quantity
            self.values = {v.id: v async for v in ps.list("product_option_values", record_type=ProductOptionValue)}
            self.groups = {g.id: g async for g in ps.list("product_options", record_type=ProductOption)}
        self.home = next(int(s["id_category"]) for s in self.world.shop.rows("shops")
                         if int(s["id"]) == self.entry["id_shop"])

    def text(self, values: dict[int, str]) -> str:
        return (values.get(self.lang) or next((v for v in values.values() if v), "")).strip()

    def rate(self, group: int) -> Decimal:
        if group == 0:
            return Decimal(0)
        france = next(int(c["id"]) for c in self.world.shop.rows("countries") if c["iso_code"] == "FR")
        rule = next(r for r in self.world.shop.rows("tax_rules")
                    if int(r["id_tax_rules_group"]) == group and int(r["id_country"]) == france
                    and int(r["id_state"] or 0) == 0)
        return num(self.world.shop.get("taxes", int(rule["id_tax"]))["rate"])

    def under_home(self, category_id: int) -> bool:
        seen = set()
        current = self.categories.get(category_id)
        while current is not None and current.id not in seen:
            seen.add(current.id)
            if current.id_parent == self.home:
                return True
            current = self.categories.get(current.id_parent)
        return False

    def key(self, entity: str, source_id: int) -> str:
        return external_key(self.name, entity, source_id)


def expected_barcode(ean13: str, upc: str, taken: set[str] = frozenset(), isbn: str = "") -> tuple[str, int]:  # type: ignore[assignment]
    """What Dolibarr should hold: the first valid code, unless another shop's copy already has it
    (Dolibarr barcodes are unique: the later shop's copy goes without, with a warning)."""
    if ean13 and is_valid_ean13(ean13):
        return ("", 0) if ean13 in taken else (ean13, 2)
    if upc and is_valid_upc(upc):
        return ("", 0) if upc in taken else (upc, 3)
    compact = isbn.replace("-", "")
    if len(compact) == 13 and compact[:3] in ("978", "979") and is_valid_ean13(compact):
        return ("", 0) if compact in taken else (compact, 4)
    return "", 0


class ErpView:
    """The Dolibarr side, read through its REST API."""

    def __init__(self, world: CatalogWorld) -> None:
        self.world = world

    async def load(self) -> None:
        self.products = await self.world.erp_list("products", includestockdata=1)
        self.by_key: dict[str, list[dict[str, Any]]] = {}
        for product in self.products:
            self.by_key.setdefault(product.get("ref_ext") or "", []).append(product)
        self.categories = {c["id"]: c for c in await self.world.erp_list("categories", type="product")}
        self.category_by_key = {c.get("ref_ext"): c for c in self.categories.values()}
        self.warehouse = next(int(w["id"]) for w in await self.world.erp_list("warehouses")
                              if w["ref"] == self.world.settings.shop[0].default_warehouse)
        self.links: dict[str, set[str]] = {}  # Dolibarr product id -> ref_ext of its categories
        for category in self.categories.values():
            for product_id in await self.world.erp_get(f"categories/{category['id']}/objects", type="product",
                                                       onlyids=1) or []:
                self.links.setdefault(str(product_id), set()).add(category.get("ref_ext") or "")

    def one(self, key: str) -> dict[str, Any]:
        found = self.by_key.get(key, [])
        assert len(found) == 1, f"{len(found)} Dolibarr products carry {key}"
        return found[0]


def check_product_fields(doli: dict[str, Any], shop: ShopView, product: Product, *, ref: str, label: str,
                         price_ht: Decimal, weight: Decimal, barcode: tuple[str, int], cost: Decimal) -> None:
    where = f"{shop.name} {ref}"
    assert doli["ref"] == ref, where
    assert doli["label"] == label, where
    rate = shop.rate(product.id_tax_rules_group)
    assert num(doli["tva_tx"]) == rate, where
    if shop.entry["price_base"] == "TTC":
        assert doli["price_base_type"] == "TTC", where
        assert num(doli["price_ttc"]) == q(price_ht * (100 + rate) / 100, "0.01"), where
    else:
        assert doli["price_base_type"] == "HT", where
        assert num(doli["price"]) == q(price_ht, "0.00001"), where
    assert str(doli["status"]) == ("1" if product.active else "0"), where
    assert num(doli["weight"]) == weight and str(doli["weight_units"]) == "0", where
    assert num(doli["length"]) == product.depth and num(doli["width"]) == product.width, where
    assert num(doli["height"]) == product.height and str(doli["length_units"]) == "-2", where
    assert num(doli["cost_price"]) == q(cost, "0.00001"), where
    assert (doli.get("barcode") or "", int(doli.get("barcode_type") or 0)) == barcode, where
    description = shop.text(product.description) or shop.text(product.description_short)
    assert (doli.get("description") or "") == description, where


async def check_links(world: CatalogWorld, erp: ErpView, shop: ShopView, doli_id: str, product: Product) -> None:
    got = erp.links.get(str(doli_id), set())
    want = {shop.key("category", cid) for cid in product.associations.categories if shop.under_home(cid)}
    assert got == want, f"{shop.name} product {product.id} categories"


async def check_stock(world: CatalogWorld, erp: ErpView, shop: ShopView, doli_id: str, quantity: int) -> None:
    product = next(p for p in erp.products if str(p["id"]) == str(doli_id))
    per = product.get("stock_warehouse") or {}
    real = num(per.get(str(erp.warehouse), {}).get("real", 0)) if isinstance(per, dict) else Decimal(0)
    assert real == quantity, f"{shop.name} stock of Dolibarr product {doli_id}"


async def check_images(world: CatalogWorld, shop: ShopView, doli_id: str, image_ids: list[int], cover: int) -> None:
    expected = {}
    for image_id in image_ids:
        blob = world.shop.images[image_id]
        suffix = "-cover" if image_id == cover else ""
        expected[f"ps-{image_id}{suffix}.{EXT.get(blob.mime, 'jpg')}"] = len(blob.content)
    try:
        documents = await world.erp_get("documents", modulepart="product", id=doli_id)
    except Exception:  # noqa: BLE001 - 404 = no document
        documents = []
    got = {d["relativename"]: int(d["size"]) for d in documents}
    assert got == expected, f"{shop.name} images of Dolibarr product {doli_id}"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> CatalogWorld:
    world = CatalogWorld.build(tmp_path_factory.mktemp("catalog"), products=500, shops=SHOPS)

    async def first_sync() -> None:
        for entry in SHOPS:
            summary = await world.sync(entry["name"], entities=ENTITIES[entry["name"]])
            assert summary.error is None, summary.error
            assert summary.parked == [], [p.message for p in summary.parked[:5]]
            world.first_summaries = getattr(world, "first_summaries", {}) | {entry["name"]: summary}  # type: ignore[attr-defined]

    asyncio.run(first_sync())
    return world


def test_catalog_lands_field_by_field(world: CatalogWorld) -> None:
    async def check() -> None:
        erp = ErpView(world)
        await erp.load()
        assert all(len(items) == 1 for key, items in erp.by_key.items() if key), "duplicate ref_ext"
        taken: set[str] = set()  # barcodes held by the shops compared before (synced before too)
        for entry in SHOPS:
            shop = ShopView(world, entry)
            await shop.load()
            prefix = entry.get("ref_prefix", "")
            with_images = ENTITIES[entry["name"]] is None
            assert len(shop.products) >= 400
            # categories: every one under the shop's home, label in the shop language, parent kept
            root = erp.category_by_key[shop.key("category_root", shop.home)]
            assert root["label"] == entry["name"]
            for category in shop.categories.values():
                if not shop.under_home(category.id):
                    assert shop.key("category", category.id) not in erp.category_by_key
                    continue
                doli = erp.category_by_key[shop.key("category", category.id)]
                assert doli["label"].startswith(shop.text(category.name))
                parent_key = (shop.key("category_root", shop.home) if category.id_parent == shop.home
                              else shop.key("category", category.id_parent))
                assert str(doli["fk_parent"]) == str(erp.category_by_key[parent_key]["id"])
            with_combinations = 0
            for product in shop.products:
                name = shop.text(product.name)
                ref = prefix + (product.reference or f"PS{product.id}")
                combinations = sorted(shop.combinations.get(product.id, []), key=lambda c: c.id)
                cover = product.id_default_image
                if combinations and entry["combinations"] == "products":
                    with_combinations += 1
                    assert not erp.by_key.get(shop.key("product", product.id))
                    for c in combinations:
                        doli = erp.one(shop.key("combination", c.id))
                        parts = sorted((shop.groups[shop.values[v].id_attribute_group].position,
                                        f"{shop.text(shop.groups[shop.values[v].id_attribute_group].public_name or shop.groups[shop.values[v].id_attribute_group].name)}: {shop.text(shop.values[v].name)}")
                                       for v in c.associations.product_option_values)
                        c_ref = prefix + c.reference if c.reference else f"{ref}-{c.id}"
                        check_product_fields(doli, shop, product, ref=c_ref,
                                             label=f"{name} - {', '.join(t for _, t in parts)}",
                                             price_ht=product.price + c.price, weight=product.weight + c.weight,
                                             barcode=expected_barcode(c.ean13, c.upc, taken, c.isbn),
                                             cost=c.wholesale_price or product.wholesale_price)
                        await check_links(world, erp, shop, doli["id"], product)
                        await check_stock(world, erp, shop, doli["id"], shop.stock[(product.id, c.id)])
                        images = list(c.associations.images) or list(product.associations.images)
                        if with_images:
                            await check_images(world, shop, doli["id"], images,
                                           cover if cover in images else (images[0] if images else 0))
                    continue
                doli = erp.one(shop.key("product", product.id))
                check_product_fields(doli, shop, product, ref=ref, label=name, price_ht=product.price,
                                     weight=product.weight,
                                     barcode=expected_barcode(product.ean13, product.upc, taken, product.isbn),
                                     cost=product.wholesale_price)
                await check_links(world, erp, shop, doli["id"], product)
                if with_images:
                    await check_images(world, shop, doli["id"], list(product.associations.images), cover)
                if not combinations:
                    await check_stock(world, erp, shop, doli["id"], shop.stock[(product.id, 0)])
                    continue
                with_combinations += 1
                variants = await world.erp_get(f"products/{doli['id']}/variants")
                by_key = {v["variation_ref_ext"]: v for v in variants}
                assert len(variants) == len(combinations)
                for c in combinations:
                    variant = by_key[shop.key("combination", c.id)]
                    assert num(variant["variation_price"]) == q(c.price, "0.00001")
                    assert num(variant["variation_weight"]) == c.weight
                    child = erp.one(shop.key("combination", c.id))
                    assert str(child["id"]) == str(variant["fk_product_child"])
                    assert child["ref"] == (prefix + c.reference if c.reference else f"{ref}-{c.id}")
                    assert (child.get("barcode") or "", int(child.get("barcode_type") or 0)) == \
                        expected_barcode(c.ean13, c.upc, taken, c.isbn)
                    values = {(str(a["fk_prod_attr"]), str(a["fk_prod_attr_val"])) for a in variant["attributes"]}
                    assert len(values) == len(c.associations.product_option_values)
                    await check_stock(world, erp, shop, child["id"], shop.stock[(product.id, c.id)])
            assert with_combinations >= 50
            taken |= {p["barcode"] for key, items in erp.by_key.items() if key.startswith(f"ps-{shop.name}-")
                      for p in items if p.get("barcode")}

    asyncio.run(check())


def test_second_sync_writes_nothing(world: CatalogWorld) -> None:
    async def again() -> None:
        for entry in SHOPS:
            world.erp_log.clear()
            summary = await world.sync(entry["name"], entities=ENTITIES[entry["name"]])
            assert world.erp_log.writes() == []
            assert summary.requests["dolibarr"].writes == 0
            assert summary.requests["prestashop"].writes == 0
            counts = summary.entities
            assert counts["product"].created == counts["product"].updated == 0
            assert counts["product"].unchanged >= 400

    asyncio.run(again())


def test_editing_one_product_writes_that_product_only(world: CatalogWorld) -> None:
    async def edit_and_sync() -> None:
        shop = ShopView(world, SHOPS[0])
        await shop.load()
        product = next(p for p in shop.products if not shop.combinations.get(p.id) and p.associations.images)
        world.shop.update("products", product.id, {"weight": str(product.weight + Decimal("0.5"))})
        world.erp_log.clear()
        summary = await world.sync("main")
        erp = ErpView(world)
        await erp.load()
        doli = erp.one(shop.key("product", product.id))
        writes = world.erp_log.writes()
        assert writes == [("PUT", f"/api/index.php/products/{doli['id']}")]
        assert num(doli["weight"]) == product.weight + Decimal("0.5")
        assert summary.entities["product"].updated == 1

    asyncio.run(edit_and_sync())
