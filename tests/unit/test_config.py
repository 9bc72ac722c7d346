"""Configuration: TOML + environment, secrets, clear errors, rendering and docs."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from dolisync.config import (
    ConfigError,
    Settings,
    config_reference_markdown,
    load_settings,
    mask_url,
    render_config_toml,
)

SHOP_KEY = "A1B2C3D4E5F6G7H8I9J0K1L2M3N4O5P6"
MINIMAL = """
[dolibarr]
url = "https://erp.example.com/api/index.php"
key = "doli-secret-key"

[[shop]]
name = "fr"
url = "https://shop.example.com"
key = "A1B2C3D4E5F6G7H8I9J0K1L2M3N4O5P6"
timezone = "Europe/Paris"
price_base = "TTC"

[shop.payment_accounts]
ps_checkpayment = "BANK1"

[shop.order_state_rules]
invoice = [2, 11]

[[shop]]
name = "de"
url = "https://shop.example.com"
id_shop = 2
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "dolisync.toml"
    path.write_text(text)
    return path


def test_file_values_defaults_and_nested_tables(tmp_path: Path) -> None:
    settings = load_settings(_write(tmp_path, MINIMAL), environ={})
    fr, de = settings.shop
    assert fr.price_base == "TTC" and fr.timezone == "Europe/Paris"
    assert fr.payment_accounts == {"ps_checkpayment": "BANK1"}
    assert fr.order_state_rules.invoice == [2, 11] and fr.order_state_rules.shipped == 4
    assert de.id_shop == 2 and de.price_base == "HT" and de.language == "en"
    assert settings.state.url == "sqlite:///./state/dolisync.sqlite"
    assert settings.web.host == "127.0.0.1"
    assert fr.rounding_tolerance == Decimal("0.05")
    assert settings.shop_named("de") is de


def test_environment_overrides_file_by_section_and_by_shop_name_or_index(tmp_path: Path) -> None:
    env = {
        "DOLISYNC_DOLIBARR__KEY": "from-env",
        "DOLISYNC_WEB__PORT": "9100",
        "DOLISYNC_SHOP__DE__KEY": "K" * 32,
        "DOLISYNC_SHOP__0__LANGUAGE": "FR",
        "DOLISYNC_TEST_POSTGRES_URL": "postgresql://ignored",
    }
    settings = load_settings(_write(tmp_path, MINIMAL), environ=env)
    assert settings.dolibarr.key.get_secret_value() == "from-env"
    assert settings.web.port == 9100
    assert settings.shop[1].key.get_secret_value() == "K" * 32
    assert settings.shop[0].language == "fr"
    assert settings.shop[0].key.get_secret_value() == SHOP_KEY


def test_config_path_from_environment_and_missing_explicit_file(tmp_path: Path) -> None:
    path = _write(tmp_path, MINIMAL)
    assert load_settings(environ={"DOLISYNC_CONFIG": str(path)}).shop[0].name == "fr"
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.toml", environ={})


def test_default_file_absent_is_fine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(environ={"DOLISYNC_DOLIBARR__KEY": "x"})
    assert settings.shop == [] and "no [[shop]] configured" in " ".join(settings.missing_secrets())


def test_errors_name_the_option_and_never_echo_secrets(tmp_path: Path) -> None:
    bad = MINIMAL.replace('price_base = "TTC"', 'price_base = "gross"').replace(
        'timezone = "Europe/Paris"', 'timezone = "Mars/Olympus"'
    )
    bad += '\n[web]\ntoken = "tok-secret"\nport = 99999\n'
    with pytest.raises(ConfigError) as info:
        load_settings(_write(tmp_path, bad), environ={})
    text = str(info.value)
    assert "shop[fr].price_base" in text and "shop[fr].timezone" in text and "web.port" in text
    assert "IANA" in text
    assert "tok-secret" not in text and "doli-secret-key" not in text and SHOP_KEY not in text
    assert "gross" not in text  # input values are hidden


def test_unknown_option_and_bad_toml_are_explained(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"dolibarr.api_key: unknown option"):
        load_settings(_write(tmp_path, '[dolibarr]\napi_key = "x"\n'), environ={})
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(_write(tmp_path, "[dolibarr\n"), environ={})
    with pytest.raises(ConfigError, match="must end with /api/index.php"):
        load_settings(_write(tmp_path, '[dolibarr]\nurl = "https://erp.example.com"\n'), environ={})
    with pytest.raises(ConfigError, match="query string"):
        load_settings(_write(tmp_path, '[[shop]]\nurl = "https://s.example.com/?ws_key=abc"\n'), environ={})


