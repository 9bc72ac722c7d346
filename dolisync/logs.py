"""Logging: structlog over stdlib logging, with secrets redacted from everything written.

Contract:

* :func:`configure_logging` ``(level, json)`` routes structlog *and* plain stdlib loggers
  (httpx2, uvicorn, sqlalchemy ...) through one handler: JSON lines in production
  (``json=True``), a console renderer in development. Calling it again reconfigures.
* Every record passes :class:`SecretRedactor` last, after exceptions were formatted to text,
  so a secret is removed from the message, from every event-dict value (recursively), and from
  exception messages and tracebacks. Removed are:

  * every registered secret value (:func:`register_secrets`, fed from
    :meth:`dolisync.config.Settings.secret_values` at start), and their Basic-auth base64 forms;
  * whatever follows ``ws_key=``, ``DOLAPIKEY`` (``=``, ``:`` or a JSON key), ``Authorization``
    (header or mapping key), and the user-info of URLs (``https://user:pass@host``);
  * values of event-dict keys that name a secret (``api_key``, ``token``, ``password``,
    ``authorization``, ``dolapikey``, ``ws_key``, ``secret``; a bare ``key`` is left alone:
    flows log entity keys under that name, and a registered secret is removed anyway).

  A redacted value becomes ``***``.
"""

from __future__ import annotations

import base64
import logging
import re
import sys
import threading
from collections.abc import Iterable, Mapping, MutableMapping
from typing import TYPE_CHECKING, Any, TextIO

import structlog

if TYPE_CHECKING:
    from dolisync.config import Settings

__all__ = [
    "MASK",
    "SecretRedactor",
    "default_redactor",
    "register_secrets",
    "redact",
    "configure_logging",
    "setup_logging",
    "get_logger",
]

MASK = "***"
_MIN_SECRET_LENGTH = 4  # shorter values would shred ordinary words

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # ws_key=VALUE in a query string or text
    (re.compile(r"(?i)(ws_key=)[^&\s'\"<>]*"), r"\1" + MASK),
    # DOLAPIKEY: VALUE / DOLAPIKEY=VALUE / "DOLAPIKEY": "VALUE" / 'dolapikey': 'VALUE'
    (re.compile(r"(?i)(dolapikey['\"]?\s*[:=]\s*['\"]?)[^&\s'\",}]+"), r"\1" + MASK),
    # Authorization: Basic xxx / "Authorization": "Bearer xxx"
    (
        re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?)(?:(?:basic|bearer|token)\s+)?[^\s'\",}]+"),
        r"\1" + MASK,
    ),
    # scheme://user:password@host  and  scheme://KEY@host (PrestaShop key as URL user)
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@'\"<>]+@"), r"\1" + MASK + "@"),
)

_SECRET_KEY_NAMES = re.compile(
    r"(?i)^(api_?key|ws_key|dolapikey|token|web_token|password|passwd|secret|authorization)$"
)


