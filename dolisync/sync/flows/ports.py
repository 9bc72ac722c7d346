"""The two narrow ports the catalog flows talk through.

Contract: flows never touch HTTP; they call these methods only, so a run can be counted
(every call is one request, reads and writes apart), planned (``--dry-run``: writes are
recorded, not sent) and tested against the in-process emulators.

* :class:`ShopPort` reads one PrestaShop shop: whole resources as typed records
  (``display=full``, every page), or the same listing page by page so that a caller may keep
  only what it needs of each page, and image binaries.
* :class:`ErpPort` talks to Dolibarr with JSON: ``list_all`` walks pages, ``get`` reads one
  thing, ``create`` returns the new id, ``update``/``post``/``delete`` write. Errors are the
  classified ones of :mod:`dolisync.clients.errors`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from dolisync.clients.prestashop_records import PsRecord

__all__ = ["ShopPort", "ErpPort", "R"]

R = TypeVar("R", bound=PsRecord)


class ShopPort(Protocol):
    """PrestaShop reads for one shop (see module docstring)."""

    async def list_all(
        self, resource: str, record_type: type[R], *, filters: Mapping[str, str] | None = None, date: bool = False
    ) -> list[R]:
        """Every record of ``resource`` visible in the shop, fully displayed.

        ``filters`` maps field names to PrestaShop filter syntax (``"[FR]"``, ``">[2026-01-01 00:00:00]"``);
        ``date`` enables date filters. An item that cannot be parsed is reported and left out.
        """
        ...

    def pages(
        self, resource: str, record_type: type[R], *, filters: Mapping[str, str] | None = None, date: bool = False
    ) -> AsyncIterator[list[R]]:
        """The records of :meth:`list_all`, in the same order, handed on page by page as they are
        read (no page is kept once handed on). Unparsable items are reported at the end, as there."""
        ...

    async def image(self, id_product: int, id_image: int) -> tuple[bytes, str]:
        """The original binary of a product image and its MIME type."""
        ...


class ErpPort(Protocol):
    """Dolibarr JSON calls (see module docstring)."""

    async def list_all(self, path: str, *, params: Mapping[str, Any] | None = None) -> list[Any]:
        """Every item of a list endpoint (pages walked; ``sortfield`` given by the caller)."""
        ...

    async def get(self, path: str, *, params: Mapping[str, Any] | None = None) -> Any:
        """One GET."""
        ...

    async def create(self, path: str, body: Mapping[str, Any], *, entity: str, source_id: str) -> int:
        """POST that creates an object; the new id."""
        ...

    async def update(self, path: str, body: Mapping[str, Any], *, entity: str, source_id: str) -> Any:
        """PUT."""
        ...

    async def post(self, path: str, body: Mapping[str, Any] | None, *, entity: str, source_id: str) -> Any:
        """POST of an action (link, upload, stock movement)."""
        ...

    async def delete(self, path: str, *, params: Mapping[str, Any] | None = None, entity: str,
                     source_id: str) -> Any:
        """DELETE."""
        ...


def chunked(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    """``items`` cut in consecutive slices of at most ``size``."""
    return [items[index:index + size] for index in range(0, len(items), size)]
