"""Soak of the continuous sync: sustained order activity with faults on both emulators.

Three processes' worth of roles, two processes:

* **the service** runs alone in its own process (``python bench/soak.py --service CONFIG``: the
  same :func:`~dolisync.runtime.service.build_service` + :func:`~dolisync.runtime.service.run_service`
  as ``dolisync run``, with a short sweep and a soak backoff), so its memory is measured alone:
  the RSS of that process is read from ``/proc/<pid>/status`` every ``--sample`` seconds;
* **this process** serves both emulators over loopback HTTP (uvicorn tasks on this event loop)
  and drives the PrestaShop one with the activity simulator, the way checkout does: orders are
  inserted into the shop's store, then announced by the one-line hook (signed webhook).

The simulator places orders at ``--rate`` per second for ``--duration`` seconds (default 600:
the acceptance run); both emulators inject ``--fault-rate`` of faults (half 5xx answers, half
requests that hang past the client timeout and are then applied anyway: the hardest case for
duplicates). The service runs with webhooks *and* polling. At the end the faults stop and the
service gets up to ``--settle`` seconds to finish (every order validated in Dolibarr and the
failure queue back to what it held before the soak); then:

* zero lost: every order placed is in Dolibarr, validated (orders placed in a cancelled or
  error state are not created by design; they are counted apart);
* zero duplicated: no order was created twice in Dolibarr;
* nothing left in the failure queue once the faults stopped (``parked`` and ``waiting``; the
  seeded catalogue's own bad input, parked by the first catalogue sync before the soak starts,
  is counted apart as ``preexisting_failures``);
* memory: the service's RSS after the warm-up (``--warmup`` seconds), at every sample and at
  the end; ``memory_flat`` when the end is within 10 % (+ 5 MB) of the warm-up figure. The
  service also writes its own view every 15 s (``diag.jsonl``: RSS, Python's allocated blocks
  and live objects, SQLite's own allocations, threads); the lines at warm-up and at the end
  are reported as ``service_memory``, to tell a leak (live objects grow) from the allocator
  keeping freed memory (they do not).

Usage: ``python bench/soak.py [--duration 600] [--rate 2] [--tracemalloc]`` (``--tracemalloc``
makes the service trace its allocations and prints the top growth between warm-up and end:
slow, for hunting a leak). The short CI version is ``tests/unit/runtime/test_soak_short.py``
(:func:`soak` with a few seconds).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Generator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx2  # noqa: E402
import uvicorn  # noqa: E402

from bench.latency import SimWorld, hook  # noqa: E402
from dolisync.emulators.faults import KINDS, FaultRule  # noqa: E402
from dolisync.emulators.serve import free_port  # noqa: E402
from dolisync.logs import configure_logging  # noqa: E402
from dolisync.sync.failures import Backoff  # noqa: E402

CLIENT_TIMEOUT_S = 1.0
HANG_S = CLIENT_TIMEOUT_S * 1.5
IN_DOUBT_S = HANG_S * 3
SOAK_BACKOFF = Backoff(base=timedelta(seconds=1), cap=timedelta(seconds=5), max_attempts=20)
SERVICE_SWEEP_S = 0.5


def rss_mb(pid: int | str = "self") -> float:
    """Resident memory of process ``pid`` (MB), from /proc (NaN when unreadable)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return float("nan")


@dataclass
class SoakResult:
    duration_s: float
    orders_placed: int
    orders_in_erp: int
    lost: list[str]
    duplicated: dict[str, int]
    faults_injected: int
    rss_start_mb: float
    rss_end_mb: float
    parked: int
    waiting: int
    failures: list[str]
    not_for_erp: int
    rss_samples_mb: list[tuple[float, float]] = field(default_factory=list)
    items_failed_logged: int = 0
    settle_s: float = 0.0
    requests: dict[str, int] = field(default_factory=dict)
    preexisting_failures: int = 0
    state_db_mb: float = 0.0
    service_memory: list[dict[str, Any]] = field(default_factory=list)  # the service's own view: warm-up, end

    @property
    def ok(self) -> bool:
        return not self.lost and not self.duplicated

    @property
    def memory_flat(self) -> bool:
        """End RSS within 10 % (+ 5 MB of noise) of the RSS after the warm-up."""
        return self.rss_end_mb <= self.rss_start_mb * 1.10 + 5

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "ok": self.ok, "memory_flat": self.memory_flat}


