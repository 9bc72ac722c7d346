"""``dolisync demo``: the whole product on one machine, with nothing to configure.

Contract: :func:`run_demo` starts the PrestaShop and Dolibarr emulators on 127.0.0.1 (free
ports), with a seeded two-shop, two-language store the first time and the data of the
previous demo afterwards (kept in ``workdir``), writes ``workdir/dolisync.toml`` (mode 600)
pointing at them with a SQLite state in ``workdir``, syncs every shop's catalogue (and its
orders when the order flows are installed), prints the summary and how to look at the
result, and returns the exit code of the sync. A second demo run therefore shows what an
incremental sync does: reads, and no writes.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from rich.console import Console

from dolisync.config import load_settings, render_config_toml
from dolisync.emulators.serve import BackgroundServer, free_port

__all__ = ["run_demo", "prepare_emulators"]

LOCAL_LIMITS = {"concurrency": 8, "rate_per_s": 1000.0}
"""The emulators run on this machine: no need for the polite defaults used with real servers."""
PS_STATE = "prestashop.json"
MAPS = "demo-maps.json"
ERP_STATE = "dolibarr.json"


def prepare_emulators(workdir: Path, *, products: int, seed: int) -> tuple[object, object, dict[str, Any]]:
    """The emulated shop and ERP, and the shop options matching the ERP's setup (payment module ->
    bank account, carrier -> warehouse): from ``workdir`` when a previous demo left them, else generated."""
    from dolisync.emulators.dolibarr import DolibarrState
    from dolisync.emulators.generator import generate_store
    from dolisync.emulators.prestashop import PrestaShopStore

    ps_file, erp_file, maps_file = workdir / PS_STATE, workdir / ERP_STATE, workdir / MAPS
    if ps_file.exists() and erp_file.exists() and maps_file.exists():
        maps = json.loads(maps_file.read_text(encoding="utf-8"))
        return PrestaShopStore.load(ps_file), DolibarrState.load(erp_file), maps
    generated = generate_store(seed=seed, products=products, orders=max(20, products // 2),
                               customers=max(10, products // 5), shops=2, languages=2)
    setup = generated.dolibarr
    maps = {
        "payment_accounts": {a["payment_module"]: a["ref"] for a in setup.bank_accounts if a.get("payment_module")},
        "carrier_warehouses": {str(c): w["ref"] for w in setup.warehouses for c in w.get("carriers", [])},
    }
    maps_file.write_text(json.dumps(maps, indent=2), encoding="utf-8")
    return PrestaShopStore.from_dataset(generated.prestashop), DolibarrState.from_setup(setup), maps


def _write_config(workdir: Path, shop_url: str, shop_key: str, erp_url: str, erp_key: str,
                  maps: dict[str, Any]) -> Path:
    shops = [
        {"name": "demo", "url": shop_url, "key": shop_key, "id_shop": 1, "language": "en", "default_warehouse": "WH-MAIN",
         **LOCAL_LIMITS, **maps},
        {"name": "demo-fr", "url": shop_url, "key": shop_key, "id_shop": 2, "language": "fr",
         "default_warehouse": "WH-MAIN", "ref_prefix": "FR-", **LOCAL_LIMITS, **maps},
    ]
    text = render_config_toml(dolibarr_url=erp_url, dolibarr_key=erp_key, shops=shops,
                              state_url=f"sqlite:///{(workdir / 'state.sqlite').resolve()}")
    path = workdir / "dolisync.toml"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    return path


def run_demo(*, products: int, seed: int, workdir: Path, keep_running: bool, console: Console | None = None) -> int:
    """See module contract."""
    from dolisync.cli_sync import run_sync
    from dolisync.emulators.dolibarr import create_app as dolibarr_app
    from dolisync.emulators.prestashop import create_app as prestashop_app
    from dolisync.logs import setup_logging

    console = console or Console()
    workdir.mkdir(parents=True, exist_ok=True)
    shop_store, erp_state, maps = prepare_emulators(workdir, products=products, seed=seed)
    shop_key = next(iter(shop_store.api_keys))  # type: ignore[attr-defined]
    erp_key = next(iter(erp_state.api_keys))  # type: ignore[attr-defined]
    port = free_port()  # chosen first: the shop's links carry its own URL
    shop_server = BackgroundServer(prestashop_app(shop_store, base_url=f"http://127.0.0.1:{port}"), port=port)
    erp_server = BackgroundServer(dolibarr_app(erp_state))
    try:
        shop_server.start()
        erp_server.start()
        erp_url = f"{erp_server.url}/api/index.php"
        config = _write_config(workdir, shop_server.url, shop_key, erp_url, erp_key, maps)
        settings = load_settings(config)
        settings.dolibarr.concurrency = int(LOCAL_LIMITS["concurrency"])
        settings.dolibarr.rate_per_s = float(LOCAL_LIMITS["rate_per_s"])
        setup_logging(settings)
        console.print(f"[bold]dolisync demo[/]: PrestaShop emulator {shop_server.url}/api/ "
                      f"(2 shops, 2 languages), Dolibarr emulator {erp_url}")
        console.print(f"configuration: {config} (state: {settings.state.url})")
        started = time.monotonic()
        entities = ["categories", "attributes", "features", "products", "stock", "specific_prices", "images"]
        if _orders_available():
            entities += ["customers", "orders"]
        code = run_sync(settings, entities=entities, shop=None, since=None, dry_run=False, json_output=False,
                        console=console)
        console.print(f"synced in {time.monotonic() - started:.1f}s")
        _print_next_steps(console, config, shop_server.url, erp_url)
        if keep_running:
            console.print("emulators stay up; press Ctrl-C to stop")
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
        return code
    finally:
        shop_server.stop()
        erp_server.stop()
        shop_store.save(workdir / PS_STATE)  # type: ignore[attr-defined]
        erp_state.save(workdir / ERP_STATE)  # type: ignore[attr-defined]


def _orders_available() -> bool:
    try:
        from dolisync.sync.orders import sync_orders  # noqa: F401
    except ImportError:
        return False
    return True


def _print_next_steps(console: Console, config: Path, shop_url: str, erp_url: str) -> None:
    console.print("\n[bold]Look at the result[/]")
    console.print(f"  dolisync -c {config} status          per shop and entity: last sync, counts, parked items")
    console.print("  dolisync demo                               again: an incremental sync (no writes)")
    console.print("  dolisync demo --keep-running                keep the emulators up and browse them:")
    console.print(f"    curl -u KEY: '{shop_url}/api/products?display=\\[id,reference]&output_format=JSON'")
    console.print(f"    curl -H 'DOLAPIKEY: KEY' '{erp_url}/products?limit=5'   (keys in {config})")
