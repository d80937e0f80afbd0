"""The RGS sweeper on DynamoDB Local: every round the server still has to act on is in the ``due`` index
with its time, and ``Game.sweep`` settles, refunds and pays those whose time has come, once.

Each test has a table of its own (the template's RgsTable under another name): the sweeper reads the whole
index, and the other tests leave open rounds behind on purpose."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from croupier import observability
from croupier.clients.operator_wallet import AnswerKind, OperatorWalletClient, WalletAnswer, WalletCall
from croupier.rgs.curve import time_to_reach
from croupier.rgs.game import SWEEP_MARGIN_MS, Game, Wallet
from croupier.rgs.rounds import BACKSTOP_MS, CHECK_STEP_MS, PLACING_TIMEOUT_MS, day_of, next_check_ms, settles_after_ms
from croupier.rgs.sealing import Sealer
from croupier.rgs.store import LEGACY_DUE_SHARDS, due_shard
from croupier_local.dynamodb import LocalDynamoDB
from tests.support.rgs_game import World, bet, cash_out, crash_of, winning_round, world_of_its_own

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def world(dynamodb_local: LocalDynamoDB, real_client: Any, tmp_path: Path, rgs_sealer: Sealer) -> Iterator[World]:
    with world_of_its_own(dynamodb_local.endpoint_url, real_client, tmp_path, rgs_sealer, "RgsSweep") as created:
        yield created


def due(world: World) -> list[str]:
    return world.store.due_rounds(world.clock.ms, 1000)


def status(world: World, round_id: str) -> str:
    stored = world.store.read_round(round_id)
    assert stored is not None
    return stored.status


def test_an_open_round_is_looked_at_on_a_schedule_blind_to_its_crash_point_and_settled_once(world: World) -> None:
    """The ``due`` index is readable to whoever reads the table: an open round is due at fixed steps after its
    start (CHECK_STEP_MS), never at its crash time, and moved on a step while it is still running."""
    token = world.launch()
    for _ in range(40):
        placed = bet(world, token, amount=700)
        crash_ms = time_to_reach(max(crash_of(world, placed["round_id"]), 100))
        assert due(world) == []  # not even a round crashing at 1.00x is due at its start
        world.clock.ms = placed["started_at_ms"] + CHECK_STEP_MS
        assert due(world) == [placed["round_id"]]
        if crash_ms > CHECK_STEP_MS:
            break
        assert world.game.sweep()["settled"] == 1  # crashed before the first step: settled at it
    else:
        raise AssertionError("40 rounds in a row crashed in their first 20 s")
    rounds = placed["nonce"] + 1
    started = placed["started_at_ms"]
    world.clock.ms = started + CHECK_STEP_MS - 1
    assert world.game.sweep() == {"settled": 0, "paid": 0, "refunded": 0, "postponed": 0, "failed": 0}
    checks = 0
    while status(world, placed["round_id"]) == "open":
        world.clock.ms = started + (checks + 1) * CHECK_STEP_MS if checks < 6 else started + time_to_reach(200_000)
        assert due(world) == [placed["round_id"]]
        crashed = world.clock.ms - started >= crash_ms
        assert world.game.sweep()["settled" if crashed else "postponed"] == 1
        if not crashed:  # still running: due again at the next step, the same for every round
            stored = world.store.read_round(placed["round_id"])
            assert stored is not None
            assert due(world) == []
            assert next_check_ms(stored.round, started, world.clock.ms) == started + min(
                (checks + 2) * CHECK_STEP_MS, time_to_reach(200_000)
            )
        checks += 1
    assert 2 <= checks <= 8
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
    assert settles_after_ms(world.store.opened(stored).round) == time_to_reach(
        150 if auto_crash >= 150 else max(auto_crash, 100)
    )
    world.clock.ms += time_to_reach(150) - 1  # due at its target's time (the player's choice), whatever its crash
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
        if stored.round.round_id == first:
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
    assert world.game.sweep(time_left_ms=lambda: SWEEP_MARGIN_MS - 1)["settled"] == 0
    assert status(world, placed) == "open"
    assert world.game.sweep(time_left_ms=lambda: SWEEP_MARGIN_MS)["settled"] == 1


# the sweeper at scale: shards, workers, deadlines and overlapping runs -------------------------------------

Hook = Callable[[Wallet, WalletCall, "float | None"], WalletAnswer]


class HookedWallet:
    """The world's wallet client, with a hook in place of any of bet, win or refund."""

    def __init__(self, inner: Wallet, **hooks: Hook) -> None:
        self.inner = inner
        self.hooks = hooks

    def _call(self, route: str, call: WalletCall, timeout: float | None) -> WalletAnswer:
        hook = self.hooks.get(route)
        if hook is not None:
            return hook(self.inner, call, timeout)
        answer: WalletAnswer = getattr(self.inner, route)(call, timeout=timeout)
        return answer

    def bet(self, call: WalletCall, *, timeout: float | None = None) -> WalletAnswer:
        return self._call("bet", call, timeout)

    def win(self, call: WalletCall, *, timeout: float | None = None) -> WalletAnswer:
        return self._call("win", call, timeout)

    def refund(self, call: WalletCall, *, timeout: float | None = None) -> WalletAnswer:
        return self._call("refund", call, timeout)


