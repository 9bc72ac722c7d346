"""dolisync configuration: one TOML file plus ``DOLISYNC_...`` environment overrides.

Contract:

* :func:`load_settings` finds the file by explicit path, else ``$DOLISYNC_CONFIG``, else
  ``./dolisync.toml`` (a missing default file is fine: everything may come from the
  environment; a missing explicit file is an error).
* Environment variables override the file: ``DOLISYNC_<SECTION>__<OPTION>`` (nested with
  ``__``), e.g. ``DOLISYNC_DOLIBARR__KEY``, ``DOLISYNC_WEB__PORT``. A shop is addressed by its
  ``name`` or its position: ``DOLISYNC_SHOP__FR__KEY`` or ``DOLISYNC_SHOP__0__KEY``.
* Keys and tokens are :class:`~pydantic.SecretStr`; validation errors never echo input
  values (``hide_input_in_errors``). Every problem is reported as :class:`ConfigError` whose
  lines name the option (``shop[fr].price_base``) and say what to fix.
* Every option has a default and a description (``Field(description=...)``): the same text
  feeds :func:`render_config_toml` (``dolisync init``) and ``docs/configuration.md``.
* :meth:`Settings.masked` is the effective configuration with every secret (and the password
  of any URL) replaced by ``"***"``; :meth:`Settings.secret_values` lists the secret strings
  to register with the log redactor.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

__all__ = [
    "ConfigError",
    "StateSettings",
    "DolibarrSettings",
    "OrderStateRules",
    "ShopSettings",
    "WebSettings",
    "RuntimeSettings",
    "LogSettings",
    "Settings",
    "find_config_path",
    "load_settings",
    "render_config_toml",
    "config_reference_markdown",
    "mask_url",
    "ENV_PREFIX",
    "DEFAULT_CONFIG_NAME",
]

ENV_PREFIX = "DOLISYNC_"
DEFAULT_CONFIG_NAME = "dolisync.toml"
MASK = "***"


class ConfigError(Exception):
    """The configuration is unusable; ``problems`` lists one human line per bad option."""

    def __init__(self, problems: list[str], source: str = "") -> None:
        self.problems = problems
        self.source = source
        where = f" ({source})" if source else ""
        super().__init__(f"invalid configuration{where}:\n" + "\n".join(f"  - {p}" for p in problems))


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True, validate_default=True)


def _check_http_url(value: str, option: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{option} must be an http(s) URL such as https://shop.example.com")
    if parts.query or parts.fragment:
        raise ValueError(f"{option} must not carry a query string (keys go in 'key', never in URLs)")
    return value.rstrip("/")


class StateSettings(_Section):
    """``[state]``: where dolisync keeps bindings, cursors, failures and runs."""

    url: str = Field(
        "sqlite:///./state/dolisync.sqlite",
        description="SQLAlchemy URL of the state store: SQLite file (default) or "
        "postgresql+psycopg://user:password@host/db for the scale-out executor.",
    )


class DolibarrSettings(_Section):
    """``[dolibarr]``: the ERP."""

    url: str = Field(
        "http://localhost/dolibarr/api/index.php",
        description="Dolibarr REST base URL, including /api/index.php.",
    )
    key: SecretStr = Field(
        SecretStr(""),
        description="DOLAPIKEY of the Dolibarr user dolisync acts as (prefer DOLISYNC_DOLIBARR__KEY).",
    )
    timeout_s: float = Field(30.0, gt=0, le=600, description="Timeout of one HTTP request, in seconds.")
    concurrency: int = Field(4, ge=1, le=64, description="Requests in flight at once to Dolibarr.")
    rate_per_s: float = Field(20.0, gt=0, description="Maximum requests per second sent to Dolibarr.")
    retries: int = Field(5, ge=0, le=20, description="Attempts after a transient failure (5xx, 429, timeout).")
    in_doubt_s: float = Field(
        120.0, ge=0, le=3600,
        description="After a create whose answer was lost (timeout, dropped connection), seconds to wait before "
        "looking for it and trying again: Dolibarr may still commit it meanwhile (PHP goes on after the client "
        "gives up). At least the server's PHP max_execution_time.",
    )
    company_country: str | None = Field(
        None,
        description="ISO country code of the Dolibarr company (e.g. FR); empty = read from /setup/company.",
    )

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        value = _check_http_url(value, "dolibarr.url")
        if not value.endswith("/api/index.php"):
            raise ValueError("dolibarr.url must end with /api/index.php (e.g. https://erp.example.com/api/index.php)")
        return value

    @field_validator("company_country")
    @classmethod
    def _country(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not re.fullmatch(r"[A-Za-z]{2}", value):
            raise ValueError("dolibarr.company_country must be a 2-letter ISO code such as FR")
        return value.upper()


class OrderStateRules(_Section):
    """``[shop.order_state_rules]``: which PrestaShop order states drive which ERP action."""

    create: list[int] = Field(
        default_factory=list,
        description="Order state ids for which the order is created in Dolibarr; empty = every "
        "state except error and cancelled states.",
    )
    invoice: list[int] = Field(
        default_factory=list,
        description="States that create and validate the Dolibarr invoice; empty = states flagged "
        "'invoice' in PrestaShop.",
    )
    payment: list[int] = Field(
        default_factory=list,
        description="States that record the payment in Dolibarr; empty = states flagged 'paid'.",
    )
    shipped: int | None = Field(4, description="State set in the shop when Dolibarr ships the order.")
    delivered: int | None = Field(5, description="State set in the shop when Dolibarr closes the order.")
    cancelled: int | None = Field(6, description="State treated as cancellation (both directions).")
    payment_accepted: int | None = Field(
        2, description="State set in the shop when the Dolibarr invoice is paid (empty = off)."
    )


_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")

ErpToShopFlow = Literal["stock", "prices", "product_data", "new_products", "order_states", "invoice_numbers"]
DEFAULT_OWNERSHIP: dict[str, str] = {
    "stock": "dolibarr", "price": "dolibarr", "descriptions": "prestashop", "images": "prestashop",
    "active": "prestashop",
}


class ShopSettings(_Section):
    """One ``[[shop]]``: a PrestaShop store, or one shop of a multistore."""

    name: str = Field(
        "main",
        description="Short unique name of this shop (a-z, 0-9, _ and -): used in external keys and logs.",
    )
    url: str = Field("http://localhost", description="Shop base URL; the Webservice is at <url>/api/.")
    key: SecretStr = Field(
        SecretStr(""),
        description="Webservice key (32 characters), sent as Basic auth (prefer DOLISYNC_SHOP__<NAME>__KEY).",
    )
    id_shop: int | None = Field(None, ge=1, description="Multistore: the shop id to sync; empty = default shop.")
    language: str = Field("en", description="ISO code of the shop language used for Dolibarr labels.")
    timezone: str = Field("UTC", description="Timezone of the shop's dates (PrestaShop stores local time).")
    price_base: Literal["HT", "TTC"] = Field(
        "HT", description="Dolibarr price base for synced products: HT (tax excl.) or TTC (tax incl.)."
    )
    default_warehouse: str | None = Field(
        None, description="Dolibarr warehouse ref for stock when no carrier rule applies."
    )
    ref_prefix: str = Field("", description="Prefix added to product refs created in Dolibarr.")
    matching: Literal["external_key", "ref"] = Field(
        "external_key",
        description="How existing Dolibarr products are found: external_key (ref_ext) or ref (reference).",
    )
    sync_stock: bool = Field(True, description="Synchronise stock quantities.")
    sync_descriptions: bool = Field(True, description="Synchronise descriptions (otherwise only on creation).")
    combinations: Literal["variants", "products"] = Field(
        "variants", description="Combinations become Dolibarr variants, or separate products."
    )
    customer_name_upper: bool = Field(False, description="Write customer last names in upper case.")
    customer_language: bool = Field(True, description="Set the thirdparty language from the customer's.")
    discount_line_per_cart_rule: bool = Field(
        True, description="One discount line per cart rule (else one discount line per order)."
    )
    order_ref_mode: Literal["ref", "ref_client"] = Field(
        "ref_client",
        description="Where the PrestaShop order reference goes in Dolibarr: ref_client (the customer's "
        "reference; Dolibarr numbers the order) or ref (also the order's own ref; the 2nd, 3rd... order of a split "
        "cart gets REF-2, REF-3...; invoices keep Dolibarr's numbering).",
    )
    customer_ref_from_shop: bool = Field(
        False, description="Use the PrestaShop customer id as Dolibarr customer code (else Dolibarr numbering)."
    )
    invoice_link_back: bool = Field(
        True, description="Write the Dolibarr invoice number and PDF link back to the shop."
    )
    guests: Literal["per_email", "generic"] = Field(
        "per_email",
        description="Guest checkouts: per_email (one third party per e-mail, adopted when it exists) or generic "
        "(every guest order goes to one 'Web customer' third party).",
    )
    match_customers_by_email: bool = Field(
        True, description="Adopt an existing Dolibarr third party with the customer's e-mail (two or more park "
        "the customer for review, never a duplicate)."
    )
    carrier_warehouses: dict[str, str] = Field(
        default_factory=dict,
        description="Carrier (id_reference) -> Dolibarr warehouse ref that ships its orders.",
    )
    payment_accounts: dict[str, str] = Field(
        default_factory=dict,
        description="Payment module (e.g. ps_checkpayment) -> Dolibarr bank account ref.",
    )
    order_state_rules: OrderStateRules = Field(default_factory=OrderStateRules, description="See below.")
    rounding_tolerance: Decimal = Field(
        Decimal("0.05"),
        ge=0,
        le=10,
        description="Largest order total difference fixed by a labelled adjustment line; larger = failure.",
    )
    erp_to_shop: list[ErpToShopFlow] = Field(
        default_factory=list,
        description="Dolibarr -> shop flows switched on for this shop (empty = none): stock, prices, "
        "product_data, new_products, order_states, invoice_numbers.",
    )
    stock_warehouses: list[str] = Field(
        default_factory=list,
        description="Dolibarr warehouse refs whose stock is summed for this shop; empty = default_warehouse, "
        "or every warehouse when that is unset too.",
    )
    stock_kind: Literal["physical", "virtual"] = Field(
        "physical", description="Dolibarr stock written to the shop: physical (stock_reel) or virtual (stock_theorique)."
    )
    stock_buffer: int = Field(
        0, ge=0, description="Safety buffer subtracted from the Dolibarr stock written to the shop (never below 0)."
    )
    price_level: int | None = Field(
        None, ge=1, le=10, description="Dolibarr price level (multiprices) that sets this shop's prices; empty = the single price."
    )
    price_source: Literal["HT", "TTC"] = Field(
        "HT",
        description="Dolibarr -> shop price: HT (tax excl., copied) or TTC (tax incl., converted with the shop "
        "tax rate so the shop's gross price equals Dolibarr's).",
    )
    ownership: dict[str, Literal["dolibarr", "prestashop", "shared"]] = Field(
        default_factory=lambda: dict(DEFAULT_OWNERSHIP),
        description="Master side per field group (stock, price, descriptions, images, active): dolibarr (shop "
        "edits are overwritten and logged as conflicts), prestashop (never written from Dolibarr after "
        "creation), shared (the latest change on either side wins).",
    )
    descriptions_on_update: bool = Field(
        False,
        description="Dolibarr -> shop: also write labels and descriptions on update (else only when the "
        "product is created in the shop).",
    )
    timeout_s: float = Field(30.0, gt=0, le=600, description="Timeout of one HTTP request, in seconds.")
    concurrency: int = Field(4, ge=1, le=64, description="Requests in flight at once to this shop.")
    rate_per_s: float = Field(10.0, gt=0, description="Maximum requests per second sent to this shop.")
    retries: int = Field(5, ge=0, le=20, description="Attempts after a transient failure (5xx, 429, timeout).")
    webhook_secret: SecretStr | None = Field(
        None,
        description="Secret that signs this shop's webhooks (HMAC-SHA256 of the body, header "
        "X-Dolisync-Signature); empty = the shop's webhooks are refused.",
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError("name must be 1-32 characters of a-z, 0-9, _ or - (starting with a letter or digit)")
        return value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        value = _check_http_url(value, "url")
        if value.endswith("/api"):
            raise ValueError("url is the shop base URL, without /api (e.g. https://shop.example.com)")
        return value

    @field_validator("ownership")
    @classmethod
    def _ownership(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(DEFAULT_OWNERSHIP))
        if unknown:
            raise ValueError(f"ownership names unknown field groups {unknown}: use {', '.join(DEFAULT_OWNERSHIP)}")
        return {**DEFAULT_OWNERSHIP, **value}

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("timezone must be an IANA name such as Europe/Paris") from None
        return value

    @field_validator("language")
    @classmethod
    def _language(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z]{2,3}", value):
            raise ValueError("language must be an ISO language code such as en or fr")
        return value.lower()


class WebSettings(_Section):
    """``[web]``: webhooks, dashboard and metrics."""

    host: str = Field("127.0.0.1", description="Address the web server listens on.")
    port: int = Field(8765, ge=1, le=65535, description="Port the web server listens on.")
    token: SecretStr | None = Field(
        None, description="Token required by the dashboard and webhooks; empty = local use only."
    )
    dolibarr_webhook_secret: SecretStr | None = Field(
        None,
        description="Secret Dolibarr's Webhook module must send (URL ?secret=... or header "
        "X-Dolisync-Secret); empty = Dolibarr webhooks are refused.",
    )


class RuntimeSettings(_Section):
    """``[runtime]``: how work is executed and how often remotes are polled."""

    executor: Literal["asyncio", "procrastinate"] = Field(
        "asyncio", description="asyncio (in-process) or procrastinate (PostgreSQL state store only)."
    )
    orders_poll_s: float = Field(60.0, gt=0, description="Seconds between two polls of new/changed orders.")
    catalog_poll_s: float = Field(300.0, gt=0, description="Seconds between two polls of the catalogue.")
    stock_poll_s: float = Field(120.0, gt=0, description="Seconds between two polls of stock.")
    erp_poll_s: float = Field(120.0, gt=0, description="Seconds between two polls of Dolibarr changes.")
    cursor_overlap_s: float = Field(
        120.0, ge=0, description="Overlap re-read at each incremental poll (clock skew, late commits)."
    )
    inbox_retention_days: float = Field(
        7.0, gt=0, description="Days a processed webhook/poll event stays in the inbox; older ones are purged hourly."
    )


class LogSettings(_Section):
    """``[log]``: logging."""

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="Log level.")
    json_output: bool = Field(False, alias="json", description="JSON lines (production) instead of console.")

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True, validate_by_name=True, validate_by_alias=True)

    @field_validator("level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value


class Settings(BaseSettings):
    """The whole configuration (see module contract)."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        hide_input_in_errors=True,
        extra="forbid",
        case_sensitive=False,
    )

    state: StateSettings = Field(default_factory=StateSettings, description="State store.")
    dolibarr: DolibarrSettings = Field(default_factory=DolibarrSettings, description="The Dolibarr ERP.")
    shop: list[ShopSettings] = Field(default_factory=list, description="PrestaShop shops.")
    web: WebSettings = Field(default_factory=WebSettings, description="Web server.")
    runtime: RuntimeSettings = Field(default_factory=RuntimeSettings, description="Executor and polling.")
    log: LogSettings = Field(default_factory=LogSettings, description="Logging.")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Only explicit init values (the file + environment, merged by load_settings).
        return (init_settings,)

    @field_validator("shop", mode="before")
    @classmethod
    def _shops_from_environment(cls, value: Any) -> Any:
        """Environment-only shops: ``{"0": {...}}`` -> by position, ``{"fr": {...}}`` -> named ``fr``."""
        if not isinstance(value, dict):
            return value
        if all(str(key).isdigit() for key in value):
            return [value[key] for key in sorted(value, key=lambda k: int(k))]
        return [{"name": str(key).lower(), **item} if isinstance(item, dict) else item for key, item in value.items()]

    @model_validator(mode="after")
    def _unique_shops(self) -> Settings:
        seen: set[tuple[str, int | None]] = set()
        names: set[str] = set()
        for shop in self.shop:
            if shop.name in names:
                raise ValueError(f"two [[shop]] entries are named {shop.name!r}: names must be unique")
            names.add(shop.name)
            target = (shop.url, shop.id_shop)
            if target in seen:
                raise ValueError(f"shop {shop.name!r} repeats the url and id_shop of another [[shop]]")
            seen.add(target)
        if self.runtime.executor == "procrastinate" and not self.state.url.startswith("postgresql"):
            raise ValueError("runtime.executor = 'procrastinate' needs a PostgreSQL state.url")
        return self

    def shop_named(self, name: str) -> ShopSettings:
        """The ``[[shop]]`` called ``name`` (``KeyError`` naming the known shops)."""
        for shop in self.shop:
            if shop.name == name:
                return shop
        raise KeyError(f"no shop named {name!r} (configured: {', '.join(s.name for s in self.shop) or 'none'})")

    def missing_secrets(self) -> list[str]:
        """Options that must be set before talking to a remote (empty keys), as fix-it lines."""
        problems = []
        if not self.dolibarr.key.get_secret_value():
            problems.append("dolibarr.key is empty: set it in the file or DOLISYNC_DOLIBARR__KEY")
        if not self.shop:
            problems.append("no [[shop]] configured: add one (see `dolisync init`)")
        for shop in self.shop:
            if not shop.key.get_secret_value():
                env = f"{ENV_PREFIX}SHOP__{shop.name.upper()}__KEY"
                problems.append(f"shop[{shop.name}].key is empty: set it in the file or {env}")
        return problems

    def secret_values(self) -> list[str]:
        """Every secret string of this configuration (for the log redactor)."""
        values = [self.dolibarr.key.get_secret_value()]
        values += [shop.key.get_secret_value() for shop in self.shop]
        if self.web.token is not None:
            values.append(self.web.token.get_secret_value())
        if self.web.dolibarr_webhook_secret is not None:
            values.append(self.web.dolibarr_webhook_secret.get_secret_value())
        values += [shop.webhook_secret.get_secret_value() for shop in self.shop if shop.webhook_secret is not None]
        password = urlsplit(self.state.url).password
        if password:
            values.append(password)
        return [value for value in values if value]

    def masked(self) -> dict[str, Any]:
        """Effective configuration as plain data, every secret and URL password replaced by ``***``."""
        data = self.model_dump(mode="json", by_alias=True)
        data["state"]["url"] = mask_url(self.state.url)
        data["dolibarr"]["key"] = MASK if self.dolibarr.key.get_secret_value() else ""
        data["dolibarr"]["url"] = mask_url(self.dolibarr.url)
        for raw, shop in zip(data["shop"], self.shop, strict=True):
            raw["key"] = MASK if shop.key.get_secret_value() else ""
            raw["url"] = mask_url(shop.url)
            if shop.webhook_secret is not None:
                raw["webhook_secret"] = MASK
        if self.web.token is not None:
            data["web"]["token"] = MASK
        if self.web.dolibarr_webhook_secret is not None:
            data["web"]["dolibarr_webhook_secret"] = MASK
        return data


