"""What an operator controls of its players' play: bet and payout limits per currency, the source addresses its
signed calls may come from, the sites that may frame the game, ending a session, and the bet rate of a session.

HTTP answers are checked through the local stack's HTTP path (``tests.support.rgs_http``); what needs the
game's clock or a winning round runs in process on DynamoDB Local (``tests.support.rgs_game``)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from croupier import money
from croupier.errors import CroupierError
from croupier.rgs.curve import payout_minor
from croupier.rgs.sealing import Sealer
from croupier.signing import Headers, RawRequest, rgs
from croupier_local.server import LocalStack
from tests.support.rgs_game import World, bet, cash_out, winning_round
from tests.support.rgs_http import RgsOperator, admin, http

pytestmark = pytest.mark.dynamodb_local

LIMITS = {"min_bet_minor": 100, "max_bet_minor": 5_000, "max_payout_minor": 50_000}


@pytest.fixture
def world(real_client: Any, tmp_path: Path, rgs_sealer: Sealer) -> Iterator[World]:
    created = World(real_client, tmp_path, sealer=rgs_sealer)
    yield created
    created.wallet.stop()


def rounds_of(player: Any) -> list[dict[str, Any]]:
    state = player.state()
    assert state.status == 200, state.body
    rounds: list[dict[str, Any]] = state.json()["rounds"]
    return rounds


# --- 1. limits per operator and currency ---------------------------------------------------------------------


def test_provisioning_answers_the_default_limits_of_each_currency_scaled_by_its_exponent(
    local_stack: LocalStack,
) -> None:
    data = {"wallet_callback_url": "https://wallet.example.com/rgs", "allowed_currencies": ["USD", "KRW", "BHD"]}
    answer = admin(local_stack, "POST", "/admin/rgs/operators", data)
    assert answer.status == 201, answer.body
    assert answer.json()["limits"] == {
        "BHD": {"min_bet_minor": 100, "max_bet_minor": 1_000_000, "max_payout_minor": 100_000_000},
        "KRW": {"min_bet_minor": 1, "max_bet_minor": 1_000, "max_payout_minor": 100_000},
        "USD": {"min_bet_minor": 10, "max_bet_minor": 100_000, "max_payout_minor": 10_000_000},
    }


@pytest.mark.parametrize(
    "limits",
    [
        {"USD": {**LIMITS, "min_bet_minor": 6_000}},  # min above max
        {"USD": {**LIMITS, "max_payout_minor": 4_999}},  # max payout below the max bet
        {"USD": {**LIMITS, "min_bet_minor": 0}},
        {"USD": {"min_bet_minor": 100}},  # all three or none
        {"EUR": LIMITS},  # not an allowed currency
        {"USD": {**LIMITS, "max_payout_minor": money.MAX_MAJOR_AMOUNT * 100 + 1}},  # above the ledger's cap
    ],
)
def test_limits_that_do_not_hold_together_are_refused_400(local_stack: LocalStack, limits: dict[str, Any]) -> None:
    data = {"wallet_callback_url": "https://wallet.example.com/rgs", "allowed_currencies": ["USD"], "limits": limits}
    answer = admin(local_stack, "POST", "/admin/rgs/operators", data)
    assert (answer.status, answer.json()["error"]) == (400, "INVALID_REQUEST"), answer.body


def test_bets_outside_the_operators_limits_are_refused_400_and_nothing_is_played(local_stack: LocalStack) -> None:
    operator = RgsOperator.self_operated(local_stack, limits={"USD": LIMITS})
    player = operator.launch(f"limits-{uuid.uuid4().hex[:8]}")
    below = player.bet(99)
    assert (below.status, below.json()["error"]) == (400, "BET_BELOW_MINIMUM"), below.body
    above = player.bet(5_001)
    assert (above.status, above.json()["error"]) == (400, "BET_ABOVE_MAXIMUM"), above.body
    assert rounds_of(player) == []


def test_the_default_minimum_applies_without_limits(local_stack: LocalStack) -> None:
    player = RgsOperator.self_operated(local_stack).launch(f"limits-{uuid.uuid4().hex[:8]}")
    below = player.bet(9)
    assert (below.status, below.json()["error"]) == (400, "BET_BELOW_MINIMUM"), below.body


def test_an_admin_changes_the_limits_and_the_next_bet_meets_them(local_stack: LocalStack) -> None:
    operator = RgsOperator.self_operated(local_stack)
    path = f"/admin/rgs/operators/{operator.operator_id}"
    changed = admin(local_stack, "PATCH", path, {"limits": {"USD": LIMITS}})
    assert changed.status == 200, changed.body
    assert changed.json()["limits"]["USD"] == LIMITS
    player = operator.launch(f"limits-{uuid.uuid4().hex[:8]}")
    assert player.bet(5_001).json()["error"] == "BET_ABOVE_MAXIMUM"
    unknown = admin(local_stack, "PATCH", f"/admin/rgs/operators/{uuid.uuid4()}", {"enabled": False})
    assert (unknown.status, unknown.json()["error"]) == (404, "UNKNOWN_OPERATOR")
    bad = admin(local_stack, "PATCH", path, {"limits": {"USD": {**LIMITS, "min_bet_minor": 9_999}}})
    assert (bad.status, bad.json()["error"]) == (400, "INVALID_REQUEST")


def test_a_payout_is_capped_at_the_operators_max_payout_per_round(world: World) -> None:
    operator_id = world.operator["operator_id"]
    cap = {"min_bet_minor": 10, "max_bet_minor": 1_000, "max_payout_minor": 1_200}
    world.operators.change(operator_id, json.dumps({"limits": {"USD": cap}}).encode())
    token = world.launch()
    placed = winning_round(world, token)  # crashes at 1.50x or later
    world.clock.ms += 6_000  # well past 1.20x
    settled = cash_out(world, token, placed["round_id"])
    assert settled["status"] == "paid", settled
    assert payout_minor(1_000, round(float(settled["cash_out"]) * 100), 2000) > 1_200
    assert settled["payout_minor"] == 1_200
    assert [json.loads(call.body)["amount_minor"] for call in world.wallet.calls("win")] == [1_200]


def test_a_payout_never_exceeds_what_the_ledger_can_move(world: World) -> None:
    """KRW has no minor unit: the ledger's cap of a trillion is 10**12 minor units, the largest limit allowed."""
    operator_id = world.operator["operator_id"]
    cap = money.MAX_MAJOR_AMOUNT
    too_much = {"KRW": {"min_bet_minor": 1, "max_bet_minor": cap, "max_payout_minor": cap + 1}}
    with pytest.raises(CroupierError) as refused:
        world.operators.change(
            operator_id, json.dumps({"allowed_currencies": ["USD", "KRW"], "limits": too_much}).encode()
        )
    assert refused.value.status == 400
    limits = {"KRW": {"min_bet_minor": 1, "max_bet_minor": cap, "max_payout_minor": cap}}
    world.operators.change(operator_id, json.dumps({"allowed_currencies": ["USD", "KRW"], "limits": limits}).encode())
    token = world.launch(funds=10 * cap, currency="KRW")
    placed = winning_round(world, token, amount=cap)
    world.clock.ms += 6_000
    settled = cash_out(world, token, placed["round_id"])
    assert (settled["status"], settled["payout_minor"]) == ("paid", cap)
    with pytest.raises(CroupierError) as above:
        bet(world, token, cap + 1)
    assert above.value.code in ("BET_ABOVE_MAXIMUM", "INVALID_REQUEST")


