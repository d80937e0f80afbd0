"""The admin API's player protection: exclusions, limits and their audit (IAM-authorised; ``local`` on loopback).

The state lives on the player's account items (:mod:`croupier.ledger.protection`), where every stake is decided
inside its own transaction. Each change here is one transaction over the account items it changes, conditioned on
their protection revision as read, with its immutable audit record (who, when, what).

Rules (MGA Player Protection Directive, UKGC RTS 12):

- An exclusion is the player's, across every currency: it is written to every account item at once. A new
  exclusion may lengthen an active one, never shorten it (409 ``EXCLUSION_ACTIVE``).
- Cooling-off: an exclusion with an end (``until``) can be lifted from 24 hours after it was set, an indefinite one
  from 7 days after it was set; earlier, 409 ``COOL_OFF``. A time-out or exclusion whose end has come simply
  stops applying.
- A limit's decrease, or a new limit, applies at once; an increase or a removal (``null``) 24 hours after it was
  asked for (shown as ``pending`` until then). Asking again replaces the pending change.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal, NotRequired, Protocol

from pydantic import BaseModel, ConfigDict, Field, StrictStr
from typing_extensions import TypedDict

from croupier import money
from croupier.admin import MAX_PAGE, UnknownPlayer, format_amount, player_id_of
from croupier.checks import InvalidRequest, validated
from croupier.errors import BadRequest, Conflict, NotFound
from croupier.jsonbody import parse_object
from croupier.ledger import AccountState
from croupier.ledger.dynamo import AuditRecord
from croupier.ledger.protection import (
    INCREASE_DELAY,
    METRICS,
    PERIODS,
    Exclusion,
    ExclusionKind,
    Limit,
    Protection,
    format_time,
    parse_time,
)

DEFINITE_COOL_OFF = timedelta(hours=24)
INDEFINITE_COOL_OFF = timedelta(days=7)

CHANGE_ATTEMPTS = 3
LOCAL_PRINCIPAL = "local"


class ProtectionStore(Protocol):
    def read_player(self, player_id: str) -> tuple[dict[str, Any] | None, dict[str, AccountState]]: ...

    def change_protection(
        self,
        player_id: str,
        expected: dict[str, int],
        audit: AuditRecord,
        *,
        exclusion: Exclusion | Literal[False] | None = False,
        limits: tuple[Limit, ...] | None = None,
    ) -> bool: ...

    def list_audit(self, player_id: str, limit: int, cursor: str | None) -> tuple[list[AuditRecord], str | None]: ...


class CoolingOff(Conflict):
    code = "COOL_OFF"


class ExclusionActive(Conflict):
    code = "EXCLUSION_ACTIVE"


class NotExcluded(NotFound):
    code = "NOT_EXCLUDED"


class ChangedMeanwhile(Conflict):
    code = "CONCURRENT_CHANGE"


class InvalidUntil(BadRequest):
    code = "INVALID_UNTIL"


class UnknownAccount(NotFound):
    code = "UNKNOWN_ACCOUNT"


class ExclusionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: ExclusionKind
    until: Annotated[StrictStr, Field(min_length=10, max_length=40, examples=["2026-12-31T00:00:00Z"])] | None


LimitValue = Annotated[
    StrictStr | None,
    Field(description="a decimal string at the currency's decimals; null removes the limit (after 24 h)"),
]


class Periods(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    day: LimitValue = None
    week: LimitValue = None
    month: LimitValue = None


class PlayerLimitsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    currency: Annotated[StrictStr, Field(pattern=r"^[A-Z]{3}$")]
    deposit: Periods | None = None
    loss: Periods | None = None
    wager: Periods | None = None


class ExclusionState(TypedDict):
    kind: str
    until: str | None
    set_at: str
    lift_allowed_from: str


class ExclusionView(TypedDict):
    player_id: str
    excluded: bool
    """Whether the exclusion applies now (an ended time-out stays shown until it is lifted or replaced)."""
    exclusion: ExclusionState | None


class PendingPlayerLimit(TypedDict):
    value: str | None
    effective_at: str


class PlayerLimitView(TypedDict):
    value: str | None
    pending: NotRequired[PendingPlayerLimit]


class ProtectionWindowUsage(TypedDict):
    window: str
    wagered: str
    net_loss: str
    deposited: str


class AccountProtection(TypedDict):
    limits: dict[str, dict[str, PlayerLimitView]]
    usage: dict[str, ProtectionWindowUsage]


class PlayerLimitsView(TypedDict):
    player_id: str
    windows: str
    currencies: dict[str, AccountProtection]


class SetLimitsAnswer(AccountProtection):
    player_id: str
    currency: str


class ProtectionAuditRecord(TypedDict):
    record_id: str
    at: str
    principal: str
    action: str
    detail: dict[str, Any]


class ProtectionAuditPage(TypedDict):
    player_id: str
    items: list[ProtectionAuditRecord]
    next_cursor: str | None


def principal_of(event: Mapping[str, Any]) -> str:
    """The IAM principal API Gateway's IAM authorizer put on the request (``local`` on the loopback stack)."""
    context = event.get("requestContext")
    authorizer = context.get("authorizer") if isinstance(context, Mapping) else None
    iam = authorizer.get("iam") if isinstance(authorizer, Mapping) else None
    if isinstance(iam, Mapping):
        for key in ("userArn", "callerId"):
            value = iam.get(key)
            if isinstance(value, str) and value:
                return value
    return LOCAL_PRINCIPAL


