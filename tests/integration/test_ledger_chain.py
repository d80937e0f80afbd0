"""An account's entries as a chain on DynamoDB Local: the account's ``head`` names its newest entry, each entry's
``prev`` the one before. The version condition of the one transaction keeps the chain from forking; the statement
walks it newest first, across entries written before the chain (tables of earlier versions, read from gsi1)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from croupier.ledger import AccountKey, AccountState, Entry, Kind, Ledger, Movement
from croupier.ledger.dynamo import CommitPlan, DynamoLedgerStore, Failed, entry_item
from croupier.ledger.model import BrokenChain
from croupier.ledger.reconcile import problems
from tests.support.wallet_table import TABLE, Books, s, scan_table

pytestmark = pytest.mark.dynamodb_local
NOW = "2026-11-29T12:00:00.000000Z"


@pytest.fixture(scope="module")
def store(real_client: Any) -> DynamoLedgerStore:
    return DynamoLedgerStore(TABLE, lambda: real_client)


@pytest.fixture(scope="module")
def books(real_client: Any) -> Books:
    return Books(real_client)


def new_account(store: DynamoLedgerStore) -> AccountKey:
    player = f"chain-{uuid.uuid4().hex[:12]}"
    assert store.create_player(player, ["EUR"], {}, NOW)
    return AccountKey(player, "EUR")


def movement(account: AccountKey, kind: Kind = Kind.CREDIT, amount: int = 100) -> Movement:
    return Movement("chain", f"tx-{uuid.uuid4().hex[:12]}", account, kind, amount)


def planned(account: AccountKey, state: AccountState, amount: int) -> CommitPlan:
    tx_id = f"tx-{uuid.uuid4().hex[:12]}"
    entry = Entry(
        "chain", tx_id, Kind.CREDIT, account, amount, amount, state.balance, state.balance + amount,
        state.version + 1, NOW, "f" * 32,
    )  # fmt: skip
    return CommitPlan(entry=entry, expected=state)


def account_entries(client: Any, account: AccountKey) -> set[str]:
    """The account's entries as a scan finds them (keys ``<provider>#<tx id>``), whatever links them."""
    return {
        item["pk"]["S"].removeprefix("TX#")
        for item in scan_table(client).values()
        if item["sk"]["S"] == "TX"
        and (s(item, "player_id"), s(item, "currency")) == (account.player_id, account.currency)
        and s(item, "kind") in ("debit", "credit", "reversal")
    }


def walked(store: DynamoLedgerStore, account: AccountKey, limit: int = 2) -> list[Entry]:
    """Every entry of the statement, page after page of ``limit``."""
    entries, cursor = store.list_entries(account, limit, None)
    while cursor is not None:
        page, cursor = store.list_entries(account, limit, cursor)
        entries.extend(page)
    return entries


def remove(client: Any, account: AccountKey, keys: set[str]) -> None:
    """Take a test's deliberately broken account out of the table (the session reconciles what is left)."""
    for key in keys:
        client.delete_item(TableName=TABLE, Key={"pk": {"S": f"TX#{key}"}, "sk": {"S": "TX"}})
    for sk in ("PROFILE", f"ACCOUNT#{account.currency}"):
        client.delete_item(TableName=TABLE, Key={"pk": {"S": f"PLAYER#{account.player_id}"}, "sk": {"S": sk}})


def test_movements_are_chained_and_listed_newest_first(store: DynamoLedgerStore, books: Books) -> None:
    account = new_account(store)
    ledger = Ledger(store)
    moved = [ledger.move(movement(account, amount=a)).entry for a in (500, 100, 200)]
    moved.append(ledger.move(movement(account, Kind.DEBIT, 300)).entry)
    assert store.read_account(account) == AccountState(500, 4)
    assert s(books.account_item(account), "head") == moved[-1].key
    assert [(e.tx_id, e.version) for e in walked(store, account)] == [(e.tx_id, e.version) for e in moved[::-1]]
    assert [s(i, "prev") for i in books.entries(account)] == [None, *(e.key for e in moved[:-1])]
    assert not any("gsi1pk" in i or "legacy_from" in i for i in books.entries(account))
    books.check(account)


