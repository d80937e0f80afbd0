"""A fake operator wallet (providers.md section 5) on a real socket: what an RGS calls for bet, win, refund.

``POST {prefix}/bet|win|refund``. Every request is verified with :func:`croupier.signing.rgs.verify` over
the raw path and body bytes it received (401 when they do not verify); a request carrying
``X-Operator-Hmac`` (the raw secret on the wire) is refused with 401 and counted in
``operator_hmac_seen``. ``requests`` records every request as received.

The wallet keeps balances in minor units per player and currency (``fund``, ``balance``) and is
idempotent on ``operator_tx_id``: every request that reached the wallet is handled once, and the same
``operator_tx_id`` again answers **the original answer** (status and body, even if the balance moved
since) with no second effect; the same id with other content, or on another route, answers 409
``IDEMPOTENCY_CONFLICT`` and changes nothing. ``entries`` lists every movement applied.

* bet: debits; 402 ``INSUFFICIENT_FUNDS`` above the balance; one bet per round (409 ``ROUND_HAS_BET``),
  none after the round was refunded (409 ``ALREADY_REFUNDED``).
* win: credits (``multiplier``, optional, must be a decimal string).
* refund: reverses the round's bet, found by ``round_id``: gives its amount back (409
  ``REFUND_MISMATCH`` when the player, currency or amount differ; 409 ``ALREADY_REFUNDED`` for a second
  refund). A refund of a round without a bet leaves a tombstone, changes nothing and answers ok.
* unknown player (no account in that currency) 404 ``UNKNOWN_PLAYER``; invalid bodies 400
  ``INVALID_REQUEST``; error bodies are ``{"ok": false, "error", "message"}``; success
  ``{"ok": true, "balance_minor": <after>}``.

Scripts act on the next ``n`` **verified** requests, in the order they were queued, instead of (or on top
of) the wallet: ``refuse_next`` (a 4xx, no effect), ``fail_next`` (a 5xx or any status, no effect),
``hang_next`` (sleep past the client's timeout; with ``applied=True`` the effect is applied first, so the
answer is lost but the money moved), ``garble_next`` (200 with a malformed body; the effect is applied
unless ``applied=False``). A hang ends early when the server stops.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from croupier.errors import CroupierError
from croupier.jsonbody import parse_object
from croupier.signing import Clock, Failure, Headers, RawRequest, Verdict, rgs
from tests.fakes.ruby_server import Answer, HttpError, ReceivedRequest
from tests.fakes.sportsbook_server import QuickStoppingServer

OPERATOR_ID = "6f1d2c3b-4a59-4e68-8d7c-0b1a2c3d4e5f"
API_KEY = "test-wallet-operator-key"
HMAC_SECRET = "test-wallet-hmac-secret-never-printed"
OPERATOR_HMAC_HEADER = "X-Operator-Hmac"
ROUTES = ("bet", "win", "refund")
FIELDS = frozenset({"operator_tx_id", "operator_player_id", "session_id", "round_id", "currency", "amount_minor"})

_CURRENCY = re.compile(r"[A-Z]{3}")
_MULTIPLIER = re.compile(r"(?:0|[1-9][0-9]*)(?:\.[0-9]+)?")


@dataclass(frozen=True, slots=True)
class Transaction:
    """A request the wallet handled: its route, its body as parsed, and the answer it got."""

    route: str
    content: dict[str, Any]
    answer: Answer


@dataclass(frozen=True, slots=True)
class Entry:
    """One money movement the wallet applied."""

    route: str
    operator_tx_id: str
    player: str
    currency: str
    delta_minor: int
    balance_after: int


@dataclass(frozen=True, slots=True)
class _Script:
    action: Literal["refuse", "fail", "hang", "garble"]
    status: int = 200
    code: str = ""
    seconds: float = 0.0
    applied: bool = False
    body: bytes | None = None


def error_body(code: str, message: str) -> dict[str, Any]:
    return {"ok": False, "error": code, "message": message}


class FakeOperatorWallet(QuickStoppingServer):
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
        self.balances: dict[tuple[str, str], int] = {}
        self.transactions: dict[str, Transaction] = {}
        self.bets: dict[str, str] = {}
        """round_id → the operator_tx_id of its bet."""
        self.refunded_rounds: set[str] = set()
        self.entries: list[Entry] = []
        self.operator_hmac_seen = 0
        self._scripts: list[_Script] = []
        self._released = threading.Event()

    # accounts ----------------------------------------------------------------------------------

    def fund(self, player: str, amount_minor: int, currency: str = "KRW") -> None:
        """Open the player's account in ``currency`` if needed and add ``amount_minor`` to it."""
        with self._lock:
            key = (player, currency)
            self.balances[key] = self.balances.get(key, 0) + amount_minor

    def balance(self, player: str, currency: str = "KRW") -> int:
        with self._lock:
            return self.balances[(player, currency)]

    def calls(self, route: str) -> list[ReceivedRequest]:
        """The requests received on ``route`` (``bet``, ``win`` or ``refund``), verified or not."""
        return self.requests_to(f"{self.prefix}/{route}")

    # scripts -----------------------------------------------------------------------------------

    def refuse_next(self, n: int, status: int, code: str) -> None:
        """The next ``n`` verified requests answer this 4xx with ``code``, without any effect."""
        if not 400 <= status < 500:
            raise ValueError("a refusal is a 4xx")
        self._queue(n, _Script("refuse", status=status, code=code))

    def fail_next(self, n: int = 1, status: int = 503) -> None:  # type: ignore[override]
        """The next ``n`` verified requests answer ``status`` (a 5xx by default), without any effect."""
        self._queue(n, _Script("fail", status=status, code="UNAVAILABLE" if status >= 500 else "SCRIPTED"))

    def hang_next(self, n: int, seconds: float, *, applied: bool = False) -> None:
        """The next ``n`` verified requests sleep ``seconds`` before answering. With ``applied`` the wallet
        handles them first (the money moves, the answer is lost); without, nothing happens (then 504)."""
        self._queue(n, _Script("hang", seconds=seconds, applied=applied))

    def garble_next(self, n: int, body: bytes | None = None, *, applied: bool = True) -> None:
        """The next ``n`` verified requests answer 200 with a malformed body: ``body``, or by default the
        real answer cut in half. With ``applied`` (the default) the wallet handles them first."""
        self._queue(n, _Script("garble", applied=applied, body=body))

    def slow_down(self, seconds: float, *, requests: int | None = None) -> None:
        raise NotImplementedError("use hang_next")

    def _queue(self, n: int, script: _Script) -> None:
        if n < 1:
            raise ValueError("n must be at least 1")
        with self._lock:
            self._scripts.extend([script] * n)

    def stop(self) -> None:
        self._released.set()  # hanging requests end now
        super().stop()

    # the request path --------------------------------------------------------------------------

    def authenticate(self, request: RawRequest) -> Verdict:
        if OPERATOR_HMAC_HEADER in request.headers:
            with self._lock:
                self.operator_hmac_seen += 1
            return Verdict.fail(Failure.MALFORMED, f"{OPERATOR_HMAC_HEADER} must never be sent")
        return rgs.verify(request, self._secrets_for, clock=self.clock)

    def _secrets_for(self, operator_id: str, api_key: str) -> Sequence[str]:
        if operator_id == self.operator_id.lower() and api_key == self.api_key:
            return [self.hmac_secret]
        return []

    def dispatch(self, method: str, path_with_query: str, headers: Headers, body: bytes) -> Answer:
        raw = RawRequest(method=method, path_with_query=path_with_query, headers=headers, body=body)
        verdict = self.authenticate(raw)
        received = ReceivedRequest(method, path_with_query, headers, body, verdict)
        with self._lock:
            self.requests.append(received)
            script = self._scripts.pop(0) if verdict.ok and self._scripts else None
        if not verdict.ok:
            return 401, error_body("UNAUTHORIZED", verdict.detail)
        if script is None:
            return self._handle(received)
        if script.action in ("refuse", "fail"):
            return script.status, error_body(script.code, "scripted answer")
        if script.action == "hang":
            answer = self._handle(received) if script.applied else (504, error_body("GATEWAY_TIMEOUT", "hung"))
            self._released.wait(script.seconds)
            return answer
        if script.applied:
            _status, payload = self._handle(received)
            real = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        else:
            real = b'{"ok": true, "balance_minor": 0}'
        return 200, script.body if script.body is not None else real[: len(real) // 2]

    def _handle(self, request: ReceivedRequest) -> Answer:
        try:
            return self.route(request)
        except HttpError as error:
            return error.status, error_body(error.code, error.message)

    def route(self, request: ReceivedRequest) -> Answer:
        route = request.path.removeprefix(self.prefix + "/") if request.path.startswith(self.prefix + "/") else ""
        if route not in ROUTES:
            raise HttpError(404, "NOT_FOUND", f"no route {request.method} {request.path}")
        if request.method != "POST":
            raise HttpError(405, "METHOD_NOT_ALLOWED", "POST only")
        if not request.headers.get("Content-Type", "").startswith("application/json"):
            raise HttpError(415, "UNSUPPORTED_MEDIA_TYPE", "send application/json")
        body = _valid_body(route, request.body)
        tx_id = body["operator_tx_id"]
        with self._lock:
            done = self.transactions.get(tx_id)
            if done is not None:
                if done.route == route and done.content == body:
                    return done.answer  # a replay: the original answer, no second effect
                raise HttpError(409, "IDEMPOTENCY_CONFLICT", "operator_tx_id already used with other content")
            try:
                answer = self._apply(route, body)
            except HttpError as error:
                answer = (error.status, error_body(error.code, error.message))
            self.transactions[tx_id] = Transaction(route, body, answer)
            return answer

    # the wallet (called under the lock) --------------------------------------------------------

    def _apply(self, route: str, body: dict[str, Any]) -> Answer:
        player, currency, amount = body["operator_player_id"], body["currency"], body["amount_minor"]
        round_id = body["round_id"]
        key = (player, currency)
        if key not in self.balances:
            raise HttpError(404, "UNKNOWN_PLAYER", "no such player in that currency")
        if route == "bet":
            if round_id in self.refunded_rounds:
                raise HttpError(409, "ALREADY_REFUNDED", "the round was refunded")
            if round_id in self.bets:
                raise HttpError(409, "ROUND_HAS_BET", "the round already has a bet")
            if self.balances[key] < amount:
                raise HttpError(402, "INSUFFICIENT_FUNDS", "the balance is lower than the bet")
            self.bets[round_id] = body["operator_tx_id"]
            return self._move(route, body, -amount)
        if route == "win":
            return self._move(route, body, amount)
        if round_id in self.refunded_rounds:
            raise HttpError(409, "ALREADY_REFUNDED", "the round was refunded already")
        bet_tx = self.bets.get(round_id)
        if bet_tx is None:  # a tombstone: a late bet for this round is declined
            self.refunded_rounds.add(round_id)
            return 200, {"ok": True, "balance_minor": self.balances[key]}
        bet = self.transactions[bet_tx].content
        if (bet["operator_player_id"], bet["currency"], bet["amount_minor"]) != (player, currency, amount):
            raise HttpError(409, "REFUND_MISMATCH", "the refund differs from the round's bet")
        self.refunded_rounds.add(round_id)
        return self._move(route, body, amount)

    def _move(self, route: str, body: dict[str, Any], delta: int) -> Answer:
        key = (body["operator_player_id"], body["currency"])
        self.balances[key] += delta
        after = self.balances[key]
        self.entries.append(Entry(route, body["operator_tx_id"], key[0], key[1], delta, after))
        return 200, {"ok": True, "balance_minor": after}


def _valid_body(route: str, raw: bytes) -> dict[str, Any]:
    try:
        body = parse_object(raw)
    except CroupierError as error:
        raise HttpError(400, "INVALID_REQUEST", error.message) from None
    allowed = FIELDS | {"multiplier"} if route == "win" else FIELDS
    if not FIELDS <= set(body) <= allowed:
        raise HttpError(400, "INVALID_REQUEST", f"fields: {sorted(FIELDS)}, and multiplier for a win")
    for name in FIELDS - {"amount_minor"}:
        if not isinstance(body[name], str) or not body[name]:
            raise HttpError(400, "INVALID_REQUEST", f"{name} must be a non-empty string")
    if not _CURRENCY.fullmatch(body["currency"]):
        raise HttpError(400, "INVALID_REQUEST", "currency")
    amount = body["amount_minor"]
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
        raise HttpError(400, "INVALID_REQUEST", "amount_minor must be a non-negative integer")
    multiplier = body.get("multiplier")
    if multiplier is not None and (not isinstance(multiplier, str) or not _MULTIPLIER.fullmatch(multiplier)):
        raise HttpError(400, "INVALID_REQUEST", "multiplier must be a decimal string")
    return body
