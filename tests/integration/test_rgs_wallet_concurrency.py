"""Concurrent and faulty RGS wallet calls on Amazon DynamoDB Local (never moto: it serialises requests).

Requests start together behind a barrier and go through the local stack as API Gateway would hand them to
the functions (up to ``LOCAL_MAX_CONCURRENCY`` execution environments per function), or straight to
``RgsWallet`` instances that each have a Ledger, and so a snapshot cache, of their own (as separate Lambda
execution environments do). Faults are injected with a wrapper around a real DynamoDB client. After every
scenario the account is checked with a client of the test's own: balance = Σ delta, version = number of
entries, and an unbroken ``balance_before`` → ``balance_after`` chain that never goes below zero.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from typing import Any

import pytest

from croupier.errors import CroupierError
from croupier.ledger import AccountKey, AccountState, Ledger, service
from croupier.ledger.dynamo import DynamoLedgerStore
from croupier.secrets import CachedSecrets, FileSecretStore
from croupier.wallet.rgs import RgsWallet, bet_key
from croupier_local.apigw import HttpRequest, HttpResponse
from croupier_local.dynamodb import LocalDynamoDB
from croupier_local.events import DEFAULT_SECRETS
from croupier_local.server import LocalStack
from tests.support.concurrency import at_once, no_retry_later, send_together
from tests.support.faults import BeforeFirstWrite, FaultyClient, LoseResponses, always, faulty_handlers, throttled
from tests.support.players import create_player, fund_player
from tests.support.requests import OPERATOR_ID
from tests.support.requests import rgs_raw_request as raw_request
from tests.support.requests import rgs_request as signed
from tests.support.wallet_table import TABLE, Books, s

pytestmark = pytest.mark.dynamodb_local

PROVIDER = f"rgs:{OPERATOR_ID}"
CURRENCY = "USD"
CENT = 100  # internal units per USD cent


# --- requests ---------------------------------------------------------------------------------------------------


def tx(label: str) -> str:
    return f"rg-cc-{label}-{uuid.uuid4().hex[:16]}"


def body(account: AccountKey, tx_id: str, round_id: str, amount_minor: int) -> bytes:
    data = {
        "operator_tx_id": tx_id,
        "operator_player_id": account.player_id,
        "session_id": "rg-cc-session",
        "round_id": round_id,
        "currency": account.currency,
        "amount_minor": amount_minor,
    }
    return json.dumps(data, separators=(",", ":")).encode()


def answer(response: HttpResponse) -> tuple[int, dict[str, Any]]:
    return response.status, response.json()


def new_player(stack: LocalStack, deposit: str) -> AccountKey:
    player_id = f"rg-cc-{uuid.uuid4().hex[:20]}"
    create_player(stack, player_id=player_id, currency=CURRENCY)
    fund_player(stack, player_id, CURRENCY, deposit, tx("seed"))
    return AccountKey(player_id, CURRENCY)


# --- the books ----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def books(dynamodb_local: LocalDynamoDB, real_client: Any, local_stack: LocalStack) -> Books:
    assert dynamodb_local.kind == "dynamodb-local", "concurrency tests need DynamoDB Local, never moto"
    return Books(real_client)


# --- (a) replay storm ---------------------------------------------------------------------------------------------

STORM = 50


def test_one_bet_sent_fifty_times_at_once_moves_money_once_and_answers_identically(
    local_stack: LocalStack, books: Books
) -> None:
    account = new_player(local_stack, "100.00")
    round_id = tx("storm")
    request = signed("bet", body(account, f"bet-{round_id}", round_id, 1_234))

    responses = send_together(local_stack, [request] * STORM)

    no_retry_later(responses)
    assert Counter(r.status for r in responses) == {200: STORM}
    assert {r.body for r in responses} == {responses[0].body}, "replays answered differently"
    assert responses[0].json() == {"ok": True, "balance_minor": 8_766}
    state, entries = books.check(account)
    assert state == AccountState(8_766 * CENT, 2), "the bet took effect more than once (or never)"
    assert [s(e, "kind") for e in entries] == ["credit", "debit"]


def test_one_refund_sent_twenty_times_at_once_gives_the_money_back_once(local_stack: LocalStack, books: Books) -> None:
    account = new_player(local_stack, "100.00")
    round_id = tx("refund-storm")
    assert answer(local_stack.handle(signed("bet", body(account, f"bet-{round_id}", round_id, 2_500)))) == (
        200,
        {"ok": True, "balance_minor": 7_500},
    )
    request = signed("refund", body(account, f"refund-{round_id}", round_id, 2_500))

    responses = send_together(local_stack, [request] * 20)

    no_retry_later(responses)
    assert [answer(r) for r in responses] == [(200, {"ok": True, "balance_minor": 10_000})] * 20
    state, entries = books.check(account)
    assert state == AccountState(10_000 * CENT, 3)
    assert [(s(e, "kind"), s(e, "effect")) for e in entries][-1] == ("reversal", "applied")


# --- (b) oversubscription ------------------------------------------------------------------------------------------

AFFORDABLE = 5
CONTENDERS = 40
STAKE = 1_000  # cents


def test_oversubscribed_bets_through_the_handlers_exactly_the_affordable_ones_succeed(
    local_stack: LocalStack, books: Books
) -> None:
    account = new_player(local_stack, f"{AFFORDABLE * STAKE // 100}.00")
    requests = [
        signed("bet", body(account, f"bet-{round_id}", round_id, STAKE))
        for round_id in (tx(f"over{i}") for i in range(CONTENDERS))
    ]

    responses = send_together(local_stack, requests)

    no_retry_later(responses)
    assert Counter(r.status for r in responses) == {200: AFFORDABLE, 402: CONTENDERS - AFFORDABLE}
    for response in responses:
        if response.status == 402:
            assert response.json() == {"ok": False, "error": "INSUFFICIENT_FUNDS", "message": "insufficient funds"}
    won = sorted(r.json()["balance_minor"] for r in responses if r.status == 200)
    assert won == [STAKE * k for k in range(AFFORDABLE)]
    state, entries = books.check(account)
    assert state == AccountState(0, 1 + AFFORDABLE)
    assert Counter(s(e, "kind") for e in entries) == {"credit": 1, "debit": AFFORDABLE}


def test_oversubscribed_bets_from_separate_execution_environments(
    local_stack: LocalStack, books: Books, real_client: Any
) -> None:
    """One RgsWallet (so one Ledger and one snapshot cache) per contender, as separate Lambda environments."""
    account = new_player(local_stack, f"{AFFORDABLE * STAKE // 100}.00")
    store = DynamoLedgerStore(TABLE, lambda: real_client)
    secrets = CachedSecrets(FileSecretStore(DEFAULT_SECRETS))

    def bet(i: int) -> dict[str, Any] | CroupierError:
        round_id = tx(f"env{i}")
        try:
            return RgsWallet(Ledger(store), secrets).bet(
                raw_request("bet", body(account, f"bet-{round_id}", round_id, STAKE))
            )
        except CroupierError as error:
            return error

    results = at_once([(lambda i=i: bet(i)) for i in range(CONTENDERS)])

    errors = Counter(r.code for r in results if isinstance(r, CroupierError))
    assert errors == {"INSUFFICIENT_FUNDS": CONTENDERS - AFFORDABLE}, errors
    answers = sorted(r["balance_minor"] for r in results if isinstance(r, dict))
    assert answers == [STAKE * k for k in range(AFFORDABLE)]
    assert books.check(account)[0] == AccountState(0, 1 + AFFORDABLE)


# --- (c) a refund racing its bet ----------------------------------------------------------------------------------

RACES = 24


def test_a_refund_racing_its_bet_always_leaves_the_balance_where_it_started(
    local_stack: LocalStack, books: Books
) -> None:
    account = new_player(local_stack, "500.00")
    start = books.account(account).balance
    seen: Counter[str] = Counter()
    for race in range(RACES):
        round_id = tx(f"race{race}")
        bet_request = signed("bet", body(account, f"bet-{round_id}", round_id, 2_500))
        refund_request = signed("refund", body(account, f"refund-{round_id}", round_id, 2_500))
        # who starts first: a third of the races each way by a clear margin, the rest a real race
        bet_delay, refund_delay = [(0.0, 0.0), (0.1, 0.0), (0.0, 0.1)][race % 3]

        def send_after(request: HttpRequest, delay: float) -> HttpResponse:
            time.sleep(delay)
            return local_stack.handle(request)

        bet, refund = at_once(
            [
                lambda r=bet_request, d=bet_delay: send_after(r, d),
                lambda r=refund_request, d=refund_delay: send_after(r, d),
            ]
        )

        no_retry_later([bet, refund])
        assert answer(refund) == (200, {"ok": True, "balance_minor": 50_000}), f"race {race}"
        target = books.entry(PROVIDER, bet_key(account.player_id, round_id))
        assert target is not None
        if bet.status == 200:
            assert bet.json() == {"ok": True, "balance_minor": 47_500}
            assert (s(target, "kind"), s(target, "reversed_by")) == ("debit", f"tx:refund-{round_id}"), race
            seen["bet first, then refunded"] += 1
        else:
            assert (bet.status, bet.json()["error"]) == (409, "ALREADY_ROLLED_BACK"), f"race {race}"
            assert (s(target, "kind"), s(target, "reversed_by")) == ("tombstone", f"tx:refund-{round_id}"), race
            seen["refund first, bet refused"] += 1
        assert books.account(account).balance == start, f"race {race}: {seen}"
    state, _ = books.check(account)
    assert state.balance == start
    assert set(seen) == {"bet first, then refunded", "refund first, bet refused"}, seen


def wallet_over(client: Any) -> RgsWallet:
    ledger = Ledger(DynamoLedgerStore(TABLE, lambda: client), sleep=lambda _: None)
    return RgsWallet(ledger, CachedSecrets(FileSecretStore(DEFAULT_SECRETS)))


def test_a_bet_committed_between_a_refunds_read_and_write_is_refunded(
    local_stack: LocalStack, books: Books, real_client: Any
) -> None:
    """Deterministic: the refund reads (no bet yet), the bet commits, the refund's tombstone fails, it reads again."""
    account = new_player(local_stack, "100.00")
    round_id = tx("between")
    done: list[dict[str, Any]] = []
    bet = body(account, f"bet-{round_id}", round_id, 2_500)
    client = BeforeFirstWrite(real_client, lambda: done.append(wallet_over(real_client).bet(raw_request("bet", bet))))

    refunded = wallet_over(client).refund(raw_request("refund", body(account, f"refund-{round_id}", round_id, 2_500)))

    assert done == [{"ok": True, "balance_minor": 7_500}]
    assert refunded == {"ok": True, "balance_minor": 10_000}
    assert client.writes == 2, "the cancelled tombstone, then the reversal"
    state, entries = books.check(account)
    assert state == AccountState(10_000 * CENT, 3)
    assert [(s(e, "kind"), s(e, "effect")) for e in entries][-1] == ("reversal", "applied")


