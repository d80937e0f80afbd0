"""The OpenAPI 3.1 document of every HttpApi route of ``template.yaml``: ``make openapi`` writes docs/openapi.json.

    python -m croupier_local.openapi > docs/openapi.json     # or --check: fail when the file is stale

Nothing here is written by hand twice. Request bodies are the JSON Schema of the pydantic models the
handlers validate with; answers are the JSON Schema of the ``TypedDict`` each logic function is annotated
to return (mypy checks the dicts against them); error answers come from the domain error classes, whose
``status`` and ``code`` are what :func:`croupier.web.build_resolver` maps to HTTP, in the one shape of
:func:`croupier.web.error_response`. The routes, methods and authorizers come from the template.

A new route needs one entry in :data:`OPERATIONS` (its summary, auth, models and the errors it can raise);
until it has one, generating fails and names it, and ``tests/unit/test_openapi.py`` says which route of the
template the committed document lacks.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, TypeAdapter

from croupier import __version__, admin, launch, money, protection
from croupier.checks import SIGNATURE_CODES, InvalidRequest
from croupier.clients.http import TransportError
from croupier.clients.rgs import RgsApiError
from croupier.clients.sportsbook import SportsbookApiError
from croupier.errors import CroupierError, PayloadTooLarge
from croupier.jsonbody import MAX_BODY_BYTES, InvalidJson
from croupier.ledger import (
    BackingExceeded,
    BackingSettled,
    BrokenChain,
    IdempotencyConflict,
    InsufficientFunds,
    NotReversible,
    ReplayedRequest,
    RetriesExhausted,
    ReversalAmountMismatch,
    ReversedBeforeArrival,
    UnbackedCredit,
    UnknownAccount,
)
from croupier.ledger.protection import (
    DepositLimitReached,
    LossLimitReached,
    PlayerExcluded,
    WagerLimitReached,
)
from croupier.network import SourceNotAllowed
from croupier.rgs import game, operators, reports, rounds, sessions
from croupier.rgs.store import MAX_ID_BYTES
from croupier.wallet import rgs as rgs_wallet
from croupier.wallet import ruby, sportsbook
from croupier.web import HealthAnswer
from croupier_local.template import Route, TemplateWarning, load_template

OPENAPI_VERSION = "3.1.0"
DEFAULT_OUTPUT = Path("docs") / "openapi.json"
REF = "#/components/schemas/{model}"


class Auth(Enum):
    """How a route is authorised; each maps to security schemes below."""

    NONE = "none"
    RUBY = "ruby"
    SPORTSBOOK = "sportsbook"
    RGS_WALLET = "rgs_wallet"
    RGS_OPERATOR = "rgs_operator"
    PLAYER = "player"
    IAM = "iam"


@dataclass(frozen=True)
class Code:
    """An error code raised with ``code=`` at the raise site rather than by a class of its own."""

    status: int
    code: str


ErrorSource = type[CroupierError] | Code


@dataclass(frozen=True)
class Param:
    name: str
    where: str  # "path" or "query"
    schema: Mapping[str, Any]
    description: str = ""
    required: bool = True


@dataclass(frozen=True)
class Answer:
    """A documented answer: ``schema`` is a type pydantic can describe (a model or a TypedDict), or a union."""

    description: str
    schema: Any
    media_type: str = "application/json"  # anything else is documented as a string body (an HTML page)


@dataclass(frozen=True)
class Operation:
    summary: str
    tag: str
    auth: Auth
    answers: Mapping[int, Answer]
    body: type[BaseModel] | None = None
    body_name: str | None = None  # the component's name when the model's own name is taken
    body_required: bool = True
    errors: Sequence[ErrorSource] = ()
    params: Sequence[Param] = ()
    description: str = ""
    error_fields: Mapping[str, Any] = field(default_factory=dict)  # croupier.web.function(error_fields=...)
    operation_id: str | None = None  # needed when one function serves more than one route


# --- the errors each kind of route can answer ---------------------------------------------------------------


def signature_errors(unknown_key_code: str) -> list[ErrorSource]:
    """The 401s of :func:`croupier.checks.signature_refused`."""
    return [Code(401, code) for code in sorted({*SIGNATURE_CODES.values(), unknown_key_code})]


BODY_ERRORS: list[ErrorSource] = [PayloadTooLarge, InvalidJson, InvalidRequest]
LEDGER_ERRORS: list[ErrorSource] = [UnknownAccount, IdempotencyConflict, ReversedBeforeArrival, RetriesExhausted]
RUBY_ERRORS: list[ErrorSource] = [
    SourceNotAllowed,
    *signature_errors("UNKNOWN_BRAND_KEY"),
    *BODY_ERRORS,
    money.UnknownCurrency,
]
RGS_WALLET_ERRORS: list[ErrorSource] = [
    SourceNotAllowed,
    *signature_errors("UNKNOWN_OPERATOR"),
    *BODY_ERRORS,
    money.InvalidAmount,
    money.UnknownCurrency,
    *LEDGER_ERRORS,
]
RGS_OPERATOR_ERRORS: list[ErrorSource] = [sessions.IpNotAllowed, *signature_errors("UNKNOWN_OPERATOR")]
PLAYER_ERRORS: list[ErrorSource] = [game.InvalidSession, game.SessionExpired, game.SessionEnded]
RGS_ERROR_FIELDS = {"ok": False}

DATE = {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
INSTANT = {"type": "string", "description": "unix milliseconds, or ISO-8601 with a zone (2026-11-29T12:00:00Z)"}
PLAYER_ID = TypeAdapter(admin.PlayerId).json_schema()
SPORTSBOOK_ANSWER = Answer(
    "Processed: success, or refused with one of the provider's codes (INVALID_HASH, INVALID_REQUEST, "
    "INVALID_AMOUNT, UNKNOWN_USER, INSUFFICENT_FUNDS, TRANSACTION_ROLLED_BACK, DUPLICATE_TRANSACTION, "
    "ROLLBACK_MISMATCH; a bet only: PLAYER_BLOCKED while the player is excluded, WAGER_LIMIT, LOSS_LIMIT)",
    sportsbook.Processed | sportsbook.Refused,
)
SPORTSBOOK_NOT_PROCESSED = {
    403: Answer("Not processed: the source address is not on the allow-list (SOURCE_NOT_ALLOWED)", sportsbook.Refused),
    503: Answer("Not processed, nothing written: send it again (TEMPORARY_ERROR)", sportsbook.Refused),
    500: Answer("Not processed: send it again (INTERNAL_ERROR)", sportsbook.Refused),
}

STAKE_REFUSALS: list[ErrorSource] = [PlayerExcluded, WagerLimitReached, LossLimitReached]
"""Player protection's refusals of a stake (403): never of a credit, a win, a refund or a rollback."""

