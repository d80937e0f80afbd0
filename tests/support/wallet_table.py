"""The wallet table read with a client of the test's own (nothing the code under test caches)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from croupier.ledger import AccountKey, AccountState

TABLE = "WalletTable"

Item = dict[str, Any]
BelowZero = Callable[[Item], None]
"""What must hold of an entry after which the balance is below zero."""


def n(item: Mapping[str, Any] | None, name: str) -> int:
    """A number attribute of an item that must be there."""
    assert item is not None
    return int(item[name]["N"])


def s(item: Mapping[str, Any] | None, name: str) -> str | None:
    """A string attribute of an item that must be there (``None`` when the attribute is not)."""
    assert item is not None
    value = item.get(name)
    return None if value is None else str(value["S"])


def scan_table(client: Any, table: str = TABLE) -> dict[tuple[str, str], Item]:
    """Every item of the table, by key (a consistent, paginated scan)."""
    items: dict[tuple[str, str], Item] = {}
    kwargs: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    while True:
        page = client.scan(**kwargs)
        for item in page["Items"]:
            items[(item["pk"]["S"], item["sk"]["S"])] = item
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def never_below_zero(entry: Item) -> None:
    raise AssertionError(f"balance went negative at {entry['pk']['S']}")


class Books:
    """The wallet table read with a client of the test's own (nothing the code under test caches).

    How :meth:`check` treats the chain is the test module's choice:

    * ``below_zero``: called with each entry after which the balance is below zero; ``never_below_zero`` (the
      default) fails there, ``None`` checks nothing.
    * ``sort_by_version``: sort the entries by version before checking their versions and balances (otherwise
      the order the chain links them in is checked too).
    """

    def __init__(
        self,
        client: Any,
        table: str = TABLE,
        *,
        below_zero: BelowZero | None = never_below_zero,
        sort_by_version: bool = False,
    ) -> None:
        self.client = client
        self.table = table
        self.below_zero = below_zero
        self.sort_by_version = sort_by_version

    def account_item(self, account: AccountKey) -> Item:
        key = {"pk": {"S": f"PLAYER#{account.player_id}"}, "sk": {"S": f"ACCOUNT#{account.currency}"}}
        item: Item = self.client.get_item(TableName=self.table, Key=key, ConsistentRead=True)["Item"]
        return item

    def account(self, account: AccountKey) -> AccountState:
        item = self.account_item(account)
        return AccountState(int(item["balance"]["N"]), int(item["version"]["N"]))

    def entry(self, provider: str, tx_id: str) -> Item | None:
        key = {"pk": {"S": f"TX#{provider}#{tx_id}"}, "sk": {"S": "TX"}}
        item: Item | None = self.client.get_item(TableName=self.table, Key=key, ConsistentRead=True).get("Item")
        return item

    def entries(self, account: AccountKey) -> list[Item]:
        """The account's entries, oldest first, as its chain links them: from the account's ``head`` back along
        each entry's ``prev`` (consistent reads), and below an entry without ``prev`` (written before the chain)
        from gsi1. An entry missing from the chain (a fork) makes the count differ from the account's version."""
        head = s(self.account_item(account), "head")
        newest_first: list[Item] = []
        while head is not None:
            item = self.entry(*head.split("#", 1))
            assert item is not None, f"the chain leads to {head!r}, which is not stored"
            assert (s(item, "player_id"), s(item, "currency")) == (account.player_id, account.currency)
            newest_first.append(item)
            head = s(item, "prev")
        below = n(newest_first[-1], "version") - 1 if newest_first else self.account(account).version
        return self.unchained(account, below) + newest_first[::-1]

    def unchained(self, account: AccountKey, below: int) -> list[Item]:
        """The account's entries up to version ``below`` written before the chain, as gsi1 holds them."""
        if below < 1:
            return []
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": "gsi1",
            "KeyConditionExpression": "gsi1pk = :pk AND gsi1sk <= :below",
            "ExpressionAttributeValues": {
                ":pk": {"S": f"ENTRIES#{account.player_id}#{account.currency}"},
                ":below": {"S": f"{below:012d}"},
            },
        }
        items: list[Item] = []
        while True:
            page = self.client.query(**kwargs)
            items.extend(page["Items"])
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def totals(self, account: AccountKey) -> tuple[AccountState, list[Item]]:
        """Balance = Σ delta, version = number of entries."""
        state = self.account(account)
        entries = self.entries(account)
        assert state.balance == sum(n(e, "delta") for e in entries), "balance differs from the sum of deltas"
        assert state.version == len(entries), "version differs from the number of entries"
        return state, entries

    def check(self, account: AccountKey) -> tuple[AccountState, list[Item]]:
        """Balance = Σ delta, version = number of entries, versions 1..n and an unbroken balance chain (below
        zero only as ``below_zero`` allows)."""
        state, entries = self.totals(account)
        if self.sort_by_version:
            entries.sort(key=lambda e: n(e, "version"))
        assert [n(e, "version") for e in entries] == list(range(1, len(entries) + 1))
        running = 0
        for entry in entries:
            assert n(entry, "balance_before") == running, f"chain broken at {entry['pk']['S']}"
            running += n(entry, "delta")
            assert n(entry, "balance_after") == running
            if running < 0 and self.below_zero is not None:
                self.below_zero(entry)
        return state, entries

    def scan(self) -> dict[tuple[str, str], Item]:
        """Every item of the wallet table (consistent, paginated)."""
        return scan_table(self.client, self.table)

    def player_items(self, *accounts: AccountKey) -> list[tuple[AccountState, list[str]]]:
        """A cheap snapshot of what a request for these accounts could write: account states and entries."""
        return [(self.account(a), sorted(json.dumps(e, sort_keys=True) for e in self.entries(a))) for a in accounts]

    def items_of(self, account: AccountKey) -> tuple[Item, list[Item]]:
        """The account item as stored (every attribute) and its entries."""
        return self.account_item(account), self.entries(account)
