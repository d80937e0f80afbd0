"""The crash game's rounds on DynamoDB Local against a fake operator wallet over HTTP: bets, cash-outs,
settlement exactly once with revenue counted from the table's stream, void and refunded bets, wins retried."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from croupier import fairness
from croupier.errors import CroupierError
from croupier.rgs import reports
from croupier.rgs.curve import payout_minor, time_to_reach
from croupier.rgs.rounds import day_of, player_view
from croupier.rgs.sealing import Sealer
from tests.support.rgs_game import World, bet, cash_out, crash_of, winning_round


@pytest.fixture
def world(real_client: Any, tmp_path: Path, rgs_sealer: Sealer) -> Any:
    created = World(real_client, tmp_path, sealer=rgs_sealer)
    yield created
    created.wallet.stop()


def test_a_bet_publishes_the_seed_hash_and_withholds_the_seed_and_crash_point(world: World) -> None:
    token = world.launch()
    placed = bet(world, token, client_seed="my-seed")
    assert placed["nonce"] == 0
    assert placed["client_seed"] == "my-seed"
    assert placed["balance_minor"] == 99_000
    view = player_view(world.store.read_round(placed["round_id"]), world.clock.ms)  # type: ignore[arg-type]
    assert "server_seed" not in view
    assert "crash_point" not in view
    assert (view["rtp_target"], view["max_win_multiplier"]) == ("0.96", 2000)  # what a verifier needs with the seed
    assert bet(world, token)["nonce"] == 1


def test_a_cash_out_below_the_crash_point_pays_bet_times_multiplier_once(world: World) -> None:
    token = world.launch()
    placed = winning_round(world, token)
    before = world.wallet.balance("player-1", "USD")
    world.clock.ms += time_to_reach(150)  # the multiplier is 1.50x now, below the crash point
    with ThreadPoolExecutor(4) as pool:  # four concurrent cash-outs: one settles, all see the same result
        views = list(pool.map(lambda _: cash_out(world, token, placed["round_id"]), range(4)))
    assert {v["status"] for v in views} <= {"cashed_out", "paid"}
    assert len({(v["cash_out"], v["payout_minor"]) for v in views}) == 1
    assert views[0]["cash_out"] == "1.50"
    assert views[0]["payout_minor"] == payout_minor(1_000, 150, 2000) == 1_500
    assert world.wallet.balance("player-1", "USD") == before + 1_500
    assert len(world.wallet.calls("win")) == 1
    final = cash_out(world, token, placed["round_id"])
    assert final["status"] == "paid"
    assert Decimal(final["crash_point"]) >= Decimal("1.50")
    assert fairness.crash_cents(final["server_seed"], final["client_seed"], final["nonce"]) == crash_of(
        world, placed["round_id"]
    )


def test_a_cash_out_after_the_crash_loses_and_counts_in_revenue(world: World) -> None:
    token = world.launch()
    placed = bet(world, token, amount=700)
    crash = crash_of(world, placed["round_id"])
    world.clock.ms += time_to_reach(max(crash, 100))
    view = cash_out(world, token, placed["round_id"])
    assert (view["status"], view["payout_minor"]) == ("crashed", 0)
    assert world.wallet.calls("win") == []
    revenue = world.revenue(day_of(placed["started_at_ms"]))
    assert revenue is not None
    assert (revenue["bets_minor"], revenue["wins_minor"], revenue["rounds"]) == (700, 0, 1)


def test_an_automatic_cash_out_is_settled_when_its_time_has_passed(world: World) -> None:
    token = world.launch()
    placed = bet(world, token, auto_cash_out="1.01")
    crash = crash_of(world, placed["round_id"])
    world.clock.ms += time_to_reach(101)
    stored = world.game.settle_if_due(world.store.read_round(placed["round_id"]), world.clock.ms)  # type: ignore[arg-type]
    if crash >= 101:
        assert stored.status == "paid"
        assert stored.fields["settlement"]["payout_minor"] == 1_010
    else:
        assert stored.status == "crashed"


def test_a_refused_bet_voids_the_round_and_nothing_is_at_stake(world: World) -> None:
    token = world.launch()
    world.wallet.refuse_next(1, 402, "INSUFFICIENT_FUNDS")
    with pytest.raises(CroupierError) as refused:
        bet(world, token)
    assert (refused.value.status, refused.value.code) == (402, "INSUFFICIENT_FUNDS")
    world.wallet.refuse_next(1, 403, "PLAYER_BLOCKED")
    with pytest.raises(CroupierError) as blocked:
        bet(world, token)
    assert (blocked.value.status, blocked.value.code) == (402, "BET_REFUSED")
    assert "PLAYER_BLOCKED" in blocked.value.message
    assert world.wallet.balance("player-1", "USD") == 100_000
    assert world.wallet.calls("refund") == []
    assert [r["status"] for r in world.game.state(token)["rounds"]] == ["void", "void"]


def test_the_state_lists_rounds_newest_first_with_the_balance_the_wallet_last_reported(world: World) -> None:
    world.operators.change(world.operator["operator_id"], b'{"max_bets_per_second": 12}')  # 12 bets in 1 ms below
    token = world.launch(funds=50_000)
    assert world.game.state(token)["balance_minor"] is None  # the operator's launch sent no balance
    placed = [bet(world, token, amount=100 * (i + 1))["round_id"] for i in range(12)]
    # every round was placed at the same millisecond of the test's clock: the nonce orders them
    state = world.game.state(token)
    assert [r["round_id"] for r in state["rounds"]] == placed[::-1][:10]
    assert state["balance_minor"] == 50_000 - sum(100 * (i + 1) for i in range(12))
    assert state["balance_minor"] == world.wallet.balance("player-1", "USD")


def test_an_unclear_bet_is_refunded_once(world: World) -> None:
    token = world.launch()
    world.wallet.hang_next(1, 2.0, applied=True)  # the bet is taken, its answer is lost
    with pytest.raises(CroupierError) as unclear:
        bet(world, token)
    assert (unclear.value.status, unclear.value.code) == (503, "BET_NOT_CONFIRMED")
    assert len(world.wallet.calls("refund")) == 1
    assert world.wallet.balance("player-1", "USD") == 100_000


def test_a_win_the_wallet_does_not_take_is_queued_for_retry(world: World) -> None:
    token = world.launch()
    placed = winning_round(world, token)
    world.clock.ms += time_to_reach(120)
    world.wallet.fail_next(1, 503)
    view = cash_out(world, token, placed["round_id"])
    assert view["status"] == "cashed_out"
    assert ("win", placed["round_id"]) in world.retries.queued
    assert world.game.pay_win(placed["round_id"]) is True  # the retry, under the same operator_tx_id
    assert world.game.pay_win(placed["round_id"]) is True  # and again: nothing more is paid
    wins = world.wallet.calls("win")
    assert len({json.loads(w.body)["operator_tx_id"] for w in wins}) == 1


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"amount_minor": 0},
        {"amount_minor": -5},
        {"amount_minor": "100"},
        {"amount_minor": 1.5},
        {"amount_minor": 100, "auto_cash_out": "1.00"},
        {"amount_minor": 100, "auto_cash_out": "2.005"},
        {"amount_minor": 100, "auto_cash_out": "2001"},
        {"amount_minor": 100, "client_seed": ""},
        {"amount_minor": 100, "client_seed": "has space"},
        {"amount_minor": 100, "extra": 1},
    ],
)
def test_bad_bets_are_refused_before_anything_is_written(world: World, body: dict[str, Any]) -> None:
    token = world.launch()
    with pytest.raises(CroupierError) as refused:
        world.game.bet(token, json.dumps(body).encode())
    assert refused.value.status == 400
    assert world.wallet.calls("bet") == []


def test_an_expired_or_unknown_session_cannot_play(world: World) -> None:
    token = world.launch()
    with pytest.raises(CroupierError) as unknown:
        bet(world, "not-a-token")
    assert unknown.value.code == "INVALID_SESSION"
    world.clock.ms += 3601 * 1000
    with pytest.raises(CroupierError) as expired:
        bet(world, token)
    assert expired.value.code == "SESSION_EXPIRED"


# --- what operators read ------------------------------------------------------------------------------------


def test_revenue_per_day_and_currency_with_shares_rounded_toward_zero(world: World) -> None:
    token = world.launch()
    stakes = [700, 300, 1_000]
    for amount in stakes:
        placed = bet(world, token, amount=amount)
        world.clock.ms += time_to_reach(max(crash_of(world, placed["round_id"]), 100))
        cash_out(world, token, placed["round_id"])  # too late: each one crashes
    day = day_of(world.clock.ms)
    world.drain_revenue()
    settings = world.operators.settings(world.operator["operator_id"])
    assert settings is not None
    answer = reports.revenue(world.store, world.operator["operator_id"], settings, {"from": day, "to": day})
    assert answer == {
        "ok": True,
        "days": [
            {
                "period_day": day,
                "currency": "USD",
                "ggr_minor": 2_000,
                "house_share_minor": 300,  # 15 %
                "operator_share_minor": 1_700,
                "rounds": 3,
            }
        ],
    }


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"from": "2026-07-01"},
        {"from": "2026-7-1", "to": "2026-07-02"},
        {"from": "2026-02-30", "to": "2026-03-01"},
        {"from": "2026-07-02", "to": "2026-07-01"},
        {"from": "2025-01-01", "to": "2026-01-02"},
        {"from": "yesterday", "to": "today"},
    ],
)
def test_bad_or_reversed_dates_and_ranges_over_366_days_are_400(query: dict[str, str]) -> None:
    with pytest.raises(CroupierError) as refused:
        reports.parse_range(query)
    assert (refused.value.status, refused.value.code) == (400, "INVALID_RANGE")


def test_a_range_of_exactly_366_days_is_accepted() -> None:
    assert reports.parse_range({"from": "2024-01-01", "to": "2024-12-31"})  # a leap year: 366 days


def test_the_round_view_withholds_the_seed_until_settlement_then_verifies(world: World) -> None:
    token = world.launch()
    placed = bet(world, token)
    operator_id = world.operator["operator_id"]
    early = reports.round_view(world.store.read_round(placed["round_id"]), operator_id)
    assert (early["server_seed"], early["outcome"], early["payout_minor"]) == (None, None, None)
    world.clock.ms += 10 * 60 * 1000
    cash_out(world, token, placed["round_id"])
    late = reports.round_view(world.store.read_round(placed["round_id"]), operator_id)
    assert fairness.seed_hash(late["server_seed"]) == late["server_seed_hash"] == early["server_seed_hash"]
    recomputed = fairness.outcome(late["server_seed"], late["client_seed"], late["nonce"]).as_dict()
    assert late["outcome"] == recomputed
    with pytest.raises(CroupierError) as other:
        reports.round_view(world.store.read_round(placed["round_id"]), "00000000-0000-4000-8000-000000000000")
    assert other.value.code == "UNKNOWN_ROUND"


def test_a_refund_the_wallet_does_not_take_is_queued_and_retried_once_more(world: World) -> None:
    token = world.launch()
    world.wallet.hang_next(1, 2.0, applied=True)  # the bet is taken, its answer lost
    world.wallet.fail_next(1, 503)  # and the refund fails too
    with pytest.raises(CroupierError) as unclear:
        bet(world, token)
    assert unclear.value.code == "BET_NOT_CONFIRMED"
    ((kind, round_id),) = world.retries.queued
    assert kind == "refund"
    assert world.store.read_round(round_id).status == "refund_pending"  # type: ignore[union-attr]
    assert world.game.retry_refund(round_id) is True  # the queue's retry, same operator_tx_id
    assert world.game.retry_refund(round_id) is True  # and again: nothing more moves
    assert world.store.read_round(round_id).status == "refunded"  # type: ignore[union-attr]
    assert world.wallet.balance("player-1", "USD") == 100_000
