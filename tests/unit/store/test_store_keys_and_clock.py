"""External keys, content hashes and the shop/ERP clock conversions."""

from __future__ import annotations

import random
import re
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dolisync.sync.binder import canonical_json, content_hash, external_key
from dolisync.sync.cursor import EPOCH, ShopClock, from_unix, to_sql_utc
from dolisync.sync.failures import Backoff

WAF_REFUSED = set(":;\"'<>?(){}$%#/ ")


@given(
    connection=st.text(min_size=1, max_size=20).filter(
        lambda s: any(c.isascii() and c.isalnum() for c in s)
    ),
    entity=st.sampled_from(["product", "customer", "order", "combination"]),
    source_id=st.integers(min_value=0, max_value=10**12),
)
def test_external_key_is_path_safe_stable_and_parseable(
    connection: str, entity: str, source_id: int
) -> None:
    key = external_key(connection, entity, source_id)
    assert not WAF_REFUSED & set(key)
    assert re.fullmatch(r"ps-[a-z0-9_.]+-[a-z0-9_.]+-[0-9]+", key), key
    assert key == external_key(connection, entity, str(source_id))
    assert key.rsplit("-", 1)[1] == str(source_id)
    assert key != external_key(connection, entity, source_id + 1)


def test_external_key_examples_and_refusals() -> None:
    assert external_key("shop1", "product", 42) == "ps-shop1-product-42"
    assert external_key("My Shop:FR", "order", "7") == "ps-my_shop_fr-order-7"
    assert external_key("eu-shop", "product", 1, prefix="doli") == "doli-eu_shop-product-1"
    with pytest.raises(ValueError):
        external_key("???", "product", 1)
    with pytest.raises(ValueError):
        external_key("shop", "product", 1, prefix="p-s")
    with pytest.raises(ValueError, match="too long"):
        external_key("x" * 130, "product", 1)


def test_content_hash_is_canonical() -> None:
    base = {"a": Decimal("20.00"), "b": [1, {"y": 2, "x": 1}], "c": "é"}
    same = {"c": "é", "b": [1, {"x": 1, "y": 2}], "a": Decimal("20")}
    assert content_hash(base) == content_hash(same)
    assert content_hash({"a": 7.5}) == content_hash({"a": Decimal("7.50")})
    assert content_hash({"a": Decimal("-0.00")}) == content_hash({"a": Decimal("0")})
    assert content_hash({"a": Decimal("1E+2")}) == content_hash({"a": Decimal("100")})
    assert content_hash({"a": Decimal("20.01")}) != content_hash(base)
    assert content_hash({"a": [1, 2]}) != content_hash({"a": [2, 1]})
    assert content_hash({"a": True}) != content_hash({"a": 1})
    paris = datetime(2026, 1, 1, 13, 0, tzinfo=timezone(timedelta(hours=1)))
    assert content_hash({"t": paris}) == content_hash({"t": datetime(2026, 1, 1, 12, tzinfo=UTC)})
    assert canonical_json({"d": date(2026, 1, 2), "s": {3, 1}}) == '{"d":"2026-01-02","s":[1,3]}'
    assert len(content_hash({})) == 64
    with pytest.raises(ValueError):
        content_hash({"t": datetime(2026, 1, 1)})
    with pytest.raises(ValueError):
        content_hash({"n": Decimal("NaN")})
    with pytest.raises(TypeError):
        content_hash({"o": object()})


@given(
    amount=st.decimals(
        allow_nan=False, allow_infinity=False, places=6, min_value=-(10**9), max_value=10**9
    ),
    zeros=st.integers(0, 4),
)
def test_content_hash_ignores_trailing_zeros(amount: Decimal, zeros: int) -> None:
    padded = Decimal(format(amount, "f") + ("0" * zeros if "." in format(amount, "f") else ""))
    assert content_hash({"price": amount}) == content_hash({"price": padded})


