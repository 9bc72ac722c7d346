"""Catalogue behaviour dolisync relies on (emulator by default, a real Dolibarr when configured)."""

from __future__ import annotations

import base64
from decimal import Decimal

import httpx2 as httpx
import pytest

pytestmark = pytest.mark.anyio


async def _create_product(client: httpx.AsyncClient, ref: str, **fields: object) -> int:
    response = await client.post("/products", json={"ref": ref, "label": f"label {ref}", **fields})
    assert response.status_code == 200, response.text
    return int(response.json())


async def test_product_found_back_by_ref_ext_and_updated(dolibarr: httpx.AsyncClient, prefix: str) -> None:
    ref_ext = f"ps:1:{prefix}"
    product_id = await _create_product(dolibarr, f"{prefix}-P1", ref_ext=ref_ext, price=20, price_base_type="HT",
                                       tva_tx=20, status=1, cost_price=7.5)
    try:
        found = await dolibarr.get("/products", params={"sqlfilters": f"(t.ref_ext:=:'{ref_ext}')"})
        assert [p["id"] for p in found.json()] == [str(product_id)]
        product = found.json()[0]
        assert product["price"] == "20.00000000" and product["price_ttc"] == "24.00000000"
        assert product["tva_tx"] == "20.0000" and product["stock_reel"] is None
        updated = await dolibarr.put(f"/products/{product_id}", json={"price_ttc": 36, "price_base_type": "TTC"})
        assert updated.status_code == 200
        assert (updated.json()["price"], updated.json()["price_base_type"]) == ("30.00000000", "TTC")
        refused = await dolibarr.put(f"/products/{product_id}", json={"stock_reel": 3})
        assert refused.status_code == 400 and "stockmovements" in refused.json()["error"]["message"]
        duplicate = await dolibarr.post("/products", json={"ref": f"{prefix}-P1", "label": "dup"})
        assert duplicate.status_code == 500
    finally:
        await dolibarr.delete(f"/products/{product_id}")
    gone = await dolibarr.get(f"/products/{product_id}")
    assert gone.status_code == 404 and gone.json()["error"]["code"] == 404


async def test_product_defaults_before_price_base_and_stock(dolibarr: httpx.AsyncClient, prefix: str) -> None:
    """Checked on a real 23.0.0-beta: no base sent stays "", ``stock_reel`` is NULL until a movement."""
    product_id = await _create_product(dolibarr, f"{prefix}-N", price=10, tva_tx=20)
    warehouse = int((await dolibarr.post("/warehouses", json={"label": f"{prefix}-N", "statut": 1})).json())
    body = (await dolibarr.get(f"/products/{product_id}")).json()
    assert (body["price_base_type"], body["price_ttc"], body["stock_reel"]) == ("", "12.00000000", None)
    assert body["date_modification"] == ""  # GREATEST(p.tms, pef.tms) is NULL without an extrafields row
    updated = (await dolibarr.put(f"/products/{product_id}", json={"price": 11})).json()
    assert (updated["price_base_type"], updated["price"], updated["price_ttc"]) == ("", "11.00000000", "13.20000000")
    moved = await dolibarr.post("/stockmovements", json={"product_id": product_id, "warehouse_id": warehouse, "qty": 5})
    assert moved.status_code == 200, moved.text
    assert (await dolibarr.get(f"/products/{product_id}")).json()["stock_reel"] == "5"


async def test_ttc_create_needs_price_ttc(dolibarr: httpx.AsyncClient, prefix: str) -> None:
    wrong = await _create_product(dolibarr, f"{prefix}-W", price=12, price_base_type="TTC", tva_tx=20)
    right = await _create_product(dolibarr, f"{prefix}-R", price_ttc=12, price_base_type="TTC", tva_tx=20)
    try:
        assert (await dolibarr.get(f"/products/{wrong}")).json()["price_ttc"] == "0.00000000"
        body = (await dolibarr.get(f"/products/{right}")).json()
        assert (body["price"], body["price_ttc"]) == ("10.00000000", "12.00000000")
    finally:
        for product_id in (wrong, right):
            await dolibarr.delete(f"/products/{product_id}")


