"""The sportsbook's seamless wallet (providers.md section 4), end to end on Amazon DynamoDB Local.

Requests go through the local stack's HTTP path (``LocalStack.handle``; one test over real HTTP), signed
with the dev-only security hash. Players are created and funded through the admin handlers. Balances and
entries are read back with a client of the test's own, and after every scenario the account is reconciled:
balance = Σ delta of its entries, version = their count, an unbroken ``balance_before`` → ``balance_after``
chain (a result's rollback is the one movement allowed below zero).

Every processed answer is HTTP 200: ``{"error": null, "transaction_id": "<ours>"}`` or ``{"error": CODE}``.
Our id is derived from theirs, so every repeat of a request answers the same one, byte for byte.

Round trips are counted with a botocore ``before-send.dynamodb`` hook on the handlers' own client
(``croupier.aws.dynamodb()``): warm, a bet, a result or any replay of them costs one ``TransactWriteItems``;
a rollback one ``TransactGetItems`` and one write, its replay the read only.
"""

from __future__ import annotations

import json
import urllib.request
import uuid
from decimal import Decimal
from typing import Any

import pytest

from croupier import money
from croupier.ledger import AccountKey, AccountState, Ledger
from croupier.ledger.dynamo import entry_from_item
from croupier.ledger.reconcile import problems
from croupier.secrets import CachedSecrets, FileSecretStore
from croupier.signing import sportsbook
from croupier.wallet import wiring
from croupier.wallet.sportsbook import SportsbookWallet
from croupier_local.apigw import HttpRequest, HttpResponse
from croupier_local.dynamodb import LocalDynamoDB
from croupier_local.events import DEFAULT_SECRETS
from croupier_local.server import LocalStack
from tests.support.players import create_player, fund_player
from tests.support.requests import SECURITY_HASH, sportsbook_raw_request, sportsbook_request
from tests.support.round_trips import GET, READ_TX, WRITE, DynamoCalls
from tests.support.wallet_table import Books, Item, n, s

pytestmark = pytest.mark.dynamodb_local

HEADER, MISSPELLED = sportsbook.SIGNATURE_HEADER, sportsbook.SIGNATURE_HEADER_MISSPELLED
TX_ROUTE, RB_ROUTE = "transaction", "transaction-rollback"


# --- requests ---------------------------------------------------------------------------------------------------


class Raw(str):
    """JSON text put into a body as it is: amounts are JSON numbers written exactly as the provider writes them."""

    __slots__ = ()


def encode(data: dict[str, Any]) -> bytes:
    parts = [f"{json.dumps(k)}:{v if isinstance(v, Raw) else json.dumps(v)}" for k, v in data.items()]
    return ("{" + ",".join(parts) + "}").encode()


def tx(label: str) -> str:
    return f"sb-w-{label}-{uuid.uuid4().hex}"


def transaction_body(player: str, their_id: str, amount: str, action: str = "bet", currency: str = "EUR") -> bytes:
    return encode(
        {"transaction_id": their_id, "action": action, "user_id": player, "currency": currency, "amount": Raw(amount)}
    )


def rollback_body(player: str, their_id: str, target: str, amount: str, currency: str = "EUR") -> bytes:
    return encode(
        {
            "transaction_id": their_id,
            "rollback_transaction_id": target,
            "action": "rollback",
            "user_id": player,
            "currency": currency,
            "amount": Raw(amount),
        }
    )


def post(stack: LocalStack, route: str, body: bytes, header: str = HEADER) -> HttpResponse:
    return stack.handle(sportsbook_request(route, body, header))


def bet(stack: LocalStack, player: str, their_id: str, amount: str, **kwargs: Any) -> HttpResponse:
    return post(stack, TX_ROUTE, transaction_body(player, their_id, amount, "bet", **kwargs))


def result(stack: LocalStack, player: str, their_id: str, amount: str, **kwargs: Any) -> HttpResponse:
    return post(stack, TX_ROUTE, transaction_body(player, their_id, amount, "result", **kwargs))


def rollback(stack: LocalStack, player: str, their_id: str, target: str, amount: str, **kwargs: Any) -> HttpResponse:
    return post(stack, RB_ROUTE, rollback_body(player, their_id, target, amount, **kwargs))


