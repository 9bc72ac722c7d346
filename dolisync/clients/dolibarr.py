"""Thin async client of the Dolibarr REST API.

Contract:

* ``base_url`` includes ``/api/index.php``. The key travels in the ``DOLAPIKEY`` header only;
  ``Accept-Encoding: identity`` is sent because Dolibarr may label an HTML+JSON error body as
  gzip (API.md section 1).
* :meth:`DolibarrClient.list` pages with ``limit``/``page`` (sorted by ``t.rowid`` unless told
  otherwise), stops on a short page, raises
  :class:`~dolisync.clients.pagination.PaginationError` on a repeated page. The 404 that
  ``thirdparties`` and ``documents`` answer for "no match" is an empty result.
* Lookups by ``ref``/``ref_ext``/e-mail go through ``sqlfilters`` in the query string, never
  through path lookups (Dolibarr's WAF refuses ``:``, ``(``, quotes ... in paths). Values that
  ``sqlfilters`` cannot express (quotes, parentheses) are searched with ``like`` and ``_``
  wildcards, then matched exactly on the client.
* Path segments built by this client are ints or fixed words; a caller-given path containing a
  character the WAF refuses raises ``ValueError`` before anything is sent.
* ``create`` returns the new id (int); ``post_action`` returns the answer, or ``None`` for a
  304 ("nothing to do": already validated/closed).
* Errors are :mod:`dolisync.clients.errors` exceptions; ``Transient`` ones are retried by
  :class:`~dolisync.clients.http.HttpRemote` (POST only when certainly not applied).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

import httpx2
from pydantic import BaseModel, SecretStr

from dolisync.clients.dolibarr_records import (
    DoliBankAccount,
    DoliCategory,
    DoliCompany,
    DoliContact,
    DoliInvoice,
    DoliInvoicePayment,
    DoliMultiCurrency,
    DoliOrder,
    DoliProduct,
    DoliProductStock,
    DoliThirdParty,
    DoliVariant,
    DoliVatRate,
    DoliWarehouse,
    parse_doli_record,
)
from dolisync.clients.errors import MalformedResponse, NotFound, classify_dolibarr
from dolisync.clients.http import HttpRemote, RemoteClient, RemoteLimits
from dolisync.clients.pagination import PagePaginator

if TYPE_CHECKING:
    from dolisync.config import DolibarrSettings

__all__ = ["DolibarrClient", "DOLI_RECORD_TYPES", "build_sqlfilters", "sql_value", "UnsafeFilterValue", "FilterTerm"]

R = TypeVar("R", bound=BaseModel)
FilterTerm = tuple[str, str, Any]

DOLI_RECORD_TYPES: dict[str, type[BaseModel]] = {
    "products": DoliProduct,
    "categories": DoliCategory,
    "warehouses": DoliWarehouse,
    "thirdparties": DoliThirdParty,
    "contacts": DoliContact,
    "orders": DoliOrder,
    "invoices": DoliInvoice,
    "bankaccounts": DoliBankAccount,
    "multicurrencies": DoliMultiCurrency,
}
"""Resource (URL) -> record type used by :meth:`DolibarrClient.list` / ``get``."""

_EMPTY_IS_404 = frozenset({"thirdparties", "documents"})
_WAF_CHARS = re.compile(r"[:;\"'<>?(){}$%#]")
_FIELD = re.compile(r"^[a-z][a-z0-9_]*\.[a-z_][a-z0-9_]*$", re.IGNORECASE)
_OPERATORS = frozenset({"=", "!=", "<", ">", "<=", ">=", "like", "notlike", "in", "notin", "is", "isnot"})
_UNSAFE_TEXT = re.compile(r"['()\\]")


class UnsafeFilterValue(ValueError):
    """A text value that ``sqlfilters`` cannot carry (quote, parenthesis or backslash)."""


def sql_value(value: Any) -> str:
    """One ``sqlfilters`` value: numbers bare, text single-quoted, ``None`` -> ``NULL``."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | Decimal):
        return format(value, "f") if isinstance(value, Decimal) else str(value)
    if isinstance(value, float):
        raise TypeError("floats are not sent to Dolibarr: use Decimal")
    if isinstance(value, datetime):
        moment = value.astimezone(UTC) if value.tzinfo else value
        value = moment.strftime("%Y-%m-%d %H:%M:%S")
    text = str(value)
    if _UNSAFE_TEXT.search(text):
        raise UnsafeFilterValue(f"value {text!r} contains a quote, parenthesis or backslash: sqlfilters cannot express it")
    return f"'{text}'"


