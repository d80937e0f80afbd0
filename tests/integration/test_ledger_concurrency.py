"""Concurrent Ruby callbacks on Amazon DynamoDB Local (never moto: it serialises requests and loses updates).

Requests start together behind a barrier and go through the local stack as API Gateway would hand them to
the functions (up to ``LOCAL_MAX_CONCURRENCY`` execution environments per function), or straight to
Ledgers that each have a snapshot cache of their own (as separate Lambda execution environments do).
After every scenario the account is reconciled against its entries, read with a client of the test's own:
the balance is the sum of the entries' deltas, the version is their count, and the chain of
``balance_before`` → ``balance_after`` has no gap and never goes below zero.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pytest

from croupier import money
from croupier.ledger import (
    AccountState,
    InsufficientFunds,
    Kind,
    Ledger,
    Movement,
    Outcome,
    RetriesExhausted,
    Reversal,
    ReversedBeforeArrival,
)
from croupier.ledger.dynamo import DynamoLedgerStore
from croupier.wallet import wiring
from croupier_local.apigw import HttpRequest, HttpResponse
from croupier_local.dynamodb import LocalDynamoDB, dynamodb_client
from croupier_local.server import LocalStack
from tests.support.concurrency import at_once, no_retry_later, send_together
from tests.support.faults import BeforeFirstWrite
from tests.support.players import Player, cold_ruby_player, units
from tests.support.requests import ruby_request as signed
from tests.support.wallet_table import Books, n, s

pytestmark = pytest.mark.dynamodb_local


# --- helpers ----------------------------------------------------------------------------------------------


def tx(label: str) -> str:
    return f"cc-{label}-{uuid.uuid4().hex}"


def new_player(deposit: str) -> Player:
    """A fresh player and Ruby id, funded through a Ledger of its own (the handlers have not seen it)."""
    return cold_ruby_player("cc", 3_000_000_000, deposit)


def statuses(responses: list[HttpResponse]) -> Counter[int]:
    return Counter(response.status for response in responses)


@pytest.fixture(scope="module")
def books(dynamodb_local: LocalDynamoDB, local_stack: LocalStack) -> Books:
    assert dynamodb_local.kind == "dynamodb-local", "concurrency tests need DynamoDB Local, never moto"
    return Books(dynamodb_client(dynamodb_local.endpoint_url), wiring.ledger_store().table)


# --- (a) replay storm ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Storm:
    player: Player
    debit_id: str
    responses: list[HttpResponse]


@pytest.fixture(scope="module")
def storm(local_stack: LocalStack, books: Books) -> Storm:
    """One debit request, byte for byte the same, sent 100 times at once."""
    player = new_player("1000.00")
    debit_id = tx("storm")
    request = signed("debit", {"player_id": player.ruby_id, "amount": "12.34", "transaction_id": debit_id})
    return Storm(player, debit_id, send_together(local_stack, [request] * 100))


def test_one_debit_sent_a_hundred_times_at_once_moves_money_once(storm: Storm, books: Books) -> None:
    answered = [r for r in storm.responses if r.status == 200]
    assert answered, "not one of the 100 requests was answered"
    bodies = {response.body for response in answered}
    assert len(bodies) == 1, f"replays answered differently: {bodies}"
    assert json.loads(bodies.pop()) == {"balance": "987.66", "balance_before": "1000.00"}
    state, entries = books.check(storm.player.account)
    assert state == AccountState(units("987.66"), 2), "the debit took effect more than once (or never)"
    assert [s(e, "tx_id") for e in entries if s(e, "kind") == "debit"] == [storm.debit_id]


def test_one_debit_sent_a_hundred_times_at_once_is_answered_200_every_time(storm: Storm) -> None:
    no_retry_later(storm.responses)
    assert statuses(storm.responses) == {200: 100}
    assert len({response.body for response in storm.responses}) == 1


def test_a_debit_replayed_by_an_environment_that_did_not_see_the_original_is_answered_200(
    local_stack: LocalStack, books: Books
) -> None:
    """Deterministic: the handlers last saw the account at version 1; the debit was done elsewhere at 1."""
    player = new_player("100.00")
    assert local_stack.handle(signed("balance", {"player_id": player.ruby_id})).json() == {"balance": "100.00"}
    debit_id = tx("elsewhere")
    other_environment = Ledger(wiring.ledger_store())  # a snapshot cache of its own, also at version 1
    other_environment.balance(player.account)
    original = other_environment.move(Movement("ruby", debit_id, player.account, Kind.DEBIT, units("30.00")))
    assert (original.balance_before, original.balance_after) == (units("100.00"), units("70.00"))

    replay = local_stack.handle(
        signed("debit", {"player_id": player.ruby_id, "amount": "30.00", "transaction_id": debit_id})
    )

    assert (replay.status, replay.json()) == (200, {"balance": "70.00", "balance_before": "100.00"})
    state, _ = books.check(player.account)
    assert state == AccountState(units("70.00"), 2)


# --- (b) oversubscription -------------------------------------------------------------------------------------

BETS_AFFORDABLE = 5
CONCURRENT_BETS = 40


def test_oversubscribed_bets_through_the_handlers_exactly_the_affordable_ones_succeed(
    local_stack: LocalStack, books: Books
) -> None:
    player = new_player(money.to_decimal_string(units("10.00") * BETS_AFFORDABLE))
    requests = [
        signed("debit", {"player_id": player.ruby_id, "amount": "10.00", "transaction_id": tx(f"bet{i}")})
        for i in range(CONCURRENT_BETS)
    ]

    responses = send_together(local_stack, requests)

    no_retry_later(responses)
    assert statuses(responses) == {200: BETS_AFFORDABLE, 402: CONCURRENT_BETS - BETS_AFFORDABLE}
    refused = {r.json()["error"] for r in responses if r.status == 402}
    assert refused == {"INSUFFICIENT_FUNDS"}
    won = sorted((r.json() for r in responses if r.status == 200), key=lambda b: -float(b["balance_before"]))
    assert [b["balance_before"] for b in won] == ["50.00", "40.00", "30.00", "20.00", "10.00"]
    assert [b["balance"] for b in won] == ["40.00", "30.00", "20.00", "10.00", "0.00"]
    state, entries = books.check(player.account)
    assert state == AccountState(0, 1 + BETS_AFFORDABLE)
    assert Counter(s(e, "kind") for e in entries) == {"credit": 1, "debit": BETS_AFFORDABLE}


def test_oversubscribed_bets_from_separate_execution_environments(books: Books) -> None:
    """One Ledger (so one snapshot cache) per contender, as separate Lambda environments would be."""
    player = new_player(money.to_decimal_string(units("10.00") * BETS_AFFORDABLE))
    store = wiring.ledger_store()

    def bet(i: int) -> Outcome | Exception:
        movement = Movement("ruby", tx(f"env{i}"), player.account, Kind.DEBIT, units("10.00"))
        try:
            return Ledger(store).move(movement)
        except (InsufficientFunds, RetriesExhausted) as error:
            return error

    results = at_once([(lambda i=i: bet(i)) for i in range(CONCURRENT_BETS)])

    exhausted = [r for r in results if isinstance(r, RetriesExhausted)]
    assert not exhausted, f"{len(exhausted)} of {CONCURRENT_BETS} bets ran out of retries (would be 503)"
    outcomes = [r for r in results if isinstance(r, Outcome)]
    assert len(outcomes) == BETS_AFFORDABLE
    assert sum(isinstance(r, InsufficientFunds) for r in results) == CONCURRENT_BETS - BETS_AFFORDABLE
    assert sorted(o.balance_after for o in outcomes) == [units("10.00") * k for k in range(BETS_AFFORDABLE)]
    state, _ = books.check(player.account)
    assert state == AccountState(0, 1 + BETS_AFFORDABLE)


# --- (c) rollback before its debit ------------------------------------------------------------------------------


def test_a_rollback_that_arrives_before_its_debit_leaves_a_tombstone_that_refuses_the_debit(
    local_stack: LocalStack, books: Books
) -> None:
    player = new_player("100.00")
    debit_id = tx("late")
    rollback = signed("rollback", {"player_id": player.ruby_id, "transaction_id": debit_id})

    first = local_stack.handle(rollback)
    assert (first.status, first.json()) == (200, {"balance": "100.00"})

    debit = local_stack.handle(
        signed("debit", {"player_id": player.ruby_id, "amount": "30.00", "transaction_id": debit_id})
    )
    assert debit.status == 409
    assert debit.json()["error"] == "ALREADY_ROLLED_BACK"

    replay = local_stack.handle(rollback)
    assert (replay.status, replay.body) == (200, first.body)
    tombstone = books.entry("ruby", debit_id)
    assert tombstone is not None
    assert (s(tombstone, "kind"), s(tombstone, "reversed_by")) == ("tombstone", f"rollback:{debit_id}")
    state, entries = books.check(player.account)
    assert state == AccountState(units("100.00"), 2)
    assert [(s(e, "kind"), s(e, "effect")) for e in entries] == [("credit", "applied"), ("reversal", "target_unknown")]


# --- (d) a rollback racing its debit ------------------------------------------------------------------------------

RACES = 30


def test_a_rollback_racing_its_debit_never_leaves_the_debit_standing(local_stack: LocalStack, books: Books) -> None:
    player = new_player("500.00")
    initial = books.account(player.account).balance
    seen: Counter[str] = Counter()
    for race in range(RACES):
        debit_id = tx(f"race{race}")
        rollback_body: dict[str, Any] = {"player_id": player.ruby_id, "transaction_id": debit_id}
        if race % 2:  # half of them name the debit in ref_transaction_id, with an own id for the rollback
            rollback_body = {**rollback_body, "transaction_id": tx("rb"), "ref_transaction_id": debit_id}
        debit_request = signed("debit", {"player_id": player.ruby_id, "amount": "25.00", "transaction_id": debit_id})
        rollback_request = signed("rollback", rollback_body)
        head_start = (race % 4) * 0.003  # a debit needs one round trip, a rollback two: vary who is first

        def send_debit(request: HttpRequest = debit_request, delay: float = head_start) -> HttpResponse:
            time.sleep(delay)
            return local_stack.handle(request)

        debit, rollback = at_once([send_debit, lambda r=rollback_request: local_stack.handle(r)])
        no_retry_later([debit, rollback])
        assert (rollback.status, rollback.json()) == (200, {"balance": "500.00"}), f"race {race}"
        target = books.entry("ruby", debit_id)
        assert target is not None
        if debit.status == 200:
            assert debit.json() == {"balance": "475.00", "balance_before": "500.00"}
            assert s(target, "kind") == "debit"
            assert s(target, "reversed_by") is not None, f"race {race}: the debit stands unreversed"
            seen["debit first, then reversed"] += 1
        else:
            assert (debit.status, debit.json()["error"]) == (409, "ALREADY_ROLLED_BACK"), f"race {race}"
            assert s(target, "kind") == "tombstone"
            seen["rollback first, debit refused"] += 1
        assert books.account(player.account).balance == initial, f"race {race}: {seen}"
    state, _ = books.check(player.account)
    assert state.balance == initial
    assert sum(seen.values()) == RACES


def test_a_debit_committed_between_a_rollbacks_read_and_write_is_reversed(books: Books) -> None:
    """Deterministic: the rollback reads (no debit yet), the debit commits, the rollback's tombstone fails."""
    player = new_player("100.00")
    store = wiring.ledger_store()
    debit_id = tx("between")
    debit = Movement("ruby", debit_id, player.account, Kind.DEBIT, units("25.00"))
    done: list[Outcome] = []
    client = BeforeFirstWrite(store.client, lambda: done.append(Ledger(store).move(debit)))
    ledger = Ledger(DynamoLedgerStore(store.table, lambda: client), sleep=lambda _: None)

    outcome = ledger.reverse(Reversal("ruby", f"rollback:{debit_id}", debit_id, player.account))

    assert (done[0].balance_before, done[0].balance_after) == (units("100.00"), units("75.00"))
    assert (outcome.entry.effect.value, outcome.balance_before, outcome.balance_after) == (
        "applied",
        units("75.00"),
        units("100.00"),
    )
    assert client.writes == 2, "the cancelled tombstone, then the reversal"
    target = books.entry("ruby", debit_id)
    assert target is not None
    assert (s(target, "kind"), s(target, "reversed_by")) == ("debit", f"rollback:{debit_id}")
    assert books.check(player.account)[0] == AccountState(units("100.00"), 3)