def test_two_movements_planned_on_one_state_cannot_both_commit_so_the_chain_never_forks(
    store: DynamoLedgerStore, books: Books, real_client: Any
) -> None:
    account = new_account(store)
    Ledger(store).move(movement(account))
    state = store.read_account(account)
    assert state is not None
    first, second = planned(account, state, 7), planned(account, state, 9)
    assert store.commit(first).ok
    refused = store.commit(second)
    assert refused.failed == frozenset({Failed.ACCOUNT}), "the version condition refuses the second link to one head"
    assert {e.key for e in walked(store, account)} == account_entries(real_client, account)
    books.check(account)


class WithoutVersionCondition:
    """The test's client, with the account update's ``version = :v`` condition taken out of every transaction."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)

    def transact_write_items(self, **kwargs: Any) -> Any:
        for item in kwargs["TransactItems"]:
            update = item.get("Update")
            if update and update["Key"]["sk"]["S"].startswith("ACCOUNT#"):
                update["ConditionExpression"] = update["ConditionExpression"].replace("version = :v AND ", "")
                update["ExpressionAttributeValues"].pop(":v")
        return self.client.transact_write_items(**kwargs)


def test_without_the_version_condition_the_chain_forks_and_the_statement_loses_an_entry(
    store: DynamoLedgerStore, real_client: Any
) -> None:
    """What the test above guards against, done: both plans commit, both link to the same head, and the walk
    from the account's head never meets the first (the scan still finds it)."""
    account = new_account(store)
    Ledger(store).move(movement(account))
    state = store.read_account(account)
    assert state is not None
    careless = DynamoLedgerStore(TABLE, lambda: WithoutVersionCondition(real_client))
    first, second = planned(account, state, 7), planned(account, state, 9)
    try:
        assert careless.commit(first).ok
        assert careless.commit(second).ok, "nothing stops a second entry on the same head"
        lost = account_entries(real_client, account) - {e.key for e in walked(store, account)}
        assert lost == {first.entry.key}
    finally:
        remove(real_client, account, account_entries(real_client, account))


def legacy_account(client: Any, balances: list[int]) -> tuple[AccountKey, list[Entry]]:
    """An account as tables of earlier versions hold it: entries with their gsi1 copy and no ``prev``, an
    account without ``head``."""
    account = AccountKey(f"legacy-{uuid.uuid4().hex[:12]}", "EUR")
    entries, before = [], 0
    for version, after in enumerate(balances, start=1):
        entry = Entry(
            "chain", f"old-{uuid.uuid4().hex[:12]}", Kind.CREDIT if after >= before else Kind.DEBIT, account,
            abs(after - before), after - before, before, after, version, NOW, "f" * 32,
        )  # fmt: skip
        item = entry_item(entry) | {
            "gsi1pk": {"S": f"ENTRIES#{account.player_id}#EUR"},
            "gsi1sk": {"S": f"{version:012d}"},
        }
        client.put_item(TableName=TABLE, Item=item)
        entries.append(entry)
        before = after
    client.put_item(
        TableName=TABLE,
        Item={
            "pk": {"S": f"PLAYER#{account.player_id}"},
            "sk": {"S": "ACCOUNT#EUR"},
            "player_id": {"S": account.player_id},
            "currency": {"S": "EUR"},
            "balance": {"N": str(before)},
            "version": {"N": str(len(balances))},
            "updated_at": {"S": NOW},
        },
    )
    return account, entries


