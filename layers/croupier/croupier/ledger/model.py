"""The ledger's values: accounts, movements, reversals, entries and outcomes (plain, immutable data)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from croupier.errors import Conflict, CroupierError, NotFound, Unauthorized
from croupier.ledger.protection import NO_PROTECTION, Protection, Purpose, purpose_of


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
    """A balance (internal units) and its version: the count of entries ever written to the account; and its
    player protection (exclusion, limits, window counters; its own ``revision``)."""

    balance: int
    version: int
    protection: Protection = field(default=NO_PROTECTION, compare=False)
    """Not part of equality (two states are equal by balance and version); :attr:`age` orders them."""
    head: str | None = field(default=None, compare=False)
    """The :attr:`Entry.key` of the account's newest entry (None: no entry yet, or only entries written before
    the entries were chained). The next entry links to it; the statement walks the links from it."""

    @property
    def age(self) -> tuple[int, int]:
        """What orders two states of one account: entries written, then protection changes."""
        return self.version, self.protection.revision


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
    signature: str = ""
    """A digest of the signature the request arrived with (:func:`signature_digest`), kept on the entry so that
    a reversal arriving with the very same signature (a replay of this request on another route) is refused."""
    backs: int | None = None
    """A debit only: how many units of later credits it may back (an RGS bet: its stake x the maximum
    multiplier). Each credit that names it (``backed_by``) takes its amount from this room, atomically."""
    backed_by: str | None = None
    """A credit only: the ``tx_id`` of the same provider's debit that must back it (same account, not reversed,
    room left): an RGS win names its bet. Part of the fingerprint."""
    purpose: Purpose | None = None
    """What the movement is to player protection; by default the admin provider's credits are deposits and its
    debits withdrawals, any other provider's debits stakes and credits wins."""

    def __post_init__(self) -> None:
        if self.kind not in (Kind.DEBIT, Kind.CREDIT):
            raise ValueError("a movement is a debit or a credit")
        if self.amount < 0:
            raise ValueError("amounts are never negative")
        if self.backs is not None and (self.kind is not Kind.DEBIT or self.backs < 0):
            raise ValueError("only a debit backs credits, by a room that is never negative")
        if self.backed_by is not None and (self.kind is not Kind.CREDIT or self.backed_by == self.tx_id):
            raise ValueError("only a credit is backed, by another entry")

    @property
    def protection_purpose(self) -> Purpose:
        if self.purpose is not None:
            return self.purpose
        return purpose_of(self.provider, self.kind is Kind.DEBIT)

    @property
    def fingerprint(self) -> str:
        reference = self.reference if self.backed_by is None else f"{self.reference}\x1e{self.backed_by}"
        return fingerprint(self.kind, self.account, str(self.amount), reference)


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
    signature: str = ""
    """The digest of the request's signature: a target that arrived with the same one is not reversed."""

    @property
    def fingerprint(self) -> str:
        return fingerprint(
            Kind.REVERSAL, self.account, "" if self.amount is None else str(self.amount), self.target_tx_id
        )


def signature_digest(signature: str) -> str:
    """What an entry keeps of the signature its request arrived with: enough to recognise the same signature
    again, useless to sign anything (a truncated hash of the lower-cased hex, never the signature itself)."""
    if not signature:
        return ""
    return hashlib.sha256(b"croupier-signature\x1f" + signature.strip().lower().encode("utf-8")).hexdigest()[:32]


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
    signature: str = ""
    """The digest of the signature the request arrived with ("" when the provider's scheme needs none)."""
    backs: int | None = None
    """A debit that backs credits: the room left for them (units)."""
    credited_by: str | None = None
    """A backing debit: the tx id of the last credit it backed (a backed debit is no longer reversible)."""
    prev: str | None = field(default=None, compare=False)
    """As stored: the :attr:`key` of the account's entry before this one (None: version 1, or an entry written
    before the chain). The store links a new entry to its plan's ``expected.head``; a plan never sets this."""

    @property
    def key(self) -> str:
        """``<provider>#<tx id>``: what names the entry in its account's chain (the account's ``head``, the next
        entry's ``prev``)."""
        return f"{self.provider}#{self.tx_id}"


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


class ReplayedRequest(Unauthorized):
    """A reversal carrying the very signature of the request it would reverse: that request, replayed on another
    route (Ruby's callback signature covers the body and the timestamp, not the path)."""

    code = "REPLAYED_REQUEST"
    metric = "Declines"


class UnbackedCredit(NotFound):
    """A credit that must be backed names no debit of the same provider, player, currency (an RGS win without its
    round's bet)."""

    code = "BET_NOT_FOUND"
    metric = "Declines"


class BackingExceeded(Conflict):
    """The credits a debit backs would pass its room (an RGS win above the stake x the maximum multiplier)."""

    code = "WIN_ABOVE_LIMIT"
    metric = "Declines"


class BackingSettled(Conflict):
    """The backing debit was reversed (a refunded bet), or a reversal targets a debit that backed a credit."""

    code = "BET_SETTLED"
    metric = "Declines"


class NotReversible(Conflict):
    """The target of a reversal is of another player, currency or a kind this provider cannot reverse."""

    code = "NOT_REVERSIBLE"


class BrokenChain(CroupierError):
    """An account's statement cannot go on: an entry its chain leads to is missing, another account's or out of
    order. The walk stops rather than skip or repeat an entry (reconciliation checks the same chain)."""

    code = "LEDGER_CHAIN_BROKEN"
