"""reconcile() finds every way an account can disagree with its entries."""

from __future__ import annotations

from dataclasses import replace

from croupier.ledger import AccountKey, AccountState, Effect, Entry, Kind
from croupier.ledger.reconcile import reconcile

ACCOUNT = AccountKey("p-1", "EUR")


def chain(*deltas: int) -> list[Entry]:
    entries, balance = [], 0
    for version, delta in enumerate(deltas, start=1):
        entries.append(
            Entry(
                provider="test",
                tx_id=f"t{version}",
                kind=Kind.CREDIT if delta >= 0 else Kind.DEBIT,
                account=ACCOUNT,
                amount=abs(delta),
                delta=delta,
                balance_before=balance,
                balance_after=balance + delta,
                version=version,
                created_at="2026-11-21T00:00:00Z",
                fingerprint="f",
                effect=Effect.APPLIED,
            )
        )
        balance += delta
    return entries


def test_a_consistent_ledger_is_clean() -> None:
    entries = chain(500, -200, 0, 50)
    report = reconcile({ACCOUNT: AccountState(350, 4)}, entries)
    assert report.clean
    assert (report.accounts, report.entries) == (1, 4)


def test_tombstones_are_not_entries_of_the_account() -> None:
    tombstone = replace(chain(0)[0], tx_id="late", kind=Kind.TOMBSTONE, version=0)
    assert reconcile({ACCOUNT: AccountState(0, 0)}, [tombstone]).clean


def test_a_balance_that_differs_from_its_entries() -> None:
    report = reconcile({ACCOUNT: AccountState(352, 2)}, chain(500, -149))
    assert [d.problem for d in report.discrepancies] == ["balance differs from the sum of its entries"]
    assert (report.discrepancies[0].stored_balance, report.discrepancies[0].computed_balance) == (352, 351)


def test_a_lost_entry_breaks_the_count_the_versions_and_the_chain() -> None:
    entries = chain(500, -200, 50)
    del entries[1]
    problems = {d.problem for d in reconcile({ACCOUNT: AccountState(350, 3)}, entries).discrepancies}
    assert "version differs from the number of its entries" in problems
    assert "entry versions are not 1..n" in problems
    assert "balance differs from the sum of its entries" in problems
    assert any("breaks the balance chain" in p for p in problems)


def test_entries_without_an_account() -> None:
    report = reconcile({}, chain(10))
    assert [d.problem for d in report.discrepancies] == ["entries without an account"]
    assert not report.clean
