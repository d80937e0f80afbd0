"""Concurrent sportsbook callbacks and injected faults, on Amazon DynamoDB Local (never moto).

Concurrent requests start together behind a barrier and go through the local stack as API Gateway would
hand them to the functions (up to ``LOCAL_MAX_CONCURRENCY`` execution environments per function), or
straight to ``SportsbookWallet`` objects that each have a ``Ledger`` (so a snapshot cache) of their own, as
separate Lambda execution environments do. Faults are injected by wrapping a real DynamoDB client: a write
that is applied but whose response is lost (botocore ``ReadTimeoutError``), or every call throttled.

After every scenario the account is reconciled with a client of the test's own: balance = Σ delta of its
entries, version = their count, and an unbroken ``balance_before`` → ``balance_after`` chain that never goes
below zero (none of these scenarios rolls back a result).
"""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from decimal import Decimal
from functools import partial
from typing import Any

import pytest

from croupier import money
from croupier.ledger import AccountKey, AccountState, Ledger, service
from croupier.ledger.dynamo import DynamoLedgerStore
from croupier.secrets import CachedSecrets, FileSecretStore
from croupier.wallet import wiring
from croupier.wallet.sportsbook import Answer, SportsbookWallet
from croupier_local.apigw import HttpRequest, HttpResponse
from croupier_local.dynamodb import LocalDynamoDB
from croupier_local.events import DEFAULT_SECRETS
from croupier_local.server import LocalStack
from tests.support.concurrency import at_once
from tests.support.faults import BeforeFirstWrite, FaultyClient, LoseResponses, always, faulty_handlers, throttled
from tests.support.players import create_player, fund_player
from tests.support.requests import sportsbook_raw_request, sportsbook_request
from tests.support.wallet_table import TABLE, Books, n, s

pytestmark = pytest.mark.dynamodb_local

TX_ROUTE, RB_ROUTE = "transaction", "transaction-rollback"


# --- requests -----------------------------------------------------------------------------------------------------


def tx(label: str) -> str:
    return f"sb-cc-{label}-{uuid.uuid4().hex}"


def transaction_body(player: str, their_id: str, amount: str, action: str = "bet") -> bytes:
    data = {"transaction_id": their_id, "action": action, "user_id": player, "currency": "EUR"}
    return (json.dumps(data)[:-1] + f', "amount": {amount}}}').encode()  # the amount as a JSON number


def rollback_body(player: str, their_id: str, target: str, amount: str) -> bytes:
    data = {
        "transaction_id": their_id,
        "rollback_transaction_id": target,
        "action": "rollback",
        "user_id": player,
        "currency": "EUR",
    }
    return (json.dumps(data)[:-1] + f', "amount": {amount}}}').encode()


def route_of(body: bytes) -> str:
    return RB_ROUTE if json.loads(body)["action"] == "rollback" else TX_ROUTE


def signed(body: bytes) -> HttpRequest:
    return sportsbook_request(route_of(body), body)


def drive(wallet: SportsbookWallet, body: bytes) -> Answer:
    """``body`` straight to the wallet object, as it sees the request when it is driven directly."""
    request = sportsbook_raw_request(route_of(body), body)
    return wallet.rollback(request) if route_of(body) == RB_ROUTE else wallet.transaction(request)


def units(amount: str) -> int:
    return int(Decimal(amount).scaleb(money.SCALE))


def new_player(stack: LocalStack, deposit: str) -> str:
    """A fresh EUR player, created and funded through the admin handlers."""
    player = f"sb-cc-{uuid.uuid4().hex[:20]}"
    create_player(stack, player_id=player, currency="EUR")
    fund_player(stack, player, "EUR", deposit, f"{player}-0")
    return player


def eur(player: str) -> AccountKey:
    return AccountKey(player, "EUR")


def secrets() -> CachedSecrets:
    return CachedSecrets(FileSecretStore(DEFAULT_SECRETS))


def own_environment() -> SportsbookWallet:
    """A wallet as another Lambda execution environment has it: a Ledger (snapshot cache) of its own."""
    return SportsbookWallet(Ledger(wiring.ledger_store()), secrets())


def success(ours: str) -> dict[str, Any]:
    return {"error": None, "transaction_id": ours}


# --- the books ----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def books(dynamodb_local: LocalDynamoDB, real_client: Any) -> Books:
    """Entries sorted by version before their chain is checked."""
    assert dynamodb_local.kind == "dynamodb-local", "concurrency tests need DynamoDB Local, never moto"
    return Books(real_client, sort_by_version=True)


def no_temporary_errors(responses: list[HttpResponse]) -> None:
    busy = [r.body for r in responses if r.status != 200]
    assert not busy, f"{len(busy)} requests were not processed: {busy[:3]}"