def test_a_tombstone_committed_between_a_debits_read_and_write_refuses_the_debit(books: Books) -> None:
    """Deterministic: the debit has its snapshot, the rollback leaves a tombstone, the debit's write fails."""
    player = new_player("100.00")
    store = wiring.ledger_store()
    debit_id = tx("refused")
    rollback = Reversal("ruby", f"rollback:{debit_id}", debit_id, player.account)
    client = BeforeFirstWrite(store.client, lambda: Ledger(store).reverse(rollback))
    ledger = Ledger(DynamoLedgerStore(store.table, lambda: client), sleep=lambda _: None)
    ledger.balance(player.account)

    with pytest.raises(ReversedBeforeArrival):
        ledger.move(Movement("ruby", debit_id, player.account, Kind.DEBIT, units("25.00")))

    assert client.writes == 1
    target = books.entry("ruby", debit_id)
    assert target is not None
    assert s(target, "kind") == "tombstone"
    assert books.check(player.account)[0] == AccountState(units("100.00"), 2)


# --- (e) double rollbacks -----------------------------------------------------------------------------------------

DOUBLE_ROUNDS = 5


@pytest.mark.parametrize("style", ["two own ids", "plain and ref"])
def test_two_concurrent_rollbacks_with_different_own_ids_give_the_money_back_once(
    local_stack: LocalStack, books: Books, style: str
) -> None:
    player = new_player("200.00")
    for round_ in range(DOUBLE_ROUNDS):
        debit_id = tx(f"dbl{round_}")
        debit = local_stack.handle(
            signed("debit", {"player_id": player.ruby_id, "amount": "40.00", "transaction_id": debit_id})
        )
        assert (debit.status, debit.json()) == (200, {"balance": "160.00", "balance_before": "200.00"})
        plain = {"player_id": player.ruby_id, "transaction_id": debit_id}
        first = (
            {**plain, "transaction_id": tx("rbA"), "ref_transaction_id": debit_id} if style == "two own ids" else plain
        )
        second = {**plain, "transaction_id": tx("rbB"), "ref_transaction_id": debit_id}

        responses = send_together(local_stack, [signed("rollback", first), signed("rollback", second)])

        no_retry_later(responses)
        assert [(r.status, r.json()) for r in responses] == [(200, {"balance": "200.00"})] * 2
        target = books.entry("ruby", debit_id)
        assert target is not None
        reversals = [e for e in books.entries(player.account) if s(e, "target") == debit_id]
        assert sorted(s(e, "effect") or "" for e in reversals) == ["already_reversed", "applied"]
        applied = next(e for e in reversals if s(e, "effect") == "applied")
        assert s(target, "reversed_by") == s(applied, "tx_id")
        assert [n(e, "delta") for e in reversals if e is not applied] == [0]
        assert n(applied, "delta") == units("40.00")
        assert books.account(player.account).balance == units("200.00"), f"round {round_}"
    state, entries = books.check(player.account)
    assert state.balance == units("200.00")
    assert len(entries) == 1 + 3 * DOUBLE_ROUNDS


