"""Client of the sportsbook operator's API (providers.md section 4): ``auth`` and ``start-session``.

``POST {api_url}/{api_version}/auth`` with our client username and password answers a bearer token and
its lifetime (``expires_in``, seconds, sent as a string). The token is kept and reused until
``refresh_margin`` seconds before it expires (or half its lifetime, for a short-lived token), so that a
warm execution environment authenticates once, not once per launch. One lock guards the token: callers
arriving while it is being refreshed wait for that refresh and share its token.

``POST {api_url}/{api_version}/start-session`` answers the iframe ``url`` of a player's session. A 401
there means the token was revoked or expired early: the token is dropped, a new one fetched once, and the
call sent once more; a second 401 is an error. Nothing else is retried.

Every :meth:`SportsbookClient.start_session` is bounded by ``timeout`` as a whole: the wait for the token,
the authentication and every request share that one budget. The password and the tokens never appear in
an error message or a repr: an answer that echoes them is redacted.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from croupier import __version__
from croupier.clients.http import (
    HttpResponse,
    ProviderCallError,
    Transport,
    TransportError,
    UrllibTransport,
    check_currency,
    check_text,
    check_timeout,
    dumps_json,
)
from croupier.errors import BadRequest
from croupier.network import check_url, fit_to_hand_on
from croupier.signing import Clock

DEFAULT_TIMEOUT_SECONDS = 10.0
DEFAULT_REFRESH_MARGIN_SECONDS = 60.0
MAX_EXPIRES_IN_SECONDS = 366 * 24 * 3600
"""A token said to live longer than a year is nonsense, not a token to keep."""
MAX_USER_ID_LENGTH = 64
MAX_TOKEN_LENGTH = 8192

_LANG = re.compile(r"[a-z]{2}(?:-[A-Z]{2})?")
_VERSION = re.compile(r"[A-Za-z0-9._-]+(?:/[A-Za-z0-9._-]+)*")
_TOKEN = re.compile(r"[\x21-\x7e]+")  # printable ASCII without spaces: safe in an Authorization header
_SECONDS = re.compile(r"[0-9]{1,10}")
_MAX_ERROR_TEXT = 200


class Reason(StrEnum):
    """Why a sportsbook call failed; stable, machine-readable."""

    AUTH_REFUSED = "auth_refused"
    """The sportsbook refused our client credentials (auth answered 401 or 403)."""
    UNAUTHORIZED = "unauthorized"
    """start-session answered 401 even with a freshly issued token."""
    PROVIDER_STATUS = "provider_status"
    """Any other non-2xx status."""
    BAD_ANSWER = "bad_answer"
    """A 2xx whose body we cannot use (not JSON, a field missing or malformed)."""
    TIMEOUT = "timeout"
    UNREACHABLE = "unreachable"


class SportsbookApiError(ProviderCallError):
    """The sportsbook failed or answered something unusable. ``status`` stays 502 (what Croupier answers its
    own callers); ``reason`` says why, ``upstream_status`` is the sportsbook's HTTP status when it answered."""

    code = "SPORTSBOOK_API_ERROR"


@dataclass(frozen=True, slots=True, repr=False)
class _Token:
    value: str
    refresh_at: float
    """Unix time (the client's clock) from which the token is no longer handed out."""

    def __repr__(self) -> str:  # never the value
        return f"_Token(refresh_at={self.refresh_at})"