def mask_url(url: str) -> str:
    """``url`` with the password of its user-info (if any) replaced by ``***``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return MASK
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    netloc = f"{user}:{MASK}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


# --- loading -----------------------------------------------------------------------------


def find_config_path(path: Path | None = None, environ: dict[str, str] | None = None) -> tuple[Path, bool]:
    """The file to read and whether it was asked for explicitly (path or $DOLISYNC_CONFIG)."""
    env = os.environ if environ is None else environ
    if path is not None:
        return Path(path), True
    if env.get(f"{ENV_PREFIX}CONFIG"):
        return Path(env[f"{ENV_PREFIX}CONFIG"]), True
    return Path.cwd() / DEFAULT_CONFIG_NAME, False


def _read_toml(path: Path, explicit: bool) -> dict[str, Any]:
    if not path.exists():
        if explicit:
            raise ConfigError([f"configuration file {path} does not exist (run `dolisync init` to create one)"])
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path} is not valid TOML: {exc}"], source=str(path)) from None
    except OSError as exc:
        raise ConfigError([f"cannot read {path}: {exc.strerror}"], source=str(path)) from None


def _env_values(environ: dict[str, str] | None) -> dict[str, Any]:
    """``DOLISYNC_...`` variables as nested data (via pydantic-settings' own env parsing)."""
    source = EnvSettingsSource(
        Settings,
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        case_sensitive=False,
    )
    if environ is not None:
        source.env_vars = {key.lower(): value for key, value in environ.items()}
    values = source()
    values.pop("config", None)
    return _decode_json_strings(values)


def _decode_json_strings(value: Any) -> Any:
    """Nested env values stay text; ``{...}``/``[...]`` ones are JSON maps and lists."""
    if isinstance(value, dict):
        return {key: _decode_json_strings(item) for key, item in value.items()}
    if isinstance(value, str) and value.strip()[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _merge(base: Any, override: Any) -> Any:
    """Deep merge; a ``{name-or-index: {...}}`` override updates the matching list item."""
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = _merge(merged[key], value) if key in merged else value
        return merged
    if isinstance(base, list) and isinstance(override, dict):
        merged_list = list(base)
        for key, value in override.items():
            index = _list_index(merged_list, str(key))
            if index is None:
                raise ConfigError(
                    [f"environment override for shop {key!r}: no [[shop]] has that name or position"]
                )
            merged_list[index] = _merge(merged_list[index], value)
        return merged_list
    return override


def _list_index(items: list[Any], key: str) -> int | None:
    if key.isdigit() and int(key) < len(items):
        return int(key)
    for index, item in enumerate(items):
        if isinstance(item, dict) and str(item.get("name", "")).lower() == key.lower():
            return index
    return None


def _problem_lines(exc: ValidationError, data: dict[str, Any]) -> list[str]:
    lines = []
    for error in exc.errors():
        loc = list(error.get("loc", ()))
        option = _option_name(loc, data)
        message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        if error.get("type") == "extra_forbidden":
            message = "unknown option (check its spelling and section in docs/configuration.md)"
        elif error.get("type") == "missing":
            message = "required option is missing"
        lines.append(f"{option}: {message}" if option else message)
    return lines


def _option_name(loc: list[Any], data: dict[str, Any]) -> str:
    parts: list[str] = []
    index = 0
    while index < len(loc):
        part = loc[index]
        if part == "shop" and index + 1 < len(loc) and isinstance(loc[index + 1], int):
            position = loc[index + 1]
            shops = data.get("shop")
            name = None
            if isinstance(shops, list) and position < len(shops) and isinstance(shops[position], dict):
                name = shops[position].get("name")
            parts.append(f"shop[{name or position}]")
            index += 2
            continue
        parts.append(str(part))
        index += 1
    return ".".join(parts)


def load_settings(path: Path | None = None, *, environ: dict[str, str] | None = None) -> Settings:
    """Read the file (see :func:`find_config_path`), apply environment overrides, validate.

    ``environ`` replaces ``os.environ`` (tests). Raises :class:`ConfigError`.
    """
    config_path, explicit = find_config_path(path, environ)
    data = _read_toml(config_path, explicit)
    try:
        overrides = _env_values(environ)
    except Exception as exc:  # malformed JSON in a complex env value
        raise ConfigError([f"environment variable {ENV_PREFIX}...: {exc.__class__.__name__}"]) from None
    merged = _merge(data, overrides)
    try:
        return Settings(**merged)
    except ValidationError as exc:
        raise ConfigError(_problem_lines(exc, merged), source=str(config_path)) from None


def _toml_value(value: Any) -> str:
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if isinstance(value, Decimal):
        value = str(value)
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    if isinstance(value, dict):  # inline table (tomli_w would open a [table])
        return "{ " + ", ".join(f"{_toml_value(str(k))} = {_toml_value(v)}" for k, v in value.items()) + " }"
    return tomli_w.dumps({"v": value}).split("=", 1)[1].strip()


def _field_lines(model: type[BaseModel], values: dict[str, Any], skip: set[str]) -> list[str]:
    lines: list[str] = []
    for name, info in model.model_fields.items():
        if name in skip:
            continue
        key = info.alias or name
        default = info.get_default(call_default_factory=True)
        value = values.get(name, default)
        lines.append(f"# {info.description} (default: {_default_text(default)})")
        if value is None:
            lines.append(f"# {key} =")
        else:
            lines.append(f"{key} = {_toml_value(value)}")
    return lines


def _default_text(default: Any) -> str:
    if isinstance(default, SecretStr):
        return "empty"
    if default is None:
        return "unset"
    if isinstance(default, dict | list) and not default:
        return "empty"
    return _toml_value(default)


_MAP_SECTIONS = ("carrier_warehouses", "payment_accounts")


def render_config_toml(
    *,
    dolibarr_url: str | None = None,
    dolibarr_key: str = "",
    shops: list[dict[str, Any]] | None = None,
    state_url: str | None = None,
) -> str:
    """A commented ``dolisync.toml`` (every option with its meaning and default).

    ``shops`` items are dicts of ``[[shop]]`` options (``name``, ``url``, ``key`` ...). Keys
    left empty are expected from the environment (``DOLISYNC_DOLIBARR__KEY``,
    ``DOLISYNC_SHOP__<NAME>__KEY``). The result loads with :func:`load_settings`; the caller
    should write it with mode 0600 when it contains keys.
    """
    out = [
        "# dolisync configuration. Every option is shown with its default.",
        "# Environment variables override this file: DOLISYNC_<SECTION>__<OPTION>,",
        "# e.g. DOLISYNC_DOLIBARR__KEY, DOLISYNC_SHOP__<NAME>__KEY (keep keys out of this file).",
        "",
    ]
    sections: list[tuple[str, type[BaseModel], dict[str, Any]]] = [
        ("state", StateSettings, {"url": state_url} if state_url else {}),
        ("dolibarr", DolibarrSettings, {k: v for k, v in {"url": dolibarr_url, "key": dolibarr_key}.items() if v}),
    ]
    for title, model, values in sections:
        out += [f"[{title}]", *_field_lines(model, values, set()), ""]
    for shop in shops or [{"name": "main"}]:
        out += ["[[shop]]", *_field_lines(ShopSettings, shop, {"order_state_rules", *_MAP_SECTIONS}), ""]
        for map_name in _MAP_SECTIONS:
            info = ShopSettings.model_fields[map_name]
            out += [f"# {info.description}", f"[shop.{map_name}]"]
            out += [f"{_toml_value(str(k))} = {_toml_value(v)}" for k, v in (shop.get(map_name) or {}).items()]
            out.append("")
        rules = shop.get("order_state_rules") or {}
        out += ["[shop.order_state_rules]", *_field_lines(OrderStateRules, rules, set()), ""]
    for title, model in (("web", WebSettings), ("runtime", RuntimeSettings), ("log", LogSettings)):
        out += [f"[{title}]", *_field_lines(model, {}, set()), ""]
    return "\n".join(out)


def config_reference_markdown() -> str:
    """The option reference table of ``docs/configuration.md`` (generated from the models)."""
    rows = ["| option | default | meaning |", "|---|---|---|"]
    sections: list[tuple[str, type[BaseModel]]] = [
        ("state", StateSettings),
        ("dolibarr", DolibarrSettings),
        ("shop", ShopSettings),
        ("shop.order_state_rules", OrderStateRules),
        ("web", WebSettings),
        ("runtime", RuntimeSettings),
        ("log", LogSettings),
    ]
    for prefix, model in sections:
        for name, info in model.model_fields.items():
            if name == "order_state_rules":
                continue
            default = _default_text(info.get_default(call_default_factory=True)).replace("|", "\\|")
            rows.append(f"| `{prefix}.{info.alias or name}` | `{default}` | {info.description} |")
    return "\n".join(rows) + "\n"
