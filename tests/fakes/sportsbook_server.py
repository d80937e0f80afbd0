"""A fake sportsbook operator API (providers.md section 4) on a real socket: ``auth`` and ``start-session``.

``POST /{version}/auth`` checks the client username and password (401 otherwise) and issues a fresh token
with ``expires_in`` as configured (a string by default, as the provider sends it). ``POST
/{version}/start-session`` needs ``Authorization: Bearer <token>`` of a token that is issued, not revoked
and not expired on the server's clock (401 otherwise), and answers ``{"url": ...}``.

Knobs: ``expires_in`` (sent as is), ``revoke_tokens()`` (every token issued so far now answers 401),
``refuse_sessions(n)`` (the next ``n`` start-sessions answer 401 whatever the token), plus the base
``fail_next`` (any status and body, ``bytes`` sent raw) and ``slow_down`` (sleep before answering).
``auth_calls`` and ``session_calls`` count what arrived; ``requests`` records every request as received.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from itertools import count
from typing import Any, Self
from urllib.parse import quote

from croupier.signing import Clock, RawRequest, Verdict
from tests.fakes.ruby_server import Answer, FakeHttpServer, HttpError, ReceivedRequest, _Handler, _Server

USERNAME = "test-sportsbook-client"
PASSWORD = "test-sportsbook-password-never-printed"
VERSION = "v1"
SESSION_HOST = "https://sportsbook.example"


@dataclass(frozen=True, slots=True)
class IssuedToken:
    value: str
    expires_at: float | None
    """Server clock; ``None`` when ``expires_in`` was not a number (the token then never expires here)."""


class QuickStoppingServer(FakeHttpServer):
    """The base fake, polling for shutdown every 5 ms instead of 50: tests start one or two per test."""

    def start(self) -> Self:
        server = _Server(("127.0.0.1", 0), _Handler)
        server.fake = self
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.005}, daemon=True)
        self._thread.start()
        return self


class FakeSportsbookServer(QuickStoppingServer):
    def __init__(
        self,
        username: str = USERNAME,
        password: str = PASSWORD,
        *,
        version: str = VERSION,
        expires_in: Any = "3600",
        clock: Clock = time.time,
    ) -> None:
        super().__init__()
        self.username = username
        self.password = password
        self.version = version
        self.expires_in = expires_in
        self.clock = clock
        self.tokens: dict[str, IssuedToken] = {}
        self.revoked: set[str] = set()
        self.sessions: list[dict[str, Any]] = []
        self._refuse_sessions = 0
        self._session_ids = count(1)

    # knobs ---------------------------------------------------------------------------------------

    def revoke_tokens(self) -> None:
        """Every token issued so far is refused from now on (as an expiry the client did not foresee)."""
        with self._lock:
            self.revoked.update(self.tokens)

    def refuse_sessions(self, times: int) -> None:
        """The next ``times`` start-session calls answer 401, whatever token they carry."""
        with self._lock:
            self._refuse_sessions = times

    @property
    def auth_calls(self) -> int:
        return len(self.requests_to(f"/{self.version}/auth"))

    @property
    def session_calls(self) -> int:
        return len(self.requests_to(f"/{self.version}/start-session"))

    def bearer_tokens(self) -> list[str | None]:
        """The bearer token each start-session carried, in order."""
        return [_bearer(r.headers.get("Authorization")) for r in self.requests_to(f"/{self.version}/start-session")]

    # the API -------------------------------------------------------------------------------------

    def authenticate(self, request: RawRequest) -> Verdict | None:
        return None  # the bearer token is checked by the route itself, answering 401 the provider's way

    def route(self, request: ReceivedRequest) -> Answer:
        if request.method != "POST":
            raise HttpError(405, "METHOD_NOT_ALLOWED", "POST only")
        if not request.headers.get("Content-Type", "").startswith("application/json"):
            raise HttpError(415, "UNSUPPORTED_MEDIA_TYPE", "send application/json")
        if request.path == f"/{self.version}/auth":
            return self._auth(_object(request))
        if request.path == f"/{self.version}/start-session":
            self._check_bearer(request)
            return self._start_session(_object(request))
        raise HttpError(404, "NOT_FOUND", f"no route {request.method} {request.path}")

    def _auth(self, body: dict[str, Any]) -> Answer:
        if body.get("username") != self.username or body.get("password") != self.password:
            raise HttpError(401, "INVALID_CREDENTIALS", "wrong username or password")
        token = f"tok-{secrets.token_urlsafe(18)}"
        lifetime = self.expires_in
        seconds = int(lifetime) if isinstance(lifetime, int | str) and str(lifetime).isdigit() else None
        with self._lock:
            self.tokens[token] = IssuedToken(token, None if seconds is None else self.clock() + seconds)
        return 200, {"token": token, "expires_in": lifetime}

    def _check_bearer(self, request: ReceivedRequest) -> None:
        token = _bearer(request.headers.get("Authorization"))
        with self._lock:
            if self._refuse_sessions > 0:
                self._refuse_sessions -= 1
                raise HttpError(401, "TOKEN_EXPIRED", "token expired")
            issued = self.tokens.get(token or "")
            if issued is None or token in self.revoked:
                raise HttpError(401, "INVALID_TOKEN", "unknown or revoked token")
            if issued.expires_at is not None and self.clock() >= issued.expires_at:
                raise HttpError(401, "TOKEN_EXPIRED", "token expired")

    def _start_session(self, body: dict[str, Any]) -> Answer:
        user_id, currency, lang = body.get("user_id"), body.get("currency"), body.get("lang")
        if not isinstance(user_id, str) or not user_id:
            raise HttpError(400, "VALIDATION_ERROR", "user_id is required")
        if not isinstance(currency, str) or not currency:
            raise HttpError(400, "VALIDATION_ERROR", "currency is required")
        if set(body) - {"user_id", "currency", "lang"}:
            raise HttpError(400, "VALIDATION_ERROR", "unknown fields")
        with self._lock:
            session = f"s-{next(self._session_ids)}"
            url = f"{SESSION_HOST}/play?session={session}&user={quote(user_id)}&currency={currency}"
            if isinstance(lang, str):
                url += f"&lang={lang}"
            self.sessions.append({"session": session, "user_id": user_id, "currency": currency, "lang": lang})
        return 200, {"url": url}


def _bearer(header: str | None) -> str | None:
    if header is None or not header.startswith("Bearer "):
        return None
    return header.removeprefix("Bearer ")


def _object(request: ReceivedRequest) -> dict[str, Any]:
    try:
        body = request.json()
    except ValueError:
        raise HttpError(400, "BAD_REQUEST", "body is not JSON") from None
    if not isinstance(body, dict):
        raise HttpError(400, "BAD_REQUEST", "body must be a JSON object")
    return body
