"""Error classification from recorded PrestaShop and Dolibarr answers."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from dolisync.clients.errors import (
    NotFound,
    NotModified,
    RemoteRejected,
    Transient,
    Unauthorized,
    classify_dolibarr,
    classify_prestashop,
    dolibarr_error_entries,
    parse_retry_after,
    prestashop_error_entries,
)

from .conftest import doli_sample, ps_capture


def _ps(name: str):
    capture = ps_capture(name)
    headers = {k.lower(): v for k, v in capture["headers"].items()}
    return classify_prestashop("ps:fr", capture["status"], headers, capture["body"].encode(), where="products")


def _doli(name: str):
    sample = doli_sample(name)
    body = sample["response"]
    raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    return classify_dolibarr("dolibarr", sample["status"], {}, raw, where="x")


def test_prestashop_parameter_error_answered_500_is_a_rejection_with_the_real_code() -> None:
    error = _ps("error_400_bad_filter-json")
    assert isinstance(error, RemoteRejected) and not isinstance(error, Transient)
    assert error.status == 500 and error.code == "32"
    assert error.message.startswith("This filter does not exist")
    assert len(error.errors) == 5  # the real error + four PHP warnings
    xml_error = _ps("error_400_bad_filter-xml")
    assert isinstance(xml_error, RemoteRejected) and xml_error.code == "32"


def test_prestashop_xml_parse_error_skips_php_warnings_for_the_primary_code() -> None:
    error = _ps("error_500_xml_parse-json")
    assert isinstance(error, RemoteRejected) and error.code == "127"


def test_prestashop_auth_not_found_and_disabled() -> None:
    no_key = _ps("error_401_no_key-json")
    assert isinstance(no_key, Unauthorized) and "401 Unauthorized" in no_key.message
    unknown = _ps("error_401_unknown_key-json")
    assert isinstance(unknown, Unauthorized) and unknown.code == "20" and len(unknown.errors) == 2
    missing = _ps("error_404_get_single-json")
    assert isinstance(missing, NotFound) and "products" in str(missing)
    disabled = _ps("error_503_disabled-xml")
    assert isinstance(disabled, RemoteRejected) and disabled.code == "22" and not isinstance(disabled, Transient)


def test_prestashop_bare_5xx_and_429_are_transient_with_retry_after() -> None:
    bare = classify_prestashop("ps", 502, {}, b"<html><body>Bad gateway</body></html>", where="orders")
    assert isinstance(bare, Transient) and "Bad gateway" in bare.message and not bare.not_applied
    limited = classify_prestashop("ps", 429, {"retry-after": "7"}, b"", where="orders")
    assert isinstance(limited, Transient) and limited.retry_after == 7.0 and limited.not_applied
    assert isinstance(classify_prestashop("ps", 304, {}, b"", where="x"), NotModified)
    redirect = classify_prestashop("ps", 302, {"location": "http://secret@host/"}, b"", where="x")
    assert isinstance(redirect, RemoteRejected) and "secret" not in str(redirect)


def test_dolibarr_html_then_json_body_uses_the_last_error_object_and_is_a_retryable_race() -> None:
    observed = doli_sample("error_500_concurrent_validate_duplicate_ref")["observed"]["identity"]
    body = (observed["body_text_start"] + "<br>\n<b>SQL</b> {\"error\" in html}\n" + observed["json_tail"]).encode()
    entries = dolibarr_error_entries(body)
    assert entries[0][0] == "500" and "Duplicate entry" in entries[0][1]
    error = classify_dolibarr("dolibarr", 500, {}, body, where="POST orders/5/validate")
    assert isinstance(error, Transient) and error.not_applied


def test_dolibarr_recorded_errors() -> None:
    assert isinstance(_doli("thirdparties_list_empty"), NotFound)
    waf = _doli("error_403_waf_colon_in_path")
    assert isinstance(waf, Unauthorized) and "WAF" in waf.message
    bad_key = _doli("error_401_bad_key")
    assert isinstance(bad_key, Unauthorized) and bad_key.code == "401"
    sql = _doli("error_503_sqlfilters_in_unquoted")
    assert isinstance(sql, RemoteRejected) and not isinstance(sql, Transient) and "Unknown column" in sql.message
    unknown = _doli("error_501_unknown_resource")
    assert isinstance(unknown, Transient) is False or unknown.status == 501
    duplicate = _doli("products_create_duplicate_ref")
    assert isinstance(duplicate, RemoteRejected) and "ErrorProductAlreadyExists" in duplicate.message
    assert isinstance(classify_dolibarr("dolibarr", 304, {}, b"", where="x"), NotModified)


def test_dolibarr_plain_5xx_without_envelope_is_transient() -> None:
    error = classify_dolibarr("dolibarr", 504, {}, b"<html>Gateway Timeout</html>", where="GET products")
    assert isinstance(error, Transient) and "Gateway Timeout" in error.message


def test_error_entries_of_empty_or_foreign_bodies() -> None:
    assert prestashop_error_entries(b"") == ()
    assert prestashop_error_entries(b"401 Unauthorized") == ()
    assert prestashop_error_entries(b"<!DOCTYPE x [<!ENTITY a 'b'>]><errors/>") == ()
    assert dolibarr_error_entries(b"API not found") == ()


def test_retry_after_forms() -> None:
    now = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    assert parse_retry_after("12", now=now) == 12.0
    assert parse_retry_after(format_datetime(now + timedelta(seconds=30), usegmt=True), now=now) == 30.0
    assert parse_retry_after("soon", now=now) is None
    assert parse_retry_after(None) is None


def test_messages_are_clipped_and_single_line() -> None:
    error = RemoteRejected("ps", 400, "85", "x" * 5000 + "\n\nend")
    assert len(error.message) <= 600 and "\n" not in str(error)


@pytest.mark.parametrize("status", [400, 405, 409, 422])
def test_other_4xx_are_permanent(status: int) -> None:
    error = classify_dolibarr("dolibarr", status, {}, b'{"error":{"code":%d,"message":"Bad Request: nope"}}' % status, where="x")
    assert isinstance(error, RemoteRejected) and error.message == "Bad Request: nope"
