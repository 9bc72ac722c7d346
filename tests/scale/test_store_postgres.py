"""The state store on a real PostgreSQL: the shared behaviours, plus races between workers.

Server: ``DOLISYNC_TEST_POSTGRES_URL`` or ``postgresql+psycopg://postgres@127.0.0.1:5432/test``.
Each test gets its own schema, dropped afterwards. These tests do not skip: an unreachable
server fails them with a message that says so.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from dolisync.store import Store, open_store
from dolisync.sync.binder import Binder
from dolisync.sync.cursor import Change, Cursor
from dolisync.sync.failures import Backoff, FailureKey, FailureQueue, ItemError
from dolisync.sync.runs import EntityCounts, Run, RunRecorder

pytestmark = pytest.mark.postgres

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
T0 = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


def _load_behaviours() -> object:
    path = Path(__file__).resolve().parents[1] / "unit" / "store" / "store_behaviours.py"
    name = "dolisync_tests_store_behaviours"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


globals().update({k: v for k, v in vars(_load_behaviours()).items() if k.startswith("test_")})


@pytest.fixture(scope="session")
def pg_url() -> str:
    url = os.environ.get("DOLISYNC_TEST_POSTGRES_URL", DEFAULT_URL)
    parsed = make_url(url)
    try:
        with psycopg.connect(
            host=parsed.host or "127.0.0.1",
            port=parsed.port or 5432,
            user=parsed.username,
            password=parsed.password,
            dbname=parsed.database,
            connect_timeout=5,
        ) as probe:
            probe.execute("SELECT 1")
    except psycopg.Error as exc:
        pytest.fail(
            f"PostgreSQL for the store tests is unreachable at "
            f"{parsed.render_as_string(hide_password=True)} ({type(exc).__name__}: {exc}). "
            "Start it or set DOLISYNC_TEST_POSTGRES_URL.",
            pytrace=False,
        )
    return url


def _new_schema() -> str:
    return f"dolisync_t_{uuid.uuid4().hex[:12]}"


def _drop_schema(url: str, schema: str) -> None:
    engine = create_engine(url, connect_args={"connect_timeout": 10})
    try:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        engine.dispose()


@pytest.fixture
def schema(pg_url: str) -> Iterator[str]:
    name = _new_schema()
    yield name
    _drop_schema(pg_url, name)


@pytest.fixture
def store(pg_url: str, schema: str) -> Iterator[Store]:
    opened = open_store(pg_url, schema=schema)
    assert opened.dialect == "postgresql"
    yield opened
    opened.close()


@pytest.fixture
def conn_name() -> str:
    return f"pg{uuid.uuid4().hex[:8]}"


def _run_threads(count: int, work: Callable[[int], None]) -> None:
    errors: list[BaseException] = []
    barrier = threading.Barrier(count)

    def runner(number: int) -> None:
        try:
            barrier.wait(timeout=30)
            work(number)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=runner, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a worker thread hung"
    assert not errors, errors


def test_tables_live_in_the_test_schema(store: Store, schema: str) -> None:
    with store.transaction() as conn:
        names = set(
            conn.execute(
                text("SELECT table_name FROM information_schema.tables WHERE table_schema = :s"),
                {"s": schema},
            ).scalars()
        )
        column_type = conn.execute(
            text(
                "SELECT data_type FROM information_schema.columns "
                "WHERE table_schema = :s AND table_name = 'bindings' AND column_name = 'updated_at'"
            ),
            {"s": schema},
        ).scalar_one()
    assert {"bindings", "cursors", "failures", "runs", "alembic_version"} <= names
    assert column_type == "timestamp with time zone"


def test_threads_racing_on_the_same_keys_make_one_binding_each(
    store: Store, conn_name: str
) -> None:
    keys = range(40)
    winners: dict[int, set[str]] = {key: set() for key in keys}
    lock = threading.Lock()

    def work(number: int) -> None:
        binder = Binder(store, conn_name)
        for key in keys:
            binding, _won = binder.claim("product", key, f"{number}-{key}")
            with lock:
                winners[key].add(binding.target_id)
            binder.bind("category", key, 7000 + key, written_hash=f"h{number}")

    _run_threads(6, work)
    binder = Binder(store, conn_name)
    products, categories = binder.all("product"), binder.all("category")
    assert len(products) == len(keys) and len(categories) == len(keys)
    for key in keys:
        assert winners[key] == {products[str(key)].target_id}
        assert categories[str(key)].target_id == str(7000 + key)
    with store.transaction() as conn:
        assert conn.execute(text("SELECT count(*) FROM bindings")).scalar_one() == 2 * len(keys)


_WORKER = textwrap.dedent(
    """
    import sys, time
    from dolisync.store import open_store
    from dolisync.sync.binder import Binder
    url, schema, number, start_at = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    time.sleep(max(0.0, start_at - time.time()))
    store = open_store(url, schema=schema)  # all processes migrate a fresh schema at once
    binder = Binder(store, "procs")
    won = 0
    for key in range(50):
        _binding, mine = binder.claim("order", key, f"{number}-{key}")
        won += mine
        binder.bind("customer", key, 9000 + key)
    store.close()
    print(won)
    """
)


def test_processes_racing_on_a_fresh_schema_make_one_binding_each(pg_url: str, schema: str) -> None:
    start_at = time.time() + 2.5
    env = dict(os.environ)
    env["PYTHONPATH"] = (
        str(Path(__file__).resolve().parents[2]) + os.pathsep + env.get("PYTHONPATH", "")
    )
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, pg_url, schema, str(n), str(start_at)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for n in range(3)
    ]
    outputs = [p.communicate(timeout=120) for p in processes]
    for process, (_out, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, err[-2000:]
    assert sum(int(out.strip()) for out, _ in outputs) == 50  # each key won exactly once
    with open_store(pg_url, schema=schema) as store:
        binder = Binder(store, "procs")
        assert len(binder.all("order")) == 50
        assert {b.target_id for b in binder.all("customer").values()} == {
            str(9000 + k) for k in range(50)
        }


def test_concurrent_failures_count_every_attempt(store: Store, conn_name: str) -> None:
    key = FailureKey.of(conn_name, "order", 1)
    backoff = Backoff(max_attempts=10_000)

    def work(number: int) -> None:
        queue = FailureQueue(store, backoff)
        for _ in range(20):
            queue.record(
                key, ItemError("RemoteRejected", f"worker {number}"), {"n": number}, now=T0
            )

    _run_threads(6, work)
    failure = FailureQueue(store).get(key)
    assert failure is not None
    assert failure.attempts == 120
    assert failure.next_attempt_at is not None and failure.next_attempt_at > T0


def test_concurrent_run_flushes_add_up(store: Store, conn_name: str) -> None:
    run = RunRecorder(store).start(conn_name, "sync")

    def work(_number: int) -> None:
        handle = Run(store, run.id, conn_name, "sync")
        for _ in range(20):
            handle.count("product", "updated")
            handle.add_requests("dolibarr", 2)
            handle.flush()

    _run_threads(6, work)
    summary = run.finish()
    assert summary.counts["product"] == EntityCounts(updated=120)
    assert summary.requests == {"dolibarr": 240}


def test_concurrent_cursor_commits_merge(store: Store, conn_name: str) -> None:
    def work(number: int) -> None:
        cursor = Cursor(store, conn_name, "product", "ps_to_doli", overlap=timedelta(hours=1))
        for step in range(10):
            cursor.observe([Change.of(number * 100 + step, T0 + timedelta(seconds=step))])
            cursor.commit()

    _run_threads(5, work)
    cursor = Cursor(store, conn_name, "product", "ps_to_doli", overlap=timedelta(hours=1))
    assert cursor.value == T0 + timedelta(seconds=9)
    assert cursor.tie_ids == frozenset(str(n * 100 + 9) for n in range(5))
    replays = [
        Change.of(n * 100 + s, T0 + timedelta(seconds=s)) for n in range(5) for s in range(10)
    ]
    assert cursor.observe(replays) == []


def test_postgres_schema_matches_models_and_downgrades(store: Store, schema: str) -> None:
    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from dolisync.store.migrate import alembic_config, current_revision, upgrade
    from dolisync.store.schema import metadata

    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []
    with store.transaction() as conn:
        command.downgrade(alembic_config(conn), "base")
        assert current_revision(conn) is None
        assert conn.execute(text("SELECT to_regclass('bindings')")).scalar() is None
    with store.transaction() as conn:
        upgrade(conn, schema)
    Binder(store, "after-downgrade").bind("product", 1, 2)


def test_concurrent_claimers_never_share_a_failure(store: Store, conn_name: str) -> None:
    queue = FailureQueue(store, Backoff(base=timedelta(seconds=1), jitter=0))
    keys = {FailureKey.of(conn_name, "product", i) for i in range(120)}
    for key in keys:
        queue.record(key, ItemError("Transient", "timeout"), now=T0)
    claimed: list[FailureKey] = []
    lock = threading.Lock()

    def work(_number: int) -> None:
        mine = FailureQueue(store)
        while batch := mine.claim_due(T0 + timedelta(minutes=1), limit=7, connection=conn_name):
            with lock:
                claimed.extend(f.key for f in batch)

    _run_threads(6, work)
    assert sorted(claimed) == sorted(keys)  # every item once, none twice
