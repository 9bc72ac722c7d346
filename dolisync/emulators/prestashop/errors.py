"""Webservice errors as PrestaShop 8.2.1 reports them.

Contract: raise :class:`WsError` anywhere in request handling; the app renders it as the XML or
JSON error envelope with its status. Raise :class:`PhpFatal` where the real shop dies on an
uncaught PHP exception: the app answers HTTP 500 with an empty ``text/html`` body (production
mode, ``display_errors`` off) and without the ``PSWS-Version`` header. ``php_warnings=True`` appends the four PHP 8 warnings that a
production shop adds after every list-parameter error (and turns the status into 500).
"""

from __future__ import annotations

__all__ = ["WsError", "PhpFatal", "param_error", "did_you_mean", "PHP_ROOT", "levenshtein"]

PHP_ROOT = "/var/www/prestashop"
_LIST_WARNING = (
    "[PHP Warning #2] Trying to access array offset on value of type bool "
    "(" + PHP_ROOT + "/classes/webservice/WebserviceRequest.php, line {line})"
)


class WsError(Exception):
    """An error answer: HTTP ``status`` and ``(code, message)`` entries in order."""

    def __init__(
        self,
        status: int,
        errors: list[tuple[int, str]],
        *,
        www_authenticate: bool = False,
        pre_auth: bool = False,
        sha1: bool = False,
    ) -> None:
        super().__init__(f"HTTP {status}: " + "; ".join(f"{c} {m}" for c, m in errors))
        self.status = status
        self.errors = errors
        self.www_authenticate = www_authenticate
        self.pre_auth = pre_auth
        self.sha1 = sha1


class PhpFatal(Exception):
    """An uncaught PHP exception in the real shop (``message`` is for logs only, never sent)."""


def param_error(code: int, message: str) -> WsError:
    """A list-parameter error (codes 28, 31-39) followed by the four PHP warnings: HTTP 500."""
    warnings = [(3, _LIST_WARNING.format(line=line)) for line in (1333, 1334, 1335, 1336)]
    return WsError(500, [(code, message), *warnings])


def levenshtein(a: str, b: str) -> int:
    """Edit distance (PHP ``levenshtein`` with unit costs)."""
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b))
            )
        previous = current
    return previous[-1]


def did_you_mean(message: str, wrong: str, candidates: list[str]) -> str:
    """``message`` + ` Did you mean: "x"?` + ` The full list is: ...` (list only if > 1 entry)."""
    if not candidates:
        return message
    best = candidates[0]
    shortest = -1
    for candidate in candidates:  # PHP keeps the last of equally close words (<=)
        distance = levenshtein(wrong, candidate)
        if shortest < 0 or distance <= shortest:
            best, shortest = candidate, distance
    text = f'{message} Did you mean: "{best}"?'
    if len(candidates) > 1:
        text += " The full list is: " + ", ".join(f'"{c}"' for c in candidates)
    return text
