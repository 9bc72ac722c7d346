"""What ``dolisync run``, ``dolisync worker`` and ``dolisync failures`` do (the typer commands
in :mod:`dolisync.cli` call these functions with loaded settings).

Contract:

* :func:`run_command`: the long-running service — executor (``[runtime] executor``) plus the
  web app (webhooks, dashboard, /metrics, /healthz) on ``[web] host:port``, polls scheduled
  per shop. SIGTERM/SIGINT drain in-flight work, then it returns 0. A store or executor that
  cannot start returns 2 with the reason.
* :func:`worker_command`: one more worker on the PostgreSQL queue (``[runtime] executor =
  "procrastinate"`` is required): no web server; polls are scheduled by whichever process
  leads. Returns 0 after a drained stop.
* :func:`failures_lines` / :func:`failures_json`: the failure queue, most recent first, each
  with its key, state, attempts, next attempt, error class, message and hint.
"""

from __future__ import annotations

import asyncio
from typing import Any

from dolisync.logs import get_logger
from dolisync.sync.failures import Failure, FailureQueue

__all__ = ["failures_json", "failures_lines", "run_command", "worker_command"]

log = get_logger("dolisync.cli")


def _start(settings: Any, *, web: bool) -> int:
    from dolisync.runtime.service import build_service, run_service
    from dolisync.store import StoreOpenError

    try:
        service = build_service(settings)
    except (StoreOpenError, ValueError) as exc:
        log.error("cannot start", error=str(exc))
        return 2
    try:
        service.schedule_polls()
        asyncio.run(run_service(service, web=web))
    finally:
        service.close()
    return 0


def run_command(settings: Any) -> int:
    """``dolisync run`` (see module docstring)."""
    return _start(settings, web=True)


def worker_command(settings: Any) -> int:
    """``dolisync worker`` (see module docstring)."""
    if settings.runtime.executor != "procrastinate":
        log.error("dolisync worker needs [runtime] executor = \"procrastinate\" and a PostgreSQL [state] url")
        return 2
    return _start(settings, web=False)


def _failures(settings: Any, shop: str | None, parked_only: bool) -> list[Failure]:
    from dolisync.store import open_store

    with open_store(settings.state.url) as store:
        return FailureQueue(store).list(parked_only=parked_only, connection=shop)


def failures_json(settings: Any, *, shop: str | None = None, parked_only: bool = False) -> list[dict[str, Any]]:
    """The failure queue as JSON-ready dicts."""
    return [
        {
            "key": str(f.key),
            "state": "parked" if f.parked else "waiting",
            "attempts": f.attempts,
            "next_attempt_at": None if f.next_attempt_at is None else f.next_attempt_at.isoformat(),
            "error_class": f.error.error_class,
            "message": f.error.message,
            "hint": f.error.hint,
            "field": f.error.field,
            "last_seen": f.last_seen.isoformat(),
        }
        for f in _failures(settings, shop, parked_only)
    ]


def failures_lines(settings: Any, *, shop: str | None = None, parked_only: bool = False) -> list[str]:
    """The failure queue as readable lines (empty queue: one line saying so)."""
    items = failures_json(settings, shop=shop, parked_only=parked_only)
    if not items:
        return ["No failures."]
    lines = []
    for item in items:
        when = "parked: retry with `dolisync retry " + item["key"] + "`" if item["state"] == "parked" else (
            f"next attempt {item['next_attempt_at']}")
        lines.append(f"{item['key']}  [{item['state']}, {item['attempts']} attempt(s); {when}]")
        lines.append(f"    {item['error_class']}: {item['message']}")
        if item["hint"]:
            lines.append(f"    fix: {item['hint']}")
    return lines
