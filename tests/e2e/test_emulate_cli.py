"""`dolisync emulate prestashop|dolibarr`: real servers on 127.0.0.1 that keep their data with --state."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
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