def test_an_account_of_before_the_chain_lists_everything_in_order_across_the_seam(
    store: DynamoLedgerStore, books: Books, real_client: Any
) -> None:
    account, old = legacy_account(real_client, [1000, 400, 900])
    assert [e.version for e in walked(store, account)] == [3, 2, 1], "no chained entry yet: all from gsi1"
    ledger = Ledger(store)
    new = [ledger.move(movement(account, amount=a)).entry for a in (50, 25)]
    items = {s(i, "tx_id"): i for i in books.entries(account)}
    assert items[new[0].tx_id]["legacy_from"] == {"N": "4"}
    assert "prev" not in items[new[0].tx_id]
    assert s(items[new[1].tx_id], "prev") == new[0].key
    for limit in (1, 2, 3, 10):  # the seam inside a page and between pages
        listed = walked(store, account, limit)
        assert [e.tx_id for e in listed] == [e.tx_id for e in (old + new)[::-1]], limit
    state, _ = books.check(account)
    assert state == AccountState(975, 5)
    assert problems(store.read_account(account), sorted(walked(store, account), key=lambda e: e.version)) == []


@pytest.fixture
def broken_link(store: DynamoLedgerStore, real_client: Any) -> Iterator[tuple[AccountKey, str]]:
    """An account whose newest entry's ``prev`` was changed to name another account's entry (put back after)."""
    account, other = new_account(store), new_account(store)
    ledger = Ledger(store)
    ledger.move(movement(account))
    newest = ledger.move(movement(account)).entry
    stranger = ledger.move(movement(other)).entry
    key = {"pk": {"S": f"TX#{newest.key}"}, "sk": {"S": "TX"}}
    was = real_client.get_item(TableName=TABLE, Key=key, ConsistentRead=True)["Item"]["prev"]
    set_prev = {"TableName": TABLE, "Key": key, "UpdateExpression": "SET prev = :p"}
    real_client.update_item(**set_prev, ExpressionAttributeValues={":p": {"S": stranger.key}})
    yield account, stranger.key
    real_client.update_item(**set_prev, ExpressionAttributeValues={":p": was})


def test_a_walk_that_reaches_another_accounts_entry_stops_with_an_error(
    store: DynamoLedgerStore, broken_link: tuple[AccountKey, str]
) -> None:
    account, stranger = broken_link
    assert len(store.list_entries(account, 1, None)[0]) == 1, "the page before the broken link is fine"
    with pytest.raises(BrokenChain) as raised:
        store.list_entries(account, 2, None)
    assert stranger in raised.value.message


# --- the admin route ---------------------------------------------------------------------------------------


def statement(stack: Any, account: AccountKey, **query: str) -> tuple[int, dict[str, Any]]:
    from urllib.parse import urlencode

    from croupier_local.apigw import HttpRequest, build_event

    request = HttpRequest(
        "GET", f"/admin/players/{account.player_id}/entries", urlencode({"currency": account.currency, **query})
    )
    event = build_event(
        request,
        route_key="GET /admin/players/{player_id}/entries",
        path_parameters={"player_id": account.player_id},
    )
    result = stack.invoke("AdminListEntriesFunction", event)
    return result["statusCode"], json.loads(result["body"])


def test_the_statement_route_pages_newest_first_and_refuses_another_accounts_cursor(
    local_stack: Any, store: DynamoLedgerStore
) -> None:
    account, other = new_account(store), new_account(store)
    ledger = Ledger(store)
    moved = [ledger.move(movement(account, amount=a)).entry.tx_id for a in (100, 200, 300)]
    ledger.move(movement(other))
    status, first = statement(local_stack, account, limit="2")
    assert (status, [i["transaction_id"] for i in first["items"]]) == (200, moved[:0:-1])
    status, second = statement(local_stack, account, limit="2", cursor=first["next_cursor"])
    assert (status, [i["transaction_id"] for i in second["items"]], second["next_cursor"]) == (200, moved[:1], None)
    status, _ = statement(local_stack, other, limit="2")
    assert status == 200
    status, refused = statement(local_stack, other, cursor=first["next_cursor"])
    assert (status, refused["error"]) == (400, "INVALID_CURSOR")


def test_the_statement_route_answers_a_broken_chain_as_a_documented_500(
    local_stack: Any, broken_link: tuple[AccountKey, str]
) -> None:
    account, _ = broken_link
    status, body = statement(local_stack, account)
    assert (status, body["error"]) == (500, "LEDGER_CHAIN_BROKEN")