# --- every route --------------------------------------------------------------------------------------------

OPERATIONS: dict[str, Operation] = {
    "GET /health": Operation(
        "Liveness probe",
        "health",
        Auth.NONE,
        {200: Answer("Alive", HealthAnswer)},
        description="Touches no table and no secret.",
    ),
    # Ruby seamless wallet (providers.md section 2)
    "POST /ruby/balance": Operation(
        "Ruby: a player's balance",
        "ruby",
        Auth.RUBY,
        {200: Answer("The balance, read live", ruby.BalanceAnswer)},
        body=ruby.BalanceRequest,
        body_name="RubyBalanceRequest",
        errors=[*RUBY_ERRORS, UnknownAccount, RetriesExhausted],
    ),
    "POST /ruby/debit": Operation(
        "Ruby: a bet",
        "ruby",
        Auth.RUBY,
        {200: Answer("Debited (or the same answer again for a repeated transaction_id)", ruby.MoveAnswer)},
        body=ruby.MoveRequest,
        body_name="RubyMoveRequest",
        errors=[*RUBY_ERRORS, money.InvalidAmount, InsufficientFunds, *STAKE_REFUSALS, *LEDGER_ERRORS],
    ),
    "POST /ruby/credit": Operation(
        "Ruby: a win",
        "ruby",
        Auth.RUBY,
        {200: Answer("Credited (or the same answer again for a repeated transaction_id)", ruby.MoveAnswer)},
        body=ruby.MoveRequest,
        body_name="RubyMoveRequest",
        errors=[*RUBY_ERRORS, money.InvalidAmount, *LEDGER_ERRORS],
    ),
    "POST /ruby/rollback": Operation(
        "Ruby: reverse a debit",
        "ruby",
        Auth.RUBY,
        {200: Answer("Rolled back, or recorded as a tombstone when the debit is unknown", ruby.RollbackAnswer)},
        body=ruby.RollbackRequest,
        body_name="RubyRollbackRequest",
        errors=[*RUBY_ERRORS, NotReversible, ReplayedRequest, *LEDGER_ERRORS],
        description="The debit is `ref_transaction_id` when sent (then `transaction_id` is the rollback's own id), "
        "else `transaction_id`. A rollback carrying the very signature its debit arrived with (the debit's request "
        "replayed to this route: Ruby's signature does not cover the path) is refused with 401 `REPLAYED_REQUEST`.",
    ),
    # Sportsbook (section 4): every processed answer is HTTP 200
    "POST /sportsbook/transaction": Operation(
        "Sportsbook: a bet (withdraw) or a result (deposit)",
        "sportsbook",
        Auth.SPORTSBOOK,
        {200: SPORTSBOOK_ANSWER, **SPORTSBOOK_NOT_PROCESSED},
        body=sportsbook.TransactionRequest,
        body_name="SportsbookTransactionRequest",
    ),
    "POST /sportsbook/transaction-rollback": Operation(
        "Sportsbook: undo a bet or a result",
        "sportsbook",
        Auth.SPORTSBOOK,
        {200: SPORTSBOOK_ANSWER, **SPORTSBOOK_NOT_PROCESSED},
        body=sportsbook.RollbackRequest,
        body_name="SportsbookRollbackRequest",
    ),
    # RGS wallet adapter: an external RGS calls our wallet (section 5)
    "POST /rgs-wallet/bet": Operation(
        "RGS wallet: a bet",
        "rgs-wallet",
        Auth.RGS_WALLET,
        {200: Answer("Debited (or the same answer again for a repeated operator_tx_id)", rgs_wallet.WalletAnswer)},
        body=rgs_wallet.WalletCall,
        errors=[*RGS_WALLET_ERRORS, InsufficientFunds, *STAKE_REFUSALS],
        error_fields=RGS_ERROR_FIELDS,
    ),
    "POST /rgs-wallet/win": Operation(
        "RGS wallet: a win",
        "rgs-wallet",
        Auth.RGS_WALLET,
        {200: Answer("Credited (or the same answer again for a repeated operator_tx_id)", rgs_wallet.WalletAnswer)},
        body=rgs_wallet.WinCall,
        errors=[*RGS_WALLET_ERRORS, UnbackedCredit, BackingExceeded, BackingSettled],
        error_fields=RGS_ERROR_FIELDS,
    ),
    "POST /rgs-wallet/refund": Operation(
        "RGS wallet: refund a round's bet",
        "rgs-wallet",
        Auth.RGS_WALLET,
        {200: Answer("Refunded, or recorded as a tombstone when the bet is unknown", rgs_wallet.WalletAnswer)},
        body=rgs_wallet.WalletCall,
        errors=[*RGS_WALLET_ERRORS, NotReversible, ReversalAmountMismatch, BackingSettled],
        error_fields=RGS_ERROR_FIELDS,
    ),
    # Launches: we call the providers (IAM-authorised, for the operator's own front end)
    "POST /sportsbook/launch": Operation(
        "Open a player's sportsbook session",
        "launch",
        Auth.IAM,
        {200: Answer("The sportsbook iframe", launch.SportsbookLaunchAnswer)},
        body=launch.SportsbookLaunchRequest,
        errors=[
            *BODY_ERRORS,
            UnknownAccount,
            PlayerExcluded,
            RetriesExhausted,
            launch.ConfigMissing,
            launch.ConfigInvalid,
            SportsbookApiError,
            TransportError,
        ],
    ),
    "POST /rgs/launch": Operation(
        "Open a player's session at the external RGS",
        "launch",
        Auth.IAM,
        {200: Answer("The external RGS's launch URL", launch.RgsLaunchAnswer)},
        body=launch.RgsLaunchRequest,
        errors=[
            *BODY_ERRORS,
            UnknownAccount,
            money.UnknownCurrency,
            PlayerExcluded,
            RetriesExhausted,
            launch.ConfigMissing,
            launch.ConfigInvalid,
            RgsApiError,
            TransportError,
        ],
    ),
    # Admin (IAM-authorised)
    "POST /admin/players": Operation(
        "Create a player with an account per currency and its provider links",
        "admin",
        Auth.IAM,
        {201: Answer("Created", admin.PlayerView)},
        body=admin.CreatePlayer,
        errors=[*BODY_ERRORS, money.UnknownCurrency, admin.PlayerExists, RetriesExhausted],
    ),
    "GET /admin/players/{player_id}": Operation(
        "A player, its provider links and its balances",
        "admin",
        Auth.IAM,
        {200: Answer("The player", admin.PlayerView)},
        params=[Param("player_id", "path", PLAYER_ID)],
        errors=[InvalidRequest, admin.UnknownPlayer],
    ),
    "POST /admin/players/{player_id}/deposits": Operation(
        "Credit an account (idempotent on reference)",
        "admin",
        Auth.IAM,
        {
            201: Answer("Deposited", admin.MoneyAnswer),
            200: Answer("A repeated reference: the first answer again, nothing moved", admin.MoneyAnswer),
        },
        body=admin.MoneyRequest,
        params=[Param("player_id", "path", PLAYER_ID)],
        errors=[
            *BODY_ERRORS,
            money.InvalidAmount,
            money.UnknownCurrency,
            PlayerExcluded,
            DepositLimitReached,
            *LEDGER_ERRORS,
        ],
    ),
    "POST /admin/players/{player_id}/withdrawals": Operation(
        "Debit an account, never below zero (idempotent on reference)",
        "admin",
        Auth.IAM,
        {
            201: Answer("Withdrawn", admin.MoneyAnswer),
            200: Answer("A repeated reference: the first answer again, nothing moved", admin.MoneyAnswer),
        },
        body=admin.MoneyRequest,
        params=[Param("player_id", "path", PLAYER_ID)],
        errors=[*BODY_ERRORS, money.InvalidAmount, money.UnknownCurrency, InsufficientFunds, *LEDGER_ERRORS],
    ),
    "GET /admin/players/{player_id}/entries": Operation(
        "An account's ledger entries, newest first, a page at a time",
        "admin",
        Auth.IAM,
        {200: Answer("A page of entries; next_cursor is null on the last", admin.EntriesPage)},
        params=[
            Param("player_id", "path", PLAYER_ID),
            Param("currency", "query", {"type": "string", "pattern": "^[A-Z]{3}$"}, "default: the first", False),
            Param("limit", "query", {"type": "integer", "minimum": 1, "maximum": admin.MAX_PAGE}, "default 50", False),
            Param("cursor", "query", {"type": "string"}, "next_cursor of the previous page", False),
        ],
        errors=[InvalidRequest, admin.UnknownPlayer, money.UnknownCurrency, Code(400, "INVALID_CURSOR"), BrokenChain],
    ),
    "POST /admin/players/{player_id}/exclusions": Operation(
        "Exclude a player from gambling: every currency, every brand (self-exclusion or time-out)",
        "protection",
        Auth.IAM,
        {201: Answer("Excluded: every stake refused until it ends or is lifted", protection.ExclusionView)},
        body=protection.ExclusionRequest,
        params=[Param("player_id", "path", PLAYER_ID)],
        errors=[
            *BODY_ERRORS,
            protection.InvalidUntil,
            admin.UnknownPlayer,
            protection.ExclusionActive,
            protection.ChangedMeanwhile,
        ],
        description="`until`: an ISO-8601 UTC time in the future, or null for an indefinite exclusion. An active "
        "exclusion can be lengthened, never shortened (409 EXCLUSION_ACTIVE).",
    ),
    "GET /admin/players/{player_id}/exclusions": Operation(
        "A player's exclusion, whether it applies now and from when it can be lifted",
        "protection",
        Auth.IAM,
        {200: Answer("The exclusion (null when none)", protection.ExclusionView)},
        params=[Param("player_id", "path", PLAYER_ID)],
        errors=[InvalidRequest, admin.UnknownPlayer],
    ),
    "DELETE /admin/players/{player_id}/exclusions": Operation(
        "Lift a player's exclusion after its cooling-off",
        "protection",
        Auth.IAM,
        {200: Answer("Lifted", protection.ExclusionView)},
        params=[Param("player_id", "path", PLAYER_ID)],
        errors=[
            PayloadTooLarge,
            InvalidRequest,
            admin.UnknownPlayer,
            protection.NotExcluded,
            protection.CoolingOff,
            protection.ChangedMeanwhile,
        ],
        description="Cooling-off: an exclusion with an end can be lifted from 24 hours after it was set, an "
        "indefinite one from 7 days after it was set (409 COOL_OFF before).",
    ),
    "PUT /admin/players/{player_id}/limits": Operation(
        "Set an account's deposit, loss and wager limits (day, week, month)",
        "protection",
        Auth.IAM,
        {200: Answer("The account's limits now, with the pending increases", protection.SetLimitsAnswer)},
        body=protection.PlayerLimitsRequest,
        params=[Param("player_id", "path", PLAYER_ID)],
        errors=[
            *BODY_ERRORS,
            money.InvalidAmount,
            money.UnknownCurrency,
            admin.UnknownPlayer,
            protection.UnknownAccount,
            protection.ChangedMeanwhile,
        ],
        description="Decimal strings at the currency's decimals; null removes a limit; an omitted one is kept. A "
        "decrease (or a new limit) applies at once, an increase or a removal 24 hours later. Windows are UTC: "
        "the calendar day, the ISO week, the calendar month; every limit applies, so the lowest binds.",
    ),
    "GET /admin/players/{player_id}/limits": Operation(
        "A player's limits per currency, their pending increases and the current windows' usage",
        "protection",
        Auth.IAM,
        {200: Answer("The limits", protection.PlayerLimitsView)},
        params=[Param("player_id", "path", PLAYER_ID)],
        errors=[InvalidRequest, admin.UnknownPlayer],
    ),
    "GET /admin/players/{player_id}/protection-audit": Operation(
        "Every change to a player's exclusions and limits: who (the IAM principal), when and what",
        "protection",
        Auth.IAM,
        {
            200: Answer(
                "A page of records, oldest first; next_cursor is null on the last", protection.ProtectionAuditPage
            )
        },
        params=[
            Param("player_id", "path", PLAYER_ID),
            Param("limit", "query", {"type": "integer", "minimum": 1, "maximum": admin.MAX_PAGE}, "default 50", False),
            Param("cursor", "query", {"type": "string"}, "next_cursor of the previous page", False),
        ],
        errors=[InvalidRequest, admin.UnknownPlayer, Code(400, "INVALID_CURSOR")],
    ),
    "POST /admin/rgs/operators": Operation(
        "Provision an RGS operator (its hmac_secret is shown in this answer only)",
        "admin",
        Auth.IAM,
        {201: Answer("Provisioned", operators.IssuedKey)},
        body=operators.OperatorSettings,
        errors=[*BODY_ERRORS, money.UnknownCurrency, operators.OperatorChanged],
    ),
    "POST /admin/rgs/operators/{operator_id}/keys": Operation(
        "Issue a new key pair; older keys retire after the overlap",
        "admin",
        Auth.IAM,
        {201: Answer("The new key pair (the secret is shown in this answer only)", operators.IssuedKey)},
        body=operators.Rotation,
        body_required=False,
        params=[Param("operator_id", "path", {"type": "string", "format": "uuid", "maxLength": 36})],
        errors=[*BODY_ERRORS, operators.UnknownOperator, operators.OperatorChanged],
    ),
    "PATCH /admin/rgs/operators/{operator_id}": Operation(
        "Change an operator's settings: limits, allow-lists, bet rate, currencies, house share, enabled",
        "admin",
        Auth.IAM,
        {200: Answer("The operator as changed (no secret)", operators.OperatorView)},
        body=operators.SettingsChange,
        params=[Param("operator_id", "path", {"type": "string", "format": "uuid", "maxLength": 36})],
        errors=[*BODY_ERRORS, money.UnknownCurrency, operators.UnknownOperator, operators.OperatorChanged],
    ),
    # The RGS: operators call us (RGS v1 signed)
    "POST /api/public/rgs/launch": Operation(
        "Open a player session; embed launch_url in an iframe",
        "rgs",
        Auth.RGS_OPERATOR,
        {200: Answer("The session", sessions.LaunchAnswer)},
        body=sessions.LaunchRequest,
        body_name="RgsPublicLaunchRequest",
        errors=[*RGS_OPERATOR_ERRORS, *BODY_ERRORS, money.UnknownCurrency, sessions.CurrencyNotAllowed],
        error_fields=RGS_ERROR_FIELDS,
    ),
    "GET /api/public/rgs/round/{round_id}": Operation(
        "A round's public data; the server seed and outcome once it is settled or refunded",
        "rgs",
        Auth.RGS_OPERATOR,
        {200: Answer("The round", reports.RoundView)},
        params=[Param("round_id", "path", {"type": "string", "minLength": 1, "maxLength": MAX_ID_BYTES})],
        errors=[*RGS_OPERATOR_ERRORS, reports.UnknownRound],
        error_fields=RGS_ERROR_FIELDS,
    ),
    "GET /api/public/rgs/revenue": Operation(
        "GGR and shares per day (UTC) and currency",
        "rgs",
        Auth.RGS_OPERATOR,
        {200: Answer("Revenue per day and currency", reports.RevenueAnswer)},
        params=[
            Param("from", "query", DATE, "first day, included"),
            Param("to", "query", DATE, f"last day, included; at most {reports.MAX_RANGE_DAYS} days"),
        ],
        errors=[*RGS_OPERATOR_ERRORS, reports.InvalidRange, operators.UnknownOperator],
        error_fields=RGS_ERROR_FIELDS,
    ),
    "GET /api/public/rgs/players/{operator_player_id}/rounds": Operation(
        "Game recall: the operator's player's rounds, newest first, paged; seeds and crash points once settled",
        "rgs",
        Auth.RGS_OPERATOR,
        {
            200: Answer(
                "A page of the player's rounds (empty for a player the operator never launched)", reports.RecallAnswer
            )
        },
        params=[
            Param(
                "operator_player_id",
                "path",
                {"type": "string", "minLength": 1, "maxLength": 64, "pattern": "^[A-Za-z0-9_.:-]+$"},
            ),
            Param("from", "query", INSTANT, "rounds created at or after (unix ms or ISO-8601 with a zone)", False),
            Param("to", "query", INSTANT, "rounds created at or before (unix ms or ISO-8601 with a zone)", False),
            Param(
                "limit",
                "query",
                {"type": "integer", "minimum": 1, "maximum": reports.RECALL_MAX_LIMIT},
                f"default {reports.RECALL_DEFAULT_LIMIT}",
                False,
            ),
            Param("cursor", "query", {"type": "string"}, "next_cursor of the previous page", False),
        ],
        errors=[
            *RGS_OPERATOR_ERRORS,
            InvalidRequest,
            reports.InvalidRange,
            reports.InvalidLimit,
            reports.InvalidCursor,
        ],
        error_fields=RGS_ERROR_FIELDS,
    ),
    "DELETE /api/public/rgs/sessions/{session_id}": Operation(
        "End a player session: its token is refused from now on (bets, cash-outs, state)",
        "rgs",
        Auth.RGS_OPERATOR,
        {200: Answer("Ended (or ended before: the same answer)", sessions.EndAnswer)},
        params=[Param("session_id", "path", {"type": "string", "minLength": 1, "maxLength": MAX_ID_BYTES})],
        errors=[*RGS_OPERATOR_ERRORS, sessions.UnknownSession],
        error_fields=RGS_ERROR_FIELDS,
    ),
    # The crash game's player API (the session token of the launch URL)
    "POST /rgs/play/bet": Operation(
        "Place a bet (the round's server_seed_hash is answered before play)",
        "play",
        Auth.PLAYER,
        {200: Answer("The round is open", rounds.BetAnswer)},
        body=game.BetRequest,
        errors=[
            *PLAYER_ERRORS,
            *BODY_ERRORS,
            game.BetBelowMinimum,
            game.BetAboveMaximum,
            game.TooManyBets,
            game.CommitmentChanged,
            game.BetRefused,
            Code(402, "INSUFFICIENT_FUNDS"),  # a BetRefused naming the wallet's reason
            game.BetNotConfirmed,
            Code(503, "CONFIG_MISSING"),
        ],
    ),
    "POST /rgs/play/cashout": Operation(
        "Cash out at the server's multiplier on receipt",
        "play",
        Auth.PLAYER,
        {200: Answer("The round, settled", rounds.PlayerRound)},
        body=game.CashOutRequest,
        errors=[*PLAYER_ERRORS, *BODY_ERRORS, game.UnknownRound, Code(503, "CONFIG_MISSING")],
    ),
    "GET /rgs/play/state": Operation(
        "The session and its last rounds",
        "play",
        Auth.PLAYER,
        {200: Answer("The session", rounds.SessionState)},
        errors=[*PLAYER_ERRORS, game.UnknownRound, Code(503, "CONFIG_MISSING")],
    ),
    # the game's pages (static HTML; the game reads its session token from the query, then drops it)
    "GET /play": Operation(
        "The crash game's page (the operator's launch_url)",
        "pages",
        Auth.NONE,
        {200: Answer("The game, one self-contained HTML page", None, "text/html")},
        params=[Param("session", "query", {"type": "string"}, "the session token of the launch URL", False)],
        description="Served to anyone: the page holds no authority, the token it carries does. Its CSP "
        "frame-ancestors are the session's operator's allowed_origins (* without them or without a session).",
        operation_id="rgsPlayPage",
    ),
    "GET /verify": Operation(
        "The in-browser fairness verifier",
        "pages",
        Auth.NONE,
        {200: Answer("The verifier, one self-contained HTML page (works offline)", None, "text/html")},
        operation_id="rgsVerifyPage",
    ),
}

