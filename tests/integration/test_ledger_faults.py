"""Faults injected between the ledger and a real Amazon DynamoDB Local.

A wrapper around a real client passes every call through, except the ones a test breaks: a write that is
applied but whose response is lost (a read timeout), or writes and reads that are always throttled or
cancelled by transaction conflicts. The ledger gets a recorder instead of ``time.sleep``, so its full-jitter
backoff is observed rather than waited for.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from croupier.ledger import AccountKey, AccountState, Kind, Ledger, Movement, RetriesExhausted, Reversal, service
from croupier.ledger.dynamo import DynamoLedgerStore
from croupier.wallet import wiring
from croupier_local.dynamodb import LocalDynamoDB, dynamodb_client
from croupier_local.server import LocalStack
from tests.support.faults import (
    FaultyClient,
    LoseResponses,
    always,
    conflicted,
    faulty_handlers,
    lose_requests,
    throttled,
)
from tests.support.players import units
from tests.support.requests import ruby_request as signed
from tests.support.wallet_table import TABLE, Books

pytestmark = pytest.mark.dynamodb_local

CURRENCY = "KRW"


# --- the client under the faults, and the books read with it ----------------------------------------------------


@pytest.fixture(scope="module")
def real_client(dynamodb_local: LocalDynamoDB) -> Any:
    """croupier_local's client, unlike the shared fixture's: botocore's retries off, 10 s timeouts."""
    return dynamodb_client(dynamodb_local.endpoint_url)


@pytest.fixture(scope="module")
def books(real_client: Any) -> Books:
    return Books(real_client)


def tx(label: str) -> str:
    return f"flt-{label}-{uuid.uuid4().hex}"


def new_account(real_client: Any, deposit: str) -> AccountKey:
    """A fresh player with a funded KRW account, written with the real client (no fault)."""
    player_id = f"flt-{uuid.uuid4().hex[:20]}"
    store = DynamoLedgerStore(TABLE, lambda: real_client)
    assert store.create_player(player_id, [CURRENCY], {}, "2026-01-01T00:00:00.000000Z")
    account = AccountKey(player_id, CURRENCY)
    Ledger(store).move(Movement("admin", f"seed-{player_id}", account, Kind.CREDIT, units(deposit)))
    return account


def faulty_ledger(faulty: FaultyClient, sleeps: list[float], **kwargs: Any) -> Ledger:
    return Ledger(DynamoLedgerStore(TABLE, lambda: faulty), sleep=sleeps.append, **kwargs)


def assert_full_jitter(sleeps: list[float]) -> None:
    """Each pause within [0, min(cap, base * 2**attempt)], and not all of them zero."""
    assert sleeps, "no backoff at all"
    for attempt, pause in enumerate(sleeps):
        bound = min(service.BACKOFF_CAP_SECONDS, service.BACKOFF_BASE_SECONDS * 2**attempt)
        assert 0 <= pause <= bound, f"attempt {attempt}: slept {pause}, bound {bound}"
    assert any(pause > 0 for pause in sleeps)


# --- (a) the write was applied, its response lost ----------------------------------------------------------------


@pytest.mark.parametrize("kind", [Kind.DEBIT, Kind.CREDIT])
def test_a_movement_whose_response_was_lost_is_answered_with_its_original_outcome(
    real_client: Any, books: Books, kind: Kind
) -> None:
    account = new_account(real_client, "100.00")
    faulty = FaultyClient(real_client, {"transact_write_items": LoseResponses(1)})
    sleeps: list[float] = []
    ledger = faulty_ledger(faulty, sleeps)  # the production clock: each attempt stamps its own created_at
    movement = Movement("ruby", tx("lost"), account, kind, units("30.00"))
    after = units("70.00") if kind is Kind.DEBIT else units("130.00")

    outcome = ledger.move(movement)  # applied, response lost, retried by the ledger itself

    assert (outcome.balance_before, outcome.balance_after) == (units("100.00"), after)
    assert faulty.calls["transact_write_items"] == 2
    assert len(sleeps) == 1
    again = ledger.move(movement)  # the provider sends the same request again
    assert (again.balance_before, again.balance_after) == (units("100.00"), after)
    assert books.totals(account)[0] == AccountState(after, 2), "the movement took effect once"


