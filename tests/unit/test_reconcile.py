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


def test_a_placeholder_among_the_entries_hides_none_of_the_entries_after_it() -> None:
    entries = chain(500, -200)
    tombstone = replace(entries[0], tx_id="late", kind=Kind.TOMBSTONE, version=0, delta=0)
    report = reconcile({ACCOUNT: AccountState(300, 2)}, [entries[0], tombstone, entries[1]])
    assert report.clean
    assert report.entries == 2


def test_discrepancies_come_per_account_in_player_then_currency_order() -> None:
    keys = [AccountKey("p-2", "EUR"), AccountKey("p-1", "USD"), AccountKey("p-3", "AAA"), AccountKey("p-1", "EUR")]
    report = reconcile({key: AccountState(1, 0) for key in keys}, [])
    assert [(d.player_id, d.currency) for d in report.discrepancies] == [
        ("p-1", "EUR"),
        ("p-1", "USD"),
        ("p-2", "EUR"),
        ("p-3", "AAA"),
    ]
    first = report.discrepancies[0]
    assert (first.stored_balance, first.computed_balance, first.stored_version, first.entries) == (1, 0, 0, 0)


def test_the_report_as_the_cli_prints_it() -> None:
    report = reconcile({ACCOUNT: AccountState(352, 2)}, chain(500, -149))
    assert report.as_dict() == {
        "accounts": 1,
        "entries": 2,
        "clean": False,
        "discrepancies": [
            {
                "player_id": "p-1",
                "currency": "EUR",
                "problem": "balance differs from the sum of its entries",
                "stored_balance": 352,
                "computed_balance": 351,
                "stored_version": 2,
                "entries": 2,
            }
        ],
    }


def linked(entries: list[Entry], from_version: int = 1) -> list[Entry]:
    """The entries chained from ``from_version`` up (those below as written before the chain)."""
    return [
        replace(e, prev=entries[i - 1].key if i and e.version > from_version else None) for i, e in enumerate(entries)
    ]


def test_links_from_the_head_to_version_one_or_to_the_entries_of_before_the_chain_are_clean() -> None:
    entries = chain(500, -200, 0, 50)
    for first_linked in (1, 2, 4, 5):  # 5: an account of before the chain, its head set by nothing yet
        head = entries[-1].key if first_linked <= 4 else None
        report = reconcile({ACCOUNT: AccountState(350, 4, head=head)}, linked(entries, first_linked))
        assert report.clean, (first_linked, report.as_dict())
    rollout = linked(entries)  # v3 written by the former code during a rollout: unlinked, v4 links past it
    rollout[2], rollout[3] = replace(rollout[2], prev=None), replace(rollout[3], prev=rollout[1].key)
    assert reconcile({ACCOUNT: AccountState(350, 4, head=entries[-1].key)}, rollout).clean


def test_links_that_miss_an_entry_or_lead_astray_are_reported() -> None:
    entries = linked(chain(500, -200, 0, 50))
    state = AccountState(350, 4, head=entries[-1].key)
    skipping = [*entries[:3], replace(entries[3], prev=entries[1].key)]  # v3 is linked, yet skipped
    astray = [*entries[:3], replace(entries[3], prev="test#elsewhere")]
    upward = [*entries[:3], replace(entries[3], prev=entries[3].key)]  # a loop
    unlinked_below = [replace(entries[0], prev="test#t0"), *entries[1:]]
    for broken, problem in (
        (skipping, "the links skip a linked entry above test/t2"),
        (astray, "the links lead to 'test#elsewhere', which is not an entry of version 3 or below"),
        (upward, "the links lead to 'test#t4', which is not an entry of version 3 or below"),
        (unlinked_below, "the links lead to 'test#t0', which is not an entry of version 0 or below"),
    ):
        report = reconcile({ACCOUNT: state}, broken)
        assert [d.problem for d in report.discrepancies] == [problem]
    stale_head = reconcile({ACCOUNT: replace(state, head="test#t3")}, entries)  # v4 linked, not the head
    assert [d.problem for d in stale_head.discrepancies] == ["the links skip a linked entry above test/t3"]