# --- security -----------------------------------------------------------------------------------------------


def _header_key(name: str, description: str) -> dict[str, Any]:
    return {"type": "apiKey", "in": "header", "name": name, "description": description}


SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    "RubyKey": _header_key("X-Aggregator-Key", "Ruby callbacks: the brand's api key"),
    "RubyTimestamp": _header_key("X-Aggregator-Timestamp", "Ruby callbacks: unix seconds, within 300 s of now"),
    "RubySignature": _header_key(
        "X-Aggregator-Signature", "Ruby callbacks: hex HMAC-SHA256 of raw body + timestamp, with the brand's secret"
    ),
    "SportsbookHash": _header_key(
        "X-Security-Hash", "Sportsbook callbacks: hex HMAC-SHA256 of the raw body, with the security hash"
    ),
    "SportsbookHashMisspelt": _header_key("X-Securty-Hash", "The provider's own spelling of X-Security-Hash"),
    "RgsOperatorId": _header_key("X-Operator-Id", "RGS v1: the operator's uuid"),
    "RgsOperatorKey": _header_key("X-Operator-Key", "RGS v1: the operator's api key"),
    "RgsTimestamp": _header_key("X-Timestamp", "RGS v1: unix seconds, within 300 s of now"),
    "RgsSignature": _header_key(
        "X-Signature",
        'RGS v1: hex HMAC-SHA256 of "{ts}.{METHOD}.{path_with_query}.{sha256_hex(raw_body)}" with the hmac_secret',
    ),
    "PlayerSession": {
        "type": "http",
        "scheme": "bearer",
        "description": "The session token of the launch URL (/play?session=<token>)",
    },
    "AwsIam": {
        **_header_key("Authorization", "AWS Signature Version 4 (IAM authorizer of the HTTP API)"),
        "x-amazon-apigateway-authtype": "awsSigv4",
    },
}