# --- (a) a replay storm -------------------------------------------------------------------------------------------

STORM = 50


@pytest.mark.parametrize("kind", ["bet", "result", "rollback"])
def test_one_transaction_id_sent_fifty_times_at_once_moves_the_money_once(
    kind: str, local_stack: LocalStack, books: Books
) -> None:
    player = new_player(local_stack, "1000.00")
    their_id = tx(f"storm-{kind}")
    expected = {"bet": "987.66", "result": "1012.34", "rollback": "1000.00"}[kind]
    if kind == "rollback":
        target = tx("target")
        assert local_stack.handle(signed(transaction_body(player, target, "12.34"))).status == 200
        body = rollback_body(player, their_id, target, "12.34")
    else:
        body = transaction_body(player, their_id, "12.34", kind)
    request = signed(body)

    responses = at_once([lambda: local_stack.handle(request)] * STORM)

    no_temporary_errors(responses)
    assert len({r.body for r in responses}) == 1, "repeats answered differently"
    answer = responses[0].json()
    assert answer["error"] is None
    assert answer["transaction_id"] not in (None, their_id)
    state, entries = books.check(eur(player))
    assert state.balance == units(expected)
    assert [s(e, "tx_id") for e in entries].count(their_id) == 1, "the request took effect more than once"
    assert state.version == (3 if kind == "rollback" else 2)


# --- (b) oversubscription -----------------------------------------------------------------------------------------

AFFORDABLE = 5
CONTENDERS = 40


def test_oversubscribed_bets_through_the_handlers_exactly_the_affordable_ones_succeed(
    local_stack: LocalStack, books: Books
) -> None:
    player = new_player(local_stack, f"{10 * AFFORDABLE}.00")
    requests = [signed(transaction_body(player, tx(f"bet{i}"), "10.00")) for i in range(CONTENDERS)]

    responses = at_once([partial(local_stack.handle, r) for r in requests])

    no_temporary_errors(responses)
    answers = Counter(r.json()["error"] for r in responses)
    assert answers == {None: AFFORDABLE, "INSUFFICENT_FUNDS": CONTENDERS - AFFORDABLE}
    state, entries = books.check(eur(player))
    assert state == AccountState(0, 1 + AFFORDABLE)
    winners = {json.loads(r.body)["transaction_id"] for r in responses if r.json()["error"] is None}
    bets = [e for e in entries if s(e, "kind") == "debit"]
    assert len(winners) == len(bets) == AFFORDABLE
    assert sorted(n(e, "balance_after") for e in bets) == [units("10.00") * k for k in range(AFFORDABLE)]


def test_oversubscribed_bets_from_separate_execution_environments(local_stack: LocalStack, books: Books) -> None:
    player = new_player(local_stack, f"{10 * AFFORDABLE}.00")
    bodies = [transaction_body(player, tx(f"env{i}"), "10.00") for i in range(CONTENDERS)]
    wallets = [own_environment() for _ in bodies]

    answers = at_once([partial(drive, w, b) for w, b in zip(wallets, bodies, strict=True)])

    busy = [a for a in answers if a.status != 200]
    assert not busy, f"{len(busy)} of {CONTENDERS} bets were not processed: {busy[:3]}"
    assert Counter(a.body["error"] for a in answers) == {None: AFFORDABLE, "INSUFFICENT_FUNDS": CONTENDERS - AFFORDABLE}
    state, _ = books.check(eur(player))
    assert state == AccountState(0, 1 + AFFORDABLE)


# --- (c) a rollback racing its target -----------------------------------------------------------------------------

RACES = 16


