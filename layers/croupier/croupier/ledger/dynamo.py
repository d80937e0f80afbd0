"""The ledger's data layer: the only code that speaks DynamoDB for the wallet table.

Items (one table, ``pk``/``sk``):

| item | pk | sk | attributes |
|---|---|---|---|
| player | ``PLAYER#<id>`` | ``PROFILE`` | currencies, links, created_at |
| account | ``PLAYER#<id>`` | ``ACCOUNT#<cur>`` | balance, version (internal units; entries written), head (the key |
| | | | ``<provider>#<tx id>`` of its newest entry); protection: prev (revision), excl (the player's |
| | | | exclusion), lim (limits), win (window counters) |
| link | ``LINK#<provider>#<external id>`` | ``LINK`` | player_id (immutable) |
| entry | ``TX#<provider>#<tx id>`` | ``TX`` | the :class:`Entry`; prev (the account's head it followed) |
| audit | ``AUDIT#<id>`` | ``<time>#<record id>`` | one change to the player's protection (immutable) |

**The chain.** An account's entries form a list, newest first: the account's ``head`` names its newest entry and
each entry's ``prev`` the one before (none for version 1). A movement writes its entry with ``prev`` = the head of
the state it was planned on and moves the head to itself, in the one transaction whose ``version = expected``
condition proves that state current: two movements planned on one state cannot both commit, so the chain never
forks. The statement (:meth:`DynamoLedgerStore.list_entries`) walks it from the head, one consistent GetItem an
entry; it costs no write at all (the former GSI copy of every entry cost a debit 2 of its 6 write units).

*Entries written before the chain* (tables of earlier versions) carry ``gsi1pk = ENTRIES#<id>#<cur>`` /
``gsi1sk = <version:012d>`` and no ``prev``, and their account no ``head``: the first chained entry of such an
account stores ``legacy_from`` (its version) instead of ``prev``, and the walk reads versions below it from the
sparse GSI ``gsi1`` (newest first); a chained entry of lower version than the walk expects (an entry written by
the former code while a deployment was rolling out) is bridged the same way.

An entry may also hold ``sig`` (a digest of the signature its request arrived with), ``backs`` (a debit's room
for the credits it backs) and ``credited_by`` (the last credit it backed).

A movement is one ``TransactWriteItems``: put the entry if absent, update the account if its version and
protection revision are the expected ones (and, for a debit, if the funds are there; its window counters are
written as decided from that very state, :mod:`croupier.ledger.protection`), for a backed credit take its amount from
the backing debit's room (if that debit is the same account's, not reversed, with room enough), and for a
reversal mark the target (if it backed no credit) or leave a tombstone at its key. Every item asks for
``ALL_OLD`` on a failed condition, so a replay, a stale snapshot or a tombstone is answered from the same
round trip.
"""

from __future__ import annotations

import base64
import functools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal, NoReturn, TypeVar

from botocore.exceptions import ClientError, ConnectionClosedError, ConnectTimeoutError, EndpointConnectionError
from botocore.exceptions import ReadTimeoutError as BotoReadTimeout

from croupier.ledger.model import AccountKey, AccountState, BrokenChain, Effect, Entry, Kind
from croupier.ledger.protection import NO_PROTECTION, Exclusion, ExclusionKind, Limit, Protection, Window
from croupier.ledger.store import OK, CommitPlan, CommitResult, Failed, LedgerStore, TransientStoreError

__all__ = [  # the port's types, importable from here as before
    "OK",
    "CommitPlan",
    "CommitResult",
    "DynamoLedgerStore",
    "Failed",
    "LedgerStore",
    "TransientStoreError",
]

T = TypeVar("T")
TX_SK = "TX"
PROFILE_SK = "PROFILE"
TRANSIENT_CODES = frozenset(
    {
        "TransactionConflict",
        "TransactionConflictException",
        "ThrottlingError",
        "ThrottlingException",
        "ProvisionedThroughputExceeded",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "TransactionInProgressException",
        "InternalServerError",
        "ServiceUnavailable",
    }
)
NETWORK_ERRORS = (BotoReadTimeout, ConnectTimeoutError, EndpointConnectionError, ConnectionClosedError)


