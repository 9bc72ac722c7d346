"""Fault injection for the emulators, as ASGI middleware.

A :class:`FaultPlan` holds :class:`FaultRule` s (which requests, which faults, how often) and a
seeded RNG, so a test that sends the same requests in the same order sees the same faults.
:func:`apply_faults` wraps any ASGI app. The plan is read on every request: tests and benchmarks
may add, remove, change or disable rules while the server runs.

Faults, decided with **one** draw per matching rule and request (in this order, so the rates of
one rule add up and must not exceed 1):

* ``drop_rate``: the connection is closed without an answer. Over a real server (uvicorn) the
  socket is aborted; in-process (httpx ``ASGITransport``) :class:`DroppedConnection` is raised,
  which *is* an ``httpx2.RemoteProtocolError``, i.e. a transport error for the client.
* ``hang_rate``: the request sleeps ``hang_s`` seconds (past the client's timeout) and then goes on.
* ``rate_429``: ``429 Too Many Requests`` with ``Retry-After: retry_after_s``.
* ``error_rate``: ``error_status`` (5xx) with a short text body.
* ``truncated_rate``: the app's answer with its body cut in half (Content-Length adjusted).
* ``malformed_rate``: the app's answer with its body corrupted (neither XML nor JSON parses).

``latency_ms`` +- ``jitter_ms`` delays every matching request (latencies of several matching
rules add up). Paths match a glob (``/api/products*``) or, with a ``re:`` prefix or a leading
``^``, a regular expression (searched in the path).

CLI form (:meth:`FaultPlan.from_specs`): ``"latency=20ms"``, ``"path=/api/products*,error_rate=0.02"``,
``"method=GET|POST,rate_429=0.1,retry_after=2s"``, ``"drop=0.01,hang=0.01,hang_for=30s"``.
"""

from __future__ import annotations

import asyncio
import fnmatch
import random
import re
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass, field, fields
from typing import Any

import httpx2