def utc_now() -> datetime:
    return datetime.now(UTC)


class PlayerProtection:
    def __init__(self, store: ProtectionStore, *, now: Callable[[], datetime] = utc_now) -> None:
        self.store = store
        self.now = now

    # reads -----------------------------------------------------------------------------------------

    def _accounts(self, raw_player_id: str) -> tuple[str, dict[str, AccountState]]:
        player_id = player_id_of(raw_player_id)
        profile, accounts = self.store.read_player(player_id)
        if profile is None or not accounts:
            raise UnknownPlayer(f"unknown player {player_id!r}")
        return player_id, accounts

    def exclusion(self, raw_player_id: str) -> ExclusionView:
        player_id, accounts = self._accounts(raw_player_id)
        return self._exclusion_view(player_id, accounts, self.now())

    def limits(self, raw_player_id: str) -> PlayerLimitsView:
        player_id, accounts = self._accounts(raw_player_id)
        now = self.now()
        return {
            "player_id": player_id,
            "windows": "UTC: the calendar day, the ISO week (Monday to Sunday), the calendar month",
            "currencies": {c: _limits_view(c, s.protection, now) for c, s in sorted(accounts.items())},
        }

    def audit(self, raw_player_id: str, query: Mapping[str, str]) -> ProtectionAuditPage:
        player_id, _ = self._accounts(raw_player_id)
        raw_limit = query.get("limit", "50")
        if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_PAGE:
            raise InvalidRequest(f"limit must be an integer from 1 to {MAX_PAGE}")
        records, cursor = self.store.list_audit(player_id, int(raw_limit), query.get("cursor"))
        return {
            "player_id": player_id,
            "items": [
                {
                    "record_id": r.record_id,
                    "at": r.at,
                    "principal": r.principal,
                    "action": r.action,
                    "detail": json.loads(r.detail),
                }
                for r in records
            ],
            "next_cursor": cursor,
        }

    # changes ---------------------------------------------------------------------------------------

    def exclude(self, raw_player_id: str, body: bytes, principal: str) -> ExclusionView:
        request: ExclusionRequest = validated(ExclusionRequest, parse_object(body))
        player_id = player_id_of(raw_player_id)
        now = self.now()
        until = None if request.until is None else _future_utc(request.until, now)
        for _ in range(CHANGE_ATTEMPTS):
            _, accounts = self._accounts(player_id)
            current = _player_exclusion(accounts)
            if current is not None and current.active(now) and not _covers(until, current.until):
                raise ExclusionActive("an active exclusion lasts longer; it can only be lengthened")
            exclusion = Exclusion(request.kind, None if until is None else format_time(until), format_time(now))
            detail = {"kind": exclusion.kind.value, "until": exclusion.until}
            if self._change(player_id, accounts, principal, now, "exclusion.set", detail, exclusion=exclusion):
                return self.exclusion(player_id)
        raise ChangedMeanwhile("the player's protection changed meanwhile; ask again")

    def lift(self, raw_player_id: str, principal: str) -> ExclusionView:
        player_id = player_id_of(raw_player_id)
        now = self.now()
        for _ in range(CHANGE_ATTEMPTS):
            _, accounts = self._accounts(player_id)
            current = _player_exclusion(accounts)
            if current is None:
                raise NotExcluded("the player has no exclusion")
            allowed = _lift_allowed_from(current)
            if current.active(now) and now < allowed:
                raise CoolingOff(f"the exclusion can be lifted from {format_time(allowed)} (cooling-off)")
            detail = {"lifted": {"kind": current.kind.value, "until": current.until, "set_at": current.set_at}}
            if self._change(player_id, accounts, principal, now, "exclusion.lift", detail, exclusion=None):
                return self.exclusion(player_id)
        raise ChangedMeanwhile("the player's protection changed meanwhile; ask again")

    def set_limits(self, raw_player_id: str, body: bytes, principal: str) -> SetLimitsAnswer:
        request: PlayerLimitsRequest = validated(PlayerLimitsRequest, parse_object(body))
        player_id = player_id_of(raw_player_id)
        places = money.exponent(request.currency)
        asked: dict[tuple[str, str], int | None] = {}
        for metric in METRICS:
            periods: Periods | None = getattr(request, metric)
            if periods is None:
                continue
            for period in periods.model_fields_set:
                value = getattr(periods, period)
                asked[(metric, period)] = None if value is None else money.from_decimal_string(value, max_places=places)
        if not asked:
            raise InvalidRequest("give at least one limit")
        now = self.now()
        for _ in range(CHANGE_ATTEMPTS):
            _, accounts = self._accounts(player_id)
            state = accounts.get(request.currency)
            if state is None:
                raise UnknownAccount(f"the player has no {request.currency} account")
            limits = _new_limits(state.protection, asked, now)
            detail = {
                "currency": request.currency,
                "asked": {
                    f"{m}.{p}": None if v is None else format_amount(v, request.currency) for (m, p), v in asked.items()
                },
            }
            one = {request.currency: state}
            if self._change(player_id, one, principal, now, "limits.set", detail, limits=limits):
                _, accounts = self._accounts(player_id)
                view = _limits_view(request.currency, accounts[request.currency].protection, now)
                return {"player_id": player_id, "currency": request.currency, **view}
        raise ChangedMeanwhile("the player's protection changed meanwhile; ask again")

    def _change(
        self,
        player_id: str,
        accounts: Mapping[str, AccountState],
        principal: str,
        now: datetime,
        action: str,
        detail: dict[str, Any],
        **change: Any,
    ) -> bool:
        record = AuditRecord(
            player_id=player_id,
            record_id=uuid.uuid4().hex,
            at=format_time(now),
            principal=principal,
            action=action,
            detail=json.dumps(detail, separators=(",", ":"), sort_keys=True),
        )
        expected = {currency: state.protection.revision for currency, state in accounts.items()}
        return bool(self.store.change_protection(player_id, expected, record, **change))

    def _exclusion_view(self, player_id: str, accounts: Mapping[str, AccountState], now: datetime) -> ExclusionView:
        current = _player_exclusion(accounts)
        if current is None:
            return {"player_id": player_id, "excluded": False, "exclusion": None}
        return {
            "player_id": player_id,
            "excluded": current.active(now),
            "exclusion": {
                "kind": current.kind.value,
                "until": current.until,
                "set_at": current.set_at,
                "lift_allowed_from": format_time(_lift_allowed_from(current)),
            },
        }