def accepted(response: HttpResponse) -> str:
    """The success answer's transaction id (ours), after checking the answer's exact shape."""
    assert response.status == 200, response.body
    assert (response.header("Content-Type") or "").startswith("application/json")
    answer = response.json()
    assert set(answer) == {"error", "transaction_id"}, answer
    assert answer["error"] is None, answer
    ours = answer["transaction_id"]
    assert isinstance(ours, str)
    assert ours
    return ours


def refused(response: HttpResponse, code: str) -> None:
    assert response.status == 200, response.body
    assert response.json() == {"error": code}


def new_player(stack: LocalStack, deposit: str = "100.00", currency: str = "EUR") -> str:
    """A fresh player with one account, funded through the admin handlers (which warm the wallet's cache)."""
    player = f"sb-w-{uuid.uuid4().hex[:20]}"
    create_player(stack, player_id=player, currency=currency)
    if deposit:
        fund_player(stack, player, currency, deposit, f"{player}-seed")
    return player


def units(amount: str) -> int:
    """Internal units of an exact decimal (4 places, whatever the currency)."""
    value = Decimal(amount).scaleb(money.SCALE)
    assert value == value.to_integral_value()
    return int(value)


# --- the books ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def books(dynamodb_local: LocalDynamoDB, real_client: Any) -> Books:
    assert dynamodb_local.kind == "dynamodb-local", "these tests need DynamoDB Local, never moto"
    return Books(real_client)


def eur(player: str) -> AccountKey:
    return AccountKey(player, "EUR")


def reconcile(books: Books, player: str, currency: str = "EUR") -> tuple[AccountState, list[Item]]:
    """Balance = Σ delta, version = number of entries, and the reconciler finds nothing wrong."""
    state, items = books.totals(AccountKey(player, currency))
    chain = sorted((entry_from_item(i) for i in items), key=lambda e: e.version)
    assert problems(state, chain) == []
    return state, items


# --- bet and result ----------------------------------------------------------------------------------------------


def test_a_bet_withdraws_and_answers_our_own_transaction_id(local_stack: LocalStack, books: Books) -> None:
    player = new_player(local_stack, "100.00")
    their_id = tx("bet")

    ours = accepted(bet(local_stack, player, their_id, "10.00"))

    assert ours != their_id
    assert books.account(eur(player)).balance == units("90.00")
    entry = books.entry("sportsbook", their_id)
    assert (s(entry, "kind"), s(entry, "player_id"), s(entry, "currency")) == ("debit", player, "EUR")
    assert (n(entry, "amount"), n(entry, "delta")) == (units("10.00"), -units("10.00"))
    assert reconcile(books, player)[0] == AccountState(units("90.00"), 2)


def test_a_result_deposits(local_stack: LocalStack, books: Books) -> None:
    player = new_player(local_stack, "100.00")
    their_id = tx("result")

    ours = accepted(result(local_stack, player, their_id, "25.50"))

    assert ours != their_id
    assert books.account(eur(player)).balance == units("125.50")
    entry = books.entry("sportsbook", their_id)
    assert (s(entry, "kind"), n(entry, "delta")) == ("credit", units("25.50"))
    assert reconcile(books, player)[0] == AccountState(units("125.50"), 2)


def test_different_transactions_get_different_ids_of_ours(local_stack: LocalStack) -> None:
    player = new_player(local_stack, "100.00")
    first, second = tx("one"), tx("two")
    ours = {
        accepted(bet(local_stack, player, first, "1.00")),
        accepted(result(local_stack, player, second, "1.00")),
        accepted(rollback(local_stack, player, tx("rb"), first, "1.00")),
    }
    assert len(ours) == 3
    assert not ours & {first, second}


@pytest.mark.parametrize("kind", ["bet", "result", "rollback"])
def test_every_repeat_answers_the_same_transaction_id_and_moves_the_money_once(
    kind: str, local_stack: LocalStack, books: Books
) -> None:
    player = new_player(local_stack, "100.00")
    their_id = tx(kind)
    if kind == "rollback":
        target = tx("target")
        accepted(bet(local_stack, player, target, "40.00"))
        body, route, expected = rollback_body(player, their_id, target, "40.00"), RB_ROUTE, "100.00"
    else:
        body, route = transaction_body(player, their_id, "40.00", kind), TX_ROUTE
        expected = "60.00" if kind == "bet" else "140.00"
    first = post(local_stack, route, body)
    ours = accepted(first)
    accepted(result(local_stack, player, tx("between"), "1.11"))  # the balance moves in between
    state = books.account(eur(player))

    repeats = [post(local_stack, route, body, header) for header in (HEADER, MISSPELLED, HEADER)]
    elsewhere = getattr(another_environment(), "rollback" if kind == "rollback" else "transaction")(
        sportsbook_raw_request(route, body)
    )

    assert [(r.status, r.body) for r in repeats] == [(first.status, first.body)] * 3
    assert (elsewhere.status, elsewhere.body) == (200, {"error": None, "transaction_id": ours})
    assert books.account(eur(player)) == state, "a repeat wrote something"
    assert books.account(eur(player)).balance == units(expected) + units("1.11")
    _, entries = reconcile(books, player)
    assert [s(e, "tx_id") for e in entries].count(their_id) == 1


