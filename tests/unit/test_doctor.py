"""`dolisync check` against the in-process emulators: each problem is named with its fix."""

from __future__ import annotations

import dataclasses
import json

import httpx2
import pytest
from pydantic import SecretStr

from dolisync.config import DolibarrSettings, Settings, ShopSettings
from dolisync.doctor import SERVICE_PRODUCTS, Report, print_report, run_checks
from dolisync.emulators.dolibarr import DolibarrState
from dolisync.emulators.dolibarr import create_app as dolibarr_app
from dolisync.emulators.generator import generate_store
from dolisync.emulators.prestashop import PrestaShopStore
from dolisync.emulators.prestashop import create_app as prestashop_app

SHOP_URL = "http://shop.test"


@pytest.fixture(scope="module")
def generated():
    return generate_store(seed=11, products=12, orders=4, customers=3, shops=1)


class Setup:
    """Both emulators plus settings pointing at them."""

    def __init__(self, generated, *, vat_rates=None, warehouse: str = "WH-MAIN") -> None:
        self.ps = PrestaShopStore.from_dataset(generated.prestashop)
        setup = generated.dolibarr
        if vat_rates is not None:
            setup = dataclasses.replace(setup, vat_rates=vat_rates)
        self.erp = DolibarrState.from_setup(setup)
        self.ps_key = next(iter(self.ps.api_keys))
        self.erp_key = next(iter(self.erp.api_keys))
        accounts = {a["payment_module"]: a["ref"] for a in setup.bank_accounts if a.get("payment_module")}
        self.settings = Settings(
            shop=[ShopSettings(name="main", url=SHOP_URL, key=SecretStr(self.ps_key), default_warehouse=warehouse,
                               payment_accounts=accounts)],
            dolibarr=DolibarrSettings(url="http://erp.test/api/index.php", key=SecretStr(self.erp_key)),
        )

    def run(self, fix: bool = False) -> Report:
        return run_checks(
            self.settings,
            fix=fix,
            shop_transports={"main": httpx2.ASGITransport(prestashop_app(self.ps, base_url=SHOP_URL))},
            dolibarr_transport=httpx2.ASGITransport(dolibarr_app(self.erp, auth_failure_delay=0)),
        )


def _by_name(report: Report, name: str) -> list:
    return [c for c in report.checks if c.name == name]


def test_healthy_setup_has_no_failure_and_names_missing_service_products(generated) -> None:
    report = Setup(generated).run()
    assert not report.has_failures, [c for c in report.checks if c.status == "fail"]
    assert {c.status for c in _by_name(report, "taxes")} == {"ok"}
    services = _by_name(report, "service product")
    assert len(services) == len(SERVICE_PRODUCTS)
    assert all(c.status == "warn" and "--fix" in c.fix for c in services)


def test_fix_creates_service_products_once(generated) -> None:
    setup = Setup(generated)
    first = setup.run(fix=True)
    assert all(c.status == "ok" and "created" in c.detail for c in _by_name(first, "service product"))
    second = setup.run(fix=True)
    assert all(c.status == "ok" and "exists" in c.detail for c in _by_name(second, "service product"))
    refs = [p.get("ref") for p in setup.erp.tables["products"].values()] if hasattr(setup.erp, "tables") else []
    if refs:
        assert sorted(r for r in refs if str(r).startswith("DOLISYNC-")) == sorted(SERVICE_PRODUCTS)


def test_unmapped_payment_module_is_named(generated) -> None:
    setup = Setup(generated)
    setup.settings.shop[0].payment_accounts = {}
    report = setup.run()
    orders = [c for c in _by_name(report, "orders setup") if c.status == "fail"]
    assert orders and any("payment_accounts" in c.detail or "bank account" in c.detail for c in orders)


def test_missing_vat_rate_is_named(generated) -> None:
    kept = [r for r in generated.dolibarr.vat_rates if float(r.rate) != 20.0]
    report = Setup(generated, vat_rates=kept).run()
    taxes = _by_name(report, "taxes")
    assert taxes[0].status == "fail"
    assert "20%" in taxes[0].detail and "Dictionaries" in taxes[0].fix


def test_unknown_warehouse_is_named(generated) -> None:
    report = Setup(generated, warehouse="NOPE").run()
    failing = [c for c in _by_name(report, "warehouse") if c.status == "fail"]
    assert failing and "'NOPE' does not exist" in failing[0].detail


def test_restricted_key_lists_missing_permissions(generated) -> None:
    setup = Setup(generated)
    setup.ps.api_keys[setup.ps_key] = {"products": ["GET", "HEAD"]}
    report = setup.run()
    permissions = _by_name(report, "permissions")
    assert permissions[0].status == "fail"
    assert "orders" in permissions[0].detail and "categories" in permissions[0].detail


def test_maintenance_mode_fails(generated) -> None:
    setup = Setup(generated)
    rows = [r for r in setup.ps.rows("configurations") if r.get("name") == "PS_SHOP_ENABLE"]
    if rows:
        setup.ps.update("configurations", int(rows[0]["id"]), {"value": "0"})
    else:
        setup.ps.insert("configurations", {"name": "PS_SHOP_ENABLE", "value": "0", "id_shop": "", "id_shop_group": ""})
    report = setup.run()
    assert _by_name(report, "maintenance")[0].status == "fail"


def test_unreachable_dolibarr_and_bad_shop_key(generated) -> None:
    setup = Setup(generated)
    setup.settings.shop[0].key = SecretStr("X" * 32)
    setup.settings.dolibarr.key = SecretStr("wrong-key")
    report = setup.run()
    assert _by_name(report, "reachable")[0].status == "fail"
    shop_reach = [c for c in report.checks if c.scope == "shop main" and c.name == "reachable"]
    assert shop_reach[0].status == "fail" and "key" in shop_reach[0].fix


def test_report_never_shows_a_key(generated, capsys) -> None:
    setup = Setup(generated)
    report = setup.run()
    logged = capsys.readouterr()
    print_report(report, json_output=True)
    document = capsys.readouterr().out
    assert json.loads(document)["counts"]["ok"] > 0
    print_report(report, json_output=False)
    table = capsys.readouterr().out
    for text in (logged.out, logged.err, document, table):
        assert setup.ps_key not in text and setup.erp_key not in text


def test_stock_moving_both_ways_is_warned() -> None:
    from dolisync.doctor import check_settings

    shop = ShopSettings(name="main", url="https://shop.example", key=SecretStr("K" * 32), erp_to_shop=["stock"])
    report = check_settings(Settings(shop=[shop], dolibarr=DolibarrSettings(url="https://erp.example/api/index.php",
                                                                             key=SecretStr("k"))))
    warned = [c for c in report.checks if c.name == "stock direction"]
    assert warned and warned[0].status == "warn" and "sync_stock = false" in warned[0].fix
    shop_off = shop.model_copy(update={"sync_stock": False})
    quiet = check_settings(Settings(shop=[shop_off], dolibarr=DolibarrSettings(url="https://erp.example/api/index.php",
                                                                                key=SecretStr("k"))))
    assert not [c for c in quiet.checks if c.name == "stock direction"]
