"""DynamoDB round trips per Ruby callback, counted on the very client the handlers use.

A botocore ``before-send`` hook on ``croupier.aws.dynamodb()`` sees every HTTP attempt (botocore's own
retries are off), so the counts below are what a Ruby callback costs in latency: one round trip for a
warm debit, credit, replay or balance; two for a rollback (read, then write); one for a rollback replay.
The handlers run through the local stack, which loads each function's module but shares the layer (and so
its module-level caches: the snapshot cache, the Ruby links, the boto3 client) within this process.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from croupier.ledger import Kind, Ledger, Movement
from croupier.wallet import wiring
from croupier_local import capacity
from croupier_local.apigw import build_event
from croupier_local.server import LocalStack
from tests.support.players import Player, cold_ruby_player, units
from tests.support.requests import ruby_request
from tests.support.round_trips import GET, READ_TX, WRITE, DynamoCalls

pytestmark = pytest.mark.dynamodb_local

FUNCTIONS = {
    "balance": "RubyBalanceFunction",
    "debit": "RubyDebitFunction",
    "credit": "RubyCreditFunction",
    "rollback": "RubyRollbackFunction",
}


# --- helpers ----------------------------------------------------------------------------------------------


def new_player(deposit: str) -> Player:
    """A fresh player linked to a fresh Ruby id, funded through a Ledger of its own.

    Nothing here touches the handlers' snapshot cache or their Ruby links: the player is cold for them.
    """
    return cold_ruby_player("rt", 2_000_000_000, deposit)


def ruby(stack: LocalStack, operation: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """A signed Ruby callback, as API Gateway hands it to the function."""
    request = ruby_request(operation, body)
    result = stack.invoke(FUNCTIONS[operation], build_event(request, route_key=f"POST /ruby/{operation}"))
    return result["statusCode"], json.loads(result["body"])


def tx() -> str:
    return f"rt-tx-{uuid.uuid4().hex}"


def key_of(body: dict[str, Any]) -> str:
    return str(body["Key"]["pk"]["S"])


# --- warm: one round trip per callback (two for a rollback) ---------------------------------------------


def test_warm_callbacks_cost_one_round_trip_and_a_rollback_two(local_stack: LocalStack, calls: DynamoCalls) -> None:
    player = new_player("1000.00")
    calls.take()
    assert ruby(local_stack, "balance", {"player_id": player.ruby_id}) == (200, {"balance": "1000.00"})
    assert calls.take() == [GET, GET], "a cold balance reads the link, then the account"

    debit = {"player_id": player.ruby_id, "amount": "100.00", "transaction_id": tx(), "round_id": "r1"}
    credit = {"player_id": player.ruby_id, "amount": "250.00", "transaction_id": tx(), "round_id": "r1"}

    assert ruby(local_stack, "debit", debit) == (200, {"balance": "900.00", "balance_before": "1000.00"})
    assert calls.take() == [WRITE], "warm debit"

    assert ruby(local_stack, "credit", credit) == (200, {"balance": "1150.00", "balance_before": "900.00"})
    assert calls.take() == [WRITE], "warm credit"

    assert ruby(local_stack, "debit", debit) == (200, {"balance": "900.00", "balance_before": "1000.00"})
    assert calls.take() == [WRITE], "debit replay: answered from ALL_OLD of the one write"

    assert ruby(local_stack, "credit", credit) == (200, {"balance": "1150.00", "balance_before": "900.00"})
    assert calls.take() == [WRITE], "credit replay"

    assert ruby(local_stack, "balance", {"player_id": player.ruby_id}) == (200, {"balance": "1150.00"})
    assert calls.take() == [GET], "balance is a live read, never the cache"

    rollback = {"player_id": player.ruby_id, "transaction_id": debit["transaction_id"]}
    assert ruby(local_stack, "rollback", rollback) == (200, {"balance": "1250.00"})
    assert calls.take() == [READ_TX, WRITE], "rollback: one consistent read, one write"

    assert ruby(local_stack, "rollback", rollback) == (200, {"balance": "1250.00"})
    assert calls.take() == [READ_TX], "rollback replay: the read finds the rollback's own entry"

    too_much = {"player_id": player.ruby_id, "amount": "5000.00", "transaction_id": tx()}
    status, body = ruby(local_stack, "debit", too_much)
    assert (status, body["error"]) == (402, "INSUFFICIENT_FUNDS")
    assert calls.take() == [WRITE], "insufficient funds is decided by the write's own condition"


def test_a_rollback_of_an_unknown_transaction_costs_two_round_trips_warm(
    local_stack: LocalStack, calls: DynamoCalls
) -> None:
    player = new_player("10.00")
    ruby(local_stack, "balance", {"player_id": player.ruby_id})
    calls.take()
    rollback = {"player_id": player.ruby_id, "transaction_id": tx()}
    assert ruby(local_stack, "rollback", rollback) == (200, {"balance": "10.00"})
    assert calls.take() == [READ_TX, WRITE]
    assert ruby(local_stack, "rollback", rollback) == (200, {"balance": "10.00"})
    assert calls.take() == [READ_TX]


# --- cold: the link and the account are read once, then cached --------------------------------------------


def test_cold_debit_reads_the_link_and_the_account_then_writes_once(
    local_stack: LocalStack, calls: DynamoCalls
) -> None:
    player = new_player("1000.00")
    calls.take()
    debit = {"player_id": player.ruby_id, "amount": "1.50", "transaction_id": tx()}
    assert ruby(local_stack, "debit", debit) == (200, {"balance": "998.50", "balance_before": "1000.00"})
    made = calls.take_requests()
    assert [name for name, _ in made] == [GET, GET, WRITE]
    assert key_of(made[0][1]) == f"LINK#ruby#{player.ruby_id}"
    assert key_of(made[1][1]) == f"PLAYER#{player.player_id}"
    assert made[1][1].get("ConsistentRead") is True

    second = {"player_id": player.ruby_id, "amount": "1.50", "transaction_id": tx()}
    assert ruby(local_stack, "debit", second) == (200, {"balance": "997.00", "balance_before": "998.50"})
    assert calls.take() == [WRITE], "the next debit is warm"


@pytest.mark.parametrize(
    ("operation", "expected"),
    [
        ("balance", [GET, GET]),
        ("credit", [GET, GET, WRITE]),
        ("rollback", [GET, READ_TX, WRITE]),
    ],
)
def test_cold_round_trips_of_the_other_callbacks(
    local_stack: LocalStack, calls: DynamoCalls, operation: str, expected: list[str]
) -> None:
    player = new_player("20.00")
    calls.take()
    body: dict[str, Any] = {"player_id": player.ruby_id}
    if operation != "balance":
        body["transaction_id"] = tx()
    if operation == "credit":
        body["amount"] = "5.00"
    status, _ = ruby(local_stack, operation, body)
    assert status == 200
    assert calls.take() == expected


# --- stale: the account moved behind this environment's back ----------------------------------------------


def test_stale_snapshot_costs_one_cancelled_write_and_no_extra_read(
    local_stack: LocalStack, calls: DynamoCalls
) -> None:
    player = new_player("1000.00")
    assert ruby(local_stack, "balance", {"player_id": player.ruby_id}) == (200, {"balance": "1000.00"})
    # another execution environment (its own cache) moves the account: this one's snapshot is now stale
    Ledger(wiring.ledger_store()).move(Movement("admin", tx(), player.account, Kind.CREDIT, units("500.00")))
    calls.take()

    debit = {"player_id": player.ruby_id, "amount": "100.00", "transaction_id": tx()}
    assert ruby(local_stack, "debit", debit) == (200, {"balance": "1400.00", "balance_before": "1500.00"})
    made = calls.take_requests()
    assert [name for name, _ in made] == [WRITE, WRITE], "cancelled on the version, retried with ALL_OLD's state"
    first, second = (update_of(body) for _, body in made)
    assert first[":v"] == {"N": "1"}, "the first attempt expected the stale version"
    assert second[":v"] == {"N": "2"}, "the second expected the version ALL_OLD handed back"

    again = {"player_id": player.ruby_id, "amount": "100.00", "transaction_id": tx()}
    assert ruby(local_stack, "debit", again) == (200, {"balance": "1300.00", "balance_before": "1400.00"})
    assert calls.take() == [WRITE], "the snapshot is fresh again"


def test_stale_snapshot_and_insufficient_funds_costs_two_writes(local_stack: LocalStack, calls: DynamoCalls) -> None:
    player = new_player("100.00")
    ruby(local_stack, "balance", {"player_id": player.ruby_id})
    Ledger(wiring.ledger_store()).move(Movement("admin", tx(), player.account, Kind.DEBIT, units("60.00")))
    calls.take()
    debit = {"player_id": player.ruby_id, "amount": "50.00", "transaction_id": tx()}
    status, body = ruby(local_stack, "debit", debit)
    assert (status, body["error"]) == (402, "INSUFFICIENT_FUNDS")
    assert calls.take() == [WRITE, WRITE]
    assert ruby(local_stack, "balance", {"player_id": player.ruby_id}) == (200, {"balance": "40.00"})


def update_of(body: dict[str, Any]) -> dict[str, Any]:
    """The account update's expression values in a TransactWriteItems request body."""
    for item in body["TransactItems"]:
        update = item.get("Update")
        if update is not None and update["Key"]["sk"]["S"].startswith("ACCOUNT#"):
            return dict(update["ExpressionAttributeValues"])
    raise AssertionError("no account update in the transaction")


