"""Product, variant and category rules of the emulator, exercised through its HTTP API."""

from __future__ import annotations


import httpx2 as httpx
import pytest

from dolisync.emulators.dolibarr.state import DolibarrState

pytestmark = pytest.mark.anyio


async def _post(client: httpx.AsyncClient, path: str, body: dict[str, object]) -> int:
    response = await client.post(path, json=body)
    assert response.status_code == 200, response.text
    return int(response.json())


async def test_duplicate_barcode_consumes_an_id(client: httpx.AsyncClient) -> None:
    first = await _post(client, "/products", {"ref": "A", "label": "a", "barcode": "123"})
    refused = await client.post("/products", json={"ref": "B", "label": "b", "barcode": "123"})
    assert refused.status_code == 500 and "123" in refused.json()["error"]["0"]
    assert await _post(client, "/products", {"ref": "C", "label": "c"}) == first + 2


async def test_price_only_changes_when_price_fields_change(client: httpx.AsyncClient, state: DolibarrState) -> None:
    product = await _post(client, "/products", {"ref": "A", "label": "a", "price": 10, "tva_tx": 20})
    state.events.clear()
    unchanged = (await client.put(f"/products/{product}", json={"label": "b", "price": 10})).json()
    assert unchanged["multiprices"] == [] and [e.triggercode for e in state.events] == []
    changed = (await client.put(f"/products/{product}", json={"price": 11, "caller": "sync"})).json()
    assert changed["price_ttc"] == "13.20000000" and changed["multiprices"] == [11]
    assert [(e.triggercode, e.context) for e in state.events] == [("PRODUCT_PRICE_MODIFY", {"caller": "sync"})]


async def test_surface_and_volume_are_computed(client: httpx.AsyncClient) -> None:
    product = await _post(client, "/products", {"ref": "A", "label": "a", "length": 30, "length_units": -2,
                                               "width": 20, "width_units": -2, "height": 1, "height_units": -2})
    body = (await client.get(f"/products/{product}")).json()
    assert (body["surface"], body["surface_units"], body["volume"], body["volume_units"]) == ("600", "-4", "600", "-6")


async def test_same_features_again_repoints_combination(client: httpx.AsyncClient) -> None:
    parent = await _post(client, "/products", {"ref": "P", "label": "p", "price": 10, "tva_tx": 0})
    attribute = await _post(client, "/products/attributes", {"ref": "SIZE", "label": "Size"})
    value = await _post(client, f"/products/attributes/{attribute}/values", {"ref": "S", "value": "Small"})
    features = {str(attribute): str(value)}
    first = await _post(client, f"/products/{parent}/variants", {"features": features, "price_impact": 1})
    second = await _post(client, f"/products/{parent}/variants", {"features": features, "price_impact": 0})
    combos = (await client.get(f"/products/{parent}/variants")).json()
    assert len(combos) == 1 and combos[0]["fk_product_child"] == str(second) and combos[0]["variation_price"] == "0.00000000"
    assert (await client.get(f"/products/{first}")).status_code == 200  # the first child stays, orphaned
    assert (await client.put("/products/variants/424242", json={"variation_price": 1})).json() == 1
    used = (await client.get(f"/products/attributes/{attribute}")).json()
    assert used["is_used_by_products"] == 1


async def test_category_listing_filters_by_type_and_parent_children(client: httpx.AsyncClient) -> None:
    root = await _post(client, "/categories", {"label": "Root", "type": "product"})
    child = await _post(client, "/categories", {"label": "Child", "type": 0, "fk_parent": root})
    await _post(client, "/categories", {"label": "Customers", "type": "customer"})
    products = (await client.get("/categories", params={"type": "product"})).json()
    assert [c["id"] for c in products] == [str(root), str(child)]
    with_childs = (await client.get(f"/categories/{root}", params={"include_childs": 1})).json()
    assert [c["id"] for c in with_childs["childs"]] == [str(child)]
    by_parent = (await client.get("/categories", params={"sqlfilters": f"(t.fk_parent:=:{root})"})).json()
    assert [c["label"] for c in by_parent] == ["Child"]


async def test_product_list_modes_and_category(client: httpx.AsyncClient) -> None:
    good = await _post(client, "/products", {"ref": "G", "label": "g"})
    service = await _post(client, "/products", {"ref": "S", "label": "s", "type": 1})
    category = await _post(client, "/categories", {"label": "C", "type": "product"})
    await client.post(f"/categories/{category}/objects/product/{service}")
    assert (await client.get("/products", params={"mode": 1, "ids_only": "true"})).json() == [str(good)]
    assert (await client.get("/products", params={"mode": 2, "ids_only": "true"})).json() == [str(service)]
    assert (await client.get("/products", params={"category": category, "ids_only": "true"})).json() == [str(service)]
    bad_sort = await client.get("/products", params={"sortfield": "t.nope"})
    assert bad_sort.status_code == 503 and "Unknown column 't.nope'" in bad_sort.json()["error"]["message"]
