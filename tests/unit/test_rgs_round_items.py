"""The typed round reads the items the RGS stored before it and shows them as before, byte for byte.

``tests/data/rgs-round-items.json`` holds round items written by the code of before the typed round (a round
open with an automatic cash-out, a paid win, a crash) and one as stored before sealing (seed and crash point in
``round``, no ``max_payout_minor``), each with the player's, the operator's and the recall view that code
showed. Nothing here touches a socket: items in, views out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from croupier.rgs.reports import recall_view, round_view
from croupier.rgs.rounds import TRANSITIONS, Round, Settlement, may_move, player_view
from croupier.rgs.store import RgsStore, _round, round_item

FIXTURES: dict[str, Any] = json.loads(
    (Path(__file__).resolve().parents[1] / "data" / "rgs-round-items.json").read_text()
)


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_a_stored_round_shows_as_it_did(name: str) -> None:
    fixture = FIXTURES[name]
    stored = _round(fixture["item"])
    assert isinstance(stored.round, Round)
    assert player_view(stored, fixture["now_ms"]) == fixture["player_view"]
    assert round_view(stored, fixture["operator_id"]) == fixture["round_view"]
    assert recall_view(stored) == fixture["recall_view"]


@pytest.mark.parametrize("name", ["open_auto", "paid", "crashed"])
def test_a_rounds_json_is_written_as_it_was(name: str) -> None:
    item = FIXTURES[name]["item"]
    assert _round(item).round.public_json() == item["round"]["S"]


def test_a_new_rounds_item_is_the_item_of_before() -> None:
    """The item a bet stores, rebuilt from the typed round: the same attributes, the same bytes (the open
    round of the fixture, less what its move to open added, and its due time of then)."""
    item = FIXTURES["open_auto"]["item"]
    stored = _round(item)
    assert stored.sealed is not None
    rebuilt = round_item(stored.round, stored.sealed, "open", int(item["due_at"]["N"]))
    assert rebuilt == {
        name: value for name, value in item.items() if name not in ("started_at_ms", "bet_balance_minor")
    }


def test_a_sealed_round_refuses_to_give_what_it_seals() -> None:
    stored = _round(FIXTURES["open_auto"]["item"])
    assert stored.round.crash_cents is None
    assert stored.round.server_seed is None
    with pytest.raises(ValueError, match="sealed"):
        stored.round.sealed_part()


def test_a_move_its_life_does_not_have_is_refused_before_anything_is_written() -> None:
    def no_client() -> Any:
        raise AssertionError("nothing may be sent")

    store = RgsStore("RgsTable", no_client)
    for expected, status in [("paid", "open"), ("crashed", "paid"), ("void", "refunded"), ("placing", "paid")]:
        assert not may_move(expected, status)
        with pytest.raises(ValueError, match="does not move"):
            store.move_round("r_" + "0" * 32, expected, status, due_at_ms=None)
    with pytest.raises(ValueError, match="not settled"):
        store.settle_round("r_" + "0" * 32, "paid", Settlement(0, 0), due_at_ms=None, reveal={})
    assert all(may_move(expected, status) for expected, targets in TRANSITIONS.items() for status in targets)