def another_environment() -> SportsbookWallet:
    """The wallet as a second Lambda execution environment would have it: a cache of its own."""
    return SportsbookWallet(Ledger(wiring.ledger_store()), CachedSecrets(FileSecretStore(DEFAULT_SECRETS)))


# --- exact amounts -------------------------------------------------------------------------------------------------


def test_decimal_amounts_are_parsed_exactly(local_stack: LocalStack, books: Books) -> None:
    """0.1 + 0.2 is 0.30000000000000004 in binary floating point; a wallet never sees that."""
    player = new_player(local_stack, "100.00")
    accepted(bet(local_stack, player, tx("tenth"), "0.1"))
    accepted(bet(local_stack, player, tx("fifth"), "0.2"))
    assert books.account(eur(player)).balance == units("99.70"), "two bets of 0.1 and 0.2 left exactly 0.30 less"

    for amount in ("0.1", "0.2", "0.10", "1.05E+1", "10.50", "0.1000000"):
        accepted(result(local_stack, player, tx("exact"), amount))
    state, entries = reconcile(books, player)
    amounts = [n(e, "amount") for e in entries if s(e, "provider") == "sportsbook"]
    assert amounts == [1000, 2000, 1000, 2000, 1000, 105000, 105000, 1000]
    assert state.balance == units("121.20")


@pytest.mark.parametrize(
    ("currency", "amount", "deposit"),
    [("EUR", "10.555", "100.00"), ("EUR", "0.001", "100.00"), ("JPY", "1.5", "1000"), ("JPY", "0.1", "1000")],
)
@pytest.mark.parametrize("action", ["bet", "result", "rollback"])
def test_more_precision_than_the_currency_allows_is_invalid_amount_and_writes_nothing(
    currency: str, amount: str, deposit: str, action: str, local_stack: LocalStack, books: Books
) -> None:
    player = new_player(local_stack, deposit, currency)
    if action == "rollback":
        body, route = rollback_body(player, tx("rb"), tx("target"), amount, currency), RB_ROUTE
    else:
        body, route = transaction_body(player, tx(action), amount, action, currency), TX_ROUTE
    before = books.scan()
    refused(post(local_stack, route, body), "INVALID_AMOUNT")
    assert books.scan() == before
    # the same at the currency's own precision is processed (so the refusal was about the precision)
    exact = {"10.555": "10.55", "0.001": "0.01", "1.5": "15", "0.1": "1"}[amount]
    accepted(post(local_stack, route, body.replace(f'"amount":{amount}'.encode(), f'"amount":{exact}'.encode())))
    reconcile(books, player, currency)


# --- the hash header ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("header", [HEADER, MISSPELLED, HEADER.upper(), MISSPELLED.lower()])
def test_both_spellings_of_the_hash_header_are_accepted_on_both_routes(
    header: str, local_stack: LocalStack, books: Books
) -> None:
    player = new_player(local_stack, "100.00")
    target = tx("bet")
    accepted(post(local_stack, TX_ROUTE, transaction_body(player, target, "30.00"), header))
    accepted(post(local_stack, TX_ROUTE, transaction_body(player, tx("res"), "5.00", "result"), header))
    assert books.account(eur(player)).balance == units("75.00")
    accepted(post(local_stack, RB_ROUTE, rollback_body(player, tx("rb"), target, "30.00"), header))
    assert reconcile(books, player)[0] == AccountState(units("105.00"), 4)


# --- refusals ------------------------------------------------------------------------------------------------------