@pytest.mark.parametrize("target_kind", ["bet", "result"])
def test_a_rollback_racing_its_target_leaves_the_balance_where_it_started(
    target_kind: str, local_stack: LocalStack, books: Books
) -> None:
    """Both orders, again and again: the target first (then reversed) or the rollback first (a tombstone)."""
    player = new_player(local_stack, "500.00")
    start = books.account(eur(player)).balance
    seen: Counter[str] = Counter()
    for race in range(RACES):
        target, rollback_id = tx(f"race{race}"), tx(f"rb{race}")
        target_request = signed(transaction_body(player, target, "25.00", target_kind))
        rollback_request = signed(rollback_body(player, rollback_id, target, "25.00"))
        # a rollback costs two round trips, a bet one: delay one side or the other so both orders happen
        delay_target, delay_rollback = [(0.0, 0.0), (0.05, 0.0), (0.0, 0.05), (0.004, 0.0)][race % 4]

        def send(request: HttpRequest, delay: float) -> HttpResponse:
            time.sleep(delay)
            return local_stack.handle(request)

        first, second = at_once(
            [partial(send, target_request, delay_target), partial(send, rollback_request, delay_rollback)]
        )

        no_temporary_errors([first, second])
        assert second.json()["error"] is None, f"race {race}: the rollback must always succeed"
        stored = books.entry("sportsbook", target)
        if s(stored, "kind") == "tombstone":  # the rollback came first
            if target_kind == "bet":
                assert first.json() == {"error": "TRANSACTION_ROLLED_BACK"}, f"race {race}"
            else:
                assert first.json()["error"] is None, f"race {race}: a late result is acknowledged"
            seen["rollback first"] += 1
        else:
            assert first.json()["error"] is None, f"race {race}"
            assert s(stored, "reversed_by") == rollback_id, f"race {race}: the target stands unreversed"
            seen["target first, then reversed"] += 1
        assert books.account(eur(player)).balance == start, f"race {race}: {seen}"
    state, _ = books.check(eur(player))
    assert state.balance == start
    assert sum(seen.values()) == RACES
    assert len(seen) == 2, f"only one order happened: {seen}"


def wallet_over(client: Any) -> SportsbookWallet:
    return SportsbookWallet(Ledger(DynamoLedgerStore(TABLE, lambda: client), sleep=lambda _: None), secrets())


@pytest.mark.parametrize("target_kind", ["bet", "result"])
def test_a_target_committed_between_a_rollbacks_read_and_write_is_reversed(
    target_kind: str, local_stack: LocalStack, real_client: Any, books: Books
) -> None:
    """Deterministic: the rollback reads (no target yet), the target commits, the rollback's tombstone fails."""
    player = new_player(local_stack, "100.00")
    target, rollback_id = tx("between"), tx("rb")
    target_answers: list[Answer] = []
    client = BeforeFirstWrite(
        real_client,
        lambda: target_answers.append(drive(own_environment(), transaction_body(player, target, "25.00", target_kind))),
    )

    answer = drive(wallet_over(client), rollback_body(player, rollback_id, target, "25.00"))

    assert target_answers[0].body["error"] is None
    assert answer.status == 200
    assert answer.body["error"] is None
    assert client.writes == 2, "the cancelled tombstone, then the reversal"
    assert (s(books.entry("sportsbook", target), "kind"), s(books.entry("sportsbook", target), "reversed_by")) == (
        "debit" if target_kind == "bet" else "credit",
        rollback_id,
    )
    assert s(books.entry("sportsbook", rollback_id), "effect") == "applied"
    assert books.check(eur(player))[0] == AccountState(units("100.00"), 3)


@pytest.mark.parametrize(("target_kind", "late_answer"), [("bet", "TRANSACTION_ROLLED_BACK"), ("result", None)])
def test_a_tombstone_committed_between_a_targets_snapshot_and_write_takes_its_effect(
    target_kind: str, late_answer: str | None, local_stack: LocalStack, real_client: Any, books: Books
) -> None:
    """Deterministic: the target has its snapshot, the rollback leaves a tombstone, the target's write fails."""
    player = new_player(local_stack, "100.00")
    target, rollback_id = tx("refused"), tx("rb")
    rollbacks: list[Answer] = []
    client = BeforeFirstWrite(
        real_client,
        lambda: rollbacks.append(drive(own_environment(), rollback_body(player, rollback_id, target, "25"))),
    )
    wallet = wallet_over(client)
    wallet.ledger.balance(AccountKey(player, "EUR"))  # warm: the target's write is its first call

    answer = drive(wallet, transaction_body(player, target, "25.00", target_kind))

    assert rollbacks[0].body["error"] is None
    assert (answer.status, answer.body["error"]) == (200, late_answer)
    assert client.writes == 1
    assert s(books.entry("sportsbook", target), "kind") == "tombstone"
    assert books.check(eur(player))[0] == AccountState(units("100.00"), 2)


# --- (d) a write committed, its response lost ---------------------------------------------------------------------


def lossy_wallet(wrapper: FaultyClient, sleeps: list[float], **kwargs: Any) -> SportsbookWallet:
    ledger = Ledger(DynamoLedgerStore(TABLE, lambda: wrapper), sleep=sleeps.append, **kwargs)
    return SportsbookWallet(ledger, secrets())


def scenario(stack: LocalStack, kind: str) -> tuple[str, bytes, str]:
    """A player, the request under test and the balance it must leave (the target of a rollback made first)."""
    player = new_player(stack, "100.00")
    if kind.startswith("rollback"):
        target = tx("target")
        target_kind = kind.removeprefix("rollback-")
        assert stack.handle(signed(transaction_body(player, target, "30.00", target_kind))).json()["error"] is None
        return player, rollback_body(player, tx("rb"), target, "30.00"), "100.00"
    return player, transaction_body(player, tx(kind), "30.00", kind), "70.00" if kind == "bet" else "130.00"