# --- 2. allow-lists: source addresses of the operator's calls, sites that may frame the game ----------------


def test_signed_calls_from_outside_the_operators_allowed_ips_are_refused_403(local_stack: LocalStack) -> None:
    """The local stack's callers come from 127.0.0.1."""
    operator = RgsOperator.self_operated(local_stack, allowed_ips=["203.0.113.0/24", "2001:db8::/32"])
    for answer in (
        operator.signed("POST", "/api/public/rgs/launch", {"operator_player_id": "p", "currency": "USD"}),
        operator.round(f"r_{uuid.uuid4().hex}"),
        operator.revenue("2026-01-01", "2026-01-02"),
    ):
        assert (answer.status, answer.json()) == (
            403,
            {"ok": False, "error": "IP_NOT_ALLOWED", "message": answer.json()["message"]},
        ), answer.body
    path = f"/admin/rgs/operators/{operator.operator_id}"
    changed = admin(local_stack, "PATCH", path, {"allowed_ips": ["127.0.0.0/8"]})
    assert (changed.status, changed.json()["allowed_ips"]) == (200, ["127.0.0.0/8"]), changed.body
    assert operator.revenue("2026-01-01", "2026-01-02").status == 200
    cleared = admin(local_stack, "PATCH", path, {"allowed_ips": None})
    assert cleared.json()["allowed_ips"] is None
    assert operator.launch(f"ips-{uuid.uuid4().hex[:8]}").launched["ok"] is True


