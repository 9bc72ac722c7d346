"""Opening the store: migrations, SQLite settings, time-zone-safe columns, redaction."""

from __future__ import annotations

import importlib.resources
import threading
import time
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select, text

from dolisync.store import StoreOpenError, open_store
from dolisync.store.migrate import current_revision, head_revision
from dolisync.store.schema import conflicts, metadata, reconciliation
from dolisync.store.types import DecimalText
from dolisync.sync.binder import Binder

TABLES = {
    "bindings",
    "cursors",
    "inbox",
    "failures",
    "runs",
    "run_counts",
    "reconciliation",
    "conflicts",
    "alembic_version",
}


def test_open_creates_directory_migrates_and_is_idempotent(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'deep' / 'dir' / 'state.sqlite'}"
    store = open_store(url)
    with store.transaction() as conn:
        assert current_revision(conn) == head_revision()
        assert set(inspect(conn).get_table_names()) == TABLES
    Binder(store, "c").bind("product", 1, 2)
    store.close()
    store.close()  # idempotent
    reopened = open_store(url)  # a second open applies nothing and keeps the data
    assert Binder(reopened, "c").target_for("product", 1) == "2"
    reopened.close()
    with pytest.raises(RuntimeError, match="closed"), reopened.transaction():
        pass


def test_sqlite_runs_in_wal_with_foreign_keys_and_busy_timeout(tmp_path: Path) -> None:
    with open_store(f"sqlite:///{tmp_path / 's.sqlite'}") as store:
        with store.transaction() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000
        assert (tmp_path / "s.sqlite-wal").exists()


def test_migrations_match_the_live_schema(tmp_path: Path) -> None:
    with open_store(f"sqlite:///{tmp_path / 's.sqlite'}") as store, store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []


def test_migration_scripts_ship_inside_the_package() -> None:
    versions = importlib.resources.files("dolisync.store") / "migrations" / "versions"
    names = {entry.name for entry in versions.iterdir()}
    assert "0001_initial.py" in names
    assert (importlib.resources.files("dolisync.store") / "migrations" / "env.py").is_file()
    assert head_revision() == "0001_initial"


def test_times_are_aware_utc_and_naive_times_are_refused(tmp_path: Path) -> None:
    paris_summer = datetime(2026, 7, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    with open_store(f"sqlite:///{tmp_path / 's.sqlite'}") as store:
        with store.transaction() as conn:
            conn.execute(
                conflicts.insert().values(
                    connection="c", entity="e", object_id="1", field_group="g", at=paris_summer
                )
            )
            stored = conn.execute(select(conflicts.c.at)).scalar_one()
        assert stored == paris_summer and stored.tzinfo == UTC
        assert stored.hour == 10
        with pytest.raises(Exception, match="naive"), store.transaction() as conn:
            conn.execute(
                conflicts.insert().values(
                    connection="c",
                    entity="e",
                    object_id="1",
                    field_group="g",
                    at=datetime(2026, 1, 1),
                )
            )


def test_decimal_text_is_exact(tmp_path: Path) -> None:
    amount = Decimal("12345678901234.123456789")
    with open_store(f"sqlite:///{tmp_path / 's.sqlite'}") as store, store.transaction() as conn:
        conn.execute(
            reconciliation.insert().values(
                connection="c",
                order_id="1",
                shop_totals={"t": amount},
                erp_totals={},
                delta=amount,
                at=datetime.now(UTC),
            )
        )
        row = conn.execute(select(reconciliation.c.delta, reconciliation.c.shop_totals)).one()
    assert row.delta == amount
    assert row.shop_totals == {"t": "12345678901234.123456789"}
    with pytest.raises(TypeError):
        DecimalText().process_bind_param(1.5, None)  # type: ignore[arg-type]


def test_unsupported_or_unreachable_store_errors_hide_the_password() -> None:
    with pytest.raises(StoreOpenError, match="unsupported"):
        open_store("mysql://user:pw@localhost/db")
    with pytest.raises(StoreOpenError) as caught:
        open_store("postgresql+psycopg://dolisync:s3cr3t-pass@127.0.0.1:1/nowhere")
    assert "s3cr3t-pass" not in str(caught.value)
    assert "***" in str(caught.value)
    assert caught.value.__cause__ is None
    with pytest.raises(StoreOpenError, match="schema"):
        open_store("sqlite:///:memory:", schema="x")
    with pytest.raises(StoreOpenError, match="schema"):
        open_store("postgresql+psycopg://u@127.0.0.1:1/x", schema="bad;name")


def test_in_memory_store_works() -> None:
    with open_store("sqlite:///:memory:") as store:
        Binder(store, "c").bind("p", 1, 2)
        assert Binder(store, "c").target_for("p", 1) == "2"


def test_sqlite_concurrent_binders_produce_one_binding_per_key(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.sqlite'}"
    open_store(url).close()
    errors: list[BaseException] = []
    winners: dict[int, set[str]] = {key: set() for key in range(40)}
    lock = threading.Lock()

    def worker(number: int) -> None:
        try:
            with open_store(url) as store:
                binder = Binder(store, "race")
                for key in range(40):
                    binding, _won = binder.claim("product", key, 1000 * number + key)
                    with lock:
                        winners[key].add(binding.target_id)
                    binder.bind("category", key, key + 5000)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(1, 5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    with open_store(url) as store:
        binder = Binder(store, "race")
        products, categories = binder.all("product"), binder.all("category")
        with store.transaction() as conn:
            total = conn.execute(text("SELECT count(*) FROM bindings")).scalar_one()
    assert len(products) == 40 and len(categories) == 40 and total == 80
    for key, seen in winners.items():
        assert seen == {products[str(key)].target_id}, key


def test_sqlite_readers_do_not_wait_for_a_writer(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.sqlite'}"
    with open_store(url) as writer_store, open_store(url) as reader_store:
        Binder(writer_store, "c").bind("product", 1, 10)
        with writer_store.transaction() as conn:  # holds the write lock (BEGIN IMMEDIATE)
            conn.execute(text("UPDATE bindings SET target_id = '11'"))
            started = time.monotonic()
            seen = Binder(reader_store, "c").target_for("product", 1)
            waited = time.monotonic() - started
        assert seen == "10"  # the committed value; the open write is invisible
        assert waited < 2.0
        assert Binder(reader_store, "c").target_for("product", 1) == "11"
