"""The operator's wallet failing, through the RGS's HTTP routes on the local stack, against a fake operator
wallet on a real socket (``tests/fakes/operator_wallet_server.py``): a refused bet is void, a bet whose
answer is lost is refunded once, a win that fails is paid once when it finally goes through (by the SQS
worker or the sweeper, always under the same operator_tx_id; reading the session never calls the wallet),
concurrent cash-outs settle once, a cash-out after the crash loses, and every wallet call replayed has its
effect once."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from croupier import aws
from croupier.rgs.curve import time_to_reach
from croupier_local.server import LocalStack
from tests.fakes.operator_wallet_server import FakeOperatorWallet
from tests.support.rgs_http import Player, RgsOperator, crash_point

pytestmark = pytest.mark.e2e

FUNDS = 100_000


class Setup:
    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack
        self.wallet = FakeOperatorWallet().start()
        self.operator = RgsOperator.provision(stack, self.wallet.url)
        self.wallet.operator_id = self.operator.operator_id
        self.wallet.api_key = self.operator.api_key
        self.wallet.hmac_secret = self.operator.hmac_secret
        self.player_id = f"p-{uuid.uuid4().hex[:10]}"
        self.wallet.fund(self.player_id, FUNDS, "USD")
        self.player: Player = self.operator.launch(self.player_id)

    def balance(self) -> int:
        return self.wallet.balance(self.player_id, "USD")

    def tx_ids(self, route: str) -> list[str]:
        return [json.loads(call.body)["operator_tx_id"] for call in self.wallet.calls(route)]

    def stored(self, round_id: str) -> tuple[str, dict[str, Any]]:
        item = aws.dynamodb().get_item(
            TableName="RgsTable", Key={"pk": {"S": f"ROUND#{round_id}"}, "sk": {"S": "ROUND"}}, ConsistentRead=True
        )["Item"]
        return item["status"]["S"], json.loads(item["round"]["S"])

    def crash(self, round_id: str) -> int:
        return crash_point(self.stack, round_id)

    def winning_bet(self, amount: int = 1_000) -> dict[str, Any]:
        """A bet whose round crashes at 1.20x or later (others are let crash), then cashed out at ~1.02x by
        the caller in real time."""
        for _ in range(30):
            placed = self.player.bet(amount)
            assert placed.status == 200, placed.body
            bet: dict[str, Any] = placed.json()
            crash = self.crash(bet["round_id"])
            if crash >= 120:
                wait_ms = bet["started_at_ms"] + time_to_reach(102) - int(time.time() * 1000)
                time.sleep(max(0, wait_ms) / 1000)
                return bet
            time.sleep(time_to_reach(max(crash, 100)) / 1000 + 0.02)
            assert self.player.cash_out(bet["round_id"]).json()["status"] == "crashed"
        raise AssertionError("no round reached 1.20x in 30 bets")


@pytest.fixture
def setup(local_stack: LocalStack) -> Iterator[Setup]:
    created = Setup(local_stack)
    yield created
    created.wallet.stop()


def error_code(answer: Any) -> str:
    return str(answer.json()["error"])


def test_a_refused_bet_is_void_and_nothing_is_recorded_as_bet(setup: Setup) -> None:
    setup.wallet.refuse_next(1, 403, "PLAYER_BLOCKED")
    refused = setup.player.bet(1_000)
    assert (refused.status, error_code(refused)) == (402, "BET_REFUSED")
    assert "PLAYER_BLOCKED" in refused.json()["message"]
    (round_,) = setup.player.state().json()["rounds"]
    assert round_["status"] == "void"
    assert "server_seed" not in round_  # a void round reveals nothing: it never ran
    assert setup.wallet.calls("refund") == []
    assert setup.balance() == FUNDS
    assert setup.operator.revenue("2000-01-01", "2000-12-31").json()["days"] == []


def test_a_bet_whose_answer_times_out_is_refunded_exactly_once(setup: Setup) -> None:
    setup.wallet.hang_next(1, 8.0, applied=True)  # the wallet takes the bet; its answer never comes (5 s timeout)
    unclear = setup.player.bet(1_000)
    assert (unclear.status, error_code(unclear)) == (503, "BET_NOT_CONFIRMED")
    (round_,) = setup.player.state().json()["rounds"]
    assert round_["status"] == "refunded"
    assert setup.tx_ids("refund") == [f"refund-{round_['round_id']}"]
    assert setup.balance() == FUNDS
    setup.player.state()
    assert len(setup.wallet.calls("refund")) == 1  # a refunded round is never refunded again


def test_a_win_failing_three_times_is_paid_once_when_it_goes_through(setup: Setup, local_stack: LocalStack) -> None:
    bet = setup.winning_bet()
    before = setup.balance()
    setup.wallet.fail_next(3, 503)
    cashed = setup.player.cash_out(bet["round_id"]).json()  # try 1 fails
    assert cashed["status"] == "cashed_out"
    assert setup.player.state().json()["rounds"][0]["status"] == "cashed_out"  # a read tries nothing
    message = {"kind": "win", "round_id": bet["round_id"]}
    for _ in range(2):  # tries 2 and 3: the queue's worker, failing
        failed = local_stack.invoke("RgsWalletRetryFunction", sqs_event(message))
        assert len(failed["batchItemFailures"]) == 1
    assert setup.player.state().json()["rounds"][0]["status"] == "cashed_out"
    worker = local_stack.invoke("RgsWalletRetryFunction", sqs_event(message))  # try 4 goes through
    assert worker == {"batchItemFailures": []}
    assert setup.player.state().json()["rounds"][0]["status"] == "paid"
    assert local_stack.invoke("RgsWalletRetryFunction", sqs_event(message)) == {"batchItemFailures": []}
    assert setup.balance() == before + cashed["payout_minor"]
    assert setup.tx_ids("win") == [f"win-{bet['round_id']}"] * 4


def test_concurrent_cash_outs_settle_once_and_all_see_the_same_result(setup: Setup) -> None:
    bet = setup.winning_bet()
    before = setup.balance()
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: setup.player.cash_out(bet["round_id"]), range(8)))
    assert {a.status for a in answers} == {200}
    views = [a.json() for a in answers]
    assert len({(v["cash_out"], v["payout_minor"]) for v in views}) == 1
    assert {v["status"] for v in views} <= {"cashed_out", "paid"}
    assert len(setup.wallet.calls("win")) == 1
    assert setup.balance() == before + views[0]["payout_minor"]


def test_a_cash_out_after_the_crash_loses(setup: Setup) -> None:
    for _ in range(20):  # a round that crashes by 3.00x (two in three do), to keep the wait short
        placed = setup.player.bet(100).json()
        crash = setup.crash(placed["round_id"])
        if crash <= 300:
            break
    else:
        raise AssertionError("no round crashed by 3.00x in 20 bets")
    spent = 100 * (placed["nonce"] + 1)
    time.sleep(time_to_reach(max(crash, 100)) / 1000 + 0.05)
    view = setup.player.cash_out(placed["round_id"]).json()
    assert (view["status"], view["payout_minor"], view["crash_point"]) == ("crashed", 0, f"{crash / 100:.2f}")
    assert setup.wallet.calls("win") == []
    assert setup.balance() == FUNDS - spent


def test_wallet_calls_whose_answers_are_lost_are_replayed_and_take_effect_once(setup: Setup) -> None:
    # a win applied by the wallet but answered with garbage: sent again, answered the original, paid once
    bet = setup.winning_bet()
    before = setup.balance()
    setup.wallet.garble_next(1, applied=True)
    cashed = setup.player.cash_out(bet["round_id"]).json()
    assert cashed["status"] == "cashed_out"
    win = {"kind": "win", "round_id": bet["round_id"]}
    assert setup.stack.invoke("RgsWalletRetryFunction", sqs_event(win)) == {"batchItemFailures": []}
    assert setup.player.state().json()["rounds"][0]["status"] == "paid"
    assert setup.tx_ids("win") == [f"win-{bet['round_id']}"] * 2
    assert setup.balance() == before + cashed["payout_minor"]
    # a refund applied but answered with garbage: sent again by the queue's worker, taking effect once
    setup.wallet.hang_next(1, 8.0, applied=True)
    setup.wallet.garble_next(1, applied=True)
    assert error_code(setup.player.bet(500)) == "BET_NOT_CONFIRMED"
    refunded = setup.player.state().json()["rounds"][0]
    assert refunded["status"] == "refund_pending"
    message = {"kind": "refund", "round_id": refunded["round_id"]}
    assert setup.stack.invoke("RgsWalletRetryFunction", sqs_event(message)) == {"batchItemFailures": []}
    assert setup.player.state().json()["rounds"][0]["status"] == "refunded"
    assert setup.tx_ids("refund") == [f"refund-{refunded['round_id']}"] * 2
    assert setup.balance() == before + cashed["payout_minor"]


def sqs_event(message: dict[str, str]) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": "local-" + uuid.uuid4().hex,
                "body": json.dumps(message),
                "attributes": {"ApproximateReceiveCount": "1"},
                "eventSource": "aws:sqs",
            }
        ]
    }
