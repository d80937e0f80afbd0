"""The RGS wallet adapter (providers.md section 5): an external RGS calls ``/rgs-wallet/bet|win|refund``.

Requests are verified with the RGS v1 scheme against the operator credentials configured for that RGS
(``rgs-wallet/operators/<operator_id>``: ``api_key`` and ``hmac_secrets``, newest first, more than one
while a rotation overlaps; optional ``max_win_multiplier``, 2000 by default), ±300 s. The scheme signs the
method and the path, so a request signed for one route is refused on another. Idempotent on
``operator_tx_id``.

A bet is entered under its player and round (``bet:<operator_player_id>/<round_id>``: one bet per player per
round, many players per round), and holds its ``operator_tx_id`` with a marker at ``tx:<operator_tx_id>`` in
the same transaction, where wins and refunds are entered: one operator_tx_id is one transaction whatever the
route. A bet backs the wins of its round up to its stake x ``max_win_multiplier``: a win must name a bet of
the same operator, player, currency and round that was not refunded (else 404 ``BET_NOT_FOUND`` or 409
``BET_SETTLED``), and the wins of one bet together never pass that bound (409 ``WIN_ABOVE_LIMIT``), decided
inside the win's own transaction. A bet that was paid a win is not refunded (409 ``BET_SETTLED``). A refund of
an unknown bet moves no money and leaves a tombstone at the bet's key, so a late bet is declined and a win
for it refused. Bet-less (promotional) wins are not accepted.

Answers: ``200 {"ok": true, "balance_minor": <after>}``; errors ``{"ok": false, "error", "message"}``
with 400, 401, 402, 404, 409, 413 or 503. ``balance_minor`` is the balance in the currency's minor units,
rounded down when a provider with finer amounts (Ruby's hundredths of a KRW) left a fraction: never more
than the player has.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, WithJsonSchema
from typing_extensions import TypedDict

from croupier import money
from croupier.checks import signature_refused, validated
from croupier.errors import PayloadTooLarge
from croupier.jsonbody import MAX_BODY_BYTES, parse_object
from croupier.ledger import AccountKey, Kind, Ledger, Movement, Outcome, Reversal
from croupier.network import SourceAllowList
from croupier.observability import count_movement
from croupier.secrets import CachedSecrets
from croupier.signing import Clock, RawRequest, rgs
from croupier.signing._core import system_clock

Id = Annotated[StrictStr, Field(min_length=1, max_length=128, pattern=r"^[^\x00-\x1f\x7f-\x9f\u2028\u2029]+$")]
PlayerId = Annotated[StrictStr, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
Currency = Annotated[StrictStr, Field(pattern=r"^[A-Z]{3}$")]
MinorUnits = Annotated[StrictInt, Field(ge=0)]


class WalletCall(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    operator_tx_id: Id
    operator_player_id: PlayerId
    session_id: Id
    round_id: Id
    currency: Currency
    amount_minor: MinorUnits

    def meta(self) -> dict[str, str]:
        return {"operator_tx_id": self.operator_tx_id, "round_id": self.round_id, "session_id": self.session_id}


class WinCall(WalletCall):
    multiplier: Annotated[Any, Field(default=None), WithJsonSchema({"description": "informative; any JSON value"})]


class WalletAnswer(TypedDict):
    ok: Literal[True]
    balance_minor: Annotated[int, Field(description="the balance in minor units, rounded down")]


DEFAULT_MAX_WIN_MULTIPLIER = 2000
"""A bet backs wins up to its stake times this, unless the operator's configuration says otherwise."""


def bet_key(operator_player_id: str, round_id: str) -> str:
    """A player's bet in a round: found by player and round, so that a win or a refund (which name both) finds
    it. Player ids have no ``/``, so the key is unambiguous whatever the round id holds."""
    return f"bet:{operator_player_id}/{round_id}"


def tx_key(operator_tx_id: str) -> str:
    """The key of the operator's idempotency key: held by the win or refund itself, or by a bet's marker, so
    that one operator_tx_id is one transaction whatever its route."""
    return f"tx:{operator_tx_id}"


