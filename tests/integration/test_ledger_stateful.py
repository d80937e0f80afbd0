"""A stateful property test: random debits, credits, rollbacks, replays and reorderings on DynamoDB Local,
checked step by step against an in-memory model of what the ledger must do.

Invariants: the balance equals the model's, and the sum of the account's entries; one effect per
transaction id (a replay answers the original outcome, a changed replay is a conflict that writes
nothing); a debit never overdraws; a rollback reverses its debit at most once, and a debit that
arrives after its rollback has no effect.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from croupier.ledger import (
    AccountKey,
    IdempotencyConflict,
    InsufficientFunds,
    Kind,
    Ledger,
    Movement,
    NotReversible,
    Reversal,
    ReversedBeforeArrival,
)
from croupier.ledger.dynamo import DynamoLedgerStore
from croupier.ledger.reconcile import problems
from tests.support.wallet_table import TABLE

TX_IDS = [f"t{i}" for i in range(6)]
AMOUNTS = st.integers(min_value=0, max_value=400)


@dataclass
class Model:
    balance: int = 0
    movements: dict[str, tuple[Kind, int, tuple[int, int]]] = field(default_factory=dict)
    """tx id → (kind, amount, (balance_before, balance_after)) of every applied movement."""
    reversed: set[str] = field(default_factory=set)
    tombstones: set[str] = field(default_factory=set)
    rollbacks: dict[str, tuple[int, int]] = field(default_factory=dict)
    """target tx id → the outcome of its (one) rollback."""


@pytest.fixture(scope="module")
def store(real_client: Any) -> DynamoLedgerStore:
    return DynamoLedgerStore(TABLE, lambda: real_client)


class LedgerMachine(RuleBasedStateMachine):
    store: DynamoLedgerStore

    def __init__(self) -> None:
        super().__init__()
        self.prefix = uuid.uuid4().hex[:12]
        self.account = AccountKey(f"stateful-{self.prefix}", "EUR")
        assert self.store.create_player(self.account.player_id, ["EUR"], {}, "2026-11-21T00:00:00Z")
        self.ledger = Ledger(self.store, sleep=lambda _: None)
        self.model = Model()

    def tx(self, name: str) -> str:
        return f"{self.prefix}-{name}"

    def _movement(self, kind: Kind, name: str, amount: int) -> None:
        tx_id = self.tx(name)
        movement = Movement("stateful", tx_id, self.account, kind, amount)
        known = self.model.movements.get(name)
        if name in self.model.tombstones and known is None:
            with pytest.raises(ReversedBeforeArrival):
                self.ledger.move(movement)
            return
        if known is not None:
            if (known[0], known[1]) != (kind, amount):
                with pytest.raises(IdempotencyConflict):
                    self.ledger.move(movement)
                return
            outcome = self.ledger.move(movement)
            assert outcome.replayed
            assert (outcome.balance_before, outcome.balance_after) == known[2]
            return
        if kind is Kind.DEBIT and amount > self.model.balance:
            with pytest.raises(InsufficientFunds):
                self.ledger.move(movement)
            return
        outcome = self.ledger.move(movement)
        assert not outcome.replayed
        after = self.model.balance + (amount if kind is Kind.CREDIT else -amount)
        assert (outcome.balance_before, outcome.balance_after) == (self.model.balance, after)
        self.model.balance = after
        self.model.movements[name] = (kind, amount, (outcome.balance_before, after))

    @rule(name=st.sampled_from(TX_IDS), amount=AMOUNTS)
    def debit(self, name: str, amount: int) -> None:
        self._movement(Kind.DEBIT, name, amount)

    @rule(name=st.sampled_from(TX_IDS), amount=AMOUNTS)
    def credit(self, name: str, amount: int) -> None:
        self._movement(Kind.CREDIT, name, amount)

    @rule(name=st.sampled_from(TX_IDS))
    def rollback(self, name: str) -> None:
        reversal = Reversal("stateful", self.tx(f"rollback-{name}"), self.tx(name), self.account)
        if name in self.model.rollbacks:  # a replay of the same rollback
            outcome = self.ledger.reverse(reversal)
            assert outcome.replayed
            assert (outcome.balance_before, outcome.balance_after) == self.model.rollbacks[name]
            return
        known = self.model.movements.get(name)
        if known is not None and known[0] is Kind.CREDIT:
            with pytest.raises(NotReversible):
                self.ledger.reverse(reversal)
            return
        outcome = self.ledger.reverse(reversal)
        assert not outcome.replayed
        refund = known[1] if known is not None else 0
        if known is None:
            self.model.tombstones.add(name)
        else:
            self.model.reversed.add(name)
        after = self.model.balance + refund
        assert (outcome.balance_before, outcome.balance_after) == (self.model.balance, after)
        self.model.balance = after
        self.model.rollbacks[name] = (outcome.balance_before, after)

    @invariant()
    def balance_matches_the_model_and_never_goes_negative(self) -> None:
        state = self.ledger.balance(self.account)
        assert state.balance == self.model.balance
        assert state.balance >= 0

    def teardown(self) -> None:
        items, _ = self.store.list_entries(self.account, 100, None)
        state = self.store.read_account(self.account)
        assert problems(state, sorted(items, key=lambda e: e.version)) == []


@pytest.mark.dynamodb_local
def test_the_ledger_behaves_like_its_model(store: DynamoLedgerStore) -> None:
    LedgerMachine.store = store
    runner = LedgerMachine.TestCase()
    runner.settings = settings(
        max_examples=30,
        stateful_step_count=25,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    runner.runTest()