def game_with(world: World, **hooks: Hook) -> Game:
    """The world's game, its wallet calls given 10 s (the world's client gives up after 0.5 s: too short for
    several sweeper threads on two busy cores) and ``hooks`` in place of any of them."""
    key, secret = world.operator["api_key"], world.operator["hmac_secret"]
    return Game(
        world.store,
        world.operators.settings,
        lambda operator_id: HookedWallet(
            OperatorWalletClient(world.wallet.url, operator_id, key, secret, timeout=10), **hooks
        ),
        world.retries,
        clock_ms=lambda: world.clock.ms,
    )


def unclear(_: Wallet, call: WalletCall, __: float | None) -> WalletAnswer:
    return WalletAnswer(AnswerKind.UNCLEAR, "win", call.operator_tx_id, detail="no answer")


def taken_then_lost(inner: Wallet, call: WalletCall, timeout: float | None) -> WalletAnswer:
    inner.bet(call, timeout=timeout)  # the wallet took the bet, and the request died before it heard
    raise RuntimeError("the function timed out here")


def rounds_in(world: World, token: str, wanted: str) -> list[str]:
    """The session's rounds in status ``wanted`` (read from the store: reading the state would settle some)."""
    _, session = world.game.session(token)
    return [r.round.round_id for r in world.store.session_rounds(session["session_id"], 1000) if r.status == wanted]


def abandoned_bets(world: World, token: str, n: int) -> list[str]:
    """``n`` rounds left ``placing`` (their bet taken by the wallet, their request dead)."""
    dying = game_with(world, bet=taken_then_lost)
    for _ in range(n):
        with pytest.raises(RuntimeError):
            dying.bet(token, json.dumps({"amount_minor": 100}).encode())
    return rounds_in(world, token, "placing")


def test_the_sweeper_works_on_several_rounds_at_once_and_counts_what_its_workers_did(world: World) -> None:
    token = world.launch()
    placing = abandoned_bets(world, token, 8)
    world.clock.ms += PLACING_TIMEOUT_MS
    together = threading.Barrier(4, timeout=5)

    def refund(inner: Wallet, call: WalletCall, timeout: float | None) -> WalletAnswer:
        together.wait()  # breaks unless four refunds are in flight at once
        return inner.refund(call, timeout=timeout)

    observability._counts.counter = None
    done = game_with(world, refund=refund).sweep(workers=8)
    assert done == {"settled": 0, "paid": 0, "refunded": 8, "postponed": 0, "failed": 0}
    assert {status(world, round_id) for round_id in placing} == {"refunded"}
    # counted on the workers' threads, published by the handler's (publish_counts reads this thread's counter)
    assert observability._counts.counter["BetsRefunded"] == 8
    assert observability._counts.counter["SweeperRefunded"] == 8