def test_a_lost_response_never_moves_the_money_twice_whatever_the_answer(real_client: Any, books: Books) -> None:
    """The ledger's own retry, then the provider sending it twice more: every answer is the original one."""
    account = new_account(real_client, "100.00")
    faulty = FaultyClient(real_client, {"transact_write_items": LoseResponses(1)})
    ledger = faulty_ledger(faulty, [])
    movement = Movement("ruby", tx("once"), account, Kind.DEBIT, units("30.00"))
    errors: list[str] = []
    for _ in range(3):  # the ledger's own retry, then the provider sending it again, twice
        try:
            ledger.move(movement)
        except ClientError as error:  # an IdempotentParameterMismatchException once escaped here as a 500
            errors.append(error.response["Error"]["Code"])
    assert errors == []
    elsewhere = Ledger(DynamoLedgerStore(TABLE, lambda: real_client)).move(movement)
    assert (elsewhere.replayed, elsewhere.balance_before, elsewhere.balance_after) == (
        True,
        units("100.00"),
        units("70.00"),
    )
    assert books.totals(account)[0] == AccountState(units("70.00"), 2)
    assert faulty.calls["transact_write_items"] >= 2


@pytest.mark.parametrize("kind", [Kind.DEBIT, Kind.CREDIT])
def test_a_byte_identical_retry_after_a_lost_response_is_absorbed_by_the_request_token(
    real_client: Any, books: Books, kind: Kind
) -> None:
    """With a clock that does not move, the retry is the same request: DynamoDB's token makes it a no-op."""
    account = new_account(real_client, "100.00")
    faulty = FaultyClient(real_client, {"transact_write_items": LoseResponses(1)})
    sleeps: list[float] = []
    ledger = faulty_ledger(faulty, sleeps, now=lambda: "2026-01-01T00:00:00.000000Z")
    movement = Movement("ruby", tx("same"), account, kind, units("30.00"))
    after = units("70.00") if kind is Kind.DEBIT else units("130.00")

    outcome = ledger.move(movement)

    assert (outcome.balance_before, outcome.balance_after) == (units("100.00"), after)
    assert faulty.calls["transact_write_items"] == 2
    again = ledger.move(movement)
    assert again.replayed
    assert (again.balance_before, again.balance_after) == (units("100.00"), after)
    third = Ledger(DynamoLedgerStore(TABLE, lambda: real_client)).move(movement)  # another environment
    assert (third.balance_before, third.balance_after) == (units("100.00"), after)
    assert books.totals(account)[0] == AccountState(after, 2)


def test_a_rollback_whose_response_was_lost_is_answered_with_its_original_outcome(
    real_client: Any, books: Books
) -> None:
    account = new_account(real_client, "100.00")
    debit_id = tx("bet")
    Ledger(DynamoLedgerStore(TABLE, lambda: real_client)).move(
        Movement("ruby", debit_id, account, Kind.DEBIT, units("40.00"))
    )
    faulty = FaultyClient(real_client, {"transact_write_items": LoseResponses(1)})
    sleeps: list[float] = []
    ledger = faulty_ledger(faulty, sleeps)
    reversal = Reversal("ruby", f"rollback:{debit_id}", debit_id, account)

    outcome = ledger.reverse(reversal)  # applied, lost, then the re-read finds its own entry

    assert (outcome.balance_before, outcome.balance_after) == (units("60.00"), units("100.00"))
    assert faulty.calls["transact_write_items"] == 1
    assert faulty.calls["transact_get_items"] == 2
    again = ledger.reverse(reversal)
    assert (again.replayed, again.balance_after) == (True, units("100.00"))
    assert books.totals(account)[0] == AccountState(units("100.00"), 3)


def test_a_lost_request_is_retried_and_applied_once(real_client: Any, books: Books) -> None:
    account = new_account(real_client, "100.00")
    faulty = FaultyClient(real_client, {"transact_write_items": lose_requests(2)})
    sleeps: list[float] = []
    ledger = faulty_ledger(faulty, sleeps)

    outcome = ledger.move(Movement("ruby", tx("req"), account, Kind.DEBIT, units("10.00")))

    assert (outcome.replayed, outcome.balance_before, outcome.balance_after) == (False, units("100.00"), units("90.00"))
    assert faulty.calls["transact_write_items"] == 3
    assert len(sleeps) == 2
    assert_full_jitter(sleeps)
    assert books.totals(account)[0] == AccountState(units("90.00"), 2)


# --- (b) throttling and conflicts that never end -------------------------------------------------------------------


def apply(ledger: Ledger, operation: str, own_id: str, debit_id: str, account: AccountKey) -> object:
    if operation == "rollback":
        return ledger.reverse(Reversal("ruby", own_id, debit_id, account))
    kind = Kind.DEBIT if operation == "debit" else Kind.CREDIT
    return ledger.move(Movement("ruby", own_id, account, kind, units("10.00")))


