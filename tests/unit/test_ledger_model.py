"""The ledger's values: what a movement may be, and the fingerprint that makes two requests the same request."""

from __future__ import annotations

import pytest

from croupier.ledger import AccountKey, Kind, Movement, Reversal

ALICE = AccountKey("alice", "EUR")


def test_a_movement_is_a_debit_or_a_credit_of_zero_or_more() -> None:
    assert Movement("rgs", "win-0", ALICE, Kind.CREDIT, 0).amount == 0  # a lost round settles with a win of 0
    with pytest.raises(ValueError, match="negative"):
        Movement("rgs", "win-1", ALICE, Kind.CREDIT, -1)
    for kind in (Kind.REVERSAL, Kind.TOMBSTONE, Kind.MARKER):
        with pytest.raises(ValueError, match="debit or a credit"):
            Movement("rgs", "x", ALICE, kind, 1)


def test_fingerprints_are_stable_across_releases() -> None:
    """Stored entries keep the fingerprint they were written with, and a provider's retry after a deploy is
    compared with it: the formula may never change. (sha256 of the fields joined by the unit separator, 32 hex
    digits.)"""
    assert Movement("ruby", "bet-1", ALICE, Kind.DEBIT, 1500).fingerprint == "9820cb12b65388164beb0101e7c2a43e"
    assert Reversal("ruby", "rb-1", "bet-1", ALICE).fingerprint == "2a7565283ce7f5dd332c3340c5197e3c"


def test_the_fingerprint_tells_every_field_apart() -> None:
    base = Movement("ruby", "bet-1", ALICE, Kind.DEBIT, 1500)
    others = [
        Movement("ruby", "bet-1", ALICE, Kind.CREDIT, 1500),
        Movement("ruby", "bet-1", AccountKey("alice", "USD"), Kind.DEBIT, 1500),
        Movement("ruby", "bet-1", AccountKey("alicE", "EUR"), Kind.DEBIT, 1500),
        Movement("ruby", "bet-1", ALICE, Kind.DEBIT, 150),
        Movement("ruby", "bet-1", ALICE, Kind.DEBIT, 1500, reference="r"),
    ]
    assert len({base.fingerprint, *(m.fingerprint for m in others)}) == 1 + len(others)
    assert base.fingerprint == Movement("other", "tx-9", ALICE, Kind.DEBIT, 1500, meta={"a": "b"}).fingerprint
