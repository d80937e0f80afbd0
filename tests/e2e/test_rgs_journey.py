"""The RGS end to end over HTTP on the local stack, with Croupier as its own operator: an admin provisions
an operator whose wallet is the local ``/rgs-wallet`` adapter, the operator launches a session, the player
bets and cashes out, the player's balance in the ledger moves by exactly the bet and the win, the round
verifies from its published data, and the revenue shows it."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from croupier import fairness
from croupier.rgs.curve import payout_minor, time_to_reach
from croupier_local.server import LocalStack
from tests.support.rgs_http import Player, RgsOperator, admin, crash_point

pytestmark = pytest.mark.e2e
VERIFY_ROUND = Path(__file__).resolve().parents[2] / "tools" / "verify_round.py"


def balance(stack: LocalStack, player_id: str) -> Decimal:
    answer = admin(stack, "GET", f"/admin/players/{player_id}")
    assert answer.status == 200, answer.body
    return Decimal(answer.json()["balances"]["USD"])


def funded_player(stack: LocalStack, amount: str) -> str:
    """A new player of the local ledger with ``amount`` USD deposited: its id."""
    player_id = f"rgs-e2e-{uuid.uuid4().hex[:8]}"
    assert admin(stack, "POST", "/admin/players", {"player_id": player_id, "currency": "USD"}).status == 201
    deposit = {"currency": "USD", "amount": amount, "reference": f"dep-{player_id}"}
    assert admin(stack, "POST", f"/admin/players/{player_id}/deposits", deposit).status == 201
    return player_id


def play_until_a_win(player: Player, stack: LocalStack, bet_minor: int) -> tuple[dict[str, Any], dict[str, Any], int]:
    """Bet until a round crashes at 1.10x or later, then cash out at about 1.03x, in real time. Rounds that
    crash earlier are left to crash (the player loses them). Returns the bet, the cash-out and the number of
    bets lost on the way."""
    lost = 0
    for _ in range(30):
        placed = player.bet(bet_minor, client_seed=f"e2e-{uuid.uuid4().hex[:8]}")
        assert placed.status == 200, placed.body
        bet = placed.json()
        crash = crash_point(stack, bet["round_id"])
        if crash < 110:
            time.sleep(time_to_reach(max(crash, 100)) / 1000 + 0.05)
            view = player.cash_out(bet["round_id"]).json()
            assert (view["status"], view["payout_minor"]) == ("crashed", 0), view
            lost += 1
            continue
        wait_ms = bet["started_at_ms"] + time_to_reach(103) - int(time.time() * 1000)
        time.sleep(max(0, wait_ms) / 1000)
        answer = player.cash_out(bet["round_id"])
        assert answer.status == 200, answer.body
        return bet, answer.json(), lost
    raise AssertionError("no round reached 1.10x in 30 bets")


def test_launch_bet_cash_out_moves_the_ledger_by_bet_and_win_verifies_and_shows_in_revenue(
    local_stack: LocalStack,
) -> None:
    player_id = funded_player(local_stack, "100.00")
    operator = RgsOperator.self_operated(local_stack)
    player = operator.launch(player_id, balance_minor=10_000)
    assert player.launched["launch_url"].startswith(f"{local_stack.base_url}/play?session=")
    state = player.state().json()
    assert state["balance_minor"] == 10_000
    assert (state["currency"], state["currency_exponent"]) == ("USD", 2)
    assert state["created_at"] <= state["expires_at"]  # the launch's time: the page counts the session from it
    assert abs(datetime.fromisoformat(state["created_at"]).timestamp() * 1000 - state["server_time_ms"]) < 60_000

    bet, cashed, lost = play_until_a_win(player, local_stack, bet_minor=250)

    assert cashed["status"] == "paid", cashed
    multiplier = Decimal(cashed["cash_out"])
    assert Decimal("1.03") <= multiplier < Decimal(cashed["crash_point"])
    win = payout_minor(250, int(multiplier * 100), 2000)
    assert cashed["payout_minor"] == win
    spent = 250 * (lost + 1)
    assert balance(local_stack, player_id) == Decimal(10_000 - spent + win) / 100  # exactly bet and win
    state = player.state().json()
    assert state["balance_minor"] == 10_000 - spent + win  # what the wallet reported after the win
    assert state["rounds"][0]["round_id"] == bet["round_id"]

    # the round verifies from what the operator's round route publishes
    published = operator.round(bet["round_id"])
    assert published.status == 200, published.body
    view = published.json()
    assert fairness.seed_hash(view["server_seed"]) == view["server_seed_hash"] == bet["server_seed_hash"]
    recomputed = fairness.outcome(view["server_seed"], view["client_seed"], view["nonce"])
    assert view["outcome"] == recomputed.as_dict()
    assert Decimal(view["outcome"]["crashPoint"]) == Decimal(cashed["crash_point"])
    assert view["payout_minor"] == win

    # the revenue of the day shows every round of this fresh operator
    today = datetime.fromtimestamp(bet["started_at_ms"] / 1000, UTC).strftime("%Y-%m-%d")
    local_stack.stream_source("RgsRevenueFunction").drain()  # the aggregator counts what the stream holds
    revenue = operator.revenue(today, today)
    assert revenue.status == 200, revenue.body
    (day,) = revenue.json()["days"]
    assert (day["period_day"], day["currency"], day["rounds"]) == (today, "USD", lost + 1)
    assert day["ggr_minor"] == spent - win
    assert day["house_share_minor"] + day["operator_share_minor"] == day["ggr_minor"]


def test_the_players_wallet_refuses_a_bet_above_the_balance_and_nothing_moves(local_stack: LocalStack) -> None:
    player_id = funded_player(local_stack, "1.00")
    operator = RgsOperator.self_operated(local_stack)
    player = operator.launch(player_id)
    refused = player.bet(101)
    assert refused.status == 402, refused.body
    assert refused.json()["error"] == "INSUFFICIENT_FUNDS"
    assert balance(local_stack, player_id) == Decimal("1.00")
    (void,) = player.state().json()["rounds"]
    assert void["status"] == "void"
    assert operator.revenue("2000-01-01", "2000-12-31").json()["days"] == []


def test_an_excluded_players_bet_at_the_rgs_is_refused_by_the_wallet_and_nothing_moves(local_stack: LocalStack) -> None:
    """Croupier as its own operator: player protection answers at its wallet (403 PLAYER_EXCLUDED), and the RGS
    voids the round and tells the player which refusal it was; the next commitment stays for a later bet."""
    player_id = funded_player(local_stack, "5.00")
    player = RgsOperator.self_operated(local_stack).launch(player_id)
    excluded = admin(local_stack, "POST", f"/admin/players/{player_id}/exclusions", {"kind": "time_out", "until": None})
    assert excluded.status == 201, excluded.body
    refused = player.bet(100)
    assert refused.status == 402, refused.body
    assert refused.json()["error"] == "BET_REFUSED"
    assert "PLAYER_EXCLUDED" in refused.json()["message"]
    assert balance(local_stack, player_id) == Decimal("5.00")
    (void,) = player.state().json()["rounds"]
    assert void["status"] == "void"


def test_over_http_the_seed_committed_before_the_bet_is_the_rounds_and_verifies_once_revealed(
    local_stack: LocalStack,
) -> None:
    player_id = funded_player(local_stack, "10.00")
    operator = RgsOperator.self_operated(local_stack)
    player = operator.launch(player_id, balance_minor=1_000)
    seen = player.state().json()["next_server_seed_hash"]  # published before the player sends anything
    placed = player.bet(100, client_seed="held-out", server_seed_hash=seen)
    assert placed.status == 200, placed.body
    bet = placed.json()
    assert bet["server_seed_hash"] == seen
    assert bet["next_server_seed_hash"] == player.state().json()["next_server_seed_hash"] != seen
    time.sleep(time_to_reach(max(crash_point(local_stack, bet["round_id"]), 100)) / 1000 + 0.05)
    view = player.cash_out(bet["round_id"]).json()  # past its crash point: it settles, and the seed is revealed
    assert view["status"] in ("crashed", "paid", "cashed_out"), view
    assert fairness.seed_hash(view["server_seed"]) == seen
    assert view["next_server_seed_hash"] == bet["next_server_seed_hash"]
    # the player's own verifier, given only the round as the operator publishes it and the hash seen before
    published = operator.round(bet["round_id"]).json()
    checked = subprocess.run(
        [sys.executable, str(VERIFY_ROUND), "-", "--shown-hash", seen],
        input=json.dumps(published),
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert json.loads(checked.stdout)["checks"]["shown_before_bet"] == "MATCH"
    stale = player.bet(100, server_seed_hash=seen)  # the old commitment is spent: nothing is played against it
    assert (stale.status, stale.json()["error"]) == (409, "COMMITMENT_CHANGED"), stale.body
