"""The service with the real order flows against both emulators (the benchmarks' harness):

* the short soak: orders placed continuously with 2% injected 5xx and hangs past the client
  timeout on both emulators, the service in a process of its own: none lost, none created twice,
  nothing parked, the service's memory sampled;
* a webhook reaches Dolibarr fast, and the order poll alone (no webhook) finds orders too.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.latency import SimWorld, measure
from bench.soak import soak

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


async def test_short_soak_loses_nothing_and_duplicates_nothing(tmp_path: Path) -> None:
    result = await soak(tmp_path, duration_s=8, rate_per_s=3, fault_rate=0.02, settle_s=60, poll_s=1.0,
                        sample_s=2)
    assert result.orders_placed >= 10
    assert result.faults_injected > 0
    assert result.lost == [] and result.duplicated == {}, result.as_dict()
    assert result.orders_in_erp == result.orders_placed
    assert result.parked == 0, result.failures  # transient faults never leave an item for a person
    # the service ran in a process of its own and its memory was sampled there
    assert len(result.rss_samples_mb) >= 3 and all(30 < mb < 1000 for _t, mb in result.rss_samples_mb)
    assert (tmp_path / "service.log").exists()


async def test_orders_reach_dolibarr_by_webhook_and_by_polling(tmp_path: Path) -> None:
    hooked = SimWorld.build(tmp_path / "hooks")
    await hooked.bind_catalog()
    latencies = await measure(hooked, orders=3, rate_per_s=5, webhooks=True, timeout_s=30)
    assert len(latencies) >= 2 and max(latencies) < 10
    polled = SimWorld.build(tmp_path / "polls", orders_poll_s=0.5)
    await polled.bind_catalog()
    latencies = await measure(polled, orders=3, rate_per_s=5, webhooks=False, timeout_s=30)
    assert len(latencies) >= 2 and max(latencies) < 10
    assert all(count == 1 for count in polled.erp_order_counts().values())


async def test_catalog_poll_runs_the_catalogue_flows_from_its_cursor(tmp_path: Path) -> None:
    from dolisync.runtime.jobs import Job
    from dolisync.store.schema import cursors
    from sqlalchemy import select

    world = SimWorld.build(tmp_path)
    service = world.service()
    try:
        assert await service.runner.run(Job.poll("main", "catalog")) == "ok"
        products = [r for r in world.erp.table("products").values() if str(r.get("ref_ext") or "").startswith("ps-main-")]
        assert products, "the catalogue poll created the shop's products in Dolibarr"
        with service.store.read() as conn:
            stored = conn.execute(select(cursors.c.entity, cursors.c.value)).all()
        assert [(entity, value is not None) for entity, value in stored] == [("catalog", True)]
        before = len(world.erp.table("products"))
        assert await service.runner.run(Job.poll("main", "catalog")) == "ok"  # incremental: nothing new
        assert len(world.erp.table("products")) == before
    finally:
        service.close()