def _transient_reads(method: Callable[..., T]) -> Callable[..., T]:
    """Turn a read's transient failures into :class:`TransientStoreError` (retried by the ledger)."""

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        try:
            return method(*args, **kwargs)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in TRANSIENT_CODES:
                raise TransientStoreError(error.response["Error"]["Code"]) from error
            raise
        except NETWORK_ERRORS as error:
            raise TransientStoreError(type(error).__name__) from error

    return wrapper


def entry_pk(provider: str, tx_id: str) -> str:
    return f"TX#{provider}#{tx_id}"


def account_pk(player_id: str) -> str:
    return f"PLAYER#{player_id}"


def account_sk(currency: str) -> str:
    return f"ACCOUNT#{currency}"


def link_pk(provider: str, external_id: str) -> str:
    return f"LINK#{provider}#{external_id}"


def audit_pk(player_id: str) -> str:
    return f"AUDIT#{player_id}"


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """An immutable record of one change to a player's protection: who (the IAM principal), when, what."""

    player_id: str
    record_id: str
    at: str
    principal: str
    action: str
    detail: str
    """The change as a JSON text (what was asked and what it set)."""


def audit_item(record: AuditRecord) -> dict[str, Any]:
    return {
        "pk": {"S": audit_pk(record.player_id)},
        "sk": {"S": f"{record.at}#{record.record_id}"},
        "player_id": {"S": record.player_id},
        "record_id": {"S": record.record_id},
        "at": {"S": record.at},
        "principal": {"S": record.principal},
        "action": {"S": record.action},
        "detail": {"S": record.detail},
    }


def audit_from_item(item: dict[str, Any]) -> AuditRecord:
    return AuditRecord(
        player_id=item["player_id"]["S"],
        record_id=item["record_id"]["S"],
        at=item["at"]["S"],
        principal=item["principal"]["S"],
        action=item["action"]["S"],
        detail=item["detail"]["S"],
    )


def entries_gsi_pk(account: AccountKey) -> str:
    return f"ENTRIES#{account.player_id}#{account.currency}"


# --- item codecs -------------------------------------------------------------------------------------


def entry_item(entry: Entry) -> dict[str, Any]:
    item: dict[str, Any] = {
        "pk": {"S": entry_pk(entry.provider, entry.tx_id)},
        "sk": {"S": TX_SK},
        "provider": {"S": entry.provider},
        "tx_id": {"S": entry.tx_id},
        "kind": {"S": entry.kind.value},
        "player_id": {"S": entry.account.player_id},
        "currency": {"S": entry.account.currency},
        "amount": {"N": str(entry.amount)},
        "delta": {"N": str(entry.delta)},
        "balance_before": {"N": str(entry.balance_before)},
        "balance_after": {"N": str(entry.balance_after)},
        "version": {"N": str(entry.version)},
        "created_at": {"S": entry.created_at},
        "fp": {"S": entry.fingerprint},
        "effect": {"S": entry.effect.value},
    }
    if entry.target_tx_id is not None:
        item["target"] = {"S": entry.target_tx_id}
    if entry.reversed_by is not None:
        item["reversed_by"] = {"S": entry.reversed_by}
    if entry.meta:
        item["meta"] = {"M": {k: {"S": v} for k, v in entry.meta.items()}}
    if entry.signature:
        item["sig"] = {"S": entry.signature}
    if entry.backs is not None:
        item["backs"] = {"N": str(entry.backs)}
    if entry.credited_by is not None:
        item["credited_by"] = {"S": entry.credited_by}
    return item


