"""The ledger gives up (503 RETRY_LATER) before a pause would take it past its time budget, so a request
never outlives the provider's own timeout (Ruby: 5 s) however the store keeps failing."""

from __future__ import annotations

import pytest

from croupier.ledger import AccountKey, AccountState, Kind, Ledger, Movement, RetriesExhausted
from croupier.ledger.dynamo import CommitPlan, CommitResult, Failed
from croupier.ledger.model import Entry

ACCOUNT = AccountKey("p-1", "EUR")


class AlwaysBusy:
    """A store whose every commit is a transient failure, each taking `latency` seconds of a fake clock."""

    def __init__(self, clock: list[float], latency: float) -> None:
        self.clock = clock
        self.latency = latency
        self.commits: list[CommitPlan] = []

    def read_account(self, account: AccountKey) -> AccountState | None:
        return AccountState(10_000, 1)

    def read_for_reversal(
        self, provider: str, tx_id: str, target_tx_id: str, account: AccountKey
    ) -> tuple[Entry | None, Entry | None, AccountState | None]:
        raise AssertionError("not used")

    def commit(self, plan: CommitPlan) -> CommitResult:
        self.commits.append(plan)
        self.clock[0] += self.latency
        return CommitResult(ok=False, failed=frozenset({Failed.TRANSIENT}), transient="ThrottlingException")


def ledger_on(store: AlwaysBusy, clock: list[float], budget: float) -> Ledger:
    def sleep(seconds: float) -> None:
        clock[0] += seconds

    return Ledger(store, sleep=sleep, monotonic=lambda: clock[0], budget_seconds=budget)


def test_slow_failures_end_at_the_budget_not_after_every_attempt() -> None:
    clock = [0.0]
    store = AlwaysBusy(clock, latency=1.0)  # each attempt takes a second (a timeout, say)
    with pytest.raises(RetriesExhausted):
        ledger_on(store, clock, budget=2.5).move(Movement("ruby", "t", ACCOUNT, Kind.DEBIT, 100))
    assert len(store.commits) == 3  # at 0 s, ~1 s, ~2 s; a fourth could not start before 2.5 s
    assert clock[0] <= 2.5 + 1.0


def test_a_retry_resends_the_same_plan_so_a_lost_response_keeps_its_token() -> None:
    clock = [0.0]
    store = AlwaysBusy(clock, latency=0.001)
    with pytest.raises(RetriesExhausted):
        ledger_on(store, clock, budget=60).move(Movement("ruby", "t", ACCOUNT, Kind.CREDIT, 100))
    assert len(store.commits) == 8
    assert len({plan.token for plan in store.commits}) == 1
    assert len({plan.entry.created_at for plan in store.commits}) == 1