class _Server(uvicorn.Server):
    """uvicorn on the caller's event loop, without signal handling of its own."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def _counted(app: Any, name: str, requests: Counter[str]) -> Any:
    """``app`` counting its HTTP requests by ``"<name> <METHOD> <resource>"``."""

    async def counted(scope: Any, receive: Any, send: Any) -> None:
        if scope.get("type") == "http":
            parts = [p for p in str(scope.get("path", "")).split("/") if p and p not in ("api", "index.php")]
            resource = parts[0] if parts else "/"
            requests[f"{name} {scope.get('method', '?')} {resource}"] += 1
        await app(scope, receive, send)

    return counted


@contextlib.asynccontextmanager
async def serve_emulators(world: SimWorld, ports: dict[str, int],
                          requests: Counter[str] | None = None) -> AsyncIterator[None]:
    """Serve the world's emulator apps on 127.0.0.1 (``ports`` by app name) from this event loop:
    the simulator writes to the same stores on the same thread, so nothing races. ``requests``
    counts the requests by emulator, method and resource."""
    requests = Counter() if requests is None else requests
    servers = [
        _Server(uvicorn.Config(_counted(app, name, requests), host="127.0.0.1", port=ports[name], log_config=None,
                               access_log=False, lifespan="off", timeout_graceful_shutdown=2))
        for name, app in world.apps().items()
    ]
    tasks = [asyncio.create_task(server.serve()) for server in servers]
    try:
        deadline = time.monotonic() + 15
        while not all(server.started for server in servers):
            if time.monotonic() > deadline or any(task.done() for task in tasks):
                raise RuntimeError("the emulators did not start")
            await asyncio.sleep(0.02)
        yield
    finally:
        for server in servers:
            server.should_exit = True
        await asyncio.gather(*tasks, return_exceptions=True)


def start_service(config: Path, log_path: Path, *, trace_dir: Path | None = None) -> subprocess.Popen[bytes]:
    """Start the service process (``--service``) with its log in ``log_path``."""
    args = [sys.executable, str(Path(__file__).resolve()), "--service", str(config)]
    if trace_dir is not None:
        args += ["--trace-dir", str(trace_dir)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with log_path.open("ab") as log:
        return subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


async def _healthy(client: httpx2.AsyncClient, url: str, process: subprocess.Popen[bytes], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the service exited with {process.returncode} before serving")
        with contextlib.suppress(httpx2.HTTPError):
            if (await client.get(f"{url}/healthz", timeout=2)).status_code == 200:
                return
        await asyncio.sleep(0.1)
    raise RuntimeError("the service did not answer /healthz")


async def _stop(process: subprocess.Popen[bytes], timeout_s: float = 60) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while process.poll() is None and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    if process.poll() is None:
        process.kill()
        process.wait(10)


async def _snapshot(process: subprocess.Popen[bytes], trace_dir: Path, name: str) -> None:
    """Ask the service for a tracemalloc snapshot (SIGUSR1) and wait until it is written."""
    before = {p.name for p in trace_dir.glob("*.snap")}
    process.send_signal(signal.SIGUSR1)
    for _ in range(600):
        written = [p for p in trace_dir.glob("*.snap") if p.name not in before]
        if written:
            written[0].rename(trace_dir / f"{name}.snapshot")
            return
        await asyncio.sleep(0.1)


async def soak(workdir: Path, *, duration_s: float, rate_per_s: float = 2.0, fault_rate: float = 0.02,
               settle_s: float = 60.0, poll_s: float = 2.0, sample_s: float = 30.0,
               warmup_s: float | None = None, trace: bool = False) -> SoakResult:
    """Run the soak (see module docstring) and return what it found."""
    ports = {"prestashop": free_port(), "dolibarr": free_port()}
    world = SimWorld.build(workdir, orders_poll_s=poll_s, shop_url=f"http://127.0.0.1:{ports['prestashop']}",
                           dolibarr_url=f"http://127.0.0.1:{ports['dolibarr']}/api/index.php",
                           limits={"timeout_s": CLIENT_TIMEOUT_S, "retries": 4})
    # a hung request is applied HANG_S after it started: a create in doubt waits longer than that
    world.config["dolibarr"]["in_doubt_s"] = world.settings.dolibarr.in_doubt_s = IN_DOUBT_S
    await world.bind_catalog()  # in-process, before the service starts: a deployment's first sync
    warmup_s = min(60.0, duration_s / 5) if warmup_s is None else warmup_s
    trace_dir = workdir / "trace" if trace else None
    if trace_dir is not None:
        trace_dir.mkdir()
    placed: list[str] = []
    skipped = 0
    samples: list[tuple[float, float]] = []
    rss_start = float("nan")
    injected = 0
    from dolisync.store import open_store
    from dolisync.sync.failures import FailureQueue

    with open_store(world.settings.state.url) as store:  # the catalogue's own bad input (seeded data)
        before = {f.key for f in FailureQueue(store).list()}
    requests: Counter[str] = Counter()
    async with serve_emulators(world, ports, requests), httpx2.AsyncClient(timeout=10) as client:
        process = start_service(world.write_config(workdir / "dolisync.toml"), workdir / "service.log",
                                trace_dir=trace_dir)
        try:
            url = f"http://127.0.0.1:{world.settings.web.port}"
            await _healthy(client, url, process, 60)
            for plan in (world.shop_faults, world.erp_faults):
                plan.add(FaultRule(error_rate=fault_rate / 2, hang_rate=fault_rate / 2, hang_s=HANG_S))
            started = time.monotonic()
            next_sample = started + sample_s
            simulator = world.simulator(seed=7)
            while time.monotonic() - started < duration_s:
                event = await simulator.step("order")
                if event.ok:
                    if not world.not_for_erp(str(event.data["id_order"])):
                        placed.append(str(event.data["id_order"]))
                    else:
                        skipped += 1
                    await hook(client, url, int(event.data["id_order"]))
                now = time.monotonic()
                if math.isnan(rss_start) and now - started >= warmup_s:  # not warmed up yet
                    rss_start = rss_mb(process.pid)
                    samples.append((round(now - started, 1), round(rss_start, 1)))
                    if trace_dir is not None:
                        await _snapshot(process, trace_dir, "start")
                if now >= next_sample:
                    samples.append((round(now - started, 1), round(rss_mb(process.pid), 1)))
                    next_sample += sample_s
                await asyncio.sleep(1 / rate_per_s)
            injected = sum(plan.counts[kind] for plan in (world.shop_faults, world.erp_faults) for kind in KINDS)
            world.shop_faults.clear()
            world.erp_faults.clear()
            settle_started = time.monotonic()
            with open_store(world.settings.state.url) as store:
                while time.monotonic() - settle_started < settle_s:
                    validated = {k for k, row in world.erp_orders().items() if int(row.get("statut") or 0) >= 1}
                    if set(placed) <= validated and not await asyncio.to_thread(_new_failures, store, before):
                        break
                    await asyncio.sleep(0.5)
            settled = time.monotonic() - settle_started
            await asyncio.sleep(2 * SERVICE_SWEEP_S)  # let the last jobs close their inbox events
            rss_end = rss_mb(process.pid)
            samples.append((round(time.monotonic() - started, 1), round(rss_end, 1)))
            if trace_dir is not None:
                await _snapshot(process, trace_dir, "end")
        finally:
            await _stop(process)
    with open_store(world.settings.state.url) as store:
        found = [f for f in FailureQueue(store).list() if f.key not in before]
    parked = sum(1 for f in found if f.parked)
    waiting = len(found) - parked
    open_failures = [f"{f.key} [{'parked' if f.parked else 'waiting'}, {f.attempts}]: {f.error.error_class}: "
                     f"{f.error.message[:200]}" for f in found]
    logged = (workdir / "service.log").read_text(errors="replace").count("item failed")
    state_mb = sum(p.stat().st_size for p in workdir.glob("state.sqlite*")) / 1024 / 1024
    diag_path = workdir / "diag.jsonl"
    diagnostics = [json.loads(line) for line in diag_path.read_text().splitlines()] if diag_path.exists() else []
    counts = world.erp_order_counts()
    validated = {k for k, row in world.erp_orders().items() if int(row.get("statut") or 0) >= 1}
    if math.isnan(rss_start):  # too short to warm up: the end is the only figure
        rss_start = rss_end
    if trace_dir is not None:
        _print_growth(trace_dir)
    return SoakResult(
        duration_s=round(time.monotonic() - started, 1), orders_placed=len(placed), orders_in_erp=len(counts),
        lost=sorted(set(placed) - validated, key=int), duplicated={k: n for k, n in counts.items() if n > 1},
        faults_injected=injected, rss_start_mb=round(rss_start, 1), rss_end_mb=round(rss_end, 1), parked=parked,
        waiting=waiting, failures=open_failures[:20], not_for_erp=skipped, rss_samples_mb=samples,
        items_failed_logged=logged, settle_s=round(settled, 1), requests=dict(requests.most_common(12)),
        preexisting_failures=len(before), state_db_mb=round(state_mb, 1),
        service_memory=[d for d in diagnostics if d["t"] >= warmup_s][:1] + diagnostics[-1:],
    )


def _new_failures(store: Any, before: set[Any]) -> int:
    """Items in the failure queue that were not there before the soak."""
    from dolisync.sync.failures import FailureQueue

    return sum(1 for f in FailureQueue(store).list() if f.key not in before)


def _print_growth(trace_dir: Path, top: int = 25) -> None:
    import tracemalloc

    start, end = (trace_dir / "start.snapshot"), (trace_dir / "end.snapshot")
    if not (start.exists() and end.exists()):
        print("tracemalloc: snapshots missing", file=sys.stderr)
        return
    diff = tracemalloc.Snapshot.load(str(end)).compare_to(tracemalloc.Snapshot.load(str(start)), "traceback")
    print(f"tracemalloc: top {top} growth between warm-up and end", file=sys.stderr)
    for stat in diff[:top]:
        print(f"  {stat.size_diff / 1024:+.1f} KiB {stat.count_diff:+d} blocks", file=sys.stderr)
        for line in stat.traceback.format()[-8:]:
            print(f"      {line}", file=sys.stderr)


# --- the service process ---------------------------------------------------------------------

DIAG_S = 15.0


def _sqlite_memory() -> tuple[int, int]:
    """``sqlite3_memory_used()`` and its high-water mark (bytes) of this process's SQLite."""
    import ctypes
    import ctypes.util

    try:
        lib = ctypes.CDLL(ctypes.util.find_library("sqlite3") or "libsqlite3.so.0")
        lib.sqlite3_memory_used.restype = ctypes.c_int64
        lib.sqlite3_memory_highwater.restype = ctypes.c_int64
        return int(lib.sqlite3_memory_used()), int(lib.sqlite3_memory_highwater(0))
    except (OSError, AttributeError):
        return -1, -1


