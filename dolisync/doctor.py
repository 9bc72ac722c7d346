"""``dolisync check``: a doctor that says, line by line, what is wrong and how to fix it.

Contract: :func:`run_checks` never raises for a remote problem; every problem becomes a
:class:`Check` with ``status`` ``ok`` / ``warn`` / ``fail``, a ``detail`` saying what was
found and a ``fix`` saying what to do. Checks that cannot run because an earlier one
failed (e.g. permissions when the shop is unreachable) are reported as skipped with the
reason. No check output contains a key.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx2

from dolisync.clients.dolibarr import DolibarrClient, build_sqlfilters
from dolisync.clients.errors import RemoteError, Unauthorized
from dolisync.clients.prestashop import PrestaShopClient
from dolisync.config import Settings, ShopSettings, mask_url

__all__ = ["Check", "Report", "run_checks", "check_settings", "print_report", "SERVICE_PRODUCTS",
           "PRESTASHOP_READS", "DOLIBARR_MODULES"]

Status = Literal["ok", "warn", "fail", "skipped"]

PRESTASHOP_READS: tuple[str, ...] = (
    "categories", "products", "combinations", "product_options", "product_option_values",
    "product_features", "product_feature_values", "stock_availables", "specific_prices", "images",
    "languages", "shops", "configurations", "taxes", "tax_rules", "tax_rule_groups", "countries",
    "currencies", "carriers", "customers", "addresses", "orders", "order_details", "order_histories",
    "order_states", "order_payments", "order_cart_rules", "order_carriers", "order_invoices",
)
"""Resources dolisync reads from every shop (GET needed)."""

DOLIBARR_MODULES: dict[str, str] = {
    "api": "API REST",
    "product": "Products",
    "stock": "Stock",
    "categorie": "Categories",
    "societe": "Third parties",
    "commande": "Customer orders",
    "facture": "Invoices",
    "banque": "Banks and cash",
}
"""Dolibarr modules always needed (module key -> name in Home > Setup > Modules)."""

SERVICE_PRODUCTS: dict[str, str] = {
    "DOLISYNC-SHIPPING": "Shipping",
    "DOLISYNC-DISCOUNT": "Discount",
    "DOLISYNC-WRAPPING": "Gift wrapping",
}
"""Service products the order lines point at (ref -> label). ``dolisync check --fix`` creates them."""


@dataclass(frozen=True, slots=True)
class Check:
    """One line of the doctor's report."""

    scope: str  # "config", "dolibarr", "shop main" ...
    name: str
    status: Status
    detail: str
    fix: str = ""


@dataclass(slots=True)
class Report:
    """Every check, in the order they ran."""

    checks: list[Check] = field(default_factory=list)

    def add(self, scope: str, name: str, status: Status, detail: str, fix: str = "") -> None:
        self.checks.append(Check(scope, name, status, detail, fix))

    @property
    def has_failures(self) -> bool:
        return any(c.status == "fail" for c in self.checks)

    def as_dict(self) -> dict[str, Any]:
        counts = {s: sum(1 for c in self.checks if c.status == s) for s in ("ok", "warn", "fail", "skipped")}
        return {"ok": not self.has_failures, "counts": counts, "checks": [asdict(c) for c in self.checks]}


