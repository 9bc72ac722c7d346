"""`dolisync emulate prestashop|dolibarr`: real servers on 127.0.0.1 that keep their data with --state."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import httpx2

from dolisync.emulators.serve import free_port

CLI = [sys.executable, "-m", "dolisync.cli", "emulate"]


def _start(args: list[str], cwd: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([*CLI, *args], cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)


def _wait_ready(url: str, **request: object) -> httpx2.Response:
    deadline = time.monotonic() + 60
    while True:
        try:
            return httpx2.get(url, timeout=5, **request)  # type: ignore[arg-type]
        except httpx2.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGINT)
    out, _ = process.communicate(timeout=30)
    return out


def test_prestashop_emulator_serves_with_key_and_keeps_state(tmp_path: Path) -> None:
    port, key, state = free_port(), "K" * 32, tmp_path / "shop.json"
    args = ["prestashop", "--port", str(port), "--products", "12", "--orders", "4", "--customers", "3",
            "--key", key, "--state", str(state)]
    process = _start(args, tmp_path)
    try:
        url = f"http://127.0.0.1:{port}/api/products"
        listed = _wait_ready(url, params={"output_format": "JSON"}, auth=(key, ""))
        assert listed.status_code == 200
        ids = [p["id"] for p in listed.json()["products"]]
        assert len(ids) >= 6
        refused = httpx2.get(url, auth=("X" * 32, ""), timeout=5)
        assert refused.status_code == 401
        changed = httpx2.patch(f"http://127.0.0.1:{port}/api/products/{ids[0]}", auth=(key, ""), timeout=5,
                               content=f"<prestashop><product><id>{ids[0]}</id><reference>KEPT-REF</reference>"
                                       "</product></prestashop>")
        assert changed.status_code == 200, changed.text
    finally:
        out = _stop(process)
    assert f"http://127.0.0.1:{port}/api/" in out and key in out  # the URL and the key to use are printed
    assert state.exists()

    port2 = free_port()
    process = _start(["prestashop", "--port", str(port2), "--key", key, "--state", str(state)], tmp_path)
    try:
        product = _wait_ready(f"http://127.0.0.1:{port2}/api/products/{ids[0]}", params={"output_format": "JSON"},
                              auth=(key, ""))
        assert product.json()["product"]["reference"] == "KEPT-REF"
    finally:
        _stop(process)


def test_dolibarr_emulator_serves_with_key_and_keeps_state(tmp_path: Path) -> None:
    port, key, state = free_port(), "doli-test-key", tmp_path / "erp.json"
    process = _start(["dolibarr", "--port", str(port), "--key", key, "--state", str(state), "--country", "CA"],
                     tmp_path)
    base = f"http://127.0.0.1:{port}/api/index.php"
    try:
        status = _wait_ready(f"{base}/status", headers={"DOLAPIKEY": key})
        assert status.status_code == 200 and status.json()["success"]["code"] == 200
        company = httpx2.get(f"{base}/setup/company", headers={"DOLAPIKEY": key}, timeout=5).json()
        assert company["country_code"] == "CA"
        created = httpx2.post(f"{base}/products", headers={"DOLAPIKEY": key}, timeout=5,
                              json={"ref": "KEEP-ME", "label": "kept across restarts", "price": 3})
        assert created.status_code == 200 and isinstance(created.json(), int)
    finally:
        out = _stop(process)
    assert base in out and key in out
    port2 = free_port()
    process = _start(["dolibarr", "--port", str(port2), "--key", key, "--state", str(state)], tmp_path)
    try:
        found = _wait_ready(f"http://127.0.0.1:{port2}/api/index.php/products",
                            params={"sqlfilters": "(t.ref:=:'KEEP-ME')"}, headers={"DOLAPIKEY": key})
        assert [p["ref"] for p in found.json()] == ["KEEP-ME"]
    finally:
        _stop(process)


def test_dolibarr_setup_file_sets_country_local_taxes_and_vat_dictionary(tmp_path: Path) -> None:
    setup = tmp_path / "setup.json"
    setup.write_text(json.dumps({
        "company_name": "Érable inc.", "country_code": "CA", "country_id": 14, "currency": "CAD",
        "localtax1_on": True, "vat_rates": [
            {"rate": "5.000", "code": "GST"},
            {"rate": "5.000", "code": "GST-QC", "localtax1": "9.975", "localtax1_type": "1"}],
        "warehouses": [{"ref": "WH-MTL", "label": "Montreal", "statut": 1}],
    }), encoding="utf-8")
    port, key = free_port(), "doli-setup-key"
    process = _start(["dolibarr", "--port", str(port), "--key", key, "--setup", str(setup)], tmp_path)
    base = f"http://127.0.0.1:{port}/api/index.php"
    try:
        company = _wait_ready(f"{base}/setup/company", headers={"DOLAPIKEY": key}).json()
        assert (company["country_code"], company["currency_code"]) == ("CA", "CAD")
        vat = httpx2.get(f"{base}/setup/dictionary/vat", headers={"DOLAPIKEY": key}, timeout=5,
                         params={"fk_country": 14}).json()
        assert {(str(r.get("code")), str(r.get("localtax1"))) for r in vat} >= {("GST-QC", "9.975")}
        # an order line at 5 % with the local tax switch on is taxed GST + QST by the emulator
        socid = httpx2.post(f"{base}/thirdparties", headers={"DOLAPIKEY": key}, timeout=5,
                            json={"name": "Client", "client": 1, "code_client": "-1"}).json()
        order = httpx2.post(f"{base}/orders", headers={"DOLAPIKEY": key}, timeout=5, json={
            "socid": socid, "date": 1795835501, "lines": [
                {"qty": 1, "subprice": 100, "tva_tx": "5 (GST-QC)", "localtax1_tx": 1, "product_type": 0}]})
        assert order.status_code == 200, order.text
        totals = httpx2.get(f"{base}/orders/{order.json()}", headers={"DOLAPIKEY": key}, timeout=5).json()
        assert Decimal(totals["total_localtax1"]) == Decimal("9.98") and Decimal(totals["total_ttc"]) == Decimal("114.98")
        warehouses = httpx2.get(f"{base}/warehouses", headers={"DOLAPIKEY": key}, timeout=5).json()
        assert [w["ref"] for w in warehouses] == ["WH-MTL"]
    finally:
        _stop(process)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"country": "CA"}), encoding="utf-8")
    refused = subprocess.run([*CLI, "dolibarr", "--port", str(free_port()), "--setup", str(bad)], cwd=tmp_path,
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0 and "unknown setup fields" in refused.stdout + refused.stderr
