"""Commit before input: every session holds a committed next server seed whose hash the player sees before
betting (the state, and every bet and cash-out answer); a bet takes exactly that seed, in the one conditional
write that takes the nonce, and commits the next one in the same write."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from croupier import fairness
from croupier.errors import CroupierError
from croupier.rgs.credentials import token_hash
from croupier.rgs.sealing import Sealer
from croupier.rgs.store import SESSION_SK, session_pk
from tests.support.rgs_game import World, bet, cash_out


@pytest.fixture
def world(real_client: Any, tmp_path: Path, rgs_sealer: Sealer) -> Any:
    created = World(real_client, tmp_path, sealer=rgs_sealer)
    yield created
    created.wallet.stop()


def _swap_commitment(world: World, token: str) -> str:
    """What a dishonest server would do: put a seed of its choosing in place of the committed one."""
    chosen = "ab" * 32
    world.store.client.update_item(
        TableName=world.table,
        Key={"pk": {"S": session_pk(token_hash(token))}, "sk": {"S": SESSION_SK}},
        UpdateExpression="SET next_seed = :s, next_seed_hash = :h",
        ExpressionAttributeValues={":s": {"S": chosen}, ":h": {"S": fairness.seed_hash(chosen)}},
    )
    return fairness.seed_hash(chosen)


def test_the_hash_shown_before_the_bet_is_the_rounds_and_the_revealed_seed_hashes_to_it(world: World) -> None:
    token = world.launch()
    seen = world.game.state(token)["next_server_seed_hash"]
    assert len(seen) == 64
    for _ in range(3):
        placed = bet(world, token, client_seed="mine", server_seed_hash=seen)
        assert placed["server_seed_hash"] == seen
        following = placed["next_server_seed_hash"]
        assert following != seen
        assert world.game.state(token)["next_server_seed_hash"] == following
        world.clock.ms += 10 * 60 * 1000  # long past any crash point
        view = cash_out(world, token, placed["round_id"])
        assert view["next_server_seed_hash"] == following
        assert view["server_seed_hash"] == seen
        assert fairness.seed_hash(view["server_seed"]) == seen
        expected = fairness.crash_cents(view["server_seed"], "mine", view["nonce"], rtp="0.96")
        assert view["crash_point"] == f"{Decimal(expected).scaleb(-2):.2f}"
        seen = following


def test_a_commitment_swapped_after_the_player_saw_it_refuses_the_bet(world: World) -> None:
    token = world.launch()
    seen = world.game.state(token)["next_server_seed_hash"]
    swapped = _swap_commitment(world, token)
    with pytest.raises(CroupierError) as refused:
        bet(world, token, server_seed_hash=seen)
    assert (refused.value.status, refused.value.code) == (409, "COMMITMENT_CHANGED")
    assert world.game.state(token)["rounds"] == []  # nothing was played
    assert world.game.state(token)["next_server_seed_hash"] == swapped


def test_a_commitment_swapped_between_the_bets_read_and_its_write_is_never_used(world: World) -> None:
    token = world.launch()
    read_session = world.store.read_session
    swaps: list[str] = []

    def read_then_swap(hashed: str) -> Any:
        found = read_session(hashed)
        if not swaps:  # a concurrent update lands after the bet read the session, before it writes
            swaps.append(_swap_commitment(world, token))
        return found

    world.store.read_session = read_then_swap  # type: ignore[method-assign]
    with pytest.raises(CroupierError) as refused:
        bet(world, token)
    assert refused.value.code == "COMMITMENT_CHANGED"
    world.store.read_session = read_session  # type: ignore[method-assign]
    placed = bet(world, token)  # the next bet uses what is committed now, which the state shows
    assert placed["server_seed_hash"] == swaps[0]


def test_bets_answer_the_commitment_even_when_the_client_names_none_and_the_bad_hash_is_refused(world: World) -> None:
    token = world.launch()
    first = bet(world, token)
    second = bet(world, token)
    assert second["server_seed_hash"] == first["next_server_seed_hash"]
    with pytest.raises(CroupierError) as bad:
        world.game.bet(token, json.dumps({"amount_minor": 1_000, "server_seed_hash": "xyz"}).encode())
    assert bad.value.status == 400
