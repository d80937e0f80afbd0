"""Client of an operator's wallet (providers.md section 5), Croupier being the RGS: bet, win and refund.

``POST {wallet_callback_url}/bet|win|refund`` with ``{"operator_tx_id", "operator_player_id", "session_id",
"round_id", "currency", "amount_minor"}`` (and, for a win, ``"multiplier"`` as a decimal string such as
``"2.35"``) as compact JSON, signed with the RGS v1 scheme (section 1) over the exact path (any path prefix of
``wallet_callback_url`` included) and body bytes that are sent. The upstream spec's ``X-Operator-Hmac``
header (the raw secret on the wire) is never sent.

A wallet call moves the player's money at the operator, so its result is a classification the caller acts
on, never an exception (:class:`WalletAnswer`):

* ``ok``: HTTP 200 with ``{"ok": true, "balance_minor": <integer>}``. The call took effect (a replay of
  the same ``operator_tx_id`` answers the original answer without a second effect).
* ``refused``: a 4xx answer. The operator said no (insufficient funds, unknown player, the same
  ``operator_tx_id`` with other content, our signature) and nothing happened: a refused bet voids the round.
* ``unclear``: no answer (timeout, connection failure), a 5xx or any other status, or a 200 that is not a
  valid ok answer. The call may or may not have taken effect: the caller refunds a bet, and sends a win or
  a refund again, with the same ``operator_tx_id``, until it is ok or refused.

The client never retries by itself (the caller owns that decision and its pacing). A :class:`WalletCall` is
validated when it is made and again against its route, so an invalid call raises
:class:`~croupier.errors.BadRequest` before anything is sent. The HMAC secret is never in a repr, a detail
or an error, even when the operator echoes it back.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

from croupier import __version__
from croupier.clients.http import (
    HttpResponse,
    Transport,
    TransportError,
    UrllibTransport,
    check_currency,
    check_rgs_caller,
    check_text,
    check_timeout,
    dumps_json,
)
from croupier.errors import BadRequest, CroupierError
from croupier.jsonbody import parse_object
from croupier.network import check_url
from croupier.signing import Clock, rgs

DEFAULT_TIMEOUT_SECONDS = 5.0
MAX_ID_LENGTH = 128
MAX_PLAYER_ID_LENGTH = 64
MAX_AMOUNT_MINOR = 10**20
MAX_BALANCE_MINOR = 10**20
MAX_ANSWER_BYTES = 64 * 1024
"""An answer larger than this is not a wallet answer (``unclear`` for a 200)."""

Route = Literal["bet", "win", "refund"]

_MULTIPLIER = re.compile(r"(?:0|[1-9][0-9]{0,9})(?:\.[0-9]{1,8})?")
_MAX_ERROR_TEXT = 200


class AnswerKind(StrEnum):
    """What the operator's answer means for the caller (equal to the strings ``"ok"``, ``"refused"``,
    ``"unclear"``)."""

    OK = "ok"
    """The call took effect."""
    REFUSED = "refused"
    """The operator said no (a 4xx): nothing happened."""
    UNCLEAR = "unclear"
    """The call may or may not have taken effect: refund a bet; send a win or refund again."""


@dataclass(frozen=True, slots=True)
class WalletCall:
    """One wallet call. ``operator_tx_id`` is the operator's idempotency key (e.g. ``bet-<round_id>``);
    ``multiplier`` (a decimal string such as ``"2.35"``) goes with a win only. Validated when made:
    an invalid call raises :class:`~croupier.errors.BadRequest`."""

    operator_tx_id: str
    operator_player_id: str
    session_id: str
    round_id: str
    currency: str
    amount_minor: int
    multiplier: str | None = None

    def __post_init__(self) -> None:
        check_text("operator_tx_id", self.operator_tx_id, MAX_ID_LENGTH)
        check_text("operator_player_id", self.operator_player_id, MAX_PLAYER_ID_LENGTH)
        check_text("session_id", self.session_id, MAX_ID_LENGTH)
        check_text("round_id", self.round_id, MAX_ID_LENGTH)
        check_currency(self.currency)
        if isinstance(self.amount_minor, bool) or not isinstance(self.amount_minor, int):
            raise BadRequest("amount_minor must be an integer count of minor units")
        if not 0 <= self.amount_minor <= MAX_AMOUNT_MINOR:
            raise BadRequest(f"amount_minor must be from 0 to {MAX_AMOUNT_MINOR}")
        if self.multiplier is not None and (
            not isinstance(self.multiplier, str) or not _MULTIPLIER.fullmatch(self.multiplier)
        ):
            raise BadRequest('multiplier must be a decimal string such as "2.35"')

    def body(self) -> dict[str, Any]:
        """The JSON body, fields in the documented order; ``multiplier`` only when there is one."""
        body: dict[str, Any] = {
            "operator_tx_id": self.operator_tx_id,
            "operator_player_id": self.operator_player_id,
            "session_id": self.session_id,
            "round_id": self.round_id,
            "currency": self.currency,
            "amount_minor": self.amount_minor,
        }
        if self.multiplier is not None:
            body["multiplier"] = self.multiplier
        return body


@dataclass(frozen=True, slots=True)
class WalletAnswer:
    """The classified answer of one wallet call. ``detail`` is one line, safe to log."""

    kind: AnswerKind
    route: Route
    operator_tx_id: str
    status: int | None = None
    """The HTTP status, when the operator answered at all."""
    balance_minor: int | None = None
    """The player's balance after the call (``ok`` only)."""
    code: str | None = None
    """The operator's error code (``error`` or ``code`` of its body), when it sent one."""
    detail: str = ""
    timed_out: bool = False
    """No answer within the timeout: the request may have reached the operator."""

    @property
    def ok(self) -> bool:
        return self.kind is AnswerKind.OK

    @property
    def refused(self) -> bool:
        return self.kind is AnswerKind.REFUSED

    @property
    def unclear(self) -> bool:
        return self.kind is AnswerKind.UNCLEAR