@pytest.mark.parametrize("error", [throttled, conflicted], ids=["throttling", "transaction-conflict"])
@pytest.mark.parametrize("operation", ["debit", "credit", "rollback"])
def test_writes_that_always_fail_transiently_end_in_retry_later_after_bounded_attempts(
    real_client: Any, books: Books, error: Callable[[str], Exception], operation: str
) -> None:
    account = new_account(real_client, "100.00")
    debit_id = tx("target")
    Ledger(DynamoLedgerStore(TABLE, lambda: real_client)).move(
        Movement("ruby", debit_id, account, Kind.DEBIT, units("5.00"))
    )
    before = books.items_of(account)
    faulty = FaultyClient(real_client, {"transact_write_items": always(error)})
    sleeps: list[float] = []
    ledger = faulty_ledger(faulty, sleeps)
    own_id = tx(operation)

    with pytest.raises(RetriesExhausted) as raised:
        apply(ledger, operation, own_id, debit_id, account)

    assert (raised.value.status, raised.value.code) == (503, "RETRY_LATER")
    assert faulty.calls["transact_write_items"] == service.MAX_ATTEMPTS
    assert len(sleeps) == service.MAX_ATTEMPTS - 1  # a pause between attempts, none after the last
    assert_full_jitter(sleeps)
    assert books.items_of(account) == before, "the table changed"
    assert books.entry("ruby", own_id) is None


def test_reads_that_are_always_throttled_end_in_retry_later(real_client: Any, books: Books) -> None:
    account = new_account(real_client, "100.00")
    faulty = FaultyClient(real_client, {"get_item": always(throttled)})
    sleeps: list[float] = []
    ledger = faulty_ledger(faulty, sleeps)

    with pytest.raises(RetriesExhausted):
        ledger.balance(account)
    with pytest.raises(RetriesExhausted):
        ledger.move(Movement("ruby", tx("cold"), account, Kind.DEBIT, units("1.00")))  # cold: reads first

    assert faulty.calls == {"get_item": 2 * service.MAX_ATTEMPTS}
    pauses = service.MAX_ATTEMPTS - 1  # no pause after the last attempt
    assert len(sleeps) == 2 * pauses
    assert_full_jitter(sleeps[:pauses])
    assert_full_jitter(sleeps[pauses:])
    assert books.totals(account)[0] == AccountState(units("100.00"), 1)


# --- (c) the same through the HTTP handler ---------------------------------------------------------------------------


@pytest.mark.parametrize("operation", ["debit", "credit", "rollback"])
def test_a_throttled_callback_answers_503_retry_later_and_writes_nothing(
    local_stack: LocalStack, books: Books, monkeypatch: pytest.MonkeyPatch, operation: str
) -> None:
    player_id, ruby_id = f"flt-{uuid.uuid4().hex[:20]}", 4_000_000_000 + (uuid.uuid4().int >> 80)
    admin = wiring.admin()
    admin.create_player(json.dumps({"player_id": player_id, "currency": CURRENCY, "links": {"ruby": ruby_id}}).encode())
    admin.deposit(player_id, json.dumps({"currency": CURRENCY, "amount": "100", "reference": tx("dep")}).encode())
    account = AccountKey(player_id, CURRENCY)
    debit_id = tx("bet")
    bet = signed("debit", {"player_id": ruby_id, "amount": "10.00", "transaction_id": debit_id})
    assert local_stack.handle(bet).status == 200
    before = books.items_of(account)

    faulty, sleeps = faulty_handlers(monkeypatch, {"transact_write_items": always(throttled)})
    own_id = tx(operation)
    body: dict[str, Any] = {"player_id": ruby_id, "transaction_id": own_id}
    if operation == "rollback":
        body["ref_transaction_id"] = debit_id
    else:
        body["amount"] = "1.00"

    response = local_stack.handle(signed(operation, body))

    assert response.status == 503
    assert response.json()["error"] == "RETRY_LATER"
    assert faulty.calls["transact_write_items"] == service.MAX_ATTEMPTS
    assert_full_jitter(sleeps)
    assert books.items_of(account) == before, "the table changed"
    assert books.entry("ruby", own_id) is None
    monkeypatch.undo()
    retried = local_stack.handle(signed(operation, body))  # the same request once DynamoDB is back
    assert retried.status == 200
    expected = {"debit": "89.00", "credit": "91.00", "rollback": "100.00"}[operation]
    assert retried.json()["balance"] == expected
