"""Balances are derivable from entries: recompute every account from its entries and report differences.

For each account: the stored balance must equal the sum of its entries' deltas, its version must equal
the number of its entries, the entries' versions must run 1..n, and each entry must start from the
balance the previous one ended with (a broken chain means an entry was lost or written twice). And the links: from
the account's ``head`` each entry's ``prev`` leads to the one before, down to version 1 or to the entries written
before the chain (none of which is linked); the versions it skips were written unchained during a rollout.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field

from croupier.ledger.model import AccountKey, AccountState, Entry


@dataclass(frozen=True, slots=True)
class Discrepancy:
    player_id: str
    currency: str
    problem: str
    stored_balance: int | None
    computed_balance: int
    stored_version: int | None
    entries: int


@dataclass(frozen=True)
class Report:
    accounts: int
    entries: int
    discrepancies: list[Discrepancy] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.discrepancies

    def as_dict(self) -> dict[str, object]:
        return {
            "accounts": self.accounts,
            "entries": self.entries,
            "clean": self.clean,
            "discrepancies": [asdict(d) for d in self.discrepancies],
        }


def reconcile(accounts: Mapping[AccountKey, AccountState], entries: Iterable[Entry]) -> Report:
    by_account: dict[AccountKey, list[Entry]] = defaultdict(list)
    count = 0
    for entry in entries:
        if entry.kind.is_placeholder:
            continue
        by_account[entry.account].append(entry)
        count += 1
    found: list[Discrepancy] = []
    for key in sorted(set(accounts) | set(by_account), key=lambda k: (k.player_id, k.currency)):
        chain = sorted(by_account.get(key, []), key=lambda e: e.version)
        stored = accounts.get(key)
        found.extend(
            Discrepancy(
                player_id=key.player_id,
                currency=key.currency,
                problem=problem,
                stored_balance=stored.balance if stored else None,
                computed_balance=sum(e.delta for e in chain),
                stored_version=stored.version if stored else None,
                entries=len(chain),
            )
            for problem in problems(stored, chain)
        )
    return Report(accounts=len(accounts), entries=count, discrepancies=found)


def problems(stored: AccountState | None, chain: list[Entry]) -> list[str]:
    """What is wrong with one account, given its entries in version order."""
    if stored is None:
        return ["entries without an account"]
    found = []
    if stored.balance != sum(e.delta for e in chain):
        found.append("balance differs from the sum of its entries")
    if stored.version != len(chain):
        found.append("version differs from the number of its entries")
    if [e.version for e in chain] != list(range(1, len(chain) + 1)):
        found.append("entry versions are not 1..n")
    if stored.head is not None:
        found.extend(_link_problems(stored, chain))
    previous = 0
    for entry in chain:
        if entry.balance_before != previous or entry.balance_after != entry.balance_before + entry.delta:
            found.append(f"entry {entry.provider}/{entry.tx_id} breaks the balance chain")
            break
        previous = entry.balance_after
    return found


def _link_problems(stored: AccountState, chain: list[Entry]) -> list[str]:
    """What is wrong with the links from the account's head (the statement walks them)."""
    by_key = {entry.key: entry for entry in chain}
    by_version = {entry.version: entry for entry in chain}
    key, expected = stored.head, stored.version
    while key is not None:
        entry = by_key.get(key)
        if entry is None or entry.version > expected:
            return [f"the links lead to {key!r}, which is not an entry of version {expected} or below"]
        skipped = [by_version.get(v) for v in range(entry.version + 1, expected + 1)]
        if any(e is None or e.prev is not None for e in skipped):
            return [f"the links skip a linked entry above {entry.provider}/{entry.tx_id}"]
        key, expected = entry.prev, entry.version - 1
    if any(e is None or e.prev is not None for e in (by_version.get(v) for v in range(1, expected + 1))):
        return ["the links end above a linked entry"]
    return []
