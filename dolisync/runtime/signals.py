"""SIGTERM/SIGINT -> a stop event: the executor drains in-flight work, then the process exits.

Contract: :func:`stop_on_signals` makes the running loop set ``stop`` on SIGTERM and SIGINT
and returns a function that restores the previous handling. A second signal while draining
is ignored (a SIGKILL is the way to cut a drain short; nothing is lost then either).
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable

from dolisync.logs import get_logger

__all__ = ["stop_on_signals"]

log = get_logger("dolisync.runtime")


def stop_on_signals(stop: asyncio.Event) -> Callable[[], None]:
    """Set ``stop`` on SIGTERM/SIGINT (see module docstring)."""
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []

    def _handle(sig: signal.Signals) -> None:
        if not stop.is_set():
            log.info("stop requested: draining in-flight work", signal=sig.name)
            stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, _handle, sig)
            installed.append(sig)
        except (NotImplementedError, RuntimeError):  # not the main thread, or no signals here
            pass

    def restore() -> None:
        for sig in installed:
            loop.remove_signal_handler(sig)

    return restore
