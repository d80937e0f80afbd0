"""The ledger's values: what a movement may be, and the fingerprint that makes two requests the same request."""

from __future__ import annotations

import re

import pytest

from croupier.ledger import AccountKey, Kind, Movement, Reversal, signature_digest

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


def test_only_a_debit_backs_credits_and_only_a_credit_is_backed_by_another_entry() -> None:
    assert Movement("rgs", "bet-1", ALICE, Kind.DEBIT, 100, backs=0).backs == 0
    for kind, backs in ((Kind.CREDIT, 100), (Kind.DEBIT, -1)):
        with pytest.raises(ValueError, match="backs credits"):
            Movement("rgs", "x", ALICE, kind, 100, backs=backs)
    assert Movement("rgs", "win-1", ALICE, Kind.CREDIT, 100, backed_by="bet-1").backed_by == "bet-1"
    for kind, tx_id in ((Kind.DEBIT, "win-1"), (Kind.CREDIT, "bet-1")):
        with pytest.raises(ValueError, match="is backed"):
            Movement("rgs", tx_id, ALICE, kind, 100, backed_by="bet-1")


def test_the_backing_debit_is_part_of_a_credits_fingerprint() -> None:
    plain = Movement("rgs", "win-1", ALICE, Kind.CREDIT, 100)
    backed = Movement("rgs", "win-1", ALICE, Kind.CREDIT, 100, backed_by="bet-1")
    other = Movement("rgs", "win-1", ALICE, Kind.CREDIT, 100, backed_by="bet-2")
    assert len({plain.fingerprint, backed.fingerprint, other.fingerprint}) == 3
    assert backed.fingerprint != Movement("rgs", "win-1", ALICE, Kind.CREDIT, 100, reference="bet-1").fingerprint


def test_a_signature_digest_recognises_the_signature_and_reveals_nothing_of_it() -> None:
    signature = "AB" * 32
    digest = signature_digest(signature)
    assert re.fullmatch(r"[0-9a-f]{32}", digest)
    assert signature_digest(f"  {signature.lower()}\n") == digest  # as the header may carry it
    assert signature_digest("cd" * 32) != digest
    assert signature.lower()[:32] != digest
    assert signature_digest("") == ""


def test_signature_digests_are_stable_across_releases() -> None:
    """Entries keep the digest they were written with; a replay after a deploy is compared with it."""
    assert signature_digest("ab" * 32) == "2f4d1264b0e4d38189f08d518bb32e9f"
