"""The command line as a user runs it: demo, init, status, retry — in subprocesses."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from dolisync.config import load_settings

CLI = [sys.executable, "-m", "dolisync.cli"]


def run(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "COLUMNS": "200", **(env or {})}
    full_env.pop("DOLISYNC_CONFIG", None)
    return subprocess.run([*CLI, *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("demo")


def test_demo_syncs_then_second_demo_writes_nothing(demo_dir: Path) -> None:
    first = run("demo", "--products", "40", "--workdir", str(demo_dir), cwd=demo_dir)
    assert first.returncode == 0, first.stdout + first.stderr
    writes = [int(n) for n in re.findall(r"dolibarr: \d+ reads / (\d+)\s+writes", first.stdout)]
    assert writes and sum(writes) > 0, first.stdout
    config = demo_dir / "dolisync.toml"
    assert stat.S_IMODE(config.stat().st_mode) == 0o600

    second = run("demo", "--products", "40", "--workdir", str(demo_dir), cwd=demo_dir)
    assert second.returncode == 0, second.stdout + second.stderr
    again = [int(n) for n in re.findall(r"dolibarr: \d+ reads / (\d+)\s+writes", second.stdout)]
    assert again == [0] * len(writes), second.stdout

    status = run("status", "--json", "-c", str(config), cwd=demo_dir)
    assert status.returncode == 0, status.stderr
    document = json.loads(status.stdout)
    shops = {entry["shop"]: entry for entry in document["shops"]}
    assert set(shops) == {"demo", "demo-fr"}
    products = [e for e in shops["demo"]["entities"] if e["entity"] == "product"]
    assert products and products[0]["unchanged"] > 0
    reconcile = run("reconcile", "--json", "-c", str(config), cwd=demo_dir)
    report = json.loads(reconcile.stdout)
    assert reconcile.returncode == 0 and report, reconcile.stderr
    assert all(row["exact"] for row in report)
    assert {row["document"] for row in report} >= {"order", "invoice"}
    settings = load_settings(config)
    for secret in settings.secret_values():
        assert secret not in status.stdout and secret not in first.stdout + first.stderr


def test_init_writes_a_private_config_that_loads(tmp_path: Path) -> None:
    result = run("init", "--yes", "-c", str(tmp_path / "d.toml"),
                 "--prestashop-url", "https://shop.example", "--prestashop-key", "K" * 32,
                 "--dolibarr-url", "https://erp.example/api/index.php", "--dolibarr-key", "secret-doli-key",
                 cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    path = tmp_path / "d.toml"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    settings = load_settings(path)
    assert settings.shop[0].url == "https://shop.example"
    assert settings.shop[0].key.get_secret_value() == "K" * 32
    assert "K" * 32 not in result.stdout + result.stderr


def test_bad_config_says_what_to_fix(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[[shop]]\nname = "main"\nurl = "ftp://shop"\nprice_base = "GROSS"\n', encoding="utf-8")
    result = run("status", "-c", str(path), cwd=tmp_path)
    assert result.returncode == 2
    assert "price_base" in result.stderr and "Traceback" not in result.stderr


def test_retry_without_key_or_all_is_refused(tmp_path: Path) -> None:
    result = run("retry", cwd=tmp_path)
    assert result.returncode == 2 and "--all" in result.stderr
