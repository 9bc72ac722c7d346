"""Fault injection middleware: in-process (httpx2 ASGITransport) and over a real uvicorn server."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator

import httpx2
import pytest
import uvicorn
from lxml import etree
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from dolisync.emulators.faults import (
    DroppedConnection,
    FaultPlan,
    FaultRule,
    apply_faults,
    parse_fault_spec,
)

pytestmark = pytest.mark.anyio


async def products(request: Request) -> Response:
    return JSONResponse({"products": [{"id": i, "name": f"p{i}"} for i in range(20)]})


async def orders(request: Request) -> Response:
    return Response("<?xml version=\"1.0\"?><prestashop><orders/></prestashop>", media_type="text/xml")


def tiny_app() -> Starlette:
    return Starlette(routes=[
        Route("/api/products", products, methods=["GET", "PUT"]),
        Route("/api/orders", orders, methods=["GET", "POST"]),
    ])


def client_for(plan: FaultPlan) -> httpx2.AsyncClient:
    transport = httpx2.ASGITransport(app=apply_faults(tiny_app(), plan))
    return httpx2.AsyncClient(transport=transport, base_url="http://emulator", timeout=5)


async def test_no_rule_passes_through_and_none_plan_is_identity() -> None:
    app = tiny_app()
    assert apply_faults(app, None) is app
    async with client_for(FaultPlan()) as client:
        response = await client.get("/api/products")
    assert response.status_code == 200 and len(response.json()["products"]) == 20


async def test_error_rate_is_seeded_and_deterministic() -> None:
    async def statuses(seed: int) -> list[int]:
        plan = FaultPlan([FaultRule("/api/products*", error_rate=0.3, error_status=502)], seed=seed)
        async with client_for(plan) as client:
            return [(await client.get("/api/products")).status_code for _ in range(200)]

    first, again, other = await statuses(7), await statuses(7), await statuses(8)
    assert first == again and first != other
    errors = first.count(502)
    assert set(first) == {200, 502} and 35 <= errors <= 85


async def test_path_glob_regex_and_methods_select_requests() -> None:
    plan = FaultPlan([FaultRule("/api/orders*", methods={"post"}, error_rate=1.0)])
    async with client_for(plan) as client:
        assert (await client.get("/api/orders")).status_code == 200
        assert (await client.post("/api/orders")).status_code == 503
        assert (await client.get("/api/products")).status_code == 200
        plan.rules[0] = FaultRule("re:/prod", error_rate=1.0, error_status=500)
        assert (await client.get("/api/products")).status_code == 500
        assert (await client.get("/api/orders")).status_code == 200


async def test_plan_is_mutable_at_run_time() -> None:
    plan = FaultPlan()
    async with client_for(plan) as client:
        assert (await client.get("/api/products")).status_code == 200
        rule = plan.add(FaultRule(error_rate=1.0))
        assert (await client.get("/api/products")).status_code == 503
        plan.enabled = False
        assert (await client.get("/api/products")).status_code == 200
        plan.enabled = True
        rule.enabled = False
        assert (await client.get("/api/products")).status_code == 200
        plan.remove(rule)
        assert plan.rules == []
    assert plan.counts["error"] == 1 and plan.counts["requests"] == 4


async def test_rate_limit_answers_429_with_retry_after() -> None:
    plan = FaultPlan([FaultRule(rate_429=1.0, retry_after_s=3)])
    async with client_for(plan) as client:
        response = await client.get("/api/products")
    assert response.status_code == 429 and response.headers["retry-after"] == "3"


async def test_latency_and_jitter_delay_requests() -> None:
    plan = FaultPlan([FaultRule(latency_ms=60, jitter_ms=10)], seed=1)
    async with client_for(plan) as client:
        started = time.perf_counter()
        await client.get("/api/products")
        assert time.perf_counter() - started >= 0.045
    plan.rules[0] = FaultRule(path_pattern="/api/orders")
    async with client_for(plan) as client:
        started = time.perf_counter()
        await client.get("/api/products")
        assert time.perf_counter() - started < 0.045


async def test_truncated_and_malformed_bodies_do_not_parse() -> None:
    plan = FaultPlan([FaultRule("/api/products", truncated_rate=1.0)])
    async with client_for(plan) as client:
        full = json.dumps({"products": [{"id": i, "name": f"p{i}"} for i in range(20)]}, separators=(",", ":"))
        response = await client.get("/api/products")
        assert response.status_code == 200
        assert len(response.content) == len(full) // 2
        assert response.headers["content-length"] == str(len(response.content))
        with pytest.raises(json.JSONDecodeError):
            response.json()
        plan.rules[0] = FaultRule("/api/*", malformed_rate=1.0)
        bad_json = await client.get("/api/products")
        with pytest.raises(json.JSONDecodeError):
            bad_json.json()
        bad_xml = await client.get("/api/orders")
        assert not bad_xml.text.startswith("<?xml")
        with pytest.raises(etree.XMLSyntaxError):
            etree.fromstring(bad_xml.content)


async def test_drop_in_process_is_a_transport_error() -> None:
    plan = FaultPlan([FaultRule(drop_rate=1.0)])
    async with client_for(plan) as client:
        with pytest.raises(httpx2.TransportError) as caught:
            await client.get("/api/products")
    assert isinstance(caught.value, DroppedConnection)


def test_spec_parser() -> None:
    rule = parse_fault_spec("path=/api/products*,method=GET|PUT,error_rate=0.02,latency=20ms,jitter=5")
    assert rule.path_pattern == "/api/products*" and rule.methods == {"GET", "PUT"}
    assert rule.error_rate == 0.02 and rule.latency_ms == 20 and rule.jitter_ms == 5
    assert parse_fault_spec("latency=1.5s").latency_ms == 1500
    hang = parse_fault_spec("hang=1%,hang_for=2s,drop=0.01,429=0.1,retry_after=2s,status=502")
    assert (hang.hang_rate, hang.hang_s, hang.drop_rate, hang.rate_429, hang.retry_after_s, hang.error_status) == (
        0.01, 2.0, 0.01, 0.1, 2, 502)
    plan = FaultPlan.from_specs(["latency=20ms", "path=/api/orders,truncate=0.5,malformed=0.5"], seed=3)
    assert len(plan.rules) == 2 and plan.rules[1].truncated_rate == 0.5
    for bad in ("latency", "nope=1", "error_rate=abc", "error_rate=0.7,drop=0.6", "latency=fast", "status=42"):
        with pytest.raises(ValueError):
            parse_fault_spec(bad)


# --- over a real server -------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def served() -> AsyncIterator[tuple[str, FaultPlan]]:
    plan = FaultPlan(seed=5)
    port = free_port()
    config = uvicorn.Config(apply_faults(tiny_app(), plan), host="127.0.0.1", port=port, log_level="critical",
                            lifespan="off", timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(200):
        if server.started:
            break
        await asyncio.sleep(0.01)
    assert server.started
    try:
        yield f"http://127.0.0.1:{port}", plan
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=5)


async def test_drop_over_uvicorn_closes_the_connection_without_answer(served: tuple[str, FaultPlan]) -> None:
    base, plan = served
    async with httpx2.AsyncClient(base_url=base, timeout=2) as client:
        assert (await client.get("/api/products")).status_code == 200
        rule = plan.add(FaultRule("/api/products", drop_rate=1.0))
        with pytest.raises(httpx2.TransportError):
            await client.get("/api/products")
        rule.enabled = False
        assert (await client.get("/api/products")).status_code == 200
    assert plan.counts["drop"] == 1


async def test_hang_over_uvicorn_exceeds_the_client_timeout(served: tuple[str, FaultPlan]) -> None:
    base, plan = served
    plan.add(FaultRule("/api/orders", hang_rate=1.0, hang_s=1.5))
    async with httpx2.AsyncClient(base_url=base, timeout=0.3) as client:
        started = time.perf_counter()
        with pytest.raises(httpx2.ReadTimeout):
            await client.get("/api/orders")
        assert time.perf_counter() - started < 1.2
        assert (await client.get("/api/products")).status_code == 200


async def test_a_hung_write_is_applied_after_the_client_gave_up() -> None:
    """The hardest case for duplicates: the server has the request, stalls past the client's
    timeout, then commits it anyway — with the whole body, though nobody waits any more."""
    received: list[bytes] = []

    async def write(request: Request) -> Response:
        received.append(await request.body())
        return Response("ok")

    plan = FaultPlan([FaultRule("/api/orders", methods={"POST"}, hang_rate=1.0, hang_s=0.6)])
    port = free_port()
    config = uvicorn.Config(apply_faults(Starlette(routes=[Route("/api/orders", write, methods=["POST"])]), plan),
                            host="127.0.0.1", port=port, log_level="critical", lifespan="off",
                            timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(200):
            if server.started:
                break
            await asyncio.sleep(0.01)
        body = b"<prestashop>" + b"x" * 200_000 + b"</prestashop>"
        async with httpx2.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=0.2) as client:
            with pytest.raises(httpx2.ReadTimeout):
                await client.post("/api/orders", content=body)
        for _ in range(100):
            if received:
                break
            await asyncio.sleep(0.05)
        assert received == [body]
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=5)
