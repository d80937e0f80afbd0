"""The RGS sweeper on DynamoDB Local: every round the server still has to act on is in the ``due`` index
with its time, and ``Game.sweep`` settles, refunds and pays those whose time has come, once.

Each test has a table of its own (the template's RgsTable under another name): the sweeper reads the whole
index, and the other tests leave open rounds behind on purpose."""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from croupier.clients.operator_wallet import WalletAnswer, WalletCall
from croupier.rgs.game import time_to_reach
from croupier.rgs.rounds import BACKSTOP_MS, PLACING_TIMEOUT_MS, Game, day_of, settles_after_ms
from croupier_local.dynamodb import LocalDynamoDB, create_tables
from croupier_local.template import load_template
from tests.support.rgs_game import World, bet, cash_out, crash_of, winning_round

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def world(dynamodb_local: LocalDynamoDB, real_client: Any, tmp_path: Path) -> Iterator[World]:
    (spec,) = [t for t in load_template(REPO_ROOT / "template.yaml").tables if t.logical_id == "RgsTable"]
    name = f"RgsSweep{uuid.uuid4().hex[:12]}"
    create_tables(
        dynamodb_local.endpoint_url,
        [dataclasses.replace(spec, logical_id=name, create_kwargs={**spec.create_kwargs, "TableName": name})],
    )
    created = World(real_client, tmp_path, table=name)
    yield created
    created.wallet.stop()
    real_client.delete_table(TableName=name)


def due(world: World) -> list[str]:
    return world.store.due_rounds(world.clock.ms, 1000)


def status(world: World, round_id: str) -> str:
    stored = world.store.read_round(round_id)
    assert stored is not None
    return stored.status


def test_an_open_round_is_due_at_its_crash_point_and_the_sweeper_settles_it_once(world: World) -> None:
    token = world.launch()
    for _ in range(20):
        placed = bet(world, token, amount=700)
        crash = crash_of(world, placed["round_id"])
        if crash > 100:
            break
        assert due(world) == [placed["round_id"]]  # a round crashing at 1.00x is due at its very start
        assert world.game.sweep()["settled"] == 1
    else:
        raise AssertionError("20 rounds in a row crashed at 1.00x")
    rounds = placed["nonce"] + 1
    assert due(world) == []  # placed and open, but its time has not come
    world.clock.ms += time_to_reach(max(crash, 100)) - 1
    assert world.game.sweep() == {"settled": 0, "paid": 0, "refunded": 0, "postponed": 0, "failed": 0}
    world.clock.ms += 1
    assert due(world) == [placed["round_id"]]
    assert world.game.sweep()["settled"] == 1
    assert status(world, placed["round_id"]) == "crashed"
    assert world.revenue(day_of(placed["started_at_ms"])) == {
        "bets_minor": 700 * rounds,
        "wins_minor": 0,
        "rounds": rounds,
    }
    world.clock.ms += 10**9
    assert due(world) == []  # settled: out of the index for good
    assert world.game.sweep()["settled"] == 0
    assert world.revenue(day_of(placed["started_at_ms"]))["rounds"] == rounds  # type: ignore[index]


def test_an_automatic_cash_out_is_settled_and_paid_by_the_sweeper_without_the_player(world: World) -> None:
    token = world.launch()
    auto = bet(world, token, amount=1_000, auto_cash_out="1.50")
    auto_crash = crash_of(world, auto["round_id"])
    before = world.wallet.balance("player-1", "USD")
    stored = world.store.read_round(auto["round_id"])
    assert stored is not None
    assert settles_after_ms(stored.data) == time_to_reach(150 if auto_crash >= 150 else max(auto_crash, 100))
    world.clock.ms += settles_after_ms(stored.data) - 1
    assert world.game.sweep()["settled"] == 0
    world.clock.ms += 1
    done = world.game.sweep()
    if auto_crash >= 150:
        assert status(world, auto["round_id"]) == "paid"
        assert world.wallet.balance("player-1", "USD") == before + 1_500
        assert [json.loads(w.body)["round_id"] for w in world.wallet.calls("win")] == [auto["round_id"]]
    else:
        assert status(world, auto["round_id"]) == "crashed"
        assert world.wallet.balance("player-1", "USD") == before
    assert done["settled"] == 1
    assert auto["round_id"] not in due(world)


