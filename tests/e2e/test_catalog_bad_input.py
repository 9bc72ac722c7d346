"""Bad input parks that item with a message saying what to fix; everything else syncs.

Cases: an unknown tax rule group, an empty reference in ref-matching mode, an invalid EAN
(synced without it, reported), a 5 MB description, a body PrestaShop cannot render (the page
is broken: the other products of the page still sync), and a 500 from Dolibarr on one product
(fault injection); once fixed, the next sync syncs the item and clears its failure.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dolisync.emulators.faults import FaultRule
from dolisync.emulators.generator import DEFAULT_API_KEY, GeneratedStore
from dolisync.sync.binder import external_key
from dolisync.sync.failures import FailureQueue
from tests.e2e.test_catalog_harness import DOLIBARR_KEY, CatalogWorld

MARKER = "BROKEN-BODY-MARKER"


def _simple_products(generated: GeneratedStore) -> list[dict[str, object]]:
    combos = {int(c["id_product"]) for c in generated.prestashop.tables["combinations"]}
    return [p for p in generated.prestashop.tables["products"]
            if int(p["id"]) not in combos and (not p.get("_shops") or 1 in p["_shops"])]


def _break_things(generated: GeneratedStore) -> None:
    products = _simple_products(generated)
    unknown_tax, no_reference, bad_ean, huge, broken = products[:5]
    unknown_tax["id_tax_rules_group"] = "999"
    no_reference["reference"] = ""
    bad_ean["ean13"] = "3760000000001"  # wrong check digit (…0000000000 gives 2)
    bad_ean["upc"] = ""
    huge["description"] = {1: "<p>" + "x" * 5_000_000 + "</p>", 2: "<p>court</p>"}
    broken["name"] = {1: f"Broken {MARKER}", 2: f"Cassé {MARKER}"}


@pytest.mark.anyio
async def test_each_bad_item_is_parked_and_the_rest_syncs(tmp_path: Path) -> None:
    world = CatalogWorld.build(tmp_path, products=40, edit=_break_things,
                               shops=[{"name": "main", "id_shop": 1, "matching": "ref"}])
    world.corrupt_marker = MARKER.encode()
    unknown_tax, no_reference, bad_ean, huge, broken = (int(p["id"]) for p in _simple_products(world.generated)[:5])

    progress: list[tuple[str, int, int]] = []
    summary = await world.sync("main", entities=["categories", "products"],
                               progress_callback=lambda entity, done, total: progress.append((entity, done, total)))

    assert summary.error is None
    product_ticks = [(done, total) for entity, done, total in progress if entity == "product"]
    # every listed product ticked once; the unreadable one never made it into the listing
    assert product_ticks[-1] == (summary.entities["product"].total - 1,) * 2
    text = json.dumps(summary.to_dict())
    assert DOLIBARR_KEY not in text and DEFAULT_API_KEY not in text
    parked = {(item.entity, item.source_id): item.message for item in summary.parked}
    assert set(parked) == {("product", str(i)) for i in (unknown_tax, no_reference, huge, broken)}
    assert "999" in parked[("product", str(unknown_tax))] and "tax rule group" in parked[("product", str(unknown_tax))]
    assert "reference" in parked[("product", str(no_reference))] and "'ref'" in parked[("product", str(no_reference))]
    assert "5,000,007 bytes" in parked[("product", str(huge))] and "sync_descriptions" in parked[("product", str(huge))]
    assert "cannot be read" in parked[("product", str(broken))]
    assert all(len(message) < 1000 for message in parked.values())  # the 5 MB text is not echoed

    warnings = {item.source_id: item.message for item in summary.warnings}
    assert "3760000000001" in warnings[str(bad_ean)] and "not sent" in warnings[str(bad_ean)]

    products = await world.erp_list("products")
    keys = {p["ref_ext"]: p for p in products}
    shop_products = [p for p in world.shop.rows("products") if not p.get("_shops") or 1 in p["_shops"]]
    for row in shop_products:
        key = external_key("main", "product", row["id"])
        if int(row["id"]) in (unknown_tax, no_reference, huge, broken):
            assert key not in keys
        else:
            assert key in keys, f"product {row['id']} missing"
    assert keys[external_key("main", "product", bad_ean)]["barcode"] in ("", None)
    assert summary.entities["product"].created == len(shop_products) - 4

    failures = {(f.key.entity, f.key.source_id): f for f in FailureQueue(world.store).list(connection="main")}
    assert ("product", str(huge)) in failures and ("product_warning", str(bad_ean)) in failures
    assert "sync_descriptions" in failures[("product", str(huge))].error.message
    assert not any(DOLIBARR_KEY in f.error.message or DEFAULT_API_KEY in f.error.message for f in failures.values())

    # fixed in the shop: the next sync syncs them and forgets their failures
    world.shop.update("products", unknown_tax, {"id_tax_rules_group": "1"})
    world.shop.update("products", huge, {"description": {1: "<p>short now</p>", 2: "<p>court</p>"}})
    again = await world.sync("main", entities=["categories", "products"])
    assert {(i.entity, i.source_id) for i in again.parked} == {("product", str(no_reference)), ("product", str(broken))}
    assert again.entities["product"].created == 2
    failures = {(f.key.entity, f.key.source_id) for f in FailureQueue(world.store).list(connection="main")}
    assert ("product", str(huge)) not in failures and ("product", str(unknown_tax)) not in failures


@pytest.mark.anyio
async def test_a_500_from_dolibarr_on_one_product(tmp_path: Path) -> None:
    world = CatalogWorld.build(tmp_path, products=20)
    first = await world.sync("main", entities=["categories", "products"])
    assert first.parked == []
    victim, other = (int(p["id"]) for p in _simple_products(world.generated)[:2])
    products = {p["ref_ext"]: p["id"] for p in await world.erp_list("products")}
    victim_id = products[external_key("main", "product", victim)]
    for product_id in (victim, other):
        world.shop.update("products", product_id, {"weight": "9.5"})
    rule = world.erp_faults.add(FaultRule(path_pattern=f"/api/index.php/products/{victim_id}", methods={"PUT"},
                                          error_rate=1.0, error_status=500))

    summary = await world.sync("main", entities=["categories", "products"])

    assert [(i.entity, i.source_id) for i in summary.parked] == [("product", str(victim))]
    assert "500" in summary.parked[0].message and "retried" in summary.parked[0].message
    assert summary.entities["product"].updated == 1 and summary.entities["product"].failed == 1
    failures = {(f.key.entity, f.key.source_id) for f in FailureQueue(world.store).list(connection="main")}
    assert ("product", str(victim)) in failures

    world.erp_faults.remove(rule)
    healed = await world.sync("main", entities=["categories", "products"])
    assert healed.parked == [] and healed.entities["product"].updated == 1
    weights = {p["ref_ext"]: p["weight"] for p in await world.erp_list("products")}
    assert float(weights[external_key("main", "product", victim)]) == 9.5
    remaining = {(f.key.entity, f.key.source_id) for f in FailureQueue(world.store).list(connection="main")}
    assert ("product", str(victim)) not in remaining
    assert all(entity.endswith("_warning") for entity, _ in remaining)  # only the generator's bad EANs


@pytest.mark.anyio
async def test_a_wrong_dolibarr_key_stops_the_run_with_one_error(tmp_path: Path) -> None:
    from dolisync.clients.dolibarr import DolibarrClient
    from dolisync.sync.engine import sync_catalog
    from tests.e2e.test_catalog_harness import DOLIBARR_URL, FAST

    world = CatalogWorld.build(tmp_path, products=5)
    shop = world.settings.shop_named("main")
    wrong = "WRONG-KEY-0123456789"
    async with world.prestashop_client(1) as prestashop, \
            DolibarrClient(DOLIBARR_URL, wrong, limits=FAST, transport=world._erp_transport()) as dolibarr:
        summary = await sync_catalog(world.settings, shop, world.store, prestashop=prestashop, dolibarr=dolibarr)
    assert summary.error is not None and "401" in summary.error
    assert wrong not in json.dumps(summary.to_dict())
    assert summary.parked == [] and world.erp_log.writes() == []
