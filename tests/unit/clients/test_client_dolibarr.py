"""DolibarrClient against the in-process Dolibarr emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import httpx2
import pytest

from dolisync.clients.dolibarr import DolibarrClient, UnsafeFilterValue, build_sqlfilters, sql_value
from dolisync.clients.errors import NotFound, RemoteRejected, Unauthorized
from dolisync.clients.records import DoliOrder, DoliProduct, DoliThirdParty, DoliVatRate, DoliWarehouse
from dolisync.emulators.dataset import DolibarrSetup, VatRate
from dolisync.emulators.dolibarr import DolibarrState, create_app

pytestmark = pytest.mark.anyio
KEY = "doli-test-key-0001"
BASE = "http://erp.test/api/index.php"


class Recording(httpx2.AsyncBaseTransport):
    def __init__(self, inner: httpx2.AsyncBaseTransport) -> None:
        self.inner = inner
        self.requests: list[httpx2.Request] = []

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        return await self.inner.handle_async_request(request)


@pytest.fixture
def transport() -> Recording:
    setup = DolibarrSetup(
        api_keys={KEY: "admin"},
        warehouses=[{"ref": "WH-MAIN", "label": "WH-MAIN"}, {"ref": "WH-2", "label": "WH-2"}],
        bank_accounts=[{"ref": "BANK1", "label": "Main", "type": 1, "country_id": 1}],
        vat_rates=[VatRate(rate="20.000"), VatRate(rate="5.500")],
    )
    app = create_app(DolibarrState.from_setup(setup), auth_failure_delay=0)
    return Recording(httpx2.ASGITransport(app=app))


@pytest.fixture
async def erp(transport: Recording) -> AsyncIterator[DolibarrClient]:
    async with DolibarrClient(BASE, KEY, transport=transport, page_size=2) as client:
        yield client


async def _products(erp: DolibarrClient, count: int) -> list[int]:
    return [
        await erp.create("products", {"ref": f"P-{i}", "label": f"Product {i}", "price": Decimal("10.50"), "tva_tx": Decimal(20)})
        for i in range(count)
    ]


async def test_create_get_and_paged_list(erp: DolibarrClient, transport: Recording) -> None:
    ids = await _products(erp, 5)
    assert all(isinstance(i, int) for i in ids) and len(set(ids)) == 5
    listed = [p async for p in erp.list("products")]
    assert [p.id for p in listed] == sorted(ids) and all(isinstance(p, DoliProduct) for p in listed)
    pages = [r.url.params["page"] for r in transport.requests if r.method == "GET"]
    assert pages == ["0", "1", "2"]
    product = await erp.get("products", ids[0])
    assert product.price == Decimal("10.5") and product.ref == "P-0"


async def test_key_in_header_and_identity_encoding(erp: DolibarrClient, transport: Recording) -> None:
    await erp.status()
    request = transport.requests[-1]
    assert request.headers["dolapikey"] == KEY and request.headers["accept-encoding"] == "identity"
    assert KEY not in str(request.url)


async def test_lookups_go_through_sqlfilters_even_for_waf_characters(erp: DolibarrClient, transport: Recording) -> None:
    pid = await erp.create("products", {"ref": "PS-1", "label": "T", "ref_ext": "ps:1:42"})
    await erp.create("products", {"ref": "PS-2", "label": "O'Neil (blue)", "ref_ext": "ps:1:43"})
    found = await erp.find_by_ref_ext("products", "ps:1:42")
    assert [p.id for p in found] == [pid]
    assert ":" not in transport.requests[-1].url.path.split("index.php", 1)[1]
    tricky = await erp.find("products", "t.label", "O'Neil (blue)")
    assert [p.ref for p in tricky] == ["PS-2"]
    assert await erp.find_by_ref("products", "nope") == []


async def test_empty_thirdparty_list_is_empty_not_an_error(erp: DolibarrClient) -> None:
    assert [t async for t in erp.list("thirdparties")] == []
    tid = await erp.create("thirdparties", {"name": "Jane Doe", "client": 1, "code_client": "-1", "ref_ext": "ps:1:cust:7"})
    third = [t async for t in erp.list("thirdparties")]
    assert [t.id for t in third] == [tid] and isinstance(third[0], DoliThirdParty)
    assert (await erp.find_by_ref_ext("thirdparties", "ps:1:cust:9")) == []


async def test_order_validate_then_304_is_none(erp: DolibarrClient) -> None:
    pid = (await _products(erp, 1))[0]
    tid = await erp.create("thirdparties", {"name": "Jane", "client": 1})
    oid = await erp.create(
        "orders",
        {"socid": tid, "date": 1795824000, "lines": [{"fk_product": pid, "qty": 2, "subprice": Decimal("10.5"), "tva_tx": Decimal(20)}]},
    )
    order = await erp.get("orders", oid)
    assert isinstance(order, DoliOrder) and order.is_draft and order.total_ht == Decimal("21")
    validated = await erp.post_action(f"orders/{oid}/validate", {"idwarehouse": 0, "notrigger": 0})
    assert validated["ref"].startswith("CO")
    assert await erp.post_action(f"orders/{oid}/validate", {"idwarehouse": 0, "notrigger": 0}) is None
    again = await erp.get("orders", oid)
    assert again.status == 1 and again.ref == validated["ref"]


async def test_update_delete_and_not_found(erp: DolibarrClient) -> None:
    pid = (await _products(erp, 1))[0]
    answer = await erp.update("products", pid, {"label": "Renamed"})
    assert answer["label"] == "Renamed"
    await erp.delete("products", pid)
    with pytest.raises(NotFound):
        await erp.get("products", pid)


async def test_bad_request_is_rejected_with_the_remote_message(erp: DolibarrClient) -> None:
    with pytest.raises(RemoteRejected) as info:
        await erp.create("orders", {"date": 1795824000})
    assert info.value.status == 400 and "socid" in info.value.message


async def test_unknown_key_is_unauthorized_without_the_key(transport: Recording) -> None:
    async with DolibarrClient(BASE, "wrong-key-xyz", transport=transport) as bad:
        with pytest.raises(Unauthorized) as info:
            await bad.status()
    assert "wrong-key-xyz" not in str(info.value)


async def test_setup_helpers(erp: DolibarrClient) -> None:
    status = await erp.status()
    assert status["dolibarr_version"]
    assert "api" in await erp.modules()
    company = await erp.company()
    assert company.country_code == "FR"
    rates = await erp.vat_rates(company.country_id)
    assert {r.taux for r in rates} >= {Decimal("20"), Decimal("5.5")} and all(isinstance(r, DoliVatRate) for r in rates)
    warehouses = [w async for w in erp.list("warehouses")]
    assert [w.ref for w in warehouses] == ["WH-MAIN", "WH-2"] and isinstance(warehouses[0], DoliWarehouse)
    banks = [b async for b in erp.list("bankaccounts")]
    assert banks[0].ref == "BANK1"


async def test_documents_roundtrip(erp: DolibarrClient) -> None:
    pid = await erp.create("products", {"ref": "DOC-1", "label": "With file"})
    assert await erp.list_documents("product", object_id=pid) == []
    name = await erp.upload_document("product", "DOC-1", "photo.jpg", b"\xff\xd8binary")
    assert name
    listed = await erp.list_documents("product", object_id=pid)
    assert [d.get("relativename") or d.get("name") for d in listed]
    assert await erp.download_document("product", f"DOC-1/{name}") == b"\xff\xd8binary"


async def test_waf_unsafe_paths_are_refused_locally(erp: DolibarrClient, transport: Recording) -> None:
    before = len(transport.requests)
    with pytest.raises(ValueError, match="WAF"):
        await erp.post_action("orders/ref/(PROV1)/validate")
    assert len(transport.requests) == before


def test_sqlfilters_builder() -> None:
    assert build_sqlfilters(("t.ref_ext", "=", "ps:1:42")) == "(t.ref_ext:=:'ps:1:42')"
    assert build_sqlfilters(("t.rowid", "in", [1, 2]), ("t.code_iso", "in", ["EUR", "USD"]), join="or") == (
        "(t.rowid:in:1,2) or (t.code_iso:in:'EUR','USD')"
    )
    assert build_sqlfilters(("t.ref_ext", "isnot", None), ("t.tosell", "=", True)) == "(t.ref_ext:isnot:NULL) and (t.tosell:=:1)"
    assert sql_value(Decimal("1.50")) == "1.50"
    with pytest.raises(UnsafeFilterValue):
        build_sqlfilters(("t.nom", "=", "x') or (1=1"))
    with pytest.raises(ValueError):
        build_sqlfilters(("ref; drop", "=", "x"))
    with pytest.raises(ValueError):
        build_sqlfilters(("t.ref", "regexp", "x"))
    with pytest.raises(ValueError):
        build_sqlfilters(("t.rowid", "in", []))


async def test_client_from_settings(transport: Recording) -> None:
    from dolisync.config import DolibarrSettings

    settings = DolibarrSettings(url=BASE, key=KEY, retries=1)
    async with DolibarrClient.from_settings(settings, transport=transport) as client:
        assert (await client.status())["code"] == 200
        assert client.stats().reads == 1 and client.stats().remote == "dolibarr"


async def test_typed_stock_variant_and_payment_helpers(erp: DolibarrClient) -> None:
    pid = (await _products(erp, 1))[0]
    stock = await erp.product_stock(pid)
    assert stock.stock_reel == 0 and stock.per_warehouse == {}
    await erp.create("stockmovements", {"product_id": pid, "warehouse_id": 1, "qty": 5})
    stock = await erp.product_stock(pid)
    assert stock.stock_reel == 5 and stock.per_warehouse == {1: Decimal(5)}
    assert await erp.product_variants(pid) == []
    tid = await erp.create("thirdparties", {"name": "Jane", "client": 1})
    iid = await erp.create("invoices", {"socid": tid, "type": 0, "date": 1795824000, "lines": [{"qty": 1, "subprice": Decimal(10), "tva_tx": Decimal(20)}]})
    assert await erp.invoice_payments(iid) == []
