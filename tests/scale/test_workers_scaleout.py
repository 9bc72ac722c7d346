"""Scale-out on real PostgreSQL: three ``worker`` processes drain a backlog of 2,002 inbox
events (two events for each of 1,001 orders) through the procrastinate executor; one worker
is SIGKILLed in the middle of a job, its job is recovered by the survivors and completes;
no order is synced twice.

What "no duplicate" rests on, and what the test checks:

* the handler is written like a real flow: inside one transaction it looks for the order's
  effect (a binding) and creates it only if absent, with a short pause between the look and
  the write; two runs of one order at the same moment would both create it. The per-key
  lock of the executor is what keeps them apart, across processes.
* delivery is at least once: a job cut short by the SIGKILL runs again on a survivor. Only
  jobs first started by the killed process may run twice.

The handler writes an ``executions`` row per run (pid, event) and a ``completed`` row per
effect (no unique constraint: duplicates would show). SIGTERM then ends the survivors: they
drain and exit 0.

Run as a script, this file is one worker process (``python test_workers_scaleout.py SCHEMA``).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # when run as a worker script
    sys.path.insert(0, str(ROOT))

from dolisync.runtime.jobs import Job  # noqa: E402
from dolisync.runtime.procrastinate_executor import ProcrastinateExecutor  # noqa: E402
from dolisync.runtime.signals import stop_on_signals  # noqa: E402
from dolisync.runtime.work import DONE, HandlerResult, HandlerTable, JobContext, JobRunner  # noqa: E402
from dolisync.store import Store, open_store  # noqa: E402
from dolisync.store.inbox import Inbox  # noqa: E402
from dolisync.store.schema import inbox as inbox_table  # noqa: E402
from tests.scale.runtime_support import pg_schema, pg_url  # noqa: E402

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

ORDERS = 1000
EVENTS_PER_ORDER = 2
VICTIM = "victim"


def _setup_tables(store: Store) -> None:
    with store.transaction() as conn:
        conn.execute(text("CREATE TABLE executions (object_id text, event_id bigint, pid int)"))
        conn.execute(text("CREATE TABLE completed (object_id text, pid int)"))


def _handlers(store: Store) -> HandlerTable:
    pid = os.getpid()

    def started_before(object_id: str, event_id: int) -> bool:
        with store.transaction() as conn:
            seen = conn.execute(text("SELECT count(*) FROM executions WHERE object_id = :o"), {"o": object_id}).scalar_one()
            conn.execute(text("INSERT INTO executions VALUES (:o, :e, :p)"), {"o": object_id, "e": event_id, "p": pid})
        return int(seen) > 0

    def sync_order(object_id: str, event_id: int, record: bool) -> None:
        with store.transaction() as conn:
            if record:
                conn.execute(text("INSERT INTO executions VALUES (:o, :e, :p)"), {"o": object_id, "e": event_id, "p": pid})
            bound = conn.execute(text("SELECT count(*) FROM completed WHERE object_id = :o"), {"o": object_id}).scalar_one()
            time.sleep(0.003)  # widen the window two unserialised runs would race in
            if not bound:
                conn.execute(text("INSERT INTO completed VALUES (:o, :p)"), {"o": object_id, "p": pid})

    async def item(job: Job, ctx: JobContext) -> HandlerResult:
        assert job.object_id is not None and job.event_id is not None
        if job.object_id == VICTIM:
            if not await asyncio.to_thread(started_before, job.object_id, job.event_id):
                await asyncio.sleep(120)  # the first run of the victim: the test SIGKILLs this process now
            await asyncio.to_thread(sync_order, job.object_id, job.event_id, False)
            return DONE
        await asyncio.to_thread(sync_order, job.object_id, job.event_id, True)
        return DONE

    async def poll(job: Job, ctx: JobContext) -> HandlerResult:
        return DONE

    return HandlerTable(poll=poll, inbox=item, retry=item)


async def _worker_main(schema: str) -> None:
    with open_store(pg_url(), schema=schema) as store:
        runner = JobRunner(JobContext(store), _handlers(store))
        executor = ProcrastinateExecutor(runner, pg_url(), schema=schema, concurrency=4, sweep_s=0.5,
                                         heartbeat_s=0.5, stalled_after_s=3, leader_retry_s=0.3,
                                         fetch_poll_s=0.5, drain_timeout_s=20)
        stop = asyncio.Event()
        restore = stop_on_signals(stop)
        try:
            await executor.run(stop)
        finally:
            restore()
            await executor.close()


def _query(store: Store, sql: str) -> list[tuple[object, ...]]:
    with store.read() as conn:
        return [tuple(row) for row in conn.execute(text(sql))]


def _store_backlog(store: Store) -> int:
    object_ids = [str(n) for n in range(ORDERS)]
    object_ids.insert(ORDERS // 4, VICTIM)
    now = datetime.now(UTC)
    rows = [
        {"source": "prestashop", "connection": "fr", "resource": "orders", "object_id": oid,
         "payload_hash": f"{oid}-{copy}", "payload": None, "dedupe_key": f"prestashop|fr|orders|{oid}|{copy}",
         "received_at": now, "processed_at": None}
        for copy in range(EVENTS_PER_ORDER) for oid in object_ids
    ]
    with store.transaction() as conn:  # the backlog in one commit, shaped as Inbox.receive stores it
        conn.execute(inbox_table.insert(), rows)
    return len(rows)


def test_three_workers_drain_the_backlog_without_duplicates_and_recover_a_killed_job(tmp_path: Path) -> None:
    with pg_schema("scale") as schema, open_store(pg_url(), schema=schema) as store:
        _setup_tables(store)
        events = _store_backlog(store)
        assert events >= 2000
        inbox = Inbox(store)
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        logs = [tmp_path / f"worker{n}.log" for n in range(3)]
        workers = [
            subprocess.Popen([sys.executable, __file__, schema], cwd=ROOT, env=env,
                             stdout=subprocess.DEVNULL, stderr=log.open("wb"))
            for log in logs
        ]
        try:
            deadline = time.monotonic() + 100
            victim_pid = None
            while victim_pid is None:
                assert time.monotonic() < deadline, "the victim job never started"
                rows = _query(store, f"SELECT pid FROM executions WHERE object_id = '{VICTIM}'")
                victim_pid = int(rows[0][0]) if rows else None  # type: ignore[arg-type]
                time.sleep(0.05)
            killed = next(w for w in workers if w.pid == victim_pid)
            os.kill(victim_pid, signal.SIGKILL)
            killed.wait(10)
            while inbox.pending(limit=1):
                assert time.monotonic() < deadline, "backlog not drained in time"
                time.sleep(0.2)
            survivors = [w for w in workers if w is not killed]
            for worker in survivors:
                worker.send_signal(signal.SIGTERM)
            for worker in survivors:
                assert worker.wait(30) == 0, "a worker did not drain and exit cleanly on SIGTERM"
        finally:
            for worker in workers:
                if worker.poll() is None:
                    worker.kill()
                    worker.wait(10)

        twice = _query(store, "SELECT object_id, count(*) FROM completed GROUP BY object_id HAVING count(*) > 1")
        assert twice == [], f"orders synced twice: {twice[:5]}"
        assert _query(store, "SELECT count(DISTINCT object_id) FROM completed")[0][0] == ORDERS + 1
        assert _query(store, "SELECT count(DISTINCT event_id) FROM executions")[0][0] == events
        rerun = _query(store, "SELECT event_id, array_agg(pid ORDER BY pid) FROM executions "
                              "GROUP BY event_id HAVING count(*) > 1")
        assert rerun, "the killed job must have run again"
        for _event_id, pids in rerun:
            assert victim_pid in pids, "only jobs of the killed worker may run twice"  # type: ignore[operator]
        victim_events = _query(store, f"SELECT count(*) FROM executions WHERE object_id = '{VICTIM}' AND pid <> {victim_pid}")
        assert victim_events[0][0] >= 1  # recovered by a survivor
        finisher = _query(store, f"SELECT pid FROM completed WHERE object_id = '{VICTIM}'")[0][0]
        assert finisher != victim_pid
        assert len({row[0] for row in _query(store, "SELECT DISTINCT pid FROM completed")}) >= 2


if __name__ == "__main__":
    asyncio.run(_worker_main(sys.argv[1]))
