"""Settlement on DynamoDB Local when the table misbehaves: a cash-out the server honours is recorded by one
conditional write on the round, retried with jitter through throttling, transaction conflicts and lost
answers (resolved by reading the round again), never lost and never paid twice."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError

from croupier.rgs.curve import payout_minor, time_to_reach
from croupier.rgs.sealing import Sealer
from tests.support.faults import FaultyClient, conflicted, throttled
from tests.support.rgs_game import World, cash_out, crash_of, winning_round

SETTLING = ("update_item", "transact_write_items")


def touches_settlement(kwargs: dict[str, Any]) -> bool:
    """Whether a write settles a round (today's transaction or a single update)."""
    writes = [item["Update"] for item in kwargs.get("TransactItems", []) if "Update" in item] or [kwargs]
    return any("settlement" in write.get("UpdateExpression", "") for write in writes)


def conflict_for(operation: str) -> ClientError:
    if operation == "transact_write_items":
        return conflicted(operation)
    return ClientError(
        {"Error": {"Code": "TransactionConflictException", "Message": "Transaction is ongoing for the item"}},
        operation,
    )


def first_settlement_fails(how: str) -> Callable[[Callable[..., Any], dict[str, Any]], Any]:
    """A fault on the first write that settles a round: a conflict, throttling, or the answer lost after the
    write was applied; every other call (and the next try) goes through."""
    done = [False]

    def fault(operation: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
        if done[0] or not touches_settlement(kwargs):
            return operation(**kwargs)
        done[0] = True
        name = operation.__name__
        if how == "conflict":
            raise conflict_for(name)
        if how == "throttled":
            raise throttled(name)
        answer = operation(**kwargs)
        assert answer is not None
        raise ReadTimeoutError(endpoint_url="http://dynamodb-local/")  # applied, answer lost

    return fault


@pytest.fixture
def faulty(real_client: Any, tmp_path: Path, rgs_sealer: Sealer) -> Any:
    client = FaultyClient(real_client)
    world = World(client, tmp_path, sealer=rgs_sealer)
    attempts = getattr(world.store, "attempts", None)
    if attempts is not None:
        attempts.sleep = lambda _: None  # the pauses are not what is tested here
    yield world, client
    world.wallet.stop()


@pytest.mark.parametrize("how", ["conflict", "throttled", "lost"])
def test_a_cash_out_that_meets_a_transient_failure_is_honoured_and_paid_once(faulty: Any, how: str) -> None:
    world, client = faulty
    token = world.launch()
    placed = winning_round(world, token)
    world.clock.ms += time_to_reach(150)
    for name in SETTLING:
        client.faults[name] = first_settlement_fails(how)
    view = cash_out(world, token, placed["round_id"])  # before: 500 (the ClientError escaped), the round open
    assert view["status"] == "paid"
    assert (view["cash_out"], view["payout_minor"]) == ("1.50", payout_minor(1_000, 150, 2000))
    assert len(world.wallet.calls("win")) == 1
    stored = world.store.read_round(placed["round_id"])
    assert stored is not None
    assert stored.status == "paid"


@pytest.mark.parametrize("how", ["conflict", "lost"])
def test_an_automatic_settlement_that_meets_a_transient_failure_is_recorded(faulty: Any, how: str) -> None:
    world, client = faulty
    token = world.launch()
    placed = winning_round(world, token)
    crash = crash_of(world, placed["round_id"])
    world.clock.ms += time_to_reach(crash) + 1
    for name in SETTLING:
        client.faults[name] = first_settlement_fails(how)
    stored = world.store.read_round(placed["round_id"])
    assert stored is not None
    after = world.game.settle_if_due(stored, world.clock.ms)
    assert after.status == "crashed"
    assert after.fields["settlement"]["payout_minor"] == 0


def test_the_house_share_is_fixed_on_the_round_when_it_is_settled(faulty: Any) -> None:
    world, _ = faulty
    token = world.launch()
    placed = winning_round(world, token)
    world.clock.ms += time_to_reach(150)
    cash_out(world, token, placed["round_id"])
    stored = world.store.read_round(placed["round_id"])
    assert stored is not None
    assert stored.fields["settlement"]["house_share"] == "0.15"