class SportsbookClient:
    """Calls the sportsbook operator's API with a cached bearer token. Thread-safe."""

    def __init__(
        self,
        api_url: str,
        api_version: str,
        username: str,
        password: str,
        *,
        transport: Transport | None = None,
        clock: Clock = time.time,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        refresh_margin: float = DEFAULT_REFRESH_MARGIN_SECONDS,
        allow_insecure: bool = False,
    ) -> None:
        self.api_url = check_url(api_url, name="api_url", allow_insecure=allow_insecure).base
        self.allow_insecure = allow_insecure
        self.api_version = _check_api_version(api_version)
        if not isinstance(username, str) or not username or not isinstance(password, str) or not password:
            raise ValueError("username and password are required")
        if not refresh_margin >= 0:
            raise ValueError("refresh_margin must not be negative")
        self.username = username
        self._password = password
        self._transport: Transport = transport or UrllibTransport()
        self._clock = clock
        self.timeout = check_timeout(timeout)
        self.refresh_margin = float(refresh_margin)
        self._lock = threading.Lock()
        self._token: _Token | None = None
        self._seen_tokens: list[str] = []  # the last few tokens, redacted from any upstream text

    def __repr__(self) -> str:
        return (
            f"SportsbookClient(api_url={self.api_url!r}, api_version={self.api_version!r}, username={self.username!r})"
        )

    # the API ----------------------------------------------------------------------------------------

    def start_session(self, user_id: str, currency: str, lang: str | None = None) -> str:
        """The iframe URL of a new sportsbook session for our player ``user_id``."""
        body: dict[str, str] = {
            "user_id": check_text("user_id", user_id, MAX_USER_ID_LENGTH),
            "currency": check_currency(currency),
        }
        if lang is not None:
            body["lang"] = _check_lang(lang)
        raw = dumps_json(body)
        deadline = time.monotonic() + self.timeout
        token = self._bearer(deadline)
        response = self._send("start-session", raw, deadline, bearer=token)
        if response.status == 401:
            # revoked or expired early: one fresh token (shared with any caller that saw the same 401), once
            token = self._bearer(deadline, stale=token)
            response = self._send("start-session", raw, deadline, bearer=token)
            if response.status == 401:
                self._forget(token)
                raise self._error(
                    "sportsbook start-session answered HTTP 401 again with a freshly issued token",
                    Reason.UNAUTHORIZED,
                    response,
                )
        if not response.ok:
            raise self._error(
                f"sportsbook start-session answered HTTP {response.status}", Reason.PROVIDER_STATUS, response
            )
        answer = self._object("start-session", response)
        url = answer.get("url")
        if not fit_to_hand_on(url, allow_insecure=self.allow_insecure):
            raise SportsbookApiError(
                "sportsbook start-session answered without a usable url (an absolute https URL, http only on loopback)",
                reason=Reason.BAD_ANSWER,
                upstream_status=response.status,
            )
        return url

    def invalidate(self) -> None:
        """Drop the cached token: the next call authenticates again."""
        with self._lock:
            self._token = None

    # the token --------------------------------------------------------------------------------------

    def _bearer(self, deadline: float, *, stale: str | None = None) -> str:
        """A token valid now. ``stale`` is a token the sportsbook just refused: it is never handed out again,
        but a newer one fetched meanwhile by another caller is."""
        if not self._lock.acquire(timeout=max(deadline - time.monotonic(), 0.001)):
            raise SportsbookApiError(
                f"sportsbook auth timed out after {self.timeout:g} s (waiting for a token refresh)",
                reason=Reason.TIMEOUT,
            )
        try:
            cached = self._token
            if cached is not None and cached.value != stale and self._clock() < cached.refresh_at:
                return cached.value
            self._token = None
            token = self._authenticate(deadline)
            self._token = token
            return token.value
        finally:
            self._lock.release()

    def _forget(self, token: str) -> None:
        with self._lock:
            if self._token is not None and self._token.value == token:
                self._token = None

    def _authenticate(self, deadline: float) -> _Token:
        issued_at = self._clock()  # before sending: the time on the wire does not lengthen the token's life
        raw = dumps_json({"username": self.username, "password": self._password})
        response = self._send("auth", raw, deadline)
        if response.status in (401, 403):
            raise self._error(
                f"sportsbook refused our client credentials (auth answered HTTP {response.status})",
                Reason.AUTH_REFUSED,
                response,
            )
        if not response.ok:
            raise self._error(f"sportsbook auth answered HTTP {response.status}", Reason.PROVIDER_STATUS, response)
        answer = self._object("auth", response)
        token = answer.get("token")
        if not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN_LENGTH or not _TOKEN.fullmatch(token):
            raise SportsbookApiError(
                "sportsbook auth answered without a usable token", reason=Reason.BAD_ANSWER, upstream_status=200
            )
        self._seen_tokens = [*self._seen_tokens[-3:], token]
        lifetime = parse_expires_in(answer.get("expires_in"))
        if lifetime is None:
            raise SportsbookApiError(
                "sportsbook auth answered an unusable expires_in (a whole number of seconds, 1 to one year)",
                reason=Reason.BAD_ANSWER,
                upstream_status=response.status,
            )
        # refresh `refresh_margin` before expiry, but keep a short-lived token for half its life at least
        keep_for = max(lifetime - self.refresh_margin, lifetime / 2)
        return _Token(token, issued_at + keep_for)

    # the wire ---------------------------------------------------------------------------------------

    def _send(self, operation: str, body: bytes, deadline: float, *, bearer: str | None = None) -> HttpResponse:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise SportsbookApiError(
                f"sportsbook {operation} timed out: the {self.timeout:g} s budget was spent", reason=Reason.TIMEOUT
            )
        headers = {
            "Accept": "application/json",
            "Content-Type": "application/json",
            "User-Agent": f"croupier/{__version__}",
        }
        if bearer is not None:
            headers["Authorization"] = f"Bearer {bearer}"
        url = f"{self.api_url}/{self.api_version}/{operation}"
        try:
            return self._transport.send("POST", url, headers, body, remaining)
        except TransportError as error:
            if error.timed_out:
                hint = " (the session may have been started)" if operation == "start-session" else ""
                raise SportsbookApiError(
                    f"sportsbook {operation} timed out after {self.timeout:g} s{hint}", reason=Reason.TIMEOUT
                ) from error
            raise SportsbookApiError(
                f"sportsbook {operation} could not be reached: {self._scrub(error.message)}",
                reason=Reason.UNREACHABLE,
            ) from error

    def _object(self, operation: str, response: HttpResponse) -> dict[str, Any]:
        try:
            answer = response.json()
        except (ValueError, UnicodeDecodeError, RecursionError):
            answer = None
        if not isinstance(answer, dict):
            raise SportsbookApiError(
                f"sportsbook {operation} answered a body that is not a JSON object",
                reason=Reason.BAD_ANSWER,
                upstream_status=response.status,
            )
        return answer

    def _error(self, summary: str, reason: Reason, response: HttpResponse) -> SportsbookApiError:
        code: str | None = None
        try:
            data = response.json()
        except (ValueError, UnicodeDecodeError, RecursionError):
            data = None
        if isinstance(data, dict):
            raw_code = data.get("error", data.get("code"))
            raw_text = data.get("message", data.get("detail"))
            if isinstance(raw_code, str | int) and not isinstance(raw_code, bool):
                code = self._scrub(raw_code)
                summary += f" {code}"
            if isinstance(raw_text, str) and raw_text.strip():
                summary += f": {self._scrub(raw_text)}"
        return SportsbookApiError(summary, reason=reason, upstream_status=response.status, upstream_code=code)

    def _scrub(self, value: object) -> str:
        """Upstream text, one line, bounded, and never holding our password or a token even if echoed."""
        text = " ".join(str(value).split())
        for secret in (self._password, *self._seen_tokens):
            text = text.replace(secret, "<redacted>")
        return text[:_MAX_ERROR_TEXT]


# --- helpers ---------------------------------------------------------------------------------------


def parse_expires_in(value: object) -> int | None:
    """A token lifetime in whole seconds from ``"3600"`` or ``3600``; ``None`` for anything else (empty,
    negative, zero, fractions, booleans, more than a year)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        if not _SECONDS.fullmatch(value.strip()):
            return None
        value = int(value.strip())
    if not isinstance(value, int) or not 0 < value <= MAX_EXPIRES_IN_SECONDS:
        return None
    return value


def _check_api_version(api_version: str) -> str:
    version = api_version.strip().strip("/") if isinstance(api_version, str) else ""
    if not _VERSION.fullmatch(version):
        raise ValueError("api_version must be a path segment such as v1")
    return version


def _check_lang(lang: object) -> str:
    if not isinstance(lang, str) or not _LANG.fullmatch(lang):
        raise BadRequest("lang must be a language code such as en or en-GB")
    return lang
