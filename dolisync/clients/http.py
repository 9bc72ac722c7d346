"""Shared HTTP plumbing of both clients: one ``httpx2.AsyncClient`` per remote.

Contract of :class:`HttpRemote`:

* Opened and closed explicitly (``async with remote:`` or ``await remote.open()`` /
  ``await remote.aclose()``); no I/O at construction.
* Explicit timeouts on every request (:class:`RemoteLimits.timeout_s`), no redirects followed
  (a redirect is an error: it may leak credentials to another host).
* ``transport=``: any ``httpx2`` async transport — ``httpx2.ASGITransport(app)`` for an
  in-process emulator, ``None`` for real sockets (loopback or a real server).
* At most ``concurrency`` requests in flight and ``rate_per_s`` requests per second.
* Non-2xx answers are classified once by the remote's ``classify`` function into
  :mod:`dolisync.clients.errors`; :class:`~dolisync.clients.errors.Transient` ones are retried
  with exponential backoff + jitter, honouring ``Retry-After``, up to ``retries`` times.
  Non-idempotent requests (POST/PATCH unless told otherwise) are retried only when the request
  certainly did not reach the application (connection refused, pool timeout, 429, 503 with
  ``Retry-After``), so a retry can never create a duplicate.
* ``sleep=`` replaces ``anyio.sleep`` (tests pass a recorder to disable waiting).
* :meth:`stats` returns a :class:`RequestStats` snapshot: reads, writes, retries, failures.
* Nothing here logs a URL with its query string or any header: logs carry the remote name,
  method, path and status only.
"""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Protocol, Self

import anyio
import httpx2
import structlog
from aiolimiter import AsyncLimiter

from dolisync.clients.errors import NotFound, RemoteError, Transient

__all__ = ["RemoteLimits", "RequestStats", "HttpRemote", "RemoteClient", "Classifier", "SAFE_METHODS"]

_log = structlog.get_logger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
_CONNECT_ERRORS = (httpx2.ConnectError, httpx2.ConnectTimeout, httpx2.PoolTimeout)


class Classifier(Protocol):
    """Turns a non-2xx answer into the one error to raise (see errors.classify_*)."""

    def __call__(
        self, remote: str, status: int, headers: Mapping[str, str], body: bytes, *, where: str
    ) -> RemoteError: ...


@dataclass(frozen=True, slots=True)
class RemoteLimits:
    """Timeouts, concurrency, rate and retry policy of one remote."""

    timeout_s: float = 30.0
    concurrency: int = 4
    rate_per_s: float = 10.0
    retries: int = 5
    backoff_base_s: float = 0.5
    backoff_max_s: float = 30.0
    retry_after_max_s: float = 120.0


@dataclass(frozen=True, slots=True)
class RequestStats:
    """Requests sent to one remote (a snapshot): ``reads`` GET/HEAD, ``writes`` the others."""

    remote: str
    reads: int = 0
    writes: int = 0
    retries: int = 0
    failures: int = 0

    @property
    def total(self) -> int:
        """Every request sent, retries included."""
        return self.reads + self.writes


@dataclass(slots=True)
class _Counters:
    reads: int = 0
    writes: int = 0
    retries: int = 0
    failures: int = 0
    by_status: dict[int, int] = field(default_factory=dict)


