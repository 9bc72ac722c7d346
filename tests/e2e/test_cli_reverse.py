"""`dolisync sync --reverse` as a user runs it: a price changed in Dolibarr reaches the shop, once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import httpx2

from dolisync.config import render_config_toml
from dolisync.emulators.dolibarr import DolibarrState
from dolisync.emulators.dolibarr import create_app as dolibarr_app
from dolisync.emulators.generator import generate_store
from dolisync.emulators.prestashop import PrestaShopStore
from dolisync.emulators.prestashop import create_app as prestashop_app
from dolisync.emulators.serve import BackgroundServer, free_port


def _cli(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "dolisync.cli", *args, "-c", str(config)], env=env,
                          capture_output=True, text=True, timeout=300)


def test_reverse_price_edit_reaches_the_shop_once(tmp_path: Path) -> None:
    generated = generate_store(seed=21, products=8, orders=2, customers=2, shops=1)
    shop = PrestaShopStore.from_dataset(generated.prestashop)
    erp = DolibarrState.from_setup(generated.dolibarr)
    shop_key, erp_key = next(iter(shop.api_keys)), next(iter(erp.api_keys))
    port = free_port()
    with BackgroundServer(prestashop_app(shop, base_url=f"http://127.0.0.1:{port}"), port=port) as ps_server, \
            BackgroundServer(dolibarr_app(erp)) as erp_server:
        erp_url = f"{erp_server.url}/api/index.php"
        config = tmp_path / "dolisync.toml"
        config.write_text(render_config_toml(
            dolibarr_url=erp_url, dolibarr_key=erp_key, state_url=f"sqlite:///{tmp_path / 'state.sqlite'}",
            shops=[{"name": "main", "url": ps_server.url, "key": shop_key, "id_shop": 1, "language": "en",
                    "default_warehouse": "WH-MAIN", "erp_to_shop": ["prices"],
                    "ownership": {"price": "dolibarr"}}]), encoding="utf-8")
        first = _cli(config, "sync", "categories", "attributes", "features", "products", "--json")
        assert first.returncode == 0, first.stdout + first.stderr
        bound = [r for r in erp.tables["products"].values() if str(r.get("ref_ext", "")).startswith("ps-main-product-")]
        target = bound[0]
        ps_id = int(str(target["ref_ext"]).rsplit("-", 1)[1])
        new_price = Decimal("123.45")
        put = httpx2.put(f"{erp_url}/products/{target['id']}", headers={"DOLAPIKEY": erp_key}, timeout=10,
                         json={"price": str(new_price), "price_base_type": "HT"})
        assert put.status_code == 200, put.text

        reverse = _cli(config, "sync", "--reverse", "prices", "--json")
        assert reverse.returncode == 0, reverse.stdout + reverse.stderr
        document = json.loads(reverse.stdout)
        assert document["shops"][0]["requests"]["prestashop"]["writes"] >= 1
        assert Decimal(shop.get("products", ps_id)["price"]) == new_price

        again = _cli(config, "sync", "--reverse", "prices", "--json")
        assert json.loads(again.stdout)["shops"][0]["requests"]["prestashop"]["writes"] == 0
        edit = httpx2.patch(f"{ps_server.url}/api/products/{ps_id}", auth=(shop_key, ""), timeout=10,
                            content=f"<prestashop><product><id>{ps_id}</id><price>1.5</price></product></prestashop>")
        assert edit.status_code == 200, edit.text
        overwritten = _cli(config, "sync", "--reverse", "prices", "--json")
        assert json.loads(overwritten.stdout)["shops"][0]["requests"]["prestashop"]["writes"] >= 1
        assert Decimal(shop.get("products", ps_id)["price"]) == new_price  # Dolibarr owns the price
        status = json.loads(_cli(config, "status", "--json").stdout)
        conflicts = status["shops"][0]["conflicts"]
        assert any(f" {ps_id} " in line or f" {target['id']} " in line for line in conflicts), conflicts
        table = _cli(config, "status")
        assert "field ownership" in table.stdout
        refused = _cli(config, "sync", "--reverse", "categories")
        assert refused.returncode == 2 and "--reverse takes entities" in refused.stdout + refused.stderr
