"""A create whose answer is lost while Dolibarr still commits it later is never duplicated.

What a real server does when the client times out: PHP goes on and commits the order a moment
later. Here the Dolibarr emulator gets the whole ``POST /orders`` body, the client sees a read
timeout at once, and the emulator applies the request a second later. The order must wait
``[dolibarr] in_doubt_s`` before anything looks for it or creates it again.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2
import pytest

from dolisync.sync.failures import FailureKey, FailureQueue
from dolisync.sync.orders import sync_orders
from tests.e2e.test_orders_world import OrderWorld

pytestmark = pytest.mark.anyio

LATE_S = 1.0


class LateCommit:
    """Wraps the Dolibarr app: the first ``POST /orders`` times out for the client and is applied
    ``LATE_S`` seconds later; every ``POST /orders`` is counted."""

    def __init__(self) -> None:
        self.posts = 0
        self.pending: list[asyncio.Task[None]] = []

    def wrap(self, app: Any) -> Any:
        async def wrapper(scope: Any, receive: Any, send: Any) -> None:
            is_create = (scope.get("type") == "http" and scope["method"] == "POST"
                         and scope["path"].endswith("/index.php/orders"))
            if not is_create:
                await app(scope, receive, send)
                return
            self.posts += 1
            if self.posts > 1:
                await app(scope, receive, send)
                return
            messages = [await receive()]
            while messages[-1].get("more_body"):
                messages.append(await receive())

            async def late() -> None:
                await asyncio.sleep(LATE_S)

                async def replay() -> Any:
                    return messages.pop(0) if messages else {"type": "http.disconnect"}

                async def nowhere(message: Any) -> None:
                    return None

                await app(scope, replay, nowhere)

            self.pending.append(asyncio.create_task(late()))
            raise httpx2.ReadTimeout("the answer never came")

        return wrapper


async def test_a_late_committed_create_is_found_not_duplicated(tmp_path: Path) -> None:
    world = OrderWorld.build(tmp_path, orders=10)
    world.settings.dolibarr.in_doubt_s = 2.5
    shop = world.settings.shop[0]
    target = next(str(o["id"]) for o in world.ps_rows("orders") if o["current_state"] in ("2", "3", "4", "5"))
    late = LateCommit()
    transports = world.transports()
    transports["dolibarr"] = httpx2.ASGITransport(app=late.wrap(transports["dolibarr"].app))

    async def sync() -> Any:
        return await sync_orders(world.settings, shop, world.store, ids=[target], transports=transports)

    def ours() -> list[dict[str, Any]]:
        return world.ours("orders", f"ps-main-order-{target}")

    started = datetime.now(UTC)
    first = await sync()
    assert [(p.source_id, p.error_class) for p in first.parked] == [(target, "CreateInDoubt")], first.to_dict()
    assert "may still be applied by Dolibarr" in first.parked[0].message
    failure = FailureQueue(world.store).get(FailureKey("main", "orders", target))
    assert failure is not None and not failure.parked
    assert failure.next_attempt_at is not None and (failure.next_attempt_at - started).total_seconds() >= 2.5

    # a webhook for the same order arrives at once: it must not create (the late commit is still to come)
    second = await sync()
    assert "waits until" in second.parked[0].message and late.posts == 1

    await asyncio.gather(*late.pending)  # Dolibarr commits the first request
    assert len(ours()) == 1
    await asyncio.sleep(max(0.0, 2.6 - (datetime.now(UTC) - started).total_seconds()))
    third = await sync()
    assert not third.parked, third.to_dict()
    assert late.posts == 1, "found by its external key, not created again"
    [order] = ours()
    assert int(order["statut"]) >= 1, "the late-committed draft was completed and validated"
    assert FailureQueue(world.store).get(FailureKey("main", "orders", target)) is None
