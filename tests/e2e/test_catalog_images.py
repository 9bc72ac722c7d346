"""Images: only changed images are uploaded again; cover changes rename; deleted images go.

Each case edits the shop, syncs the images, and checks the exact writes sent to Dolibarr and
the documents it then holds.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dolisync.emulators.dataset import ImageBlob
from dolisync.sync.binder import external_key
from tests.e2e.test_catalog_harness import CatalogWorld

EXT = {"image/jpeg": "jpg", "image/png": "png"}


async def _documents(world: CatalogWorld, product_id: str) -> dict[str, int]:
    try:
        rows = await world.erp_get("documents", modulepart="product", id=product_id)
    except Exception:  # noqa: BLE001 - 404 = none
        rows = []
    return {row["relativename"]: int(row["size"]) for row in rows}


def _name(world: CatalogWorld, image_id: int, cover: bool) -> str:
    return f"ps-{image_id}{'-cover' if cover else ''}.{EXT.get(world.shop.images[image_id].mime, 'jpg')}"


@pytest.mark.anyio
async def test_only_changed_images_are_written(tmp_path: Path) -> None:
    world = CatalogWorld.build(tmp_path, products=12)
    await world.sync("main")
    product = next(p for p in world.shop.rows("products")
                   if len(p.get("associations", {}).get("images") or []) >= 2 and (not p.get("_shops") or 1 in p["_shops"]))
    product_id = int(product["id"])
    images = [int(i["id"]) for i in product["associations"]["images"]]
    cover = int(product["id_default_image"])
    other = next(i for i in images if i != cover)
    doli_id = {p["ref_ext"]: p["id"] for p in await world.erp_list("products")}[external_key("main", "product", product_id)]
    assert await _documents(world, doli_id) == {
        _name(world, i, i == cover): len(world.shop.images[i].content) for i in images}

    # new content for one image: that one file is uploaded again, nothing else
    old = world.shop.images[other]
    world.shop.images[other] = ImageBlob(other, product_id, old.content + b"\x00new", old.mime)
    world.shop.update("products", product_id, {"date_upd": "2030-01-01 00:00:00"})
    world.erp_log.clear()
    await world.sync("main", entities=["images"])
    assert world.erp_log.writes() == [("POST", "/api/index.php/documents/upload")]
    assert (await _documents(world, doli_id))[_name(world, other, False)] == len(old.content) + 4

    # the cover moves: both files are renamed (upload new name, delete old name)
    world.shop.update("products", product_id, {"id_default_image": str(other)})
    world.erp_log.clear()
    await world.sync("main", entities=["images"])
    assert sorted(world.erp_log.writes()) == sorted([("POST", "/api/index.php/documents/upload")] * 2
                                                    + [("DELETE", "/api/index.php/documents")] * 2)
    names = set(await _documents(world, doli_id))
    assert _name(world, other, True) in names and _name(world, cover, False) in names
    assert _name(world, cover, True) not in names and _name(world, other, False) not in names

    # an image deleted in the shop is deleted in Dolibarr
    kept = [{"id": str(i)} for i in images if i != cover]
    world.shop.update("products", product_id, {"associations": {**product["associations"], "images": kept}})
    world.erp_log.clear()
    await world.sync("main", entities=["images"])
    assert world.erp_log.writes() == [("DELETE", "/api/index.php/documents")]
    assert _name(world, cover, False) not in await _documents(world, doli_id)

    # nothing changed: nothing written
    world.erp_log.clear()
    await world.sync("main", entities=["images"])
    assert world.erp_log.writes() == []