async def _diagnose(path: Path) -> None:
    """Every ``DIAG_S`` seconds, one JSON line: where the service's memory is (RSS, Python's
    allocated blocks and objects, SQLite's own allocations)."""
    import gc

    started = time.monotonic()
    while True:
        used, high = _sqlite_memory()
        line = {"t": round(time.monotonic() - started, 1), "rss_mb": round(rss_mb(), 1),
                "py_blocks": sys.getallocatedblocks(), "py_objects": len(gc.get_objects()),
                "sqlite_mb": round(used / 2**20, 2), "sqlite_high_mb": round(high / 2**20, 2),
                "threads": len(list(Path("/proc/self/task").iterdir()))}
        with path.open("a") as out:
            out.write(json.dumps(line) + "\n")
        await asyncio.sleep(DIAG_S)


def run_service_process(config: Path, trace_dir: Path | None) -> int:
    """``--service``: what ``dolisync run`` does, with the soak's sweep and backoff; SIGUSR1
    writes a tracemalloc snapshot into ``trace_dir`` when tracing."""
    from dolisync.config import load_settings
    from dolisync.runtime.service import build_service, run_service

    if trace_dir is not None:
        import tracemalloc

        tracemalloc.start(12)
    configure_logging("WARNING")
    settings = load_settings(config)
    service = build_service(settings, sweep_s=SERVICE_SWEEP_S, backoff=SOAK_BACKOFF)
    service.schedule_polls()

    async def main() -> None:
        diag = asyncio.create_task(_diagnose(config.parent / "diag.jsonl"))
        if trace_dir is not None:
            import tracemalloc

            count = 0

            def dump() -> None:
                nonlocal count
                count += 1
                target = trace_dir / f"{count}.tmp"
                tracemalloc.take_snapshot().dump(str(target))
                target.rename(trace_dir / f"{count}.snap")

            asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, dump)
        try:
            await run_service(service)
        finally:
            diag.cancel()

    try:
        asyncio.run(main())
    finally:
        service.close()
    return 0


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=600.0)
    parser.add_argument("--rate", type=float, default=2.0)
    parser.add_argument("--fault-rate", type=float, default=0.02)
    parser.add_argument("--settle", type=float, default=120.0)
    parser.add_argument("--sample", type=float, default=30.0, help="seconds between two RSS samples")
    parser.add_argument("--warmup", type=float, default=None, help="seconds before the start RSS (default 60)")
    parser.add_argument("--tracemalloc", action="store_true", help="trace the service's allocations (slow)")
    args = parser.parse_args(argv)
    configure_logging("WARNING")
    with tempfile.TemporaryDirectory() as tmp:
        result = await soak(Path(tmp), duration_s=args.duration, rate_per_s=args.rate, fault_rate=args.fault_rate,
                            settle_s=args.settle, sample_s=args.sample, warmup_s=args.warmup, trace=args.tracemalloc)
    print(json.dumps(result.as_dict()))
    flat = result.memory_flat or args.duration < 120  # a short run has no warm-up to compare with
    return 0 if result.ok and flat and not result.parked and not result.waiting else 1


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--service":
        trace = Path(sys.argv[4]) if len(sys.argv) > 4 and sys.argv[3] == "--trace-dir" else None
        raise SystemExit(run_service_process(Path(sys.argv[2]), trace))
    raise SystemExit(asyncio.run(main()))
