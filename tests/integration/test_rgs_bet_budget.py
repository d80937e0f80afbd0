"""A bet and its refund inside the function's timeout: the operator's wallet calls get timeouts derived from
the time the request has left (the Lambda context's, or a default budget), and a refund that no longer fits
is queued for the retry worker instead of being tried; the queue (or the sweeper) then completes it."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from croupier.clients.operator_wallet import DEFAULT_TIMEOUT_SECONDS, OperatorWalletClient
from croupier.errors import CroupierError
from croupier.rgs.game import ANSWER_MARGIN_MS, Budget, Game
from croupier.rgs.retries import process_batch
from croupier.rgs.rounds import BACKSTOP_MS
from croupier.rgs.sealing import Sealer
from tests.support.rgs_game import World

FUNCTION_TIMEOUT_S = 4.0  # a short function, so that the test waits seconds rather than the real 10
MARGIN_S = 1.0


class Context:
    """What a Lambda context tells a handler: the milliseconds left before it is killed."""

    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


@pytest.fixture
def world(real_client: Any, tmp_path: Path, rgs_sealer: Sealer) -> Iterator[World]:
    created = World(real_client, tmp_path, sealer=rgs_sealer)
    # the operator's wallet as deployed: its own 5 s timeout, not the World's short one
    created.game = Game(
        created.store,
        created.operators.settings,
        lambda operator_id: OperatorWalletClient(
            created.wallet.url, operator_id, created.operator["api_key"], created.operator["hmac_secret"]
        ),
        created.retries,
        clock_ms=lambda: created.clock.ms,
    )
    yield created
    created.wallet.stop()


def place(world: World, token: str, context: Context) -> tuple[CroupierError, float]:
    started = time.monotonic()
    with pytest.raises(CroupierError) as unclear:
        world.game.bet(
            token, json.dumps({"amount_minor": 1_000}).encode(), time_left_ms=context.get_remaining_time_in_millis
        )
    return unclear.value, time.monotonic() - started


def test_a_slow_wallet_is_answered_before_the_timeout_and_the_refund_is_queued_then_completed(world: World) -> None:
    # Given a wallet that takes the bet but answers only after 3 s (after the 2 s the bet can have)
    token = world.launch()
    world.wallet.hang_next(1, 3.0, applied=True)
    # When the player bets in a function with 4 s to live
    error, elapsed = place(world, token, Context(FUNCTION_TIMEOUT_S))
    # Then the answer comes before the timeout minus a margin, and says nothing is at stake
    assert elapsed < FUNCTION_TIMEOUT_S - MARGIN_S
    assert (error.status, error.code) == (503, "BET_NOT_CONFIRMED")
    # and the refund, with too little time left to try it, was queued rather than attempted
    ((kind, round_id),) = world.retries.queued
    assert kind == "refund"
    assert world.wallet.calls("refund") == []
    assert world.wallet.balance("player-1", "USD") == 100_000 - 1_000  # the bet was taken
    # When the retry worker takes the message
    record = {"messageId": "m-1", "receiptHandle": "h-1", "body": json.dumps({"kind": kind, "round_id": round_id})}
    answer = process_batch([record], world.game, lambda handle, seconds: None)
    # Then the refund is completed, once
    assert answer == {"batchItemFailures": []}
    assert world.store.read_round(round_id).status == "refunded"  # type: ignore[union-attr]
    assert world.wallet.balance("player-1", "USD") == 100_000
    assert len(world.wallet.calls("refund")) == 1


def test_a_queued_refund_whose_message_was_lost_is_completed_by_the_sweeper(world: World) -> None:
    token = world.launch()
    world.wallet.hang_next(1, 3.0, applied=True)
    place(world, token, Context(FUNCTION_TIMEOUT_S))
    ((_, round_id),) = world.retries.queued  # the message is never delivered
    world.clock.ms += BACKSTOP_MS
    done = world.game.sweep()
    assert done["refunded"] == 1
    assert world.store.read_round(round_id).status == "refunded"  # type: ignore[union-attr]
    assert world.wallet.balance("player-1", "USD") == 100_000


def test_with_time_left_the_refund_is_still_tried_inline_within_the_budget(world: World) -> None:
    token = world.launch()
    world.wallet.fail_next(1, 503)  # the bet is unclear at once
    error, elapsed = place(world, token, Context(FUNCTION_TIMEOUT_S))
    assert error.code == "BET_NOT_CONFIRMED"
    assert elapsed < FUNCTION_TIMEOUT_S - MARGIN_S
    assert world.retries.queued == []
    assert len(world.wallet.calls("refund")) == 1
    assert world.wallet.balance("player-1", "USD") == 100_000


def test_a_bet_with_no_time_left_for_the_wallet_is_void_and_never_sent(world: World) -> None:
    token = world.launch()
    error, _ = place(world, token, Context(2.5))  # 0.5 s would be left after the margin: less than a call needs
    assert error.code == "BET_NOT_CONFIRMED"
    assert world.wallet.calls("bet") == []
    assert world.retries.queued == []
    (round_,) = world.game.state(token)["rounds"]
    assert round_["status"] == "void"


class Ticks:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_budget_gives_each_wallet_call_what_is_left_after_the_margin() -> None:
    ticks = Ticks()
    budget = Budget(None, monotonic=ticks)  # no Lambda context: the default budget of the API functions
    assert budget.wallet_timeout() == DEFAULT_TIMEOUT_SECONDS  # 10 s left: the client's full 5 s
    ticks.now += 6
    assert budget.wallet_timeout() == pytest.approx(4.0 - ANSWER_MARGIN_MS / 1000)
    ticks.now += 1.5
    assert budget.wallet_timeout() is None  # too little left for a wallet call: queue it instead
    left = Budget(lambda: 3_500)
    assert left.wallet_timeout() == pytest.approx(1.5)


def test_the_bet_function_hands_its_lambda_contexts_time_left_to_the_game(monkeypatch: pytest.MonkeyPatch) -> None:
    from croupier_local.apigw import LocalLambdaContext
    from croupier_local.server import _load_module

    root = Path(__file__).resolve().parents[2]
    app = _load_module("_test_rgs_play_bet_budget", root / "functions/rgs_play_bet/app.py")
    seen: dict[str, Any] = {}

    class Recorder:
        def bet(self, token: str, body: bytes, *, time_left_ms: Any = None) -> dict[str, Any]:
            seen["time_left_ms"] = time_left_ms() if time_left_ms else None
            return {"round_id": "r_0"}

    monkeypatch.setattr(app, "game", Recorder)
    event = json.loads((root / "events/rgs_play_bet.json").read_text())
    context = LocalLambdaContext("RgsPlayBetFunction", timeout_seconds=3, memory_limit_in_mb=512)
    answer = app.handler(event, context)
    assert answer["statusCode"] == 200
    assert seen["time_left_ms"] is not None
    assert 0 < seen["time_left_ms"] <= 3_000
