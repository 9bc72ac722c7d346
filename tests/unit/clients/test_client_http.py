"""HttpRemote plumbing: retries, backoff, Retry-After, write safety, limits, counters.

These behaviours need answers no emulator gives on demand (a 503 then a 200, a dropped
connection, a slow answer), so they use ``httpx2.MockTransport``.
"""

from __future__ import annotations

from collections.abc import Callable

import anyio
import httpx2
import pytest

from dolisync.clients.errors import RemoteRejected, Transient, classify_dolibarr
from dolisync.clients.http import HttpRemote, RemoteLimits

pytestmark = pytest.mark.anyio


class Sleeps:
    """Records the delays instead of waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


def _remote(handler: Callable, sleeps: Sleeps, **limits: object) -> HttpRemote:
    return HttpRemote(
        "dolibarr",
        "http://erp.test/api/index.php/",
        classify=classify_dolibarr,
        limits=RemoteLimits(**{"retries": 3, "rate_per_s": 1000, **limits}),  # type: ignore[arg-type]
        transport=httpx2.MockTransport(handler),
        sleep=sleeps,
        jitter=lambda: 1.0,
    )


def _script(*answers: httpx2.Response | Exception) -> tuple[Callable, list[httpx2.Request]]:
    sent: list[httpx2.Request] = []
    queue = list(answers)

    def handler(request: httpx2.Request) -> httpx2.Response:
        sent.append(request)
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    return handler, sent


async def test_get_is_retried_with_exponential_backoff_until_success() -> None:
    handler, sent = _script(httpx2.Response(502), httpx2.Response(503), httpx2.Response(200, json=[1]))
    sleeps = Sleeps()
    async with _remote(handler, sleeps, backoff_base_s=0.5) as remote:
        response = await remote.request("GET", "products")
        assert response.json() == [1]
        stats = remote.stats()
    assert len(sent) == 3 and sleeps.delays == [0.5, 1.0]
    assert (stats.reads, stats.writes, stats.retries, stats.failures) == (3, 0, 2, 0)


async def test_retry_after_is_honoured_and_capped() -> None:
    handler, _ = _script(httpx2.Response(429, headers={"Retry-After": "7"}), httpx2.Response(429, headers={"Retry-After": "9999"}), httpx2.Response(200, json=1))
    sleeps = Sleeps()
    async with _remote(handler, sleeps, retry_after_max_s=60) as remote:
        await remote.request("POST", "products", json={"ref": "A"})
    assert sleeps.delays == [7.0, 60.0]


async def test_retries_exhausted_raise_transient_and_count_a_failure() -> None:
    handler, sent = _script(httpx2.Response(503, text="down"))
    sleeps = Sleeps()
    async with _remote(handler, sleeps, retries=2) as remote:
        with pytest.raises(Transient) as info:
            await remote.request("GET", "products")
        assert remote.stats().failures == 1
    assert len(sent) == 3 and info.value.status == 503


async def test_post_is_not_resent_after_an_answer_that_may_have_been_applied() -> None:
    handler, sent = _script(httpx2.Response(500, text="<html>oops</html>"), httpx2.Response(200, json=5))
    async with _remote(handler, Sleeps()) as remote:
        with pytest.raises(Transient):
            await remote.request("POST", "orders", json={"socid": 1})
    assert len(sent) == 1


async def test_post_is_resent_when_the_request_certainly_was_not_applied() -> None:
    handler, sent = _script(httpx2.ConnectError("refused"), httpx2.Response(200, json=5))
    async with _remote(handler, Sleeps()) as remote:
        assert (await remote.request("POST", "orders", json={})).json() == 5
    assert len(sent) == 2


async def test_read_timeout_and_dropped_connection_are_transient_without_url() -> None:
    handler, sent = _script(
        httpx2.ReadTimeout("slow"), httpx2.RemoteProtocolError("dropped"), httpx2.Response(200, json=[]),
        httpx2.ReadTimeout("slow again"),
    )
    sleeps = Sleeps()
    async with _remote(handler, sleeps) as remote:
        await remote.request("GET", "products", params={"sqlfilters": "(t.ref:=:'x')"})
        with pytest.raises(Transient) as info:
            await remote.request("POST", "products", json={})  # a timeout on a write is not resent
    assert "erp.test" not in str(info.value) and "sqlfilters" not in str(info.value)
    assert len(sent) == 4


async def test_permanent_errors_are_not_retried() -> None:
    handler, sent = _script(httpx2.Response(400, json={"error": {"code": 400, "message": "Bad Request: ref field missing"}}))
    async with _remote(handler, Sleeps()) as remote:
        with pytest.raises(RemoteRejected, match="ref field missing"):
            await remote.request("GET", "products")
    assert len(sent) == 1


async def test_redirects_are_not_followed() -> None:
    handler, sent = _script(httpx2.Response(302, headers={"Location": "http://elsewhere.test/"}))
    async with _remote(handler, Sleeps()) as remote:
        with pytest.raises(RemoteRejected):
            await remote.request("GET", "products")
    assert [str(r.url.host) for r in sent] == ["erp.test"]


async def test_concurrency_limit_holds() -> None:
    in_flight = 0
    peak = 0

    async def handler(request: httpx2.Request) -> httpx2.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await anyio.sleep(0.01)
        in_flight -= 1
        return httpx2.Response(200, json=[])

    async with _remote(handler, Sleeps(), concurrency=2) as remote:
        async with anyio.create_task_group() as group:
            for _ in range(8):
                group.start_soon(remote.request, "GET", "products")
        assert remote.stats().reads == 8
    assert peak == 2


async def test_rate_limit_spaces_requests() -> None:
    handler, _ = _script(httpx2.Response(200, json=[]))
    remote = _remote(handler, Sleeps(), rate_per_s=20)
    async with remote:
        started = anyio.current_time()
        for _ in range(25):  # the bucket holds 20: the last 5 wait ~0.25 s in total
            await remote.request("GET", "status")
        elapsed = anyio.current_time() - started
    assert elapsed >= 0.15


async def test_request_before_open_is_a_clear_error() -> None:
    handler, _ = _script(httpx2.Response(200))
    remote = _remote(handler, Sleeps())
    with pytest.raises(RuntimeError, match="not open"):
        await remote.request("GET", "status")
