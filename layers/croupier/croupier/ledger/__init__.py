"""The wallet ledger: exactly-once money movements with the entry as its own idempotency record."""

from croupier.ledger.model import (
    AccountKey,
    AccountState,
    Effect,
    Entry,
    IdempotencyConflict,
    InsufficientFunds,
    Kind,
    Movement,
    NotReversible,
    Outcome,
    Reversal,
    ReversalAmountMismatch,
    ReversedBeforeArrival,
    UnknownAccount,
)
from croupier.ledger.service import Ledger, RetriesExhausted, SnapshotCache

__all__ = [
    "AccountKey",
    "AccountState",
    "Effect",
    "Entry",
    "IdempotencyConflict",
    "InsufficientFunds",
    "Kind",
    "Ledger",
    "Movement",
    "NotReversible",
    "Outcome",
    "RetriesExhausted",
    "Reversal",
    "ReversalAmountMismatch",
    "ReversedBeforeArrival",
    "SnapshotCache",
    "UnknownAccount",
]