SAME_ROLLBACK_ROUNDS = 20


@dataclass(frozen=True)
class DoubleRollbacks:
    player: Player
    debit_ids: list[str]
    responses: list[list[HttpResponse]]


@pytest.fixture(scope="module")
def same_rollback_twice(local_stack: LocalStack, books: Books) -> DoubleRollbacks:
    """Debit, then send the very same rollback request twice at once; again and again."""
    player = new_player("200.00")
    debit_ids: list[str] = []
    responses: list[list[HttpResponse]] = []
    for round_ in range(SAME_ROLLBACK_ROUNDS):
        debit_id = tx(f"same{round_}")
        debit = local_stack.handle(
            signed("debit", {"player_id": player.ruby_id, "amount": "40.00", "transaction_id": debit_id})
        )
        assert (debit.status, debit.json()) == (200, {"balance": "160.00", "balance_before": "200.00"})
        rollback = signed("rollback", {"player_id": player.ruby_id, "transaction_id": debit_id})
        responses.append(send_together(local_stack, [rollback, rollback]))
        debit_ids.append(debit_id)
    return DoubleRollbacks(player, debit_ids, responses)


def test_the_same_rollback_sent_twice_at_once_gives_the_money_back_once(
    same_rollback_twice: DoubleRollbacks, books: Books
) -> None:
    for debit_id, pair in zip(same_rollback_twice.debit_ids, same_rollback_twice.responses, strict=True):
        assert any(r.status == 200 for r in pair), f"{debit_id}: neither rollback was answered"
        assert {r.body for r in pair if r.status == 200} == {b'{"balance":"200.00"}'}
        target = books.entry("ruby", debit_id)
        assert target is not None
        assert s(target, "reversed_by") == f"rollback:{debit_id}"
    entries = books.entries(same_rollback_twice.player.account)
    reversals = [e for e in entries if s(e, "kind") == "reversal"]
    assert [s(e, "effect") for e in reversals] == ["applied"] * SAME_ROLLBACK_ROUNDS
    state, entries = books.check(same_rollback_twice.player.account)
    assert state == AccountState(units("200.00"), 1 + 2 * SAME_ROLLBACK_ROUNDS)


