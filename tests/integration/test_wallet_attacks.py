"""Attacks on the wallet's own claims, each tried the way an attacker would: through the HTTP path of the local
stack (API Gateway's event, the function's handler, DynamoDB Local), signed with the dev-only secrets.

Every refused attack is checked against a consistent scan of the whole wallet table: nothing written.

Attacks and their answers:

* a captured, signed Ruby debit sent again within 300 s to ``/ruby/rollback`` (Ruby's signature covers the
  body and the timestamp, not the path): 401 ``REPLAYED_REQUEST``;
* a signed Ruby credit sent to ``/ruby/debit`` after it was paid: 409 ``IDEMPOTENCY_CONFLICT`` (same key);
* a sportsbook ``bet`` body sent to ``/sportsbook/transaction-rollback``, or a rollback body sent to
  ``/sportsbook/transaction`` (the hash covers the body only, but the body names its action):
  200 ``{"error": "INVALID_REQUEST"}``;
* an RGS-wallet request sent to another route (RGS v1 signs method and path): 401 ``SIGNATURE_INVALID``;
* an RGS-wallet win naming no bet of that player, currency and round: 404 ``BET_NOT_FOUND``;
* RGS-wallet wins above the bet x the operator's ``max_win_multiplier`` (2000 by default), in one win or
  several: 409 ``WIN_ABOVE_LIMIT``;
* a win for a refunded bet, a refund of a bet that was paid a win: 409 ``BET_SETTLED``.
"""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from croupier.ledger import AccountKey
from croupier_local.server import LocalStack
from tests.support.players import create_player, fund_player
from tests.support.requests import (
    compact,
    json_post,
    rgs_headers,
    rgs_refused,
    rgs_request,
    ruby_headers,
    sportsbook_request,
)
from tests.support.wallet_table import scan_table

pytestmark = pytest.mark.dynamodb_local


def new_id(label: str) -> str:
    return f"atk-{label}-{uuid.uuid4().hex[:16]}"


# --- Ruby: a captured debit replayed as its own rollback ----------------------------------------------------------


def ruby_player(stack: LocalStack, deposit: str) -> int:
    ruby_id = 700_000_000 + (uuid.uuid4().int >> 100)
    player_id = new_id("rb")
    create_player(stack, player_id=player_id, currencies=["KRW"], links={"ruby": ruby_id})
    fund_player(stack, player_id, "KRW", deposit, f"{player_id}-seed")
    return ruby_id


def ruby_send(stack: LocalStack, route: str, raw: bytes, headers: dict[str, str]) -> Any:
    return stack.handle(json_post(f"/ruby/{route}", raw, headers, host=True))


def ruby_balance(stack: LocalStack, ruby_id: int) -> str:
    raw = compact({"player_id": ruby_id})
    answer = ruby_send(stack, "balance", raw, ruby_headers(raw))
    assert answer.status == 200, answer.body
    return str(answer.json()["balance"])


def test_a_signed_debit_replayed_to_rollback_is_refused_and_writes_nothing(
    local_stack: LocalStack, real_client: Any
) -> None:
    """The attack that worked: the debit's exact bytes and headers, sent to ``/ruby/rollback``, refunded it."""
    ruby_id = ruby_player(local_stack, "100.00")
    raw = compact({"player_id": ruby_id, "amount": "10.00", "transaction_id": new_id("debit")})
    captured = ruby_headers(raw)
    debit = ruby_send(local_stack, "debit", raw, captured)
    assert debit.status == 200, debit.body
    before = scan_table(real_client)
    replayed = ruby_send(local_stack, "rollback", raw, captured)
    assert (replayed.status, replayed.json()["error"]) == (401, "REPLAYED_REQUEST"), replayed.body
    assert scan_table(real_client) == before
    assert ruby_balance(local_stack, ruby_id) == "90.00"


