"""Dashboard sessions and CSRF tokens (stateless, HMAC-signed).

Contract:

* The signing key is derived from ``[web] token`` (HMAC-SHA256 of a fixed label), so a
  session survives a restart and dies when the token changes; without a token (local use
  only) the key is random per process and every visitor gets a session without logging in.
* A session cookie is ``<random id>.<signature>``, ``HttpOnly`` and ``SameSite=Strict``; the
  token itself never goes into a cookie, a page or a log line.
* The CSRF token of a session is an HMAC of its id: every state-changing request must carry
  it (form field ``csrf_token`` or header ``X-CSRF-Token``), else 403.
* Comparisons are constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from pydantic import SecretStr

__all__ = ["COOKIE_NAME", "CSRF_FIELD", "CSRF_HEADER", "SessionAuth"]

COOKIE_NAME = "dolisync_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


class SessionAuth:
    """See module docstring."""

    def __init__(self, token: SecretStr | None) -> None:
        self._token = token.get_secret_value() if token is not None and token.get_secret_value() else None
        seed = self._token.encode() if self._token else secrets.token_bytes(32)
        self._key = hmac.new(seed, b"dolisync dashboard session v1", hashlib.sha256).digest()

    @property
    def login_required(self) -> bool:
        return self._token is not None

    def check_token(self, candidate: str) -> bool:
        if self._token is None:
            return True
        return hmac.compare_digest(candidate.encode(), self._token.encode())

    def _sign(self, label: str, value: str) -> str:
        return hmac.new(self._key, f"{label}|{value}".encode(), hashlib.sha256).hexdigest()

    def new_session(self) -> str:
        sid = secrets.token_urlsafe(18)
        return f"{sid}.{self._sign('session', sid)}"

    def session_id(self, cookie: str | None) -> str | None:
        """The session id of a valid cookie, else None."""
        if not cookie or "." not in cookie:
            return None
        sid, signature = cookie.rsplit(".", 1)
        if not hmac.compare_digest(signature, self._sign("session", sid)):
            return None
        return sid

    def csrf_token(self, sid: str) -> str:
        return self._sign("csrf", sid)[:40]

    def check_csrf(self, sid: str, candidate: str | None) -> bool:
        return bool(candidate) and hmac.compare_digest(str(candidate), self.csrf_token(sid))
