"""The emulator's secondary indexes answer exactly what a full scan would, after every kind of change."""

from __future__ import annotations

import base64
import random
from collections.abc import Hashable
from pathlib import Path

import httpx2 as httpx
import pytest

from dolisync.emulators.dolibarr.state import (
    INDEXED_KEYS,
    DolibarrState,
    FileStore,
    StoredFile,
)

pytestmark = pytest.mark.anyio


async def _post(client: httpx.AsyncClient, path: str, body: dict[str, object]) -> int:
    response = await client.post(path, json=body)
    assert response.status_code == 200, response.text
    return int(response.json())


def _scan(state: DolibarrState, table: str, index: str, key: Hashable) -> list[int]:
    key_of = INDEXED_KEYS[table][index]
    return sorted(row_id for row_id, row in state.table(table).items() if key is not None and key_of(row) == key)


def _assert_indexes_match_scans(state: DolibarrState) -> None:
    for table, indexes in INDEXED_KEYS.items():
        for index, key_of in indexes.items():
            keys = {key_of(row) for row in state.table(table).values()} | {"never-used", ("product", -1), -1}
            for key in keys:
                assert [r["id"] for r in state.lookup(table, index, key)] == _scan(state, table, index, key), (
                    table, index, key)


async def test_renamed_product_is_found_by_its_new_keys_only(client: httpx.AsyncClient) -> None:
    product = await _post(client, "/products", {"ref": "OLD-1", "label": "a", "barcode": "111", "ref_ext": "ext-old"})
    await client.get("/products/ref/OLD-1")  # the indexes now exist
    changed = await client.put(f"/products/{product}", json={"ref": "NEW-1", "barcode": "222", "ref_ext": "ext-new"})
    assert changed.status_code == 200, changed.text
    for path in ("/products/ref/new-1", "/products/barcode/222", "/products/ref_ext/EXT-NEW"):
        answer = await client.get(path)
        assert answer.status_code == 200 and answer.json()["id"] == str(product), path
    for path in ("/products/ref/OLD-1", "/products/barcode/111", "/products/ref_ext/ext-old"):
        assert (await client.get(path)).status_code == 404, path
    refused = await client.post("/products", json={"ref": "new-1", "label": "dup"})
    assert refused.status_code == 500 and "ErrorProductAlreadyExists" in refused.text
    refused = await client.post("/products", json={"ref": "OTHER", "label": "dup", "barcode": "222"})
    assert refused.status_code == 500 and "222" in refused.text
    # the old keys are free again
    again = await _post(client, "/products", {"ref": "OLD-1", "label": "b", "barcode": "111"})
    assert (await client.get("/products/ref/old-1")).json()["id"] == str(again)
    # documents and category links find the product by its new ref, not the old one
    upload = {"filename": "a.txt", "modulepart": "product", "filecontent": base64.b64encode(b"x").decode(),
              "fileencoding": "base64"}
    assert (await client.post("/documents/upload", json={**upload, "ref": "NEW-1"})).status_code == 200
    listed = await client.get("/documents", params={"modulepart": "product", "ref": "NEW-1"})
    assert [d["relativename"] for d in listed.json()] == ["a.txt"]
    category = await _post(client, "/categories", {"label": "Idx", "type": "product"})
    linked = await client.post(f"/categories/{category}/objects/product/ref/NEW-1")
    assert linked.status_code == 200, linked.text
    objects = await client.get(f"/categories/{category}/objects", params={"type": "product", "onlyids": 1})
    assert objects.json() == [str(product)]


async def test_deleted_product_leaves_no_index_entry(client: httpx.AsyncClient, state: DolibarrState) -> None:
    product = await _post(client, "/products", {"ref": "GONE", "label": "a", "barcode": "333"})
    category = await _post(client, "/categories", {"label": "Gone", "type": "product"})
    assert (await client.post(f"/categories/{category}/objects/product/{product}")).status_code == 200
    assert (await client.delete(f"/products/{product}")).status_code == 200
    assert (await client.get("/products/ref/GONE")).status_code == 404
    assert (await client.get(f"/categories/{category}/objects", params={"type": "product", "onlyids": 1})).json() == []
    assert await _post(client, "/products", {"ref": "GONE", "label": "b", "barcode": "333"}) > product
    _assert_indexes_match_scans(state)