@pytest.mark.parametrize(
    "change",
    [
        {"allowed_ips": ["not-a-cidr"]},
        {"allowed_ips": []},
        {"allowed_origins": ["https://casino.example.com; script-src *"]},
        {"allowed_origins": ["ftp://casino.example.com"]},
        {"allowed_origins": ["https://casino.example.com/path"]},
    ],
)
def test_allow_lists_that_are_not_lists_of_cidrs_or_origins_are_refused_400(
    local_stack: LocalStack, change: dict[str, Any]
) -> None:
    data = {"wallet_callback_url": "https://wallet.example.com/rgs", "allowed_currencies": ["USD"], **change}
    answer = admin(local_stack, "POST", "/admin/rgs/operators", data)
    assert (answer.status, answer.json()["error"]) == (400, "INVALID_REQUEST"), answer.body


def test_a_refused_source_costs_no_secret_read(world: World) -> None:
    operator_id = world.operator["operator_id"]
    world.operators.change(operator_id, json.dumps({"allowed_ips": ["203.0.113.0/24"]}).encode())
    reads: list[str] = []
    secrets = world.operators.secrets
    original = secrets.get

    def counted(name: str, **kwargs: Any) -> dict[str, Any]:
        reads.append(name)
        return original(name, **kwargs)

    secrets.get = counted  # type: ignore[method-assign]
    world.operators._forget(operator_id)  # nothing cached: every read would show
    raw = json.dumps({"operator_player_id": "p", "currency": "USD"}).encode()
    op = world.operator
    headers = rgs.headers(
        operator_id, op["api_key"], op["hmac_secret"], "POST", "/api/public/rgs/launch", raw, clock=world.clock.seconds
    )
    outside = RawRequest("POST", "/api/public/rgs/launch", Headers(headers), raw, source_ip="198.51.100.7")
    with pytest.raises(CroupierError) as refused:
        world.sessions.launch(outside, "https://rgs")
    assert (refused.value.status, refused.value.code) == (403, "IP_NOT_ALLOWED")
    assert reads == []
    inside = RawRequest("POST", "/api/public/rgs/launch", Headers(headers), raw, source_ip="203.0.113.9")
    assert world.sessions.launch(inside, "https://rgs")["ok"] is True
    assert reads == [f"rgs/operators/{operator_id}"]


def frame_ancestors(local_stack: LocalStack, launch_url: str) -> str:
    page = http(local_stack, "GET", launch_url.removeprefix(local_stack.base_url))
    assert page.status == 200
    directives = [d.strip() for d in page.headers["content-security-policy"].split(";")]
    return next(d for d in directives if d.startswith("frame-ancestors "))