class SecretRedactor:
    """Removes registered secrets and known credential patterns from text and event dicts.

    Thread-safe; usable as a structlog processor (``redactor(logger, method, event_dict)``).
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self.register(*secrets)

    def register(self, *secrets: str | Iterable[str]) -> None:
        """Add secret values, or iterables of them (empty/short ones are ignored).

        Their Basic-auth base64 forms are registered too.
        """
        flat: list[str] = []
        for item in secrets:
            if isinstance(item, str):
                flat.append(item)
            elif item is not None:
                flat.extend(str(value) for value in item if value)
        with self._lock:
            for secret in flat:
                if not secret or len(secret) < _MIN_SECRET_LENGTH:
                    continue
                self._secrets.add(secret)
                for variant in (f"{secret}:", secret):
                    encoded = base64.b64encode(variant.encode()).decode()
                    self._secrets.add(encoded)
                    self._secrets.add(encoded.rstrip("="))
            ordered = sorted(self._secrets, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(s) for s in ordered)) if ordered else None

    def clear(self) -> None:
        """Forget every registered secret (tests, reconfiguration)."""
        with self._lock:
            self._secrets.clear()
            self._pattern = None

    def text(self, value: str) -> str:
        """``value`` with every secret and credential pattern replaced by ``***``."""
        pattern = self._pattern
        if pattern is not None:
            value = pattern.sub(MASK, value)
        for regex, replacement in _PATTERNS:
            value = regex.sub(replacement, value)
        return value

    def value(self, value: Any, depth: int = 0) -> Any:
        """Redact any loggable value: strings, mappings, sequences, exceptions (others unchanged)."""
        if depth > 8:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, bytes):
            return self.text(value.decode("utf-8", errors="replace"))
        if isinstance(value, BaseException):
            return self.text(f"{type(value).__name__}: {value}")
        if isinstance(value, Mapping):
            return {
                key: MASK if _is_secret_key(key) and value_ else self.value(value_, depth + 1)
                for key, value_ in value.items()
            }
        if isinstance(value, list | tuple | set | frozenset):
            return [self.value(item, depth + 1) for item in value]
        if isinstance(value, int | float | bool) or value is None:
            return value
        return self.text(repr(value)) if _suspicious(value) else value

    def __call__(self, logger: Any, method_name: str, event_dict: MutableMapping[str, Any]) -> Any:
        """structlog processor: redact every value of ``event_dict`` in place."""
        for key in list(event_dict):
            if key.startswith("_"):  # structlog/stdlib internals (_record, _from_structlog)
                continue
            item = event_dict[key]
            if _is_secret_key(key) and item and key != "event":
                event_dict[key] = MASK
            else:
                event_dict[key] = self.value(item)
        return event_dict


def _is_secret_key(key: object) -> bool:
    return isinstance(key, str) and bool(_SECRET_KEY_NAMES.match(key))


def _suspicious(value: object) -> bool:
    """Objects whose repr may carry credentials (URLs, requests, headers)."""
    return type(value).__name__ in {"URL", "Request", "Response", "Headers"}


default_redactor = SecretRedactor()
"""The process-wide redactor used by :func:`configure_logging` unless one is passed."""


def register_secrets(*secrets: str | Iterable[str]) -> None:
    """Register secret values (or iterables of them) with the process-wide redactor."""
    default_redactor.register(*secrets)


def redact(text: str) -> str:
    """Redact ``text`` with the process-wide redactor (for messages shown outside logging)."""
    return default_redactor.text(text)


def configure_logging(
    level: str | int = "INFO",
    json: bool = False,
    *,
    stream: TextIO | None = None,
    redactor: SecretRedactor | None = None,
) -> SecretRedactor:
    """Configure structlog + stdlib logging (see module contract); returns the redactor in use."""
    redactor = redactor or default_redactor
    numeric = logging.getLevelName(level.upper()) if isinstance(level, str) else level
    if not isinstance(numeric, int):
        raise ValueError(f"unknown log level {level!r} (use DEBUG, INFO, WARNING or ERROR)")

    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
        structlog.processors.format_exc_info,
        redactor,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if json
        else structlog.dev.ConsoleRenderer(colors=False, exception_formatter=structlog.dev.plain_traceback)
    )
    structlog.configure(
        processors=[structlog.stdlib.filter_by_level, *shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.ExtraAdder(), *shared],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    handler.set_name("dolisync")
    root = logging.getLogger()
    for existing in list(root.handlers):
        if existing.get_name() == "dolisync":
            root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(numeric)
    # Third-party chatter: our clients log each request themselves (without credentials).
    for noisy in ("httpx2", "httpcore2", "httpx", "httpcore", "alembic"):
        logging.getLogger(noisy).setLevel(max(numeric, logging.WARNING))
    return redactor


def setup_logging(settings: Settings, *, stream: TextIO | None = None) -> SecretRedactor:
    """Start-of-process logging: ``[log]`` level/format, and every secret of ``settings`` registered."""
    register_secrets(*settings.secret_values())
    return configure_logging(settings.log.level, settings.log.json_output, stream=stream)


def get_logger(name: str | None = None) -> Any:
    """A structlog logger bound to ``name`` (the module's ``__name__`` by convention)."""
    return structlog.get_logger(name)