def test_a_refund_committed_between_a_bets_snapshot_and_write_refuses_the_bet(
    local_stack: LocalStack, books: Books, real_client: Any
) -> None:
    """Deterministic: the bet has its snapshot, the refund leaves a tombstone, the bet's write is refused."""
    account = new_player(local_stack, "100.00")
    round_id = tx("refused")
    refund = body(account, f"refund-{round_id}", round_id, 2_500)
    done: list[dict[str, Any]] = []
    client = BeforeFirstWrite(
        real_client, lambda: done.append(wallet_over(real_client).refund(raw_request("refund", refund)))
    )
    wallet = wallet_over(client)
    wallet.ledger.balance(account)  # the snapshot

    with pytest.raises(CroupierError) as raised:
        wallet.bet(raw_request("bet", body(account, f"bet-{round_id}", round_id, 2_500)))

    assert (raised.value.status, raised.value.code) == (409, "ALREADY_ROLLED_BACK")
    assert done == [{"ok": True, "balance_minor": 10_000}]
    assert client.writes == 1
    assert books.check(account)[0] == AccountState(10_000 * CENT, 2)


# --- (d) committed, but the response was lost ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("route", "amount", "expected", "versions"),
    [("bet", 3_000, 7_000, 2), ("win", 3_000, 10_000, 3), ("refund", 2_000, 10_000, 3)],
)
def test_a_call_whose_committed_write_lost_its_response_answers_the_original_once(
    local_stack: LocalStack, books: Books, real_client: Any, route: str, amount: int, expected: int, versions: int
) -> None:
    account = new_player(local_stack, "100.00")
    round_id = tx("lost")
    if route in ("win", "refund"):
        setup = local_stack.handle(signed("bet", body(account, f"bet-{round_id}", round_id, amount)))
        assert answer(setup) == (200, {"ok": True, "balance_minor": 10_000 - amount})
    payload = body(account, f"{route}-{round_id}", round_id, amount)
    loss = LoseResponses(1)
    faulty = FaultyClient(real_client, {"transact_write_items": loss})
    sleeps: list[float] = []
    wallet = RgsWallet(
        Ledger(DynamoLedgerStore(TABLE, lambda: faulty), sleep=sleeps.append),
        CachedSecrets(FileSecretStore(DEFAULT_SECRETS)),
    )

    first = getattr(wallet, route)(raw_request(route, payload))  # applied, response lost, retried by the ledger

    assert first == {"ok": True, "balance_minor": expected}
    assert loss.left == 0, "the response was lost once"
    assert len(sleeps) == 1, "one pause before the retry"
    if route == "refund":
        assert (faulty.calls["transact_write_items"], faulty.calls["transact_get_items"]) == (1, 2)
    else:
        assert faulty.calls["transact_write_items"] == 2, "the same transaction sent again (same token)"
    # the RGS, which never got an answer either, sends the call again: through the handlers this time
    ok_again = local_stack.handle(signed(route, payload))
    assert answer(ok_again) == (200, {"ok": True, "balance_minor": expected})
    state, _ = books.check(account)
    assert state == AccountState(expected * CENT, versions), "the call took effect more than once (or never)"


