"""The shared store behaviours (``store_behaviours.py``) on a SQLite file per test."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from dolisync.store import Store, open_store


def _load_behaviours() -> object:
    path = Path(__file__).with_name("store_behaviours.py")
    name = "dolisync_tests_store_behaviours"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


_behaviours = _load_behaviours()
globals().update({k: v for k, v in vars(_behaviours).items() if k.startswith("test_")})


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(f"sqlite:///{tmp_path / 'state' / 'state.sqlite'}")
    yield opened
    opened.close()


@pytest.fixture
def conn_name() -> str:
    return "shop1"
