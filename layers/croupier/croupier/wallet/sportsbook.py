"""Sportsbook callbacks (providers.md section 4): ``transaction`` (bet withdraws, result deposits) and
``transaction-rollback``, signed with ``X-Security-Hash`` (or the provider's ``X-Securty-Hash``).

Every processed answer is HTTP 200 JSON: ``{"error": null, "transaction_id": "<ours>"}`` or
``{"error": "<CODE>"}``. Two answers are not "processed" and say so with their status, so the provider
sends the request again: ``503 {"error": "TEMPORARY_ERROR"}`` (nothing was written) and
``500 {"error": "INTERNAL_ERROR"}``. Our transaction id is derived from theirs, so every repeat gets the
same one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr, ValidationError, WithJsonSchema, model_validator
from typing_extensions import TypedDict

from croupier import money
from croupier.errors import CroupierError, PayloadTooLarge
from croupier.jsonbody import MAX_BODY_BYTES, InvalidJson, parse_object
from croupier.ledger import (
    AccountKey,
    IdempotencyConflict,
    InsufficientFunds,
    Kind,
    Ledger,
    Movement,
    NotReversible,
    Outcome,
    Reversal,
    ReversalAmountMismatch,
    ReversedBeforeArrival,
    UnknownAccount,
)
from croupier.ledger.protection import PlayerExcluded, ProtectionRefusal
from croupier.network import SourceAllowList, SourceNotAllowed
from croupier.observability import count, count_movement, logger
from croupier.secrets import CachedSecrets
from croupier.signing import RawRequest, sportsbook

PROVIDER = "sportsbook"
CONFIG_NAME = "sportsbook"
DEFAULT_FUNDS_CODE = "INSUFFICENT_FUNDS"  # the provider's own spelling
TxId = Annotated[StrictStr, Field(min_length=1, max_length=128, pattern=r"^[^\x00-\x1f\x7f-\x9f\u2028\u2029]+$")]
UserId = Annotated[StrictStr, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
Currency = Annotated[StrictStr, Field(pattern=r"^[A-Z]{3}$")]
JsonAmount = Annotated[
    Any,  # a JSON number, already a Decimal or int: croupier.money checks it exactly
    WithJsonSchema({"type": "number", "minimum": 0, "description": "a JSON decimal number, parsed exactly"}),
]

# The documented error codes (HTTP 200 unless said otherwise).
INVALID_HASH = "INVALID_HASH"
INVALID_REQUEST = "INVALID_REQUEST"
INVALID_AMOUNT = "INVALID_AMOUNT"
UNKNOWN_USER = "UNKNOWN_USER"
DUPLICATE_TRANSACTION = "DUPLICATE_TRANSACTION"
TRANSACTION_ROLLED_BACK = "TRANSACTION_ROLLED_BACK"
PLAYER_BLOCKED = "PLAYER_BLOCKED"
"""An excluded player's bet (a wager or loss limit: ``WAGER_LIMIT`` / ``LOSS_LIMIT``), answered HTTP 200."""
ROLLBACK_MISMATCH = "ROLLBACK_MISMATCH"
TEMPORARY_ERROR = "TEMPORARY_ERROR"  # HTTP 503
INTERNAL_ERROR = "INTERNAL_ERROR"  # HTTP 500


