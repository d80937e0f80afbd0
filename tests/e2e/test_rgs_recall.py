"""Game recall over HTTP on the local stack: an operator lists one of its players' rounds
(``GET /api/public/rgs/players/{operator_player_id}/rounds``, RGS v1 signed), newest first, paged by an opaque
cursor, filtered by creation time; the server seed and crash point only once a round is settled; another
operator sees none of them; bad limits, times and cursors are 400 with their codes; and no read writes."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

import pytest

from croupier import aws, fairness
from croupier_local.server import LocalStack
from tests.fakes.operator_wallet_server import FakeOperatorWallet
from tests.support.rgs_http import Answer, RgsOperator, http
from tests.support.wallet_table import scan_table

pytestmark = pytest.mark.e2e

BET = 100
SETTLED = 5


@dataclass
class World:
    stack: LocalStack
    wallet: FakeOperatorWallet
    operator: RgsOperator
    other: RgsOperator
    player_id: str
    open_round: str


@pytest.fixture(scope="module")
def world(local_stack: LocalStack) -> Iterator[World]:
    """One player of one operator: five rounds bet and cashed out at once (settled) over two sessions, then
    one left open (no read settles it: the recall writes nothing, and the sweeper does not run in tests)."""
    wallet = FakeOperatorWallet().start()
    other = RgsOperator.provision(local_stack, wallet.url)
    operator = RgsOperator.with_fake_wallet(local_stack, wallet)
    player_id = f"recall-{uuid.uuid4().hex[:8]}"
    wallet.fund(player_id, 100_000, "USD")
    sessions = [operator.launch(player_id), operator.launch(player_id)]
    for n in range(SETTLED):
        placed = sessions[n % 2].bet(BET)
        assert placed.status == 200, placed.body
        settled = sessions[n % 2].cash_out(placed.json()["round_id"])
        assert settled.status == 200, settled.body
    placed = sessions[0].bet(BET)
    assert placed.status == 200, placed.body
    yield World(local_stack, wallet, operator, other, player_id, placed.json()["round_id"])
    wallet.stop()


def recall(operator: RgsOperator, player_id: str, **query: str) -> Answer:
    text = "&".join(f"{name}={quote(value, safe='')}" for name, value in query.items())
    return operator.signed("GET", f"/api/public/rgs/players/{player_id}/rounds" + (f"?{text}" if text else ""))


def every_round(world: World, **query: str) -> list[dict[str, Any]]:
    answer = recall(world.operator, world.player_id, limit="100", **query)
    assert answer.status == 200, answer.body
    assert answer.json()["next_cursor"] is None
    rounds: list[dict[str, Any]] = answer.json()["rounds"]
    return rounds


def rgs_table() -> dict[tuple[str, str], Any]:
    return scan_table(aws.dynamodb(), "RgsTable")


def cursor_of(**fields: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(fields).encode()).decode().rstrip("=")


def ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso).timestamp() * 1000)


def test_pages_of_two_list_every_round_once_newest_first_and_read_nothing_into_the_table(world: World) -> None:
    before = rgs_table()
    pages: list[list[dict[str, Any]]] = []
    cursor: str | None = None
    while True:
        answer = recall(world.operator, world.player_id, limit="2", **({"cursor": cursor} if cursor else {}))
        assert answer.status == 200, answer.body
        assert answer.json()["ok"] is True
        assert answer.json()["operator_player_id"] == world.player_id
        pages.append(answer.json()["rounds"])
        cursor = answer.json()["next_cursor"]
        if cursor is None:
            break
    listed = [r for page in pages for r in page]
    assert [len(page) for page in pages] == [2, 2, 2]  # 6 rounds: no empty last page
    assert listed == every_round(world)
    assert len({r["round_id"] for r in listed}) == SETTLED + 1
    created = [ms(r["created_at"]) for r in listed]
    assert created == sorted(created, reverse=True)
    assert listed[0]["round_id"] == world.open_round
    assert len({r["session_id"] for r in listed}) == 2  # the player's rounds of both sessions
    assert rgs_table() == before  # nothing written by any read


def test_seeds_and_crash_points_are_hidden_while_a_round_is_open_and_shown_once_settled(world: World) -> None:
    rounds = every_round(world)
    open_round = rounds[0]
    assert open_round["status"] == "open"
    assert open_round["server_seed"] is None
    assert open_round["crash_point"] is None
    assert open_round["payout_minor"] is None
    assert open_round["settled_at"] is None
    assert open_round["started_at"] is not None
    # the open round is the last money movement: its bet's answer is the wallet's balance now
    assert open_round["balance_after_bet_minor"] == world.wallet.balance(world.player_id, "USD")
    assert open_round["balance_before_minor"] == open_round["balance_after_bet_minor"] + BET
    assert open_round["balance_after_minor"] is None
    for settled in rounds[1:]:
        assert settled["status"] in ("crashed", "paid"), settled
        assert fairness.seed_hash(settled["server_seed"]) == settled["server_seed_hash"]
        crash = fairness.crash_cents(
            settled["server_seed"],
            settled["client_seed"],
            settled["nonce"],
            rtp=settled["rtp_target"],
            max_win_multiplier=settled["max_win_multiplier"],
        )
        assert f"{crash / 100:.2f}" == settled["crash_point"]
        assert settled["currency"] == "USD"
        assert settled["bet_minor"] == BET
        assert settled["settled_at"] is not None
        assert settled["balance_before_minor"] is not None
        win = settled["payout_minor"] if settled["status"] == "paid" else 0
        assert settled["balance_after_minor"] == settled["balance_after_bet_minor"] + win
        assert settled["balance_before_minor"] == settled["balance_after_bet_minor"] + BET
        # the same round as the operator's round route tells it
        single = world.operator.round(settled["round_id"]).json()
        assert (single["server_seed"], single["nonce"]) == (settled["server_seed"], settled["nonce"])


@pytest.mark.parametrize("form", ["ms", "iso", "iso-offset"])
def test_from_and_to_keep_the_rounds_created_between_them_both_included(world: World, form: str) -> None:
    rounds = every_round(world)
    first, last = ms(rounds[3]["created_at"]), ms(rounds[1]["created_at"])
    expected = [r["round_id"] for r in rounds if first <= ms(r["created_at"]) <= last]

    def written(at: int) -> str:
        if form == "ms":
            return str(at)
        zone = UTC if form == "iso" else timezone(timedelta(hours=5, minutes=30))
        text = datetime.fromtimestamp(at / 1000, zone).isoformat(timespec="milliseconds")
        return text.replace("+00:00", "Z")

    within = every_round(world, **{"from": written(first), "to": written(last)})
    assert [r["round_id"] for r in within] == expected
    assert len(expected) >= 3
    later = every_round(world, **{"from": written(last + 1)})
    assert [r["round_id"] for r in later] == [r["round_id"] for r in rounds if ms(r["created_at"]) > last]


def test_a_cursor_keeps_its_range_and_is_refused_with_another(world: World) -> None:
    rounds = every_round(world)
    first = str(ms(rounds[4]["created_at"]))
    page = recall(world.operator, world.player_id, limit="1", **{"from": first})
    cursor = page.json()["next_cursor"]
    following = recall(world.operator, world.player_id, limit="100", cursor=cursor)
    assert following.status == 200, following.body
    assert [r["round_id"] for r in following.json()["rounds"]] == [r["round_id"] for r in rounds[1:5]]
    same = recall(world.operator, world.player_id, limit="100", cursor=cursor, **{"from": first})
    assert same.json()["rounds"] == following.json()["rounds"]
    other = recall(world.operator, world.player_id, cursor=cursor, **{"from": "0"})
    assert (other.status, other.json()["error"]) == (400, "INVALID_CURSOR")


def test_another_operator_sees_none_of_the_players_rounds_and_cannot_use_its_cursor(world: World) -> None:
    before = rgs_table()
    theirs = recall(world.other, world.player_id)
    assert theirs.status == 200, theirs.body
    assert theirs.json()["rounds"] == []
    assert theirs.json()["next_cursor"] is None
    cursor = recall(world.operator, world.player_id, limit="1").json()["next_cursor"]
    assert cursor is not None
    stolen = recall(world.other, world.player_id, cursor=cursor)
    assert (stolen.status, stolen.json()) == (400, {"ok": False, "error": "INVALID_CURSOR", "message": ANY})
    another_player = recall(world.operator, f"{world.player_id}-2", cursor=cursor)
    assert (another_player.status, another_player.json()["error"]) == (400, "INVALID_CURSOR")
    assert rgs_table() == before


class _Any(str):
    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and bool(other)

    __hash__ = str.__hash__


ANY = _Any("any message")
A_ROUND = "r_" + "0" * 32


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({"limit": "0"}, "INVALID_LIMIT"),
        ({"limit": "101"}, "INVALID_LIMIT"),
        ({"limit": "-1"}, "INVALID_LIMIT"),
        ({"limit": "ten"}, "INVALID_LIMIT"),
        ({"limit": ""}, "INVALID_LIMIT"),
        ({"from": "yesterday"}, "INVALID_RANGE"),
        ({"from": "2026-11-29"}, "INVALID_RANGE"),  # a day: not an instant
        ({"from": "2026-11-29T10:00:00"}, "INVALID_RANGE"),  # no zone
        ({"to": "2026-13-01T00:00:00Z"}, "INVALID_RANGE"),
        ({"to": "1" * 16}, "INVALID_RANGE"),
        ({"from": "2000", "to": "1000"}, "INVALID_RANGE"),  # reversed
        ({"cursor": "not-a-cursor!"}, "INVALID_CURSOR"),
        ({"cursor": ""}, "INVALID_CURSOR"),
        ({"cursor": cursor_of(v=2, p="x", f=0, l=1, at=0, r=A_ROUND)}, "INVALID_CURSOR"),
        ({"cursor": cursor_of(v=1, p="0" * 32, f=0, l=1, at=0, r=A_ROUND)}, "INVALID_CURSOR"),  # someone else's
        ({"cursor": cursor_of(v=1, p="0" * 32, f=0, l=1, at="0", r="ROUND#x")}, "INVALID_CURSOR"),
        ({"cursor": "x" * 600}, "INVALID_CURSOR"),
    ],
    ids=lambda value: json.dumps(value)[:40] if isinstance(value, dict) else value,
)
def test_bad_limits_times_and_cursors_are_400_with_their_code_and_write_nothing(
    world: World, query: dict[str, str], code: str
) -> None:
    before = rgs_table()
    answer = recall(world.operator, world.player_id, **query)
    assert (answer.status, answer.json()) == (400, {"ok": False, "error": code, "message": ANY}), answer.body
    assert rgs_table() == before


def test_a_player_id_the_launch_would_refuse_is_400_invalid_request(world: World) -> None:
    answer = recall(world.operator, "p" * 65)
    assert (answer.status, answer.json()["error"]) == (400, "INVALID_REQUEST")


def test_unsigned_calls_and_sources_outside_the_allow_list_are_refused(world: World) -> None:
    unsigned = http(world.stack, "GET", f"/api/public/rgs/players/{world.player_id}/rounds")
    assert (unsigned.status, unsigned.json()["error"]) == (401, "SIGNATURE_MISSING")
    fenced = RgsOperator.provision(world.stack, world.wallet.url, allowed_ips=["203.0.113.0/24"])
    refused = recall(fenced, world.player_id)
    assert (refused.status, refused.json()["error"]) == (403, "IP_NOT_ALLOWED")


def test_the_players_state_shows_each_rounds_times_and_its_seed_once_settled(world: World) -> None:
    player_id = f"state-{uuid.uuid4().hex[:8]}"
    world.wallet.fund(player_id, 10_000, "USD")
    player = world.operator.launch(player_id)
    settled_id = player.bet(BET).json()["round_id"]
    assert player.cash_out(settled_id).status == 200
    open_id = player.bet(BET, auto_cash_out="1000.00").json()["round_id"]
    state = player.state()
    assert state.status == 200, state.body
    rounds = {r["round_id"]: r for r in state.json()["rounds"]}
    settled = rounds[settled_id]
    assert settled["created_at_ms"] <= settled["started_at_ms"] <= settled["settled_at_ms"]
    assert fairness.seed_hash(settled["server_seed"]) == settled["server_seed_hash"]
    assert "crash_point" in settled
    assert settled["payout_minor"] >= 0
    if rounds[open_id]["status"] == "open":  # unless it crashed at 1.00 and the read settled it
        assert {"server_seed", "crash_point", "settled_at_ms"}.isdisjoint(rounds[open_id])
        assert rounds[open_id]["created_at_ms"] <= rounds[open_id]["started_at_ms"]