def test_the_game_page_of_a_session_may_be_framed_only_by_its_operators_allowed_origins(
    local_stack: LocalStack,
) -> None:
    origins = ["https://casino.example.com", "https://*.casino.example.net:8443"]
    operator = RgsOperator.self_operated(local_stack, allowed_origins=origins)
    player = operator.launch(f"origins-{uuid.uuid4().hex[:8]}")
    url = player.launched["launch_url"]
    assert (
        frame_ancestors(local_stack, url)
        == "frame-ancestors https://casino.example.com https://*.casino.example.net:8443"
    )
    open_player = RgsOperator.self_operated(local_stack).launch(f"origins-{uuid.uuid4().hex[:8]}")
    assert frame_ancestors(local_stack, open_player.launched["launch_url"]) == "frame-ancestors *"
    changed = admin(local_stack, "PATCH", f"/admin/rgs/operators/{operator.operator_id}", {"allowed_origins": None})
    assert changed.json()["allowed_origins"] is None
    assert frame_ancestors(local_stack, url) == "frame-ancestors *"
    assert frame_ancestors(local_stack, "/play?session=unknown") == "frame-ancestors *"


# --- 3. sessions: the operator ends one; bets per session are rate-limited -----------------------------------


def end_session(operator: RgsOperator, session_id: str) -> Any:
    return operator.signed("DELETE", f"/api/public/rgs/sessions/{session_id}")


def test_an_operator_ends_a_session_and_its_token_is_refused_at_once(local_stack: LocalStack) -> None:
    operator = RgsOperator.self_operated(local_stack)
    player = operator.launch(f"end-{uuid.uuid4().hex[:8]}")
    session_id = player.launched["session_id"]
    ended = end_session(operator, session_id)
    assert ended.status == 200, ended.body
    assert ended.json()["ok"] is True
    assert ended.json()["session_id"] == session_id
    again = end_session(operator, session_id)  # idempotent: the same answer
    assert (again.status, again.json()) == (200, ended.json())
    for answer in (player.bet(100), player.cash_out(f"r_{uuid.uuid4().hex}"), player.state()):
        assert (answer.status, answer.json()["error"]) == (401, "SESSION_ENDED"), answer.body


def test_only_the_sessions_own_operator_can_end_it(local_stack: LocalStack) -> None:
    owner = RgsOperator.self_operated(local_stack)
    player = owner.launch(f"end-{uuid.uuid4().hex[:8]}")
    other = RgsOperator.self_operated(local_stack)
    for answer in (
        end_session(other, player.launched["session_id"]),
        end_session(owner, f"s_{uuid.uuid4().hex}"),
        end_session(owner, "not-a-session"),
    ):
        assert (answer.status, answer.json()["error"]) == (404, "UNKNOWN_SESSION"), answer.body
    assert player.state().status == 200


def test_ending_a_session_from_outside_the_allowed_ips_is_refused(local_stack: LocalStack) -> None:
    operator = RgsOperator.self_operated(local_stack, allowed_ips=["203.0.113.0/24"])
    answer = end_session(operator, f"s_{uuid.uuid4().hex}")
    assert (answer.status, answer.json()["error"]) == (403, "IP_NOT_ALLOWED")


def test_bets_above_the_operators_rate_per_session_are_refused_429_and_play_nothing(world: World) -> None:
    operator_id = world.operator["operator_id"]
    plain = world.operators.provision(
        b'{"wallet_callback_url": "https://wallet.example", "allowed_currencies": ["USD"]}'
    )
    assert world.operators.view(plain["operator_id"])["max_bets_per_second"] == 10  # the default
    world.operators.change(operator_id, b'{"max_bets_per_second": 2}')
    token, other = world.launch(), world.launch("player-2")
    world.clock.ms = (world.clock.ms // 1000) * 1000 + 100  # early in a second
    assert [bet(world, token)["nonce"] for _ in range(2)] == [0, 1]  # rounds left to crash: no wallet needed
    calls = len(world.wallet.calls("bet"))
    with pytest.raises(CroupierError) as refused:
        bet(world, token)
    assert (refused.value.status, refused.value.code) == (429, "TOO_MANY_BETS")
    assert len(world.wallet.calls("bet")) == calls  # nothing was sent, no round stored
    assert len(world.game.state(token)["rounds"]) == 2
    assert bet(world, other)["nonce"] == 0  # another session has a rate of its own
    world.clock.ms += 900  # the next second
    assert bet(world, token)["nonce"] == 2
