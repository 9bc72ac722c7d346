"""Suite-wide fixtures. Subfolders keep their own conftest for their own fixtures."""

from __future__ import annotations

import pytest


@pytest.fixture
def anyio_backend() -> str:
    """Async tests run on asyncio (the runtime dolisync uses)."""
    return "asyncio"
