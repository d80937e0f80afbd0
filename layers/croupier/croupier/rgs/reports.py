"""What operators read: a round's public data (seed and crash point withheld until settlement or refund),
their players' rounds (game recall, paged) and revenue per day (UTC) and currency, with the house's and the
operator's shares: the day's counters summed over their shards, the house's share computed per house share
fixed on the rounds."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal, cast

from pydantic import Field
from typing_extensions import TypedDict

from croupier.checks import InvalidRequest
from croupier.errors import BadRequest, NotFound
from croupier.rgs.operators import OperatorSettings
from croupier.rgs.revenue import totals
from croupier.rgs.rounds import REVEALED, StoredRound, iso_ms
from croupier.rgs.store import RgsStore, RoundKey, player_pk, revenue_rows

MAX_RANGE_DAYS = 366
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
RECALL_DEFAULT_LIMIT = 20
RECALL_MAX_LIMIT = 100
FIRST_MS, LAST_MS = 0, 253_402_300_799_999
"""The range of a recall without ``from`` or ``to``: 1970-01-01 to 9999-12-31T23:59:59.999Z."""
MAX_CURSOR_CHARS = 512
_PLAYER_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")  # as the launch takes it
_ROUND_ID = re.compile(r"r_[0-9a-f]{32}")
_MS = re.compile(r"\d{1,15}")


class InvalidRange(BadRequest):
    code = "INVALID_RANGE"


class UnknownRound(NotFound):
    code = "UNKNOWN_ROUND"


class InvalidLimit(BadRequest):
    code = "INVALID_LIMIT"


class InvalidCursor(BadRequest):
    code = "INVALID_CURSOR"


class RecallRound(TypedDict):
    """One of a player's rounds for its operator (game recall): ``server_seed`` and ``crash_point`` are null
    until the round is settled or refunded; the balances are what the operator's wallet answered."""

    round_id: str
    session_id: str
    status: str
    currency: str
    bet_minor: int
    payout_minor: Annotated[int | None, Field(description="the win (0 when crashed), null until settled")]
    cash_out: Annotated[str | None, Field(description="the multiplier cashed out at, null when none")]
    balance_before_minor: Annotated[
        int | None, Field(description="the wallet's balance just before the bet: its answer to the bet plus the bet")
    ]
    balance_after_bet_minor: Annotated[int | None, Field(description="the wallet's answer to the bet")]
    balance_after_minor: Annotated[
        int | None,
        Field(description="after the round: the wallet's answer to the win or refund (to the bet when crashed)"),
    ]
    created_at: Annotated[str, Field(description="ISO-8601 UTC, ms: when the bet was stored")]
    started_at: Annotated[str | None, Field(description="ISO-8601 UTC, ms: when the wallet took the bet")]
    settled_at: Annotated[str | None, Field(description="ISO-8601 UTC, ms: when it crashed or was cashed out")]
    server_seed_hash: str
    client_seed: str
    nonce: int
    rtp_target: str
    max_win_multiplier: int
    crash_point: Annotated[str | None, Field(description="null until settled or refunded")]
    server_seed: Annotated[str | None, Field(description="null until settled or refunded")]


class RecallAnswer(TypedDict):
    ok: Literal[True]
    operator_player_id: str
    rounds: Annotated[list[RecallRound], Field(description="newest first (by created_at)")]
    next_cursor: Annotated[str | None, Field(description="the next page's cursor, null on the last page")]


class RevenueDay(TypedDict):
    period_day: Annotated[str, Field(description="YYYY-MM-DD (UTC), the day the rounds started")]
    currency: str
    ggr_minor: int
    house_share_minor: int
    operator_share_minor: int
    rounds: int


class RevenueAnswer(TypedDict):
    ok: Literal[True]
    days: list[RevenueDay]


class Outcome(TypedDict):
    crashPoint: str
    mapSeed: str
    lootSeed: str
    guardSeed: str


class RoundView(TypedDict):
    """A round for its operator: ``server_seed`` and the outcome are null until it is settled or refunded."""

    ok: Literal[True]
    round_id: str
    status: str
    server_seed_hash: str
    client_seed: str
    nonce: int
    currency: str
    bet_minor: int
    rtp_target: str
    max_win_multiplier: int
    server_seed: str | None
    outcome: Outcome | None
    realized_multiplier: str | None
    payout_minor: int | None


