"""Deadlines: the ledger starts no attempt (a read or a commit) that could still be under way at the request's
deadline, and gives up (503 RETRY_LATER, nothing written) instead, so a request never outlives its provider's
timeout (Ruby: a hard 5 s) however slow or busy the store and the secret store are. Time is a fake clock that
each store call advances: the tests are exact, never timed."""

from __future__ import annotations

from typing import Any

import pytest

from croupier import aws
from croupier.ledger import AccountKey, AccountState, Kind, Ledger, Movement, RetriesExhausted
from croupier.ledger.model import Entry
from croupier.ledger.store import CommitPlan, CommitResult, Failed
from croupier.secrets import CachedSecrets
from croupier.signing import RawRequest, ruby_callback
from croupier.wallet.ruby import DEADLINE_SECONDS, BrandDirectory, PlayerLinks, RubyWallet

ACCOUNT = AccountKey("p-1", "EUR")


class AlwaysBusy:
    """A store whose every commit is a transient failure, each taking `latency` seconds of a fake clock."""

    def __init__(self, clock: list[float], latency: float) -> None:
        self.clock = clock
        self.latency = latency
        self.commits: list[CommitPlan] = []
        self.started: list[float] = []
        """When each call began (fake seconds)."""

    def read_account(self, account: AccountKey) -> AccountState | None:
        self.started.append(self.clock[0])
        self.clock[0] += self.latency
        return AccountState(10_000, 1)

    def read_for_reversal(
        self, provider: str, tx_id: str, target_tx_id: str, account: AccountKey
    ) -> tuple[Entry | None, Entry | None, AccountState | None]:
        raise AssertionError("not used")

    def commit(self, plan: CommitPlan) -> CommitResult:
        self.commits.append(plan)
        self.started.append(self.clock[0])
        self.clock[0] += self.latency
        return CommitResult(ok=False, failed=frozenset({Failed.TRANSIENT}), transient="ThrottlingException")


def ledger_on(store: Any, clock: list[float], budget: float = 60, attempt: float = 1.5) -> Ledger:
    def sleep(seconds: float) -> None:
        clock[0] += seconds

    return Ledger(store, sleep=sleep, monotonic=lambda: clock[0], budget_seconds=budget, attempt_seconds=attempt)


def test_slow_failures_end_at_the_budget_not_after_every_attempt() -> None:
    clock = [0.0]
    store = AlwaysBusy(clock, latency=1.0)  # each attempt takes a second (a timeout, say)
    with pytest.raises(RetriesExhausted):
        ledger_on(store, clock, budget=4.0, attempt=1.5).move(Movement("ruby", "t", ACCOUNT, Kind.DEBIT, 100))
    # the account read at 0 s, commits at 1 s and just after 2 s; a third (just after 3 s) could not end by 4 s
    assert len(store.commits) == 2
    assert all(start + 1.5 <= 4.0 for start in store.started), store.started
    assert clock[0] <= 4.0


@pytest.mark.parametrize("latency", [0.01, 0.3, 0.7, 1.0, 1.5])
@pytest.mark.parametrize("deadline", [1.0, 2.0, 4.0])
def test_no_attempt_starts_that_could_end_after_the_deadline(latency: float, deadline: float) -> None:
    clock = [0.0]
    store = AlwaysBusy(clock, latency=latency)
    ledger = ledger_on(store, clock, attempt=1.5)
    with pytest.raises(RetriesExhausted):
        ledger.move(Movement("ruby", "t", ACCOUNT, Kind.DEBIT, 100), deadline=ledger.deadline(deadline))
    assert all(start + 1.5 <= deadline for start in store.started), store.started
    assert clock[0] <= deadline
    if deadline < 1.5:
        assert store.started == [], "an attempt that could not end in time was started"


# --- the whole Ruby callback: secret, link, ledger --------------------------------------------------------------


class SlowSecrets:
    """The brand's secret, read in ``latency`` fake seconds (a cold or degraded Secrets Manager)."""

    def __init__(self, clock: list[float], latency: float) -> None:
        self.clock = clock
        self.latency = latency

    def get(self, name: str) -> dict[str, Any]:
        self.clock[0] += self.latency
        return {"api_secret": "dev-only-test-secret", "currency": "KRW"}

    def put(self, name: str, value: dict[str, Any]) -> None:
        raise AssertionError("not used")


def ruby_debit(clock: list[float], secrets_latency: float, store: AlwaysBusy) -> tuple[int | None, float]:
    """A signed Ruby debit through RubyWallet at fake time 0: (the status it raised, the fake time it ended)."""
    wall = 1_700_000_000.0
    ledger = ledger_on(store, clock, attempt=1.5)

    def resolve(provider: str, external_id: str) -> str:
        store.started.append(clock[0])  # the link is one DynamoDB read too
        clock[0] += store.latency
        return "p-1"

    wallet = RubyWallet(
        ledger,
        BrandDirectory(CachedSecrets(SlowSecrets(clock, secrets_latency), monotonic=lambda: clock[0])),
        PlayerLinks(resolve),
        clock=lambda: wall + clock[0],
    )
    body = b'{"player_id":7,"amount":"10.00","transaction_id":"d-1"}'
    request = RawRequest.of(
        "POST", "/ruby/debit", ruby_callback.headers("brand", "dev-only-test-secret", body, clock=lambda: wall), body
    )
    try:
        wallet.debit(request)
    except RetriesExhausted as error:
        return error.status, clock[0]
    return None, clock[0]


@pytest.mark.parametrize("secrets_latency", [0.0, 1.0, 2.4, 2.6, 3.0])
@pytest.mark.parametrize("store_latency", [0.05, 0.5, 1.0, 1.5])
def test_a_ruby_callback_answers_inside_rubys_5_seconds_whatever_is_slow(
    secrets_latency: float, store_latency: float
) -> None:
    """Secrets Manager answers in up to 3 s (its client's timeouts: 2 attempts of 0.5 s connect + 1 s read), the
    store is slow and always busy: the answer (503) is ready within 4 s of the request's arrival, and every
    DynamoDB call started early enough to have ended by then: nothing can commit after the answer leaves."""
    clock = [0.0]
    store = AlwaysBusy(clock, latency=store_latency)
    status, ended = ruby_debit(clock, secrets_latency, store)
    assert status == 503
    assert ended <= DEADLINE_SECONDS < 5.0
    assert all(start + 1.5 <= DEADLINE_SECONDS for start in store.started), store.started
    if secrets_latency + 1.5 > DEADLINE_SECONDS:
        assert store.started == [], "the link or the ledger was tried with no time left"


def test_the_wiring_derives_an_attempts_length_from_the_clients_timeouts() -> None:
    assert aws.attempt_seconds(aws.CLIENT_CONFIG) == 1.5
    assert aws.attempt_seconds(aws.SECRETS_CONFIG) * aws.SECRETS_CONFIG.retries["total_max_attempts"] <= 3.0
    assert DEADLINE_SECONDS - aws.attempt_seconds(aws.SECRETS_CONFIG) * 2 >= 1.0 - 1e-9


def test_a_retry_resends_the_same_plan_so_a_lost_response_keeps_its_token() -> None:
    clock = [0.0]
    store = AlwaysBusy(clock, latency=0.001)
    with pytest.raises(RetriesExhausted):
        ledger_on(store, clock, budget=60).move(Movement("ruby", "t", ACCOUNT, Kind.CREDIT, 100))
    assert len(store.commits) == 8
    assert len({plan.token for plan in store.commits}) == 1
    assert len({plan.entry.created_at for plan in store.commits}) == 1
