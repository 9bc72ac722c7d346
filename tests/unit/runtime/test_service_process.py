"""The service as a process: webhooks over real HTTP reach the handlers; SIGTERM drains the job
in flight and exits 0; SIGKILL in the middle of a job, then a restart, loses nothing.

Run as a script, this file is the service (``python test_service_process.py CONFIG MARKERS``)
with a handler that writes ``<markers>/<object>.started`` and, after ``HANDLER_S`` seconds,
``<markers>/<object>.done``.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx2

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dolisync.config import load_settings  # noqa: E402
from dolisync.emulators.serve import free_port  # noqa: E402
from dolisync.runtime.jobs import Job  # noqa: E402
from dolisync.runtime.service import build_service, run_service  # noqa: E402
from dolisync.runtime.work import DONE, HandlerResult, HandlerTable, JobContext  # noqa: E402
from dolisync.store import open_store  # noqa: E402
from dolisync.store.inbox import Inbox  # noqa: E402
from dolisync.web.events import sign  # noqa: E402

SECRET = "hook-secret-for-process-test"
HANDLER_S = 1.5


def _handlers(markers: Path) -> HandlerTable:
    async def item(job: Job, ctx: JobContext) -> HandlerResult:
        (markers / f"{job.object_id}.started").write_text(str(os.getpid()))
        await asyncio.sleep(HANDLER_S)
        with (markers / f"{job.object_id}.done").open("a") as out:
            out.write(f"{os.getpid()}\n")
        return DONE

    async def poll(job: Job, ctx: JobContext) -> HandlerResult:
        return DONE

    return HandlerTable(poll=poll, inbox=item, retry=item)


def _main(config: str, markers: str) -> None:
    settings = load_settings(Path(config))
    service = build_service(settings, handlers=_handlers(Path(markers)), sweep_s=0.2, drain_timeout_s=20)
    try:
        asyncio.run(run_service(service))
    finally:
        service.close()


def _config(tmp_path: Path, port: int) -> Path:
    path = tmp_path / "dolisync.toml"
    path.write_text(
        f'[state]\nurl = "sqlite:///{tmp_path}/state.sqlite"\n'
        f'[[shop]]\nname = "fr"\nurl = "http://127.0.0.1:9"\nkey = "K"\nwebhook_secret = "{SECRET}"\n'
        f'[web]\nport = {port}\ntoken = "t0ken-for-tests"\n'
        '[runtime]\norders_poll_s = 3600\ncatalog_poll_s = 3600\n'
    )
    return path


def _start(config: Path, markers: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, __file__, str(config), str(markers)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _wait(predicate: object, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


def _ready(port: int) -> bool:
    try:
        return httpx2.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
    except httpx2.HTTPError:
        return False


def _hook(port: int, order: int) -> int:
    body = json.dumps({"resource": "orders", "id": order}).encode()
    response = httpx2.post(f"http://127.0.0.1:{port}/hooks/prestashop/fr", content=body, timeout=5,
                           headers={"X-Dolisync-Signature": sign(SECRET, body)})
    return response.status_code


def test_sigterm_drains_the_job_in_flight(tmp_path: Path) -> None:
    port = free_port()
    markers = tmp_path / "markers"
    markers.mkdir()
    process = _start(_config(tmp_path, port), markers)
    try:
        _wait(lambda: _ready(port))
        assert _hook(port, 1) == 202
        _wait(lambda: (markers / "1.started").exists())
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
    finally:
        if process.poll() is None:
            process.kill()
    assert (markers / "1.done").read_text().split() == [str(process.pid)]
    with open_store(f"sqlite:///{tmp_path}/state.sqlite") as store:
        assert Inbox(store).pending() == []


def test_sigkill_mid_job_then_restart_loses_nothing(tmp_path: Path) -> None:
    port = free_port()
    markers = tmp_path / "markers"
    markers.mkdir()
    config = _config(tmp_path, port)
    first = _start(config, markers)
    try:
        _wait(lambda: _ready(port))
        assert _hook(port, 1) == 202
        assert _hook(port, 2) == 202
        _wait(lambda: (markers / "1.started").exists() or (markers / "2.started").exists())
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    assert not (markers / "1.done").exists() and not (markers / "2.done").exists()
    second = _start(config, markers)
    try:
        _wait(lambda: (markers / "1.done").exists() and (markers / "2.done").exists())
        second.send_signal(signal.SIGTERM)
        assert second.wait(30) == 0
    finally:
        if second.poll() is None:
            second.kill()
    for order in ("1", "2"):
        assert (markers / f"{order}.done").read_text().split() == [str(second.pid)]
    with open_store(f"sqlite:///{tmp_path}/state.sqlite") as store:
        assert Inbox(store).pending() == []


if __name__ == "__main__":
    _main(sys.argv[1], sys.argv[2])