def build_sqlfilters(*terms: FilterTerm, join: str = "and") -> str:
    """``(t.ref:=:'A') and (t.status:=:1)`` from ``("t.ref", "=", "A"), ("t.status", "=", 1)``.

    Fields must be ``alias.column`` (``t.ref_ext``, ``ef.ps_id``); ``in``/``notin`` take a list;
    ``is``/``isnot`` take ``None``. Raises ``ValueError`` (:class:`UnsafeFilterValue` for text
    the syntax cannot carry).
    """
    if join not in ("and", "or"):
        raise ValueError("join must be 'and' or 'or'")
    if not terms:
        raise ValueError("build_sqlfilters needs at least one term")
    parts = []
    for field_name, operator, value in terms:
        if not _FIELD.match(field_name):
            raise ValueError(f"sqlfilters field {field_name!r} must look like t.column or ef.column")
        operator = operator.lower()
        if operator not in _OPERATORS:
            raise ValueError(f"sqlfilters operator {operator!r} is not one of {sorted(_OPERATORS)}")
        if operator in ("in", "notin"):
            if isinstance(value, str) or not isinstance(value, Sequence) or not value:
                raise ValueError(f"operator {operator} needs a non-empty list of values")
            rendered = ",".join(sql_value(item) for item in value)
        elif operator in ("is", "isnot"):
            if value is not None:
                raise ValueError(f"operator {operator} only compares with None (NULL)")
            rendered = "NULL"
        else:
            rendered = sql_value(value)
        parts.append(f"({field_name}:{operator}:{rendered})")
    return f" {join} ".join(parts)


def _check_path(path: str) -> str:
    if _WAF_CHARS.search(path) or ".." in path:
        raise ValueError(f"path {path!r} contains a character Dolibarr's WAF refuses; use sqlfilters instead")
    return path.strip("/")


