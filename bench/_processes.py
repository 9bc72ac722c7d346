"""Emulators as separate processes for the benchmarks (shared by ``bench/orders.py`` and ``bench/reverse.py``).

Contract: :class:`EmulatorProcesses` starts ``python -m dolisync.cli emulate prestashop`` and
``emulate dolibarr`` as child processes on 127.0.0.1 (free ports), optionally adding
``latency_ms`` to every request (``--fault latency=…ms``). Each keeps its data in a state file
under ``work`` (``prestashop.json``, ``dolibarr.json``: loaded when the file exists, else built
from the generator options given, written back on :meth:`~EmulatorProcesses.stop`), unless
``keep_state=False``. Their output goes to ``prestashop.log`` / ``dolibarr.log`` in ``work``. The
API keys (throwaway ones the benchmark draws per run) are given on the children's command line
and never printed. So the benchmark's own process runs the sync alone and its CPU is not the
emulators'; :meth:`~EmulatorProcesses.cpu` reads theirs (Linux ``/proc``).

The free functions are the pieces, for a benchmark that starts its processes differently.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Self

import httpx2

from dolisync.emulators.serve import free_port

__all__ = ["ROOT", "EmulatorProcesses", "cpu_seconds", "free_port", "start_cli", "wait_ready"]

ROOT = Path(__file__).resolve().parents[1]


def start_cli(args: Sequence[str], log: Path) -> subprocess.Popen[bytes]:
    """``python -m dolisync.cli ARGS`` from the repository root, output appended to ``log``."""
    with log.open("ab") as handle:
        return subprocess.Popen([sys.executable, "-m", "dolisync.cli", *args], cwd=ROOT, stdout=handle,
                                stderr=subprocess.STDOUT)


def wait_ready(url: str, process: subprocess.Popen[bytes], *, auth: httpx2.Auth | None = None,
               headers: dict[str, str] | None = None, timeout_s: float = 300.0) -> None:
    """Poll ``url`` until it answers below 500; ``RuntimeError`` when ``process`` exits or time runs out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"emulator exited with {process.returncode} before serving {url}")
        try:
            if httpx2.get(url, auth=auth, headers=headers, timeout=5.0).status_code < 500:
                return
        except httpx2.TransportError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {timeout_s}s")


def cpu_seconds(pid: int) -> float:
    """utime + stime of a live process (Linux ``/proc``), 0 when unknown."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


class EmulatorProcesses:
    """Both emulators as child processes on loopback (see module docstring).

    ``shop_args`` / ``erp_args``: extra ``emulate prestashop|dolibarr`` options (generator
    options such as ``--products``/``--seed``; ignored by the emulator when its state file exists).
    ``keep_state=False``: no state files (the data is generated and dropped on exit).
    """

    def __init__(self, work: Path, *, latency_ms: float, ps_key: str, doli_key: str,
                 shop_args: Sequence[str] = (), erp_args: Sequence[str] = (), keep_state: bool = True) -> None:
        self.work = work
        self.ps_port, self.doli_port = free_port(), free_port()
        self.ps_key, self.doli_key = ps_key, doli_key
        fault = ["--fault", f"latency={latency_ms}ms"] if latency_ms else []

        def state(name: str) -> list[str]:
            return ["--state", str(work / name)] if keep_state else []

        self.shop = start_cli(["emulate", "prestashop", "--port", str(self.ps_port), "--key", ps_key,
                               *state("prestashop.json"), *shop_args, *fault], work / "prestashop.log")
        self.erp = start_cli(["emulate", "dolibarr", "--port", str(self.doli_port), "--key", doli_key,
                              *state("dolibarr.json"), *erp_args, *fault], work / "dolibarr.log")
        self.ps_url = f"http://127.0.0.1:{self.ps_port}"
        self.doli_url = f"http://127.0.0.1:{self.doli_port}/api/index.php"

    def wait_ready(self) -> None:
        """Return once both answer (``RuntimeError`` if one exits first)."""
        wait_ready(f"{self.doli_url}/status", self.erp, headers={"DOLAPIKEY": self.doli_key})
        wait_ready(f"{self.ps_url}/api/", self.shop, auth=httpx2.BasicAuth(self.ps_key, ""))

    def cpu(self) -> dict[str, float]:
        """CPU seconds used so far by each emulator process."""
        return {"prestashop": cpu_seconds(self.shop.pid), "dolibarr": cpu_seconds(self.erp.pid)}

    def stop(self) -> None:
        """Interrupt both (they save their state files), then wait (kill after 120 s)."""
        for process in (self.shop, self.erp):
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        for process in (self.shop, self.erp):
            try:
                process.wait(timeout=120)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def __enter__(self) -> Self:
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
