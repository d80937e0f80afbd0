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
    decode_entries_cursor,
    encode_cursor,
    encode_entries_cursor,
    entry_from_item,
    entry_item,
)
from croupier.ledger.model import BrokenChain

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


def test_an_entry_carries_no_index_copy_and_the_commit_chains_it_to_the_accounts_head() -> None:
    """No gsi1 attributes any more (no index write); the entry's ``prev`` is the head of the state the plan rests
    on and the account's head moves to it; an account with entries but no head (written before the chain) gets
    ``legacy_from`` instead; a new account neither."""
    for kind in (Kind.DEBIT, Kind.CREDIT, Kind.REVERSAL, Kind.TOMBSTONE, Kind.MARKER):
        assert not {"gsi1pk", "gsi1sk", "prev"} & set(entry_item(entry(kind=kind)))
    for expected, linked in (
        (AccountState(10_000, 1, head="ruby#bet-0"), {"prev": {"S": "ruby#bet-0"}}),
        (AccountState(10_000, 1), {"legacy_from": {"N": "2"}}),
        (AccountState(10_000, 0), {}),
    ):
        client = StubClient(transact_write_items=[{}])
        assert store_on(client).commit(CommitPlan(entry=entry(), expected=expected)).ok
        put, update = (item for item in client.calls[0][1]["TransactItems"])
        assert {k: v for k, v in put["Put"]["Item"].items() if k in ("prev", "legacy_from")} == linked
        assert "head = :head" in update["Update"]["UpdateExpression"]
        assert update["Update"]["ExpressionAttributeValues"][":head"] == {"S": "ruby#bet-1"}
        assert update["Update"]["ConditionExpression"].startswith("version = :v")


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


def chained(tx_id: str, version: int, prev: str | None = None, **changes: Any) -> dict[str, Any]:
    """An entry's item as the chain stores it (``legacy``: as stored before the chain, with its gsi1 copy)."""
    legacy = changes.pop("legacy", False)
    item = entry_item(entry(tx_id, version=version, **changes))
    if prev is not None:
        item["prev"] = {"S": prev}
    if legacy:
        item |= {"gsi1pk": {"S": "ENTRIES#alice#EUR"}, "gsi1sk": {"S": f"{version:012d}"}}
    return item


def head_item(version: int, head: str | None) -> dict[str, Any]:
    return {"version": {"N": str(version)}} | ({"head": {"S": head}} if head else {})


def got(*items: dict[str, Any] | None) -> list[dict[str, Any]]:
    return [{"Item": i} if i else {} for i in items]


def versions(entries: list[Entry]) -> list[int]:
    return [e.version for e in entries]


def test_entries_are_listed_newest_first_walking_the_chain_one_consistent_read_an_entry() -> None:
    client = StubClient(
        get_item=got(
            head_item(3, "ruby#c"),
            chained("c", 3, "ruby#b"),
            chained("b", 2, "ruby#a"),
            chained("a", 1),
        )
    )
    store = store_on(client)
    entries, cursor = store.list_entries(ALICE, 2, None)
    assert ([e.tx_id for e in entries], versions(entries)) == (["c", "b"], [3, 2])
    assert len(client.calls) == 3, "the account, then one read an entry"
    assert store.list_entries(ALICE, 2, cursor) == ([entry("a", version=1)], None)
    assert len(client.calls) == 4, "a next page starts at the entry its cursor names"
    keys = [kwargs["Key"]["pk"]["S"] for _, kwargs in client.calls]
    assert keys == ["PLAYER#alice", "TX#ruby#c", "TX#ruby#b", "TX#ruby#a"]
    assert all(kwargs["ConsistentRead"] for _, kwargs in client.calls)
    assert {op for op, _ in client.calls} == {"get_item"}, "no index"


def test_an_account_without_entries_or_unknown_lists_nothing() -> None:
    for answer in got(head_item(0, None), None):
        assert store_on(StubClient(get_item=[answer])).list_entries(ALICE, 10, None) == ([], None)


def legacy_query(*versions_: int) -> dict[str, Any]:
    return {"Items": [chained(f"old-{v}", v, legacy=True) for v in versions_]}


def test_entries_written_before_the_chain_are_read_from_gsi1_below_the_first_chained_one() -> None:
    """A table of an earlier version: v1-v3 in gsi1 without ``prev``; v4 was the account's first chained entry."""
    client = StubClient(
        get_item=got(head_item(5, "ruby#e"), chained("e", 5, "ruby#d"), chained("d", 4)),
        query=[legacy_query(3, 2), legacy_query(1)],
    )
    store = store_on(client)
    entries, cursor = store.list_entries(ALICE, 4, None)
    assert versions(entries) == [5, 4, 3, 2]
    assert [e.tx_id for e in entries[2:]] == ["old-3", "old-2"]
    query = client.calls[3][1]
    assert (query["IndexName"], query["ScanIndexForward"], query["Limit"]) == ("gsi1", False, 2)
    assert query["KeyConditionExpression"] == "gsi1pk = :pk AND gsi1sk BETWEEN :low AND :high"
    assert query["ExpressionAttributeValues"] == {
        ":pk": {"S": "ENTRIES#alice#EUR"},
        ":low": {"S": "000000000001"},
        ":high": {"S": "000000000003"},
    }
    assert (versions(store.list_entries(ALICE, 4, cursor)[0]), len(client.calls)) == ([1], 5)
    only_legacy = StubClient(get_item=got(head_item(2, None)), query=[legacy_query(2, 1)])
    assert versions(store_on(only_legacy).list_entries(ALICE, 10, None)[0]) == [2, 1]


