"""`dolisync emulate prestashop|dolibarr`: run an emulator as a real server on 127.0.0.1.

Contract: each command builds the emulated system (from ``--state FILE`` when the file exists,
else from the seeded generator), prints the URL and the key to use, serves until interrupted,
and saves the state back to ``--state FILE`` on exit when one was given.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
import uvicorn

if TYPE_CHECKING:
    from dolisync.emulators.dataset import DolibarrSetup

__all__ = ["emulate_app", "load_setup_file"]

emulate_app = typer.Typer(help="Run a faithful PrestaShop or Dolibarr emulator on 127.0.0.1.", no_args_is_help=True)

HostOpt = Annotated[str, typer.Option(help="Interface to listen on (loopback by default).")]
PortOpt = Annotated[int, typer.Option(help="TCP port.")]
KeyOpt = Annotated[str | None, typer.Option(help="API key to accept (default: a random one, printed).")]
StateOpt = Annotated[Path | None, typer.Option(help="Keep the emulated data in this JSON file across restarts.")]
FaultOpt = Annotated[list[str] | None, typer.Option("--fault", help="Fault rule, e.g. 'latency=20ms' or 'path=/api/products*,error_rate=0.02'.")]


def load_setup_file(path: Path) -> DolibarrSetup:
    """A :class:`DolibarrSetup` from a JSON file of its fields; unknown fields are an error naming them."""
    import dataclasses
    import json

    from dolisync.emulators.dataset import DolibarrSetup, VatRate

    data = json.loads(path.read_text(encoding="utf-8"))
    known = {f.name for f in dataclasses.fields(DolibarrSetup)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise typer.BadParameter(f"{path}: unknown setup fields {unknown}; use {sorted(known)}")
    data["vat_rates"] = [VatRate(**row) for row in data.get("vat_rates", [])]
    return DolibarrSetup(**data)


def _fault_plan(specs: list[str] | None) -> object | None:
    if not specs:
        return None
    from dolisync.emulators.faults import FaultPlan

    return FaultPlan.from_specs(list(specs))


@emulate_app.command("prestashop")
def emulate_prestashop(
    port: PortOpt = 8080,
    host: HostOpt = "127.0.0.1",
    seed: Annotated[int, typer.Option(help="Generator seed: same seed, same store.")] = 1,
    products: Annotated[int, typer.Option(help="Number of products to generate.")] = 200,
    orders: Annotated[int, typer.Option(help="Number of orders to generate.")] = 300,
    customers: Annotated[int, typer.Option(help="Number of customers to generate.")] = 100,
    shops: Annotated[int, typer.Option(help="Number of shops (multistore).")] = 2,
    country: Annotated[str, typer.Option(help="Merchant country: FR (EUR, French VAT) or CA (CAD, GST/PST).")] = "FR",
    key: KeyOpt = None,
    state: StateOpt = None,
    fault: FaultOpt = None,
) -> None:
    """Serve an emulated PrestaShop 8.2.1 Webservice at http://HOST:PORT/api/."""
    from dolisync.emulators.generator import generate_store
    from dolisync.emulators.prestashop import PrestaShopStore, create_app

    api_key = key or secrets.token_hex(16).upper()
    if state is not None and state.exists():
        store = PrestaShopStore.load(state)
    else:
        dataset = generate_store(seed=seed, products=products, orders=orders, customers=customers, shops=shops,
                                 country=country.upper()).prestashop
        store = PrestaShopStore.from_dataset(dataset)
    store.api_keys[api_key] = None
    base_url = f"http://{host}:{port}"
    app = create_app(store, base_url=base_url, faults=_fault_plan(fault))
    typer.echo(f"PrestaShop emulator: {base_url}/api/")
    typer.echo(f"Webservice key: {api_key}")
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
    finally:
        if state is not None:
            store.save(state)
            typer.echo(f"state saved to {state}")


@emulate_app.command("dolibarr")
def emulate_dolibarr(
    port: PortOpt = 8081,
    host: HostOpt = "127.0.0.1",
    seed: Annotated[int, typer.Option(help="Generator seed for the ERP setup.")] = 1,
    country: Annotated[str, typer.Option(help="Company country code: FR (VAT) or CA (GST+PST/QST local taxes).")] = "FR",
    setup: Annotated[Path | None, typer.Option(help="JSON setup file: company country/currency, localtax1_on/localtax2_on, vat_rates, warehouses, bank_accounts, multicurrencies (fields of DolibarrSetup); overrides --country.")] = None,
    key: KeyOpt = None,
    state: StateOpt = None,
    fault: FaultOpt = None,
) -> None:
    """Serve an emulated Dolibarr REST API at http://HOST:PORT/api/index.php/."""
    from dolisync.emulators.dolibarr import DolibarrState, create_app
    from dolisync.emulators.generator import generate_store

    api_key = key or secrets.token_hex(16)
    if state is not None and state.exists():
        erp = DolibarrState.load(state)
    elif setup is not None:
        erp = DolibarrState.from_setup(load_setup_file(setup))
    else:
        generated = generate_store(seed=seed, products=1, orders=0, customers=1, country=country.upper()).dolibarr
        erp = DolibarrState.from_setup(generated)
    erp.api_keys[api_key] = "admin"
    app = create_app(erp, faults=_fault_plan(fault))
    typer.echo(f"Dolibarr emulator: http://{host}:{port}/api/index.php")
    typer.echo(f"DOLAPIKEY: {api_key}")
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
    finally:
        if state is not None:
            erp.save(state)
            typer.echo(f"state saved to {state}")