def test_shop_clock_converts_with_the_shop_time_zone() -> None:
    paris = ShopClock("Europe/Paris")
    assert paris.to_utc("2026-01-15 10:00:00") == datetime(2026, 1, 15, 9, 0, tzinfo=UTC)
    assert paris.to_utc("2026-07-15 10:00:00") == datetime(2026, 7, 15, 8, 0, tzinfo=UTC)
    assert paris.to_utc(datetime(2026, 7, 15, 10, 0)) == datetime(2026, 7, 15, 8, 0, tzinfo=UTC)
    assert (
        paris.to_wall(datetime(2026, 7, 15, 8, 0, 0, 999_999, tzinfo=UTC)) == "2026-07-15 10:00:00"
    )
    assert ShopClock(ZoneInfo("America/Montreal")).to_utc("2026-01-15 10:00:00").hour == 15
    assert paris.to_utc("0000-00-00 00:00:00") == EPOCH
    assert paris.to_utc("") == EPOCH
    with pytest.raises(ValueError):
        paris.to_utc(datetime(2026, 1, 1, tzinfo=UTC))
    with pytest.raises(ValueError):
        paris.to_utc("15/01/2026")


def test_repeated_autumn_hour_keeps_server_order() -> None:
    paris = ShopClock("Europe/Paris")
    # 2026-10-25 02:00-03:00 happens twice in Paris; fold=0 maps to the first occurrence.
    first = paris.to_utc("2026-10-25 02:30:00")
    assert first == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert paris.to_wall(first) == "2026-10-25 02:30:00"
    assert paris.to_utc("2026-10-25 02:59:59") < paris.to_utc("2026-10-25 03:00:00")


@given(
    a=st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31)),
    b=st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31)),
    zone=st.sampled_from(
        ["Europe/Paris", "America/Sao_Paulo", "America/Toronto", "Australia/Sydney"]
    ),
)
def test_wall_clock_order_is_preserved(a: datetime, b: datetime, zone: str) -> None:
    clock = ShopClock(zone)
    wall_a, wall_b = a.replace(microsecond=0), b.replace(microsecond=0)
    if _in_gap(wall_a, clock.zone) or _in_gap(wall_b, clock.zone):
        return  # PrestaShop never writes a time inside the spring-forward gap
    if wall_a <= wall_b:
        assert clock.to_utc(wall_a) <= clock.to_utc(wall_b)
    assert clock.to_utc(clock.to_wall(clock.to_utc(wall_a))) == clock.to_utc(wall_a)


def _in_gap(wall: datetime, zone: ZoneInfo) -> bool:
    aware = wall.replace(tzinfo=zone)
    return aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != wall


def test_dolibarr_times() -> None:
    assert from_unix(1764299427) == datetime(2025, 11, 28, 3, 10, 27, tzinfo=UTC)
    assert from_unix("1764299427") == from_unix(1764299427)
    assert to_sql_utc(
        datetime(2026, 11, 28, 4, 15, 0, 500, tzinfo=timezone(timedelta(hours=1)))
    ) == ("2026-11-28 03:15:00")
    with pytest.raises(ValueError):
        to_sql_utc(datetime(2026, 1, 1))


@given(
    attempts=st.integers(1, 40),
    base_s=st.integers(1, 600),
    factor=st.sampled_from([1.0, 1.5, 2.0, 3.0]),
    jitter=st.sampled_from([0.0, 0.1, 0.5, 0.9]),
    seed=st.integers(0, 2**32),
)
def test_backoff_stays_within_its_bounds(
    attempts: int, base_s: int, factor: float, jitter: float, seed: int
) -> None:
    backoff = Backoff(
        base=timedelta(seconds=base_s), factor=factor, cap=timedelta(hours=6), jitter=jitter
    )
    ceiling = min(base_s * factor ** (attempts - 1), 6 * 3600)
    delay = backoff.delay(attempts, random.Random(seed)).total_seconds()
    assert ceiling * (1 - jitter) - 1e-6 <= delay <= ceiling + 1e-6
    if attempts > 1:
        previous_ceiling = min(base_s * factor ** (attempts - 2), 6 * 3600)
        assert ceiling >= previous_ceiling


def test_backoff_refuses_nonsense() -> None:
    with pytest.raises(ValueError):
        Backoff(jitter=1.0)
    with pytest.raises(ValueError):
        Backoff(max_attempts=0)
