"""Thin async client of the PrestaShop 8 Webservice.

Contract:

* The key travels as the HTTP Basic **username** (never ``ws_key=`` in a URL); ``id_shop`` (when
  configured) is added to every request so reads and writes happen in that shop's context.
* Reads use ``output_format=JSON`` and return typed records
  (:mod:`dolisync.clients.prestashop_records`) — or plain dicts with the ``*_raw`` methods.
  Image endpoints and the resource list use XML / binary (JSON is broken there on 8.2.1).
* :meth:`PrestaShopClient.list` is an async iterator paging with ``limit=offset,count`` sorted by
  ``[id_ASC]`` unless told otherwise; a repeated page raises
  :class:`~dolisync.clients.pagination.PaginationError`, an item already seen is skipped.
* Writes send XML built with lxml (:mod:`dolisync.clients.prestashop_xml`) and parse the XML
  echo. Multilang fields are always written with **every** shop language: on ``update``/``patch``
  languages missing from the payload are filled from the object's current values (one extra
  GET); on ``create`` they are filled with the text of the lowest language id given.
* Every failure is a :mod:`dolisync.clients.errors` exception naming the resource and id;
  malformed JSON/XML gives :class:`~dolisync.clients.errors.MalformedResponse`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, overload

import httpx2
from pydantic import SecretStr

from dolisync.clients.errors import MalformedResponse, NotFound, classify_prestashop
from dolisync.clients.fields import parse_multilang
from dolisync.clients.http import HttpRemote, RemoteClient, RemoteLimits
from dolisync.clients.pagination import OffsetPaginator
from dolisync.clients.prestashop_records import PS_RECORD_TYPES, PsRecord, parse_ps_record
from dolisync.clients.prestashop_xml import build_write_xml, item_node_for
from dolisync.clients.xmlsafe import element_to_item, parse_xml

if TYPE_CHECKING:
    from dolisync.config import ShopSettings

__all__ = ["PrestaShopClient", "ImageData", "FilterValue", "filter_param"]

R = TypeVar("R", bound=PsRecord)
FilterValue = str | int | Sequence[str | int] | tuple[Any, Any]
_RAW_FILTER_PREFIXES = ("[", ">[", "<[", "![", "%[")


@dataclass(frozen=True, slots=True)
class ImageData:
    """A downloaded image: bytes and MIME type."""

    content: bytes
    mime: str


def filter_param(value: FilterValue) -> str:
    """A ``filter[field]`` value: ``5`` -> ``[5]``; ``[1, 2]`` -> ``[1|2]``; ``("a", "b")`` -> ``[a,b]``
    (inclusive interval); strings already in filter syntax (``>[5]``, ``%[x]%``, ``[a|b]``) pass as is.
    """
    if isinstance(value, str):
        if value.startswith(_RAW_FILTER_PREFIXES):
            return value
        _check_filter_text(value)
        return f"[{value}]"
    if isinstance(value, tuple):
        low, high = value
        return f"[{low},{high}]"
    if isinstance(value, int):
        return f"[{value}]"
    items = [str(item) for item in value]
    for item in items:
        _check_filter_text(item)
    return "[" + "|".join(items) + "]"


def _check_filter_text(text: str) -> None:
    if any(char in text for char in "[]|"):
        raise ValueError(f"filter value {text!r} contains [, ] or |, which the Webservice cannot express")


class PrestaShopClient(RemoteClient):
    """One PrestaShop shop (see module contract). Use as ``async with PrestaShopClient(...) as ps``."""

    def __init__(
        self,
        base_url: str,
        key: SecretStr | str,
        *,
        id_shop: int | None = None,
        name: str = "prestashop",
        limits: RemoteLimits | None = None,
        transport: httpx2.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        page_size: int = 100,
    ) -> None:
        secret = key.get_secret_value() if isinstance(key, SecretStr) else key
        self.id_shop = id_shop
        self.page_size = page_size
        self._remote = HttpRemote(
            name,
            base_url.rstrip("/") + "/api/",
            classify=classify_prestashop,
            limits=limits,
            auth=httpx2.BasicAuth(secret, ""),
            headers={"Accept": "application/json, text/xml, */*"},
            transport=transport,
            sleep=sleep,
        )
        self._language_ids: list[int] | None = None

    @classmethod
    def from_settings(
        cls,
        shop: ShopSettings,
        *,
        transport: httpx2.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> PrestaShopClient:
        """A client for one ``[[shop]]`` (named ``prestashop:<name>`` in stats, logs and errors)."""
        limits = RemoteLimits(
            timeout_s=shop.timeout_s, concurrency=shop.concurrency, rate_per_s=shop.rate_per_s, retries=shop.retries
        )
        return cls(
            shop.url, shop.key, id_shop=shop.id_shop, name=f"prestashop:{shop.name}", limits=limits,
            transport=transport, sleep=sleep,
        )

    # --- helpers -----------------------------------------------------------------------

    def _params(self, extra: Mapping[str, Any] | None = None, *, json_output: bool = True) -> dict[str, Any]:
        params: dict[str, Any] = {}
        if json_output:
            params["output_format"] = "JSON"
        if self.id_shop is not None:
            params["id_shop"] = str(self.id_shop)
        if extra:
            params.update({k: v for k, v in extra.items() if v is not None})
        return params

    def _json(self, response: httpx2.Response, resource: str, object_id: object) -> Any:
        if not response.content.strip():
            return None
        try:
            return json.loads(response.content)
        except ValueError:
            raise MalformedResponse(
                remote=self.name,
                resource=resource,
                object_id=None if object_id is None else str(object_id),
                detail="invalid JSON",
                status=response.status_code,
            ) from None

    @staticmethod
    def _type_for(resource: str, record_type: type[R] | None) -> type[PsRecord] | None:
        return record_type if record_type is not None else PS_RECORD_TYPES.get(resource)

    # --- reads -------------------------------------------------------------------------

    async def list_raw(
        self,
        resource: str,
        *,
        display: str = "full",
        filters: Mapping[str, FilterValue] | None = None,
        sort: str | None = "[id_ASC]",
        date: bool = False,
        language: int | None = None,
        page_size: int | None = None,
        max_items: int | None = None,
        extra: Mapping[str, str] | None = None,
    ) -> AsyncIterator[dict[str, Any]]:
        """Every item of ``resource`` matching ``filters``, as JSON dicts, page after page."""
        paginator = OffsetPaginator(self.name, resource, page_size or self.page_size, max_items)
        base: dict[str, Any] = {"display": display, "sort": sort, "language": language}
        if date:
            base["date"] = "1"
        for field_name, value in (filters or {}).items():
            base[f"filter[{field_name}]"] = filter_param(value)
        base.update(extra or {})
        while not paginator.done:
            response = await self._remote.request(
                "GET", resource, params=self._params({**base, **paginator.params()}), where=resource
            )
            data = self._json(response, resource, None)
            items = self._list_items(data, resource)
            keys = [item.get("id") for item in items]
            repeated = paginator.advance(keys)
            for index, item in enumerate(items):
                if index not in repeated:
                    yield item

    def _list_items(self, data: Any, resource: str) -> list[dict[str, Any]]:
        if data is None or data == []:
            return []
        if isinstance(data, dict) and isinstance(data.get(resource), list):
            return [item for item in data[resource] if isinstance(item, dict)]
        raise MalformedResponse(remote=self.name, resource=resource, object_id=None, detail="unexpected list shape")

    @overload
    def list(self, resource: str, *, record_type: type[R], **options: Any) -> AsyncIterator[R]: ...
    @overload
    def list(self, resource: str, *, record_type: None = None, **options: Any) -> AsyncIterator[Any]: ...

    async def list(self, resource: str, *, record_type: type[R] | None = None, **options: Any) -> AsyncIterator[Any]:
        """Like :meth:`list_raw`, parsed into the resource's record type (dicts when it has none).

        Options: ``display`` (default ``full``), ``filters``, ``sort``, ``date``, ``language``,
        ``page_size``, ``max_items``, ``extra``.
        """
        model = self._type_for(resource, record_type)
        language = options.get("language")
        async for item in self.list_raw(resource, **options):
            if model is None:
                yield item
            else:
                yield parse_ps_record(model, item, language_id=language or 0)

    async def list_ids(
        self, resource: str, *, filters: Mapping[str, FilterValue] | None = None, date: bool = False
    ) -> list[int]:
        """Ids of the matching objects (``display=[id]``), sorted ascending."""
        return [int(item["id"]) async for item in self.list_raw(resource, display="[id]", filters=filters, date=date)]

    async def get_raw(self, resource: str, object_id: int, *, language: int | None = None) -> dict[str, Any]:
        """One object as its JSON dict; :class:`NotFound` when it does not exist."""
        where = f"{resource}/{object_id}"
        response = await self._remote.request(
            "GET", f"{resource}/{int(object_id)}", params=self._params({"language": language}), where=where
        )
        data = self._json(response, resource, object_id)
        node = item_node_for(resource)
        if isinstance(data, dict) and isinstance(data.get(node), dict):
            return data[node]
        if isinstance(data, dict) and isinstance(data.get(resource), list) and data[resource]:
            return data[resource][0]
        raise MalformedResponse(remote=self.name, resource=resource, object_id=str(object_id), detail="no object in answer")

    async def get(
        self, resource: str, object_id: int, *, language: int | None = None, record_type: type[R] | None = None
    ) -> Any:
        """One object parsed into its record type (dict when the resource has none)."""
        item = await self.get_raw(resource, object_id, language=language)
        model = self._type_for(resource, record_type)
        return item if model is None else parse_ps_record(model, item, language_id=language or 0)

    async def language_ids(self) -> list[int]:
        """Ids of every shop language (cached for the life of the client)."""
        if self._language_ids is None:
            self._language_ids = await self.list_ids("languages")
        return list(self._language_ids)

    async def resources_allowed(self) -> dict[str, frozenset[str]]:
        """``GET /api/``: each resource the key may use, with its allowed methods (``get``, ``put`` ...)."""
        response = await self._remote.request("GET", "", params=self._params(json_output=False), where="api root")
        root = parse_xml(response.content, remote=self.name, resource="api root", object_id=None)
        api = root.find("api")
        if api is None:
            raise MalformedResponse(remote=self.name, resource="api root", object_id=None, detail="no <api> element")
        methods = ("get", "put", "post", "patch", "delete", "head")
        return {
            child.tag: frozenset(m for m in methods if child.get(m) == "true")
            for child in api
            if isinstance(child.tag, str)
        }

    # --- writes ------------------------------------------------------------------------

    async def create(self, resource: str, payload: Mapping[str, Any], *, record_type: type[R] | None = None) -> Any:
        """POST one object; returns the echoed object (record or dict). ``payload`` has no ``id``."""
        if "id" in payload:
            raise ValueError(f"create {resource}: payload must not contain 'id' (PrestaShop refuses it)")
        languages = await self.language_ids() if _has_multilang(payload) else None
        body = build_write_xml(resource, _fill_for_create(payload, languages), languages=languages)
        response = await self._remote.request(
            "POST", resource, params=self._params(json_output=False), content=body, where=f"POST {resource}",
            headers={"Content-Type": "text/xml"},
        )
        return self._echo(response, resource, None, record_type)

    async def update(self, resource: str, payload: Mapping[str, Any], *, record_type: type[R] | None = None) -> Any:
        """PUT a whole object (fields absent from ``payload`` are emptied by PrestaShop)."""
        return await self._write("PUT", resource, payload, record_type)

    async def patch(self, resource: str, payload: Mapping[str, Any], *, record_type: type[R] | None = None) -> Any:
        """PATCH some fields of an object (``payload`` must contain ``id``)."""
        return await self._write("PATCH", resource, payload, record_type)

    async def _write(self, method: str, resource: str, payload: Mapping[str, Any], record_type: type[R] | None) -> Any:
        if "id" not in payload:
            raise ValueError(f"{method} {resource}: payload must contain 'id'")
        object_id = int(payload["id"])
        languages = None
        if _has_multilang(payload):
            languages = await self.language_ids()
            payload = await self._complete_multilang(resource, object_id, payload, languages)
        body = build_write_xml(resource, payload, languages=languages)
        response = await self._remote.request(
            method, f"{resource}/{object_id}", params=self._params(json_output=False), content=body,
            where=f"{resource}/{object_id}", headers={"Content-Type": "text/xml"},
        )
        return self._echo(response, resource, object_id, record_type)

    async def _complete_multilang(
        self, resource: str, object_id: int, payload: Mapping[str, Any], languages: Sequence[int]
    ) -> dict[str, Any]:
        wanted = set(languages)
        incomplete = [
            name for name, value in payload.items()
            if isinstance(value, Mapping) and name != "associations" and wanted - {int(k) for k in value}
        ]
        completed = dict(payload)
        if not incomplete:
            return completed
        current = await self.get_raw(resource, object_id)
        for name in incomplete:
            existing = parse_multilang(current.get(name), language_id=min(wanted))
            merged = {lang: existing.get(lang, "") for lang in wanted}
            merged.update({int(k): v for k, v in payload[name].items()})
            completed[name] = merged
        return completed

    def _echo(self, response: httpx2.Response, resource: str, object_id: int | None, record_type: type[R] | None) -> Any:
        root = parse_xml(
            response.content, remote=self.name, resource=resource, object_id=None if object_id is None else str(object_id)
        )
        node = root.find(item_node_for(resource))
        if node is None:
            raise MalformedResponse(
                remote=self.name, resource=resource, object_id=None if object_id is None else str(object_id),
                detail="write echo without the object",
            )
        item = element_to_item(node)
        model = self._type_for(resource, record_type)
        return item if model is None else parse_ps_record(model, item)

    async def delete(self, resource: str, object_id: int) -> None:
        """DELETE one object (:class:`NotFound` when it does not exist)."""
        await self._remote.request(
            "DELETE", f"{resource}/{int(object_id)}", params=self._params(json_output=False),
            where=f"{resource}/{object_id}",
        )

    # --- images ------------------------------------------------------------------------

    async def image_ids(self, product_id: int) -> list[int]:
        """Ids of a product's images (empty when it has none)."""
        where = f"images/products/{product_id}"
        try:
            response = await self._remote.request(
                "GET", where, params=self._params(json_output=False), where=where
            )
        except NotFound:
            return []
        if not response.content.strip():
            return []
        root = parse_xml(response.content, remote=self.name, resource="images/products", object_id=str(product_id))
        return [int(node.get("id")) for node in root.iter("declination") if node.get("id", "").isdigit()]

    async def download_image(self, product_id: int, image_id: int, image_type: str | None = None) -> ImageData:
        """The original file (or the ``image_type`` thumbnail) of a product image."""
        path = f"images/products/{int(product_id)}/{int(image_id)}" + (f"/{image_type}" if image_type else "")
        response = await self._remote.request("GET", path, params=self._params(json_output=False), where=path)
        mime = response.headers.get("content-type", "application/octet-stream").split(";", 1)[0].strip()
        if not mime.startswith("image/"):
            raise MalformedResponse(remote=self.name, resource="image", object_id=f"{product_id}/{image_id}", detail=f"not an image ({mime})")
        return ImageData(response.content, mime)

    async def upload_image(self, product_id: int, content: bytes, filename: str, mime: str) -> int:
        """Add an image to a product; returns the new image id (the first image becomes cover)."""
        path = f"images/products/{int(product_id)}"
        return await self._send_image(path, self._params(json_output=False), content, filename, mime, product_id)

    async def replace_image(self, product_id: int, image_id: int, content: bytes, filename: str, mime: str) -> int:
        """Replace the file of an existing image (``ps_method=PUT``); returns its id."""
        path = f"images/products/{int(product_id)}/{int(image_id)}"
        params = self._params({"ps_method": "PUT"}, json_output=False)
        return await self._send_image(path, params, content, filename, mime, product_id, idempotent=True)

    async def _send_image(
        self, path: str, params: dict[str, Any], content: bytes, filename: str, mime: str, product_id: int,
        *, idempotent: bool | None = None,
    ) -> int:
        response = await self._remote.request(
            "POST", path, params=params, files={"image": (filename, content, mime)}, where=path, idempotent=idempotent
        )
        answered = response.headers.get("content-type", "")
        if answered.startswith("image/") and path.rsplit("/", 1)[-1].isdigit() and path.count("/") >= 3:
            return int(path.rsplit("/", 1)[-1])  # a replace may answer with the stored image itself
        root = parse_xml(response.content, remote=self.name, resource="images/products", object_id=str(product_id))
        image = root.find("image")
        text = image.findtext("id") if image is not None else None
        if not text or not text.strip().isdigit():
            raise MalformedResponse(remote=self.name, resource="images/products", object_id=str(product_id), detail="no image id in answer")
        return int(text.strip())

    async def delete_image(self, product_id: int, image_id: int) -> None:
        """Delete a product image."""
        path = f"images/products/{int(product_id)}/{int(image_id)}"
        await self._remote.request("DELETE", path, params=self._params(json_output=False), where=path)


def _has_multilang(payload: Mapping[str, Any]) -> bool:
    return any(isinstance(value, Mapping) for name, value in payload.items() if name != "associations")


def _fill_for_create(payload: Mapping[str, Any], languages: Sequence[int] | None) -> dict[str, Any]:
    """New object: languages missing from a multilang field get the lowest given language's text."""
    filled = dict(payload)
    if not languages:
        return filled
    for name, value in payload.items():
        if name == "associations" or not isinstance(value, Mapping) or not value:
            continue
        texts = {int(k): v for k, v in value.items()}
        source = texts[min(texts)]
        filled[name] = {lang: texts.get(lang, source) for lang in languages} | texts
    return filled