def test_insufficient_funds_answers_the_providers_literal_and_writes_nothing(
    local_stack: LocalStack, books: Books
) -> None:
    player = new_player(local_stack, "50.00")
    their_id = tx("too-much")
    before = books.scan()

    response = bet(local_stack, player, their_id, "50.01")

    refused(response, "INSUFFICENT_FUNDS")
    assert response.body == b'{"error":"INSUFFICENT_FUNDS"}'
    assert books.scan() == before
    accepted(bet(local_stack, player, tx("all-of-it"), "50.00"))  # the boundary: exactly the balance
    assert reconcile(books, player)[0] == AccountState(0, 2)
    refused(bet(local_stack, player, tx("nothing-left"), "0.01"), "INSUFFICENT_FUNDS")
    accepted(result(local_stack, player, tx("result-on-zero"), "1.00"))  # a result is always processed


@pytest.mark.parametrize("route", ["bet", "result", "rollback"])
def test_an_unknown_user_is_unknown_user_and_writes_nothing(route: str, local_stack: LocalStack, books: Books) -> None:
    nobody = f"sb-w-nobody-{uuid.uuid4().hex[:12]}"
    before = books.scan()
    if route == "rollback":
        response = rollback(local_stack, nobody, tx("rb"), tx("target"), "1.00")
    else:
        response = post(local_stack, TX_ROUTE, transaction_body(nobody, tx(route), "1.00", route))
    refused(response, "UNKNOWN_USER")
    assert books.scan() == before


def test_a_known_user_without_an_account_in_that_currency_is_unknown_user(
    local_stack: LocalStack, books: Books
) -> None:
    player = new_player(local_stack, "100.00")
    before = books.scan()
    refused(bet(local_stack, player, tx("usd"), "1.00", currency="USD"), "UNKNOWN_USER")
    assert books.scan() == before


@pytest.mark.parametrize(
    "second",
    [
        pytest.param(lambda p, q, t, o: transaction_body(p, t, "10.01"), id="bet-other-amount"),
        pytest.param(lambda p, q, t, o: transaction_body(p, t, "10.00", "result"), id="bet-then-result-same-id"),
        pytest.param(lambda p, q, t, o: transaction_body(q, t, "10.00"), id="bet-other-player"),
        pytest.param(lambda p, q, t, o: rollback_body(p, t, o, "5.00"), id="rollback-with-a-bets-id"),
        pytest.param(lambda p, q, t, o: rollback_body(p, f"{t}-rb", o, "5.00"), id="rollback-id-other-target"),
        pytest.param(lambda p, q, t, o: transaction_body(p, f"{t}-rb", "1.00"), id="bet-with-a-rollbacks-id"),
    ],
)
def test_a_transaction_id_reused_with_other_content_is_duplicate_transaction_and_writes_nothing(
    second: Any, local_stack: LocalStack, books: Books
) -> None:
    player, other = new_player(local_stack, "100.00"), new_player(local_stack, "100.00")
    their_id, other_target = tx("dup"), tx("other")
    accepted(bet(local_stack, player, their_id, "10.00"))
    accepted(bet(local_stack, player, other_target, "5.00"))
    accepted(rollback(local_stack, player, f"{their_id}-rb", their_id, "10.00"))
    before = books.scan()

    body = second(player, other, their_id, other_target)
    response = post(local_stack, RB_ROUTE if b'"rollback"' in body else TX_ROUTE, body)

    refused(response, "DUPLICATE_TRANSACTION")
    assert books.scan() == before
    reconcile(books, player)


# --- rollbacks -------------------------------------------------------------------------------------------------------


def test_rolling_back_a_bet_refunds_it_once(local_stack: LocalStack, books: Books) -> None:
    player = new_player(local_stack, "100.00")
    bet_id, rollback_id = tx("bet"), tx("rb")
    bet_ours = accepted(bet(local_stack, player, bet_id, "30.00"))
    assert books.account(eur(player)).balance == units("70.00")

    rollback_ours = accepted(rollback(local_stack, player, rollback_id, bet_id, "30.00"))

    assert rollback_ours != bet_ours
    assert books.account(eur(player)).balance == units("100.00")
    assert s(books.entry("sportsbook", bet_id), "reversed_by") == rollback_id
    reversal = books.entry("sportsbook", rollback_id)
    assert (s(reversal, "kind"), s(reversal, "effect"), n(reversal, "delta")) == ("reversal", "applied", units("30"))
    # a second rollback of the same bet (another id of theirs) is recorded, moves nothing, and succeeds
    again = tx("rb-again")
    accepted(rollback(local_stack, player, again, bet_id, "30.00"))
    assert (s(books.entry("sportsbook", again), "effect"), n(books.entry("sportsbook", again), "delta")) == (
        "already_reversed",
        0,
    )
    assert reconcile(books, player)[0] == AccountState(units("100.00"), 4)


