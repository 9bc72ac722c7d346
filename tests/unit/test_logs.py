"""Logging redaction: no registered key or credential pattern reaches the output."""

from __future__ import annotations

import base64
import io
import json
import logging

import pytest
import structlog

from dolisync.logs import SecretRedactor, configure_logging, get_logger, setup_logging

SHOP_KEY = "ZQ8M2K4VX1LP9RTA7WBN3CYD6HFE5GJU"
DOLI_KEY = "dolibarr-api-key-123456"


@pytest.fixture
def output() -> io.StringIO:
    return io.StringIO()


@pytest.fixture
def redactor() -> SecretRedactor:
    return SecretRedactor([SHOP_KEY, DOLI_KEY])


@pytest.fixture(autouse=True)
def _restore_logging():
    yield
    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler.get_name() == "dolisync":
            root.removeHandler(handler)
    structlog.reset_defaults()


def _assert_clean(text: str) -> None:
    assert SHOP_KEY not in text
    assert DOLI_KEY not in text
    assert base64.b64encode(f"{SHOP_KEY}:".encode()).decode() not in text
    assert SHOP_KEY[:16] not in text


@pytest.mark.parametrize("as_json", [True, False])
def test_debug_request_log_with_keys_is_redacted(output: io.StringIO, redactor: SecretRedactor, as_json: bool) -> None:
    configure_logging("DEBUG", json=as_json, stream=output, redactor=redactor)
    basic = "Basic " + base64.b64encode(f"{SHOP_KEY}:".encode()).decode()
    get_logger("dolisync.test").debug(
        f"GET https://shop.example.com/api/products?ws_key={SHOP_KEY}&limit=0,100",
        headers={"Authorization": basic, "DOLAPIKEY": DOLI_KEY, "Accept": "application/json"},
        url=f"https://{SHOP_KEY}:@shop.example.com/api/",
        body={"nested": [f"key is {DOLI_KEY}"]},
        key=SHOP_KEY,
    )
    text = output.getvalue()
    _assert_clean(text)
    assert "ws_key=***" in text and "limit=0,100" in text and "application/json" in text
    if as_json:
        record = json.loads(text.strip().splitlines()[-1])
        assert record["level"] == "debug" and record["headers"]["Authorization"] == "***"
        assert record["key"] == "***" and record["body"] == {"nested": ["key is ***"]}


@pytest.mark.parametrize("as_json", [True, False])
def test_exception_text_and_traceback_are_redacted(output: io.StringIO, redactor: SecretRedactor, as_json: bool) -> None:
    configure_logging("INFO", json=as_json, stream=output, redactor=redactor)
    log = get_logger("dolisync.test")
    try:
        raise RuntimeError(f"remote refused DOLAPIKEY={DOLI_KEY} and key {SHOP_KEY}")
    except RuntimeError:
        log.exception("sync failed")
    text = output.getvalue()
    _assert_clean(text)
    assert "RuntimeError" in text and "sync failed" in text


def test_plain_stdlib_loggers_go_through_the_redactor(output: io.StringIO, redactor: SecretRedactor) -> None:
    configure_logging("INFO", json=True, stream=output, redactor=redactor)
    other = logging.getLogger("some.library")
    other.info("HTTP Request: GET %s", f"https://erp.example.com/api/index.php/status?DOLAPIKEY={DOLI_KEY}")
    try:
        {}["x"]
    except KeyError:
        other.exception("with key %s", SHOP_KEY)
    text = output.getvalue()
    _assert_clean(text)
    lines = [json.loads(line) for line in text.strip().splitlines()]
    assert lines[0]["event"].endswith("DOLAPIKEY=***") and lines[0]["logger"] == "some.library"
    assert "KeyError" in lines[1]["exception"]


def test_http_library_request_lines_are_left_to_our_clients(output: io.StringIO, redactor: SecretRedactor) -> None:
    """httpx2 logs every request URL at INFO; our clients log requests themselves (no URL secrets)."""
    configure_logging("DEBUG", json=True, stream=output, redactor=redactor)
    logging.getLogger("httpx2").info("HTTP Request: GET https://shop.example/api/products")
    logging.getLogger("httpx2").warning("connection pool is full")
    text = output.getvalue()
    assert "HTTP Request" not in text and "connection pool is full" in text


def test_level_filters_and_bad_level_is_refused(output: io.StringIO, redactor: SecretRedactor) -> None:
    configure_logging("WARNING", json=True, stream=output, redactor=redactor)
    get_logger("x").info("hidden")
    get_logger("x").warning("shown")
    assert "hidden" not in output.getvalue() and "shown" in output.getvalue()
    with pytest.raises(ValueError, match="unknown log level"):
        configure_logging("LOUD", json=True, stream=output, redactor=redactor)


def test_redactor_text_patterns_without_registration() -> None:
    clean = SecretRedactor()
    assert clean.text("Authorization: Bearer abcdef123") == "Authorization: ***"
    assert clean.text("postgresql://u:pw@db/x") == "postgresql://***@db/x"
    assert clean.text('{"DOLAPIKEY": "abc123"}') == '{"DOLAPIKEY": "***"}'
    assert clean.text("plain text, nothing secret") == "plain text, nothing secret"
    clean.register("", "ab")  # too short to register: ordinary words survive
    assert clean.text("about tab") == "about tab"


def test_setup_logging_registers_the_configured_secrets(output: io.StringIO) -> None:
    from dolisync.config import Settings
    from dolisync.logs import default_redactor

    settings = Settings(
        dolibarr={"url": "https://erp.example.com/api/index.php", "key": DOLI_KEY},
        shop=[{"name": "fr", "url": "https://shop.example.com", "key": SHOP_KEY}],
        log={"level": "debug", "json": True},
    )
    try:
        setup_logging(settings, stream=output)
        get_logger("dolisync.cli").debug("starting", config=repr(settings.dolibarr.key.get_secret_value()), shop_key=SHOP_KEY)
        text = output.getvalue()
        _assert_clean(text)
        assert json.loads(text.splitlines()[-1])["event"] == "starting"
    finally:
        default_redactor.clear()


def test_register_accepts_lists_of_secrets(output: io.StringIO) -> None:
    redactor = SecretRedactor()
    redactor.register([SHOP_KEY, DOLI_KEY], "another-secret")
    configure_logging("INFO", json=True, stream=output, redactor=redactor)
    get_logger("x").info(f"{SHOP_KEY} {DOLI_KEY} another-secret")
    text = output.getvalue()
    _assert_clean(text)
    assert "another-secret" not in text


def test_secret_named_fields_are_masked_entity_keys_are_kept(output: io.StringIO) -> None:
    configure_logging("INFO", json=True, stream=output, redactor=SecretRedactor())
    get_logger("x").info("event", token="unregistered-token", api_key="k-123456", key="fr:product:42")
    record = json.loads(output.getvalue().strip().splitlines()[-1])
    assert record["token"] == "***" and record["api_key"] == "***"
    assert record["key"] == "fr:product:42"
