"""Bad input parks that order with what to fix, the others sync, and `retry` finishes them once fixed.

Cases (one store, each on its own order): an unknown payment module, a tax rate Dolibarr lacks,
a product deleted in PrestaShop (never synced), a customer e-mail matching two Dolibarr third
parties, a 500 on order validation (fault injection).
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from dolisync.clients.dolibarr import DolibarrClient
from dolisync.emulators.faults import FaultRule
from dolisync.sync.failures import FailureQueue
from dolisync.sync.orders import OrderSyncOptions, retry_orders
from tests.e2e.test_orders_world import OrderWorld, duplicates

pytestmark = pytest.mark.anyio


def _parked(summary: object) -> dict[str, str]:
    return {item.source_id: item.message for item in summary.parked if item.entity == "orders"}  # type: ignore[attr-defined]


async def test_bad_input_parks_each_order_and_retry_finishes_them(tmp_path: Path) -> None:
    world = OrderWorld.build(tmp_path, orders=40, products=25, customers=12, seed=5)
    tables = world.generated.prestashop.tables
    paid = [o for o in tables["orders"] if any(p["order_reference"] == o["reference"] for p in tables["order_payments"])]
    by_order: dict[str, list[dict[str, object]]] = {}
    for detail in tables["order_details"]:
        by_order.setdefault(str(detail["id_order"]), []).append(detail)
    rates = {str(t["id"]): Decimal(str(t["rate"])) for t in tables["taxes"]}
    created_states = {"1", "2", "3", "4", "5", "9", "10", "11", "12", "13"}

    # 1. unknown payment module on a paid order
    module_order = paid[0]
    world.shop.table("orders")[int(module_order["id"])]["module"] = "ps_mysterypay"
    # 2. a tax rate Dolibarr lacks: the rarest rate used by an order's lines
    used = Counter(rates[str(t["id"])] for d in tables["order_details"] for t in d["associations"]["taxes"])
    rare_rate = min(used, key=lambda rate: used[rate])
    tax_orders = {oid for oid, lines in by_order.items()
                  if any(rates[str(t["id"])] == rare_rate for d in lines for t in d["associations"]["taxes"])}
    # 3. a product deleted in PrestaShop (used by one order, never synced)
    counts = Counter(str(d["product_id"]) for d in tables["order_details"])
    lonely = next(oid for oid, lines in sorted(by_order.items()) if oid not in tax_orders
                  and oid != module_order["id"] and all(counts[str(d["product_id"])] == 1 for d in lines[:1]))
    product_id = int(by_order[lonely][0]["product_id"])
    product_row = world.shop.table("products").pop(product_id)
    # 4. a customer whose e-mail two Dolibarr third parties share
    taken = {module_order["id"], lonely, *tax_orders}
    owners = {o["id_customer"] for o in tables["orders"] if o["id"] in taken}
    twin_order = next(o for o in tables["orders"] if o["id_customer"] not in owners
                      and o["current_state"] in created_states)
    customer = next(c for c in tables["customers"] if c["id"] == twin_order["id_customer"])
    async with DolibarrClient.from_settings(world.settings.dolibarr, transport=world.transports()["dolibarr"]) as erp:
        twin_ids = [await erp.create("thirdparties", {"name": f"Twin {n}", "email": customer["email"], "client": 1})
                    for n in (1, 2)]
    twin_orders = {o["id"] for o in tables["orders"] if o["id_customer"] == customer["id"]}
    # 5. a 500 on the validation of one order: with one order at a time, Dolibarr ids follow the
    #    PrestaShop ids of the orders that reach creation
    blocked = {lonely, *tax_orders, *twin_orders}
    reaching = [o["id"] for o in sorted(tables["orders"], key=lambda o: int(o["id"]))
                if o["current_state"] in created_states and o["id"] not in blocked]
    victim_index = next(i for i, oid in enumerate(reaching) if oid != module_order["id"])
    fault = world.erp_faults.add(FaultRule(path_pattern=rf"re:^/api/index.php/orders/{victim_index + 1}/validate$",
                                           methods={"POST"}, error_rate=1.0, error_status=500))

    catalog = await world.sync_catalog()  # the products are bound (all but the deleted one)
    assert catalog.error is None
    removed = [v for v in world.erp.setup.vat_rates if Decimal(v.rate) == rare_rate]
    world.erp.setup.vat_rates[:] = [v for v in world.erp.setup.vat_rates if Decimal(v.rate) != rare_rate]

    first = await world.sync(options=OrderSyncOptions(concurrency=1))
    parked = _parked(first)
    assert first.error is None
    assert "map module ps_mysterypay to a bank account" in parked[module_order["id"]]
    assert any("VAT rate" in parked.get(oid, "") for oid in tax_orders), {o: parked.get(o) for o in tax_orders}
    assert f"{product_id}" in parked[lonely] and "sync these PrestaShop products" in parked[lonely]
    assert "2 Dolibarr third parties have this e-mail" in parked[twin_order["id"]]
    failed = [oid for oid, message in parked.items() if "temporarily" in message]
    assert len(failed) == 1 and failed[0] != module_order["id"], parked
    # what a person must fix is parked at once; the 500 stays on the automatic backoff
    queue = {f.key.source_id: f for f in FailureQueue(world.store).list(connection="main") if f.key.entity == "orders"}
    assert set(queue) == set(parked)
    assert {oid for oid, f in queue.items() if not f.parked} == set(failed)
    eligible = {o["id"] for o in tables["orders"] if o["current_state"] in created_states}
    in_erp = {str(o["ref_ext"]).rsplit("-", 1)[1] for o in world.ours("orders", "ps-main-order-")}
    assert eligible - set(parked) <= in_erp, "the other orders sync"
    assert len(eligible - set(parked)) > 10
    world.erp_faults.remove(fault)

    # fix everything, then `retry`
    shop = world.settings.shop[0]
    shop.payment_accounts["ps_mysterypay"] = "BANK-CHECKPAYMENT"
    world.erp.setup.vat_rates.extend(removed)
    world.shop.table("products")[product_id] = product_row
    world.erp.table("thirdparties").pop(twin_ids[1])
    retried = await retry_orders(world.settings, shop, world.store, transports=world.transports())
    assert retried.error is None
    assert not _parked(retried), _parked(retried)
    assert FailureQueue(world.store).list(connection="main") == [] or all(
        f.key.entity != "orders" for f in FailureQueue(world.store).list(connection="main"))
    # the fixed orders are in Dolibarr exactly once, with their payment in the mapped account
    orders = world.ours("orders", "ps-main-order-")
    assert not duplicates(orders)
    keys = {str(o["ref_ext"]) for o in orders}
    for oid in (module_order["id"], lonely, *twin_orders):
        assert f"ps-main-order-{oid}" in keys
    assert "ps-main-payment-" in " ".join(str(p.get("ref_ext")) for p in world.table("payments"))
    twin_socids = {o["socid"] for o in orders if o["ref_ext"] in {f"ps-main-order-{i}" for i in twin_orders}}
    assert twin_socids == {twin_ids[0]}, "the remaining third party with that e-mail is adopted"
