"""The ledger's logic: exactly-once movements and reversals over a store that commits atomically.

The response to a movement carries the balance before and after it, so the transaction must know the
account's state: a snapshot cached per execution environment supplies it, and the transaction's own
condition (``version = expected``) proves it. When the snapshot is stale, the cancelled transaction hands
back the current account (``ALL_OLD``) and the next attempt uses that, with no separate read. Funds are
decided by the condition ``balance >= amount`` inside the transaction, never by the snapshot.
"""

from __future__ import annotations

import random
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

from croupier.errors import Unavailable
from croupier.ledger import protection
from croupier.ledger.model import (
    AccountKey,
    AccountState,
    BackingExceeded,
    BackingSettled,
    Effect,
    Entry,
    IdempotencyConflict,
    InsufficientFunds,
    Kind,
    Movement,
    NotReversible,
    Outcome,
    ReplayedRequest,
    Reversal,
    ReversalAmountMismatch,
    ReversedBeforeArrival,
    UnbackedCredit,
    UnknownAccount,
)
from croupier.ledger.protection import Protection
from croupier.ledger.store import CommitPlan, Failed, LedgerStore, TransientStoreError

MAX_ATTEMPTS = 8
"""Transient failures (throttling, conflicts, lost answers) a request may meet before it gives up."""
MAX_RACES = 64
"""Attempts of any kind: lost version races retry at once, bounded by this and the time budget."""
BACKOFF_BASE_SECONDS = 0.01
BACKOFF_CAP_SECONDS = 0.25
SNAPSHOT_CACHE_SIZE = 10_000
RETRY_BUDGET_SECONDS = 3.5
"""When a caller gives no deadline: every attempt, retries included, ends within this after the call began."""
ATTEMPT_SECONDS = 1.5
"""The longest one attempt (a read or a commit) can take: the DynamoDB client's connect plus read timeouts
(``croupier.aws.CLIENT_CONFIG``; the wiring passes the configured values). No attempt starts unless it can end
before the deadline, so nothing is sent to DynamoDB that could still be under way when the answer leaves."""

T = TypeVar("T")


class RetriesExhausted(Unavailable):
    code = "RETRY_LATER"
    metric = "RetryLater"


_second: tuple[int, str] = (-1, "")


def utc_now_iso() -> str:
    """Now in UTC to the microsecond, ``2026-11-29T12:34:56.789012Z`` (``datetime.now(UTC).isoformat`` with ``Z``):
    the text of the second is worked out once a second, the microseconds are integer arithmetic."""
    global _second
    micros = time.time_ns() // 1000
    seconds, fraction = divmod(micros, 1_000_000)
    cached = _second
    if cached[0] != seconds:
        cached = _second = (seconds, datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds")[:-6])
    return f"{cached[1]}.{fraction:06d}Z"


class SnapshotCache:
    """The last known state of recently used accounts (bounded LRU, thread-safe). Only a hint."""

    def __init__(self, size: int = SNAPSHOT_CACHE_SIZE) -> None:
        self._size = size
        self._items: OrderedDict[AccountKey, AccountState] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: AccountKey) -> AccountState | None:
        with self._lock:
            state = self._items.get(key)
            if state is not None:
                self._items.move_to_end(key)
            return state

    def put(self, key: AccountKey, state: AccountState) -> None:
        with self._lock:
            current = self._items.get(key)
            if current is not None and current.age > state.age:
                return  # never go back in time
            self._items[key] = state
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def forget(self, key: AccountKey) -> None:
        with self._lock:
            self._items.pop(key, None)