def test_entries_written_unchained_while_a_deployment_rolled_out_are_bridged_from_gsi1() -> None:
    """The former code wrote v3 (in gsi1, head untouched); v4 then linked to v2, the head it found."""
    client = StubClient(
        get_item=got(head_item(4, "ruby#d"), chained("d", 4, "ruby#b"), chained("b", 2, "ruby#a"), chained("a", 1)),
        query=[legacy_query(3)],
    )
    entries, cursor = store_on(client).list_entries(ALICE, 10, None)
    assert (versions(entries), cursor) == ([4, 3, 2, 1], None)


@pytest.mark.parametrize(
    "reached",
    [
        None,  # missing
        chained("b", 2, account=AccountKey("bob", "EUR")),  # another account's
        chained("b", 2, account=AccountKey("alice", "USD")),
        chained("b", 5),  # not older than the entry that links to it
        chained("b", 0, kind=Kind.TOMBSTONE),  # a placeholder
    ],
)
def test_a_walk_that_reaches_an_entry_not_of_its_chain_stops_with_an_error(reached: dict[str, Any] | None) -> None:
    client = StubClient(get_item=got(head_item(3, "ruby#c"), chained("c", 3, "ruby#b"), reached))
    with pytest.raises(BrokenChain) as raised:
        store_on(client).list_entries(ALICE, 10, None)
    assert (raised.value.status, raised.value.code) == (500, "LEDGER_CHAIN_BROKEN")


def test_a_walk_whose_older_entries_are_not_in_gsi1_stops_with_an_error() -> None:
    for answer in ({"Items": []}, legacy_query(2)):  # none, or not the versions asked for
        client = StubClient(get_item=got(head_item(4, "ruby#d"), chained("d", 4)), query=[answer])
        with pytest.raises(BrokenChain):
            store_on(client).list_entries(ALICE, 10, None)


def test_a_cursor_of_another_account_forged_or_not_ours_is_a_bad_request() -> None:
    theirs = encode_entries_cursor(AccountKey("bob", "EUR"), "ruby#b", 2)
    other_currency = encode_entries_cursor(AccountKey("alice", "USD"), "ruby#b", 2)
    shapes = [
        {"p": "alice", "c": "EUR", "k": "ruby#b", "v": 0},
        {"p": "alice", "c": "EUR", "k": "ruby#b", "v": "2"},
        {"p": "alice", "c": "EUR", "k": "ruby#b", "v": True},
        {"p": "alice", "c": "EUR", "k": "", "v": 2},
        {"p": "alice", "c": "EUR", "k": "x" * 1025, "v": 2},
        {"p": "alice", "c": "EUR", "k": 7, "v": 2},
        {"p": "alice", "c": "EUR", "v": 2},
        {"pk": {"S": "x"}, "sk": {"S": "TX"}, "gsi1pk": {"S": "ENTRIES#alice#EUR"}, "gsi1sk": {"S": "1"}},
    ]
    client = StubClient(get_item=[], query=[])
    for cursor in (theirs, other_currency, "not-base64!", "W10", "eyJwayI6IDF9", *map(encode_cursor, shapes)):
        with pytest.raises(BadRequest) as raised:
            store_on(client).list_entries(ALICE, 10, cursor)
        assert raised.value.code == "INVALID_CURSOR"
    assert client.calls == []


@pytest.mark.parametrize(
    "reached",
    [None, chained("b", 2, account=AccountKey("bob", "EUR")), chained("b", 3), chained("b", 0, kind=Kind.MARKER)],
)
def test_a_well_formed_cursor_that_leads_off_the_accounts_chain_is_a_bad_request(
    reached: dict[str, Any] | None,
) -> None:
    forged = encode_entries_cursor(ALICE, "ruby#b", 2)
    with pytest.raises(BadRequest) as raised:
        store_on(StubClient(get_item=got(reached))).list_entries(ALICE, 10, forged)
    assert raised.value.code == "INVALID_CURSOR"
    with pytest.raises(ClientError):  # a refusal that is not the cursor's stands
        store_on(StubClient(get_item=[client_error("AccessDeniedException")])).list_entries(ALICE, 10, forged)


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
        for key in (f"ruby#b-{version}", None, "rgs#round:é/ü?&=+"):
            cursor = encode_entries_cursor(ALICE, key, version)
            assert re.fullmatch(r"[A-Za-z0-9_-]+", cursor)
            assert decode_entries_cursor(cursor, ALICE) == (key, version)
    audit = {"pk": {"S": "AUDIT#alice"}, "sk": {"S": "x"}}
    assert decode_cursor(encode_cursor(audit)) == audit
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