# --- helpers ---------------------------------------------------------------------------------------------


def _future_utc(text: str, now: datetime) -> datetime:
    if not (text.endswith("Z") or text.endswith("+00:00")):
        raise InvalidUntil("until must be an ISO-8601 UTC time (ending in Z or +00:00)")
    try:
        until = parse_time(text)
    except ValueError:
        raise InvalidUntil("until must be an ISO-8601 UTC time such as 2026-12-31T00:00:00Z") from None
    if until <= now:
        raise InvalidUntil("until must be in the future")
    return until


def _covers(until: datetime | None, current_until: str | None) -> bool:
    """Whether an exclusion ending at ``until`` lasts at least as long as one ending at ``current_until``."""
    if until is None:
        return True
    return current_until is not None and until >= parse_time(current_until)


def _player_exclusion(accounts: Mapping[str, AccountState]) -> Exclusion | None:
    """The player's exclusion (the same on every account; the latest set, should they ever differ)."""
    found = [s.protection.exclusion for s in accounts.values() if s.protection.exclusion is not None]
    return max(found, key=lambda e: e.set_at) if found else None


def _lift_allowed_from(exclusion: Exclusion) -> datetime:
    cool_off = INDEFINITE_COOL_OFF if exclusion.until is None else DEFINITE_COOL_OFF
    return parse_time(exclusion.set_at) + cool_off


def _new_limits(
    protection: Protection, asked: Mapping[tuple[str, str], int | None], now: datetime
) -> tuple[Limit, ...]:
    """Decreases (and new limits) at once; increases and removals pending for 24 hours."""
    limits = {(limit.metric, limit.period): limit.settled(now) for limit in protection.limits}
    for (metric, period), value in asked.items():
        current = limits.get((metric, period))
        in_force = None if current is None else current.value
        if value is not None and (in_force is None or value <= in_force):
            limits[(metric, period)] = Limit(metric, period, value)
        elif in_force is None:
            limits.pop((metric, period), None)  # removing a limit there is not
        else:
            limits[(metric, period)] = Limit(metric, period, in_force, value, format_time(now + INCREASE_DELAY))
    kept = [limit for limit in limits.values() if limit.value is not None or limit.pending_at is not None]
    return tuple(sorted(kept, key=lambda limit: (METRICS.index(limit.metric), PERIODS.index(limit.period))))


def _limits_view(currency: str, protection: Protection, now: datetime) -> AccountProtection:
    def amount(units: int | None) -> str | None:
        return None if units is None else format_amount(units, currency)

    limits: dict[str, dict[str, PlayerLimitView]] = {}
    for metric in METRICS:
        for period in PERIODS:
            limit = protection.limit(metric, period)
            if limit is None:
                continue
            limit = limit.settled(now)
            view: PlayerLimitView = {"value": amount(limit.value)}
            if limit.pending_at is not None:
                view["pending"] = {"value": amount(limit.pending), "effective_at": limit.pending_at}
            limits.setdefault(metric, {})[period] = view
    usage: dict[str, ProtectionWindowUsage] = {}
    for period in PERIODS:
        window = protection.window(period, now)
        usage[period] = {
            "window": window.key,
            "wagered": format_amount(window.wager, currency),
            "net_loss": format_amount(window.loss, currency),
            "deposited": format_amount(window.deposit, currency),
        }
    return {"limits": limits, "usage": usage}