def test_a_genuine_rollback_of_that_debit_still_refunds_it(local_stack: LocalStack) -> None:
    """The same debit rolled back by Ruby (its own request, its own signature) is reversed, once."""
    ruby_id = ruby_player(local_stack, "100.00")
    tx_id = new_id("debit")
    raw = compact({"player_id": ruby_id, "amount": "10.00", "transaction_id": tx_id})
    assert ruby_send(local_stack, "debit", raw, ruby_headers(raw)).status == 200
    rollback = compact({"player_id": ruby_id, "transaction_id": tx_id})
    answer = ruby_send(local_stack, "rollback", rollback, ruby_headers(rollback))
    assert (answer.status, answer.json()) == (200, {"balance": "100.00"}), answer.body
    # even a rollback whose body equals the debit's body is genuine when Ruby signed it anew (another second)
    raw2 = compact({"player_id": ruby_id, "amount": "5.00", "transaction_id": new_id("debit")})
    assert ruby_send(local_stack, "debit", raw2, ruby_headers(raw2)).status == 200
    resigned = ruby_send(local_stack, "rollback", raw2, ruby_headers(raw2, offset=-2))
    assert (resigned.status, resigned.json()) == (200, {"balance": "100.00"}), resigned.body


def test_a_credit_replayed_to_debit_after_it_was_paid_is_a_conflict(local_stack: LocalStack, real_client: Any) -> None:
    ruby_id = ruby_player(local_stack, "100.00")
    raw = compact({"player_id": ruby_id, "amount": "30.00", "transaction_id": new_id("credit")})
    captured = ruby_headers(raw)
    assert ruby_send(local_stack, "credit", raw, captured).status == 200
    before = scan_table(real_client)
    replayed = ruby_send(local_stack, "debit", raw, captured)
    assert (replayed.status, replayed.json()["error"]) == (409, "IDEMPOTENCY_CONFLICT")
    assert scan_table(real_client) == before


# --- the sportsbook: bodies carry their action ----------------------------------------------------------------------


def sportsbook_player(stack: LocalStack) -> str:
    player_id = new_id("sb")
    create_player(stack, player_id=player_id, currencies=["EUR"])
    fund_player(stack, player_id, "EUR", "100.00", f"{player_id}-seed")
    return player_id


def test_a_sportsbook_bet_body_sent_to_the_rollback_route_is_refused(local_stack: LocalStack, real_client: Any) -> None:
    player_id = sportsbook_player(local_stack)
    bet = json.dumps(
        {"transaction_id": new_id("bet"), "action": "bet", "user_id": player_id, "currency": "EUR", "amount": 10}
    ).encode()
    assert local_stack.handle(sportsbook_request("transaction", bet)).json()["error"] is None
    before = scan_table(real_client)
    answer = local_stack.handle(sportsbook_request("transaction-rollback", bet))
    assert (answer.status, answer.json()) == (200, {"error": "INVALID_REQUEST"})
    assert scan_table(real_client) == before


def test_a_sportsbook_rollback_body_sent_to_the_transaction_route_is_refused(
    local_stack: LocalStack, real_client: Any
) -> None:
    player_id = sportsbook_player(local_stack)
    target = new_id("bet")
    rollback = json.dumps(
        {
            "transaction_id": new_id("rb"),
            "rollback_transaction_id": target,
            "action": "rollback",
            "user_id": player_id,
            "currency": "EUR",
            "amount": 10,
        }
    ).encode()
    before = scan_table(real_client)
    answer = local_stack.handle(sportsbook_request("transaction", rollback))
    assert (answer.status, answer.json()) == (200, {"error": "INVALID_REQUEST"})
    assert scan_table(real_client) == before


# --- the RGS wallet: a win or a refund needs a bet behind it --------------------------------------------------------


def rgs_player(stack: LocalStack, deposit: str = "100.00", currency: str = "USD") -> AccountKey:
    player_id = new_id("rg")
    create_player(stack, player_id=player_id, currencies=[currency])
    fund_player(stack, player_id, currency, deposit, f"{player_id}-seed")
    return AccountKey(player_id, currency)


def rgs_body(account: AccountKey, tx_id: str, round_id: str, amount_minor: int) -> bytes:
    return compact(
        {
            "operator_tx_id": tx_id,
            "operator_player_id": account.player_id,
            "session_id": "atk-session",
            "round_id": round_id,
            "currency": account.currency,
            "amount_minor": amount_minor,
        }
    )


def rgs_send(stack: LocalStack, route: str, payload: bytes) -> Any:
    return stack.handle(rgs_request(route, payload))


def rgs_ok(answer: Any, balance_minor: int) -> None:
    assert (answer.status, answer.json()) == (200, {"ok": True, "balance_minor": balance_minor}), answer.body