async def test_category_link_unlink(dolibarr: httpx.AsyncClient, prefix: str) -> None:
    category = await dolibarr.post("/categories", json={"label": f"{prefix} cat", "type": "product", "ref_ext": "x"})
    category_id = int(category.json())
    product_id = await _create_product(dolibarr, f"{prefix}-C")
    try:
        for _ in range(2):  # linking is idempotent
            linked = await dolibarr.post(f"/categories/{category_id}/objects/product/{product_id}")
            assert linked.json()["success"]["code"] == 200
        ids = await dolibarr.get(f"/categories/{category_id}/objects", params={"type": "product", "onlyids": 1})
        assert ids.json() == [str(product_id)]
        of_product = await dolibarr.get(f"/products/{product_id}/categories")
        assert [c["id"] for c in of_product.json()] == [str(category_id)]
        missing = await dolibarr.post(f"/categories/{category_id}/objects/product/99999999")
        assert missing.status_code == 500
        await dolibarr.delete(f"/categories/{category_id}/objects/product/{product_id}")
        assert (await dolibarr.get(f"/products/{product_id}/categories")).json() == []
        renamed = await dolibarr.put(f"/categories/{category_id}", json={"label": f"{prefix} renamed"})
        assert (renamed.json()["label"], renamed.json()["ref_ext"]) == (f"{prefix} renamed", "x")  # kept when not sent
        cleared = await dolibarr.put(f"/categories/{category_id}", json={"ref_ext": ""})
        assert (cleared.json()["label"], cleared.json()["ref_ext"]) == (f"{prefix} renamed", "")
    finally:
        await dolibarr.delete(f"/products/{product_id}")
        await dolibarr.delete(f"/categories/{category_id}")


async def test_deleting_a_linked_category_unlinks(dolibarr: httpx.AsyncClient, prefix: str) -> None:
    """Checked on a real 23.0.0-beta whose ``llx_categorie_project_task`` exists (see conftest)."""
    parent = int((await dolibarr.post("/categories", json={"label": f"{prefix} top", "type": "product"})).json())
    child = int((await dolibarr.post("/categories", json={"label": f"{prefix} sub", "type": "product",
                                                          "fk_parent": parent})).json())
    product_id = await _create_product(dolibarr, f"{prefix}-L")
    try:
        await dolibarr.post(f"/categories/{parent}/objects/product/{product_id}")
        deleted = await dolibarr.delete(f"/categories/{parent}")
        assert deleted.status_code == 200 and deleted.json()["success"]["code"] == 200
        assert (await dolibarr.get(f"/products/{product_id}/categories")).json() == []
        assert (await dolibarr.get(f"/categories/{child}")).json()["fk_parent"] == 0  # moved up one level
    finally:
        await dolibarr.delete(f"/products/{product_id}")
        await dolibarr.delete(f"/categories/{child}")


async def test_attributes_and_variants(dolibarr: httpx.AsyncClient, prefix: str) -> None:
    parent = await _create_product(dolibarr, f"{prefix}-V", price=10, price_base_type="HT", tva_tx=20, weight=1)
    attribute = int((await dolibarr.post("/products/attributes", json={"ref": f"{prefix}S", "label": "Size"})).json())
    small = int((await dolibarr.post(f"/products/attributes/{attribute}/values",
                                      json={"ref": "S", "value": "Small"})).json())
    child = int((await dolibarr.post(f"/products/{parent}/variants", json={
        "weight_impact": 0.5, "price_impact": 2, "price_impact_is_percent": False,
        "features": {str(attribute): str(small)}})).json())
    try:
        child_body = (await dolibarr.get(f"/products/{child}")).json()
        assert child_body["ref"] == f"{prefix}-V_S" and child_body["price"] == "12.00000000"
        combos = (await dolibarr.get(f"/products/{parent}/variants")).json()
        assert [c["fk_product_child"] for c in combos] == [str(child)]
        assert combos[0]["attributes"][0]["fk_prod_attr_val"] == str(small)
        assert (await dolibarr.put(f"/products/variants/{combos[0]['id']}", json={"variation_price": 5})).json() == 1
        assert (await dolibarr.get(f"/products/{child}")).json()["price"] == "15.00000000"
        only_variants = await dolibarr.get("/products", params={"variant_filter": 3, "ids_only": "true",
                                                               "sqlfilters": f"(t.ref:like:'{prefix}%')"})
        assert only_variants.json() == [str(child)]
    finally:
        await dolibarr.delete(f"/products/variants/{combos[0]['id']}")
        for product_id in (child, parent):
            await dolibarr.delete(f"/products/{product_id}")