def _is_loopback(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return host in {"localhost", "::1"} or host.startswith("127.")


def _scheme_check(report: Report, scope: str, url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme == "https" or _is_loopback(url):
        report.add(scope, "transport", "ok", f"{mask_url(url)}")
    else:
        report.add(scope, "transport", "warn", f"{mask_url(url)} uses plain http off loopback: keys travel in clear",
                   "use https:// for a remote server")


def check_settings(settings: Settings) -> Report:
    """Checks that need no network: shops configured, keys present, URL schemes."""
    report = Report()
    for problem in settings.missing_secrets():  # "what is missing: how to fix it"
        what, _, fix = problem.partition(": ")
        report.add("config", "shops" if "[[shop]]" in what else "secret", "fail", what, fix)
    _scheme_check(report, "dolibarr", settings.dolibarr.url)
    for shop in settings.shop:
        _scheme_check(report, f"shop {shop.name}", shop.url)
        if shop.sync_stock and "stock" in shop.erp_to_shop:
            report.add(f"shop {shop.name}", "stock direction", "warn",
                       "stock moves both ways (sync_stock and erp_to_shop 'stock'): each side overwrites the other",
                       "after the initial load, set sync_stock = false when Dolibarr is where stock is counted")
    return report


def run_checks(settings: Settings, *, fix: bool = False,
               shop_transports: dict[str, httpx2.AsyncBaseTransport] | None = None,
               dolibarr_transport: httpx2.AsyncBaseTransport | None = None) -> Report:
    """Run every check (see module contract); ``fix`` creates missing service products."""
    report = check_settings(settings)
    asyncio.run(_remote_checks(report, settings, fix, shop_transports or {}, dolibarr_transport))
    return report


async def _remote_checks(report: Report, settings: Settings, fix: bool,
                         shop_transports: dict[str, httpx2.AsyncBaseTransport],
                         dolibarr_transport: httpx2.AsyncBaseTransport | None) -> None:
    vat_rates: list[Decimal] | None = None
    company_iso = settings.dolibarr.company_country
    async with DolibarrClient.from_settings(settings.dolibarr, transport=dolibarr_transport) as erp:
        ok, company_iso, vat_rates = await _dolibarr_checks(report, settings, erp, fix)
    for shop in settings.shop:
        transports = {"prestashop": shop_transports.get(shop.name), "dolibarr": dolibarr_transport}
        async with PrestaShopClient.from_settings(shop, transport=shop_transports.get(shop.name)) as ps:
            await _shop_checks(report, settings, shop, ps, company_iso if ok else None, vat_rates, transports)


async def _dolibarr_checks(report: Report, settings: Settings, erp: DolibarrClient,
                           fix: bool) -> tuple[bool, str | None, list[Decimal] | None]:
    scope = "dolibarr"
    try:
        status = await erp.status()
    except RemoteError as exc:
        report.add(scope, "reachable", "fail", str(exc), "check [dolibarr] url (ending in /api/index.php) and key")
        return False, None, None
    report.add(scope, "reachable", "ok", f"Dolibarr {status.get('dolibarr_version', '?')}")
    try:
        modules = set(await erp.modules())
    except Unauthorized:
        report.add(scope, "modules", "warn", "the key's user may not list modules (admin only)",
                   "check by hand that the modules below are enabled, or use an admin user's key")
        modules = set()
    except RemoteError as exc:
        report.add(scope, "modules", "fail", str(exc), "check the Dolibarr API module")
        modules = set()
    if modules:
        needed = dict(DOLIBARR_MODULES)
        if any(s.combinations == "variants" for s in settings.shop):
            needed["variants"] = "Variants"
        missing = [f"{name} ({key})" for key, name in needed.items() if key not in modules]
        if missing:
            report.add(scope, "modules", "fail", "disabled: " + ", ".join(missing),
                       "enable them in Home > Setup > Modules/Applications")
        else:
            report.add(scope, "modules", "ok", "all needed modules enabled")
        if "multicurrency" not in modules:
            report.add(scope, "multicurrency", "warn", "Multicurrency module disabled",
                       "enable it if your shops take orders in several currencies")
    company_iso = settings.dolibarr.company_country
    vat: list[Decimal] | None = None
    try:
        company = await erp.company()
        company_iso = company_iso or company.country_code
        report.add(scope, "company", "ok", f"country {company.country_code}, currency {company.currency_code}")
        vat = [row.taux for row in await erp.vat_rates(company.country_id) if row.active]
    except RemoteError as exc:
        report.add(scope, "company", "warn", str(exc), "set [dolibarr] company_country")
    for shop in settings.shop:
        if shop.default_warehouse:
            await _warehouse_check(report, erp, shop.default_warehouse, f"default warehouse of shop {shop.name}")
        for carrier, ref in sorted(shop.carrier_warehouses.items()):
            await _warehouse_check(report, erp, ref, f"warehouse of carrier {carrier} (shop {shop.name})")
    await _service_products_check(report, erp, fix)
    return True, company_iso, vat


async def _warehouse_check(report: Report, erp: DolibarrClient, ref: str, what: str) -> None:
    try:
        found = [w async for w in erp.list_raw("warehouses", sqlfilters=build_sqlfilters(("t.ref", "=", ref)))]
    except RemoteError as exc:
        report.add("dolibarr", "warehouse", "fail", f"{what}: {exc}", "check the Stock module and the key's rights")
        return
    if not found:
        report.add("dolibarr", "warehouse", "fail", f"{what} '{ref}' does not exist",
                   f"create warehouse '{ref}' in Dolibarr or fix the configuration")
    elif str(found[0].get("statut", found[0].get("status", "1"))) != "1":
        report.add("dolibarr", "warehouse", "fail", f"{what} '{ref}' is closed", f"reopen warehouse '{ref}'")
    else:
        report.add("dolibarr", "warehouse", "ok", f"{what} '{ref}' exists and is open")


async def _service_products_check(report: Report, erp: DolibarrClient, fix: bool) -> None:
    for ref, label in SERVICE_PRODUCTS.items():
        try:
            found = [p async for p in erp.list_raw("products", sqlfilters=build_sqlfilters(("t.ref", "=", ref)))]
            if found:
                report.add("dolibarr", "service product", "ok", f"{ref} exists")
            elif fix:
                await erp.create("products", {"ref": ref, "label": label, "type": 1, "status": 1, "status_buy": 0,
                                              "caller": "dolisync"})
                report.add("dolibarr", "service product", "ok", f"{ref} created")
            else:
                report.add("dolibarr", "service product", "warn", f"{ref} ({label}) missing",
                           "run `dolisync check --fix` to create it")
        except RemoteError as exc:
            report.add("dolibarr", "service product", "fail", f"{ref}: {exc}", "check the Products/Services modules")


async def _shop_checks(report: Report, settings: Settings, shop: ShopSettings, ps: PrestaShopClient,
                       company_iso: str | None, vat_rates: list[Decimal] | None, transports: dict[str, Any]) -> None:
    scope = f"shop {shop.name}"
    try:
        allowed = await ps.resources_allowed()
    except RemoteError as exc:
        report.add(scope, "reachable", "fail", str(exc),
                   "check the shop url, that the Webservice is enabled and the key is active")
        return
    report.add(scope, "reachable", "ok", f"{len(allowed)} resources allowed for the key")
    missing = [r for r in PRESTASHOP_READS if "get" not in allowed.get(r, frozenset())]
    if missing:
        report.add(scope, "permissions", "fail", "GET not allowed on: " + ", ".join(missing),
                   "Advanced Parameters > Webservice > edit the key: tick View (GET) for these resources")
    else:
        report.add(scope, "permissions", "ok", "GET allowed on every resource dolisync reads")
    writes = [r for r in ("stock_availables", "products", "order_histories") if "put" not in allowed.get(r, frozenset())
              and "post" not in allowed.get(r, frozenset())]
    if writes:
        report.add(scope, "write permissions", "warn", "no write on: " + ", ".join(writes),
                   "needed only for ERP -> shop flows (stock, prices, order states)")
    try:
        rows = [row async for row in ps.list_raw("configurations", filters={"name": "PS_SHOP_ENABLE"},
                                                  display="full")]
        enabled = [str(r.get("value", "")) for r in rows]
        if enabled and all(v in ("0", "") for v in enabled):
            report.add(scope, "maintenance", "fail", "the shop is in maintenance mode (PS_SHOP_ENABLE=0)",
                       "Shop Parameters > General > Maintenance: enable the shop")
        else:
            report.add(scope, "maintenance", "ok", "shop enabled")
    except RemoteError as exc:
        report.add(scope, "maintenance", "warn", f"could not read PS_SHOP_ENABLE: {exc}",
                   "allow GET on configurations")
    if company_iso and vat_rates is not None:
        await _tax_checks(report, scope, ps, company_iso, vat_rates)
    await _order_setup_checks(report, scope, settings, shop, transports)


async def _order_setup_checks(report: Report, scope: str, settings: Settings, shop: ShopSettings,
                              transports: dict[str, Any]) -> None:
    """State rules exist (invoice states carry PrestaShop's invoice flag), every payment module of recent
    orders maps to an existing bank account, every carrier -> warehouse entry names real objects."""
    from dolisync.sync.orders.doctor import order_setup_problems

    try:
        problems = await order_setup_problems(settings, shop, transports=transports)
    except RemoteError as exc:
        report.add(scope, "orders setup", "fail", str(exc), "allow GET on orders, order_states and carriers")
        return
    for problem in problems:  # each line says what is wrong and what to do
        report.add(scope, "orders setup", "fail", problem, "as the detail says, then `dolisync check` again")
    if not problems:
        report.add(scope, "orders setup", "ok", "state rules, payment modules and carrier warehouses are mapped")


async def _tax_checks(report: Report, scope: str, ps: PrestaShopClient, company_iso: str,
                      vat_rates: list[Decimal]) -> None:
    try:
        countries = [c async for c in ps.list_raw("countries", filters={"iso_code": company_iso}, display="full")]
        if not countries:
            report.add(scope, "taxes", "warn", f"no country {company_iso} in the shop", "check [dolibarr] company_country")
            return
        id_country = str(countries[0].get("id"))
        rules = [r async for r in ps.list_raw("tax_rules", filters={"id_country": id_country}, display="full")]
        tax_ids = sorted({str(r.get("id_tax")) for r in rules if str(r.get("id_tax", "0")) != "0"})
        taxes = [t async for t in ps.list_raw("taxes", display="full")]
    except RemoteError as exc:
        report.add(scope, "taxes", "fail", str(exc), "allow GET on countries, tax_rules and taxes")
        return
    by_id = {str(t.get("id")): t for t in taxes}
    known = {rate.normalize() for rate in vat_rates}
    missing = sorted({Decimal(str(by_id[t].get("rate", "0"))).normalize() for t in tax_ids if t in by_id}
                     - known)
    if missing:
        report.add(scope, "taxes", "fail",
                   "tax rates used for " + company_iso + " missing in Dolibarr: " + ", ".join(f"{m:f}%" for m in missing),
                   "Home > Setup > Dictionaries > VAT rates: add them for the company country")
    else:
        report.add(scope, "taxes", "ok", f"{len(tax_ids)} tax rates used for {company_iso} exist in Dolibarr")


def print_report(report: Report, *, json_output: bool) -> None:
    """Print as a rich table (one line per check, with its fix) or as one JSON document."""
    if json_output:
        print(json.dumps(report.as_dict(), indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    colours = {"ok": "green", "warn": "yellow", "fail": "red", "skipped": "dim"}
    table = Table(title="dolisync check")
    for column in ("scope", "check", "status", "detail", "fix"):
        table.add_column(column)
    for c in report.checks:
        table.add_row(c.scope, c.name, f"[{colours[c.status]}]{c.status}[/]", c.detail, c.fix)
    Console().print(table)