def entry_from_item(item: dict[str, Any]) -> Entry:
    meta = item.get("meta", {}).get("M", {})
    return Entry(
        provider=item["provider"]["S"],
        tx_id=item["tx_id"]["S"],
        kind=Kind(item["kind"]["S"]),
        account=AccountKey(item["player_id"]["S"], item["currency"]["S"]),
        amount=int(item["amount"]["N"]),
        delta=int(item["delta"]["N"]),
        balance_before=int(item["balance_before"]["N"]),
        balance_after=int(item["balance_after"]["N"]),
        version=int(item["version"]["N"]),
        created_at=item["created_at"]["S"],
        fingerprint=item["fp"]["S"],
        effect=Effect(item["effect"]["S"]),
        target_tx_id=item["target"]["S"] if "target" in item else None,
        reversed_by=item["reversed_by"]["S"] if "reversed_by" in item else None,
        meta={k: v["S"] for k, v in meta.items()},
        signature=item["sig"]["S"] if "sig" in item else "",
        backs=int(item["backs"]["N"]) if "backs" in item else None,
        credited_by=item["credited_by"]["S"] if "credited_by" in item else None,
        prev=item["prev"]["S"] if "prev" in item else None,
    )


def account_from_item(item: dict[str, Any]) -> AccountState:
    return AccountState(
        balance=int(item["balance"]["N"]),
        version=int(item["version"]["N"]),
        protection=protection_from_item(item),
        head=item["head"]["S"] if "head" in item else None,
    )


def _optional_n(value: dict[str, Any] | None) -> int | None:
    return None if value is None or "NULL" in value else int(value["N"])


def _n_or_null(value: int | None) -> dict[str, Any]:
    return {"NULL": True} if value is None else {"N": str(value)}


def protection_from_item(item: dict[str, Any]) -> Protection:
    """The account item's ``prev`` (revision), ``excl`` (exclusion), ``lim`` (limits) and ``win`` (counters)."""
    if not any(name in item for name in ("prev", "excl", "lim", "win")):
        return NO_PROTECTION
    exclusion = None
    if "excl" in item:
        excl = item["excl"]["M"]
        exclusion = Exclusion(
            kind=ExclusionKind(excl["kind"]["S"]),
            until=excl["until"].get("S"),
            set_at=excl["at"]["S"],
        )
    limits = []
    for name, value in sorted(item.get("lim", {}).get("M", {}).items()):
        metric, period = name.split(".", 1)
        fields = value["M"]
        limits.append(
            Limit(
                metric,
                period,
                _optional_n(fields.get("v")),
                _optional_n(fields.get("p")),
                fields["at"]["S"] if "at" in fields else None,
            )
        )
    windows = []
    for period, value in sorted(item.get("win", {}).get("M", {}).items()):
        fields = value["M"]
        windows.append(
            Window(period, fields["k"]["S"], int(fields["w"]["N"]), int(fields["l"]["N"]), int(fields["d"]["N"]))
        )
    return Protection(
        revision=int(item["prev"]["N"]) if "prev" in item else 0,
        exclusion=exclusion,
        limits=tuple(limits),
        windows=tuple(windows),
    )


def windows_value(windows: tuple[Window, ...]) -> dict[str, Any]:
    return {
        "M": {
            w.period: {
                "M": {"k": {"S": w.key}, "w": {"N": str(w.wager)}, "l": {"N": str(w.loss)}, "d": {"N": str(w.deposit)}}
            }
            for w in windows
        }
    }


def exclusion_value(exclusion: Exclusion) -> dict[str, Any]:
    return {
        "M": {
            "kind": {"S": exclusion.kind.value},
            "until": {"NULL": True} if exclusion.until is None else {"S": exclusion.until},
            "at": {"S": exclusion.set_at},
        }
    }


def limits_value(limits: tuple[Limit, ...]) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for limit in limits:
        fields: dict[str, Any] = {"v": _n_or_null(limit.value)}
        if limit.pending_at is not None:
            fields["p"] = _n_or_null(limit.pending)
            fields["at"] = {"S": limit.pending_at}
        value[f"{limit.metric}.{limit.period}"] = {"M": fields}
    return {"M": value}