def test_duplicate_shop_names_and_unknown_env_shop(tmp_path: Path) -> None:
    twice = '[[shop]]\nname = "a"\nurl = "https://a.example.com"\n[[shop]]\nname = "a"\nurl = "https://b.example.com"\n'
    with pytest.raises(ConfigError, match="named 'a'"):
        load_settings(_write(tmp_path, twice), environ={})
    with pytest.raises(ConfigError, match="no \\[\\[shop\\]\\] has that name"):
        load_settings(_write(tmp_path, MINIMAL), environ={"DOLISYNC_SHOP__XX__KEY": "k"})


def test_masked_hides_every_secret_and_url_password(tmp_path: Path) -> None:
    text = MINIMAL + '\n[state]\nurl = "postgresql+psycopg://sync:db-pass@db.local/dolisync"\n[web]\ntoken = "tok-secret"\n'
    settings = load_settings(_write(tmp_path, text), environ={})
    masked = settings.masked()
    dumped = repr(masked)
    for secret in ("doli-secret-key", SHOP_KEY, "tok-secret", "db-pass"):
        assert secret not in dumped
    assert masked["state"]["url"] == "postgresql+psycopg://sync:***@db.local/dolisync"
    assert masked["shop"][0]["key"] == "***" and masked["shop"][1]["key"] == ""
    assert set(settings.secret_values()) == {"doli-secret-key", SHOP_KEY, "tok-secret", "db-pass"}
    assert "doli-secret-key" not in repr(settings) and "doli-secret-key" not in str(settings)


def test_mask_url_leaves_plain_urls_alone() -> None:
    assert mask_url("https://erp.example.com/api/index.php") == "https://erp.example.com/api/index.php"
    assert mask_url("http://u:p@h:5432/x") == "http://u:***@h:5432/x"


def test_procrastinate_needs_postgres(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="procrastinate"):
        load_settings(_write(tmp_path, '[runtime]\nexecutor = "procrastinate"\n'), environ={})


def test_rendered_toml_loads_back_with_same_values(tmp_path: Path) -> None:
    text = render_config_toml(
        dolibarr_url="https://erp.example.com/api/index.php",
        shops=[
            {"name": "fr", "url": "https://fr.example.com", "payment_accounts": {"ps_wirepayment": "BANK2"}},
            {"name": "be", "url": "https://be.example.com", "id_shop": 3, "price_base": "TTC"},
        ],
    )
    assert text.count("[[shop]]") == 2 and "# Timeout of one HTTP request" in text
    settings = load_settings(_write(tmp_path, text), environ={})
    assert [s.name for s in settings.shop] == ["fr", "be"]
    assert settings.shop[0].payment_accounts == {"ps_wirepayment": "BANK2"}
    assert settings.shop[1].id_shop == 3 and settings.shop[1].price_base == "TTC"
    assert settings.model_dump(exclude={"dolibarr", "shop"}) == Settings().model_dump(exclude={"dolibarr", "shop"})


def test_docs_reference_lists_every_option() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "configuration.md").read_text()
    table = config_reference_markdown()
    assert table in docs, "docs/configuration.md is out of date: paste config_reference_markdown()"
    for option in ("shop.carrier_warehouses", "shop.order_state_rules.shipped", "runtime.executor", "web.token"):
        assert f"`{option}`" in table


def test_environment_only_configuration_with_named_shops(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    env = {
        "DOLISYNC_DOLIBARR__URL": "https://erp.example.com/api/index.php",
        "DOLISYNC_DOLIBARR__KEY": "k-erp",
        "DOLISYNC_SHOP__FR__URL": "https://fr.example.com",
        "DOLISYNC_SHOP__FR__KEY": SHOP_KEY,
        "DOLISYNC_SHOP__FR__CARRIER_WAREHOUSES": '{"2": "WH-MAIN"}',
        "DOLISYNC_LOG__JSON": "true",
    }
    settings = load_settings(environ=env)
    assert [s.name for s in settings.shop] == ["fr"]
    assert settings.shop[0].carrier_warehouses == {"2": "WH-MAIN"} and settings.log.json_output
    assert settings.missing_secrets() == []


def test_order_ref_mode_accepts_ref_and_refuses_other_values(tmp_path: Path) -> None:
    path = tmp_path / "d.toml"
    path.write_text('[[shop]]\nname = "main"\nurl = "https://shop.example"\norder_ref_mode = "ref"\n', encoding="utf-8")
    assert load_settings(path, environ={}).shop[0].order_ref_mode == "ref"
    path.write_text('[[shop]]\nname = "main"\nurl = "https://shop.example"\norder_ref_mode = "number"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_settings(path, environ={})
    assert "order_ref_mode" in str(raised.value)