class OperatorWalletClient:
    """Signed bet, win and refund calls to one operator's wallet. Thread-safe: no per-request state."""

    def __init__(
        self,
        wallet_callback_url: str,
        operator_id: str,
        api_key: str,
        hmac_secret: str,
        *,
        transport: Transport | None = None,
        clock: Clock = time.time,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        allow_insecure: bool = False,
    ) -> None:
        base = check_url(wallet_callback_url, name="wallet_callback_url", allow_insecure=allow_insecure)
        self._origin, self._base_path = base.origin, base.path
        self.operator_id, self.api_key, self._hmac_secret = check_rgs_caller(operator_id, api_key, hmac_secret)
        self.timeout = check_timeout(timeout)
        self.wallet_callback_url = self._origin + self._base_path
        self._transport: Transport = transport or UrllibTransport(max_response_bytes=MAX_ANSWER_BYTES)
        self._clock = clock

    def __repr__(self) -> str:
        return (
            f"OperatorWalletClient(wallet_callback_url={self.wallet_callback_url!r}, "
            f"operator_id={self.operator_id!r}, api_key={self.api_key!r})"
        )

    def bet(self, call: WalletCall, *, timeout: float | None = None) -> WalletAnswer:
        """Take the stake. ``refused``: the round is void. ``unclear``: refund the round."""
        return self._call("bet", call, timeout)

    def win(self, call: WalletCall, *, timeout: float | None = None) -> WalletAnswer:
        """Pay a win. ``unclear``: send it again with the same ``operator_tx_id``."""
        return self._call("win", call, timeout)

    def refund(self, call: WalletCall, *, timeout: float | None = None) -> WalletAnswer:
        """Reverse the round's bet (the operator finds it by ``round_id``). ``unclear``: send it again."""
        return self._call("refund", call, timeout)

    # --- one call ----------------------------------------------------------------------------------

    def _call(self, route: Route, call: WalletCall, timeout: float | None = None) -> WalletAnswer:
        """One call, waiting at most the client's timeout, or ``timeout`` (the caller's budget) when shorter."""
        wait = self.timeout if timeout is None else min(self.timeout, check_timeout(timeout))
        if not isinstance(call, WalletCall):
            raise BadRequest("a wallet call is a WalletCall")
        if call.multiplier is not None and route != "win":
            raise BadRequest(f"multiplier goes with a win only, not with a {route}")
        raw = dumps_json(call.body())
        path = f"{self._base_path}/{route}"
        headers = {
            "Accept": "application/json",
            "Content-Type": "application/json",
            "User-Agent": f"croupier/{__version__}",
            # signed over the very bytes and path sent below; no X-Operator-Hmac, ever
            **rgs.headers(self.operator_id, self.api_key, self._hmac_secret, "POST", path, raw, clock=self._clock),
        }
        try:
            response = self._transport.send("POST", self._origin + path, headers, raw, wait)
        except TransportError as error:  # no answer: it may or may not have reached the operator
            if error.timed_out:
                detail = f"{route}: no answer within {wait:g} s (it may have taken effect)"
                return self._answer(AnswerKind.UNCLEAR, route, call, detail=detail, timed_out=True)
            detail = f"{route}: the wallet could not be reached: {self._scrub(error.message)}"
            return self._answer(AnswerKind.UNCLEAR, route, call, detail=detail)
        return self._classify(route, call, response)

    def _classify(self, route: Route, call: WalletCall, response: HttpResponse) -> WalletAnswer:
        status = response.status
        if status != 200:
            code, text = self._error_fields(response.body)
            said = (f" {code}" if code else "") + (f": {text}" if text else "")
            if 400 <= status < 500:
                detail = f"{route}: the operator refused it with HTTP {status}{said}"
                return self._answer(AnswerKind.REFUSED, route, call, status=status, code=code, detail=detail)
            detail = f"{route}: the wallet answered HTTP {status}{said} (it may have taken effect)"
            return self._answer(AnswerKind.UNCLEAR, route, call, status=status, code=code, detail=detail)
        balance, problem = _ok_balance(response.body)
        if balance is None:
            detail = f"{route}: the wallet answered HTTP 200 with {problem} (it may have taken effect)"
            return self._answer(AnswerKind.UNCLEAR, route, call, status=status, detail=detail)
        detail = f"{route}: ok, balance_minor {balance}"
        return self._answer(AnswerKind.OK, route, call, status=status, balance_minor=balance, detail=detail)

    def _answer(self, kind: AnswerKind, route: Route, call: WalletCall, **fields: Any) -> WalletAnswer:
        return WalletAnswer(kind, route, call.operator_tx_id, **fields)

    def _error_fields(self, body: bytes) -> tuple[str | None, str | None]:
        """The operator's error code and message, scrubbed, from ``{"error"|"code", "message"|"detail"}``."""
        try:
            data = parse_object(body, max_bytes=MAX_ANSWER_BYTES)
        except CroupierError:
            return None, None
        raw_code = data.get("error", data.get("code"))
        raw_text = data.get("message", data.get("detail"))
        code = self._scrub(raw_code) if isinstance(raw_code, str | int) and not isinstance(raw_code, bool) else None
        text = self._scrub(raw_text) if isinstance(raw_text, str) and raw_text.strip() else None
        return code or None, text

    def _scrub(self, value: object) -> str:
        """Upstream text, one line, bounded, and never holding our secret even if the operator echoed it."""
        text = " ".join(str(value).split())
        return text.replace(self._hmac_secret, "<redacted>")[:_MAX_ERROR_TEXT]


# --- helpers ---------------------------------------------------------------------------------------


def _ok_balance(body: bytes) -> tuple[int | None, str]:
    """The balance of a valid ok answer, or ``None`` and what was wrong with the body."""
    try:
        data = parse_object(body, max_bytes=MAX_ANSWER_BYTES)
    except CroupierError:
        return None, "a body that is not a JSON object"
    if data.get("ok") is not True:
        return None, 'a body without "ok": true'
    balance = data.get("balance_minor")
    if isinstance(balance, bool) or not isinstance(balance, int):
        return None, "no integer balance_minor"
    if not -MAX_BALANCE_MINOR <= balance <= MAX_BALANCE_MINOR:
        return None, "a balance_minor out of range"
    return balance, ""
