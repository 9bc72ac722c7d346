"""Property tests of the cursor: arbitrary interleavings of remote updates, page reads,
commits and crashes never skip a change, and never deliver a committed change twice.

The remote is modelled as a table ``id -> (timestamp, version)`` read with keyset pages in
``(timestamp, id)`` order, as the flows read PrestaShop and Dolibarr. Updates may be stamped
late (up to the overlap before the newest stamp, like a slow transaction that commits after
later ones), and several updates may share a timestamp (one-second precision).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from dolisync.store import Store, open_store
from dolisync.sync.cursor import Change, Cursor, Position

T0 = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
OVERLAP_S = 5
IDS = st.integers(min_value=1, max_value=7)

update = st.tuples(
    st.just("update"), IDS, st.sampled_from([0, 0, 1, 1, 2, 3, 7]), st.integers(0, OVERLAP_S)
)
page = st.tuples(st.just("page"), st.integers(1, 4), st.just(0), st.just(0))
commit = st.tuples(st.just("commit"), st.just(0), st.just(0), st.just(0))
crash = st.tuples(st.just("crash"), st.just(0), st.just(0), st.just(0))
operations = st.lists(st.one_of(update, update, page, page, commit, crash), max_size=60)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    path: Path = tmp_path_factory.mktemp("cursor") / "state.sqlite"
    opened = open_store(f"sqlite:///{path}")
    yield opened
    opened.close()


@dataclass
class Remote:
    """The remote table: id -> (timestamp seconds since T0, version)."""

    rows: dict[int, tuple[int, int]] = field(default_factory=dict)
    clock: int = 0

    def update(self, object_id: int, advance: int, lag: int) -> None:
        self.clock += advance
        previous = self.rows.get(object_id, (0, 0))
        stamp = max(previous[0], self.clock - lag, 0)
        self.rows[object_id] = (stamp, previous[1] + 1)

    def newest(self) -> datetime | None:
        if not self.rows:
            return None
        return T0 + timedelta(seconds=max(stamp for stamp, _ in self.rows.values()))

    def page(self, position: Position, limit: int) -> list[Change]:
        changes = [
            Change(str(i), T0 + timedelta(seconds=stamp), str(version))
            for i, (stamp, version) in self.rows.items()
        ]
        admitted = sorted((c for c in changes if position.admits(c)), key=lambda c: c.order)
        return admitted[:limit]


class Reader:
    """A flow's reading loop, with the bookkeeping the properties are checked against."""

    def __init__(self, store: Store, entity: str) -> None:
        self.store = store
        self.entity = entity
        self.delivered: set[tuple[str, datetime, str | None]] = set()
        self.committed: set[tuple[str, datetime, str | None]] = set()
        self.staged: set[tuple[str, datetime, str | None]] = set()
        self.cursor = self._open()
        self.in_run = False

    def _open(self) -> Cursor:
        return Cursor(
            self.store, "props", self.entity, "ps_to_doli", overlap=timedelta(seconds=OVERLAP_S)
        )

    def read_page(self, remote: Remote, limit: int) -> bool:
        """Read one page; return True when the run is finished."""
        if not self.in_run:
            self.cursor.begin(horizon=remote.newest())
            self.staged.clear()
            self.in_run = True
        fetched = remote.page(self.cursor.position, limit)
        for change in self.cursor.observe(fetched):
            key = (change.id, change.at, change.digest)
            assert key not in self.committed, f"committed change delivered again: {key}"
            self.delivered.add(key)
            self.staged.add(key)
        finished = len(fetched) < limit or self.cursor.reached_horizon
        if finished:
            self.in_run = False
        return finished

    def commit(self) -> None:
        self.cursor.commit()
        self.committed |= self.staged
        self.staged.clear()

    def crash(self) -> None:
        self.cursor = self._open()
        self.staged.clear()
        self.in_run = False


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=operations)
# A run that reads past a change made visible late behind its position: only the horizon
# keeps the committed value from running more than the overlap past that change.
@example(
    ops=[
        ("update", 1, 2, 0),
        ("update", 5, 0, 0),
        ("page", 1, 0, 0),
        ("update", 2, 0, 2),
        ("update", 3, 7, 0),
        ("update", 4, 7, 0),
        ("page", 4, 0, 0),
        ("commit", 0, 0, 0),
    ]
)
# A change stamped exactly ``overlap`` before the committed value: the start is inclusive.
@example(
    ops=[
        ("update", 1, 7, 0),
        ("update", 1, 3, 0),
        ("page", 4, 0, 0),
        ("commit", 0, 0, 0),
        ("update", 2, 0, 5),
    ]
)
def test_no_change_is_skipped_and_committed_ones_are_not_replayed(
    store: Store, ops: list[tuple[str, int, int, int]]
) -> None:
    remote = Remote()
    reader = Reader(store, f"e{uuid.uuid4().hex[:12]}")
    for kind, a, b, c in ops:
        if kind == "update":
            remote.update(a, b, c)
        elif kind == "page":
            reader.read_page(remote, a)
        elif kind == "commit":
            reader.commit()
        else:
            reader.crash()
    # Quiesce: the remote stops changing; one complete run after the last commit.
    reader.commit()
    reader.in_run = False
    while not reader.read_page(remote, 3):
        reader.commit()
    reader.commit()
    for object_id, (stamp, version) in remote.rows.items():
        current = (str(object_id), T0 + timedelta(seconds=stamp), str(version))
        assert current in reader.delivered, f"change skipped: {current}"
    # A further run, even after a restart, delivers nothing: all of it is a replay.
    reader.crash()
    before = set(reader.delivered)
    reader.read_page(remote, 1000)
    assert reader.cursor.pending() == 0
    assert reader.delivered == before


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=operations)
def test_a_crash_before_commit_redelivers_exactly_the_uncommitted(
    store: Store, ops: list[tuple[str, int, int, int]]
) -> None:
    remote = Remote()
    for kind, a, b, c in ops:
        if kind == "update":
            remote.update(a, b, c)
    reader = Reader(store, f"c{uuid.uuid4().hex[:12]}")
    while not reader.read_page(remote, 2):
        pass  # observe everything, commit nothing
    first = set(reader.delivered)
    reader.crash()
    reader.delivered.clear()
    while not reader.read_page(remote, 2):
        pass
    assert reader.delivered == first
