"""The ledger's values: accounts, movements, reversals, entries and outcomes (plain, immutable data)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from croupier.errors import Conflict, CroupierError, NotFound


class Kind(StrEnum):
    DEBIT = "debit"
    CREDIT = "credit"
    REVERSAL = "reversal"
    TOMBSTONE = "tombstone"
    """Left at the key of a reversal's unknown target, so that the target arriving late has no effect."""
    MARKER = "marker"
    """Holds a provider's idempotency key for an entry stored under another key (``target_tx_id``)."""

    @property
    def is_placeholder(self) -> bool:
        """Tombstones and markers hold a key; they are not entries of an account."""
        return self in (Kind.TOMBSTONE, Kind.MARKER)


class Effect(StrEnum):
    APPLIED = "applied"
    TARGET_UNKNOWN = "target_unknown"
    """A reversal whose target did not exist: recorded, no money moved, a tombstone left at the target."""
    ALREADY_REVERSED = "already_reversed"
    """A second reversal of the same target: recorded, no money moved."""


@dataclass(frozen=True, slots=True)
class AccountKey:
    player_id: str
    currency: str


@dataclass(frozen=True, slots=True)
class AccountState:
    """A balance (internal units) and its version: the count of entries ever written to the account."""

    balance: int
    version: int


@dataclass(frozen=True, slots=True)
class Movement:
    """Move ``amount`` internal units into (credit) or out of (debit) an account, once per ``tx_id``."""

    provider: str
    tx_id: str
    account: AccountKey
    kind: Kind
    amount: int
    meta: Mapping[str, str] = field(default_factory=dict)
    reference: str = ""
    """The provider's own idempotency key when the entry is keyed otherwise (an RGS bet is keyed by its round
    so that a refund can find it): part of the fingerprint, so the same key with another reference conflicts."""
    alias: str | None = None
    """A second key of the provider's to hold in the same transaction (the RGS's ``tx:<operator_tx_id>``), so
    that no other movement, of any kind, can use that idempotency key."""

    def __post_init__(self) -> None:
        if self.kind not in (Kind.DEBIT, Kind.CREDIT):
            raise ValueError("a movement is a debit or a credit")
        if self.amount < 0:
            raise ValueError("amounts are never negative")

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.kind, self.account, str(self.amount), self.reference)


@dataclass(frozen=True, slots=True)
class Reversal:
    """Reverse the entry ``target_tx_id`` of the same provider, at most once.

    ``amount`` is what the provider says the target was, when its protocol says it (checked against the
    target); ``reversible`` is which kinds this provider may reverse; reversing a credit is the one
    movement that may take a balance below zero.
    """

    provider: str
    tx_id: str
    target_tx_id: str
    account: AccountKey
    amount: int | None = None
    reversible: frozenset[Kind] = frozenset({Kind.DEBIT})
    meta: Mapping[str, str] = field(default_factory=dict)

    @property
    def fingerprint(self) -> str:
        return fingerprint(
            Kind.REVERSAL, self.account, "" if self.amount is None else str(self.amount), self.target_tx_id
        )


def fingerprint(kind: Kind, account: AccountKey, amount: str, target: str) -> str:
    """What makes two requests with one transaction id the same request."""
    text = "\x1f".join((kind.value, account.player_id, account.currency, amount, target))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Entry:
    """An immutable ledger entry, keyed by (provider, tx_id): its own idempotency record."""

    provider: str
    tx_id: str
    kind: Kind
    account: AccountKey
    amount: int
    delta: int
    balance_before: int
    balance_after: int
    version: int
    created_at: str
    fingerprint: str
    effect: Effect = Effect.APPLIED
    target_tx_id: str | None = None
    reversed_by: str | None = None
    meta: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Outcome:
    """The answer to a movement or reversal; ``replayed`` when it was answered from the stored entry."""

    entry: Entry
    replayed: bool = False

    @property
    def balance_before(self) -> int:
        return self.entry.balance_before

    @property
    def balance_after(self) -> int:
        return self.entry.balance_after


# --- the ledger's errors ---------------------------------------------------------------------------


class UnknownAccount(NotFound):
    code = "UNKNOWN_PLAYER"


class InsufficientFunds(CroupierError):
    status = 402
    code = "INSUFFICIENT_FUNDS"
    metric = "Declines"


class IdempotencyConflict(Conflict):
    """The transaction id was used before with different content (amount, player, kind or target)."""

    code = "IDEMPOTENCY_CONFLICT"
    metric = "Conflicts"


class ReversalAmountMismatch(IdempotencyConflict):
    """A reversal states an amount other than the amount of the transaction it reverses."""

    code = "REVERSAL_AMOUNT_MISMATCH"


class ReversedBeforeArrival(Conflict):
    """The transaction was reversed (a tombstone) before it arrived: it has no effect."""

    code = "ALREADY_ROLLED_BACK"
    metric = "Declines"

    def __init__(self, message: str, tombstone: Entry) -> None:
        super().__init__(message)
        self.tombstone = tombstone


class NotReversible(Conflict):
    """The target of a reversal is of another player, currency or a kind this provider cannot reverse."""

    code = "NOT_REVERSIBLE"