# --- player protection: decided inside the one write ---------------------------------------------------------


def _write_units(client: Any, send: Any, reader: Any) -> tuple[Any, float]:
    """``send()``'s answer and the write units its transactions are billed (``croupier_local.capacity``: each
    item written sized, 2 units a KB, plus the index units DynamoDB Local reports with ``INDEXES``)."""
    sent: list[list[dict[str, Any]]] = []
    consumed: list[float] = []

    def ask(params: dict[str, Any], **_: Any) -> None:
        params["ReturnConsumedCapacity"] = "INDEXES"
        sent.append(params["TransactItems"])

    def add(parsed: dict[str, Any], **_: Any) -> None:
        def read(table: str, key: Any) -> Any:
            return reader.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")

        if "ConsumedCapacity" in parsed:  # committed (a cancelled transaction reports nothing)
            consumed.append(sum(capacity.transaction_write_units(sent[-1], read).values()))
            consumed.append(capacity.index_units(parsed["ConsumedCapacity"]))

    client.meta.events.register("before-parameter-build.dynamodb.TransactWriteItems", ask)
    client.meta.events.register("after-call.dynamodb.TransactWriteItems", add)
    try:
        return send(), sum(consumed)
    finally:
        client.meta.events.unregister("before-parameter-build.dynamodb.TransactWriteItems", ask)
        client.meta.events.unregister("after-call.dynamodb.TransactWriteItems", add)