# --- (e) throttling -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("route", ["bet", "win", "refund"])
def test_a_throttled_call_answers_503_retry_later_and_writes_nothing(
    local_stack: LocalStack, books: Books, monkeypatch: pytest.MonkeyPatch, route: str
) -> None:
    account = new_player(local_stack, "100.00")
    round_id = tx("throttled")
    if route in ("win", "refund"):
        setup = local_stack.handle(signed("bet", body(account, f"bet-{round_id}", round_id, 1_000)))
        assert answer(setup) == (200, {"ok": True, "balance_minor": 9_000})
    before = books.player_items(account)
    faulty, sleeps = faulty_handlers(monkeypatch, {"transact_write_items": always(throttled)})
    payload = body(account, f"{route}-{round_id}", round_id, 1_000)

    response = local_stack.handle(signed(route, payload))

    assert response.status == 503, response.body
    assert response.json()["ok"] is False
    assert response.json()["error"] == "RETRY_LATER"
    assert faulty.calls["transact_write_items"] == service.MAX_ATTEMPTS
    assert len(sleeps) == service.MAX_ATTEMPTS - 1
    assert books.player_items(account) == before, "the table changed"
    assert (
        books.entry(PROVIDER, bet_key(account.player_id, round_id) if route == "bet" else f"tx:{route}-{round_id}")
        is None
    )
    monkeypatch.undo()
    retried = local_stack.handle(signed(route, payload))  # the same call once DynamoDB is back
    assert answer(retried) == (
        200,
        {"ok": True, "balance_minor": {"bet": 9_000, "win": 10_000, "refund": 10_000}[route]},
    )
    books.check(account)
