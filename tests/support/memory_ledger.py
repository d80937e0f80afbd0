"""The ledger's store port in memory, for the ledger's logic alone (no sockets, no DynamoDB).

One commit is all or nothing, as the ``TransactWriteItems`` of ``DynamoLedgerStore``: every condition is checked
(the entry's key free, the account's version and funds, a reversal's target not reversed nor backing a credit, a
backed credit's debit of the same account, not reversed, with room enough, the placeholders' keys free)
before anything is written, a failed condition hands back what is stored (``ALL_OLD``), and a plan sent again
under its token within DynamoDB's idempotency window is answered "done" without being applied twice. Faults are
queued: ``fail_next`` answers commits with a failure instead of committing; ``lose_next_answers`` commits and then
loses the answer (a timeout after the write); ``meanwhile`` runs an action (another request) just before each of
the next commits, as a concurrent request would.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from croupier.ledger import AccountKey, AccountState, Entry
from croupier.ledger.store import CommitPlan, CommitResult, Failed, TransientStoreError


class MemoryLedgerStore:
    def __init__(self) -> None:
        self.accounts: dict[AccountKey, AccountState] = {}
        self.entries: dict[tuple[str, str], Entry] = {}
        self.commits: list[CommitPlan] = []
        self.links: dict[str, str | None] = {}
        """Each entry's key → the head it was linked to (its ``prev``), as ``DynamoLedgerStore`` stores it."""
        self.reads = 0
        self.read_errors = 0
        """How many of the next reads raise a transient error."""
        self._tokens: dict[str, CommitPlan] = {}
        self._faults: list[CommitResult] = []
        self._lost = 0
        self._meanwhile: list[Callable[[], object]] = []
        self._busy = False

    # set-up and faults -------------------------------------------------------------------------------

    def open(self, account: AccountKey) -> None:
        self.accounts[account] = AccountState(0, 0)

    def fail_next(self, *results: CommitResult) -> None:
        self._faults.extend(results)

    def lose_next_answers(self, times: int) -> None:
        self._lost += times

    def meanwhile(self, *actions: Callable[[], object]) -> None:
        self._meanwhile.extend(actions)

    # the port ----------------------------------------------------------------------------------------

    def chain(self, account: AccountKey) -> list[Entry]:
        """The account's entries as their links reach them from its head, newest first."""
        found, key = [], self.accounts[account].head
        while key is not None:
            provider, tx_id = key.split("#", 1)
            found.append(self.entries[(provider, tx_id)])
            key = self.links[key]
        return found

    def read_account(self, account: AccountKey) -> AccountState | None:
        self._maybe_fail_read()
        return self.accounts.get(account)

    def read_entry(self, provider: str, tx_id: str) -> Entry | None:
        self._maybe_fail_read()
        return self.entries.get((provider, tx_id))

    def read_for_reversal(
        self, provider: str, tx_id: str, target_tx_id: str, account: AccountKey
    ) -> tuple[Entry | None, Entry | None, AccountState | None]:
        self._maybe_fail_read()
        return (
            self.entries.get((provider, tx_id)),
            self.entries.get((provider, target_tx_id)),
            self.accounts.get(account),
        )

    def commit(self, plan: CommitPlan) -> CommitResult:
        if self._meanwhile and not self._busy:
            self._busy = True
            try:
                self._meanwhile.pop(0)()
            finally:
                self._busy = False
        self.commits.append(plan)
        if self._faults:
            return self._faults.pop(0)
        result = self._commit(plan)
        if result.ok and self._lost:
            self._lost -= 1
            return CommitResult(ok=False, failed=frozenset({Failed.TRANSIENT}), transient="ReadTimeout", uncertain=True)
        return result

    # what DynamoDB does with the transaction ---------------------------------------------------------

    def _commit(self, plan: CommitPlan) -> CommitResult:
        entry = plan.entry
        if plan.token in self._tokens:
            if self._tokens[plan.token] == plan:
                return CommitResult(ok=True)  # the same request again: done once, answered again
            return CommitResult(ok=False, failed=frozenset({Failed.TOKEN_REUSED}))
        failed: set[Failed] = set()
        existing = self.entries.get((entry.provider, entry.tx_id))
        if existing is not None:
            failed.add(Failed.ENTRY_EXISTS)
        state = self.accounts.get(entry.account)
        if (
            state is None
            or state.version != plan.expected.version
            or state.protection.revision != plan.expected.protection.revision
            or state.balance < plan.require_funds
        ):
            failed.add(Failed.ACCOUNT)
        if plan.mark_target is not None:
            target = self.entries.get((entry.provider, plan.mark_target))
            if target is None or target.reversed_by is not None or target.credited_by is not None:
                failed.add(Failed.TARGET)
        backing = None if plan.backed_by is None else self.entries.get((entry.provider, plan.backed_by))
        if plan.backed_by is not None and (
            backing is None
            or backing.backs is None
            or backing.backs < entry.amount
            or backing.account != entry.account
            or backing.reversed_by is not None
        ):
            failed.add(Failed.BACKING)
        if plan.tombstone is not None and (entry.provider, plan.tombstone.tx_id) in self.entries:
            failed.add(Failed.TOMBSTONE)
        if plan.marker is not None and (entry.provider, plan.marker.tx_id) in self.entries:
            failed.add(Failed.MARKER)
        if failed:
            account = state if Failed.ACCOUNT in failed else None
            backing = backing if Failed.BACKING in failed else None
            return CommitResult(ok=False, failed=frozenset(failed), existing=existing, account=account, backing=backing)
        self.entries[(entry.provider, entry.tx_id)] = entry
        assert state is not None
        windows = state.protection.windows if plan.windows is None else plan.windows
        self.accounts[entry.account] = AccountState(
            entry.balance_after, entry.version, replace(state.protection, windows=windows), head=entry.key
        )
        self.links[entry.key] = plan.expected.head
        if plan.mark_target is not None:
            key = (entry.provider, plan.mark_target)
            self.entries[key] = replace(self.entries[key], reversed_by=entry.tx_id)
        if backing is not None and backing.backs is not None:
            key = (entry.provider, backing.tx_id)
            self.entries[key] = replace(backing, backs=backing.backs - entry.amount, credited_by=entry.tx_id)
        for placeholder in (plan.tombstone, plan.marker):
            if placeholder is not None:
                self.entries[(placeholder.provider, placeholder.tx_id)] = placeholder
        self._tokens[plan.token] = plan
        return CommitResult(ok=True)

    def _maybe_fail_read(self) -> None:
        self.reads += 1
        if self.read_errors:
            self.read_errors -= 1
            raise TransientStoreError("ThrottlingException")
