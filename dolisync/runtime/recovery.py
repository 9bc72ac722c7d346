"""Work rebuilt from the store: what an executor must run after a start or a crash.

Contract of :func:`pending_work`: one ``inbox`` job per unprocessed inbox event (oldest
first) and one ``retry`` job per unparked failure whose next attempt is due. Polls need no
rebuilding: they are scheduled at start and read from their committed cursors.
"""

from __future__ import annotations

from datetime import datetime

from dolisync.runtime.jobs import Job, entity_of_webhook_resource
from dolisync.store import Store
from dolisync.store.inbox import Inbox, InboxEvent
from dolisync.sync.failures import FailureQueue

__all__ = ["job_of_event", "pending_work"]


def job_of_event(event: InboxEvent) -> Job:
    """The ``inbox`` job that processes ``event``."""
    return Job.inbox(event.id, event.connection, entity_of_webhook_resource(event.resource), event.object_id)


def pending_work(store: Store, *, now: datetime | None = None, limit: int = 1000) -> list[Job]:
    """Jobs for the pending inbox events and the due failures (see module docstring)."""
    jobs = [job_of_event(event) for event in Inbox(store).pending(limit=limit)]
    for failure in FailureQueue(store).due(now, limit=limit):
        jobs.append(Job.retry(failure.key.connection, failure.key.entity, failure.key.source_id))
    return jobs
