"""The ``dolisync`` command line.

Contract: every command loads the configuration once (``-c FILE``, ``DOLISYNC_CONFIG`` or
``./dolisync.toml``, plus ``DOLISYNC_*`` variables), configures logging with secret redaction,
and exits non-zero with a message that says what to fix when something is wrong. Commands
that print results accept ``--json`` and then print exactly one JSON document on stdout.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from dolisync.cli_emulate import emulate_app

__all__ = ["app"]

app = typer.Typer(
    name="dolisync",
    help="Keep PrestaShop stores and a Dolibarr ERP in sync, both ways, exactly.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(emulate_app, name="emulate")

ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="Configuration file (default: $DOLISYNC_CONFIG or ./dolisync.toml)."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document instead of tables.")]
ShopOpt = Annotated[str | None, typer.Option("--shop", help="Only this shop (its name in the configuration).")]


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.secho(message, err=True, fg=typer.colors.RED)
    return typer.Exit(code)


def _settings(config: Path | None):  # -> Settings, typed lazily to keep start-up light
    from dolisync.config import ConfigError, load_settings
    from dolisync.logs import configure_logging, register_secrets

    try:
        settings = load_settings(config)
    except ConfigError as exc:
        raise _fail(str(exc)) from None
    register_secrets(settings.secret_values())
    configure_logging(settings.log.level, json=settings.log.json_output)
    return settings


@app.command()
def init(
    config: ConfigOpt = None,
    prestashop_url: Annotated[str | None, typer.Option(help="Shop base URL (the Webservice is at URL/api/).")] = None,
    prestashop_key: Annotated[str | None, typer.Option(help="PrestaShop Webservice key.")] = None,
    dolibarr_url: Annotated[str | None, typer.Option(help="Dolibarr REST URL, ending in /api/index.php.")] = None,
    dolibarr_key: Annotated[str | None, typer.Option(help="Dolibarr API key (DOLAPIKEY).")] = None,
    state_url: Annotated[str | None, typer.Option(help="State store URL (default: SQLite in ./state/).")] = None,
    shop_name: Annotated[str, typer.Option(help="Short name of the shop.")] = "main",
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask; overwrite an existing file.")] = False,
) -> None:
    """Write a commented configuration file (asks for the URLs and keys unless given)."""
    from dolisync.config import find_config_path, load_settings, render_config_toml

    path, _explicit = find_config_path(config)
    if path.exists() and not yes and not typer.confirm(f"{path} exists. Overwrite?", default=False):
        raise typer.Exit(1)
    if not yes:
        prestashop_url = prestashop_url or typer.prompt("PrestaShop shop URL", default="http://127.0.0.1:8080")
        prestashop_key = prestashop_key or typer.prompt("PrestaShop Webservice key", hide_input=True)
        dolibarr_url = dolibarr_url or typer.prompt("Dolibarr API URL", default="http://127.0.0.1:8081/api/index.php")
        dolibarr_key = dolibarr_key or typer.prompt("Dolibarr API key", hide_input=True)
    shop: dict[str, object] = {"name": shop_name}
    if prestashop_url:
        shop["url"] = prestashop_url
    if prestashop_key:
        shop["key"] = prestashop_key
    text = render_config_toml(dolibarr_url=dolibarr_url, dolibarr_key=dolibarr_key or "", shops=[shop],
                              state_url=state_url)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    load_settings(path)  # prove the file we wrote loads
    typer.echo(f"wrote {path} (mode 600). Next: dolisync check")


@app.command()
def check(
    config: ConfigOpt = None,
    json_output: JsonOpt = False,
    fix: Annotated[bool, typer.Option("--fix", help="Create the missing service products in Dolibarr.")] = False,
) -> None:
    """Doctor: reachability, key permissions, modules, warehouses, VAT rates, service products."""
    from dolisync.doctor import print_report, run_checks

    settings = _settings(config)
    report = run_checks(settings, fix=fix)
    print_report(report, json_output=json_output)
    if report.has_failures:
        raise typer.Exit(1)


@app.command()
def sync(
    entities: Annotated[list[str] | None, typer.Argument(help="categories, attributes, features, products, stock, specific_prices, images, customers, orders (default: every catalogue entity).")] = None,
    config: ConfigOpt = None,
    shop: ShopOpt = None,
    since: Annotated[str | None, typer.Option(help="Only objects changed since this date (YYYY-MM-DD[ HH:MM:SS]).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Read and plan, write nothing.")] = False,
    ids: Annotated[list[str] | None, typer.Option("--id", help="With `orders`: sync this order now (id or reference; repeatable).")] = None,
    reverse: Annotated[bool, typer.Option("--reverse", help="Dolibarr -> shop: stock, prices, product_data, new_products, order_states, invoice_numbers (default: the shop's erp_to_shop).")] = False,
    json_output: JsonOpt = False,
) -> None:
    """Sync shop -> Dolibarr: the catalogue (default), customers, orders (resumable, idempotent)."""
    from dolisync.cli_sync import run_sync

    settings = _settings(config)
    code = run_sync(settings, entities=entities or [], shop=shop, since=since, dry_run=dry_run, json_output=json_output,
                    ids=ids, reverse=reverse)
    raise typer.Exit(code)


@app.command()
def status(config: ConfigOpt = None, shop: ShopOpt = None, json_output: JsonOpt = False) -> None:
    """Per shop and entity: last sync, cursor, counts and parked items."""
    from dolisync.cli_sync import show_status

    settings = _settings(config)
    show_status(settings, shop=shop, json_output=json_output)


@app.command()
def retry(
    key: Annotated[str | None, typer.Argument(help="Failure key to retry (see `dolisync status`).")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Retry every parked and failed item.")] = False,
    config: ConfigOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Re-run parked and failed items (only those: no need to re-run everything)."""
    from dolisync.cli_sync import run_retry

    if not key and not all_:
        raise _fail("name a failure KEY or pass --all")
    settings = _settings(config)
    raise typer.Exit(run_retry(settings, key=key, json_output=json_output))