KINDS = ["bet", "result", "rollback-bet", "rollback-result"]


@pytest.mark.parametrize("kind", KINDS)
def test_a_committed_write_whose_response_was_lost_is_answered_with_the_original(
    kind: str, local_stack: LocalStack, real_client: Any, books: Books
) -> None:
    player, body, expected = scenario(local_stack, kind)
    loss = LoseResponses(1)
    wrapper = FaultyClient(real_client, {"transact_write_items": loss})
    sleeps: list[float] = []

    answer = drive(lossy_wallet(wrapper, sleeps), body)

    assert loss.lost == 1
    assert answer.status == 200
    # the original answer is what any environment answers to the same request, now and later
    replay = local_stack.handle(signed(body))
    assert (replay.status, replay.json()) == (200, answer.body)
    assert answer.body["error"] is None
    state, entries = books.check(eur(player))
    assert state == AccountState(units(expected), 3 if kind.startswith("rollback") else 2), "moved once"
    their_id = json.loads(body)["transaction_id"]
    assert [s(e, "tx_id") for e in entries].count(their_id) == 1


@pytest.mark.parametrize("kind", KINDS)
def test_when_every_response_is_lost_the_request_is_still_answered_with_the_original(
    kind: str, local_stack: LocalStack, real_client: Any, books: Books
) -> None:
    """A bet or result: the ledger resends the same write (its token makes it a no-op) until its attempts run
    out, then, since the last answer was lost rather than refused, reads the entry once and answers what was
    committed (a 503 here would claim nothing was written). A rollback reads again after a lost write, finds
    its own entry and answers at once."""
    player, body, expected = scenario(local_stack, kind)
    wrapper = FaultyClient(real_client, {"transact_write_items": LoseResponses(10**6)})
    sleeps: list[float] = []

    first = drive(lossy_wallet(wrapper, sleeps), body)

    resent = local_stack.handle(signed(body))
    again = local_stack.handle(signed(body))
    assert resent.status == 200
    assert resent.json()["error"] is None
    assert again.body == resent.body
    if kind.startswith("rollback"):
        assert (first.status, first.body) == (200, resent.json())
        assert wrapper.calls["transact_write_items"] == 1
    else:
        assert (first.status, first.body) == (200, resent.json())
        assert wrapper.calls["transact_write_items"] == service.MAX_ATTEMPTS
    state, _ = books.check(eur(player))
    assert state == AccountState(units(expected), 3 if kind.startswith("rollback") else 2), "moved once"


def test_a_bet_whose_one_response_was_lost_to_a_real_timeout_is_answered_as_committed(
    local_stack: LocalStack, real_client: Any, books: Books
) -> None:
    player, body, _ = scenario(local_stack, "bet")
    clock = [1000.0]
    wrapper = FaultyClient(real_client, {"transact_write_items": LoseResponses(1, clock=clock)})
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock[0] += seconds

    wallet = SportsbookWallet(
        Ledger(DynamoLedgerStore(TABLE, lambda: wrapper), sleep=sleep, monotonic=lambda: clock[0]), secrets()
    )

    answer = drive(wallet, body)

    assert books.check(eur(player))[0] == AccountState(units("70.00"), 2), "the bet was committed"
    assert (answer.status, answer.body["error"]) == (200, None)


# --- (e) throttling -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["bet", "result", "rollback-bet", "cold-bet"])
def test_a_throttled_callback_answers_503_temporary_error_and_writes_nothing(
    kind: str, local_stack: LocalStack, books: Books, monkeypatch: pytest.MonkeyPatch
) -> None:
    player, body, expected = scenario(local_stack, kind.removeprefix("cold-"))
    if kind.startswith("cold"):
        wiring.ledger().snapshots.forget(AccountKey(player, "EUR"))
    before = books.scan()
    faulty, sleeps = faulty_handlers(monkeypatch, every=always(throttled))

    response = local_stack.handle(signed(body))

    assert response.status == 503
    assert response.json() == {"error": "TEMPORARY_ERROR"}
    assert sum(faulty.calls.values()) == service.MAX_ATTEMPTS, faulty.calls
    assert len(sleeps) == service.MAX_ATTEMPTS - 1
    monkeypatch.undo()
    assert books.scan() == before, "a throttled request wrote something"
    retried = local_stack.handle(signed(body))  # the same request once DynamoDB is back
    assert (retried.status, retried.json()["error"]) == (200, None)
    state, _ = books.check(eur(player))
    assert state.balance == units(expected)
