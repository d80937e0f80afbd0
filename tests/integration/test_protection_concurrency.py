"""Player protection decided inside the debit's own transaction, attacked with concurrent debits on DynamoDB Local.

Every contender is a Ledger with a snapshot cache of its own (separate Lambda execution environments), all warmed
on the same state and released together: each decides its stake from a snapshot that passes the limit, so a
read-check-write would let them all through. The account's version condition proves the snapshot: exactly the
stakes that fit are taken and the window's counters equal the sum of the entries.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime

import pytest

from croupier.ledger import AccountState, Kind, Ledger, Movement, Outcome, RetriesExhausted, Reversal
from croupier.ledger.dynamo import AuditRecord
from croupier.ledger.protection import (
    Exclusion,
    ExclusionKind,
    Limit,
    LossLimitReached,
    PlayerExcluded,
    ProtectionRefusal,
    Purpose,
    WagerLimitReached,
    window_key,
)
from croupier.wallet import wiring
from croupier_local.dynamodb import LocalDynamoDB, dynamodb_client
from croupier_local.server import LocalStack
from tests.support.concurrency import at_once, send_together
from tests.support.players import Player, cold_ruby_player, units
from tests.support.requests import ruby_request as signed
from tests.support.wallet_table import Books

pytestmark = pytest.mark.dynamodb_local

CONTENDERS = 12
NOW = "2026-11-29T12:00:00.000000Z"


@pytest.fixture(scope="module")
def books(dynamodb_local: LocalDynamoDB, local_stack: LocalStack) -> Books:
    assert dynamodb_local.kind == "dynamodb-local", "concurrency tests need DynamoDB Local, never moto"
    return Books(dynamodb_client(dynamodb_local.endpoint_url), wiring.ledger_store().table)


def tx(label: str) -> str:
    return f"pc-{label}-{uuid.uuid4().hex}"


def audit(player: Player, action: str) -> AuditRecord:
    return AuditRecord(player.player_id, uuid.uuid4().hex, NOW, "test", action, "{}")


def set_limits(player: Player, *limits: Limit) -> None:
    store = wiring.ledger_store()
    state = store.read_account(player.account)
    assert state is not None
    assert store.change_protection(
        player.player_id, {player.account.currency: state.protection.revision}, audit(player, "limits"), limits=limits
    )


def ledger() -> Ledger:
    return Ledger(wiring.ledger_store(), now=lambda: NOW)


def stake(player: Player, amount: str, label: str = "bet") -> Movement:
    return Movement("ruby", tx(label), player.account, Kind.DEBIT, units(amount))


def race(player: Player, amount: str) -> list[Outcome | Exception]:
    ledgers = [ledger() for _ in range(CONTENDERS)]
    for each in ledgers:
        each.balance(player.account)  # every environment warm on the same state

    def bet(each: Ledger) -> Outcome | Exception:
        try:
            return each.move(stake(player, amount))
        except (ProtectionRefusal, RetriesExhausted) as error:
            return error

    return at_once([(lambda e=each: bet(e)) for each in ledgers])


def test_concurrent_stakes_never_pass_a_wager_limit_together(books: Books) -> None:
    player = cold_ruby_player("pc", 4_000_000_000, "1000.00")
    set_limits(player, Limit("wager", "day", units("50.00")))

    results = race(player, "10.00")

    assert not [r for r in results if isinstance(r, RetriesExhausted)]
    assert sum(isinstance(r, Outcome) for r in results) == 5
    assert sum(isinstance(r, WagerLimitReached) for r in results) == CONTENDERS - 5
    state, _ = books.check(player.account)
    assert state == AccountState(units("950.00"), 1 + 5)
    stored = wiring.ledger_store().read_account(player.account)
    assert stored is not None
    day = stored.protection.window("day", datetime(2026, 11, 29, 12, tzinfo=UTC))
    assert (day.key, day.wager, day.loss) == ("2026-11-29", units("50.00"), units("50.00"))


def test_concurrent_stakes_never_pass_a_loss_limit_together_and_wins_make_room(books: Books) -> None:
    player = cold_ruby_player("pc", 4_000_000_000, "1000.00")
    set_limits(player, Limit("loss", "week", units("30.00")), Limit("loss", "month", units("100.00")))

    results = race(player, "10.00")

    assert sum(isinstance(r, Outcome) for r in results) == 3, "the lowest limit (the week's) binds"
    assert sum(isinstance(r, LossLimitReached) for r in results) == CONTENDERS - 3
    ledger().move(Movement("ruby", tx("win"), player.account, Kind.CREDIT, units("10.00")))
    ledger().move(stake(player, "10.00"))  # the win made room for exactly one more
    with pytest.raises(LossLimitReached):
        ledger().move(stake(player, "0.01"))
    state, _ = books.check(player.account)
    assert state.balance == units("970.00")


def test_a_limit_binds_at_its_boundary_to_the_cent_and_a_refund_gives_room_back(books: Books) -> None:
    player = cold_ruby_player("pc", 4_000_000_000, "1000.00")
    set_limits(player, Limit("wager", "month", units("25.50")))
    first = stake(player, "25.49")
    ledger().move(first)
    with pytest.raises(WagerLimitReached):
        ledger().move(stake(player, "0.02"))
    ledger().move(stake(player, "0.01"))  # exactly the limit passes
    with pytest.raises(WagerLimitReached):
        ledger().move(stake(player, "0.01"))
    ledger().reverse(Reversal("ruby", tx("refund"), first.tx_id, player.account))
    ledger().move(stake(player, "25.49"))  # the refunded stake is no longer wagered


def test_an_exclusion_set_meanwhile_refuses_a_stake_decided_on_a_cached_snapshot(books: Books) -> None:
    player = cold_ruby_player("pc", 4_000_000_000, "100.00")
    warm = ledger()
    warm.balance(player.account)  # the snapshot of before the exclusion
    store = wiring.ledger_store()
    state = store.read_account(player.account)
    assert state is not None
    exclusion = Exclusion(ExclusionKind.TIME_OUT, "2026-12-01T00:00:00Z", NOW)
    assert store.change_protection(
        player.player_id, {"KRW": state.protection.revision}, audit(player, "exclude"), exclusion=exclusion
    )

    with pytest.raises(PlayerExcluded):
        warm.move(stake(player, "1.00"))
    won = warm.move(Movement("ruby", tx("win"), player.account, Kind.CREDIT, units("5.00")))  # owed: taken
    assert won.balance_after == units("105.00")
    withdrawn = warm.move(
        Movement("admin", tx("out"), player.account, Kind.DEBIT, units("5.00"), purpose=Purpose.WITHDRAWAL)
    )
    assert withdrawn.balance_after == units("100.00")
    later = Ledger(store, now=lambda: "2026-12-01T00:00:00.000000Z")
    assert later.move(stake(player, "1.00")).balance_after == units("99.00"), "the time-out ended"
    assert window_key("week", datetime(2026, 11, 29, tzinfo=UTC)) == "2026-W48"


def test_concurrent_ruby_debits_through_the_handlers_never_pass_a_loss_limit(
    local_stack: LocalStack, books: Books
) -> None:
    """20 signed Ruby debits of 10.00 at once through the local stack (its pool of execution environments) with a
    loss limit of 55.00 for the day: five pass (50.00), the sixth would make 60.00."""
    player = cold_ruby_player("pc", 4_000_000_000, "1000.00")
    set_limits(player, Limit("loss", "day", units("55.00")))
    requests = [
        signed("debit", {"player_id": player.ruby_id, "amount": "10.00", "transaction_id": tx("http")})
        for _ in range(20)
    ]

    responses = send_together(local_stack, requests)

    assert Counter(r.status for r in responses) == {200: 5, 403: 15}
    assert {r.json()["error"] for r in responses if r.status == 403} == {"LOSS_LIMIT"}
    state, _ = books.check(player.account)
    assert state == AccountState(units("950.00"), 1 + 5)
