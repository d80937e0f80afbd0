"""The ledger's logic over an in-memory store: money moves once per transaction id, reversals at most once,
the snapshot cache is only a hint, and transient failures are retried within the attempts and the time budget.

(The same behaviour against DynamoDB Local, through the handlers, is in tests/integration/test_ledger_*.)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from croupier.errors import CroupierError
from croupier.ledger import (
    AccountKey,
    AccountState,
    BackingExceeded,
    BackingSettled,
    Effect,
    Entry,
    IdempotencyConflict,
    InsufficientFunds,
    Kind,
    Ledger,
    Movement,
    NotReversible,
    ReplayedRequest,
    RetriesExhausted,
    Reversal,
    ReversalAmountMismatch,
    ReversedBeforeArrival,
    SnapshotCache,
    UnbackedCredit,
    UnknownAccount,
    service,
    signature_digest,
)
from croupier.ledger.service import BACKOFF_BASE_SECONDS, BACKOFF_CAP_SECONDS, utc_now_iso
from croupier.ledger.store import CommitResult, Failed
from tests.support.memory_ledger import MemoryLedgerStore

ALICE = AccountKey("alice", "EUR")
BOB = AccountKey("bob", "EUR")
NOW = "2026-11-29T12:00:00.000000Z"
TRANSIENT = CommitResult(ok=False, failed=frozenset({Failed.TRANSIENT}), transient="ThrottlingException")


class Clock:
    """A monotonic clock that only sleeping moves, and the pauses taken."""

    def __init__(self) -> None:
        self.now = 0.0
        self.pauses: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.now += seconds

    def monotonic(self) -> float:
        return self.now


def raises(error: type[Exception], call: Callable[[], object]) -> Exception:
    """The error ``call`` raises, which must carry a message: the API answers it to the provider."""
    with pytest.raises(error) as raised:
        call()
    assert isinstance(raised.value, CroupierError)
    assert raised.value.message
    return raised.value


def ledger_on(store: MemoryLedgerStore, clock: Clock | None = None, **options: float) -> Ledger:
    clock = clock or Clock()
    return Ledger(store, now=lambda: NOW, sleep=clock.sleep, monotonic=clock.monotonic, **options)


def funded(amount: int = 10_000) -> tuple[MemoryLedgerStore, Ledger]:
    store = MemoryLedgerStore()
    store.open(ALICE)
    store.open(BOB)
    ledger = ledger_on(store)
    ledger.move(credit("deposit", amount))
    return store, ledger


def debit(tx_id: str, amount: int, account: AccountKey = ALICE, **extra: str) -> Movement:
    return Movement("ruby", tx_id, account, Kind.DEBIT, amount, **extra)


def credit(tx_id: str, amount: int, account: AccountKey = ALICE) -> Movement:
    return Movement("ruby", tx_id, account, Kind.CREDIT, amount)


def rollback(tx_id: str, target: str, amount: int | None = None, **extra: object) -> Reversal:
    return Reversal("ruby", tx_id, target, ALICE, amount, **extra)


# --- movements -----------------------------------------------------------------------------------------


def test_a_debit_and_a_credit_move_the_balance_and_count_the_version() -> None:
    store, ledger = funded(10_000)
    bet = ledger.move(debit("bet-1", 1_500, meta={"round": "r-1"}))
    win = ledger.move(credit("win-1", 4_000))
    assert (bet.balance_before, bet.balance_after, bet.replayed) == (10_000, 8_500, False)
    assert (win.balance_before, win.balance_after) == (8_500, 12_500)
    assert (bet.entry.delta, bet.entry.amount, bet.entry.version, bet.entry.kind) == (-1_500, 1_500, 2, Kind.DEBIT)
    assert (win.entry.delta, win.entry.version, win.entry.created_at) == (4_000, 3, NOW)
    assert bet.entry.meta == {"round": "r-1"}
    assert store.accounts[ALICE] == AccountState(12_500, 3)
    assert ledger.balance(ALICE) == AccountState(12_500, 3)


def test_a_debit_of_the_whole_balance_is_allowed_one_unit_more_is_not() -> None:
    store, ledger = funded(1_000)
    raises(InsufficientFunds, lambda: ledger.move(debit("bet-1", 1_001)))
    assert ledger.move(debit("bet-2", 1_000)).balance_after == 0
    assert store.accounts[ALICE] == AccountState(0, 2)


def test_a_credit_needs_no_funds() -> None:
    store, ledger = funded(0)
    ledger.move(credit("win-1", 500))
    assert [plan.require_funds for plan in store.commits] == [0, 0]


def test_the_same_movement_again_is_answered_from_its_entry() -> None:
    store, ledger = funded(10_000)
    first = ledger.move(debit("bet-1", 1_500))
    again = ledger.move(debit("bet-1", 1_500))
    assert again.replayed
    assert again.entry == first.entry
    assert store.accounts[ALICE] == AccountState(8_500, 2)


@pytest.mark.parametrize(
    "other",
    [debit("bet-1", 1_501), credit("bet-1", 1_500), debit("bet-1", 1_500, BOB), debit("bet-1", 1_500, reference="x")],
    ids=["amount", "kind", "account", "reference"],
)
def test_the_same_transaction_id_with_other_content_is_a_conflict(other: Movement) -> None:
    store, ledger = funded(10_000)
    ledger.move(debit("bet-1", 1_500))
    raises(IdempotencyConflict, lambda: ledger.move(other))
    assert store.accounts[ALICE] == AccountState(8_500, 2)


def test_an_unknown_account_moves_nothing() -> None:
    store = MemoryLedgerStore()
    ledger = ledger_on(store)
    raises(UnknownAccount, lambda: ledger.move(credit("win-1", 100)))
    raises(UnknownAccount, lambda: ledger.balance(ALICE))
    assert store.entries == {}


def test_an_account_gone_since_it_was_cached_is_unknown_and_forgotten() -> None:
    store, ledger = funded(1_000)
    del store.accounts[ALICE]
    raises(UnknownAccount, lambda: ledger.move(debit("bet-1", 100)))
    assert ledger.snapshots.get(ALICE) is None


def test_a_stale_snapshot_is_corrected_by_the_failed_condition_without_a_read() -> None:
    store, mine = funded(10_000)
    other = ledger_on(store)  # another execution environment, with a cache of its own
    other.move(debit("bet-elsewhere", 3_000))
    store.read_errors = 100  # no read may be needed: any read would fail
    outcome = mine.move(debit("bet-1", 1_000))
    assert (outcome.balance_before, outcome.balance_after, outcome.entry.version) == (7_000, 6_000, 3)
    assert [plan.expected.version for plan in store.commits[-2:]] == [1, 2]


def test_funds_are_decided_by_the_stored_balance_not_the_snapshot() -> None:
    store, mine = funded(10_000)
    ledger_on(store).move(debit("bet-elsewhere", 9_500))
    raises(InsufficientFunds, lambda: mine.move(debit("bet-1", 1_000)))
    assert mine.snapshots.get(ALICE) == AccountState(500, 2)  # the decline brought the newest state back


def test_lost_races_are_retried_at_once_within_the_time_budget() -> None:
    store, _ = funded(10_000)
    clock = Clock()
    mine, other = ledger_on(store, clock), ledger_on(store)
    mine.balance(ALICE)
    store.meanwhile(lambda: other.move(debit("bet-a", 1_000)), lambda: other.move(debit("bet-b", 1_000)))
    outcome = mine.move(debit("bet-1", 100))
    assert (outcome.balance_before, outcome.balance_after, outcome.entry.version) == (8_000, 7_900, 4)
    assert clock.pauses == []
    assert [plan.expected.version for plan in store.commits if plan.entry.tx_id == "bet-1"] == [1, 2, 3]


def test_transient_failures_back_off_with_growing_capped_pauses_then_succeed() -> None:
    store, _ = funded(10_000)
    clock = Clock()
    ledger = ledger_on(store, clock)
    store.fail_next(*[TRANSIENT] * 5)
    assert ledger.move(debit("bet-1", 100)).balance_after == 9_900
    assert len(clock.pauses) == 5
    for attempt, pause in enumerate(clock.pauses):
        assert 0 <= pause <= min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt)
    plans = store.commits[1:]
    assert len({plan.token for plan in plans}) == 1  # each retry resends the same plan


def test_transient_failures_end_after_max_attempts_with_no_pause_after_the_last() -> None:
    store, _ = funded(10_000)
    clock = Clock()
    ledger = ledger_on(store, clock, max_attempts=3)
    store.fail_next(*[TRANSIENT] * 10)
    assert raises(RetriesExhausted, lambda: ledger.move(debit("bet-1", 100))).code == "RETRY_LATER"  # type: ignore[attr-defined]
    assert (len(store.commits), len(clock.pauses)) == (1 + 3, 2)
    assert store.accounts[ALICE] == AccountState(10_000, 1)


def test_an_answer_lost_after_the_commit_is_done_once() -> None:
    store, ledger = funded(10_000)
    store.lose_next_answers(1)
    outcome = ledger.move(debit("bet-1", 1_000))
    assert (outcome.balance_after, outcome.replayed) == (9_000, False)
    assert store.accounts[ALICE] == AccountState(9_000, 2)


def test_every_answer_lost_is_answered_from_what_was_stored() -> None:
    store, _ = funded(10_000)
    ledger = ledger_on(store, max_attempts=2)
    store.lose_next_answers(1)
    uncertain = CommitResult(ok=False, failed=frozenset({Failed.TRANSIENT}), transient="ReadTimeout", uncertain=True)
    original = store.commit

    def commit_then_lose(plan: object) -> CommitResult:
        original(plan)
        return uncertain

    store.commit = commit_then_lose
    outcome = ledger.move(debit("bet-1", 1_000))
    assert (outcome.balance_after, outcome.replayed) == (9_000, True)


def test_every_answer_lost_before_the_commit_is_retry_later() -> None:
    store, _ = funded(10_000)
    ledger = ledger_on(store, max_attempts=2)
    uncertain = CommitResult(ok=False, failed=frozenset({Failed.TRANSIENT}), transient="ReadTimeout", uncertain=True)
    store.fail_next(uncertain, uncertain)
    raises(RetriesExhausted, lambda: ledger.move(debit("bet-1", 1_000)))


def test_a_token_used_by_another_request_rebuilds_the_plan() -> None:
    store, ledger = funded(10_000)
    store.fail_next(CommitResult(ok=False, failed=frozenset({Failed.TOKEN_REUSED})))
    assert ledger.move(debit("bet-1", 1_000)).balance_after == 9_000
    assert store.commits[-1].entry == store.commits[-2].entry


# --- aliases (a second idempotency key held by the same transaction) ------------------------------------


def test_an_alias_holds_its_key_against_any_other_movement() -> None:
    store, ledger = funded(10_000)
    ledger.move(debit("round-1", 1_000, alias="tx:op-1"))
    marker = store.entries[("ruby", "tx:op-1")]
    assert (marker.kind, marker.target_tx_id, marker.amount, marker.version) == (Kind.MARKER, "round-1", 0, 0)
    raises(IdempotencyConflict, lambda: ledger.move(debit("round-2", 1_000, alias="tx:op-1")))
    raises(IdempotencyConflict, lambda: ledger.move(credit("tx:op-1", 1_000)))
    assert store.accounts[ALICE] == AccountState(9_000, 2)


# --- reversals -----------------------------------------------------------------------------------------


def test_a_rollback_gives_a_debit_back_once() -> None:
    store, ledger = funded(10_000)
    ledger.move(debit("bet-1", 1_500))
    undone = ledger.reverse(rollback("rb-1", "bet-1", 1_500, meta={"reason": "void"}))
    assert (undone.balance_before, undone.balance_after, undone.entry.effect) == (8_500, 10_000, Effect.APPLIED)
    assert (undone.entry.kind, undone.entry.delta, undone.entry.amount) == (Kind.REVERSAL, 1_500, 1_500)
    assert (undone.entry.target_tx_id, undone.entry.meta) == ("bet-1", {"reason": "void"})
    assert store.entries[("ruby", "bet-1")].reversed_by == "rb-1"
    again = ledger.reverse(rollback("rb-1", "bet-1", 1_500))
    assert (again.replayed, again.entry) == (True, undone.entry)
    second = ledger.reverse(rollback("rb-2", "bet-1"))
    assert (second.entry.effect, second.entry.delta, second.entry.amount) == (Effect.ALREADY_REVERSED, 0, 1_500)
    assert store.accounts[ALICE] == AccountState(10_000, 4)


def test_a_rollback_before_its_debit_leaves_a_tombstone_the_debit_meets() -> None:
    store, ledger = funded(10_000)
    early = ledger.reverse(rollback("rb-1", "bet-1"))
    assert (early.entry.effect, early.entry.delta, early.balance_after) == (Effect.TARGET_UNKNOWN, 0, 10_000)
    tombstone = store.entries[("ruby", "bet-1")]
    assert (tombstone.kind, tombstone.reversed_by) == (Kind.TOMBSTONE, "rb-1")
    late_debit = raises(ReversedBeforeArrival, lambda: ledger.move(debit("bet-1", 1_500)))
    assert isinstance(late_debit, ReversedBeforeArrival)
    assert late_debit.tombstone == tombstone
    late = ledger.reverse(rollback("rb-2", "bet-1"))
    assert (late.entry.effect, late.entry.delta) == (Effect.ALREADY_REVERSED, 0)
    assert store.accounts[ALICE] == AccountState(10_000, 3)


def test_reversing_a_credit_takes_it_back_even_below_zero_where_allowed() -> None:
    store, ledger = funded(0)
    ledger.move(credit("win-1", 700))
    ledger.move(debit("bet-1", 500))
    raises(NotReversible, lambda: ledger.reverse(rollback("rb-1", "win-1")))
    undone = ledger.reverse(rollback("rb-1", "win-1", reversible=frozenset({Kind.CREDIT})))
    assert (undone.entry.delta, undone.balance_after) == (-700, -500)
    assert store.accounts[ALICE] == AccountState(-500, 4)


@pytest.mark.parametrize(
    ("reversal", "error"),
    [
        (rollback("rb-1", "rb-1"), NotReversible),
        (Reversal("ruby", "rb-1", "bet-bob", ALICE), NotReversible),
        (rollback("rb-1", "bet-1", 1_499), ReversalAmountMismatch),
    ],
    ids=["itself", "another player's", "another amount"],
)
def test_a_rollback_that_cannot_apply_changes_nothing(reversal: Reversal, error: type[Exception]) -> None:
    store, ledger = funded(10_000)
    ledger.move(debit("bet-1", 1_500))
    ledger.move(credit("bob-in", 5_000, BOB))
    ledger.move(debit("bet-bob", 1_000, BOB))
    raises(error, lambda: ledger.reverse(reversal))
    assert store.accounts[ALICE] == AccountState(8_500, 2)


def test_a_rollback_with_a_different_target_under_the_same_id_is_a_conflict() -> None:
    _, ledger = funded(10_000)
    ledger.move(debit("bet-1", 100))
    ledger.move(debit("bet-2", 100))
    ledger.reverse(rollback("rb-1", "bet-1"))
    raises(IdempotencyConflict, lambda: ledger.reverse(rollback("rb-1", "bet-2")))


def test_a_rollback_of_an_unknown_account_is_unknown() -> None:
    raises(UnknownAccount, lambda: ledger_on(MemoryLedgerStore()).reverse(rollback("rb-1", "bet-1")))


def test_a_rollback_that_loses_a_race_reads_again_and_applies_once() -> None:
    store, ledger = funded(10_000)
    ledger.move(debit("bet-1", 1_500))
    store.fail_next(CommitResult(ok=False, failed=frozenset({Failed.ACCOUNT}), account=AccountState(8_500, 2)))
    assert ledger.reverse(rollback("rb-1", "bet-1")).balance_after == 10_000
    assert store.accounts[ALICE] == AccountState(10_000, 3)


def test_a_rollback_retries_transient_failures_then_gives_up() -> None:
    store, _ = funded(10_000)
    clock = Clock()
    ledger = ledger_on(store, clock, max_attempts=3)
    ledger.move(debit("bet-1", 1_500))
    store.fail_next(TRANSIENT)
    assert ledger.reverse(rollback("rb-1", "bet-1")).balance_after == 10_000
    assert len(clock.pauses) == 1
    store.fail_next(*[TRANSIENT] * 10)
    raises(RetriesExhausted, lambda: ledger.reverse(rollback("rb-2", "bet-2")))
    assert len(clock.pauses) == 1 + 2


def test_reads_retry_transient_errors_then_give_up() -> None:
    store, _ = funded(10_000)
    ledger = ledger_on(store, max_attempts=3)
    store.read_errors = 2
    assert ledger.balance(ALICE) == AccountState(10_000, 1)
    store.read_errors = 3
    raises(RetriesExhausted, lambda: ledger.balance(ALICE))


# --- the snapshot cache and the clock -------------------------------------------------------------------


def test_the_snapshot_cache_keeps_the_most_recently_used_and_never_goes_back() -> None:
    cache = SnapshotCache(size=2)
    a, b, c = AccountKey("a", "EUR"), AccountKey("b", "EUR"), AccountKey("c", "EUR")
    cache.put(a, AccountState(1, 1))
    cache.put(b, AccountState(2, 1))
    assert cache.get(a) == AccountState(1, 1)  # a is now the most recent
    cache.put(c, AccountState(3, 1))
    assert (cache.get(a), cache.get(b), cache.get(c)) == (AccountState(1, 1), None, AccountState(3, 1))
    cache.put(a, AccountState(0, 0))
    assert cache.get(a) == AccountState(1, 1)
    cache.put(a, AccountState(5, 1))  # the same version again is taken
    assert cache.get(a) == AccountState(5, 1)
    cache.forget(a)
    cache.forget(a)
    assert cache.get(a) is None


def test_entries_are_stamped_in_utc_to_the_microsecond() -> None:
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", utc_now_iso())


def test_the_clock_cached_by_the_second_reads_the_time_datetime_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    moments = [1_764_460_799_999_999_999, 1_764_460_800_000_000_000, 1_764_460_800_000_999_000, 5, 1_764_460_801_5]
    for ns in moments + moments[::-1]:  # across second (and day) boundaries, and back: never a stale second's text
        monkeypatch.setattr(service, "time", SimpleNamespace(time_ns=lambda ns=ns: ns))
        expected = (epoch + timedelta(microseconds=ns // 1000)).isoformat(timespec="microseconds")
        assert utc_now_iso() == expected.replace("+00:00", "Z")
    monkeypatch.undo()
    before, stamp, after = datetime.now(UTC), utc_now_iso(), datetime.now(UTC)
    assert before <= datetime.fromisoformat(stamp) <= after


# --- what the mutants of the first run showed untested ----------------------------------------------------


class LongestPause:
    """The jitter at its bound: every pause is the longest full jitter allows."""

    def uniform(self, low: float, high: float) -> float:
        return high


def test_placeholders_hold_a_key_and_move_nothing() -> None:
    store, ledger = funded(10_000)
    ledger.move(debit("round-1", 1_000, alias="tx:op-1"))
    ledger.reverse(rollback("rb-1", "bet-9"))
    assert store.entries[("ruby", "tx:op-1")] == Entry(
        "ruby", "tx:op-1", Kind.MARKER, ALICE, 0, 0, 0, 0, 0, NOW, "", target_tx_id="round-1"
    )
    assert store.entries[("ruby", "bet-9")] == Entry(
        "ruby", "bet-9", Kind.TOMBSTONE, ALICE, 0, 0, 0, 0, 0, NOW, "", reversed_by="rb-1"
    )
    assert store.entries[("ruby", "rb-1")].amount == 0
    assert ledger.reverse(rollback("rb-2", "bet-9")).entry.amount == 0


def test_pauses_grow_twofold_from_ten_milliseconds_to_a_quarter_second() -> None:
    store, _ = funded(10_000)
    clock = Clock()
    ledger = ledger_on(store, clock, max_attempts=8)
    ledger._random = LongestPause()  # type: ignore[assignment]
    store.fail_next(*[TRANSIENT] * 7)
    ledger.move(debit("bet-1", 100))
    assert clock.pauses == pytest.approx([0.01, 0.02, 0.04, 0.08, 0.16, 0.25, 0.25])


def test_no_pause_after_the_last_read_and_none_past_the_deadline() -> None:
    store, _ = funded(10_000)
    clock = Clock()
    ledger = ledger_on(store, clock, max_attempts=3)
    ledger._random = LongestPause()  # type: ignore[assignment]
    store.read_errors = 3
    raises(RetriesExhausted, lambda: ledger.balance(ALICE))
    assert clock.pauses == pytest.approx([0.01, 0.02])
    clock = Clock()
    # after the second pause an attempt of 1 s ends exactly at the deadline; after the third (0.04 s) it would not
    ledger = ledger_on(store, clock, budget_seconds=(0.01 + 0.02) + 1.0, attempt_seconds=1.0)
    ledger._random = LongestPause()  # type: ignore[assignment]
    store.fail_next(*[TRANSIENT] * 8)
    raises(RetriesExhausted, lambda: ledger.move(debit("bet-1", 100)))
    assert clock.pauses == pytest.approx([0.01, 0.02])  # the third (0.04) would end past it
    assert [plan.entry.tx_id for plan in store.commits].count("bet-1") == 3


def test_a_rollback_gives_up_after_max_attempts_with_growing_pauses() -> None:
    store, ledger = funded(10_000)
    ledger.move(debit("bet-1", 1_500))
    clock = Clock()
    ledger = ledger_on(store, clock, max_attempts=3)
    ledger._random = LongestPause()  # type: ignore[assignment]
    store.fail_next(*[TRANSIENT] * 10)
    raises(RetriesExhausted, lambda: ledger.reverse(rollback("rb-1", "bet-1")))
    assert [plan.entry.tx_id for plan in store.commits].count("rb-1") == 3
    assert clock.pauses == pytest.approx([0.01, 0.02])


@pytest.mark.parametrize("operation", ["move", "reverse"])
def test_races_are_tried_again_while_an_attempt_can_end_by_the_deadline(operation: str) -> None:
    store, setup = funded(10_000)
    setup.move(debit("bet-0", 10))
    clock = Clock()
    mine, other = ledger_on(store, clock, budget_seconds=1.5, attempt_seconds=0.5), ledger_on(store)
    mine.balance(ALICE)

    def slow_race(tx_id: str) -> None:
        other.move(debit(tx_id, 10))
        clock.now += 0.5

    store.meanwhile(*[lambda i=i: slow_race(f"race-{i}") for i in range(10)])
    request = debit("mine", 100) if operation == "move" else rollback("mine", "bet-0")
    raises(RetriesExhausted, lambda: mine.move(request) if operation == "move" else mine.reverse(request))
    # attempts of 0.5 s start at 0, 0.5 and 1.0 s (ending exactly at the 1.5 s deadline); none at 1.5 s
    assert [plan.entry.tx_id for plan in store.commits].count("mine") == 3
    assert mine.snapshots.get(ALICE) == store.accounts[ALICE] or operation == "reverse"


def test_the_cache_is_refreshed_by_reads_moves_and_rollbacks_and_may_be_shared() -> None:
    store, _ = funded(10_000)
    shared = SnapshotCache()
    ledger = Ledger(store, now=lambda: NOW, cache=shared)
    assert ledger.snapshots is shared
    ledger.balance(ALICE)
    assert shared.get(ALICE) == AccountState(10_000, 1)
    ledger.move(debit("bet-1", 1_500))
    assert shared.get(ALICE) == AccountState(8_500, 2)
    ledger.reverse(rollback("rb-1", "bet-1"))
    assert shared.get(ALICE) == AccountState(10_000, 3)


def test_a_replayed_rollback_is_answered_from_the_read_and_writes_nothing() -> None:
    store, ledger = funded(10_000)
    ledger.move(debit("bet-1", 1_500))
    first = ledger.reverse(rollback("rb-1", "bet-1"))
    commits = len(store.commits)
    assert ledger.reverse(rollback("rb-1", "bet-1")) == first.__class__(first.entry, replayed=True)
    assert len(store.commits) == commits


def test_a_duplicate_rollback_committed_between_read_and_write_is_replayed() -> None:
    store, ledger = funded(10_000)
    ledger.move(debit("bet-1", 1_500))
    other = Ledger(store, now=lambda: "2026-11-29T12:00:00.000001Z")  # another request: its own token
    store.meanwhile(lambda: other.reverse(rollback("rb-1", "bet-1")))
    reads = store.reads
    again = ledger.reverse(rollback("rb-1", "bet-1"))
    assert (again.replayed, again.balance_after) == (True, 10_000)
    assert store.reads == reads + 2  # its own read and the other's: the failed commit answered, no read again
    store.meanwhile(lambda: other.reverse(rollback("rb-2", "bet-1", 1_500)))
    raises(IdempotencyConflict, lambda: ledger.reverse(rollback("rb-2", "bet-1")))  # amount stated, then not
    assert store.accounts[ALICE] == AccountState(10_000, 4)


def test_a_rollback_under_an_id_a_tombstone_holds_is_a_conflict() -> None:
    """Whether the tombstone was there when the rollback read, or landed between its read and its write."""
    store, ledger = funded(10_000)
    ledger.move(debit("bet-1", 100))
    ledger.reverse(rollback("rb-0", "rb-1"))  # rb-1 unknown yet: a tombstone at its key
    raises(IdempotencyConflict, lambda: ledger.reverse(rollback("rb-1", "bet-1")))
    other = Ledger(store, now=lambda: "2026-11-29T12:00:00.000001Z")
    store.meanwhile(lambda: other.reverse(rollback("rb-8", "rb-9")))
    raises(IdempotencyConflict, lambda: ledger.reverse(rollback("rb-9", "bet-1")))
    assert store.entries[("ruby", "bet-1")].reversed_by is None


@pytest.mark.parametrize("operation", ["move", "reverse"])
def test_an_entry_conflict_reported_without_the_entry_is_tried_again_by_both(operation: str) -> None:
    store, ledger = funded(10_000)
    ledger.move(debit("bet-1", 1_000))
    store.fail_next(CommitResult(ok=False, failed=frozenset({Failed.ENTRY_EXISTS})))
    outcome = ledger.move(debit("bet-2", 1_000)) if operation == "move" else ledger.reverse(rollback("rb-1", "bet-1"))
    assert outcome.balance_after == (8_000 if operation == "move" else 10_000)


# --- backed credits (an RGS win names its bet) and replayed signatures ------------------------------------


def bet(tx_id: str = "bet-r1", stake: int = 100, backs: int | None = 1_000, account: AccountKey = ALICE) -> Movement:
    return Movement("rgs", tx_id, account, Kind.DEBIT, stake, backs=backs)


def win(tx_id: str, amount: int, backed_by: str = "bet-r1", account: AccountKey = ALICE) -> Movement:
    return Movement("rgs", tx_id, account, Kind.CREDIT, amount, backed_by=backed_by)


def test_wins_take_their_amount_from_the_room_their_bet_backs() -> None:
    store, ledger = funded(10_000)
    ledger.move(bet(backs=1_000))
    assert ledger.move(win("win-1", 600)).balance_after == 10_500
    assert ledger.move(win("win-2", 400)).balance_after == 10_900
    backing = store.entries[("rgs", "bet-r1")]
    assert (backing.backs, backing.credited_by) == (0, "win-2")
    raises(BackingExceeded, lambda: ledger.move(win("win-3", 1)))
    assert store.accounts[ALICE] == AccountState(10_900, 4)


def test_a_win_without_a_bet_of_its_own_is_unbacked() -> None:
    store, ledger = funded(10_000)
    ledger.move(credit("bob-in", 1_000, BOB))
    ledger.move(bet("bet-bob", account=BOB))
    ledger.move(bet("bet-plain", backs=None))
    ledger.move(Movement("rgs", "round-1", ALICE, Kind.DEBIT, 10, alias="bet-alias"))
    for backed_by in ("bet-none", "bet-bob", "bet-plain", "bet-alias"):
        raises(UnbackedCredit, lambda backed_by=backed_by: ledger.move(win(f"win-{backed_by}", 10, backed_by)))
    assert store.accounts[ALICE] == AccountState(9_890, 3)


def test_a_win_of_a_refunded_bet_is_refused_and_a_bet_that_backed_a_win_is_not_refunded() -> None:
    store, ledger = funded(10_000)
    ledger.move(bet("bet-r1"))
    ledger.reverse(Reversal("rgs", "refund-1", "bet-r1", ALICE))
    raises(BackingSettled, lambda: ledger.move(win("win-1", 10)))
    ledger.reverse(Reversal("rgs", "refund-2", "bet-r2", ALICE))  # refunded before it arrived: a tombstone
    raises(BackingSettled, lambda: ledger.move(win("win-2", 10, "bet-r2")))
    ledger.move(bet("bet-r3"))
    ledger.move(win("win-3", 10, "bet-r3"))
    raises(BackingSettled, lambda: ledger.reverse(Reversal("rgs", "refund-3", "bet-r3", ALICE)))
    assert store.entries[("rgs", "bet-r3")].reversed_by is None


def test_a_bet_that_backs_a_win_between_a_refunds_read_and_write_is_not_refunded() -> None:
    store, ledger = funded(10_000)
    ledger.move(bet("bet-r1"))
    other = Ledger(store, now=lambda: "2026-11-29T12:00:00.000001Z")
    store.meanwhile(lambda: other.move(win("win-1", 10)))
    raises(BackingSettled, lambda: ledger.reverse(Reversal("rgs", "refund-1", "bet-r1", ALICE)))
    assert store.accounts[ALICE] == AccountState(9_910, 3)


def test_the_backing_is_part_of_what_makes_a_win_the_same_request() -> None:
    _, ledger = funded(10_000)
    ledger.move(bet("bet-r1"))
    ledger.move(bet("bet-r2"))
    ledger.move(win("win-1", 10, "bet-r1"))
    assert ledger.move(win("win-1", 10, "bet-r1")).replayed
    raises(IdempotencyConflict, lambda: ledger.move(win("win-1", 10, "bet-r2")))


def test_a_reversal_with_its_targets_own_signature_is_a_replayed_request() -> None:
    store, ledger = funded(10_000)
    signed = signature_digest("ab" * 32)
    ledger.move(Movement("ruby", "bet-1", ALICE, Kind.DEBIT, 1_500, signature=signed))
    assert store.entries[("ruby", "bet-1")].signature == signed
    replayed = raises(ReplayedRequest, lambda: ledger.reverse(rollback("rb-1", "bet-1", signature=signed)))
    assert replayed.code == "REPLAYED_REQUEST"  # type: ignore[attr-defined]
    undone = ledger.reverse(rollback("rb-1", "bet-1", signature=signature_digest("cd" * 32)))
    assert (undone.balance_after, undone.entry.signature) == (10_000, signature_digest("cd" * 32))
    assert ledger.reverse(rollback("rb-2", "bet-1")).entry.effect is Effect.ALREADY_REVERSED  # no signature kept


def test_a_deadline_given_by_the_caller_bounds_the_whole_request() -> None:
    store, _ = funded(10_000)
    clock = Clock()
    ledger = ledger_on(store, clock, attempt_seconds=1.0)
    assert ledger.deadline(2.0) == 2.0
    assert ledger.deadline() == ledger.budget_seconds
    raises(RetriesExhausted, lambda: ledger.move(debit("bet-1", 100), deadline=0.99))
    raises(RetriesExhausted, lambda: ledger.reverse(rollback("rb-1", "bet-1"), deadline=0.99))
    raises(RetriesExhausted, lambda: ledger.balance(ALICE, deadline=0.99))
    assert ledger.move(debit("bet-1", 100), deadline=1.0).balance_after == 9_900


def test_every_entry_links_to_the_head_of_the_state_it_was_committed_on() -> None:
    """Whatever path a movement takes (a fresh read, the cache, a lost race answered by ALL_OLD, a reversal, a
    tombstone), its plan rests on a state whose head is the account's newest entry: the chain from the head reaches
    every entry of the account, newest first."""
    store, ledger = funded(10_000)
    other = ledger_on(store)  # a second execution environment, with its own cache
    ledger.move(debit("bet-1", 100))
    other.move(debit("bet-2", 100))  # ledger's snapshot is now stale: its next commit loses the race
    ledger.move(credit("win-1", 300))
    other.move(credit("win-2", 5))
    ledger.reverse(rollback("rb-1", "bet-2"))
    ledger.reverse(rollback("rb-2", "never-arrived"))
    store.meanwhile(lambda: other.move(debit("bet-3", 7)))
    ledger.move(debit("bet-4", 1))
    chained = store.chain(ALICE)
    assert [e.version for e in chained] == list(range(store.accounts[ALICE].version, 0, -1))
    assert [e.tx_id for e in chained][:3] == ["bet-4", "bet-3", "rb-2"]
    assert ledger.snapshots.get(ALICE) == store.accounts[ALICE]
    assert ledger.snapshots.get(ALICE).head == "ruby#bet-4"  # type: ignore[union-attr]