async def test_stock_variants_and_links_follow_the_api(client: httpx.AsyncClient, state: DolibarrState) -> None:
    parent = await _post(client, "/products", {"ref": "PAR", "label": "p", "price": 10})
    attribute = await _post(client, "/products/attributes", {"ref": "SIZE", "label": "Size"})
    small = await _post(client, f"/products/attributes/{attribute}/values", {"ref": "S", "value": "S"})
    large = await _post(client, f"/products/attributes/{attribute}/values", {"ref": "L", "value": "L"})
    child = await _post(client, f"/products/{parent}/variants", {"features": {str(attribute): str(small)}})
    await _post(client, f"/products/{parent}/variants", {"features": {str(attribute): str(large)}})
    again = await _post(client, f"/products/{parent}/variants", {"features": {str(attribute): str(small)},
                                                                  "price_impact": 2})
    variants = (await client.get(f"/products/{parent}/variants")).json()
    assert len(variants) == 2 and variants[0]["fk_product_child"] == str(again) != str(child)
    warehouse = await _post(client, "/warehouses", {"label": "Index test"})
    for qty in (5, -2):
        await _post(client, "/stockmovements", {"product_id": again, "warehouse_id": warehouse, "qty": qty})
    assert str((await client.get(f"/products/{again}/stock")).json()["stock_reel"]) == "3"
    category = await _post(client, "/categories", {"label": "Var", "type": "product"})
    for _ in range(2):  # linking is idempotent
        assert (await client.post(f"/categories/{category}/objects/product/{again}")).status_code == 200
    assert (await client.delete(f"/categories/{category}/objects/product/{again}")).status_code == 200
    assert (await client.get(f"/products/{again}/categories")).json() == []
    _assert_indexes_match_scans(state)


def test_random_changes_keep_indexes_equal_to_scans() -> None:
    state = DolibarrState()
    rng = random.Random(7)
    refs = ["a", "A", "b", "c", "C", None]
    for _ in range(400):
        action = rng.randrange(6)
        products = list(state.table("products"))
        if action == 0 or not products:
            state.insert("products", {"ref": rng.choice(refs[:-1]), "barcode": rng.choice(refs),
                                      "ref_ext": rng.choice(refs)})
            state.insert("category_links", {"fk_categorie": rng.randrange(3), "type": "product",
                                            "fk_object": rng.randrange(1, 20)})
            state.insert("product_stock", {"fk_product": rng.randrange(1, 20), "fk_entrepot": 1, "reel": 1})
        elif action == 1:
            row = state.table("products")[rng.choice(products)]
            row.update(ref=rng.choice(refs[:-1]), barcode=rng.choice(refs))
            state.reindex("products", row)
        elif action == 2:
            state.delete("products", rng.choice(products))
            links = list(state.table("category_links"))
            if links:
                state.delete("category_links", rng.choice(links))
        elif action == 3:  # rows added and removed behind the state's back are noticed
            state.table("products")[10_000 + len(products)] = {"id": 10_000 + len(products), "ref": "behind"}
        elif action == 4:
            del state.table("products")[rng.choice(products)]
        else:
            _assert_indexes_match_scans(state)
    _assert_indexes_match_scans(state)


def test_indexes_and_file_folders_are_rebuilt_on_load(tmp_path: Path) -> None:
    state = DolibarrState()
    first = state.insert("products", {"ref": "Keep", "barcode": "9"})
    assert [r["id"] for r in state.lookup("products", "ref", "keep")] == [first]
    state.files["produit/Keep/b.png"] = StoredFile(b"b", 1, position=1)
    state.files["produit/Keep/a.png"] = StoredFile(b"a", 1, position=2)
    state.files["produit/Keep2/c.png"] = StoredFile(b"c", 1, position=1)
    target = tmp_path / "state.json"
    state.save(target)
    loaded = DolibarrState.load(target)
    assert isinstance(loaded.files, FileStore)
    assert [r["id"] for r in loaded.lookup("products", "barcode", "9")] == [first]
    assert loaded.files_in("produit/Keep") == ["produit/Keep/b.png", "produit/Keep/a.png"]
    loaded.files.pop("produit/Keep/b.png")
    del loaded.files["produit/Keep2/c.png"]
    assert loaded.files_in("produit/Keep") == ["produit/Keep/a.png"] and loaded.files_in("produit/Keep2") == []
    assert loaded.files_in("produit") == ["produit/Keep/a.png"]