def test_the_same_rollback_sent_twice_at_once_is_answered_200_both_times(
    same_rollback_twice: DoubleRollbacks,
) -> None:
    for pair in same_rollback_twice.responses:
        no_retry_later(pair)
        assert [r.status for r in pair] == [200, 200]
        assert pair[0].body == pair[1].body


def test_a_duplicate_rollback_that_read_before_the_first_one_committed_replays_it(books: Books) -> None:
    """Deterministic interleaving: B reads, then A reads and commits, then B commits (same own id and version)."""
    player = new_player("50.00")
    store = wiring.ledger_store()
    debit_id = tx("interleaved")
    Ledger(store).move(Movement("ruby", debit_id, player.account, Kind.DEBIT, units("20.00")))
    reversal = Reversal("ruby", f"rollback:{debit_id}", debit_id, player.account)
    first = Ledger(store)
    answers: list[Outcome] = []
    client = BeforeFirstWrite(store.client, lambda: answers.append(first.reverse(reversal)))
    second = Ledger(DynamoLedgerStore(store.table, lambda: client), sleep=lambda _: None)

    replayed = second.reverse(reversal)

    assert (replayed.balance_before, replayed.balance_after) == (answers[0].balance_before, answers[0].balance_after)
    assert replayed.replayed
    state, _ = books.check(player.account)
    assert state == AccountState(units("50.00"), 3)
