"""48 players cash out at the same instant over HTTP, on the local stack with Croupier as its own operator
(its ``/rgs-wallet`` adapter as the operator's wallet, on the ledger): every answer is 2xx or 4xx, never a
5xx; each honoured cash-out's win reaches the player's balance exactly once; and the day's revenue, once the
stream's aggregator has run, equals the day recomputed from the rounds."""

from __future__ import annotations

import io
import json
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from decimal import Decimal

from croupier_cli import cli
from croupier_local.server import LocalStack
from tests.support.rgs_http import Player, RgsOperator, admin

PLAYERS = 48
STAKE = 300
FUNDS = 10_000


def balance(stack: LocalStack, player_id: str) -> int:
    answer = admin(stack, "GET", f"/admin/players/{player_id}")
    assert answer.status == 200, answer.body
    return int(Decimal(answer.json()["balances"]["USD"]) * 100)


def test_48_players_cash_out_at_once_and_every_win_is_paid_once(local_stack: LocalStack) -> None:
    operator = RgsOperator.self_operated(local_stack)
    run = uuid.uuid4().hex[:6]

    def join(i: int) -> tuple[str, Player]:
        player_id = f"burst-{run}-{i:02d}"
        assert admin(local_stack, "POST", "/admin/players", {"player_id": player_id, "currency": "USD"}).status == 201
        deposit = {"currency": "USD", "amount": f"{FUNDS / 100:.2f}", "reference": f"dep-{player_id}"}
        assert admin(local_stack, "POST", f"/admin/players/{player_id}/deposits", deposit).status == 201
        return player_id, operator.launch(player_id, balance_minor=FUNDS)

    with ThreadPoolExecutor(8) as pool:
        players = list(pool.map(join, range(PLAYERS)))
        placed = list(pool.map(lambda p: p[1].bet(STAKE), players))
    assert all(answer.status == 200 for answer in placed), [a.body for a in placed if a.status != 200]
    rounds = [answer.json() for answer in placed]
    time.sleep(0.3)  # the multiplier climbs a little: most rounds are still open, a few have crashed

    barrier = threading.Barrier(PLAYERS)

    def cash_out(index: int) -> tuple[int, dict[str, object]]:
        barrier.wait()
        answer = players[index][1].cash_out(rounds[index]["round_id"])
        return answer.status, answer.json()

    with ThreadPoolExecutor(PLAYERS) as pool:
        answers = list(pool.map(cash_out, range(PLAYERS)))
    statuses = sorted({status for status, _ in answers})
    assert all(200 <= status < 500 for status in statuses), answers
    for (player_id, _), (status, view) in zip(players, answers, strict=True):
        assert status == 200, view
        assert view["status"] in ("paid", "cashed_out", "crashed"), view
        won = int(view["payout_minor"]) if view["status"] != "crashed" else 0  # type: ignore[call-overload]
        assert balance(local_stack, player_id) == FUNDS - STAKE + won  # the win once, or nothing

    local_stack.stream_source("RgsRevenueFunction").drain()
    day = datetime.fromtimestamp(rounds[0]["started_at_ms"] / 1000, UTC).strftime("%Y-%m-%d")
    revenue = operator.revenue(day, day)
    assert revenue.status == 200, revenue.body
    (counted,) = revenue.json()["days"]
    paid = sum(int(v["payout_minor"]) for _, v in answers if v["status"] != "crashed")  # type: ignore[call-overload]
    assert (counted["rounds"], counted["ggr_minor"]) == (PLAYERS, PLAYERS * STAKE - paid)
    out = io.StringIO()
    command = f"rgs revenue recompute --operator {operator.operator_id} --day {day} --table RgsTable"
    code = cli.main([*command.split(), "--endpoint-url", local_stack.dynamodb_endpoint], stdout=out)
    report = json.loads(out.getvalue())
    assert code == 0, report
    assert report["currencies"]["USD"]["rounds"]["ggr_minor"] == counted["ggr_minor"]
    assert report["currencies"]["USD"]["rounds"]["house_share_minor"] == counted["house_share_minor"]