class DolibarrClient(RemoteClient):
    """One Dolibarr instance (see module contract). Use as ``async with DolibarrClient(...) as erp``."""

    def __init__(
        self,
        base_url: str,
        key: SecretStr | str,
        *,
        name: str = "dolibarr",
        limits: RemoteLimits | None = None,
        transport: httpx2.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        page_size: int = 100,
    ) -> None:
        secret = key.get_secret_value() if isinstance(key, SecretStr) else key
        self.page_size = page_size
        self._remote = HttpRemote(
            name,
            base_url.rstrip("/") + "/",
            classify=classify_dolibarr,
            limits=limits,
            headers={"DOLAPIKEY": secret, "Accept": "application/json", "Accept-Encoding": "identity"},
            transport=transport,
            sleep=sleep,
        )

    @classmethod
    def from_settings(
        cls,
        settings: DolibarrSettings,
        *,
        transport: httpx2.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> DolibarrClient:
        """A client for the ``[dolibarr]`` section."""
        limits = RemoteLimits(
            timeout_s=settings.timeout_s, concurrency=settings.concurrency,
            rate_per_s=settings.rate_per_s, retries=settings.retries,
        )
        return cls(settings.url, settings.key, limits=limits, transport=transport, sleep=sleep)

    def _json(self, response: httpx2.Response, resource: str, object_id: object = None) -> Any:
        if not response.content.strip():
            return None
        try:
            return json.loads(response.content)
        except ValueError:
            raise MalformedResponse(
                remote=self.name, resource=resource, object_id=None if object_id is None else str(object_id),
                detail="invalid JSON", status=response.status_code,
            ) from None

    # --- reads -------------------------------------------------------------------------

    async def list_raw(
        self,
        resource: str,
        *,
        sqlfilters: str | None = None,
        sortfield: str = "t.rowid",
        sortorder: str = "ASC",
        properties: Sequence[str] | None = None,
        params: Mapping[str, Any] | None = None,
        page_size: int | None = None,
        max_items: int | None = None,
    ) -> AsyncIterator[dict[str, Any]]:
        """Every matching object of ``resource`` as dicts, page after page."""
        path = _check_path(resource)
        paginator = PagePaginator(self.name, path, page_size or self.page_size, max_items)
        base: dict[str, Any] = {"sortfield": sortfield, "sortorder": sortorder}
        if sqlfilters:
            base["sqlfilters"] = sqlfilters
        if properties:
            base["properties"] = ",".join(properties)
        base.update(params or {})
        while not paginator.done:
            try:
                response = await self._remote.request(
                    "GET", path, params={**base, **paginator.params()}, where=path
                )
            except NotFound:
                if path.split("/", 1)[0] in _EMPTY_IS_404:
                    return
                raise
            data = self._json(response, path)
            if isinstance(data, dict) and isinstance(data.get("data"), list):
                data = data["data"]
            if not isinstance(data, list):
                raise MalformedResponse(remote=self.name, resource=path, object_id=None, detail="list expected")
            items = [item for item in data if isinstance(item, dict)]
            repeated = paginator.advance([str(item.get("id", item.get("rowid", ""))) for item in items])
            for index, item in enumerate(items):
                if index not in repeated:
                    yield item

    async def list(self, resource: str, *, record_type: type[R] | None = None, **options: Any) -> AsyncIterator[Any]:
        """Like :meth:`list_raw`, parsed into the resource's record type (dicts when it has none)."""
        model = record_type or DOLI_RECORD_TYPES.get(resource)
        async for item in self.list_raw(resource, **options):
            yield item if model is None else parse_doli_record(model, item, resource=resource)

    async def get_raw(self, resource: str, object_id: int, *, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """One object as a dict (:class:`NotFound` when absent)."""
        path = f"{_check_path(resource)}/{int(object_id)}"
        response = await self._remote.request("GET", path, params=params, where=path)
        data = self._json(response, resource, object_id)
        if not isinstance(data, dict) or data.get("id") in (None, ""):
            # e.g. /products/attributes/{id} answers 200 with an all-null object when absent
            raise NotFound(self.name, 404, "", "not found (blank object)", where=path)
        return data

    async def get(
        self, resource: str, object_id: int, *, params: Mapping[str, Any] | None = None, record_type: type[R] | None = None
    ) -> Any:
        """One object parsed into its record type (dict when the resource has none)."""
        data = await self.get_raw(resource, object_id, params=params)
        model = record_type or DOLI_RECORD_TYPES.get(resource)
        return data if model is None else parse_doli_record(model, data, resource=resource)

    async def find(
        self,
        resource: str,
        column: str,
        value: Any,
        *,
        record_type: type[R] | None = None,
        extra_terms: Sequence[FilterTerm] = (),
    ) -> list[Any]:
        """Objects whose ``column`` (``t.ref_ext``, ``t.email``, ``ef.ps_id`` ...) equals ``value``.

        Never a path lookup. Text that ``sqlfilters`` cannot carry is searched with ``like``
        and ``_`` wildcards, then compared exactly here.
        """
        try:
            filters = build_sqlfilters((column, "=", value), *extra_terms)
            exact = None
        except UnsafeFilterValue:
            pattern = _UNSAFE_TEXT.sub("_", str(value))
            filters = build_sqlfilters((column, "like", pattern), *extra_terms)
            exact = str(value)
        found = []
        async for item in self.list_raw(resource, sqlfilters=filters):
            if exact is not None and _column_value(item, column) != exact:
                continue
            found.append(item)
        model = record_type or DOLI_RECORD_TYPES.get(resource)
        return found if model is None else [parse_doli_record(model, item, resource=resource) for item in found]

    async def find_by_ref_ext(self, resource: str, ref_ext: str, *, record_type: type[R] | None = None) -> list[Any]:
        """Objects carrying the external key ``ref_ext`` (not unique in Dolibarr: a list)."""
        return await self.find(resource, "t.ref_ext", ref_ext, record_type=record_type)

    async def find_by_ref(self, resource: str, ref: str, *, record_type: type[R] | None = None) -> list[Any]:
        """Objects whose business reference is ``ref``."""
        return await self.find(resource, "t.ref", ref, record_type=record_type)

    # --- writes ------------------------------------------------------------------------

    async def create(self, resource: str, body: Mapping[str, Any]) -> int:
        """POST a new object; returns its id."""
        path = _check_path(resource)
        response = await self._remote.request("POST", path, json=_jsonable(body), where=f"POST {path}")
        data = self._json(response, path)
        try:
            return int(data)
        except (TypeError, ValueError):
            raise MalformedResponse(remote=self.name, resource=path, object_id=None, detail="create did not return an id") from None

    async def update(self, resource: str, object_id: int, body: Mapping[str, Any]) -> Any:
        """PUT fields of an object; returns Dolibarr's answer (usually the whole object).

        Some fields are reset when absent from the body (a category's ``ref_ext``): send them again.
        """
        path = f"{_check_path(resource)}/{int(object_id)}"
        response = await self._remote.request("PUT", path, json=_jsonable(body), where=path)
        return self._json(response, resource, object_id)

    async def delete(self, resource: str, object_id: int) -> None:
        """DELETE an object (:class:`NotFound` when absent)."""
        path = f"{_check_path(resource)}/{int(object_id)}"
        await self._remote.request("DELETE", path, where=path)

    async def post_action(
        self, path: str, body: Mapping[str, Any] | None = None, *, idempotent: bool = True
    ) -> Any | None:
        """POST to an action path (``orders/5/validate``, ``orders/5/close`` ...).

        Returns the answer, or ``None`` on 304 (already in that state). ``idempotent=False`` for
        actions that must not be resent after an uncertain failure (payments, stock movements).
        """
        checked = _check_path(path)
        response = await self._remote.request(
            "POST", checked, json=_jsonable(body or {}), where=f"POST {checked}", idempotent=idempotent,
            accept=lambda status: status == 304,
        )
        if response.status_code == 304:
            return None
        return self._json(response, checked)

    async def request_json(
        self, method: str, path: str, *, params: Mapping[str, Any] | None = None, body: Any = None,
        idempotent: bool | None = None,
    ) -> Any:
        """Any other endpoint (JSON in and out), with the same safety rules."""
        checked = _check_path(path)
        response = await self._remote.request(
            method, checked, params=params, json=_jsonable(body) if body is not None else None,
            where=f"{method.upper()} {checked}", idempotent=idempotent,
        )
        return self._json(response, checked)

    # --- typed helpers of the sync ----------------------------------------------------

    async def product_stock(self, product_id: int) -> DoliProductStock:
        """Real stock of a product, overall and per warehouse id."""
        data = await self.request_json("GET", f"products/{int(product_id)}/stock")
        return parse_doli_record(DoliProductStock, data or {}, resource="products/stock")

    async def product_variants(self, product_id: int) -> list[DoliVariant]:
        """The variant combinations of a parent product (empty when none)."""
        try:
            data = await self.request_json("GET", f"products/{int(product_id)}/variants")
        except NotFound:
            return []
        rows = data if isinstance(data, list) else []
        return [parse_doli_record(DoliVariant, row, resource="products/variants") for row in rows]

    async def invoice_payments(self, invoice_id: int) -> list[DoliInvoicePayment]:
        """Payments recorded on an invoice."""
        data = await self.request_json("GET", f"invoices/{int(invoice_id)}/payments")
        rows = data if isinstance(data, list) else []
        return [parse_doli_record(DoliInvoicePayment, row, resource="invoices/payments") for row in rows]

    # --- documents ---------------------------------------------------------------------

    async def upload_document(
        self, modulepart: str, ref: str, filename: str, content: bytes, *, overwrite: bool = False
    ) -> str:
        """Attach a file to an object (``modulepart`` product/invoice/order ..., its ``ref``)."""
        body = {
            "filename": filename,
            "modulepart": modulepart,
            "ref": ref,
            "filecontent": base64.b64encode(content).decode(),
            "fileencoding": "base64",
            "overwriteifexists": 1 if overwrite else 0,
            "createdirifnotexists": 1,
        }
        response = await self._remote.request(
            "POST", "documents/upload", json=body, where=f"upload {modulepart} document", idempotent=overwrite
        )
        return str(self._json(response, "documents/upload"))

    async def list_documents(self, modulepart: str, *, object_id: int | None = None, ref: str | None = None) -> list[dict[str, Any]]:
        """Files attached to an object (empty list when none)."""
        params: dict[str, Any] = {"modulepart": modulepart}
        if object_id is not None:
            params["id"] = int(object_id)
        if ref is not None:
            params["ref"] = ref
        try:
            response = await self._remote.request("GET", "documents", params=params, where=f"{modulepart} documents")
        except NotFound:
            return []
        data = self._json(response, "documents")
        return [item for item in data if isinstance(item, dict)] if isinstance(data, list) else []

    async def download_document(self, modulepart: str, original_file: str) -> bytes:
        """Content of ``<ref>/<file>`` of ``modulepart`` (:class:`NotFound` when absent)."""
        response = await self._remote.request(
            "GET", "documents/download", params={"modulepart": modulepart, "original_file": original_file},
            where=f"{modulepart} document",
        )
        data = self._json(response, "documents/download")
        if not isinstance(data, dict) or "content" not in data:
            raise MalformedResponse(remote=self.name, resource="documents/download", object_id=None, detail="no content")
        try:
            return base64.b64decode(data["content"], validate=True)
        except ValueError:
            raise MalformedResponse(remote=self.name, resource="documents/download", object_id=None, detail="bad base64") from None

    # --- setup (for `dolisync check`) ----------------------------------------------------

    async def status(self) -> dict[str, Any]:
        """``GET /status``: ``dolibarr_version``, ``access_locked``, ``environment`` ..."""
        data = await self.request_json("GET", "status")
        success = data.get("success") if isinstance(data, dict) else None
        if not isinstance(success, dict):
            raise MalformedResponse(remote=self.name, resource="status", object_id=None, detail="no success member")
        return success

    async def modules(self) -> list[str]:
        """Enabled module keys (admin key needed; 403 -> :class:`Unauthorized`)."""
        data = await self.request_json("GET", "setup/modules")
        return [str(item) for item in data] if isinstance(data, list) else []

    async def company(self) -> DoliCompany:
        """The owner company (country, currency, local tax options)."""
        data = await self.request_json("GET", "setup/company")
        return parse_doli_record(DoliCompany, data, resource="setup/company")

    async def dictionary(self, name: str, **params: Any) -> list[dict[str, Any]]:
        """Rows of ``/setup/dictionary/<name>`` (``countries``, ``payment_types``, ``vat`` ...)."""
        rows = [row async for row in self.list_raw(f"setup/dictionary/{name}", params=params, sortfield="t.rowid")]
        return rows

    async def vat_rates(self, country_id: int) -> list[DoliVatRate]:
        """The VAT dictionary of a country (``/setup/dictionary/vat?fk_country=``)."""
        rows = await self.dictionary("vat", fk_country=int(country_id))
        return [parse_doli_record(DoliVatRate, row, resource="setup/dictionary/vat") for row in rows]


def _column_value(item: Mapping[str, Any], column: str) -> str:
    alias, _, name = column.partition(".")
    if alias == "ef":
        options = item.get("array_options") or {}
        value = options.get(f"options_{name}") if isinstance(options, dict) else None
    else:
        value = item.get({"nom": "name"}.get(name, name))
    return "" if value is None else str(value)


def _jsonable(value: Any) -> Any:
    """Decimals as strings (Dolibarr parses them), datetimes as Unix timestamps, recursively."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, float):
        raise TypeError("floats are not sent to Dolibarr: use Decimal")
    if isinstance(value, datetime):
        return int((value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp())
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value
