"""Client of an external RGS (providers.md section 5), Croupier being the operator: session launch.

``POST {base_url}/api/public/rgs/launch`` with ``{"operator_player_id", "currency", "balance_minor",
"ttl_seconds"}`` as compact JSON, signed with the RGS v1 scheme (section 1) over the exact path and body
bytes that are sent. The upstream spec's ``X-Operator-Hmac`` header (the raw secret on the wire) is never
sent. A launch creates a session at the RGS, so it is never retried: a timeout is reported as such (the
session may exist), and the caller decides.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from croupier import __version__
from croupier.clients.http import (
    CONTROL_CHARACTERS,
    HttpResponse,
    ProviderCallError,
    Transport,
    TransportError,
    UrllibTransport,
    check_currency,
    check_rgs_caller,
    check_text,
    check_timeout,
    dumps_json,
)
from croupier.errors import BadRequest
from croupier.network import check_url, fit_to_hand_on
from croupier.signing import Clock, rgs

LAUNCH_PATH = "/api/public/rgs/launch"
GAME_LANGUAGES = ("en", "ko")
"""The languages of Croupier's crash-game page (its launch's optional ``lang``)."""
DEFAULT_TIMEOUT_SECONDS = 10.0
MIN_TTL_SECONDS = 60
MAX_TTL_SECONDS = 86_400
MAX_PLAYER_ID_LENGTH = 64
MAX_SESSION_ID_LENGTH = 256
MAX_BALANCE_MINOR = 10**20

_MAX_ERROR_TEXT = 200


class Reason(StrEnum):
    """Why an RGS call failed; stable, machine-readable."""

    AUTH_REFUSED = "auth_refused"
    """The RGS refused our signature or operator credentials (401 or 403)."""
    PROVIDER_STATUS = "provider_status"
    BAD_ANSWER = "bad_answer"
    TIMEOUT = "timeout"
    UNREACHABLE = "unreachable"


class RgsApiError(ProviderCallError):
    """The RGS failed or answered something unusable. ``status`` stays 502; ``reason`` says why and
    ``upstream_status`` is the RGS's HTTP status when it answered."""

    code = "RGS_API_ERROR"


@dataclass(frozen=True, slots=True)
class RgsLaunch:
    """A launched session: the iframe URL to embed and when the session expires (UTC)."""

    session_id: str
    launch_url: str
    expires_at: datetime

    @property
    def expires_at_iso(self) -> str:
        """``expires_at`` as ISO-8601 with a ``Z`` (``2026-07-03T12:00:00Z``)."""
        return iso_z(self.expires_at)


