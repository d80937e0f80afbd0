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
    METRICS,
    PERIODS,
    DepositLimitReached,
    Exclusion,
    ExclusionKind,
    Limit,
    LossLimitReached,
    PlayerExcluded,
    Protection,
    ProtectionRefusal,
    Purpose,
    WagerLimitReached,
    Window,
    contribution,
    decide,
    format_time,
    purpose_of,
    undo,
    window_key,
    window_keys,
)
from tests.support.memory_ledger import MemoryLedgerStore

NOW = datetime(2026, 11, 29, 12, tzinfo=UTC)
PARIS, TOKYO = ZoneInfo("Europe/Paris"), ZoneInfo("Asia/Tokyo")
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


# --- the per-day key cache and the no-limit path against the calendar, decided afresh on every call ---------------


REFUSALS = {"wager": WagerLimitReached, "loss": LossLimitReached, "deposit": DepositLimitReached}


def reference_decide(protection: Protection, purpose: Purpose, amount: int, now: datetime) -> Protection:
    """What ``decide`` must answer, as the specification says it: each window's key worked out from the calendar
    on every call, every limit looked up (none binds when none is set)."""
    if purpose in (Purpose.STAKE, Purpose.DEPOSIT) and protection.excluded(now):
        raise PlayerExcluded("excluded")
    add = contribution(purpose, amount)
    windows = []
    for period in PERIODS:
        key = window_key(period, now)
        current = next((w for w in protection.windows if w.period == period and w.key == key), Window(period, key))
        after = Window(period, key, current.wager + add.wager, current.loss + add.loss, current.deposit + add.deposit)
        for metric in add.checked:
            limit = protection.limit(metric, period)
            value = None if limit is None else limit.at(now)
            if value is not None and after.get(metric) > value:
                raise REFUSALS[metric]("passed")
        windows.append(after)
    return Protection(protection.revision, protection.exclusion, protection.limits, tuple(windows))


moments = st.datetimes(
    min_value=datetime(1970, 1, 1),  # noqa: DTZ001 - hypothesis takes naive bounds and adds the zone
    max_value=datetime(2100, 1, 1),  # noqa: DTZ001
    timezones=st.sampled_from([UTC, PARIS, TOKYO]),
)


@st.composite
def protections(draw: st.DrawFn, now: datetime) -> Protection:
    def stored_key(period: str) -> str:  # the current window's key, or an older one
        return window_key(period, draw(st.sampled_from([now, now - timedelta(days=draw(st.integers(1, 400)))])))

    windows = tuple(
        Window(period, stored_key(period), *draw(st.tuples(*[st.integers(-(10**9), 10**9)] * 3)))
        for period in draw(st.lists(st.sampled_from(PERIODS), unique=True))
    )
    limits = tuple(
        Limit(metric, period, *draw(st.sampled_from([(v, None, None), (v, v * 2, format_time(now)), (v, None, None)])))
        for metric, period in draw(st.lists(st.sampled_from([(m, p) for m in METRICS for p in PERIODS]), unique=True))
        for v in [draw(st.integers(0, 10**9))]
    )
    exclusion = draw(
        st.sampled_from(
            [
                None,
                Exclusion(ExclusionKind.TIME_OUT, format_time(now + timedelta(hours=1)), format_time(now)),
                Exclusion(ExclusionKind.TIME_OUT, format_time(now - timedelta(hours=1)), format_time(now)),
            ]
        )
    )
    return Protection(draw(st.integers(0, 5)), exclusion, limits, windows)


@given(data=st.data(), now=moments, purpose=st.sampled_from(list(Purpose)), amount=st.just(0) | st.integers(0, 10**9))
@example(data=None, now=datetime(2027, 1, 1, tzinfo=UTC), purpose=Purpose.STAKE, amount=0)
def test_decide_answers_what_the_calendar_and_every_limit_say(
    data: st.DataObject | None, now: datetime, purpose: Purpose, amount: int
) -> None:
    protection = Protection() if data is None else data.draw(protections(now))
    try:
        expected: Protection | type[Exception] = reference_decide(protection, purpose, amount, now)
    except ProtectionRefusal as refusal:
        expected = type(refusal)
    try:
        found: Protection | type[Exception] = decide(protection, purpose, amount, now)
    except ProtectionRefusal as refusal:
        found = type(refusal)
    assert found == expected
    if isinstance(found, Protection) and isinstance(expected, Protection):
        assert found.windows == expected.windows  # not only the revision
        assert found.limits == expected.limits
    for period in PERIODS:
        assert protection.window(period, now) == next(
            (w for w in protection.windows if w.period == period and w.key == window_key(period, now)),
            Window(period, window_key(period, now)),
        )


@given(days=st.lists(moments, min_size=1, max_size=200))
def test_the_per_day_key_cache_always_answers_the_calendar(days: list[datetime]) -> None:
    for moment in days:
        assert window_keys(moment) == tuple(window_key(period, moment) for period in PERIODS)