def parse_range(query: Mapping[str, str]) -> tuple[date, date]:
    """``from`` and ``to`` as YYYY-MM-DD, ``from <= to``, at most 366 days (both ends included)."""
    days: list[date] = []
    for name in ("from", "to"):
        raw = query.get(name)
        if raw is None or not _DAY.fullmatch(raw):
            raise InvalidRange(f"{name} must be a date as YYYY-MM-DD")
        try:
            days.append(date.fromisoformat(raw))
        except ValueError:
            raise InvalidRange(f"{name} is not a calendar date") from None
    first, last = days
    if first > last:
        raise InvalidRange("from is after to")
    if (last - first).days + 1 > MAX_RANGE_DAYS:
        raise InvalidRange(f"a range covers at most {MAX_RANGE_DAYS} days")
    return first, last


def revenue(store: RgsStore, operator_id: str, settings: OperatorSettings, query: Mapping[str, str]) -> RevenueAnswer:
    first, last = parse_range(query)
    days: list[RevenueDay] = []
    rows = revenue_rows(store, operator_id, first.isoformat(), last.isoformat())
    for (day, currency), total in totals(rows, Decimal(settings.house_share)).items():
        days.append(
            {
                "period_day": day,
                "currency": currency,
                "ggr_minor": total.ggr_minor,
                "house_share_minor": total.house_minor,
                "operator_share_minor": total.ggr_minor - total.house_minor,
                "rounds": total.rounds,
            }
        )
    return {"ok": True, "days": sorted(days, key=lambda d: (d["period_day"], d["currency"]))}


def round_view(stored: StoredRound | None, operator_id: str) -> RoundView:
    """providers.md's round: ``server_seed`` and the outcome only once the round is settled or refunded."""
    if stored is None or stored.round.operator_id != operator_id:
        raise UnknownRound("no such round for this operator")
    placed = stored.round
    view: RoundView = {
        "ok": True,
        "round_id": placed.round_id,
        "status": stored.status,
        "server_seed_hash": placed.server_seed_hash,
        "client_seed": placed.client_seed,
        "nonce": placed.nonce,
        "currency": placed.currency,
        "bet_minor": placed.bet_minor,
        "rtp_target": placed.rtp_target,
        "max_win_multiplier": placed.max_win_multiplier,
        "server_seed": None,
        "outcome": None,
        "realized_multiplier": None,
        "payout_minor": None,
    }
    if stored.status in REVEALED:
        from croupier import fairness

        outcome = fairness.outcome(
            placed.opened_server_seed,
            placed.client_seed,
            placed.nonce,
            rtp=placed.rtp_target,
            max_win_multiplier=placed.max_win_multiplier,
        )
        view["server_seed"] = placed.opened_server_seed
        view["outcome"] = cast(Outcome, outcome.as_dict())
        settlement = stored.settlement  # none for a refunded round
        view["realized_multiplier"] = (settlement.cash_out if settlement else None) or "0.00"
        view["payout_minor"] = settlement.payout_minor if settlement else 0
    return view


def recall(store: RgsStore, operator_id: str, operator_player_id: str, query: Mapping[str, str]) -> RecallAnswer:
    """The operator's player's rounds created from ``from`` to ``to`` (both included; ISO-8601 with a zone, or
    unix ms), newest first, ``limit`` (1-100, 20) a page; ``cursor`` (from ``next_cursor``) carries its range,
    so ``from`` and ``to`` sent with it must be the same or absent. Another operator's player of the same id
    is another player: none of their rounds are found. Nothing is written (an open round past its time is
    settled by the sweeper, not here)."""
    if not _PLAYER_ID.fullmatch(operator_player_id):
        raise InvalidRequest("operator_player_id: 1 to 64 of A-Z a-z 0-9 _ . : -")
    limit = _limit(query.get("limit"))
    first, last = _instant(query.get("from"), "from", FIRST_MS), _instant(query.get("to"), "to", LAST_MS)
    player = _player_tag(operator_id, operator_player_id)
    after = None
    if "cursor" in query:
        first, last, after = _read_cursor(query["cursor"], player, query, first, last)
    elif first > last:
        raise InvalidRange("from is after to")
    rounds, more = store.player_rounds(
        operator_id, operator_player_id, first_ms=first, last_ms=last, limit=limit, after=after
    )
    return {
        "ok": True,
        "operator_player_id": operator_player_id,
        "rounds": [recall_view(stored) for stored in rounds],
        "next_cursor": None if more is None else _cursor(player, first, last, more),
    }


