"""Revenue off the player's path: the RgsTable's stream hands every change of a round to the aggregator
(``RgsRevenueFunction``), which adds each round that became settled to the day's sharded counters, once.

- A round counts when a stream record shows it settled (``crashed``, ``cashed_out`` or ``paid``) and its
  old image did not (``cashed_out`` → ``paid`` is the same round again). Its day is the day (UTC) it
  started, its house share the one fixed on it at settlement. A round settled before that field existed was
  counted in its settlement's own transaction and is left alone.
- The batch's rounds are grouped by operator, day, currency and house share, and each group (up to 99 rounds)
  is one transaction: a marker per round (``attribute_not_exists``) and one counter of :data:`REVENUE_SHARDS`.
  A redelivered record finds its marker and changes nothing; a conflict, throttling or a lost answer is
  retried with jitter; a group that still fails is reported (``batchItemFailures``, the records' sequence
  numbers) and Lambda hands the stream from there again.
- :func:`recompute` adds up a day from the settled rounds themselves (``croupier rgs revenue recompute``).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from croupier.observability import count, logger
from croupier.rgs.curve import revenue_shares
from croupier.rgs.rounds import Round, Settlement, StoredRound, day_of
from croupier.rgs.store import (
    ROUND_SK,
    CountedRound,
    CounterKey,
    RgsStore,
    count_revenue,
    revenue_rows,
    settled_rounds,
)

SETTLED = frozenset({"crashed", "cashed_out", "paid"})
MAX_ROUNDS_PER_WRITE = 99


def share_text(share: str | Decimal) -> str:
    """One spelling per value (``0.15``, never ``0.150``): a counter's key holds it."""
    text = format(Decimal(share).normalize(), "f")
    return text


@dataclass(frozen=True, slots=True)
class SettledRound:
    key: CounterKey
    counted: CountedRound
    sequence: str


def _status(image: Mapping[str, Any] | None) -> str | None:
    value = (image or {}).get("status", {}).get("S")
    return value if isinstance(value, str) else None


def settled_in(record: Mapping[str, Any]) -> SettledRound | None:
    """The round this stream record settled, or None (another item, another change, a round of before)."""
    if record.get("eventName") not in ("INSERT", "MODIFY"):
        return None
    change = record["dynamodb"]
    new = change.get("NewImage") or {}
    if new.get("sk", {}).get("S") != ROUND_SK or _status(new) not in SETTLED:
        return None
    if _status(change.get("OldImage")) in SETTLED:
        return None  # cashed_out -> paid, or a write that left it settled: counted when it settled
    settlement = Settlement.from_dict(json.loads(new["settlement"]["S"]))
    if settlement.house_share is None:
        return None  # settled before the stream counted: its settlement's transaction counted it
    placed = Round.from_json(new["round"]["S"])
    started = int(json.loads(new["started_at_ms"]["S"]))
    return SettledRound(
        key=CounterKey(placed.operator_id, day_of(started), placed.currency, share_text(settlement.house_share)),
        counted=CountedRound(placed.round_id, placed.bet_minor, settlement.payout_minor),
        sequence=str(change["SequenceNumber"]),
    )


def aggregate(store: RgsStore, records: Iterable[Mapping[str, Any]], *, now_s: int) -> dict[str, list[dict[str, str]]]:
    """One stream batch: every settled round added once; the answer names the records to hand again."""
    groups: dict[CounterKey, list[SettledRound]] = defaultdict(list)
    for record in records:
        try:
            found = settled_in(record)
        except (KeyError, TypeError, ValueError):
            logger.exception("a malformed round in the stream; skipped", extra={"event_id": record.get("eventID")})
            count("RevenueRecordsSkipped")
            continue
        if found is not None:
            groups[found.key].append(found)
    failed: list[str] = []
    for key, rounds in groups.items():
        for start in range(0, len(rounds), MAX_ROUNDS_PER_WRITE):
            chunk = rounds[start : start + MAX_ROUNDS_PER_WRITE]
            try:
                added = count_revenue(store, key, [r.counted for r in chunk], now_s=now_s)
            except Exception:
                logger.exception("counting revenue failed; the stream hands it again", extra={"rounds": len(chunk)})
                count("RevenueBatchFailures")
                failed.extend(r.sequence for r in chunk)
                continue
            count("RevenueRoundsCounted", added)
    return {"batchItemFailures": [{"itemIdentifier": sequence} for sequence in sorted(set(failed), key=int)]}


@dataclass(frozen=True, slots=True)
class DayTotal:
    """A day's revenue in one currency: the counters' sums, the shares computed per house share."""

    bets_minor: int
    wins_minor: int
    rounds: int
    house_minor: int

    @property
    def ggr_minor(self) -> int:
        return self.bets_minor - self.wins_minor

    def as_dict(self) -> dict[str, int]:
        return {
            "bets_minor": self.bets_minor,
            "wins_minor": self.wins_minor,
            "rounds": self.rounds,
            "ggr_minor": self.ggr_minor,
            "house_share_minor": self.house_minor,
        }


def totals(rows: Iterable[Mapping[str, Any]], current_share: Decimal) -> dict[tuple[str, str], DayTotal]:
    """Per (day, currency): the shards summed; the house's share is each house share's GGR times it, rounded
    toward zero, added up (rows of before, with no share of their own, take ``current_share``)."""
    by_share: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for row in rows:
        share = share_text(row["house_share"] if row["house_share"] is not None else current_share)
        sums = by_share[(row["period_day"], row["currency"], share)]
        sums[0] += row["bets_minor"]
        sums[1] += row["wins_minor"]
        sums[2] += row["rounds"]
    days: dict[tuple[str, str], DayTotal] = {}
    for (day, currency, share), (bets, wins, rounds) in sorted(by_share.items()):
        house = revenue_shares(bets - wins, Decimal(share)).house_minor
        before = days.get((day, currency), DayTotal(0, 0, 0, 0))
        days[(day, currency)] = DayTotal(
            before.bets_minor + bets, before.wins_minor + wins, before.rounds + rounds, before.house_minor + house
        )
    return days


def counted(store: RgsStore, operator_id: str, day: str, current_share: Decimal) -> dict[str, DayTotal]:
    """The counters of one day, per currency."""
    found = totals(revenue_rows(store, operator_id, day, day), current_share)
    return {currency: total for (_, currency), total in found.items()}


def recompute(
    store: RgsStore, operator_id: str, day: str, current_share: Decimal, *, unreadable: list[str] | None = None
) -> dict[str, DayTotal]:
    """One day's revenue per currency from the settled rounds themselves (a scan of the table); the keys of
    items that claim a settled status but are not whole rounds go to ``unreadable``."""
    rows = [
        row
        for stored in settled_rounds(store, unreadable=unreadable)
        if (row := _row(stored)) is not None and row["operator_id"] == operator_id and row["period_day"] == day
    ]
    found = totals(rows, current_share)
    return {currency: total for (_, currency), total in found.items()}


def _row(stored: StoredRound) -> dict[str, Any] | None:
    settlement, started = stored.settlement, stored.started_at_ms
    if settlement is None or started is None:
        return None
    return {
        "operator_id": stored.round.operator_id,
        "period_day": day_of(started),
        "currency": stored.round.currency,
        "house_share": settlement.house_share,
        "bets_minor": stored.round.bet_minor,
        "wins_minor": settlement.payout_minor,
        "rounds": 1,
    }
