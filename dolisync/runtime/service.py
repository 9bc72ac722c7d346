"""Wiring of the long-running service: settings -> store, job runner, executor, schedules, web.

Contract:

* :func:`build_service` opens the store and builds the executor named by
  ``[runtime] executor`` (``procrastinate`` needs a PostgreSQL ``[state] url``), the job
  runner over ``handlers`` (default: :func:`~dolisync.runtime.flow_handlers.flow_handlers`)
  and the metrics; :meth:`Service.schedule_polls` schedules, per shop, the order poll every
  ``orders_poll_s``, the catalogue poll every ``catalog_poll_s`` and, when the shop has
  reverse flows, the Dolibarr poll every ``erp_poll_s``. The executor purges processed inbox
  events older than ``[runtime] inbox_retention_days`` every ``purge_every_s`` (an hour by
  default; see :mod:`dolisync.runtime.housekeeping`).
* :func:`run_service` runs the executor and (``web=True``) the web app on ``[web] host:port``
  until ``stop`` is set (SIGTERM/SIGINT set it when ``handle_signals``), then stops the web
  server and drains the executor. uvicorn's access log is off: the Dolibarr webhook URL may
  carry its secret in the query string.
* :meth:`Service.close` closes the store (idempotent).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import uvicorn

from dolisync.logs import get_logger
from dolisync.runtime.asyncio_executor import AsyncioExecutor
from dolisync.runtime.housekeeping import DEFAULT_PURGE_EVERY_S
from dolisync.runtime.jobs import Job
from dolisync.runtime.metrics import RuntimeMetrics
from dolisync.runtime.signals import stop_on_signals
from dolisync.runtime.work import HandlerTable, JobContext, JobRunner, ProgressBoard
from dolisync.store import Store, open_store
from dolisync.sync.failures import Backoff, FailureQueue

__all__ = ["Service", "build_service", "run_service"]

log = get_logger("dolisync.service")


@dataclass
class Service:
    """An assembled service (see module docstring)."""

    settings: Any
    store: Store
    runner: JobRunner
    executor: Any
    metrics: RuntimeMetrics
    progress: ProgressBoard
    owns_store: bool = True
    scheduled: list[tuple[Job, float]] = field(default_factory=list)

    def schedule_polls(self) -> None:
        runtime = self.settings.runtime
        for shop in self.settings.shop:
            self._schedule(Job.poll(shop.name, "orders"), runtime.orders_poll_s)
            self._schedule(Job.poll(shop.name, "catalog"), runtime.catalog_poll_s)
            if getattr(shop, "erp_to_shop", None):
                self._schedule(Job.poll(shop.name, "reverse"), runtime.erp_poll_s)

    def _schedule(self, job: Job, every_s: float) -> None:
        self.executor.schedule(job, every_s)
        self.scheduled.append((job, every_s))

    def web_app(self) -> Any:
        from dolisync.web.app import create_app

        return create_app(self.settings, self.store, submit=self.executor.submit, metrics=self.metrics,
                          progress=self.progress)

    def close(self) -> None:
        if self.owns_store:
            self.store.close()


def build_service(
    settings: Any,
    *,
    handlers: HandlerTable | None = None,
    store: Store | None = None,
    transports: dict[str, Any] | None = None,
    concurrency: int | None = None,
    sweep_s: float = 5.0,
    drain_timeout_s: float = 30.0,
    backoff: Backoff | None = None,
    purge_every_s: float = DEFAULT_PURGE_EVERY_S,
) -> Service:
    """Assemble the service from ``settings`` (see module docstring)."""
    owns = store is None
    if store is None:
        store = open_store(settings.state.url)
    progress = ProgressBoard()
    context = JobContext(store, settings, progress)
    if transports:
        context.extras["transports"] = transports
    if handlers is None:
        from dolisync.runtime.flow_handlers import flow_handlers

        handlers = flow_handlers()
    metrics = RuntimeMetrics(store, running=lambda: len(progress.running()))
    runner = JobRunner(context, handlers, metrics=metrics, failures=FailureQueue(store, backoff or Backoff()))
    workers = concurrency or max(2, min(16, 2 * len(settings.shop) + 2))
    housekeeping: dict[str, Any] = {
        "inbox_retention": timedelta(days=float(settings.runtime.inbox_retention_days)),
        "purge_every_s": purge_every_s,
    }
    executor: Any
    if settings.runtime.executor == "procrastinate":
        from dolisync.runtime.procrastinate_executor import ProcrastinateExecutor

        executor = ProcrastinateExecutor(runner, settings.state.url, schema=store.schema, concurrency=workers,
                                         sweep_s=sweep_s, drain_timeout_s=drain_timeout_s, **housekeeping)
    else:
        executor = AsyncioExecutor(runner, concurrency=workers, sweep_s=sweep_s, drain_timeout_s=drain_timeout_s,
                                   **housekeeping)
    context.extras["submit"] = executor.submit
    return Service(settings, store, runner, executor, metrics, progress, owns_store=owns)


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling (the service drains on SIGTERM itself)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


async def run_service(
    service: Service,
    stop: asyncio.Event | None = None,
    *,
    web: bool = True,
    handle_signals: bool = True,
    on_ready: Callable[[str | None], None] | None = None,
) -> None:
    """Run until ``stop`` (see module docstring). ``on_ready(url)`` is called once serving."""
    stop = stop or asyncio.Event()
    restore = stop_on_signals(stop) if handle_signals else (lambda: None)
    server: _Server | None = None
    tasks: list[asyncio.Task[Any]] = []
    try:
        if hasattr(service.executor, "open"):
            await service.executor.open()
        if web:
            host, port = service.settings.web.host, service.settings.web.port
            config = uvicorn.Config(service.web_app(), host=host, port=port, access_log=False, log_config=None,
                                    lifespan="off", timeout_graceful_shutdown=5)
            server = _Server(config)
            tasks.append(asyncio.create_task(server.serve(), name="dolisync-web"))
        tasks.append(asyncio.create_task(service.executor.run(stop), name="dolisync-executor"))
        if server is not None:
            while not server.started and not tasks[0].done():
                await asyncio.sleep(0.02)
        url = f"http://{service.settings.web.host}:{service.settings.web.port}" if server is not None else None
        log.info("dolisync running", executor=service.settings.runtime.executor, web=url,
                 polls=len(service.scheduled))
        if on_ready is not None:
            on_ready(url)
        await stop.wait()
    finally:
        stop.set()
        if server is not None:
            server.should_exit = True
        results = await asyncio.gather(*tasks, return_exceptions=True)
        if hasattr(service.executor, "close"):
            await service.executor.close()
        restore()
        for result in results:
            if isinstance(result, BaseException) and not isinstance(result, asyncio.CancelledError):
                log.warning("service task ended with an error", error_class=type(result).__name__, error=str(result))
        log.info("dolisync stopped: in-flight work drained")