RGS_V1: dict[str, list[str]] = {"RgsOperatorId": [], "RgsOperatorKey": [], "RgsTimestamp": [], "RgsSignature": []}
SECURITY: dict[Auth, list[dict[str, list[str]]]] = {
    Auth.NONE: [],
    Auth.RUBY: [{"RubyKey": [], "RubyTimestamp": [], "RubySignature": []}],
    Auth.SPORTSBOOK: [{"SportsbookHash": []}, {"SportsbookHashMisspelt": []}],
    Auth.RGS_WALLET: [RGS_V1],
    Auth.RGS_OPERATOR: [RGS_V1],
    Auth.PLAYER: [{"PlayerSession": []}],
    Auth.IAM: [{"AwsIam": []}],
}

# --- building -----------------------------------------------------------------------------------------------


class UndocumentedRoute(LookupError):
    """A route of the template has no entry in OPERATIONS."""


class _Components:
    """Named schemas; a name given twice must mean the same schema."""

    def __init__(self) -> None:
        self.schemas: dict[str, Any] = {}

    def add(self, name: str, schema: Mapping[str, Any]) -> None:
        if name in self.schemas and self.schemas[name] != schema:
            raise ValueError(f"two different schemas are both called {name!r}: name one of them in OPERATIONS")
        self.schemas[name] = dict(schema)

    def ref(self, kind: Any, mode: str, name: str | None = None) -> dict[str, Any]:
        """A $ref to ``kind``'s schema (its nested definitions hoisted), or the schema inline for a union."""
        schema = TypeAdapter(kind).json_schema(mode=mode, ref_template=REF)  # type: ignore[arg-type]
        for nested, definition in schema.pop("$defs", {}).items():
            self.add(nested, definition)
        own = name or getattr(kind, "__name__", None)
        if own is None or "anyOf" in schema:
            return schema
        self.add(own, schema)
        return {"$ref": REF.format(model=own)}