class RgsClient:
    """Signed calls to an external RGS. Thread-safe: it holds no per-request state."""

    def __init__(
        self,
        base_url: str,
        operator_id: str,
        api_key: str,
        hmac_secret: str,
        *,
        transport: Transport | None = None,
        clock: Clock = time.time,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        allow_insecure: bool = False,
    ) -> None:
        base = check_url(base_url, name="base_url", allow_insecure=allow_insecure)
        self.base_url, self._base_path = base.origin, base.path
        self.allow_insecure = allow_insecure
        self.operator_id, self.api_key, self._hmac_secret = check_rgs_caller(operator_id, api_key, hmac_secret)
        self.timeout = check_timeout(timeout)
        self._transport: Transport = transport or UrllibTransport()
        self._clock = clock

    def __repr__(self) -> str:
        return f"RgsClient(base_url={self.base_url!r}, operator_id={self.operator_id!r}, api_key={self.api_key!r})"

    def launch(
        self, operator_player_id: str, currency: str, balance_minor: int, ttl_seconds: int, *, lang: str | None = None
    ) -> RgsLaunch:
        """Open a session for our player at the RGS; never retried (a launch creates a session). ``lang`` (``en``
        or ``ko``, Croupier's RGS's own field) is sent only when given, so the body is otherwise the spec's."""
        fields: dict[str, Any] = {
            "operator_player_id": check_text("operator_player_id", operator_player_id, MAX_PLAYER_ID_LENGTH),
            "currency": check_currency(currency),
            "balance_minor": _check_balance(balance_minor),
            "ttl_seconds": _check_ttl(ttl_seconds),
        }
        if lang is not None:
            if lang not in GAME_LANGUAGES:
                raise BadRequest(f"lang must be one of {', '.join(GAME_LANGUAGES)}")
            fields["lang"] = lang
        raw = dumps_json(fields)
        path = self._base_path + LAUNCH_PATH
        headers = {
            "Accept": "application/json",
            "Content-Type": "application/json",
            "User-Agent": f"croupier/{__version__}",
            # signed over the very bytes and path sent below; no X-Operator-Hmac, ever
            **rgs.headers(self.operator_id, self.api_key, self._hmac_secret, "POST", path, raw, clock=self._clock),
        }
        try:
            response = self._transport.send("POST", self.base_url + path, headers, raw, self.timeout)
        except TransportError as error:
            if error.timed_out:
                raise RgsApiError(
                    f"RGS launch timed out after {self.timeout:g} s (the session may have been created)",
                    reason=Reason.TIMEOUT,
                ) from error
            raise RgsApiError(
                f"RGS launch could not be reached: {self._scrub(error.message)}", reason=Reason.UNREACHABLE
            ) from error
        return self._launched(response)

    def _launched(self, response: HttpResponse) -> RgsLaunch:
        try:
            answer: Any = response.json()
        except (ValueError, UnicodeDecodeError, RecursionError):
            answer = None
        if not response.ok:
            raise self._error(response.status, answer)
        if not isinstance(answer, dict):
            raise self._bad_answer("a body that is not a JSON object", response.status)
        if answer.get("ok") is not True:
            raise self._bad_answer('a body without "ok": true', response.status)
        launch_url = answer.get("launch_url")
        if not fit_to_hand_on(launch_url, allow_insecure=self.allow_insecure):
            raise self._bad_answer(
                "no usable launch_url (an absolute https URL, http only on loopback)", response.status
            )
        session_id = answer.get("session_id")
        if (
            not isinstance(session_id, str)
            or not 0 < len(session_id) <= MAX_SESSION_ID_LENGTH
            or CONTROL_CHARACTERS.search(session_id)
        ):
            raise self._bad_answer("no usable session_id", response.status)
        expires_at = _parse_instant(answer.get("expires_at"))
        if expires_at is None:
            raise self._bad_answer("no usable expires_at (ISO-8601 with a time zone)", response.status)
        return RgsLaunch(session_id=session_id, launch_url=launch_url, expires_at=expires_at)

    def _bad_answer(self, what: str, status: int) -> RgsApiError:
        return RgsApiError(f"RGS launch answered {what}", reason=Reason.BAD_ANSWER, upstream_status=status)

    def _error(self, status: int, data: Any) -> RgsApiError:
        reason = Reason.AUTH_REFUSED if status in (401, 403) else Reason.PROVIDER_STATUS
        summary = f"RGS launch answered HTTP {status}"
        if reason is Reason.AUTH_REFUSED:
            summary = f"RGS refused our operator signature (launch answered HTTP {status})"
        code: str | None = None
        if isinstance(data, dict):
            raw_code = data.get("error", data.get("code"))
            raw_text = data.get("message", data.get("detail"))
            if isinstance(raw_code, str | int) and not isinstance(raw_code, bool):
                code = self._scrub(raw_code)
                summary += f" {code}"
            if isinstance(raw_text, str) and raw_text.strip():
                summary += f": {self._scrub(raw_text)}"
        return RgsApiError(summary, reason=reason, upstream_status=status, upstream_code=code)

    def _scrub(self, value: object) -> str:
        """Upstream text, one line, bounded, and never holding our secret even if the RGS echoed it."""
        text = " ".join(str(value).split())
        return text.replace(self._hmac_secret, "<redacted>")[:_MAX_ERROR_TEXT]


# --- helpers ---------------------------------------------------------------------------------------


def iso_z(instant: datetime) -> str:
    """An aware datetime as ISO-8601 UTC with a ``Z``; fractions of a second only when there are some."""
    text = instant.astimezone(UTC).isoformat(timespec="seconds" if instant.microsecond == 0 else "microseconds")
    return text.removesuffix("+00:00") + "Z"


def _parse_instant(value: object) -> datetime | None:
    if not isinstance(value, str) or not 0 < len(value) <= 64:
        return None
    try:
        instant = datetime.fromisoformat(value)
    except ValueError:
        return None
    if instant.tzinfo is None or instant.utcoffset() is None:
        return None  # a time without a zone is ambiguous: refused rather than guessed
    return instant.astimezone(UTC)


def _check_balance(balance_minor: object) -> int:
    if isinstance(balance_minor, bool) or not isinstance(balance_minor, int):
        raise BadRequest("balance_minor must be an integer count of minor units")
    if not 0 <= balance_minor <= MAX_BALANCE_MINOR:
        raise BadRequest(f"balance_minor must be from 0 to {MAX_BALANCE_MINOR}")
    return balance_minor


def _check_ttl(ttl_seconds: object) -> int:
    if isinstance(ttl_seconds, bool) or not isinstance(ttl_seconds, int):
        raise BadRequest("ttl_seconds must be an integer")
    if not MIN_TTL_SECONDS <= ttl_seconds <= MAX_TTL_SECONDS:
        raise BadRequest(f"ttl_seconds must be from {MIN_TTL_SECONDS} to {MAX_TTL_SECONDS}")
    return ttl_seconds
