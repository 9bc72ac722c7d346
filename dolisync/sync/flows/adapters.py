"""The ports of :mod:`dolisync.sync.flows.ports` over the real clients.

* :class:`PrestaShopShop` reads with :meth:`PrestaShopClient.list_raw` and parses item by
  item, so one malformed product does not hide the others: it is reported through
  ``on_bad_item`` (the engine parks it) and left out. When a whole page cannot be parsed
  (a broken body), the objects are read again by id chunks, halved until the unreadable
  object is isolated: only that one is parked.
* :class:`DolibarrErp` sends JSON through :class:`DolibarrClient`'s primitives. In a dry run
  writes are not sent: they are added to the :class:`~dolisync.sync.plan.Plan` and creations
  answer made-up negative ids, so the flows run unchanged and the plan lists every write.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from dolisync.clients.errors import MalformedResponse
from dolisync.clients.prestashop import PrestaShopClient
from dolisync.clients.prestashop_records import parse_ps_record
from dolisync.sync.flows.ports import R
from dolisync.sync.plan import Plan, PlannedWrite

__all__ = ["PrestaShopShop", "DolibarrErp", "BadItemCallback"]

BadItemCallback = Callable[[str, str, MalformedResponse], None]
"""``(resource, id, error)`` for an item PrestaShop sent that cannot be parsed."""

_RESOURCE_ENTITY = {"products": "product", "categories": "category", "combinations": "combination",
                    "stock_availables": "stock"}


def entity_of_resource(resource: str) -> str:
    """The flow entity name of a PrestaShop resource (for parking a bad item)."""
    return _RESOURCE_ENTITY.get(resource, resource)


class PrestaShopShop:
    """:class:`~dolisync.sync.flows.ports.ShopPort` over a :class:`PrestaShopClient`."""

    def __init__(self, client: PrestaShopClient, *, on_bad_item: BadItemCallback | None = None,
                 page_size: int = 500) -> None:
        self.client = client
        self.on_bad_item = on_bad_item
        self.page_size = page_size

    async def list_all(self, resource: str, record_type: type[R], *, filters: Mapping[str, str] | None = None,
                       date: bool = False) -> list[R]:
        return [record async for page in self.pages(resource, record_type, filters=filters, date=date)
                for record in page]

    async def pages(self, resource: str, record_type: type[R], *, filters: Mapping[str, str] | None = None,
                    date: bool = False) -> AsyncIterator[list[R]]:
        # Parsed as the pages stream in: only typed records are kept, never the whole raw listing;
        # each page is handed on as soon as it is parsed (the caller decides what to keep).
        bad: list[tuple[str, MalformedResponse]] = []
        seen: set[str] = set()  # ids handed on or reported, so a salvage does not repeat them
        page: list[R] = []
        try:
            async for item in self.client.list_raw(resource, filters=dict(filters or {}), date=date,
                                                   page_size=self.page_size):
                self._parse_one(resource, record_type, item, page, bad)
                seen.add(str(item.get("id", "?")))
                if len(page) >= self.page_size:
                    yield page
                    page = []
        except MalformedResponse:
            if self.on_bad_item is None:
                raise
            if page:
                yield page
                page = []
            async for items in self._salvage(resource, filters, date, skip=seen):
                for item in items:
                    self._parse_one(resource, record_type, item, page, bad)
                if page:
                    yield page
                    page = []
        if page:
            yield page
        for source_id, error in bad:  # reported once the listing is known to be readable
            assert self.on_bad_item is not None
            self.on_bad_item(resource, source_id, error)

    def _parse_one(self, resource: str, record_type: type[R], item: dict[str, Any], records: list[R],
                   bad: list[tuple[str, MalformedResponse]]) -> None:
        try:
            records.append(parse_ps_record(record_type, item))
        except MalformedResponse as error:
            if self.on_bad_item is None:
                raise
            bad.append((str(item.get("id", "?")), error))

    async def _salvage(self, resource: str, filters: Mapping[str, str] | None, date: bool,
                       *, skip: set[str]) -> AsyncIterator[list[dict[str, Any]]]:
        """A page could not be read: list the ids (small answers), then read the objects not handed
        on yet by id chunks, halving a chunk that fails until the one unreadable object is isolated."""
        ids = [i for i in await self.client.list_ids(resource, filters=dict(filters or {}), date=date)
               if str(i) not in skip]
        pending = [ids[i:i + self.page_size] for i in range(0, len(ids), self.page_size)]
        while pending:
            chunk = pending.pop(0)
            try:
                items = [item async for item in self.client.list_raw(
                    resource, filters={**dict(filters or {}), "id": list(chunk)}, date=date,
                    page_size=self.page_size)]
            except MalformedResponse as error:
                if len(chunk) == 1:
                    assert self.on_bad_item is not None
                    self.on_bad_item(resource, str(chunk[0]), error)
                else:
                    half = len(chunk) // 2
                    pending[:0] = [chunk[:half], chunk[half:]]
            else:
                yield items

    async def image(self, id_product: int, id_image: int) -> tuple[bytes, str]:
        data = await self.client.download_image(id_product, id_image)
        return data.content, data.mime


class DolibarrErp:
    """:class:`~dolisync.sync.flows.ports.ErpPort` over a Dolibarr client (see module docstring).

    ``client`` is a :class:`dolisync.clients.dolibarr.DolibarrClient` (``request_json`` and
    ``list_raw`` are used); errors are the classified ones.
    """

    def __init__(self, client: Any, *, dry_run: bool = False, plan: Plan | None = None, page_size: int = 500) -> None:
        self.client = client
        self.dry_run = dry_run
        self.plan = plan if plan is not None else Plan()
        self.page_size = page_size
        self._fake_ids = itertools.count(-1, -1)

    async def _call(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                    body: Any = None) -> Any:
        return await self.client.request_json(method, path, params=dict(params or {}) or None, body=body)

    async def list_all(self, path: str, *, params: Mapping[str, Any] | None = None) -> list[Any]:
        query = dict(params or {})
        return [item async for item in self.client.list_raw(path, params=query, page_size=self.page_size)]

    async def get(self, path: str, *, params: Mapping[str, Any] | None = None) -> Any:
        if self.dry_run and "/-" in path:  # an object only planned in this dry run has nothing to read
            return []
        return await self._call("GET", path, params=params)

    def _planned(self, method: str, path: str, body: Any, entity: str, source_id: str) -> None:
        summary = ""
        if isinstance(body, Mapping):
            summary = ", ".join(f"{k}={str(v)[:40]}" for k, v in list(body.items())[:6]
                                if k not in ("filecontent",))
        self.plan.add(PlannedWrite("dolibarr", method, path, entity, source_id, summary))

    async def create(self, path: str, body: Mapping[str, Any], *, entity: str, source_id: str) -> int:
        if self.dry_run:
            self._planned("POST", path, body, entity, source_id)
            return next(self._fake_ids)
        answer = await self._call("POST", path, body=dict(body))
        if isinstance(answer, bool) or not isinstance(answer, (int, str)) or not str(answer).lstrip("-").isdigit():
            raise MalformedResponse(remote="dolibarr", resource=path, object_id=None,
                                    detail="create did not answer an id")
        return int(answer)

    async def update(self, path: str, body: Mapping[str, Any], *, entity: str, source_id: str) -> Any:
        if self.dry_run or "/-" in path:
            self._planned("PUT", path, body, entity, source_id)
            return None
        return await self._call("PUT", path, body=dict(body))

    async def post(self, path: str, body: Mapping[str, Any] | None, *, entity: str, source_id: str) -> Any:
        if self.dry_run or "/-" in path:
            self._planned("POST", path, body, entity, source_id)
            return None
        return await self._call("POST", path, body=None if body is None else dict(body))

    async def delete(self, path: str, *, params: Mapping[str, Any] | None = None, entity: str,
                     source_id: str) -> Any:
        if self.dry_run or "/-" in path:
            self._planned("DELETE", path, dict(params or {}), entity, source_id)
            return None
        return await self._call("DELETE", path, params=params)