@app.command()
def run(config: ConfigOpt = None) -> None:
    """The continuous service: polls, webhooks, retries, dashboard on [web] host:port. SIGTERM drains."""
    from dolisync.cli_run import run_command

    raise typer.Exit(run_command(_settings(config)))


@app.command()
def worker(config: ConfigOpt = None) -> None:
    """A scale-out worker (procrastinate on the PostgreSQL state store); start several, anywhere."""
    from dolisync.cli_run import worker_command

    raise typer.Exit(worker_command(_settings(config)))


@app.command()
def failures(
    config: ConfigOpt = None,
    shop: ShopOpt = None,
    parked: Annotated[bool, typer.Option("--parked", help="Only items parked until retried.")] = False,
    json_output: JsonOpt = False,
) -> None:
    """Every failed or parked item with its error class, message, hint, attempts and next attempt."""
    import json

    from dolisync.cli_run import failures_json, failures_lines

    settings = _settings(config)
    if json_output:
        print(json.dumps(failures_json(settings, shop=shop, parked_only=parked), indent=2, default=str))
    else:
        for line in failures_lines(settings, shop=shop, parked_only=parked):
            typer.echo(line)


@app.command()
def reconcile(config: ConfigOpt = None, shop: ShopOpt = None, json_output: JsonOpt = False) -> None:
    """Per order and invoice: PrestaShop's totals, Dolibarr's, the delta and the fix applied."""
    from dolisync.cli_orders import run_reconcile

    settings = _settings(config)
    raise typer.Exit(run_reconcile(settings, shop=shop, json_output=json_output))


@app.command()
def demo(
    products: Annotated[int, typer.Option(help="Products in the generated store.")] = 300,
    seed: Annotated[int, typer.Option(help="Generator seed.")] = 7,
    workdir: Annotated[Path, typer.Option(help="Where the demo keeps its state and config.")] = Path("demo"),
    keep_running: Annotated[bool, typer.Option(help="Keep both emulators up after the sync, until Ctrl-C.")] = False,
) -> None:
    """Start both emulators on 127.0.0.1 with a seeded store, sync, print the summary."""
    from dolisync.demo import run_demo

    raise typer.Exit(run_demo(products=products, seed=seed, workdir=workdir, keep_running=keep_running))


if __name__ == "__main__":  # pragma: no cover
    app()