class TransactionRequest(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    transaction_id: TxId
    action: Literal["bet", "result"]
    user_id: UserId
    currency: Currency
    amount: JsonAmount


class RollbackRequest(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    transaction_id: TxId
    rollback_transaction_id: TxId
    action: Literal["rollback"]
    user_id: UserId
    currency: Currency
    amount: JsonAmount

    @model_validator(mode="after")
    def _not_itself(self) -> RollbackRequest:
        if self.transaction_id == self.rollback_transaction_id:
            raise ValueError("a rollback cannot roll itself back")
        return self


class Processed(TypedDict):
    error: None
    transaction_id: Annotated[str, Field(description="ours: the same for every repeat of their transaction")]


class Refused(TypedDict):
    error: str


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: Processed | Refused


def our_transaction_id(their_id: str) -> str:
    """Ours, unique per theirs and the same on every repeat (no storage needed to answer a replay)."""
    return "cr-" + hashlib.sha256(f"{PROVIDER}\x1f{their_id}".encode()).hexdigest()[:24]


def ok(their_id: str) -> Answer:
    return Answer(200, {"error": None, "transaction_id": our_transaction_id(their_id)})


def refused(code: str, status: int = 200) -> Answer:
    return Answer(status, {"error": code})


class SportsbookWallet:
    def __init__(self, ledger: Ledger, secrets: CachedSecrets, *, sources: SourceAllowList | None = None) -> None:
        self.ledger = ledger
        self.secrets = secrets
        self.sources = sources

    def _config(self) -> dict[str, Any]:
        return self.secrets.get(CONFIG_NAME) or {}

    def _authenticate(self, request: RawRequest) -> dict[str, Any] | Answer:
        if len(request.body) > MAX_BODY_BYTES:
            return refused(INVALID_REQUEST)
        if self.sources is not None:
            try:
                self.sources.check(request.source_ip)  # before the security hash is read
            except SourceNotAllowed as refusal:
                count("SignatureFailures")
                return refused(refusal.code, refusal.status)
        config = self._config()
        hashes = [h for h in (config.get("security_hash"), config.get("previous_security_hash")) if h]
        verdict = sportsbook.verify(request, hashes)
        if not verdict.ok:
            count("SignatureFailures")
            return refused(INVALID_HASH)
        try:
            return parse_object(request.body)
        except (InvalidJson, PayloadTooLarge):
            return refused(INVALID_REQUEST)

    def transaction(self, request: RawRequest) -> Answer:
        data = self._authenticate(request)
        if isinstance(data, Answer):
            return data
        try:
            body = TransactionRequest.model_validate(data)
        except ValidationError:
            return refused(INVALID_REQUEST)
        return self._guard(lambda: self._transaction(body))

    def _transaction(self, body: TransactionRequest) -> Answer:
        units = money.from_decimal(body.amount, body.currency)
        account = AccountKey(body.user_id, body.currency)
        kind = Kind.DEBIT if body.action == "bet" else Kind.CREDIT
        try:
            outcome = self.ledger.move(Movement(PROVIDER, body.transaction_id, account, kind, units))
        except InsufficientFunds:
            count("Declines")
            return refused(str(self._config().get("insufficient_funds_code") or DEFAULT_FUNDS_CODE))
        except ProtectionRefusal as refusal:  # a bet only: results are never refused
            count("Declines")
            return refused(PLAYER_BLOCKED if isinstance(refusal, PlayerExcluded) else refusal.code)
        except ReversedBeforeArrival:
            if kind is Kind.CREDIT:  # a result must always succeed: acknowledged, not paid
                count("LateAfterRollback")
                return ok(body.transaction_id)
            count("Declines")
            return refused(TRANSACTION_ROLLED_BACK)
        _counted(outcome)
        return ok(body.transaction_id)

    def rollback(self, request: RawRequest) -> Answer:
        data = self._authenticate(request)
        if isinstance(data, Answer):
            return data
        try:
            body = RollbackRequest.model_validate(data)
        except ValidationError:
            return refused(INVALID_REQUEST)
        return self._guard(lambda: self._rollback(body))

    def _rollback(self, body: RollbackRequest) -> Answer:
        units = money.from_decimal(body.amount, body.currency)
        account = AccountKey(body.user_id, body.currency)
        reversal = Reversal(
            PROVIDER,
            body.transaction_id,
            body.rollback_transaction_id,
            account,
            amount=units,
            reversible=frozenset({Kind.DEBIT, Kind.CREDIT}),
        )
        try:
            outcome = self.ledger.reverse(reversal)
        except (NotReversible, ReversalAmountMismatch):
            return refused(ROLLBACK_MISMATCH)
        _counted(outcome)
        if outcome.balance_after < 0 and not outcome.replayed:
            count("NegativeBalances")
            logger.warning("a result rollback took a balance below zero", extra={"user_id": body.user_id})
        return ok(body.transaction_id)

    def _guard(self, action: Any) -> Answer:
        """The ledger's refusals as the provider's codes; transient and unexpected failures as non-200."""
        try:
            answer: Answer = action()
            return answer
        except money.InvalidAmount:
            return refused(INVALID_AMOUNT)
        except money.UnknownCurrency:
            return refused(INVALID_REQUEST)
        except UnknownAccount:
            return refused(UNKNOWN_USER)
        except IdempotencyConflict:
            count("Conflicts")
            return refused(DUPLICATE_TRANSACTION)
        except CroupierError as error:
            if error.metric:
                count(error.metric)
            if error.status == 503:
                return refused(TEMPORARY_ERROR, 503)
            logger.exception("sportsbook callback failed")
            return refused(INTERNAL_ERROR, 500)
        except Exception:
            logger.exception("sportsbook callback failed")
            return refused(INTERNAL_ERROR, 500)


def _counted(outcome: Outcome) -> None:
    count_movement(outcome.replayed)
