"""Pagination strategies for both remotes, failing loudly when the remote repeats a page.

Contract: a paginator hands out the parameters of the next page (:meth:`params`), is told what
a page contained (:meth:`advance` with the page's keys), and says whether to go on
(:attr:`done`). It stops on a short page (fewer items than the page size) and raises
:class:`PaginationError` when a non-empty page has exactly the same keys as the previous one (a
remote ignoring ``limit``/``page`` would otherwise loop forever). Items already seen on an
earlier page (rows shifted by concurrent inserts) are reported by :meth:`advance` so the caller
can skip them.

* :class:`OffsetPaginator` — PrestaShop ``limit=offset,count``.
* :class:`PagePaginator` — Dolibarr ``limit=N&page=P`` (0-based).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

from dolisync.clients.errors import Permanent

__all__ = ["PaginationError", "OffsetPaginator", "PagePaginator"]


class PaginationError(Permanent):
    """The remote returned the same page twice: paging does not work for this request."""


class _Paginator:
    def __init__(self, remote: str, where: str, page_size: int, max_items: int | None = None) -> None:
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self.remote = remote
        self.where = where
        self.page_size = page_size
        self.max_items = max_items
        self.pages = 0
        self.items = 0
        self.done = False
        self._previous: tuple[Hashable, ...] | None = None
        self._seen: set[Hashable] = set()

    def advance(self, keys: Sequence[Hashable]) -> set[int]:
        """Record a page; returns the positions of items already seen (to skip)."""
        signature = tuple(keys)
        if signature and signature == self._previous:
            raise PaginationError(
                self.remote,
                f"page {self.pages} repeats the previous page ({len(signature)} items): the remote ignores paging",
                where=self.where,
            )
        self._previous = signature
        repeated = {index for index, key in enumerate(keys) if key in self._seen}
        self._seen.update(keys)
        self.pages += 1
        self.items += len(keys)
        if len(keys) < self.page_size or (self.max_items is not None and self.items >= self.max_items):
            self.done = True
        return repeated


class OffsetPaginator(_Paginator):
    """PrestaShop: ``limit=<offset>,<count>`` (no total is ever given)."""

    def params(self) -> dict[str, str]:
        return {"limit": f"{self.pages * self.page_size},{self.page_size}"}


class PagePaginator(_Paginator):
    """Dolibarr: ``limit=<count>&page=<n>`` (0-based page number)."""

    def params(self) -> dict[str, str]:
        return {"limit": str(self.page_size), "page": str(self.pages)}