class Ledger:
    def __init__(
        self,
        store: LedgerStore,
        *,
        now: Callable[[], str] = utc_now_iso,
        sleep: Callable[[float], None] = time.sleep,
        max_attempts: int = MAX_ATTEMPTS,
        budget_seconds: float = RETRY_BUDGET_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
        cache: SnapshotCache | None = None,
        attempt_seconds: float = ATTEMPT_SECONDS,
    ) -> None:
        self.store = store
        self.now = now
        self.sleep = sleep
        self.max_attempts = max_attempts
        self.budget_seconds = budget_seconds
        self.attempt_seconds = attempt_seconds
        self.monotonic = monotonic
        self.snapshots = cache if cache is not None else SnapshotCache()
        self._random = random.Random()  # noqa: S311 - jitter, not secrecy

    # reads -----------------------------------------------------------------------------------------

    def deadline(self, seconds: float | None = None) -> float:
        """The monotonic time ``seconds`` (default: the budget) from now: a request's deadline, taken when it
        arrives and passed to every call it makes, so that the whole request (its reads, its commit and their
        retries) ends inside its provider's timeout."""
        return self.monotonic() + (self.budget_seconds if seconds is None else seconds)

    def ensure_time(self, deadline: float) -> None:
        """Refuse (503, nothing written) to start an attempt that could still be under way at ``deadline``."""
        if self.monotonic() + self.attempt_seconds > deadline:
            raise RetriesExhausted("the wallet is busy; retry the same request")

    def balance(self, account: AccountKey, *, deadline: float | None = None) -> AccountState:
        """A live read (never the cache), which also refreshes the cache."""
        until = self.deadline() if deadline is None else deadline
        state = self._attempt_read(lambda: self.store.read_account(account), until)
        if state is None:
            raise UnknownAccount("unknown player or currency")
        self.snapshots.put(account, state)
        return state

    # movements -------------------------------------------------------------------------------------

    def move(self, movement: Movement, *, deadline: float | None = None) -> Outcome:
        account = movement.account
        if deadline is None:
            deadline = self.deadline()
        cached = self.snapshots.get(account)
        state = cached or self.balance(account, deadline=deadline)
        confirmed = cached is None  # a refusal by protection is only answered from a state read live
        plan: CommitPlan | None = None
        uncertain = False  # the last attempt's answer was lost: it may have committed
        failures = 0  # throttling, conflicts, lost answers: bounded by max_attempts and the budget
        try:
            for _ in range(MAX_RACES):
                if plan is None:  # a new plan only when the state it rests on changed: a retry resends it whole
                    try:
                        plan = self._movement_plan(movement, state)
                    except protection.ProtectionRefusal:
                        # No write: a replay of an earlier request is answered as it was, and a refusal taken from
                        # a cached snapshot is taken again from the account as it is (a lifted exclusion, a win).
                        existing = self._attempt_read(
                            lambda: self.store.read_entry(movement.provider, movement.tx_id), deadline
                        )
                        if existing is not None:
                            return self._replay(existing, movement.fingerprint, movement.kind)
                        if confirmed:
                            raise
                        state, confirmed = self.balance(account, deadline=deadline), True
                        plan = self._movement_plan(movement, state)
                self.ensure_time(deadline)
                result = self.store.commit(plan)
                uncertain = result.uncertain
                if result.ok:
                    self.snapshots.put(account, _after(plan))
                    return Outcome(plan.entry)
                if Failed.ENTRY_EXISTS in result.failed and result.existing is not None:
                    return self._replay(result.existing, movement.fingerprint, movement.kind)
                if Failed.MARKER in result.failed:
                    raise IdempotencyConflict("this transaction id was used before by another transaction")
                if Failed.BACKING in result.failed:
                    raise _unbacked(movement, result.backing)
                if Failed.ACCOUNT in result.failed:
                    if result.account is None:
                        self.snapshots.forget(account)
                        raise UnknownAccount("unknown player or currency")
                    if result.account.age == state.age:
                        self.snapshots.put(account, result.account)
                        raise InsufficientFunds("insufficient funds")
                    # Lost a race (or the protection changed): the cancelled transaction handed back the newest
                    # state. Decide again at once (a pause would only let newer requests overtake), within the
                    # time budget.
                    state, plan, confirmed = result.account, None, True
                    self.snapshots.put(account, state)
                    continue
                if Failed.TOKEN_REUSED in result.failed:
                    plan = None  # someone else's request under this token: rebuild, and the entry check decides
                    continue
                failures += 1  # transient: conflict, throttling or a lost response (the same token is resent)
                if failures >= self.max_attempts:
                    break
                self._backoff(failures - 1, deadline)
            raise RetriesExhausted("the wallet is busy; retry the same request")
        except RetriesExhausted as exhausted:
            if not uncertain:
                raise
            try:  # never answer "not done" for what may be done: look once (if there is time), answer what is stored
                self.ensure_time(deadline)
                existing = self.store.read_entry(movement.provider, movement.tx_id)
            except (TransientStoreError, RetriesExhausted):
                raise exhausted from None
            if existing is None:
                raise
            return self._replay(existing, movement.fingerprint, movement.kind)

    def _movement_plan(self, movement: Movement, state: AccountState) -> CommitPlan:
        sign = -1 if movement.kind is Kind.DEBIT else 1
        now = self.now()
        entry = Entry(
            provider=movement.provider,
            tx_id=movement.tx_id,
            kind=movement.kind,
            account=movement.account,
            amount=movement.amount,
            delta=sign * movement.amount,
            balance_before=state.balance,
            balance_after=state.balance + sign * movement.amount,
            version=state.version + 1,
            created_at=now,
            fingerprint=movement.fingerprint,
            meta=dict(movement.meta),
            signature=movement.signature,
            backs=movement.backs,
        )
        marker = None
        if movement.alias is not None:
            marker = _placeholder(
                Kind.MARKER, movement.provider, movement.alias, movement.account, now, target_tx_id=movement.tx_id
            )
        need = movement.amount if movement.kind is Kind.DEBIT else 0
        after = protection.decide(
            state.protection, movement.protection_purpose, movement.amount, protection.parse_time(now)
        )
        return CommitPlan(
            entry=entry,
            expected=state,
            require_funds=need,
            marker=marker,
            backed_by=movement.backed_by,
            windows=after.windows if after is not state.protection else None,
        )

    # reversals -------------------------------------------------------------------------------------

    def reverse(self, reversal: Reversal, *, deadline: float | None = None) -> Outcome:
        account = reversal.account
        if reversal.tx_id == reversal.target_tx_id:
            raise NotReversible("a reversal cannot name itself as its target")
        if deadline is None:
            deadline = self.deadline()
        failures = 0
        for _ in range(MAX_RACES):
            own, target, state = self._attempt_read(
                lambda: self.store.read_for_reversal(reversal.provider, reversal.tx_id, reversal.target_tx_id, account),
                deadline,
            )
            if own is not None:
                return self._replay(own, reversal.fingerprint, Kind.REVERSAL)
            if state is None:
                raise UnknownAccount("unknown player or currency")
            plan = self._reversal_plan(reversal, target, state)
            self.ensure_time(deadline)
            result = self.store.commit(plan)
            if result.ok:
                self.snapshots.put(account, _after(plan))
                return Outcome(plan.entry)
            if Failed.ENTRY_EXISTS in result.failed and result.existing is not None:
                return self._replay(result.existing, reversal.fingerprint, Kind.REVERSAL)
            if result.failed & {Failed.ACCOUNT, Failed.TARGET, Failed.TOMBSTONE, Failed.TOKEN_REUSED}:
                continue  # something moved under us: read again, at once (if there is time)
            failures += 1  # the next read shows whether a lost response had committed
            if failures >= self.max_attempts:
                break
            self._backoff(failures - 1, deadline)
        raise RetriesExhausted("the wallet is busy; retry the same request")

    def _reversal_plan(self, reversal: Reversal, target: Entry | None, state: AccountState) -> CommitPlan:
        account = reversal.account
        now = self.now()

        def entry(amount: int, delta: int, effect: Effect) -> Entry:
            return Entry(
                provider=reversal.provider,
                tx_id=reversal.tx_id,
                kind=Kind.REVERSAL,
                account=account,
                amount=amount,
                delta=delta,
                balance_before=state.balance,
                balance_after=state.balance + delta,
                version=state.version + 1,
                created_at=now,
                fingerprint=reversal.fingerprint,
                effect=effect,
                target_tx_id=reversal.target_tx_id,
                meta=dict(reversal.meta),
                signature=reversal.signature,
            )

        if target is None:
            tombstone = _placeholder(
                Kind.TOMBSTONE, reversal.provider, reversal.target_tx_id, account, now, reversed_by=reversal.tx_id
            )
            return CommitPlan(entry=entry(0, 0, Effect.TARGET_UNKNOWN), expected=state, tombstone=tombstone)
        if target.kind is Kind.TOMBSTONE:
            return CommitPlan(entry=entry(0, 0, Effect.ALREADY_REVERSED), expected=state)
        if reversal.signature and target.signature == reversal.signature:
            raise ReplayedRequest("this request carries the signature of the transaction it would reverse")
        if target.account != account or target.kind not in reversal.reversible:
            raise NotReversible(f"transaction {reversal.target_tx_id!r} cannot be reversed by this request")
        if reversal.amount is not None and reversal.amount != target.amount:
            raise ReversalAmountMismatch("the amount differs from the amount of the transaction it reverses")
        if target.reversed_by is not None:
            return CommitPlan(entry=entry(target.amount, 0, Effect.ALREADY_REVERSED), expected=state)
        if target.credited_by is not None:
            raise BackingSettled(f"transaction {reversal.target_tx_id!r} backed a credit; it cannot be reversed")
        delta = target.amount if target.kind is Kind.DEBIT else -target.amount
        was = protection.purpose_of(target.provider, target.kind is Kind.DEBIT)
        after = protection.undo(state.protection, was, target.amount, target.created_at, protection.parse_time(now))
        return CommitPlan(
            entry=entry(target.amount, delta, Effect.APPLIED),
            expected=state,
            mark_target=reversal.target_tx_id,
            windows=after.windows if after is not state.protection else None,
        )

    # helpers ---------------------------------------------------------------------------------------

    def _replay(self, existing: Entry, fingerprint: str, kind: Kind) -> Outcome:
        if existing.kind is Kind.MARKER:
            raise IdempotencyConflict("this transaction id was used before by another transaction")
        if existing.kind is Kind.TOMBSTONE and kind is not Kind.REVERSAL:
            raise ReversedBeforeArrival("this transaction was rolled back before it arrived", existing)
        if existing.fingerprint != fingerprint:
            raise IdempotencyConflict("this transaction id was used before with different content")
        return Outcome(existing, replayed=True)

    def _backoff(self, attempt: int, deadline: float) -> None:
        """Full jitter: a random pause up to an exponentially growing, capped bound. No pause after the last
        attempt, and none after which the next attempt could not end before the deadline: then the request is
        given up (503, retryable)."""
        if attempt + 1 >= self.max_attempts:
            return
        pause = self._random.uniform(0, min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * (2**attempt)))
        if self.monotonic() + pause + self.attempt_seconds > deadline:
            raise RetriesExhausted("the wallet is busy; retry the same request")
        self.sleep(pause)

    def _attempt_read(self, read: Callable[[], T], deadline: float) -> T:
        for attempt in range(self.max_attempts):
            self.ensure_time(deadline)
            try:
                return read()
            except TransientStoreError:
                self._backoff(attempt, deadline)
        raise RetriesExhausted("the wallet is busy; retry the same request")


