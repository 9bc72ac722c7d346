"""Soak of the continuous sync: sustained order activity with faults on both emulators.

The activity simulator places orders at ``--rate`` per second for ``--duration`` seconds
(default 600: the acceptance run); both emulators inject ``--fault-rate`` of faults (half
5xx answers, half requests that hang past the client timeout and are then applied anyway:
the hardest case for duplicates). The service runs with webhooks *and* polling. At the end
the faults stop and the service gets ``--settle`` seconds to finish; then:

* zero lost: every order placed is in Dolibarr, validated (orders placed in a cancelled or
  error state are not created by design; they are counted apart);
* zero duplicated: no order was created twice in Dolibarr;
* memory: RSS of this process at start and end (after a warm-up), reported.

Usage: ``python bench/soak.py [--duration 600] [--rate 2]``; the short CI version is
``tests/unit/runtime/test_soak_short.py`` (:func:`soak` with a few seconds).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx2  # noqa: E402

from bench.latency import SimWorld, hook  # noqa: E402
from dolisync.emulators.faults import FaultRule  # noqa: E402
from dolisync.logs import configure_logging  # noqa: E402
from dolisync.runtime.service import run_service  # noqa: E402
from dolisync.sync.failures import Backoff  # noqa: E402

CLIENT_TIMEOUT_S = 1.0


def rss_mb() -> float:
    """Resident memory of this process (MB), from /proc."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
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
    failures: list[str]
    not_for_erp: int

    @property
    def ok(self) -> bool:
        return not self.lost and not self.duplicated

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "ok": self.ok}


async def soak(workdir: Path, *, duration_s: float, rate_per_s: float = 2.0, fault_rate: float = 0.02,
               settle_s: float = 60.0, poll_s: float = 2.0) -> SoakResult:
    """Run the soak (see module docstring) and return what it found."""
    limits = {"timeout_s": CLIENT_TIMEOUT_S, "retries": 4}
    world = SimWorld.build(workdir, orders_poll_s=poll_s)
    world.settings.shop[0].timeout_s = limits["timeout_s"]
    world.settings.shop[0].retries = limits["retries"]
    world.settings.dolibarr.timeout_s = limits["timeout_s"]
    world.settings.dolibarr.retries = limits["retries"]
    await world.bind_catalog()
    for plan in (world.shop_faults, world.erp_faults):
        plan.add(FaultRule(error_rate=fault_rate / 2, hang_rate=fault_rate / 2, hang_s=CLIENT_TIMEOUT_S * 1.5))
    service = world.service(sweep_s=0.5, backoff=Backoff(base=timedelta(seconds=1), cap=timedelta(seconds=5),
                                                         max_attempts=20))
    service.schedule_polls()
    stop, ready = asyncio.Event(), asyncio.Event()
    runner = asyncio.create_task(run_service(service, stop, handle_signals=False, on_ready=lambda _u: ready.set()))
    placed: list[str] = []
    skipped = 0
    rss_start = float("nan")
    started = time.monotonic()
    try:
        await asyncio.wait_for(ready.wait(), 30)
        url = f"http://127.0.0.1:{world.settings.web.port}"
        simulator = world.simulator(seed=7)
        async with httpx2.AsyncClient(timeout=10) as client:
            while time.monotonic() - started < duration_s:
                event = await simulator.step("order")
                if event.ok:
                    if not world.not_for_erp(str(event.data["id_order"])):
                        placed.append(str(event.data["id_order"]))
                    else:
                        skipped += 1
                    await hook(client, url, int(event.data["id_order"]))
                if len(placed) == 20:
                    rss_start = rss_mb()  # after warm-up: imports, first syncs, caches
                await asyncio.sleep(1 / rate_per_s)
        injected = sum(plan.counts.total() for plan in (world.shop_faults, world.erp_faults))
        world.shop_faults.clear()
        world.erp_faults.clear()
        deadline = time.monotonic() + settle_s
        while time.monotonic() < deadline:
            validated = {k for k, row in world.erp_orders().items() if int(row.get("statut") or 0) >= 1}
            if set(placed) <= validated:
                break
            await asyncio.sleep(0.2)
    finally:
        stop.set()
        await runner
    from dolisync.sync.failures import FailureQueue

    parked = FailureQueue(service.store).count()[1]
    open_failures = [f"{f.key}: {f.error.error_class}: {f.error.message[:160]}" for f in FailureQueue(service.store).list()]
    service.close()
    counts = world.erp_order_counts()
    validated = {k for k, row in world.erp_orders().items() if int(row.get("statut") or 0) >= 1}
    if rss_start != rss_start:  # NaN: too short to warm up
        rss_start = rss_mb()
    return SoakResult(
        duration_s=round(time.monotonic() - started, 1), orders_placed=len(placed), orders_in_erp=len(counts),
        lost=sorted(set(placed) - validated, key=int), duplicated={k: n for k, n in counts.items() if n > 1},
        faults_injected=injected, rss_start_mb=round(rss_start, 1), rss_end_mb=round(rss_mb(), 1), parked=parked,
        failures=open_failures[:20], not_for_erp=skipped,
    )


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=600.0)
    parser.add_argument("--rate", type=float, default=2.0)
    parser.add_argument("--fault-rate", type=float, default=0.02)
    parser.add_argument("--settle", type=float, default=120.0)
    args = parser.parse_args(argv)
    configure_logging("WARNING")
    with tempfile.TemporaryDirectory() as tmp:
        result = await soak(Path(tmp), duration_s=args.duration, rate_per_s=args.rate, fault_rate=args.fault_rate,
                            settle_s=args.settle)
    print(json.dumps(result.as_dict()))
    return 0 if result.ok else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
