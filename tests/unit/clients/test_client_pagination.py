"""Paginator strategies: params, stop on short page, loud failure on a repeated page."""

from __future__ import annotations

import pytest

from dolisync.clients.pagination import OffsetPaginator, PagePaginator, PaginationError


def test_offset_paginator_walks_offsets_and_stops_on_short_page() -> None:
    pages = OffsetPaginator("ps", "products", page_size=3)
    seen = []
    data = [[1, 2, 3], [4, 5, 6], [7]]
    while not pages.done:
        seen.append(pages.params()["limit"])
        pages.advance(data[len(seen) - 1])
    assert seen == ["0,3", "3,3", "6,3"] and pages.items == 7


def test_page_paginator_params_and_exact_multiple_needs_an_empty_page() -> None:
    pages = PagePaginator("doli", "products", page_size=2)
    assert pages.params() == {"limit": "2", "page": "0"}
    pages.advance(["1", "2"])
    assert not pages.done and pages.params() == {"limit": "2", "page": "1"}
    pages.advance([])
    assert pages.done


def test_repeated_page_fails_loudly() -> None:
    pages = PagePaginator("doli", "products", page_size=2)
    pages.advance(["1", "2"])
    with pytest.raises(PaginationError) as info:
        pages.advance(["1", "2"])
    assert "repeats" in str(info.value) and "products" in str(info.value)


def test_items_shifted_by_concurrent_inserts_are_reported_once() -> None:
    pages = OffsetPaginator("ps", "orders", page_size=3)
    pages.advance([1, 2, 3])
    assert pages.advance([3, 4, 5]) == {0}


def test_max_items_and_bad_page_size() -> None:
    pages = OffsetPaginator("ps", "orders", page_size=2, max_items=3)
    pages.advance([1, 2])
    pages.advance([3, 4])
    assert pages.done
    with pytest.raises(ValueError):
        OffsetPaginator("ps", "orders", page_size=0)
