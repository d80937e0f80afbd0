"""The ledger's port: what its logic (:mod:`croupier.ledger.service`) asks of a store, and the plans and results
that cross it. Plain Python, no AWS: :class:`croupier.ledger.dynamo.DynamoLedgerStore` implements it over
DynamoDB, ``tests/support/memory_ledger.py`` in memory.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from croupier.ledger.model import AccountKey, AccountState, Entry
from croupier.ledger.protection import Window


class TransientStoreError(Exception):
    """Throttling, a transaction conflict or a network failure on a read: safe to retry."""


@dataclass(frozen=True, slots=True)
class CommitPlan:
    """Everything one transaction writes. ``require_funds`` > 0 adds ``balance >= require_funds``.

    The entry is linked to the account's newest entry as ``expected`` names it (``expected.head``): the
    transaction's condition on ``expected.version`` proves that link current."""

    entry: Entry
    expected: AccountState
    require_funds: int = 0
    mark_target: str | None = None
    """tx id of the target entry to mark ``reversed_by`` (only if it is not reversed yet)."""
    tombstone: Entry | None = None
    """A tombstone to put at the unknown target's key (only if that key is still free)."""
    marker: Entry | None = None
    """A marker holding the movement's alias key (only if that key is still free)."""
    backed_by: str | None = None
    """tx id of the debit backing this credit: its room is reduced by the credit's amount (only if it is a debit
    of the same account, not reversed, with that much room left)."""
    windows: tuple[Window, ...] | None = None
    """The account's protection counters after the movement (None: unchanged), decided from ``expected``."""

    @property
    def token(self) -> str:
        """ClientRequestToken: the same plan retried after a lost response is not applied twice."""
        entry = self.entry
        text = "\x1f".join(
            (entry.provider, entry.tx_id, str(self.expected.version), entry.fingerprint, entry.created_at)
        )
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:36]


class Failed(StrEnum):
    ENTRY_EXISTS = "entry_exists"
    ACCOUNT = "account"
    TARGET = "target"
    TOMBSTONE = "tombstone"
    TRANSIENT = "transient"
    MARKER = "marker"
    BACKING = "backing"
    TOKEN_REUSED = "token_reused"  # noqa: S105 - a state, not a secret
    """Another request used this ClientRequestToken with other parameters in the last 10 minutes."""


@dataclass(frozen=True, slots=True)
class CommitResult:
    ok: bool
    failed: frozenset[Failed] = frozenset()
    existing: Entry | None = None
    """The entry already stored under the movement's key (a replay, a conflict or a tombstone)."""
    account: AccountState | None = None
    """The account as it is now, when its condition failed (None: no such account)."""
    backing: Entry | None = None
    """The backing entry as it is now, when its condition failed (None: there is none)."""
    transient: str = ""
    uncertain: bool = False
    """The request may have reached DynamoDB and committed, but no answer came back (a timeout)."""


OK = CommitResult(ok=True)


class LedgerStore(Protocol):
    """What the ledger's logic needs: consistent reads and one atomic, conditional commit per plan. Reads raise
    :class:`TransientStoreError` for what may succeed again."""

    def read_account(self, account: AccountKey) -> AccountState | None: ...

    def read_for_reversal(
        self, provider: str, tx_id: str, target_tx_id: str, account: AccountKey
    ) -> tuple[Entry | None, Entry | None, AccountState | None]: ...

    def commit(self, plan: CommitPlan) -> CommitResult: ...

    def read_entry(self, provider: str, tx_id: str) -> Entry | None: ...
