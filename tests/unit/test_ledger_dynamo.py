"""The ledger's data layer without DynamoDB: the item layout of dynamo.py's table, what a cancelled transaction
means (DynamoDB's ``CancellationReasons``, one per item in order), which failures are transient, cursors.

Whether DynamoDB itself enforces the conditions is for tests/integration/test_ledger_* (DynamoDB Local).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from botocore.exceptions import ClientError, ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError

from croupier.errors import BadRequest
from croupier.ledger import AccountKey, AccountState, Effect, Entry, Kind
from croupier.ledger.dynamo import (
    CommitPlan,
    CommitResult,
    DynamoLedgerStore,
    Failed,
    TransientStoreError,
    decode_cursor,
    encode_cursor,
    entry_from_item,
    entry_item,
)

ALICE = AccountKey("alice", "EUR")
NOW = "2026-11-29T12:00:00.000000Z"


class StubClient:
    """A DynamoDB client that answers each operation from a queue (an exception is raised) and keeps the calls."""

    def __init__(self, **answers: list[Any]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __getattr__(self, operation: str) -> Callable[..., Any]:
        def call(**kwargs: Any) -> Any:
            self.calls.append((operation, kwargs))
            answer = self.answers[operation].pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer

        return call


def store_on(client: StubClient) -> DynamoLedgerStore:
    return DynamoLedgerStore("WalletTable", lambda: client)


def client_error(code: str, reasons: list[dict[str, Any]] | None = None) -> ClientError:
    response: dict[str, Any] = {"Error": {"Code": code, "Message": code}}
    if reasons is not None:
        response["CancellationReasons"] = reasons
    return ClientError(response, "TransactWriteItems")  # type: ignore[arg-type]


def entry(tx_id: str = "bet-1", **changes: Any) -> Entry:
    fields: dict[str, Any] = {
        "provider": "ruby",
        "tx_id": tx_id,
        "kind": Kind.DEBIT,
        "account": ALICE,
        "amount": 1500,
        "delta": -1500,
        "balance_before": 10_000,
        "balance_after": 8_500,
        "version": 2,
        "created_at": NOW,
        "fingerprint": "f" * 32,
    }
    return Entry(**(fields | changes))


def account_item(balance: int, version: int) -> dict[str, Any]:
    return {
        "pk": {"S": "PLAYER#alice"},
        "sk": {"S": "ACCOUNT#EUR"},
        "player_id": {"S": "alice"},
        "currency": {"S": "EUR"},
        "balance": {"N": str(balance)},
        "version": {"N": str(version)},
    }


# --- items ---------------------------------------------------------------------------------------------


def test_an_entry_survives_its_item_with_every_field() -> None:
    full = entry(
        kind=Kind.REVERSAL,
        effect=Effect.ALREADY_REVERSED,
        target_tx_id="bet-0",
        reversed_by="rb-9",
        meta={"round": "r-1", "game": "crash"},
        signature="d" * 32,
        backs=0,
        credited_by="win-1",
    )
    assert entry_from_item(entry_item(full)) == full
    plain = entry()
    item = entry_item(plain)
    assert entry_from_item(item) == plain
    assert not {"target", "reversed_by", "meta", "sig", "backs", "credited_by"} & set(item)


def test_an_entry_is_stored_at_its_providers_transaction_id() -> None:
    item = entry_item(entry())
    assert (item["pk"], item["sk"]) == ({"S": "TX#ruby#bet-1"}, {"S": "TX"})


def test_the_account_index_lists_entries_in_version_order_and_no_placeholder() -> None:
    items = [entry_item(entry(version=v)) for v in (100, 9, 10)]
    assert {i["gsi1pk"]["S"] for i in items} == {"ENTRIES#alice#EUR"}
    assert [int(i["version"]["N"]) for i in sorted(items, key=lambda i: i["gsi1sk"]["S"])] == [9, 10, 100]
    for kind in (Kind.TOMBSTONE, Kind.MARKER):
        assert not {"gsi1pk", "gsi1sk"} & set(entry_item(entry(kind=kind, version=0)))


# --- reads ---------------------------------------------------------------------------------------------


def test_reads_find_the_items_where_the_table_keeps_them() -> None:
    stored = entry()
    client = StubClient(
        get_item=[
            {"Item": account_item(8_500, 2)},
            {"Item": entry_item(stored)},
            {"Item": {"player_id": {"S": "alice"}}},
        ]
        + [{}] * 3,
    )
    store = store_on(client)
    assert store.read_account(ALICE) == AccountState(8_500, 2)
    assert store.read_entry("ruby", "bet-1") == stored
    assert store.resolve_link("ruby", "1001") == "alice"
    assert (store.read_account(ALICE), store.read_entry("ruby", "x"), store.resolve_link("ruby", "x")) == (None,) * 3
    keys = [kwargs["Key"] for _, kwargs in client.calls[:3]]
    assert keys == [
        {"pk": {"S": "PLAYER#alice"}, "sk": {"S": "ACCOUNT#EUR"}},
        {"pk": {"S": "TX#ruby#bet-1"}, "sk": {"S": "TX"}},
        {"pk": {"S": "LINK#ruby#1001"}, "sk": {"S": "LINK"}},
    ]
    assert all(kwargs["ConsistentRead"] and kwargs["TableName"] == "WalletTable" for _, kwargs in client.calls)


def test_a_reversal_reads_its_own_entry_its_target_and_the_account_together() -> None:
    target = entry()
    client = StubClient(
        transact_get_items=[
            {"Responses": [{}, {"Item": entry_item(target)}, {"Item": account_item(8_500, 2)}]},
            {"Responses": [{"Item": entry_item(entry("rb-1"))}, {}, {}]},
        ]
    )
    store = store_on(client)
    assert store.read_for_reversal("ruby", "rb-1", "bet-1", ALICE) == (None, target, AccountState(8_500, 2))
    assert store.read_for_reversal("ruby", "rb-1", "bet-1", ALICE) == (entry("rb-1"), None, None)
    gets = [get["Get"]["Key"]["pk"]["S"] for get in client.calls[0][1]["TransactItems"]]
    assert gets == ["TX#ruby#rb-1", "TX#ruby#bet-1", "PLAYER#alice"]


@pytest.mark.parametrize(
    "error",
    [
        client_error("ThrottlingException"),
        client_error("ProvisionedThroughputExceededException"),
        client_error("TransactionConflictException"),
        client_error("InternalServerError"),
        ReadTimeoutError(endpoint_url="http://dynamodb"),
        ConnectTimeoutError(endpoint_url="http://dynamodb"),
        EndpointConnectionError(endpoint_url="http://dynamodb"),
    ],
    ids=lambda e: type(e).__name__ if not isinstance(e, ClientError) else e.response["Error"]["Code"],
)
def test_a_read_that_may_succeed_again_is_transient(error: Exception) -> None:
    with pytest.raises(TransientStoreError):
        store_on(StubClient(get_item=[error])).read_account(ALICE)


def test_a_read_refused_for_good_is_not_transient() -> None:
    with pytest.raises(ClientError):
        store_on(StubClient(get_item=[client_error("ValidationException")])).read_account(ALICE)


# --- the commit ----------------------------------------------------------------------------------------


def debit_plan(**changes: Any) -> CommitPlan:
    return CommitPlan(entry=entry(), expected=AccountState(10_000, 1), require_funds=1500, **changes)


def marker() -> Entry:
    return entry("tx:op-1", kind=Kind.MARKER, amount=0, delta=0, version=0, target_tx_id="bet-1")


def tombstone() -> Entry:
    return entry("bet-0", kind=Kind.TOMBSTONE, amount=0, delta=0, version=0, reversed_by="bet-1")


def commit_cancelled(plan: CommitPlan, reasons: list[dict[str, Any]]) -> CommitResult:
    return store_on(StubClient(transact_write_items=[client_error("TransactionCanceledException", reasons)])).commit(
        plan
    )


NONE = {"Code": "None"}
FAILED = {"Code": "ConditionalCheckFailed"}


def test_a_commit_is_one_transaction_under_the_plans_token() -> None:
    client = StubClient(transact_write_items=[{}])
    plan = debit_plan(marker=marker())
    assert store_on(client).commit(plan) == CommitResult(ok=True)
    (operation, kwargs), *_ = client.calls
    assert (operation, kwargs["ClientRequestToken"], len(kwargs["TransactItems"])) == (
        "transact_write_items",
        plan.token,
        3,
    )
    put = kwargs["TransactItems"][0]["Put"]
    assert entry_from_item(put["Item"]) == plan.entry


@pytest.mark.parametrize(
    ("plan", "failed"),
    [
        (debit_plan(mark_target="bet-0"), Failed.TARGET),
        (debit_plan(tombstone=tombstone()), Failed.TOMBSTONE),
        (debit_plan(marker=marker()), Failed.MARKER),
    ],
    ids=["target", "tombstone", "marker"],
)
def test_the_third_items_failed_condition_is_the_plans_extra_item(plan: CommitPlan, failed: Failed) -> None:
    result = commit_cancelled(plan, [NONE, NONE, FAILED])
    assert (result.ok, result.failed, result.existing, result.account) == (False, frozenset({failed}), None, None)


def test_a_failed_entry_condition_hands_back_the_stored_entry() -> None:
    stored = entry(amount=99)
    result = commit_cancelled(debit_plan(), [FAILED | {"Item": entry_item(stored)}, NONE])
    assert (result.failed, result.existing, result.account) == (frozenset({Failed.ENTRY_EXISTS}), stored, None)


def test_a_failed_account_condition_hands_back_the_account_or_none() -> None:
    newer = commit_cancelled(debit_plan(), [NONE, FAILED | {"Item": account_item(9_000, 3)}])
    assert (newer.failed, newer.account) == (frozenset({Failed.ACCOUNT}), AccountState(9_000, 3))
    missing = commit_cancelled(debit_plan(), [NONE, FAILED])
    assert (missing.failed, missing.account) == (frozenset({Failed.ACCOUNT}), None)


def test_several_failed_conditions_are_all_reported() -> None:
    result = commit_cancelled(debit_plan(), [FAILED | {"Item": entry_item(entry())}, FAILED])
    assert result.failed == frozenset({Failed.ENTRY_EXISTS, Failed.ACCOUNT})


def test_a_cancellation_without_a_failed_condition_is_transient() -> None:
    conflict = commit_cancelled(debit_plan(), [NONE, {"Code": "TransactionConflict"}])
    assert (conflict.ok, conflict.failed, conflict.transient) == (
        False,
        frozenset({Failed.TRANSIENT}),
        "TransactionConflict",
    )
    assert commit_cancelled(debit_plan(), []).transient == "cancelled"
    assert not conflict.uncertain


@pytest.mark.parametrize(
    ("error", "result"),
    [
        (
            client_error("IdempotentParameterMismatchException"),
            CommitResult(ok=False, failed=frozenset({Failed.TOKEN_REUSED})),
        ),
        (
            client_error("ThrottlingException"),
            CommitResult(ok=False, failed=frozenset({Failed.TRANSIENT}), transient="ThrottlingException"),
        ),
        (
            ReadTimeoutError(endpoint_url="http://dynamodb"),
            CommitResult(ok=False, failed=frozenset({Failed.TRANSIENT}), transient="ReadTimeoutError", uncertain=True),
        ),
        (
            ConnectTimeoutError(endpoint_url="http://dynamodb"),
            CommitResult(ok=False, failed=frozenset({Failed.TRANSIENT}), transient="ConnectTimeoutError"),
        ),
        (
            EndpointConnectionError(endpoint_url="http://dynamodb"),
            CommitResult(ok=False, failed=frozenset({Failed.TRANSIENT}), transient="EndpointConnectionError"),
        ),
    ],
    ids=["token reused", "throttled", "answer lost", "never connected", "no endpoint"],
)
def test_what_a_failed_commit_means(error: Exception, result: CommitResult) -> None:
    """Only an answer lost after the request left may have committed: a connection never made did not."""
    assert store_on(StubClient(transact_write_items=[error])).commit(debit_plan()) == result


def test_a_commit_refused_for_good_is_raised() -> None:
    with pytest.raises(ClientError):
        store_on(StubClient(transact_write_items=[client_error("ValidationException")])).commit(debit_plan())


def test_the_token_is_the_plans_and_changes_with_what_it_rests_on() -> None:
    plan = debit_plan()
    assert len(plan.token) == 36
    assert plan.token == debit_plan().token
    for other in (
        CommitPlan(entry=entry(), expected=AccountState(10_000, 2), require_funds=1500),
        CommitPlan(entry=entry(created_at="2026-11-29T12:00:00.000001Z"), expected=plan.expected),
        CommitPlan(entry=entry(fingerprint="e" * 32), expected=plan.expected),
        CommitPlan(entry=entry("bet-2"), expected=plan.expected),
        CommitPlan(entry=entry(provider="rgs"), expected=plan.expected),
    ):
        assert other.token != plan.token


# --- players -------------------------------------------------------------------------------------------


def test_a_new_player_has_an_empty_account_per_currency_and_its_links() -> None:
    client = StubClient(transact_write_items=[{}])
    assert store_on(client).create_player("alice", ["EUR", "USD"], {"ruby": "1001"}, NOW)
    items = [item["Put"]["Item"] for item in client.calls[0][1]["TransactItems"]]
    assert [(i["pk"]["S"], i["sk"]["S"]) for i in items] == [
        ("PLAYER#alice", "PROFILE"),
        ("PLAYER#alice", "ACCOUNT#EUR"),
        ("PLAYER#alice", "ACCOUNT#USD"),
        ("LINK#ruby#1001", "LINK"),
    ]
    assert [(i["balance"]["N"], i["version"]["N"]) for i in items[1:3]] == [("0", "0"), ("0", "0")]
    assert items[3]["player_id"] == {"S": "alice"}


def test_a_player_or_link_that_exists_is_not_created_again() -> None:
    taken = client_error("TransactionCanceledException", [NONE, FAILED])
    assert not store_on(StubClient(transact_write_items=[taken])).create_player("alice", ["EUR"], {}, NOW)
    for error in (client_error("TransactionCanceledException", [NONE]), client_error("ValidationException")):
        with pytest.raises(ClientError):
            store_on(StubClient(transact_write_items=[error])).create_player("alice", ["EUR"], {}, NOW)


def test_a_player_reads_back_with_its_accounts() -> None:
    profile = {
        "pk": {"S": "PLAYER#alice"},
        "sk": {"S": "PROFILE"},
        "player_id": {"S": "alice"},
        "currencies": {"L": [{"S": "EUR"}]},
        "links": {"M": {"ruby": {"S": "1001"}}},
        "created_at": {"S": NOW},
    }
    client = StubClient(query=[{"Items": [profile, account_item(8_500, 2)]}, {"Items": []}])
    store = store_on(client)
    assert store.read_player("alice") == (
        {"player_id": "alice", "currencies": ["EUR"], "links": {"ruby": "1001"}, "created_at": NOW},
        {"EUR": AccountState(8_500, 2)},
    )
    assert store.read_player("bob") == (None, {})


# --- listing and scanning --------------------------------------------------------------------------------


def test_entries_are_listed_a_page_at_a_time_from_the_accounts_index() -> None:
    last = {"pk": {"S": "TX#ruby#bet-1"}, "sk": {"S": "TX"}, "gsi1pk": {"S": "ENTRIES#alice#EUR"}, "gsi1sk": {"S": "2"}}
    client = StubClient(query=[{"Items": [entry_item(entry())], "LastEvaluatedKey": last}, {"Items": []}])
    store = store_on(client)
    entries, cursor = store.list_entries(ALICE, 1, None)
    assert (entries, decode_cursor(cursor or "")) == ([entry()], last)
    assert store.list_entries(ALICE, 1, cursor) == ([], None)
    first, second = (kwargs for _, kwargs in client.calls)
    assert (first["IndexName"], first["Limit"], "ExclusiveStartKey" in first) == ("gsi1", 1, False)
    assert first["ExpressionAttributeValues"] == {":pk": {"S": "ENTRIES#alice#EUR"}}
    assert second["ExclusiveStartKey"] == last


def test_a_cursor_of_another_account_or_not_ours_is_a_bad_request() -> None:
    theirs = encode_cursor(
        {"pk": {"S": "x"}, "sk": {"S": "TX"}, "gsi1pk": {"S": "ENTRIES#bob#EUR"}, "gsi1sk": {"S": "1"}}
    )
    client = StubClient(query=[])
    for cursor in (theirs, "not-base64!", encode_cursor({"pk": {"S": "x"}}), "W10", "eyJwayI6IDF9"):
        with pytest.raises(BadRequest) as raised:
            store_on(client).list_entries(ALICE, 10, cursor)
        assert raised.value.code == "INVALID_CURSOR"
    assert client.calls == []
    wrong_shape = encode_cursor({k: {"N": "1"} for k in ("pk", "sk", "gsi1pk", "gsi1sk")})
    with pytest.raises(BadRequest):
        decode_cursor(wrong_shape)


def test_a_well_formed_cursor_dynamodb_refuses_is_a_bad_request_and_otherwise_the_error_stands() -> None:
    ours = encode_cursor(
        {"pk": {"S": "x"}, "sk": {"S": "y"}, "gsi1pk": {"S": "ENTRIES#alice#EUR"}, "gsi1sk": {"S": "z"}}
    )
    refused = StubClient(query=[client_error("ValidationException")])
    with pytest.raises(BadRequest):
        store_on(refused).list_entries(ALICE, 10, ours)
    with pytest.raises(ClientError):
        store_on(StubClient(query=[client_error("ValidationException")])).list_entries(ALICE, 10, None)
    with pytest.raises(ClientError):
        store_on(StubClient(query=[client_error("AccessDeniedException")])).list_entries(ALICE, 10, ours)


def test_reconciliation_scans_every_page_for_accounts_and_entries() -> None:
    link = {"pk": {"S": "LINK#ruby#1001"}, "sk": {"S": "LINK"}, "player_id": {"S": "alice"}}
    client = StubClient(
        scan=[
            {"Items": [account_item(8_500, 2), link], "LastEvaluatedKey": {"pk": {"S": "a"}}},
            {"Items": [entry_item(entry())]},
        ]
    )
    accounts, entries = store_on(client).accounts_and_entries()
    assert (accounts, entries) == ({ALICE: AccountState(8_500, 2)}, [entry()])
    assert client.calls[1][1]["ExclusiveStartKey"] == {"pk": {"S": "a"}}
    assert all(kwargs["ConsistentRead"] for _, kwargs in client.calls)


def test_a_reason_that_is_not_a_failed_condition_never_hides_one_nor_the_conflict() -> None:
    """Reasons come one per item; "None" (or no code) is an item that was fine."""
    conflict_first = commit_cancelled(debit_plan(marker=marker()), [{"Code": "TransactionConflict"}, NONE, {}])
    assert (conflict_first.failed, conflict_first.transient) == (frozenset({Failed.TRANSIENT}), "TransactionConflict")
    both = commit_cancelled(debit_plan(), [{"Code": "TransactionConflict"}, FAILED | {"Item": account_item(9, 3)}])
    assert (both.failed, both.account) == (frozenset({Failed.ACCOUNT}), AccountState(9, 3))


def test_a_cursor_goes_in_a_query_string_as_it_is_and_a_bad_one_says_why() -> None:
    for version in (1, 22, 333):
        key = {
            "pk": {"S": f"TX#ruby#b-{version}"},
            "sk": {"S": "TX"},
            "gsi1pk": {"S": "E"},
            "gsi1sk": {"S": "0" * version},
        }
        cursor = encode_cursor(key)
        assert re.fullmatch(r"[A-Za-z0-9_-]+", cursor)
        assert decode_cursor(cursor) == key
    with pytest.raises(BadRequest) as raised:
        decode_cursor("W10")
    assert raised.value.message
    assert scan_table_name() == "WalletTable"


def scan_table_name() -> str:
    client = StubClient(scan=[{"Items": []}])
    store_on(client).accounts_and_entries()
    return str(client.calls[0][1]["TableName"])


def test_a_backed_credits_failed_backing_hands_back_the_backing_entry() -> None:
    plan = CommitPlan(
        entry=entry("win-1", kind=Kind.CREDIT, delta=1500, balance_after=11_500),
        expected=AccountState(10_000, 1),
        backed_by="bet-1",
    )
    client = StubClient(transact_write_items=[{}])
    store_on(client).commit(plan)
    backing = client.calls[0][1]["TransactItems"][2]["Update"]
    assert backing["Key"] == {"pk": {"S": "TX#ruby#bet-1"}, "sk": {"S": "TX"}}
    bet = entry("bet-1", backs=100)
    spent = commit_cancelled(plan, [NONE, NONE, FAILED | {"Item": entry_item(bet)}])
    assert (spent.failed, spent.backing, spent.existing, spent.account) == (
        frozenset({Failed.BACKING}),
        bet,
        None,
        None,
    )
    missing = commit_cancelled(plan, [NONE, NONE, FAILED])
    assert (missing.failed, missing.backing) == (frozenset({Failed.BACKING}), None)
    with_marker = commit_cancelled(
        replace(plan, marker=marker()), [NONE, NONE, NONE, FAILED | {"Item": entry_item(bet)}]
    )
    assert (with_marker.failed, with_marker.backing) == (frozenset({Failed.BACKING}), bet)
