"""The functions behind ``dolisync failures`` and ``dolisync worker``."""

from __future__ import annotations

from pathlib import Path

from dolisync.cli_run import failures_json, failures_lines, worker_command
from dolisync.config import Settings
from dolisync.store import open_store
from dolisync.sync.failures import Backoff, FailureKey, FailureQueue, ItemError


def settings(tmp_path: Path, **runtime: str) -> Settings:
    return Settings(state={"url": f"sqlite:///{tmp_path}/s.sqlite"}, runtime=runtime)


def test_failures_lists_reason_hint_and_how_to_retry(tmp_path: Path) -> None:
    config = settings(tmp_path)
    assert failures_lines(config) == ["No failures."]
    with open_store(config.state.url) as store:
        FailureQueue(store, Backoff(max_attempts=1)).record(
            FailureKey("fr", "orders", "42"), ItemError("MappingError", "no bank account for ps_wirepayment",
                                                        hint="add it under [shop.payment_accounts]"))
        FailureQueue(store).record(FailureKey("fr", "product", "7"), ItemError("Transient", "503 from Dolibarr"))
    lines = failures_lines(config)
    assert any("fr/orders/42" in line and "parked" in line and "dolisync retry fr/orders/42" in line for line in lines)
    assert "    fix: add it under [shop.payment_accounts]" in lines
    assert any("fr/product/7" in line and "next attempt" in line for line in lines)
    parked = failures_json(config, parked_only=True)
    assert [item["key"] for item in parked] == ["fr/orders/42"] and parked[0]["error_class"] == "MappingError"


def test_worker_refuses_the_asyncio_executor(tmp_path: Path) -> None:
    assert worker_command(settings(tmp_path)) == 2
