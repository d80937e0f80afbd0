"""What operators read: a round's public data (seed and crash point withheld until settlement or refund)
and revenue per day (UTC) and currency, with the house's and the operator's shares: the day's counters
summed over their shards, the house's share computed per house share fixed on the rounds."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Annotated, Literal, cast

from pydantic import Field
from typing_extensions import TypedDict

from croupier.errors import BadRequest, NotFound
from croupier.rgs.operators import OperatorSettings
from croupier.rgs.revenue import totals
from croupier.rgs.rounds import REVEALED
from croupier.rgs.store import RgsStore, StoredRound, revenue_rows

MAX_RANGE_DAYS = 366
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


class InvalidRange(BadRequest):
    code = "INVALID_RANGE"


class UnknownRound(NotFound):
    code = "UNKNOWN_ROUND"


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
    if stored is None or stored.data["operator_id"] != operator_id:
        raise UnknownRound("no such round for this operator")
    data = stored.data
    view: RoundView = {
        "ok": True,
        "round_id": data["round_id"],
        "status": stored.status,
        "server_seed_hash": data["server_seed_hash"],
        "client_seed": data["client_seed"],
        "nonce": data["nonce"],
        "currency": data["currency"],
        "bet_minor": data["bet_minor"],
        "rtp_target": data["rtp_target"],
        "max_win_multiplier": data["max_win_multiplier"],
        "server_seed": None,
        "outcome": None,
        "realized_multiplier": None,
        "payout_minor": None,
    }
    if stored.status in REVEALED:
        from croupier import fairness

        outcome = fairness.outcome(
            data["server_seed"],
            data["client_seed"],
            data["nonce"],
            rtp=data["rtp_target"],
            max_win_multiplier=data["max_win_multiplier"],
        )
        view["server_seed"] = data["server_seed"]
        view["outcome"] = cast(Outcome, outcome.as_dict())
        settlement = stored.fields.get("settlement") or {}
        cents = settlement.get("cash_out_cents") or 0
        view["realized_multiplier"] = f"{Decimal(cents).scaleb(-2):.2f}" if cents else "0.00"
        view["payout_minor"] = settlement.get("payout_minor", 0)
    return view
