"""Keyset page queries for PrestaShop and Dolibarr, checked against a small evaluator of the
exact filter forms they emit (the Webservice's ``=[v]``/``>[v]`` and Dolibarr's sqlfilters),
including a shop whose changes straddle the repeated autumn hour."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dolisync.store import Store, open_store
from dolisync.sync.cursor import (
    Change,
    Cursor,
    Position,
    ShopClock,
    dolibarr_newest_query,
    dolibarr_page_queries,
    from_unix,
    prestashop_newest_query,
    prestashop_page_queries,
)

PARIS = ShopClock("Europe/Paris")
AT = datetime(2026, 11, 28, 9, 0, 5, tzinfo=UTC)  # 10:00:05 in Paris


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    path: Path = tmp_path_factory.mktemp("queries") / "state.sqlite"
    opened = open_store(f"sqlite:///{path}")
    yield opened
    opened.close()


def test_prestashop_queries_for_each_position() -> None:
    assert prestashop_page_queries(Position(None), PARIS, 50) == [
        {"date": "1", "limit": "50", "sort": "[date_upd_ASC,id_ASC]"}
    ]
    assert prestashop_page_queries(Position(AT), PARIS, 50) == [
        {
            "date": "1",
            "limit": "50",
            "sort": "[date_upd_ASC,id_ASC]",
            "filter[date_upd]": ">[2026-11-28 10:00:04]",
        }
    ]
    ties, after = prestashop_page_queries(Position(AT, "17"), PARIS, 50)
    assert ties == {
        "date": "1",
        "limit": "50",
        "filter[date_upd]": "[2026-11-28 10:00:05]",
        "filter[id]": ">[17]",
        "sort": "[id_ASC]",
    }
    assert after["filter[date_upd]"] == ">[2026-11-28 10:00:05]"
    assert after["sort"] == "[date_upd_ASC,id_ASC]"
    assert prestashop_newest_query()["sort"] == "[date_upd_DESC,id_DESC]"
    with pytest.raises(ValueError, match="numeric"):
        prestashop_page_queries(Position(AT, "1) or (1"), PARIS, 50)


def test_prestashop_inclusive_start_inside_the_repeated_hour_uses_wall_arithmetic() -> None:
    # 01:00Z on 2026-10-25 is 02:00:00 on the second pass of Paris's repeated hour. The
    # inclusive start must be "after 01:59:59", not "after 02:59:59" (one UTC second
    # earlier is 00:59:59Z = 02:59:59 on the first pass), which would skip the hour.
    start = datetime(2026, 10, 25, 1, 0, 0, tzinfo=UTC)
    (query,) = prestashop_page_queries(Position(start), PARIS, 10)
    assert query["filter[date_upd]"] == ">[2026-10-25 01:59:59]"


def test_dolibarr_queries_for_each_position() -> None:
    assert dolibarr_page_queries(Position(None), 100) == [
        {"limit": "100", "page": "0", "sortorder": "ASC", "sortfield": "t.tms,t.rowid"}
    ]
    (start,) = dolibarr_page_queries(Position(AT), 100)
    assert start["sqlfilters"] == "(t.tms:>=:'2026-11-28 09:00:05')"
    ties, after = dolibarr_page_queries(Position(AT, "8"), 100)
    assert ties["sqlfilters"] == "(t.tms:=:'2026-11-28 09:00:05') and (t.rowid:>:8)"
    assert ties["sortfield"] == "t.rowid"
    assert after["sqlfilters"] == "(t.tms:>:'2026-11-28 09:00:05')"
    assert dolibarr_newest_query()["sortorder"] == "DESC"
    with pytest.raises(ValueError):
        dolibarr_page_queries(Position(AT, "8'"), 100)


# -- a tiny PrestaShop list endpoint over wall-clock strings -----------------------------
def _ps_list(rows: dict[int, str], params: dict[str, str]) -> list[tuple[int, str]]:
    """Evaluate exactly the parameter forms prestashop_page_queries emits."""
    selected = list(rows.items())
    date_filter = params.get("filter[date_upd]")
    if date_filter is not None:
        if match := re.fullmatch(r">\[(.+)\]", date_filter):
            selected = [(i, w) for i, w in selected if w > match[1]]
        else:
            match = re.fullmatch(r"\[(.+)\]", date_filter)
            assert match, date_filter
            selected = [(i, w) for i, w in selected if w == match[1]]
    if (id_filter := params.get("filter[id]")) is not None:
        match = re.fullmatch(r">\[(\d+)\]", id_filter)
        assert match, id_filter
        selected = [(i, w) for i, w in selected if i > int(match[1])]
    if params["sort"] == "[id_ASC]":
        selected.sort()
    else:
        assert params["sort"] == "[date_upd_ASC,id_ASC]"
        selected.sort(key=lambda row: (row[1], row[0]))
    return selected[: int(params["limit"])]


def _drain_prestashop(cursor: Cursor, rows: dict[int, str], limit: int) -> set[tuple[int, str]]:
    newest = max(rows.values(), default=None)
    cursor.begin(horizon=None if newest is None else PARIS.to_utc(newest))
    delivered: set[tuple[int, str]] = set()
    for _page in range(10 * len(rows) + 5):
        page: list[tuple[int, str]] = []
        for params in prestashop_page_queries(cursor.position, PARIS, limit):
            page = _ps_list(rows, params)
            if page:
                break
        walls = dict(page)
        fresh = cursor.observe(Change.of(i, PARIS.to_utc(w)) for i, w in page)
        delivered |= {(int(c.id), walls[int(c.id)]) for c in fresh}
        cursor.commit()
        if not page or cursor.reached_horizon:
            return delivered
    raise AssertionError("the reading loop did not terminate")


# Wall times around 2026-10-25 in Paris, where 02:00-02:59 happens twice.
_FOLD_WALLS = st.sampled_from(
    [
        "2026-10-25 01:59:59",
        "2026-10-25 02:00:00",
        "2026-10-25 02:30:00",
        "2026-10-25 02:59:59",
        "2026-10-25 03:00:00",
        "2026-10-25 03:00:01",
        "2026-10-25 04:00:00",
    ]
)


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.dictionaries(st.integers(1, 40), _FOLD_WALLS, max_size=25),
    limit=st.integers(1, 4),
    later=st.dictionaries(st.integers(1, 40), _FOLD_WALLS, max_size=6),
)
def test_prestashop_keyset_reads_everything_once_across_the_fold(
    store: Store, rows: dict[int, str], limit: int, later: dict[int, str]
) -> None:
    # The sample spans 3h01 of real time (the wall clock shows 2h01): the overlap covers it,
    # so every late change below is within the cursor's stated lateness bound.
    cursor = Cursor(store, "q", f"p{uuid.uuid4().hex[:10]}", "ps", overlap=timedelta(hours=4))
    assert _drain_prestashop(cursor, rows, limit) == set(rows.items())
    # Later changes (the second 02:30 of the night looks like the first) are read too,
    # and what was already delivered is not delivered again.
    changed = {**rows, **{i: max(w, rows.get(i, w)) for i, w in later.items()}}
    again = _drain_prestashop(cursor, changed, limit)
    assert again == set(changed.items()) - set(rows.items())


# -- a tiny Dolibarr list endpoint over UTC tms ------------------------------------------
def _doli_list(rows: dict[int, int], params: dict[str, str]) -> list[tuple[int, int]]:
    def stamp(unix: int) -> str:
        return from_unix(unix).strftime("%Y-%m-%d %H:%M:%S")

    selected = list(rows.items())
    filters = params.get("sqlfilters", "")
    for op, value in re.findall(r"\(t\.tms:(>=|=|>):'([^']+)'\)", filters):
        compare = {">=": str.__ge__, "=": str.__eq__, ">": str.__gt__}[op]
        selected = [(i, u) for i, u in selected if compare(stamp(u), value)]
    if match := re.search(r"\(t\.rowid:>:(\d+)\)", filters):
        selected = [(i, u) for i, u in selected if i > int(match[1])]
    if params["sortfield"] == "t.rowid":
        selected.sort()
    else:
        assert params["sortfield"] == "t.tms,t.rowid"
        selected.sort(key=lambda row: (row[1], row[0]))
    return selected[: int(params["limit"])]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.dictionaries(
        st.integers(1, 30), st.integers(1_764_300_000, 1_764_300_006), max_size=20
    ),
    limit=st.integers(1, 3),
)
def test_dolibarr_keyset_reads_everything_once(
    store: Store, rows: dict[int, int], limit: int
) -> None:
    cursor = Cursor(store, "q", f"d{uuid.uuid4().hex[:10]}", "doli", overlap=timedelta(seconds=3))
    cursor.begin(horizon=from_unix(max(rows.values())) if rows else None)
    delivered: list[tuple[int, int]] = []
    for _page in range(10 * len(rows) + 5):
        page: list[tuple[int, int]] = []
        for params in dolibarr_page_queries(cursor.position, limit):
            page = _doli_list(rows, params)
            if page:
                break
        unix = dict(page)
        fresh = cursor.observe(Change.of(i, from_unix(u)) for i, u in page)
        delivered += [(int(c.id), unix[int(c.id)]) for c in fresh]
        cursor.commit()
        if not page or cursor.reached_horizon:
            break
    else:
        raise AssertionError("the reading loop did not terminate")
    assert sorted(delivered) == sorted(rows.items())