def revision_condition(expected: int, values: dict[str, Any]) -> str:
    """The account's protection revision is still ``expected`` (an account never changed has none)."""
    if expected == 0:
        return "attribute_not_exists(prev)"
    values[":prev"] = {"N": str(expected)}
    return "prev = :prev"


# --- commits -----------------------------------------------------------------------------------------


class DynamoLedgerStore:
    """The wallet table through a low-level boto3 DynamoDB client."""

    def __init__(self, table: str, client_factory: Callable[[], Any]) -> None:
        self.table = table
        self._client_factory = client_factory

    @property
    def client(self) -> Any:
        return self._client_factory()

    # reads ---------------------------------------------------------------------------------------

    @_transient_reads
    def read_account(self, account: AccountKey) -> AccountState | None:
        answer = self.client.get_item(
            TableName=self.table,
            Key={"pk": {"S": account_pk(account.player_id)}, "sk": {"S": account_sk(account.currency)}},
            ConsistentRead=True,
        )
        item = answer.get("Item")
        return account_from_item(item) if item else None

    @_transient_reads
    def read_for_reversal(
        self, provider: str, tx_id: str, target_tx_id: str, account: AccountKey
    ) -> tuple[Entry | None, Entry | None, AccountState | None]:
        """The reversal's own entry, its target and the account, in one consistent read."""
        answer = self.client.transact_get_items(
            TransactItems=[
                {"Get": {"TableName": self.table, "Key": {"pk": {"S": entry_pk(provider, tx_id)}, "sk": {"S": TX_SK}}}},
                {
                    "Get": {
                        "TableName": self.table,
                        "Key": {"pk": {"S": entry_pk(provider, target_tx_id)}, "sk": {"S": TX_SK}},
                    }
                },
                {
                    "Get": {
                        "TableName": self.table,
                        "Key": {"pk": {"S": account_pk(account.player_id)}, "sk": {"S": account_sk(account.currency)}},
                    }
                },
            ]
        )
        own, target, acct = (r.get("Item") for r in answer["Responses"])
        return (
            entry_from_item(own) if own else None,
            entry_from_item(target) if target else None,
            account_from_item(acct) if acct else None,
        )

    @_transient_reads
    def read_entry(self, provider: str, tx_id: str) -> Entry | None:
        answer = self.client.get_item(
            TableName=self.table,
            Key={"pk": {"S": entry_pk(provider, tx_id)}, "sk": {"S": TX_SK}},
            ConsistentRead=True,
        )
        item = answer.get("Item")
        return entry_from_item(item) if item else None

    @_transient_reads
    def resolve_link(self, provider: str, external_id: str) -> str | None:
        answer = self.client.get_item(
            TableName=self.table,
            Key={"pk": {"S": link_pk(provider, external_id)}, "sk": {"S": "LINK"}},
            ConsistentRead=True,
        )
        item = answer.get("Item")
        return item["player_id"]["S"] if item else None

    # the one write of a movement -----------------------------------------------------------------------

    def commit(self, plan: CommitPlan) -> CommitResult:
        entry = plan.entry
        account_key = {
            "pk": {"S": account_pk(entry.account.player_id)},
            "sk": {"S": account_sk(entry.account.currency)},
        }
        values: dict[str, Any] = {
            ":v": {"N": str(plan.expected.version)},
            ":nv": {"N": str(entry.version)},
            ":nb": {"N": str(entry.balance_after)},
            ":at": {"S": entry.created_at},
            ":head": {"S": entry.key},
        }
        # The protection decided from ``expected`` holds only if its revision (exclusion, limits) is unchanged.
        condition = "version = :v AND " + revision_condition(plan.expected.protection.revision, values)
        update = "SET balance = :nb, version = :nv, updated_at = :at, head = :head"
        if plan.windows is not None:
            update += ", win = :win"
            values[":win"] = windows_value(plan.windows)
        if plan.require_funds > 0:
            condition += " AND balance >= :need"
            values[":need"] = {"N": str(plan.require_funds)}
        item = entry_item(entry)
        if plan.expected.head is not None:  # linked to the newest entry of the state the version condition proves
            item["prev"] = {"S": plan.expected.head}
        elif plan.expected.version > 0:  # the account's first chained entry; those before are in gsi1
            item["legacy_from"] = {"N": str(entry.version)}
        items: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self.table,
                    "Item": item,
                    "ConditionExpression": "attribute_not_exists(pk)",
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            },
            {
                "Update": {
                    "TableName": self.table,
                    "Key": account_key,
                    "UpdateExpression": update,
                    "ConditionExpression": condition,
                    "ExpressionAttributeValues": values,
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            },
        ]
        roles = [Failed.ENTRY_EXISTS, Failed.ACCOUNT]
        if plan.mark_target is not None:
            items.append(
                {
                    "Update": {
                        "TableName": self.table,
                        "Key": {"pk": {"S": entry_pk(entry.provider, plan.mark_target)}, "sk": {"S": TX_SK}},
                        "UpdateExpression": "SET reversed_by = :rb",
                        "ConditionExpression": (
                            "attribute_exists(pk) AND attribute_not_exists(reversed_by)"
                            " AND attribute_not_exists(credited_by)"
                        ),
                        "ExpressionAttributeValues": {":rb": {"S": entry.tx_id}},
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                }
            )
            roles.append(Failed.TARGET)
        if plan.tombstone is not None:
            items.append(
                {
                    "Put": {
                        "TableName": self.table,
                        "Item": entry_item(plan.tombstone),
                        "ConditionExpression": "attribute_not_exists(pk)",
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                }
            )
            roles.append(Failed.TOMBSTONE)
        if plan.marker is not None:
            items.append(
                {
                    "Put": {
                        "TableName": self.table,
                        "Item": entry_item(plan.marker),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
            )
            roles.append(Failed.MARKER)
        if plan.backed_by is not None:
            items.append(
                {
                    "Update": {
                        "TableName": self.table,
                        "Key": {"pk": {"S": entry_pk(entry.provider, plan.backed_by)}, "sk": {"S": TX_SK}},
                        "UpdateExpression": "SET backs = backs - :amount, credited_by = :by",
                        "ConditionExpression": (
                            "backs >= :amount AND player_id = :player AND currency = :currency"
                            " AND attribute_not_exists(reversed_by)"
                        ),
                        "ExpressionAttributeValues": {
                            ":amount": {"N": str(entry.amount)},
                            ":by": {"S": entry.tx_id},
                            ":player": {"S": entry.account.player_id},
                            ":currency": {"S": entry.account.currency},
                        },
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                }
            )
            roles.append(Failed.BACKING)
        try:
            self.client.transact_write_items(TransactItems=items, ClientRequestToken=plan.token)
        except ClientError as error:
            return _cancelled(error, roles)
        except NETWORK_ERRORS as error:
            return CommitResult(
                ok=False,
                failed=frozenset({Failed.TRANSIENT}),
                transient=type(error).__name__,
                uncertain=not isinstance(error, ConnectTimeoutError | EndpointConnectionError),
            )
        return OK

    # admin -----------------------------------------------------------------------------------------

    def create_player(self, player_id: str, currencies: list[str], links: dict[str, str], created_at: str) -> bool:
        """Create the player, an empty account per currency and its provider links, all or nothing.

        False when the player or one of the links exists already."""
        items: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self.table,
                    "Item": {
                        "pk": {"S": account_pk(player_id)},
                        "sk": {"S": PROFILE_SK},
                        "player_id": {"S": player_id},
                        "currencies": {"L": [{"S": c} for c in currencies]},
                        "links": {"M": {k: {"S": v} for k, v in links.items()}},
                        "created_at": {"S": created_at},
                    },
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
        ]
        for currency in currencies:
            items.append(
                {
                    "Put": {
                        "TableName": self.table,
                        "Item": {
                            "pk": {"S": account_pk(player_id)},
                            "sk": {"S": account_sk(currency)},
                            "player_id": {"S": player_id},
                            "currency": {"S": currency},
                            "balance": {"N": "0"},
                            "version": {"N": "0"},
                            "updated_at": {"S": created_at},
                        },
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
            )
        for provider, external_id in links.items():
            items.append(
                {
                    "Put": {
                        "TableName": self.table,
                        "Item": {
                            "pk": {"S": link_pk(provider, external_id)},
                            "sk": {"S": "LINK"},
                            "player_id": {"S": player_id},
                            "created_at": {"S": created_at},
                        },
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
            )
        return self._all_or_nothing(items)

    def change_protection(
        self,
        player_id: str,
        expected: dict[str, int],
        audit: AuditRecord,
        *,
        exclusion: Exclusion | Literal[False] | None = False,
        limits: tuple[Limit, ...] | None = None,
    ) -> bool:
        """Set (or, with None, lift) the player's exclusion on every account of ``expected``, or set one account's
        limits, with the audit record, in one transaction. ``expected``: each account's protection revision as
        read (each account's revision goes up by one). False when one of them changed meanwhile."""
        items: list[dict[str, Any]] = []
        for currency, revision in expected.items():
            values: dict[str, Any] = {":nr": {"N": str(revision + 1)}}
            condition = "attribute_exists(pk) AND " + revision_condition(revision, values)
            update = "SET prev = :nr"
            remove = ""
            if exclusion is None:
                remove = " REMOVE excl"
            elif exclusion is not False:
                update += ", excl = :excl"
                values[":excl"] = exclusion_value(exclusion)
            if limits is not None:
                update += ", lim = :lim"
                values[":lim"] = limits_value(limits)
            items.append(
                {
                    "Update": {
                        "TableName": self.table,
                        "Key": {"pk": {"S": account_pk(player_id)}, "sk": {"S": account_sk(currency)}},
                        "UpdateExpression": update + remove,
                        "ConditionExpression": condition,
                        "ExpressionAttributeValues": values,
                    }
                }
            )
        items.append(
            {
                "Put": {
                    "TableName": self.table,
                    "Item": audit_item(audit),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
        )
        return self._all_or_nothing(items)

    @_transient_reads
    def list_audit(self, player_id: str, limit: int, cursor: str | None) -> tuple[list[AuditRecord], str | None]:
        """The player's protection audit records, oldest first, a page at a time (``cursor`` is opaque)."""
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": audit_pk(player_id)}},
            "Limit": limit,
            "ConsistentRead": True,
        }
        if cursor:
            start = decode_cursor(cursor, keys=frozenset({"pk", "sk"}))
            if start["pk"]["S"] != audit_pk(player_id):
                raise_invalid_cursor()
            kwargs["ExclusiveStartKey"] = start
        answer = self.client.query(**kwargs)
        last = answer.get("LastEvaluatedKey")
        return [audit_from_item(i) for i in answer.get("Items", [])], encode_cursor(last) if last else None

    def _all_or_nothing(self, items: list[dict[str, Any]]) -> bool:
        """One transaction; False when a condition of it failed (nothing written)."""
        try:
            self.client.transact_write_items(TransactItems=items)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "TransactionCanceledException":
                reasons = error.response.get("CancellationReasons", [])
                if any(r.get("Code") == "ConditionalCheckFailed" for r in reasons):
                    return False
            raise
        return True

    @_transient_reads
    def read_player(self, player_id: str) -> tuple[dict[str, Any] | None, dict[str, AccountState]]:
        """The player's profile and accounts in one query."""
        answer = self.client.query(
            TableName=self.table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": account_pk(player_id)}},
            ConsistentRead=True,
        )
        profile: dict[str, Any] | None = None
        accounts: dict[str, AccountState] = {}
        for item in answer.get("Items", []):
            sk = item["sk"]["S"]
            if sk == PROFILE_SK:
                profile = {
                    "player_id": item["player_id"]["S"],
                    "currencies": [c["S"] for c in item.get("currencies", {}).get("L", [])],
                    "links": {k: v["S"] for k, v in item.get("links", {}).get("M", {}).items()},
                    "created_at": item["created_at"]["S"],
                }
            elif sk.startswith("ACCOUNT#"):
                accounts[item["currency"]["S"]] = account_from_item(item)
        return profile, accounts

    @_transient_reads
    def list_entries(self, account: AccountKey, limit: int, cursor: str | None) -> tuple[list[Entry], str | None]:
        """An account's entries, newest first, a page at a time (``cursor`` is opaque): the chain walked from the
        account's head, one consistent GetItem an entry (a first page reads the account too); entries written
        before the chain come from ``gsi1``. An entry the walk reaches that is missing, another account's or out
        of order stops it (:class:`BrokenChain`); a cursor that leads to such an entry was never ours."""
        if cursor:
            key, version = decode_entries_cursor(cursor, account)
        else:
            answer = self.client.get_item(
                TableName=self.table,
                Key={"pk": {"S": account_pk(account.player_id)}, "sk": {"S": account_sk(account.currency)}},
                ConsistentRead=True,
                ProjectionExpression="version, head",
            )
            item = answer.get("Item")
            if item is None:
                return [], None
            key, version = (item["head"]["S"] if "head" in item else None), int(item["version"]["N"])
        entries: list[Entry] = []
        try:
            while len(entries) < limit and version >= 1:
                room = limit - len(entries)
                if key is None:  # written before the chain: in gsi1
                    found = self._unchained(account, version, 1, room)
                else:
                    stored, prev = self._chained(key, account, version)
                    if stored.version < version:  # written unchained while a deployment rolled out: in gsi1
                        found = self._unchained(account, version, stored.version + 1, room)
                        if len(found) == version - stored.version and len(found) < room:
                            found.append(stored)
                            key = prev
                    else:
                        found, key = [stored], prev
                entries.extend(found)
                version -= len(found)
        except BrokenChain:
            if cursor and not entries:
                raise_invalid_cursor()
            raise
        return entries, encode_entries_cursor(account, key, version) if version >= 1 else None

    def _chained(self, key: str, account: AccountKey, at_most: int) -> tuple[Entry, str | None]:
        """The entry ``key`` (of ``account``, version ``at_most`` or below) and the key of the one before it."""
        answer = self.client.get_item(
            TableName=self.table, Key={"pk": {"S": "TX#" + key}, "sk": {"S": TX_SK}}, ConsistentRead=True
        )
        item = answer.get("Item")
        stored = entry_from_item(item) if item else None
        if stored is None or stored.account != account or stored.kind.is_placeholder:
            raise BrokenChain(f"the entry {key!r} is not one of this account's")
        if not 1 <= stored.version <= at_most:
            raise BrokenChain(f"the entry {key!r} is version {stored.version}, expected at most {at_most}")
        prev = item["prev"]["S"] if item and "prev" in item else None
        return stored, prev

    def _unchained(self, account: AccountKey, high: int, low: int, limit: int) -> list[Entry]:
        """Versions ``high`` down to ``low`` from ``gsi1`` (entries written before the chain), at most ``limit``."""
        answer = self.client.query(
            TableName=self.table,
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :pk AND gsi1sk BETWEEN :low AND :high",
            ExpressionAttributeValues={
                ":pk": {"S": entries_gsi_pk(account)},
                ":low": {"S": f"{low:012d}"},
                ":high": {"S": f"{high:012d}"},
            },
            ScanIndexForward=False,
            Limit=limit,
        )
        found = [entry_from_item(i) for i in answer.get("Items", [])]
        if not found or [e.version for e in found] != list(range(high, high - len(found), -1)):
            raise BrokenChain(f"the entries from version {high} down are not all in gsi1")
        return found

    # reconciliation --------------------------------------------------------------------------------

    def scan(self) -> Iterator[dict[str, Any]]:
        kwargs: dict[str, Any] = {"TableName": self.table, "ConsistentRead": True}
        while True:
            answer = self.client.scan(**kwargs)
            yield from answer.get("Items", [])
            if "LastEvaluatedKey" not in answer:
                return
            kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    def accounts_and_entries(self) -> tuple[dict[AccountKey, AccountState], list[Entry]]:
        """Every account and every entry of the table (a full, consistent scan: an operator's tool)."""
        accounts: dict[AccountKey, AccountState] = {}
        entries: list[Entry] = []
        for item in self.scan():
            sk = item["sk"]["S"]
            if sk == TX_SK:
                entries.append(entry_from_item(item))
            elif sk.startswith("ACCOUNT#"):
                accounts[AccountKey(item["player_id"]["S"], item["currency"]["S"])] = account_from_item(item)
        return accounts, entries


def encode_entries_cursor(account: AccountKey, key: str | None, version: int) -> str:
    """Where the next page starts: the entry ``key`` (None: in gsi1), of version ``version`` at most."""
    return encode_cursor({"p": account.player_id, "c": account.currency, "k": key, "v": version})


def decode_entries_cursor(cursor: str, account: AccountKey) -> tuple[str | None, int]:
    value = _decoded(cursor)
    if not isinstance(value, dict) or set(value) != {"p", "c", "k", "v"}:
        raise_invalid_cursor()
    key, version = value["k"], value["v"]
    if (value["p"], value["c"]) != (account.player_id, account.currency):  # another account's page
        raise_invalid_cursor()
    if (
        type(version) is not int
        or version < 1
        or not (key is None or (isinstance(key, str) and 0 < len(key.encode("utf-8")) <= 1024))
    ):
        raise_invalid_cursor()
    return key, version


def encode_cursor(key: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, keys: frozenset[str] = frozenset({"pk", "sk"})) -> dict[str, Any]:
    key = _decoded(cursor)
    if not isinstance(key, dict) or set(key) != keys:
        raise_invalid_cursor()
    if not all(isinstance(v, dict) and isinstance(v.get("S"), str) for v in key.values()):
        raise_invalid_cursor()
    return key


def _decoded(cursor: str) -> Any:
    """The JSON value :func:`encode_cursor` made of ``cursor``; anything else is ``400 INVALID_CURSOR``."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError):
        raise_invalid_cursor()


def raise_invalid_cursor() -> NoReturn:
    from croupier.errors import BadRequest

    raise BadRequest("cursor is not one this API returned", code="INVALID_CURSOR") from None


def _cancelled(error: ClientError, roles: list[Failed]) -> CommitResult:
    code = error.response.get("Error", {}).get("Code", "")
    if code == "IdempotentParameterMismatchException":
        return CommitResult(ok=False, failed=frozenset({Failed.TOKEN_REUSED}))
    if code != "TransactionCanceledException":
        if code in TRANSIENT_CODES:
            return CommitResult(ok=False, failed=frozenset({Failed.TRANSIENT}), transient=code)
        raise error
    reasons = error.response.get("CancellationReasons") or []
    failed: set[Failed] = set()
    existing: Entry | None = None
    account: AccountState | None = None
    backing: Entry | None = None
    transient = ""
    for role, reason in zip(roles, reasons, strict=False):
        reason_code = reason.get("Code") or "None"
        if reason_code == "None":
            continue
        if reason_code != "ConditionalCheckFailed":
            transient = reason_code
            continue
        failed.add(role)
        item = reason.get("Item")
        if role is Failed.ENTRY_EXISTS and item:
            existing = entry_from_item(item)
        elif role is Failed.ACCOUNT and item:
            account = account_from_item(item)
        elif role is Failed.BACKING and item and item.get("sk", {}).get("S") == TX_SK:
            backing = entry_from_item(item)
    if not failed:
        return CommitResult(ok=False, failed=frozenset({Failed.TRANSIENT}), transient=transient or "cancelled")
    return CommitResult(ok=False, failed=frozenset(failed), existing=existing, account=account, backing=backing)