__all__ = ["FaultRule", "FaultPlan", "FaultMiddleware", "DroppedConnection", "apply_faults", "parse_fault_spec"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

KINDS = ("drop", "hang", "429", "error", "truncated", "malformed")


class DroppedConnection(httpx2.RemoteProtocolError):
    """Raised by the middleware to drop a connection when no socket can be aborted."""

    def __init__(self, message: str = "connection dropped by fault injection") -> None:
        super().__init__(message)


@dataclass(slots=True)
class FaultRule:
    """Which requests (path pattern, methods) get which faults, with which probabilities."""

    path_pattern: str = "*"
    methods: set[str] | None = None
    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    error_rate: float = 0.0
    error_status: int = 503
    rate_429: float = 0.0
    retry_after_s: int = 1
    hang_rate: float = 0.0
    hang_s: float = 30.0
    drop_rate: float = 0.0
    truncated_rate: float = 0.0
    malformed_rate: float = 0.0
    enabled: bool = True
    _regex: re.Pattern[str] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Check the rates (each in [0, 1], their sum <= 1), the status and the pattern."""
        rates = self.rates()
        for kind, rate in rates.items():
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"fault rate {kind}={rate} must be between 0 and 1")
        if sum(rates.values()) > 1.0 + 1e-9:
            raise ValueError(f"fault rates of one rule add up to more than 1: {rates}")
        if not 100 <= self.error_status <= 599:
            raise ValueError(f"error_status {self.error_status} is not an HTTP status")
        if self.latency_ms < 0 or self.jitter_ms < 0 or self.hang_s < 0 or self.retry_after_s < 0:
            raise ValueError("latency, jitter, hang and retry-after must not be negative")
        pattern = self.path_pattern
        if pattern.startswith("re:"):
            self._regex = re.compile(pattern[3:])
        elif pattern.startswith("^"):
            self._regex = re.compile(pattern)
        else:
            self._regex = re.compile(fnmatch.translate(pattern))
        if self.methods is not None:
            self.methods = {m.upper() for m in self.methods}

    def rates(self) -> dict[str, float]:
        """The fault probabilities in decision order."""
        return {
            "drop": self.drop_rate, "hang": self.hang_rate, "429": self.rate_429,
            "error": self.error_rate, "truncated": self.truncated_rate, "malformed": self.malformed_rate,
        }

    def matches(self, method: str, path: str) -> bool:
        """True when the rule is enabled and covers ``method`` ``path``."""
        if not self.enabled:
            return False
        if self.methods is not None and method.upper() not in self.methods:
            return False
        if self._regex is None:
            self.validate()
        assert self._regex is not None
        if self.path_pattern.startswith(("re:", "^")):
            return self._regex.search(path) is not None
        return self._regex.match(path) is not None


@dataclass(frozen=True, slots=True)
class FaultDecision:
    """What the middleware does with one request."""

    delay_s: float = 0.0
    kind: str | None = None
    rule: FaultRule | None = None


class FaultPlan:
    """Mutable list of rules + seeded RNG + counters of what was injected."""

    def __init__(self, rules: Iterable[FaultRule] = (), seed: int = 0) -> None:
        self.rules: list[FaultRule] = list(rules)
        self.enabled = True
        self.counts: Counter[str] = Counter()
        self._rng = random.Random(seed)

    def reseed(self, seed: int) -> None:
        """Restart the random sequence (and the counters)."""
        self._rng = random.Random(seed)
        self.counts.clear()

    def add(self, rule: FaultRule) -> FaultRule:
        """Append a rule and return it (keep it to change or remove it later)."""
        rule.validate()
        self.rules.append(rule)
        return rule

    def remove(self, rule: FaultRule) -> None:
        """Remove a rule previously added."""
        self.rules.remove(rule)

    def clear(self) -> None:
        """Remove every rule."""
        self.rules.clear()

    def decide(self, method: str, path: str) -> FaultDecision:
        """Draw the faults for one request (consumes the RNG only for matching rules)."""
        self.counts["requests"] += 1
        if not self.enabled:
            return FaultDecision()
        delay = 0.0
        for rule in list(self.rules):
            if not rule.matches(method, path):
                continue
            if rule.latency_ms or rule.jitter_ms:
                jitter = self._rng.uniform(-rule.jitter_ms, rule.jitter_ms) if rule.jitter_ms else 0.0
                delay += max(0.0, rule.latency_ms + jitter) / 1000.0
            draw = self._rng.random()
            threshold = 0.0
            for kind, rate in rule.rates().items():
                threshold += rate
                if rate and draw < threshold:
                    self.counts[kind] += 1
                    return FaultDecision(delay, kind, rule)
        if delay:
            self.counts["delayed"] += 1
        return FaultDecision(delay)

    @classmethod
    def from_specs(cls, specs: Iterable[str], seed: int = 0) -> FaultPlan:
        """A plan with one rule per CLI spec (see :func:`parse_fault_spec`)."""
        return cls([parse_fault_spec(spec) for spec in specs], seed=seed)


_ALIASES = {
    "path": "path_pattern", "paths": "path_pattern", "pattern": "path_pattern",
    "method": "methods", "methods": "methods",
    "latency": "latency_ms", "latency_ms": "latency_ms", "jitter": "jitter_ms", "jitter_ms": "jitter_ms",
    "error": "error_rate", "errors": "error_rate", "error_rate": "error_rate",
    "status": "error_status", "error_status": "error_status",
    "429": "rate_429", "rate_429": "rate_429", "throttle": "rate_429",
    "retry_after": "retry_after_s", "retry_after_s": "retry_after_s",
    "hang": "hang_rate", "hang_rate": "hang_rate", "hang_for": "hang_s", "hang_s": "hang_s",
    "drop": "drop_rate", "drop_rate": "drop_rate",
    "truncate": "truncated_rate", "truncated": "truncated_rate", "truncated_rate": "truncated_rate",
    "malformed": "malformed_rate", "corrupt": "malformed_rate", "malformed_rate": "malformed_rate",
}
_DURATION = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*(ms|s|m)?\s*$")


def _duration(text: str, unit: str) -> float:
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"not a duration: {text!r} (use 20ms, 1.5s, 2m)")
    value = float(match.group(1))
    scale = {"ms": 0.001, "s": 1.0, "m": 60.0}[match.group(2) or ("ms" if unit == "ms" else "s")]
    seconds = value * scale
    return seconds * 1000.0 if unit == "ms" else seconds


def parse_fault_spec(spec: str) -> FaultRule:
    """Parse ``"path=/api/products*,method=GET|PUT,error_rate=0.02,latency=20ms"`` into a rule.

    Keys (aliases in brackets): path, method(s), latency, jitter (ms unless a unit is given),
    error_rate [error], status, rate_429 [429, throttle], retry_after (s), hang_rate [hang],
    hang_for (s), drop_rate [drop], truncated_rate [truncate], malformed_rate [malformed].
    A bare number for a rate may also be written as a percentage (``2%``).
    """
    values: dict[str, Any] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        key, sep, raw = part.partition("=")
        if not sep:
            raise ValueError(f"fault spec {spec!r}: {part!r} is not key=value")
        name = _ALIASES.get(key.strip().lower())
        if name is None:
            raise ValueError(f"fault spec {spec!r}: unknown key {key!r}; known: {sorted(set(_ALIASES))}")
        raw = raw.strip()
        try:
            if name == "path_pattern":
                values[name] = raw
            elif name == "methods":
                values[name] = {m.strip().upper() for m in re.split(r"[|/ ]", raw) if m.strip()}
            elif name in ("latency_ms", "jitter_ms"):
                values[name] = _duration(raw, "ms")
            elif name in ("hang_s",):
                values[name] = _duration(raw, "s")
            elif name == "retry_after_s":
                values[name] = int(round(_duration(raw, "s")))
            elif name == "error_status":
                values[name] = int(raw)
            else:
                values[name] = float(raw[:-1]) / 100.0 if raw.endswith("%") else float(raw)
        except ValueError as exc:
            raise ValueError(f"fault spec {spec!r}: bad value for {key!r}: {exc}") from exc
    known = {f.name for f in fields(FaultRule)}
    return FaultRule(**{k: v for k, v in values.items() if k in known})


async def _received_body(receive: Receive) -> Receive:
    """Read the whole request body now; a ``receive`` that hands it out again, then waits on the
    original one (a client that gave up meanwhile is then seen as a disconnect)."""
    messages: list[Message] = []
    while True:
        message = await receive()
        messages.append(message)
        if message.get("type") != "http.request" or not message.get("more_body", False):
            break

    async def replay() -> Message:
        return messages.pop(0) if messages else await receive()

    return replay


class FaultMiddleware:
    """ASGI middleware applying a :class:`FaultPlan` to HTTP requests (other scopes pass)."""

    def __init__(self, app: ASGIApp, plan: FaultPlan) -> None:
        self.app = app
        self.plan = plan

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        decision = self.plan.decide(str(scope.get("method", "GET")), str(scope.get("path", "")))
        if decision.delay_s:
            await asyncio.sleep(decision.delay_s)
        kind, rule = decision.kind, decision.rule
        if kind is None or rule is None:
            await self.app(scope, receive, send)
            return
        if kind == "drop":
            await _drop(send)
            return
        if kind == "hang":
            replay = await _received_body(receive)  # the server has the request before it stalls
            await asyncio.sleep(rule.hang_s)
            await self.app(scope, replay, send)
            return
        if kind == "429":
            await _plain(send, 429, b"Too Many Requests (injected)\n",
                         [(b"retry-after", str(rule.retry_after_s).encode())])
            return
        if kind == "error":
            await _plain(send, rule.error_status, b"Injected server error\n", [])
            return
        if scope.get("method") == "HEAD":  # no body to cut or corrupt
            await self.app(scope, receive, send)
            return
        await self._rewrite(scope, receive, send, kind)

    async def _rewrite(self, scope: Scope, receive: Receive, send: Send, kind: str) -> None:
        start: Message | None = None
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = dict(message)
            elif message["type"] == "http.response.body":
                chunks.append(bytes(message.get("body", b"")))
            else:  # trailers or extensions: pass through untouched
                await send(message)

        await self.app(scope, receive, capture)
        if start is None:
            return
        body = b"".join(chunks)
        if kind == "truncated":
            body = body[: len(body) // 2]
        else:
            body = b"<<corrupt>>" + body[1:] if body else b"<<corrupt>>"
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        start["headers"] = headers
        await send(start)
        await send({"type": "http.response.body", "body": body, "more_body": False})


async def _plain(send: Send, status: int, body: bytes, extra: list[tuple[bytes, bytes]]) -> None:
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers + extra})
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def _drop(send: Send) -> None:
    """Abort the socket when the server exposes it (uvicorn), else raise DroppedConnection."""
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    abort = getattr(transport, "abort", None)
    if abort is None:
        raise DroppedConnection()
    abort()
    for _ in range(3):  # let the server see the connection is gone before we return
        await asyncio.sleep(0)


def apply_faults(app: ASGIApp, plan: FaultPlan | None) -> ASGIApp:
    """Wrap ``app`` with ``plan`` (``None`` returns ``app`` unchanged)."""
    if plan is None:
        return app
    return FaultMiddleware(app, plan)