def test_a_win_for_a_round_that_never_had_a_bet_is_refused_and_writes_nothing(
    local_stack: LocalStack, real_client: Any
) -> None:
    """The attack that worked: one RGS secret, 10^9 minor units, no bet: 10,000,000.00 USD minted."""
    account = rgs_player(local_stack)
    before = scan_table(real_client)
    answer = rgs_send(local_stack, "win", rgs_body(account, new_id("win"), new_id("round"), 10**9))
    rgs_refused(answer, 404, "BET_NOT_FOUND")
    assert scan_table(real_client) == before


def test_a_win_naming_another_players_bet_is_refused(local_stack: LocalStack, real_client: Any) -> None:
    bettor, other = rgs_player(local_stack), rgs_player(local_stack)
    round_id = new_id("round")
    rgs_ok(rgs_send(local_stack, "bet", rgs_body(bettor, new_id("bet"), round_id, 100)), 9_900)
    before = scan_table(real_client)
    rgs_refused(rgs_send(local_stack, "win", rgs_body(other, new_id("win"), round_id, 200)), 404, "BET_NOT_FOUND")
    assert scan_table(real_client) == before


def test_a_win_in_another_currency_than_the_bet_is_refused(local_stack: LocalStack, real_client: Any) -> None:
    player_id = new_id("rg")
    create_player(local_stack, player_id=player_id, currencies=["USD", "EUR"])
    fund_player(local_stack, player_id, "USD", "100.00", f"{player_id}-seed")
    round_id = new_id("round")
    rgs_ok(rgs_send(local_stack, "bet", rgs_body(AccountKey(player_id, "USD"), new_id("bet"), round_id, 100)), 9_900)
    before = scan_table(real_client)
    answer = rgs_send(local_stack, "win", rgs_body(AccountKey(player_id, "EUR"), new_id("win"), round_id, 100))
    rgs_refused(answer, 404, "BET_NOT_FOUND")
    assert scan_table(real_client) == before


def test_wins_above_the_bet_times_the_maximum_multiplier_are_refused(local_stack: LocalStack, real_client: Any) -> None:
    """Bet 1.00 USD, the dev operator's max_win_multiplier is 2000: 2000.00 may be won, in one win or several,
    never a cent more."""
    account = rgs_player(local_stack, "1.00")
    round_id = new_id("round")
    rgs_ok(rgs_send(local_stack, "bet", rgs_body(account, new_id("bet"), round_id, 100)), 0)
    before = scan_table(real_client)
    rgs_refused(
        rgs_send(local_stack, "win", rgs_body(account, new_id("win"), round_id, 200_001)), 409, "WIN_ABOVE_LIMIT"
    )
    assert scan_table(real_client) == before
    rgs_ok(rgs_send(local_stack, "win", rgs_body(account, new_id("win"), round_id, 150_000)), 150_000)
    before = scan_table(real_client)
    rgs_refused(
        rgs_send(local_stack, "win", rgs_body(account, new_id("win"), round_id, 50_001)), 409, "WIN_ABOVE_LIMIT"
    )
    assert scan_table(real_client) == before
    rgs_ok(rgs_send(local_stack, "win", rgs_body(account, new_id("win"), round_id, 50_000)), 200_000)
    rgs_refused(rgs_send(local_stack, "win", rgs_body(account, new_id("win"), round_id, 1)), 409, "WIN_ABOVE_LIMIT")


def test_a_refund_of_a_bet_that_was_paid_a_win_is_refused(local_stack: LocalStack, real_client: Any) -> None:
    account = rgs_player(local_stack)
    round_id = new_id("round")
    rgs_ok(rgs_send(local_stack, "bet", rgs_body(account, new_id("bet"), round_id, 1_000)), 9_000)
    rgs_ok(rgs_send(local_stack, "win", rgs_body(account, new_id("win"), round_id, 2_000)), 11_000)
    before = scan_table(real_client)
    rgs_refused(
        rgs_send(local_stack, "refund", rgs_body(account, new_id("refund"), round_id, 1_000)), 409, "BET_SETTLED"
    )
    assert scan_table(real_client) == before