class RgsWallet:
    def __init__(
        self,
        ledger: Ledger,
        secrets: CachedSecrets,
        *,
        clock: Clock = system_clock,
        sources: SourceAllowList | None = None,
    ) -> None:
        self.ledger = ledger
        self.secrets = secrets
        self.clock = clock
        self.sources = sources

    def _config(self, operator_id: str) -> dict[str, Any] | None:
        config = self.secrets.get(f"rgs-wallet/operators/{operator_id}")
        return config if isinstance(config, dict) else None

    def _secrets_for(self, operator_id: str, api_key: str) -> list[str]:
        config = self._config(operator_id)
        if not config or config.get("api_key") != api_key:
            return []
        return [s for s in config.get("hmac_secrets", []) if isinstance(s, str) and s]

    def _authenticate(self, request: RawRequest) -> tuple[str, dict[str, Any]]:
        if len(request.body) > MAX_BODY_BYTES:
            raise PayloadTooLarge(f"body is larger than {MAX_BODY_BYTES} bytes")
        if self.sources is not None:
            self.sources.check(request.source_ip)  # 403 before any operator's secret is read
        verdict = rgs.verify(request, self._secrets_for, clock=self.clock)
        if not verdict.ok or verdict.key_id is None:
            raise signature_refused(verdict, "UNKNOWN_OPERATOR")
        return verdict.key_id, parse_object(request.body)

    def max_win_multiplier(self, operator_id: str) -> int:
        """The operator's ``max_win_multiplier`` (a positive integer), 2000 when it does not say. A configured
        value that is not one fails loudly rather than lifting the bound."""
        value = (self._config(operator_id) or {}).get("max_win_multiplier", DEFAULT_MAX_WIN_MULTIPLIER)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"rgs-wallet/operators/{operator_id}: max_win_multiplier must be a positive integer")
        return value

    def bet(self, request: RawRequest) -> WalletAnswer:
        operator_id, data = self._authenticate(request)
        call = validated(WalletCall, data)
        amount = money.from_minor_units(call.amount_minor, call.currency)
        movement = Movement(
            _provider(operator_id),
            bet_key(call.operator_player_id, call.round_id),
            AccountKey(call.operator_player_id, call.currency),
            Kind.DEBIT,
            amount,
            meta=call.meta(),
            reference=call.operator_tx_id,
            alias=tx_key(call.operator_tx_id),
            backs=amount * self.max_win_multiplier(operator_id),
        )
        return _answer(self.ledger.move(movement), call.currency)

    def win(self, request: RawRequest) -> WalletAnswer:
        operator_id, data = self._authenticate(request)
        call = validated(WinCall, data)
        meta = call.meta()
        if call.multiplier is not None:
            meta["multiplier"] = json.dumps(call.multiplier, default=str)[:32]
        movement = Movement(
            _provider(operator_id),
            tx_key(call.operator_tx_id),
            AccountKey(call.operator_player_id, call.currency),
            Kind.CREDIT,
            money.from_minor_units(call.amount_minor, call.currency),
            meta=meta,
            backed_by=bet_key(call.operator_player_id, call.round_id),
        )
        return _answer(self.ledger.move(movement), call.currency)

    def refund(self, request: RawRequest) -> WalletAnswer:
        operator_id, data = self._authenticate(request)
        call = validated(WalletCall, data)
        reversal = Reversal(
            _provider(operator_id),
            tx_key(call.operator_tx_id),
            bet_key(call.operator_player_id, call.round_id),
            AccountKey(call.operator_player_id, call.currency),
            amount=money.from_minor_units(call.amount_minor, call.currency),
            meta=call.meta(),
        )
        return _answer(self.ledger.reverse(reversal), call.currency)


def _provider(operator_id: str) -> str:
    return f"rgs:{operator_id}"


def balance_minor(units: int, currency: str) -> int:
    """The balance in minor units, rounded down (never more than the player has)."""
    factor: int = 10 ** (money.SCALE - money.exponent(currency))
    return units // factor


def _answer(outcome: Outcome, currency: str) -> WalletAnswer:
    count_movement(outcome.replayed)
    return {"ok": True, "balance_minor": balance_minor(outcome.balance_after, currency)}
