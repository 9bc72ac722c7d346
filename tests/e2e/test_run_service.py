"""`dolisync run` as an operator starts it: a new order announced by a signed webhook reaches Dolibarr,
an unsigned one is refused, /healthz answers, and SIGTERM stops the service cleanly."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import httpx2

from dolisync.config import render_config_toml
from dolisync.emulators.dolibarr import DolibarrState
from dolisync.emulators.dolibarr import create_app as dolibarr_app
from dolisync.emulators.generator import generate_store
from dolisync.emulators.prestashop import PrestaShopStore
from dolisync.emulators.prestashop import create_app as prestashop_app
from dolisync.emulators.serve import BackgroundServer, free_port
from dolisync.web.events import sign

HOOK_SECRET = "hook-secret-for-the-test"


def _wait(predicate, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_run_service_syncs_a_webhooked_order_and_stops_on_sigterm(tmp_path: Path) -> None:
    generated = generate_store(seed=31, products=10, orders=3, customers=3, shops=1)
    shop = PrestaShopStore.from_dataset(generated.prestashop)
    erp = DolibarrState.from_setup(generated.dolibarr)
    shop_key, erp_key = next(iter(shop.api_keys)), next(iter(erp.api_keys))
    accounts = {a["payment_module"]: a["ref"] for a in generated.dolibarr.bank_accounts if a.get("payment_module")}
    port, web_port = free_port(), free_port()
    with BackgroundServer(prestashop_app(shop, base_url=f"http://127.0.0.1:{port}"), port=port) as ps_server, \
            BackgroundServer(dolibarr_app(erp)) as erp_server:
        config = tmp_path / "dolisync.toml"
        text = render_config_toml(
            dolibarr_url=f"{erp_server.url}/api/index.php", dolibarr_key=erp_key,
            state_url=f"sqlite:///{tmp_path / 'state.sqlite'}",
            shops=[{"name": "main", "url": ps_server.url, "key": shop_key, "id_shop": 1, "language": "en",
                    "default_warehouse": "WH-MAIN", "payment_accounts": accounts, "webhook_secret": HOOK_SECRET,
                    "concurrency": 8, "rate_per_s": 500.0}])
        text = text.replace("port = 8765", f"port = {web_port}")
        config.write_text(text, encoding="utf-8")
        env = {**os.environ, "DOLISYNC_WEB__PORT": str(web_port), "DOLISYNC_WEB__TOKEN": "dashboard-token",
               "DOLISYNC_RUNTIME__ORDERS_POLL_S": "3600", "DOLISYNC_RUNTIME__CATALOG_POLL_S": "3600"}
        service = subprocess.Popen([sys.executable, "-m", "dolisync.cli", "run", "-c", str(config)], env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        base = f"http://127.0.0.1:{web_port}"
        try:
            _wait(lambda: _healthy(base), 60, "/healthz")
            # a new order placed in the shop after the service started
            factory = generated.order_factory()
            draft = factory.build(datetime(2026, 11, 28, 10, 0) + timedelta(minutes=1), id_shop=1, progress=1)
            order_id = int(factory.commit(draft, shop.insert, shop.update)["order"])
            body = json.dumps({"resource": "orders", "id": order_id}).encode()
            refused = httpx2.post(f"{base}/hooks/prestashop/main", content=body, timeout=10,
                                  headers={"Content-Type": "application/json"})
            assert refused.status_code == 401
            accepted = httpx2.post(f"{base}/hooks/prestashop/main", content=body, timeout=10,
                                   headers={"Content-Type": "application/json",
                                            "X-Dolisync-Signature": sign(HOOK_SECRET, body)})
            assert accepted.status_code == 202, accepted.text
            reference = shop.get("orders", order_id)["reference"]
            _wait(lambda: any(o.get("ref_client") == reference or str(o.get("ref_ext", "")).endswith(f"-{order_id}")
                              for o in erp.tables.get("orders", {}).values()), 120, f"order {order_id} in Dolibarr")
            assert httpx2.get(f"{base}/", timeout=10, follow_redirects=False).status_code in (200, 302, 303)
            with sqlite3.connect(tmp_path / "state.sqlite") as db:
                events = db.execute("SELECT source, resource, object_id, processed_at FROM inbox "
                                    "WHERE source = 'prestashop' AND object_id = ?", (str(order_id),)).fetchall()
            assert events and events[0][1] == "orders", events  # stored before the 202, exactly once
        finally:
            service.send_signal(signal.SIGTERM)
            out, _ = service.communicate(timeout=60)
        assert service.returncode == 0, out
        assert shop_key not in out and erp_key not in out and HOOK_SECRET not in out


def _healthy(base: str) -> bool:
    try:
        return httpx2.get(f"{base}/healthz", timeout=2).status_code == 200
    except httpx2.TransportError:
        return False