def test_rolling_back_a_result_takes_the_money_back_even_below_zero(local_stack: LocalStack, books: Books) -> None:
    player = new_player(local_stack, "10.00")
    result_id = tx("win")
    accepted(result(local_stack, player, result_id, "50.00"))
    accepted(bet(local_stack, player, tx("spend"), "55.00"))
    assert books.account(eur(player)).balance == units("5.00")

    rollback_id = tx("rb")
    first = rollback(local_stack, player, rollback_id, result_id, "50.00")
    accepted(first)

    assert books.account(eur(player)).balance == -units("45.00"), (
        "the reversal of a result may take the balance below zero"
    )
    reversal = books.entry("sportsbook", rollback_id)
    assert (s(reversal, "effect"), n(reversal, "delta"), n(reversal, "balance_after")) == (
        "applied",
        -units("50.00"),
        -units("45.00"),
    )
    assert s(books.entry("sportsbook", result_id), "reversed_by") == rollback_id
    assert reconcile(books, player)[0] == AccountState(-units("45.00"), 4), "recorded and counted"
    replay = rollback(local_stack, player, rollback_id, result_id, "50.00")
    assert (replay.status, replay.body) == (first.status, first.body)
    refused(bet(local_stack, player, tx("broke"), "0.01"), "INSUFFICENT_FUNDS")
    accepted(result(local_stack, player, tx("still-paid"), "5.00"))
    assert reconcile(books, player)[0] == AccountState(-units("40.00"), 5)


@pytest.mark.parametrize("late", ["bet", "result"])
def test_a_rollback_of_an_unknown_transaction_succeeds_and_the_late_target_has_no_effect(
    late: str, local_stack: LocalStack, books: Books
) -> None:
    player = new_player(local_stack, "100.00")
    target, rollback_id = tx(f"late-{late}"), tx("rb")

    first = rollback(local_stack, player, rollback_id, target, "20.00")

    accepted(first)
    assert books.account(eur(player)).balance == units("100.00")
    reversal = books.entry("sportsbook", rollback_id)
    assert (s(reversal, "effect"), n(reversal, "delta")) == ("target_unknown", 0)
    assert (s(books.entry("sportsbook", target), "kind"), s(books.entry("sportsbook", target), "reversed_by")) == (
        "tombstone",
        rollback_id,
    )
    replay = rollback(local_stack, player, rollback_id, target, "20.00")
    assert (replay.status, replay.body) == (first.status, first.body)
    before = books.scan()

    responses = [post(local_stack, TX_ROUTE, transaction_body(player, target, "20.00", late)) for _ in range(2)]

    if late == "bet":
        for response in responses:
            refused(response, "TRANSACTION_ROLLED_BACK")
    else:  # a result must always succeed: acknowledged with our id, not paid
        assert {accepted(r) for r in responses} == {accepted(result(local_stack, player, target, "20.00"))}
        assert responses[0].json()["transaction_id"] not in (accepted(first), target)
    assert books.scan() == before, "the late target wrote something"
    assert reconcile(books, player)[0] == AccountState(units("100.00"), 2)


@pytest.mark.parametrize(
    ("target_kind", "mismatch"),
    [
        pytest.param("bet", {"amount": "20.01"}, id="bet-amount-above"),
        pytest.param("bet", {"amount": "19.99"}, id="bet-amount-below"),
        pytest.param("result", {"amount": "0"}, id="result-amount-zero"),
        pytest.param("result", {"amount": "200"}, id="result-amount-tenfold"),
        pytest.param("bet", {"player": "other"}, id="bet-of-another-player"),
    ],
)
def test_a_rollback_that_does_not_match_its_target_is_rollback_mismatch_and_writes_nothing(
    target_kind: str, mismatch: dict[str, str], local_stack: LocalStack, books: Books
) -> None:
    player, other = new_player(local_stack, "100.00"), new_player(local_stack, "100.00")
    target, rollback_id = tx("target"), tx("rb")
    accepted(post(local_stack, TX_ROUTE, transaction_body(player, target, "20.00", target_kind)))
    before = books.scan()

    response = rollback(
        local_stack,
        other if mismatch.get("player") else player,
        rollback_id,
        target,
        mismatch.get("amount", "20.00"),
    )

    refused(response, "ROLLBACK_MISMATCH")
    assert books.scan() == before
    # nothing was recorded under the rollback's id: the right request with the same id is then processed
    accepted(rollback(local_stack, player, rollback_id, target, "20.00"))
    assert reconcile(books, player)[0] == AccountState(units("100.00"), 3)


