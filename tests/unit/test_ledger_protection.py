"""Player protection's arithmetic (no sockets): window keys, limits at their boundary, pending changes, what each
movement counts as, and the ledger refusing from a stale snapshot only after a live read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from croupier.ledger import AccountKey, AccountState, Kind, Ledger, Movement
from croupier.ledger.protection import (
    Exclusion,
    ExclusionKind,
    Limit,
    LossLimitReached,
    PlayerExcluded,
    Protection,
    Purpose,
    WagerLimitReached,
    decide,
    format_time,
    purpose_of,
    undo,
    window_key,
)
from tests.support.memory_ledger import MemoryLedgerStore

NOW = datetime(2026, 11, 29, 12, tzinfo=UTC)
ALICE = AccountKey("alice", "EUR")


@pytest.mark.parametrize(
    ("moment", "day", "week", "month"),
    [
        (datetime(2026, 11, 29, 23, 59, 59, 999999, tzinfo=UTC), "2026-11-29", "2026-W48", "2026-11"),
        (datetime(2026, 11, 30, tzinfo=UTC), "2026-11-30", "2026-W49", "2026-11"),
        (datetime(2027, 1, 1, tzinfo=UTC), "2027-01-01", "2026-W53", "2027-01"),  # ISO year 2026 has 53 weeks
        (datetime(2027, 1, 4, tzinfo=UTC), "2027-01-04", "2027-W01", "2027-01"),
        (
            datetime(2026, 11, 30, 0, 30, tzinfo=UTC).astimezone(ZoneInfo("America/New_York")),
            "2026-11-30",
            "2026-W49",
            "2026-11",
        ),  # a local time is taken in UTC
    ],
)
def test_windows_are_the_utc_day_the_iso_week_and_the_calendar_month(
    moment: datetime, day: str, week: str, month: str
) -> None:
    assert (window_key("day", moment), window_key("week", moment), window_key("month", moment)) == (day, week, month)


@given(limit=st.integers(0, 10**9), spent=st.integers(0, 10**9), amount=st.integers(0, 10**9))
@example(limit=0, spent=1, amount=0)  # a total already past its limit (a decrease): even a stake of 0 is refused
@example(limit=5, spent=5, amount=0)  # at the limit exactly: a stake of 0 passes
def test_a_stake_passes_exactly_when_the_total_stays_within_every_limit(limit: int, spent: int, amount: int) -> None:
    protection = decide(Protection(), Purpose.STAKE, spent, NOW)
    protection = Protection(limits=(Limit("wager", "week", limit),), windows=protection.windows)
    if spent + amount <= limit:
        assert decide(protection, Purpose.STAKE, amount, NOW).window("week", NOW).wager == spent + amount
    else:
        with pytest.raises(WagerLimitReached):
            decide(protection, Purpose.STAKE, amount, NOW)


def test_wins_lower_the_net_loss_and_refunds_take_their_stake_out_of_the_windows_it_was_counted_in() -> None:
    limited = Protection(limits=(Limit("loss", "day", 100),))
    after = decide(limited, Purpose.STAKE, 100, NOW)
    with pytest.raises(LossLimitReached):
        decide(after, Purpose.STAKE, 1, NOW)
    after = decide(after, Purpose.WIN, 30, NOW)
    assert decide(after, Purpose.STAKE, 30, NOW).window("day", NOW).loss == 100
    yesterday = format_time(NOW - timedelta(days=1))
    undone = undo(after, Purpose.STAKE, 50, yesterday, NOW)
    assert undone.window("day", NOW).loss == 70, "yesterday's stake is not today's"
    assert undone.window("month", NOW).loss == 20, "but it is this month's"


def test_what_each_movement_counts_as() -> None:
    assert (purpose_of("admin", True), purpose_of("admin", False)) == (Purpose.WITHDRAWAL, Purpose.DEPOSIT)
    assert (purpose_of("ruby", True), purpose_of("rgs:op", False)) == (Purpose.STAKE, Purpose.WIN)
    excluded = Protection(exclusion=Exclusion(ExclusionKind.SELF_EXCLUSION, None, format_time(NOW)))
    for purpose in (Purpose.WIN, Purpose.WITHDRAWAL):
        decide(excluded, purpose, 10, NOW)  # never refused by the exclusion
    for purpose in (Purpose.STAKE, Purpose.DEPOSIT):  # no play, and no money to fund it
        with pytest.raises(PlayerExcluded):
            decide(excluded, purpose, 0, NOW)


def test_a_pending_increase_applies_from_its_time_on() -> None:
    at = format_time(NOW + timedelta(hours=24))
    limit = Limit("wager", "day", 10, 20, at)
    assert limit.at(NOW + timedelta(hours=24) - timedelta(microseconds=1)) == 10
    assert limit.at(NOW + timedelta(hours=24)) == 20
    assert limit.settled(NOW + timedelta(hours=24)) == Limit("wager", "day", 20)
    assert Limit("wager", "day", 10, None, at).at(NOW + timedelta(days=2)) is None


def test_a_refusal_from_a_cached_snapshot_is_taken_again_from_a_live_read() -> None:
    store = MemoryLedgerStore()
    store.open(ALICE)
    ledger = Ledger(store, now=lambda: format_time(NOW))
    ledger.move(Movement("admin", "seed", ALICE, Kind.CREDIT, 1000))
    excluded = Protection(revision=1, exclusion=Exclusion(ExclusionKind.TIME_OUT, None, format_time(NOW)))
    ledger.snapshots.put(ALICE, AccountState(1000, 1, excluded))  # a stale snapshot: the exclusion was lifted
    store.accounts[ALICE] = AccountState(1000, 1, Protection(revision=2))
    reads = store.reads
    assert ledger.move(Movement("ruby", "bet", ALICE, Kind.DEBIT, 10)).balance_after == 990
    assert store.reads == reads + 2, "the entry (a replay?) and the account, read live"