def _codes_by_status(errors: Iterable[ErrorSource]) -> dict[int, list[str]]:
    found: dict[int, set[str]] = {}
    for source in errors:
        found.setdefault(source.status, set()).add(source.code)
    return {status: sorted(codes) for status, codes in sorted(found.items())}


def _error_schema(codes: list[str], fields: Mapping[str, Any]) -> dict[str, Any]:
    properties: dict[str, Any] = {name: {"const": value} for name, value in fields.items()}
    properties["error"] = {"type": "string", "enum": codes}
    properties["message"] = {"type": "string", "description": "for people; never names a secret"}
    return {"type": "object", "required": [*fields, "error", "message"], "properties": properties}


GATEWAY_MESSAGE = {
    "type": "object",
    "required": ["message"],
    "properties": {"message": {"type": "string"}},
    "description": "API Gateway's own answer (the function was not called)",
}


def _json(schema: Mapping[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": dict(schema)}}


def _operation(route: Route, op: Operation, components: _Components) -> dict[str, Any]:
    document: dict[str, Any] = {
        "operationId": op.operation_id or route.function[0].lower() + route.function[1:].removesuffix("Function"),
        "summary": op.summary,
        "tags": [op.tag],
        "security": SECURITY[op.auth],
    }
    if op.description:
        document["description"] = op.description
    if op.params:
        document["parameters"] = [
            {
                "name": param.name,
                "in": param.where,
                "required": param.required or param.where == "path",
                "schema": dict(param.schema),
                **({"description": param.description} if param.description else {}),
            }
            for param in op.params
        ]
    if op.body is not None:
        document["requestBody"] = {
            "required": op.body_required,
            "description": f"JSON, at most {MAX_BODY_BYTES} bytes; duplicate keys, NaN and Infinity are refused",
            "content": _json(components.ref(op.body, "validation", op.body_name)),
        }
    responses: dict[str, Any] = {}
    for status, answer in op.answers.items():
        responses[str(status)] = {
            "description": answer.description,
            "content": (
                _json(components.ref(answer.schema, "serialization"))
                if answer.media_type == "application/json"
                else {answer.media_type: {"schema": {"type": "string"}}}
            ),
        }
    errors = list(op.errors)
    if "{" in route.path:  # the resolver's own 404, for a path parameter its route pattern does not match
        errors.append(Code(404, "ROUTE_NOT_FOUND"))
    for status, codes in _codes_by_status(errors).items():
        responses[str(status)] = {
            "description": f"Refused: {', '.join(codes)}",
            "content": _json(_error_schema(codes, op.error_fields)),
        }
    if op.auth is Auth.IAM:  # API Gateway's 403, beside the function's own 403 refusals if it has any
        gateway = "API Gateway: the request is not signed by an authorised IAM principal"
        own = responses.get("403")
        responses["403"] = (
            {"description": gateway, "content": _json(GATEWAY_MESSAGE)}
            if own is None
            else {
                "description": f"{own['description']}; or {gateway}",
                "content": _json({"anyOf": [own["content"]["application/json"]["schema"], GATEWAY_MESSAGE]}),
            }
        )
    document["responses"] = dict(sorted(responses.items()))
    return document


def build_document(template_path: str | Path = "template.yaml") -> dict[str, Any]:
    """The document for the template's routes (sorted by path, then method)."""
    with warnings.catch_warnings():  # what the local stack leaves out (queues, SQS events) is no route
        warnings.simplefilter("ignore", TemplateWarning)
        template = load_template(template_path)
    routes = sorted(template.routes, key=lambda route: (route.path, route.method))
    missing = [route.route_key for route in routes if route.route_key not in OPERATIONS]
    if missing:
        raise UndocumentedRoute(f"register these routes in croupier_local.openapi.OPERATIONS: {', '.join(missing)}")
    components = _Components()
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(
            route, OPERATIONS[route.route_key], components
        )
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Croupier",
            "version": __version__,
            "summary": "Seamless wallet for Ruby, a sportsbook and RGSs; a provably-fair remote game server.",
            "description": "Generated by `make openapi` from template.yaml and the models the handlers validate "
            "with. Signature schemes: shared/specs/providers.md section 1.",
        },
        "servers": [
            {"url": "http://127.0.0.1:3000", "description": "the local stack (make dev)"},
            {
                "url": "https://{api_id}.execute-api.{region}.amazonaws.com",
                "variables": {"api_id": {"default": "api-id"}, "region": {"default": "us-east-1"}},
            },
        ],
        "tags": [{"name": name} for name in dict.fromkeys(op.tag for op in OPERATIONS.values())],
        "paths": paths,
        "components": {
            "schemas": dict(sorted(components.schemas.items())),
            "securitySchemes": SECURITY_SCHEMES,
        },
    }


def render(document: Mapping[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m croupier_local.openapi", description=__doc__.split("\n")[0])
    parser.add_argument("--template", default="template.yaml")
    parser.add_argument("--check", metavar="FILE", help="exit 1 when FILE differs from a fresh generation")
    args = parser.parse_args(argv)
    text = render(build_document(args.template))
    if args.check:
        if Path(args.check).read_text(encoding="utf-8") != text:
            print(f"{args.check} is stale: run make openapi", file=sys.stderr)
            return 1
        return 0
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