def test_a_win_for_a_refunded_bet_is_refused(local_stack: LocalStack, real_client: Any) -> None:
    account = rgs_player(local_stack)
    round_id = new_id("round")
    rgs_ok(rgs_send(local_stack, "bet", rgs_body(account, new_id("bet"), round_id, 1_000)), 9_000)
    rgs_ok(rgs_send(local_stack, "refund", rgs_body(account, new_id("refund"), round_id, 1_000)), 10_000)
    before = scan_table(real_client)
    rgs_refused(rgs_send(local_stack, "win", rgs_body(account, new_id("win"), round_id, 1_000)), 409, "BET_SETTLED")
    assert scan_table(real_client) == before


def test_a_win_for_a_round_refunded_before_its_bet_arrived_is_refused(
    local_stack: LocalStack, real_client: Any
) -> None:
    account = rgs_player(local_stack)
    round_id = new_id("round")
    rgs_ok(rgs_send(local_stack, "refund", rgs_body(account, new_id("refund"), round_id, 1_000)), 10_000)
    before = scan_table(real_client)
    rgs_refused(rgs_send(local_stack, "win", rgs_body(account, new_id("win"), round_id, 1_000)), 409, "BET_SETTLED")
    assert scan_table(real_client) == before


def test_players_share_a_round(local_stack: LocalStack) -> None:
    """A multiplayer crash round: every player bets, wins or is refunded in the same round_id."""
    players = [rgs_player(local_stack) for _ in range(3)]
    round_id = new_id("round")
    for account in players:
        rgs_ok(rgs_send(local_stack, "bet", rgs_body(account, new_id("bet"), round_id, 1_000)), 9_000)
    rgs_ok(rgs_send(local_stack, "win", rgs_body(players[0], new_id("win"), round_id, 2_500)), 11_500)
    rgs_ok(rgs_send(local_stack, "refund", rgs_body(players[1], new_id("refund"), round_id, 1_000)), 10_000)
    # the third lost: nothing more comes for them; a second bet of one player in the round is still refused
    rgs_refused(
        rgs_send(local_stack, "bet", rgs_body(players[2], new_id("bet"), round_id, 1_000)), 409, "IDEMPOTENCY_CONFLICT"
    )


@pytest.mark.parametrize(
    ("signed_for", "sent_to"), [("bet", "refund"), ("bet", "win"), ("win", "bet"), ("refund", "win")]
)
def test_an_rgs_request_signed_for_one_route_is_refused_on_another(
    local_stack: LocalStack, real_client: Any, signed_for: str, sent_to: str
) -> None:
    account = rgs_player(local_stack)
    round_id = new_id("round")
    rgs_ok(rgs_send(local_stack, "bet", rgs_body(account, new_id("bet"), round_id, 1_000)), 9_000)
    payload = rgs_body(account, new_id("tx"), round_id, 1_000)
    before = scan_table(real_client)
    answer = local_stack.handle(rgs_request(sent_to, payload, rgs_headers(signed_for, payload)))
    rgs_refused(answer, 401, "SIGNATURE_INVALID")
    assert scan_table(real_client) == before


def test_concurrent_wins_never_pass_the_bound_together(local_stack: LocalStack, real_client: Any) -> None:
    """Eight wins of 500.00 on one bet of 1.00 (room 2,000.00), sent at once: exactly four are paid, whatever
    their order, because the room is taken inside each win's own transaction (DynamoDB Local)."""
    account = rgs_player(local_stack, "1.00")
    round_id = new_id("round")
    rgs_ok(rgs_send(local_stack, "bet", rgs_body(account, new_id("bet"), round_id, 100)), 0)
    payloads = [rgs_body(account, new_id("win"), round_id, 50_000) for _ in range(8)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda p: rgs_send(local_stack, "win", p), payloads))
    paid = [a for a in answers if a.status == 200]
    refused = [a for a in answers if a.status != 200]
    assert len(paid) == 4, [(a.status, a.body) for a in answers]
    for answer in refused:
        rgs_refused(answer, 409, "WIN_ABOVE_LIMIT")
    assert sorted(a.json()["balance_minor"] for a in paid) == [50_000, 100_000, 150_000, 200_000]
    items = scan_table(real_client)
    account_item = items[(f"PLAYER#{account.player_id}", f"ACCOUNT#{account.currency}")]
    assert int(account_item["balance"]["N"]) == 200_000 * 100
