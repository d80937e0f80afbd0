"""A fake external RGS (providers.md section 5) on a real socket: ``POST /api/public/rgs/launch``.

Every request is verified with :func:`croupier.signing.rgs.verify` over the raw path and body bytes it
received (401 when they do not verify). A request carrying ``X-Operator-Hmac`` (the raw secret on the
wire) is refused with 401 and counted in ``operator_hmac_seen``: Croupier must never send it. Launches
are kept in ``sessions``; ``requests`` records every request as received; ``fail_next`` and ``slow_down``
(from the base) make it fail or time out. ``prefix`` mounts the API under a path (a gateway in front).
"""

from __future__ import annotations

import re
import secrets
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from croupier.signing import Clock, Failure, RawRequest, Verdict, rgs
from tests.fakes.ruby_server import Answer, HttpError, ReceivedRequest
from tests.fakes.sportsbook_server import QuickStoppingServer

OPERATOR_ID = "0b9c7a6e-5d4f-4e3a-9b2c-1d0e9f8a7b6c"
API_KEY = "test-rgs-operator-key"
HMAC_SECRET = "test-rgs-hmac-secret-never-printed"
PLAY_HOST = "https://rgs.example"
LAUNCH_PATH = "/api/public/rgs/launch"
OPERATOR_HMAC_HEADER = "X-Operator-Hmac"

_CURRENCY = re.compile(r"[A-Z]{3}")


class FakeRgsServer(QuickStoppingServer):
    def __init__(
        self,
        operator_id: str = OPERATOR_ID,
        api_key: str = API_KEY,
        hmac_secret: str = HMAC_SECRET,
        *,
        prefix: str = "",
        clock: Clock = time.time,
    ) -> None:
        super().__init__()
        self.operator_id = operator_id
        self.api_key = api_key
        self.hmac_secret = hmac_secret
        self.prefix = prefix.rstrip("/")
        self.clock = clock
        self.sessions: dict[str, dict[str, Any]] = {}
        self.operator_hmac_seen = 0

    @property
    def launches(self) -> list[ReceivedRequest]:
        return self.requests_to(self.prefix + LAUNCH_PATH)

    def authenticate(self, request: RawRequest) -> Verdict | None:
        if OPERATOR_HMAC_HEADER in request.headers:
            with self._lock:
                self.operator_hmac_seen += 1
            return Verdict.fail(Failure.MALFORMED, f"{OPERATOR_HMAC_HEADER} must never be sent")
        return rgs.verify(request, self._secrets_for, clock=self.clock)

    def _secrets_for(self, operator_id: str, api_key: str) -> Sequence[str]:
        if operator_id == self.operator_id.lower() and api_key == self.api_key:
            return [self.hmac_secret]
        return []

    def route(self, request: ReceivedRequest) -> Answer:
        if request.method == "POST" and request.path == self.prefix + LAUNCH_PATH:
            if not request.headers.get("Content-Type", "").startswith("application/json"):
                raise HttpError(415, "UNSUPPORTED_MEDIA_TYPE", "send application/json")
            return self._launch(request)
        raise HttpError(404, "NOT_FOUND", f"no route {request.method} {request.path}")

    def _launch(self, request: ReceivedRequest) -> Answer:
        try:
            body = request.json()
        except ValueError:
            raise HttpError(400, "BAD_REQUEST", "body is not JSON") from None
        if not isinstance(body, dict) or set(body) - {"lang"} != {
            "operator_player_id",
            "currency",
            "balance_minor",
            "ttl_seconds",
        }:
            raise HttpError(400, "VALIDATION_ERROR", "exactly the four launch fields (and Croupier's optional lang)")
        if body.get("lang", "en") not in ("en", "ko"):
            raise HttpError(400, "VALIDATION_ERROR", "lang must be en or ko")
        player, currency = body["operator_player_id"], body["currency"]
        balance, ttl = body["balance_minor"], body["ttl_seconds"]
        if not isinstance(player, str) or not player:
            raise HttpError(400, "VALIDATION_ERROR", "operator_player_id")
        if not isinstance(currency, str) or not _CURRENCY.fullmatch(currency):
            raise HttpError(400, "VALIDATION_ERROR", "currency")
        if isinstance(balance, bool) or not isinstance(balance, int) or balance < 0:
            raise HttpError(400, "VALIDATION_ERROR", "balance_minor must be a non-negative integer")
        if isinstance(ttl, bool) or not isinstance(ttl, int) or ttl <= 0:
            raise HttpError(400, "VALIDATION_ERROR", "ttl_seconds must be a positive integer")
        session_id = str(uuid.uuid4())
        expires_at = datetime.fromtimestamp(int(self.clock()) + ttl, UTC).isoformat().replace("+00:00", "Z")
        launch_url = f"{PLAY_HOST}/play?session={secrets.token_urlsafe(16)}"
        with self._lock:
            self.sessions[session_id] = {**body, "expires_at": expires_at, "launch_url": launch_url}
        return 200, {"ok": True, "session_id": session_id, "launch_url": launch_url, "expires_at": expires_at}