async def test_stock_movements_per_warehouse(dolibarr: httpx.AsyncClient, prefix: str) -> None:
    first = int((await dolibarr.post("/warehouses", json={"label": f"{prefix}-A", "statut": 1})).json())
    second = int((await dolibarr.post("/warehouses", json={"label": f"{prefix}-B", "statut": 1})).json())
    product_id = await _create_product(dolibarr, f"{prefix}-S")
    for warehouse, qty in ((first, 10), (second, 4), (first, -3)):
        moved = await dolibarr.post("/stockmovements", json={"product_id": product_id, "warehouse_id": warehouse,
                                                             "qty": qty, "label": prefix})
        assert moved.status_code == 200, moved.text
    stock = (await dolibarr.get(f"/products/{product_id}/stock")).json()
    assert stock["stock_reel"] == 11
    assert {k: v["real"] for k, v in stock["stock_warehouses"].items()} == {str(first): "7", str(second): "4"}
    too_much = await dolibarr.post("/stockmovements", json={"product_id": product_id, "warehouse_id": second, "qty": -5})
    assert too_much.status_code == 503
    zero = await dolibarr.post("/stockmovements", json={"product_id": product_id, "warehouse_id": second, "qty": 0})
    assert zero.status_code == 503
    movements = await dolibarr.get("/stockmovements", params={"sqlfilters": f"(t.fk_product:=:{product_id})",
                                                             "sortfield": "t.rowid", "sortorder": "DESC"})
    assert [m["qty"] for m in movements.json()] == ["-3", "4", "10"]
    listed = await dolibarr.get("/products", params={"includestockdata": 1, "sqlfilters": f"(t.rowid:=:{product_id})",
                                                    "properties": "id,stock_reel"})
    assert Decimal(str(listed.json()[0]["stock_reel"])) == 11


async def test_documents_upload_list_download_delete(dolibarr: httpx.AsyncClient, prefix: str) -> None:
    ref = f"{prefix}-D"
    product_id = await _create_product(dolibarr, ref)
    content = b"\x89PNG\r\n\x1a\n" + prefix.encode()
    upload = {"filename": "cover.png", "modulepart": "product", "ref": ref, "fileencoding": "base64",
              "filecontent": base64.b64encode(content).decode(), "overwriteifexists": 0}
    try:
        assert (await dolibarr.get("/documents", params={"modulepart": "product", "id": product_id})).status_code == 404
        assert (await dolibarr.post("/documents/upload", json=upload)).json() == "cover.png"
        assert (await dolibarr.post("/documents/upload", json=upload)).status_code == 400
        listed = (await dolibarr.get("/documents", params={"modulepart": "product", "id": product_id})).json()
        assert [(d["relativename"], d["size"]) for d in listed] == [("cover.png", len(content))]
        downloaded = (await dolibarr.get("/documents/download", params={
            "modulepart": "product", "original_file": f"{ref}/cover.png"})).json()
        assert base64.b64decode(downloaded["content"]) == content
        deleted = await dolibarr.delete("/documents", params={"modulepart": "product", "original_file": f"{ref}/cover.png"})
        assert deleted.json()["success"]["code"] == 200
    finally:
        await dolibarr.delete(f"/products/{product_id}")


async def test_setup_dictionaries(dolibarr: httpx.AsyncClient) -> None:
    france = (await dolibarr.get("/setup/dictionary/countries/byCode/FR")).json()
    assert (france["id"], france["code_iso"]) == (1, "FRA")
    vat = (await dolibarr.get("/setup/dictionary/vat", params={"fk_country": france["id"]})).json()
    assert "20" in {row["taux"] for row in vat}
    payment_types = {row["code"]: row["id"] for row in (await dolibarr.get("/setup/dictionary/payment_types")).json()}
    assert payment_types["CB"] == "6"
    currencies = await dolibarr.get("/setup/dictionary/currencies", params={"sqlfilters": "(t.code_iso:in:'EUR','USD')"})
    assert sorted(c["code_iso"] for c in currencies.json()) == ["EUR", "USD"]
    status = (await dolibarr.get("/status")).json()["success"]
    assert status["code"] == 200 and isinstance(status["timestamp_now_utc"], int)


async def test_error_shapes(dolibarr: httpx.AsyncClient) -> None:
    bad_filter = await dolibarr.get("/products", params={"sqlfilters": "(t.ref:=:'x') or 1=1"})
    assert bad_filter.status_code == 400 and bad_filter.json()["error"]["code"] == 400
    unbalanced = await dolibarr.get("/products", params={"sqlfilters": "(t.ref:=:'x'"})
    assert "parenthesis" in unbalanced.json()["error"]["message"]
    waf = await dolibarr.get("/products/ref_ext/ps:1:42")
    assert waf.status_code == 403 and waf.headers["content-type"].startswith("text/html")
    no_resource = await dolibarr.get("/")
    assert no_resource.status_code == 404 and no_resource.json()["error"]["code"] == 404
    unknown = await dolibarr.get("/nosuchresource")
    assert unknown.status_code == 501 and "API not found" in unknown.text
    not_numeric = await dolibarr.get("/products/abc")
    assert not_numeric.status_code == 400
    no_key = await dolibarr.get("/products", headers={"DOLAPIKEY": ""})
    assert no_key.status_code == 401 and "HTTP_DOLAPIKEY" in no_key.json()["error"]["message"]
    malformed = await dolibarr.post("/products", content=b'{"ref": ', headers={"Content-Type": "application/json"})
    assert malformed.status_code == 400
