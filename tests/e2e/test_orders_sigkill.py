"""Crash safety with real kills: ``sync orders`` in a subprocess, SIGKILLed at 12 points.

Both emulators are served on loopback (uvicorn threads of the test process); the Dolibarr one
counts write requests and, right after applying the N-th, sends SIGKILL to the sync process
(the worst moment: Dolibarr committed, the sync did not record it). The state store is a
SQLite file. Each new run resumes; after the last kill a run completes. Then the Dolibarr side
must hold exactly what an uninterrupted sync of the same store produces: no duplicate third
party, contact, order, invoice, payment or shipment, nothing missing.

Run as a script (``python -m tests.e2e.test_orders_sigkill CONFIG.json``) it is the child: one
``sync_orders`` with the settings and state URL of the JSON file.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from dolisync.emulators.dolibarr import create_app as dolibarr_app
from dolisync.emulators.prestashop import create_app as prestashop_app
from dolisync.emulators.serve import BackgroundServer
from tests.e2e.test_orders_world import OrderWorld, duplicates

ROOT = Path(__file__).resolve().parents[2]
KILL_POINTS = 12


class Killer:
    """ASGI wrapper: SIGKILL ``pid`` right after the ``at``-th write was applied."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.writes = 0
        self.at: int | None = None
        self.pid: int | None = None
        self.kills = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)
        if scope.get("type") == "http" and scope["method"] not in ("GET", "HEAD"):
            self.writes += 1
            if self.at is not None and self.writes >= self.at and self.pid is not None:
                self.at = None
                self.kills += 1
                os.kill(self.pid, signal.SIGKILL)


def _snapshot(world: OrderWorld) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for table, prefix in (("thirdparties", "ps-main-"), ("contacts", "ps-main-"), ("orders", "ps-main-order-"),
                          ("invoices", "ps-main-invoice-"), ("payments", "ps-main-payment-")):
        rows = world.ours(table, prefix)
        assert not duplicates(rows), table
        out[table] = sorted(str(r["ref_ext"]) for r in rows)
    shipments = [r["order_id"] for r in world.table("shipments")]
    assert len(shipments) == len(set(shipments)), "one shipment per order"
    out["shipments"] = len(shipments)
    out["paid"] = sorted(str(r["ref_ext"]) for r in world.ours("invoices", "ps-main-invoice-") if r.get("paye"))
    return out


def _run_child(config: Path, killer: Killer, *, kill_after: int | None) -> int:
    process = subprocess.Popen([sys.executable, "-m", "tests.e2e.test_orders_sigkill", str(config)], cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    killer.pid = process.pid
    killer.at = None if kill_after is None else killer.writes + kill_after
    _out, err = process.communicate(timeout=120)
    killer.pid = None
    if process.returncode not in (0, -signal.SIGKILL):
        raise AssertionError(err.decode()[-2000:])
    return process.returncode


@pytest.mark.timeout(600)
def test_sigkill_at_twelve_points_then_resume_gives_exactly_the_uninterrupted_result(tmp_path: Path) -> None:
    (tmp_path / "ref").mkdir()
    (tmp_path / "kill").mkdir()
    reference = OrderWorld.build(tmp_path / "ref", orders=4, products=8, customers=3, seed=31)
    asyncio.run(reference.sync())
    expected = _snapshot(reference)
    assert expected["orders"] and expected["payments"]

    world = OrderWorld.build(tmp_path / "kill", orders=4, products=8, customers=3, seed=31)
    killer = Killer(dolibarr_app(world.erp, auth_failure_delay=0.0))
    with BackgroundServer(killer) as erp_server:
        with BackgroundServer(prestashop_app(world.shop, base_url="http://127.0.0.1")) as shop_server:
            settings = world.settings.model_dump(mode="json")
            settings["dolibarr"]["url"] = f"{erp_server.url}/api/index.php"
            settings["dolibarr"]["key"] = world.settings.dolibarr.key.get_secret_value()
            settings["shop"][0]["url"] = shop_server.url
            settings["shop"][0]["key"] = world.settings.shop[0].key.get_secret_value()
            settings["state"]["url"] = f"sqlite:///{tmp_path / 'kill' / 'state.db'}"
            config = tmp_path / "child.json"
            config.write_text(json.dumps(settings))
            codes = [_run_child(config, killer, kill_after=1 + (point % 3)) for point in range(KILL_POINTS)]
            assert codes.count(-signal.SIGKILL) >= 10, codes
            assert _run_child(config, killer, kill_after=None) == 0
    assert killer.kills >= 10
    assert _snapshot(world) == expected


def _child(config_path: str) -> None:
    import logging

    logging.disable(logging.CRITICAL)
    from dolisync.config import Settings
    from dolisync.store import open_store
    from dolisync.sync.orders import sync_orders

    settings = Settings(**json.loads(Path(config_path).read_text()))
    with open_store(settings.state.url) as store:
        summary = asyncio.run(sync_orders(settings, settings.shop[0], store))
    sys.exit(0 if summary.error is None else 3)


if __name__ == "__main__":
    _child(sys.argv[1])