def test_a_bet_whose_request_died_is_refunded_by_the_sweeper_after_a_minute(world: World) -> None:
    token = world.launch()

    class DiesOnBet:
        def bet(self, call: WalletCall, *, timeout: float | None = None) -> WalletAnswer:
            raise RuntimeError("the function timed out here")

        def win(self, call: WalletCall, *, timeout: float | None = None) -> WalletAnswer:
            raise AssertionError("no win")

        def refund(self, call: WalletCall, *, timeout: float | None = None) -> WalletAnswer:
            raise AssertionError("no refund from the dying request")

    dying = Game(
        world.store, world.operators.settings, lambda _: DiesOnBet(), world.retries, clock_ms=lambda: world.clock.ms
    )
    with pytest.raises(RuntimeError):
        dying.bet(token, json.dumps({"amount_minor": 500}).encode())
    (round_id,) = [r["round_id"] for r in world.game.state(token)["rounds"]]
    assert status(world, round_id) == "placing"
    world.clock.ms += PLACING_TIMEOUT_MS - 1
    assert world.game.sweep()["refunded"] == 0
    world.clock.ms += 1
    assert world.game.sweep()["refunded"] == 1
    assert status(world, round_id) == "refunded"
    (refund,) = world.wallet.calls("refund")
    assert json.loads(refund.body)["operator_tx_id"] == f"refund-{round_id}"
    assert world.wallet.balance("player-1", "USD") == 100_000  # the bet never reached the wallet
    assert due(world) == []


def test_an_unpaid_win_is_sent_again_by_the_sweeper_until_the_wallet_takes_it(world: World) -> None:
    token = world.launch()
    placed = winning_round(world, token)
    world.game.sweep()  # the losing rounds winning_round went through are settled already: nothing to do
    before = world.wallet.balance("player-1", "USD")
    world.clock.ms += time_to_reach(120)
    world.wallet.fail_next(3, 503)  # the cash-out's own try, then two sweeps fail
    assert cash_out(world, token, placed["round_id"])["status"] == "cashed_out"
    assert ("win", placed["round_id"]) in world.retries.queued
    world.clock.ms += BACKSTOP_MS - 1
    assert world.game.sweep()["paid"] == 0  # the queue has it first
    world.clock.ms += 1
    assert world.game.sweep() == {"settled": 0, "paid": 0, "refunded": 0, "postponed": 1, "failed": 0}
    world.clock.ms += BACKSTOP_MS
    assert world.game.sweep()["postponed"] == 1
    world.clock.ms += BACKSTOP_MS
    assert world.game.sweep()["paid"] == 1
    assert status(world, placed["round_id"]) == "paid"
    wins = world.wallet.calls("win")
    assert len(wins) == 4
    assert {json.loads(w.body)["operator_tx_id"] for w in wins} == {f"win-{placed['round_id']}"}
    assert world.wallet.balance("player-1", "USD") == before + 1_200  # paid once, at 1.20x
    assert due(world) == []


def test_a_pending_refund_is_sent_again_by_the_sweeper(world: World) -> None:
    token = world.launch()
    world.wallet.hang_next(1, 2.0, applied=True)  # the bet is taken, its answer lost
    world.wallet.fail_next(1, 503)  # and the refund fails too
    with pytest.raises(Exception, match="refunded"):
        bet(world, token)
    ((_, round_id),) = world.retries.queued
    world.clock.ms += BACKSTOP_MS
    assert world.game.sweep()["refunded"] == 1
    assert status(world, round_id) == "refunded"
    assert world.wallet.balance("player-1", "USD") == 100_000


def test_one_round_failing_does_not_stop_the_others_and_stays_due(world: World) -> None:
    token = world.launch()
    first = bet(world, token)["round_id"]
    second = bet(world, token)["round_id"]
    world.clock.ms += 10 * 60 * 1000
    broken = Game(
        world.store,
        world.operators.settings,
        world.game.wallet_for,
        world.retries,
        clock_ms=lambda: world.clock.ms,
    )
    real_settle = broken._settle

    def settle(stored: Any, *args: Any) -> bool:
        if stored.data["round_id"] == first:
            raise ConnectionError("DynamoDB went away for this one")
        return real_settle(stored, *args)

    broken._settle = settle  # type: ignore[method-assign]
    assert broken.sweep()["failed"] == 1
    assert status(world, first) == "open"
    assert status(world, second) == "crashed"
    assert due(world) == [first]
    assert world.game.sweep()["settled"] == 1
    assert status(world, first) == "crashed"


def test_the_sweeper_stops_when_its_time_runs_out(world: World) -> None:
    token = world.launch()
    placed = bet(world, token)["round_id"]
    world.clock.ms += 10 * 60 * 1000
    assert world.game.sweep(time_left_ms=lambda: 9_999)["settled"] == 0
    assert status(world, placed) == "open"
    assert world.game.sweep(time_left_ms=lambda: 10_000)["settled"] == 1