class HttpRemote:
    """One remote's HTTP client (see module contract)."""

    def __init__(
        self,
        name: str,
        base_url: str,
        *,
        classify: Classifier,
        limits: RemoteLimits | None = None,
        auth: httpx2.Auth | None = None,
        headers: Mapping[str, str] | None = None,
        transport: httpx2.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        jitter: Callable[[], float] | None = None,
    ) -> None:
        self.name = name
        self.limits = limits or RemoteLimits()
        self._base_url = base_url
        self._classify = classify
        self._auth = auth
        self._headers = dict(headers or {})
        self._transport = transport
        self._sleep = sleep or anyio.sleep
        self._jitter = jitter or random.random
        self._client: httpx2.AsyncClient | None = None
        self._semaphore: anyio.Semaphore | None = None
        self._limiter: AsyncLimiter | None = None
        self._counters = _Counters()

    # --- lifecycle ---------------------------------------------------------------------

    async def open(self) -> None:
        """Create the underlying client (idempotent)."""
        if self._client is not None:
            return
        timeout = httpx2.Timeout(self.limits.timeout_s)
        self._client = httpx2.AsyncClient(
            base_url=self._base_url,
            auth=self._auth,
            headers=self._headers,
            timeout=timeout,
            transport=self._transport,
            follow_redirects=False,
            limits=httpx2.Limits(
                max_connections=self.limits.concurrency, max_keepalive_connections=self.limits.concurrency
            ),
        )
        self._semaphore = anyio.Semaphore(self.limits.concurrency)
        rate = self.limits.rate_per_s
        self._limiter = AsyncLimiter(rate, 1.0) if rate >= 1 else AsyncLimiter(1, 1.0 / rate)

    async def aclose(self) -> None:
        """Close the underlying client (idempotent)."""
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    async def __aenter__(self) -> HttpRemote:
        await self.open()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    # --- requests ----------------------------------------------------------------------

    def stats(self) -> RequestStats:
        """A snapshot of the request counters."""
        c = self._counters
        return RequestStats(self.name, c.reads, c.writes, c.retries, c.failures)

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        content: bytes | None = None,
        json: Any = None,
        files: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        where: str = "",
        idempotent: bool | None = None,
        accept: Callable[[int], bool] | None = None,
    ) -> httpx2.Response:
        """Send one request with retries; return the 2xx response (or one ``accept`` allows).

        ``path`` is relative to the base URL; ``where`` names the target in errors
        (default: the path). Raises :mod:`dolisync.clients.errors` exceptions only.
        """
        if self._client is None or self._semaphore is None or self._limiter is None:
            raise RuntimeError(f"{self.name}: client is not open (use 'async with' or await open())")
        method = method.upper()
        where = where or f"{method} {path.split('?', 1)[0]}"
        safe = method in SAFE_METHODS if idempotent is None else idempotent
        attempt = 0
        while True:
            try:
                return await self._send_once(method, path, params, content, json, files, headers, where, accept)
            except Transient as error:
                if attempt >= self.limits.retries or not (safe or error.not_applied):
                    self._counters.failures += 1
                    raise
                delay = self._delay(attempt, error.retry_after)
                attempt += 1
                self._counters.retries += 1
                _log.info(
                    "remote.retry", remote=self.name, target=where, status=error.status,
                    attempt=attempt, delay_s=round(delay, 3), reason=error.message,
                )
                await self._sleep(delay)
            except NotFound:
                raise  # an answer ("absent"), not a failure
            except RemoteError:
                self._counters.failures += 1
                raise

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.limits.retry_after_max_s)
        ceiling = min(self.limits.backoff_max_s, self.limits.backoff_base_s * (2**attempt))
        return ceiling * (0.5 + 0.5 * self._jitter())

    async def _send_once(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        content: bytes | None,
        json: Any,
        files: Mapping[str, Any] | None,
        headers: Mapping[str, str] | None,
        where: str,
        accept: Callable[[int], bool] | None,
    ) -> httpx2.Response:
        assert self._client is not None and self._semaphore is not None and self._limiter is not None
        if method in ("GET", "HEAD"):
            self._counters.reads += 1
        else:
            self._counters.writes += 1
        async with self._semaphore:
            await self._limiter.acquire()
            started = time.monotonic()
            try:
                response = await self._client.request(
                    method,
                    path.lstrip("/"),
                    params=dict(params) if params else None,
                    content=content,
                    json=json,
                    files=files,
                    headers=headers,
                )
            except _CONNECT_ERRORS as exc:
                raise Transient(
                    self.name, f"cannot connect ({type(exc).__name__})", where=where, not_applied=True
                ) from None
            except httpx2.TimeoutException as exc:
                raise Transient(
                    self.name, f"timed out after {time.monotonic() - started:.1f}s ({type(exc).__name__})", where=where
                ) from None
            except httpx2.TransportError as exc:
                raise Transient(self.name, f"connection lost ({type(exc).__name__})", where=where) from None
        status = response.status_code
        self._counters.by_status[status] = self._counters.by_status.get(status, 0) + 1
        _log.debug(
            "remote.request", remote=self.name, method=method, path=path.split("?", 1)[0],
            status=status, elapsed_ms=round((time.monotonic() - started) * 1000, 1),
        )
        if 200 <= status < 300 or (accept is not None and accept(status)):
            return response
        raise self._classify(self.name, status, response.headers, response.content, where=where)


class RemoteClient:
    """What every API client shares: a named :class:`HttpRemote` in ``self._remote``, opened and
    closed with the client (``async with Client(...) as c``), and its request counters."""

    _remote: HttpRemote

    @property
    def name(self) -> str:
        return self._remote.name

    async def open(self) -> None:
        await self._remote.open()

    async def aclose(self) -> None:
        await self._remote.aclose()

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def stats(self) -> RequestStats:
        """Requests sent so far (reads/writes/retries/failures)."""
        return self._remote.stats()
