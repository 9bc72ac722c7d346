"""Prometheus metrics of the service, in a registry of their own (no global state).

Contract: :class:`RuntimeMetrics` owns a :class:`~prometheus_client.CollectorRegistry`;
executors and the web app count into it; :meth:`RuntimeMetrics.render` is the text served at
``/metrics``. Gauges that describe the store (inbox backlog, failures, last sync) are read
from the store at scrape time by :class:`StoreCollector`. Label values are job kinds,
outcomes, shop (connection) names, entity names and webhook sources — never a URL, a key,
a token or a payload.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from dolisync.store import Store
from dolisync.store.schema import failures, inbox
from dolisync.sync.runs import RunRecorder

__all__ = ["CONTENT_TYPE", "RuntimeMetrics", "StoreCollector"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class StoreCollector(Collector):
    """Gauges read from the store when scraped."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def collect(self) -> Iterator[GaugeMetricFamily]:
        pending = GaugeMetricFamily(
            "dolisync_inbox_pending", "Webhook events stored and not processed yet", labels=["connection"]
        )
        failed = GaugeMetricFamily(
            "dolisync_failures", "Items in the failure queue", labels=["connection", "state"]
        )
        last = GaugeMetricFamily(
            "dolisync_last_sync_timestamp_seconds",
            "End of the last finished run per shop and entity (Unix time)",
            labels=["connection", "entity"],
        )
        with self.store.read() as conn:
            for connection, count in conn.execute(
                select(inbox.c.connection, func.count())
                .where(inbox.c.processed_at.is_(None))
                .group_by(inbox.c.connection)
            ):
                pending.add_metric([connection], float(count))
            for connection, parked, count in conn.execute(
                select(failures.c.connection, failures.c.parked, func.count()).group_by(
                    failures.c.connection, failures.c.parked
                )
            ):
                failed.add_metric([connection, "parked" if parked else "waiting"], float(count))
        for item in RunRecorder(self.store).last_sync():
            last.add_metric([item.connection, item.entity], item.finished_at.timestamp())
        yield pending
        yield failed
        yield last


class RuntimeMetrics:
    """Counters of jobs and webhooks (see module docstring)."""

    def __init__(self, store: Store | None = None, *, running: Callable[[], int] | None = None) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.jobs = Counter(
            "dolisync_jobs", "Jobs run, by kind, shop and outcome", ["kind", "connection", "outcome"],
            registry=self.registry,
        )
        self.job_seconds = Histogram(
            "dolisync_job_duration_seconds", "Time spent running one job", ["kind"],
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
            registry=self.registry,
        )
        self.webhooks = Counter(
            "dolisync_webhooks", "Webhook deliveries, by source and result", ["source", "result"],
            registry=self.registry,
        )
        self.running = Gauge("dolisync_jobs_running", "Jobs running in this process", registry=self.registry)
        if running is not None:
            self.running.set_function(lambda: float(running()))
        if store is not None:
            self.registry.register(StoreCollector(store))

    def job_finished(self, kind: str, connection: str, outcome: str, seconds: float) -> None:
        self.jobs.labels(kind=kind, connection=connection, outcome=outcome).inc()
        self.job_seconds.labels(kind=kind).observe(seconds)

    def webhook(self, source: str, result: str) -> None:
        self.webhooks.labels(source=source, result=result).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)

    def value(self, name: str, labels: dict[str, str] | None = None) -> Any:
        """One sample value (tests and the dashboard)."""
        return self.registry.get_sample_value(name, labels or {})