def test_under_concurrency_failing_rounds_stop_no_other_and_stay_due(world: World) -> None:
    token = world.launch()
    rounds = [bet(world, token)["round_id"] for _ in range(12)]
    failing = set(rounds[::4])
    world.clock.ms += 10 * 60 * 1000
    broken = game_with(world)
    real_settle = broken._settle

    def settle(stored: Any, *args: Any) -> bool:
        if stored.round.round_id in failing:
            raise ConnectionError("DynamoDB went away for this one")
        return real_settle(stored, *args)

    broken._settle = settle  # type: ignore[method-assign]
    assert broken.sweep(workers=6) == {"settled": 9, "paid": 0, "refunded": 0, "postponed": 0, "failed": 3}
    assert set(due(world)) == failing
    assert {status(world, r) for r in rounds if r not in failing} == {"crashed"}
    assert world.game.sweep(workers=6)["settled"] == 3
    assert due(world) == []


def test_a_run_stops_picking_rounds_when_its_time_runs_low_and_leaves_the_rest_due(world: World) -> None:
    token = world.launch()
    placing = abandoned_bets(world, token, 20)
    world.clock.ms += PLACING_TIMEOUT_MS
    left = [60_000]
    refunded: list[str] = []
    lock = threading.Lock()

    def refund(inner: Wallet, call: WalletCall, timeout: float | None) -> WalletAnswer:
        answer = inner.refund(call, timeout=timeout)
        with lock:
            refunded.append(call.round_id)
            if len(refunded) == 5:
                left[0] = SWEEP_MARGIN_MS - 1
        return answer

    done = game_with(world, refund=refund).sweep(workers=4, time_left_ms=lambda: left[0])
    assert 5 <= done["refunded"] <= 5 + 3  # the rounds already in flight finish; no new one is picked
    assert done["refunded"] == len(refunded)
    assert sorted(due(world)) == sorted(set(placing) - set(refunded))  # untouched, due for the next run
    assert {status(world, r) for r in due(world)} == {"placing"}
    assert game_with(world).sweep()["refunded"] == 20 - len(refunded)


def test_a_run_overlapping_another_never_sends_an_unpaid_win_a_second_time(world: World) -> None:
    token = world.launch()
    winners = []
    for _ in range(3):
        placed = winning_round(world, token)
        world.clock.ms += time_to_reach(120)
        world.wallet.fail_next(1, 503)
        assert cash_out(world, token, placed["round_id"])["status"] == "cashed_out"
        winners.append(placed["round_id"])
    world.clock.ms += BACKSTOP_MS
    assert sorted(due(world)) == sorted(winners)
    before = world.wallet.balance("player-1", "USD")
    overlapping: list[dict[str, int]] = []

    def win(inner: Wallet, call: WalletCall, timeout: float | None) -> WalletAnswer:
        if not overlapping:  # while this run sends its first win, the next scheduled run starts
            overlapping.append(game_with(world).sweep())
        return inner.win(call, timeout=timeout)

    first = game_with(world, win=win).sweep(workers=1)
    assert first["paid"] + overlapping[0]["paid"] == 3  # each win paid by one run only
    sent = Counter(json.loads(w.body)["round_id"] for w in world.wallet.calls("win"))
    assert sent == {round_id: 2 for round_id in winners}  # the cash-out's failed try, then one from a sweeper
    assert {status(world, r) for r in winners} == {"paid"}
    assert world.wallet.balance("player-1", "USD") == before + 3 * 1_200