# --- round trips --------------------------------------------------------------------------------------------------


def test_warm_callbacks_cost_one_round_trip_and_a_rollback_two(local_stack: LocalStack, calls: DynamoCalls) -> None:
    player = new_player(local_stack, "100.00")  # the admin deposit leaves the account in the wallet's cache
    bet_id, result_id, rollback_id = tx("bet"), tx("result"), tx("rb")
    calls.take()

    accepted(bet(local_stack, player, bet_id, "10.00"))
    assert calls.take() == [WRITE], "warm bet"
    accepted(result(local_stack, player, result_id, "20.00"))
    assert calls.take() == [WRITE], "warm result"
    accepted(bet(local_stack, player, bet_id, "10.00"))
    assert calls.take() == [WRITE], "bet replay: answered from the write's ALL_OLD"
    accepted(result(local_stack, player, result_id, "20.00"))
    assert calls.take() == [WRITE], "result replay"
    accepted(rollback(local_stack, player, rollback_id, bet_id, "10.00"))
    assert calls.take() == [READ_TX, WRITE], "rollback: one consistent read, one write"
    accepted(rollback(local_stack, player, rollback_id, bet_id, "10.00"))
    assert calls.take() == [READ_TX], "rollback replay: the read finds its own entry"
    refused(bet(local_stack, player, tx("much"), "5000.00"), "INSUFFICENT_FUNDS")
    assert calls.take() == [WRITE], "funds are decided by the write's own condition"
    unknown = tx("unknown")
    accepted(rollback(local_stack, player, tx("rb-unknown"), unknown, "1.00"))
    assert calls.take() == [READ_TX, WRITE]
    refused(bet(local_stack, player, unknown, "1.00"), "TRANSACTION_ROLLED_BACK")
    assert calls.take() == [WRITE], "a late bet meets the tombstone in its one write"


def test_refusals_before_the_ledger_cost_no_round_trip_and_a_cold_bet_two(
    local_stack: LocalStack, calls: DynamoCalls
) -> None:
    player = new_player(local_stack, "")  # created, never moved: cold for the wallet
    calls.take()
    body = transaction_body(player, tx("cold"), "0.00")
    headers = [("Content-Type", "application/json"), (HEADER, "ab" * 32)]
    refused(
        local_stack.handle(HttpRequest("POST", "/sportsbook/transaction", headers=headers, body=body)), "INVALID_HASH"
    )
    refused(post(local_stack, TX_ROUTE, b"{"), "INVALID_REQUEST")
    refused(bet(local_stack, player, tx("fine"), "1.001"), "INVALID_AMOUNT")
    assert calls.take() == []
    refused(bet(local_stack, f"sb-w-nobody-{uuid.uuid4().hex[:8]}", tx("x"), "1.00"), "UNKNOWN_USER")
    assert calls.take() == [GET]
    accepted(result(local_stack, player, tx("cold"), "1.00"))
    assert calls.take() == [GET, WRITE], "cold: read the account once, then write"


# --- over real HTTP --------------------------------------------------------------------------------------------------


def test_the_callbacks_over_real_http(local_stack: LocalStack, books: Books) -> None:
    player = new_player(local_stack, "100.00")
    bet_id = tx("http")

    def call(route: str, body: bytes, header: str) -> tuple[int, bytes]:
        request = urllib.request.Request(
            f"{local_stack.base_url}/sportsbook/{route}",
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", header: sportsbook.sign(SECURITY_HASH, body)},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()

    first = call(TX_ROUTE, transaction_body(player, bet_id, "12.34"), HEADER)
    again = call(TX_ROUTE, transaction_body(player, bet_id, "12.34"), MISSPELLED)
    assert first[0] == 200
    assert json.loads(first[1])["error"] is None
    assert again == first
    status, body = call(RB_ROUTE, rollback_body(player, tx("rb"), bet_id, "12.34"), MISSPELLED)
    assert (status, json.loads(body)["error"]) == (200, None)
    assert reconcile(books, player)[0] == AccountState(units("100.00"), 3)
