"""The game recall's reads on DynamoDB Local (``RgsStore.player_rounds``): rounds of one instant are each
listed once, whatever page size, keys DynamoDB leaves unprocessed or throttles are asked again, and a table that stays
busy is 503 ``STORE_BUSY``, never a 500. The route itself is tested over HTTP in tests/e2e/test_rgs_recall.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from croupier.rgs.attempts import StoreBusy
from croupier.rgs.sealing import Sealer
from croupier.rgs.store import RoundKey
from tests.support.faults import FaultyClient, throttled
from tests.support.rgs_game import World, bet

pytestmark = pytest.mark.dynamodb_local

PLAYER = "recall-store-player"


@pytest.fixture
def world(real_client: Any, tmp_path: Path, rgs_sealer: Sealer) -> Iterator[tuple[World, FaultyClient]]:
    client = FaultyClient(real_client)
    created = World(client, tmp_path, sealer=rgs_sealer)
    created.store.attempts.sleep = lambda _: None  # the pauses are not what is tested here
    yield created, client
    created.wallet.stop()


def three_rounds_at_one_instant(world: World) -> list[str]:
    """The world's clock stands still: the three rounds share one ``created_at_ms``."""
    token = world.launch(PLAYER)
    return [bet(world, token, 100)["round_id"] for _ in range(3)]


def listed(world: World, **kwargs: Any) -> tuple[list[str], RoundKey | None]:
    operator_id = world.operator["operator_id"]
    query: dict[str, Any] = {"first_ms": 0, "last_ms": world.clock.ms, "limit": 10, **kwargs}
    rounds, more = world.store.player_rounds(operator_id, PLAYER, **query)
    return [stored.round.round_id for stored in rounds], more


def test_rounds_of_one_instant_are_each_listed_once_in_pages_of_one(world: tuple[World, FaultyClient]) -> None:
    game, _ = world
    placed = three_rounds_at_one_instant(game)
    every, more = listed(game)
    assert sorted(every) == sorted(placed)  # the index keeps no order among equal sort keys: any, but stable
    assert more is None
    pages: list[str] = []
    after: RoundKey | None = None
    for _ in range(3):
        page, after = listed(game, limit=1, after=after)
        pages += page
    assert pages == every
    assert after is None
    assert listed(game, first_ms=game.clock.ms + 1) == ([], None)


def test_keys_left_unprocessed_or_throttled_are_asked_again(world: tuple[World, FaultyClient]) -> None:
    game, client = world
    three_rounds_at_one_instant(game)
    every, _ = listed(game)
    tries = {"n": 0}

    def partial_then_real(operation: Any, kwargs: dict[str, Any]) -> Any:
        tries["n"] += 1
        if tries["n"] == 1:
            raise throttled("BatchGetItem")
        if tries["n"] == 2:  # one key unprocessed, as DynamoDB does past its per-call limits
            ((table, request),) = kwargs["RequestItems"].items()
            first, *rest = request["Keys"]
            answer = operation(RequestItems={table: {**request, "Keys": rest}})
            answer["UnprocessedKeys"] = {table: {**request, "Keys": [first]}}
            return answer
        return operation(**kwargs)

    client.faults["batch_get_item"] = partial_then_real
    assert listed(game)[0] == every
    assert tries["n"] == 3


def test_a_table_that_keeps_every_key_unprocessed_is_store_busy(world: tuple[World, FaultyClient]) -> None:
    game, client = world
    three_rounds_at_one_instant(game)

    def nothing_processed(_operation: Any, kwargs: dict[str, Any]) -> Any:
        return {"Responses": {}, "UnprocessedKeys": kwargs["RequestItems"]}

    client.faults["batch_get_item"] = nothing_processed
    with pytest.raises(StoreBusy):
        listed(game)
