"""Jobs: the three kinds of work the service runs, and the keys that serialise them.

Contract:

* A :class:`Job` is plain data (it crosses process boundaries as a dict with
  :meth:`Job.to_dict` / :meth:`Job.from_dict`), never an open handle.
* ``poll``: read changes of one ``(connection, entity)`` from its cursor. Key
  ``poll/<connection>/<entity>``: one poll per cursor at a time.
* ``inbox``: process one stored inbox event (a hint to re-read one object). Key
  ``<connection>/<entity>/<object id>``: the item key.
* ``retry``: retry one item of the failure queue. Same item key as ``inbox``, so an event and
  a retry of the same object never run at once.
* :attr:`Job.identity` tells two submissions of the *same* work apart from two pieces of
  work on the same key (two different inbox events of one order): executors drop the former
  and serialise the latter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["JOB_KINDS", "Job", "JobKind", "entity_of_webhook_resource"]

JobKind = Literal["poll", "inbox", "retry"]
JOB_KINDS: tuple[JobKind, ...] = ("poll", "inbox", "retry")

# PrestaShop webservice resource names -> the entity names the flows use in failure keys and
# runs (the order flows keep the resource name; the catalogue flows use singular names).
_RESOURCE_ENTITY = {
    "orders": "orders",
    "order_histories": "orders",
    "customers": "customers",
    "addresses": "customers",
    "products": "product",
    "categories": "category",
    "combinations": "combination",
    "stock_availables": "stock",
    "specific_prices": "specific_price",
}


def entity_of_webhook_resource(resource: str) -> str:
    """The entity name for a webhook's ``resource`` (``orders`` -> ``order``)."""
    return _RESOURCE_ENTITY.get(resource, resource)


@dataclass(frozen=True, slots=True)
class Job:
    """One unit of work (see module docstring)."""

    kind: JobKind
    connection: str
    entity: str
    object_id: str | None = None
    event_id: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in JOB_KINDS:
            raise ValueError(f"unknown job kind {self.kind!r} (one of {', '.join(JOB_KINDS)})")
        if self.kind == "inbox" and self.event_id is None:
            raise ValueError("an inbox job needs the event id")
        if self.kind in ("inbox", "retry") and not self.object_id:
            raise ValueError(f"a {self.kind} job needs the object id")

    @classmethod
    def poll(cls, connection: str, entity: str) -> Job:
        return cls("poll", connection, entity)

    @classmethod
    def inbox(cls, event_id: int, connection: str, entity: str, object_id: int | str) -> Job:
        return cls("inbox", connection, entity, str(object_id), int(event_id))

    @classmethod
    def retry(cls, connection: str, entity: str, object_id: int | str) -> Job:
        return cls("retry", connection, entity, str(object_id))

    @property
    def key(self) -> str:
        """The lock key: jobs with one key never run at the same time."""
        if self.kind == "poll":
            return f"poll/{self.connection}/{self.entity}"
        return f"{self.connection}/{self.entity}/{self.object_id}"

    @property
    def identity(self) -> str:
        """Equal for two submissions of the same work (see module docstring)."""
        if self.kind == "inbox":
            return f"inbox/{self.event_id}"
        if self.kind == "retry":
            return f"retry/{self.key}"
        return self.key

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "connection": self.connection,
            "entity": self.entity,
            "object_id": self.object_id,
            "event_id": self.event_id,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Job:
        event_id = data.get("event_id")
        return cls(
            kind=data["kind"],
            connection=str(data["connection"]),
            entity=str(data["entity"]),
            object_id=None if data.get("object_id") is None else str(data["object_id"]),
            event_id=None if event_id is None else int(event_id),
        )

    def __str__(self) -> str:
        return self.identity