def _after(plan: CommitPlan) -> AccountState:
    """The account as a committed plan left it."""
    expected = plan.expected.protection
    if plan.windows is not None:
        expected = Protection(expected.revision, expected.exclusion, expected.limits, plan.windows)
    entry = plan.entry
    return AccountState(entry.balance_after, entry.version, expected, head=entry.key)


def _placeholder(
    kind: Kind,
    provider: str,
    tx_id: str,
    account: AccountKey,
    now: str,
    *,
    target_tx_id: str | None = None,
    reversed_by: str | None = None,
) -> Entry:
    """An item that holds a transaction id but moves no money: a marker of an alias (``target_tx_id``), a
    tombstone (``reversed_by``)."""
    return Entry(
        provider=provider,
        tx_id=tx_id,
        kind=kind,
        account=account,
        amount=0,
        delta=0,
        balance_before=0,
        balance_after=0,
        version=0,
        created_at=now,
        fingerprint="",
        target_tx_id=target_tx_id,
        reversed_by=reversed_by,
    )


def _unbacked(movement: Movement, backing: Entry | None) -> Exception:
    """Why the debit a credit names could not back it (its item as the cancelled transaction handed it back)."""
    if backing is None or backing.kind is Kind.MARKER or backing.account != movement.account:
        return UnbackedCredit("no bet of this player, currency and round")
    if backing.kind is Kind.TOMBSTONE or backing.reversed_by is not None:
        return BackingSettled("the bet of this round was refunded")
    if backing.kind is not Kind.DEBIT or backing.backs is None:
        return UnbackedCredit("no bet of this player, currency and round")
    return BackingExceeded("the wins of this bet would pass its stake times the maximum multiplier")