def test_a_debit_with_limits_set_is_still_one_round_trip_and_writes_what_a_debit_without_writes(
    local_stack: LocalStack, calls: DynamoCalls, real_client: Any
) -> None:
    from croupier import aws
    from croupier.ledger.dynamo import AuditRecord
    from croupier.ledger.protection import Limit

    plain, limited = new_player("1000.00"), new_player("1000.00")
    store = wiring.ledger_store()
    limits = tuple(Limit(m, p, units("500.00")) for m in ("deposit", "loss", "wager") for p in ("day", "week", "month"))
    record = AuditRecord(limited.player_id, uuid.uuid4().hex, "2026-11-29T00:00:00Z", "test", "limits.set", "{}")
    assert store.change_protection(limited.player_id, {"KRW": 0}, record, limits=limits)
    for player in (plain, limited):  # warm: the link and the account cached
        assert ruby(local_stack, "balance", {"player_id": player.ruby_id})[0] == 200
    calls.take()

    units_of: dict[str, float] = {}
    for name, player in (("plain", plain), ("limited", limited)):
        debit = {"player_id": player.ruby_id, "amount": "100.00", "transaction_id": tx()}
        answer, units_of[name] = _write_units(
            aws.dynamodb(), lambda d=debit: ruby(local_stack, "debit", d), real_client
        )
        assert answer == (200, {"balance": "900.00", "balance_before": "1000.00"})
        made = calls.take_requests()
        assert [op for op, _ in made] == [WRITE], f"{name}: one round trip"
        update = made[0][1]["TransactItems"][1]["Update"]
        assert "win = :win" in update["UpdateExpression"], "the window counters are written by the debit itself"
        assert "prev" in update["ConditionExpression"], "the protection revision is part of the debit's condition"
    assert units_of["limited"] == units_of["plain"] == 4, "the entry and the account, 2 units each (one KB at most)"
    account = real_client.get_item(
        TableName="WalletTable",
        Key={"pk": {"S": f"PLAYER#{limited.player_id}"}, "sk": {"S": "ACCOUNT#KRW"}},
        ConsistentRead=True,
    )["Item"]
    assert {"head", "lim", "win", "prev"} <= set(account)
    assert len(account["lim"]["M"]) == 9
    assert capacity.item_size(account) <= 1024, "nine limits, their windows and the head: still one KB, 2 units a write"

    over = {"player_id": limited.ruby_id, "amount": "400.01", "transaction_id": tx()}
    status, body = ruby(local_stack, "debit", over)
    assert (status, body["error"]) == (403, "WAGER_LIMIT")
    assert calls.take() == [GET, GET], "a refusal reads the entry (a replay?) and the account live, writes nothing"


def test_each_movement_writes_only_its_entry_and_the_account(
    local_stack: LocalStack, calls: DynamoCalls, real_client: Any
) -> None:
    """Write units per operation (a transaction bills 2 a KB an item): a debit or a credit writes its entry and the
    account (4: no index copy of the entry), a rollback also marks its target (6) or leaves a tombstone (6), a
    replay writes nothing."""
    from croupier import aws

    player = new_player("1000.00")
    assert ruby(local_stack, "balance", {"player_id": player.ruby_id})[0] == 200  # warm: link and account cached
    debit = {"player_id": player.ruby_id, "amount": "100.00", "transaction_id": tx(), "round_id": "r1"}
    credit = {"player_id": player.ruby_id, "amount": "250.00", "transaction_id": tx(), "round_id": "r1"}
    rollback = {"player_id": player.ruby_id, "transaction_id": debit["transaction_id"]}
    unknown = {"player_id": player.ruby_id, "transaction_id": tx()}
    measured: dict[str, float] = {}
    for name, operation, body in (
        ("debit", "debit", debit),
        ("credit", "credit", credit),
        ("replay", "debit", debit),
        ("rollback", "rollback", rollback),
        ("rollback of an unknown transaction", "rollback", unknown),
    ):
        answer, measured[name] = _write_units(
            aws.dynamodb(), lambda o=operation, b=body: ruby(local_stack, o, b), real_client
        )
        assert answer[0] == 200, (name, answer)
    assert measured == {
        "debit": 4,
        "credit": 4,
        "replay": 0,
        "rollback": 6,
        "rollback of an unknown transaction": 6,
    }