def recall_view(stored: StoredRound) -> RecallRound:
    placed, settlement, started = stored.round, stored.settlement, stored.started_at_ms
    revealed = stored.status in REVEALED
    bet_balance = stored.bet_balance_minor
    after = stored.win_balance_minor
    if after is None:
        after = stored.refund_balance_minor
    if after is None and stored.status == "crashed":
        after = bet_balance  # a crashed round moves no more money: the balance after it is the bet's answer
    settled_at = settlement.settled_at_ms if settlement else None
    return {
        "round_id": placed.round_id,
        "session_id": placed.session_id,
        "status": stored.status,
        "currency": placed.currency,
        "bet_minor": placed.bet_minor,
        "payout_minor": settlement.payout_minor if settlement else None,
        "cash_out": settlement.cash_out if settlement else None,
        "balance_before_minor": None if bet_balance is None else bet_balance + placed.bet_minor,
        "balance_after_bet_minor": bet_balance,
        "balance_after_minor": after,
        "created_at": iso_ms(int(placed.created_at_ms or 0)),
        "started_at": iso_ms(started) if started is not None else None,
        "settled_at": iso_ms(settled_at) if settled_at is not None else None,
        "server_seed_hash": placed.server_seed_hash,
        "client_seed": placed.client_seed,
        "nonce": placed.nonce,
        "rtp_target": placed.rtp_target,
        "max_win_multiplier": placed.max_win_multiplier,
        "crash_point": f"{Decimal(placed.opened_crash_cents).scaleb(-2):.2f}" if revealed else None,
        "server_seed": placed.opened_server_seed if revealed else None,
    }


def _limit(raw: str | None) -> int:
    if raw is None:
        return RECALL_DEFAULT_LIMIT
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= RECALL_MAX_LIMIT:
        raise InvalidLimit(f"limit must be a whole number from 1 to {RECALL_MAX_LIMIT}")
    return int(raw)


def _instant(raw: str | None, name: str, default: int) -> int:
    """Unix milliseconds, or ISO-8601 with its zone (``Z`` or an offset), as unix ms."""
    if raw is None:
        return default
    if raw.isascii() and _MS.fullmatch(raw):
        ms = int(raw)
    else:
        try:
            moment = datetime.fromisoformat(raw) if raw.isascii() and "T" in raw else None
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None:
            raise InvalidRange(f"{name} must be unix milliseconds or ISO-8601 with a zone (e.g. 2026-11-29T12:00:00Z)")
        ms = int(moment.timestamp() * 1000)
    if not FIRST_MS <= ms <= LAST_MS:
        raise InvalidRange(f"{name} is out of range (1970 to 9999)")
    return ms


def _player_tag(operator_id: str, operator_player_id: str) -> str:
    """Names the player (and its operator) in a cursor without showing them."""
    return hashlib.sha256(player_pk(operator_id, operator_player_id).encode()).hexdigest()[:32]


def _cursor(player: str, first: int, last: int, key: RoundKey) -> str:
    text = json.dumps({"v": 1, "p": player, "f": first, "l": last, "at": key.created_at_ms, "r": key.round_id})
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _read_cursor(raw: str, player: str, query: Mapping[str, str], first: int, last: int) -> tuple[int, int, RoundKey]:
    """The range and position a cursor of ours carries, for this player; 400 INVALID_CURSOR for anything else
    (not ours, another player's or operator's, or sent with another ``from`` or ``to``)."""
    try:
        if len(raw) > MAX_CURSOR_CHARS or not raw.isascii():
            raise ValueError
        found = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        if not isinstance(found, dict) or found.get("v") != 1:
            raise ValueError
        numbers = [found.get(name) for name in ("f", "l", "at")]
        if not all(type(n) is int and FIRST_MS <= n <= LAST_MS for n in numbers):
            raise ValueError
        round_id = found.get("r")
        if not isinstance(round_id, str) or not _ROUND_ID.fullmatch(round_id):
            raise ValueError
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidCursor("cursor is not one this route answered") from None
    if found.get("p") != player:
        raise InvalidCursor("cursor belongs to another player's recall")
    if ("from" in query and first != found["f"]) or ("to" in query and last != found["l"]):
        raise InvalidCursor("cursor was answered for another from/to: send the same or none")
    return found["f"], found["l"], RoundKey(found["at"], round_id)