def test_two_sweeps_running_at_once_settle_pay_and_refund_each_round_once(world: World) -> None:
    token = world.launch(funds=10_000_000)
    settled_before = [bet(world, token, auto_cash_out="1.01")["round_id"] for _ in range(6)]
    world.clock.ms += time_to_reach(101)
    game_with(world, win=unclear).state(token, last=1000)  # settles them; their wins are not taken
    unpaid = rounds_in(world, token, "cashed_out")
    placing = abandoned_bets(world, token, 6)
    refunding = game_with(world, bet=lost_answer_bet, refund=unclear)
    for _ in range(4):
        with pytest.raises(Exception, match="refunded"):
            refunding.bet(token, json.dumps({"amount_minor": 300}).encode())
    pending = rounds_in(world, token, "refund_pending")
    opened = [bet(world, token, auto_cash_out="1.01")["round_id"] for _ in range(16)]
    opened += [bet(world, token)["round_id"] for _ in range(8)]
    world.clock.ms += BACKSTOP_MS
    rounds = opened + unpaid + placing + pending
    assert len(pending) == 4
    assert len(placing) == 6
    assert sorted(due(world)) == sorted(rounds)
    requests_before = Counter(json.loads(r.body)["operator_tx_id"] for r in world.wallet.requests)
    start = threading.Barrier(2)
    results: list[dict[str, int]] = []

    patient = game_with(world)

    def run() -> None:
        start.wait()
        results.append(patient.sweep(workers=8))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert due(world) == []
    final = {round_id: world.store.read_round(round_id) for round_id in rounds}
    statuses = {round_id: stored.status for round_id, stored in final.items() if stored}
    assert set(statuses.values()) <= {"crashed", "paid", "refunded"}
    total = Counter[str]()
    for result in results:
        total.update(result)
    assert total["failed"] == 0
    assert total["settled"] == len(opened)
    assert total["paid"] == len(unpaid)  # a won automatic cash-out is paid by the run that settles it
    assert total["refunded"] == len(placing) + len(pending)
    sent = Counter(json.loads(r.body)["operator_tx_id"] for r in world.wallet.requests) - requests_before
    assert set(sent.values()) == {1}  # no win nor refund sent twice, even to an idempotent wallet
    moved = Counter(entry.operator_tx_id for entry in world.wallet.entries)
    assert set(moved.values()) == {1}
    expected = 10_000_000
    for stored in [*final.values(), *(world.store.read_round(r) for r in settled_before if r not in final)]:
        assert stored is not None
        if stored.status in ("crashed", "paid"):
            expected -= stored.round.bet_minor
        if stored.status == "paid":
            expected += stored.fields["settlement"]["payout_minor"]
    assert world.wallet.balance("player-1", "USD") == expected
    revenue = world.revenue(day_of(world.clock.ms))
    assert revenue is not None
    assert revenue["rounds"] == len(opened) + len(settled_before)  # each round counted once


def lost_answer_bet(inner: Wallet, call: WalletCall, timeout: float | None) -> WalletAnswer:
    inner.bet(call, timeout=timeout)  # taken by the wallet, its answer lost
    return WalletAnswer(AnswerKind.UNCLEAR, "bet", call.operator_tx_id, detail="no answer")


def test_a_round_keyed_by_the_old_shard_layout_is_still_swept_and_moves_to_its_hashed_shard(world: World) -> None:
    token = world.launch()
    placed = 0
    while placed < 50:  # a round whose old shard (last two hex digits mod 8) differs from its hashed one
        round_id = bet(world, token, auto_cash_out="1.01")["round_id"]
        placed += 1
        old = f"DUE#{int(round_id[-2:], 16) % LEGACY_DUE_SHARDS}"
        if old != due_shard(round_id):
            break
    key = {"pk": {"S": f"ROUND#{round_id}"}, "sk": {"S": "ROUND"}}
    world.store.client.update_item(
        TableName=world.table,
        Key=key,
        UpdateExpression="SET due_pk = :old",
        ExpressionAttributeValues={":old": {"S": old}},
    )
    world.clock.ms += 10 * 60 * 1000
    assert round_id in due(world)
    # every win (its own, unless it crashed at 1.00x, and those of the rounds the search placed before it, rarely
    # any) waits: the round stays in the index
    world.wallet.fail_next(placed, 503)
    assert world.game.sweep()["settled"] == placed
    item = world.store.client.get_item(TableName=world.table, Key=key, ConsistentRead=True)["Item"]
    if item["status"]["S"] == "cashed_out":
        assert item["due_pk"]["S"] == due_shard(round_id)  # the settlement wrote its hashed shard
    else:
        assert item["status"]["S"] == "crashed"
        assert "due_pk" not in item
