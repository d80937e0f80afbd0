"""One player, three providers at once: Ruby, the sportsbook and an external RGS on the same KRW account.

The account is ``(player_id, "KRW")``: Ruby reaches it through the player's link (Ruby's integer id), the
sportsbook through ``user_id`` and the RGS through ``operator_player_id`` (both our player id). Requests of
the three providers are interleaved and sent by nine threads (the first wave released together by a
barrier), through the HTTP path of the local stack on Amazon DynamoDB Local. A call answered 503 (the
ledger's retry budget ran out: nothing was written) is sent again until it is answered, as the sportsbook and
the RGS do: with nine calls in flight on one account, typically 0-20 % of the first pass are 503 (every call
contends for the one account item, and a retrying call keeps losing to fresh ones that start from the snapshot
the winner just cached). Whatever the interleaving, the funds condition is the ledger's own: the
bets that succeed are exactly the funded ones, whichever provider sent them, and the balance never goes below
zero (but by the one movement allowed to: the sportsbook taking a result back). Afterwards
``croupier reconcile`` over the whole table exits 0, and the account adds up: balance = Σ delta, version =
number of entries.

How each provider says "declined" (providers.md §2, §4, §5): Ruby ``402 {"error": "INSUFFICIENT_FUNDS"}``, the
sportsbook ``200 {"error": "INSUFFICENT_FUNDS"}`` (its own spelling), the RGS ``402 {"ok": false, "error":
"INSUFFICIENT_FUNDS"}``.
"""

from __future__ import annotations

import io
import json
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest

from croupier.ledger import AccountState
from croupier.signing import sportsbook
from croupier_cli import cli
from croupier_local.apigw import HttpRequest, HttpResponse
from croupier_local.dynamodb import LocalDynamoDB
from croupier_local.server import LocalStack
from tests.support.players import Player, create_player, fund_player
from tests.support.requests import OPERATOR_ID, SECURITY_HASH, compact, json_post, rgs_request, ruby_request
from tests.support.wallet_table import TABLE, Books, Item, n, s

pytestmark = pytest.mark.dynamodb_local

CURRENCY = "KRW"
WON = 10_000  # internal units per KRW
STAKE = 1_000  # KRW, the unit amount of every bet
T = TypeVar("T")


# --- the three providers' requests ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """One provider request and what it would do to the balance: ``effect`` KRW if it succeeds."""

    provider: str  # ruby | sportsbook | rgs
    action: str  # bet | credit | reversal
    key: str  # the provider's id of the transaction (for a reversal: its own id)
    amount: int
    request: HttpRequest
    target: str | None = None  # a reversal's target (the provider's id of the bet or result)


def ruby(player: Player, action: str, tx: str, amount: int = STAKE, target: str | None = None) -> Call:
    if action == "reversal":
        data: dict[str, Any] = {"player_id": player.ruby_id, "transaction_id": tx, "ref_transaction_id": target}
        route = "rollback"
    else:
        data = {"player_id": player.ruby_id, "amount": f"{amount}.00", "transaction_id": tx, "round_id": f"r-{tx}"}
        route = "debit" if action == "bet" else "credit"
    return Call("ruby", action, tx, amount, ruby_request(route, data), target)


def sports(player: Player, action: str, tx: str, amount: int = STAKE, target: str | None = None) -> Call:
    data: dict[str, Any] = {"transaction_id": tx, "user_id": player.player_id, "currency": CURRENCY, "amount": amount}
    if action == "reversal":
        data |= {"action": "rollback", "rollback_transaction_id": target}
        path = "/sportsbook/transaction-rollback"
    else:
        data["action"] = "bet" if action == "bet" else "result"
        path = "/sportsbook/transaction"
    payload = compact(data)
    request = json_post(path, payload, sportsbook.headers(SECURITY_HASH, payload), host=True)
    return Call("sportsbook", action, tx, amount, request, target)


def rgs_call(player: Player, action: str, tx: str, amount: int = STAKE, target: str | None = None) -> Call:
    """``tx`` names the round (or the refund); ``operator_tx_id`` is ``bet-<tx>``, ``win-<tx>`` or ``refund-<tx>``."""
    round_id = target or tx
    route = {"bet": "bet", "credit": "win", "reversal": "refund"}[action]
    data = {
        "operator_tx_id": f"{route}-{tx}",
        "operator_player_id": player.player_id,
        "session_id": "rg-three-session",
        "round_id": round_id,
        "currency": CURRENCY,
        "amount_minor": amount,
    }
    return Call("rgs", action, tx, amount, rgs_request(route, compact(data)), target)


@dataclass(frozen=True)
class Result:
    call: Call
    response: HttpResponse

    @property
    def body(self) -> dict[str, Any]:
        parsed: dict[str, Any] = self.response.json()
        return parsed

    @property
    def succeeded(self) -> bool:
        if self.call.provider == "sportsbook":
            return self.response.status == 200 and self.body["error"] is None
        if self.call.provider == "rgs":
            return self.response.status == 200 and self.body["ok"] is True
        return self.response.status == 200

    @property
    def declined_for_funds(self) -> bool:
        status, provider = self.response.status, self.call.provider
        if provider == "sportsbook":
            return (status, self.body) == (200, {"error": "INSUFFICENT_FUNDS"})
        if provider == "rgs":
            return status == 402 and (self.body["ok"], self.body["error"]) == (False, "INSUFFICIENT_FUNDS")
        return status == 402 and self.body["error"] == "INSUFFICIENT_FUNDS"

    @property
    def declined_as_rolled_back(self) -> bool:
        status, provider = self.response.status, self.call.provider
        if provider == "sportsbook":
            return (status, self.body) == (200, {"error": "TRANSACTION_ROLLED_BACK"})
        return status == 409 and self.body["error"] == "ALREADY_ROLLED_BACK"

    @property
    def retry_later(self) -> bool:
        """A 503 saying "nothing was written, send the same request again", in the provider's own words."""
        if self.response.status != 503:
            return False
        if self.call.provider == "sportsbook":
            return self.body == {"error": "TEMPORARY_ERROR"}
        expected = {"ok", "error", "message"} if self.call.provider == "rgs" else {"error", "message"}
        return set(self.body) == expected and self.body["error"] == "RETRY_LATER" and self.body.get("ok") is not True

    def balance_after(self) -> int | None:
        """The balance after a successful Ruby or RGS call, in KRW (the sportsbook does not say it)."""
        if self.call.provider == "ruby":
            return int(self.body["balance"].removesuffix(".00"))
        if self.call.provider == "rgs":
            return int(self.body["balance_minor"])
        return None


WORKERS = 9
"""Requests in flight at once: three per provider, the same order as one function's ten execution
environments in the local stack."""
RESEND_ROUNDS = 10


def concurrently(tasks: list[Callable[[], T]], workers: int = WORKERS) -> list[T]:
    """Run the tasks on ``workers`` threads, the first wave released together by a barrier; results in order."""
    barrier = threading.Barrier(min(workers, len(tasks)))
    waved = threading.local()

    def run(task: Callable[[], T]) -> T:
        if not getattr(waved, "done", False):
            waved.done = True
            barrier.wait(timeout=30)
        return task()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(run, tasks))


def play(stack: LocalStack, calls: list[Call]) -> list[Result]:
    """Send every call (concurrently), then send again, as the providers would, each one answered 503 (the
    ledger's retry budget ran out, nothing was written) until every call has its answer."""
    responses: list[HttpResponse | None] = [None] * len(calls)
    pending = list(range(len(calls)))
    for _ in range(RESEND_ROUNDS):
        answered = concurrently([(lambda c=calls[i]: stack.handle(c.request)) for i in pending])
        for index, response in zip(pending, answered, strict=True):
            responses[index] = response
        pending = [i for i, response in zip(pending, answered, strict=True) if response.status == 503]
        for index in pending:
            assert Result(calls[index], answered_of(responses[index])).retry_later, responses[index]
        if not pending:
            break
    assert not pending, f"{len(pending)} calls still answered 503 after {RESEND_ROUNDS} rounds"
    return [Result(call, answered_of(response)) for call, response in zip(calls, responses, strict=True)]


def answered_of(response: HttpResponse | None) -> HttpResponse:
    assert response is not None
    return response


def interleave(*streams: list[Call]) -> list[Call]:
    longest = max(len(stream) for stream in streams)
    return [stream[i] for i in range(longest) for stream in streams if i < len(stream)]


def never_busy(results: list[Result]) -> None:
    busy = [(r.call.provider, r.response.status, r.response.body) for r in results if r.response.status >= 500]
    assert not busy, f"{len(busy)} requests failed or are still busy: {busy[:3]}"


# --- the player, the books, the reconciliation ----------------------------------------------------------------------


def new_player(stack: LocalStack, ruby_id: int, deposit: int) -> Player:
    player = Player(f"rg-three-{uuid.uuid4().hex[:16]}", ruby_id)
    create_player(stack, player_id=player.player_id, currency=CURRENCY, links={"ruby": ruby_id})
    fund_player(stack, player.player_id, CURRENCY, str(deposit), f"{player.player_id}-seed")
    return player


def only_a_sportsbook_take_back(entry: Item) -> None:
    """Below zero only by a reversal that took a credit back (the sportsbook rolling back a result)."""
    assert (s(entry, "kind"), s(entry, "provider")) == ("reversal", "sportsbook"), entry["pk"]["S"]
    assert n(entry, "delta") < 0, entry["pk"]["S"]


@pytest.fixture(scope="module")
def books(dynamodb_local: LocalDynamoDB, local_stack: LocalStack, real_client: Any) -> Books:
    assert dynamodb_local.kind == "dynamodb-local", "concurrency tests need DynamoDB Local, never moto"
    return Books(real_client, below_zero=only_a_sportsbook_take_back)


def reconcile(endpoint_url: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """``croupier reconcile`` over the whole wallet table: exit 0 and a clean report."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "devonly")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "devonly")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["reconcile", "--table", TABLE, "--endpoint-url", endpoint_url], stdout=out, stderr=err)
    assert err.getvalue() == ""
    report: dict[str, Any] = json.loads(out.getvalue())
    assert code == 0, report["discrepancies"][:5]
    assert report["clean"] is True
    assert report["discrepancies"] == []
    return report


# --- (1) oversubscribed bets from three providers ----------------------------------------------------------------

AFFORDABLE = 13
PER_PROVIDER = 20


def test_bets_from_three_providers_at_once_exactly_the_funded_ones_succeed(
    local_stack: LocalStack, books: Books, dynamodb_local: LocalDynamoDB, monkeypatch: pytest.MonkeyPatch
) -> None:
    start = AFFORDABLE * STAKE
    player = new_player(local_stack, 990_001, start)
    label = uuid.uuid4().hex[:8]
    calls = interleave(
        [ruby(player, "bet", f"rg-3p-ruby-{label}-{i}") for i in range(PER_PROVIDER)],
        [sports(player, "bet", f"rg-3p-sb-{label}-{i}") for i in range(PER_PROVIDER)],
        [rgs_call(player, "bet", f"rg-3p-rgs-{label}-{i}") for i in range(PER_PROVIDER)],
    )

    results = play(local_stack, calls)

    never_busy(results)
    succeeded = [r for r in results if r.succeeded]
    declined = [r for r in results if not r.succeeded]
    assert len(succeeded) == AFFORDABLE, Counter((r.call.provider, r.response.status) for r in results)
    assert all(r.declined_for_funds for r in declined), [(r.call.provider, r.response.body) for r in declined[:5]]
    assert len(declined) == 3 * PER_PROVIDER - AFFORDABLE
    # every success saw a different balance: no two bets spent the same money
    afters = [r.balance_after() for r in succeeded if r.balance_after() is not None]
    assert len(afters) == len(set(afters)), sorted(afters)
    assert set(afters) <= {STAKE * k for k in range(AFFORDABLE)}
    for result in succeeded:
        if result.call.provider == "ruby":
            assert int(result.body["balance_before"].removesuffix(".00")) == result.balance_after() + STAKE

    state, entries = books.check(player.account)
    assert state == AccountState(start * WON - AFFORDABLE * STAKE * WON, 1 + AFFORDABLE)
    assert state.balance == 0
    by_provider = Counter(s(e, "provider") for e in entries if s(e, "kind") == "debit")
    assert by_provider == Counter(
        r.call.provider if r.call.provider != "rgs" else f"rgs:{OPERATOR_ID}" for r in succeeded
    )
    assert min(n(e, "balance_after") for e in entries) >= 0
    reconcile(dynamodb_local.endpoint_url, monkeypatch)


# --- (2) bets, wins and reversals from three providers ---------------------------------------------------------------


PAID_ROUNDS = 5


def paid_round(label: str, i: int) -> str:
    return f"rg-mx-rgs-{label}-paid{i}"


def mixed_calls(player: Player, label: str) -> list[Call]:
    """Per provider: 12 bets, 5 credits of 700 and reversals of 5 of its bets; the sportsbook also takes 2 of its
    results back. Every reversal names a target in the same batch, so it may arrive before its target. The RGS's
    credits are wins of rounds whose bets were answered before the batch (an RGS pays only a round's bet)."""
    streams: list[list[Call]] = []
    for provider, make in (("ruby", ruby), ("sb", sports), ("rgs", rgs_call)):
        bets = [make(player, "bet", f"rg-mx-{provider}-{label}-bet{i}") for i in range(12)]
        credits = [
            make(
                player,
                "credit",
                f"rg-mx-{provider}-{label}-win{i}",
                700,
                paid_round(label, i) if provider == "rgs" else None,
            )
            for i in range(PAID_ROUNDS)
        ]
        reversals = [
            make(player, "reversal", f"rg-mx-{provider}-{label}-undo{i}", STAKE, bets[i].key) for i in range(0, 10, 2)
        ]
        if provider == "sb":
            reversals += [
                make(player, "reversal", f"rg-mx-{provider}-{label}-unwin{i}", 700, credits[i].key) for i in range(2)
            ]
        streams.append(interleave(bets, credits, reversals))
    return interleave(*streams)


def expected_balance(start: int, results: list[Result]) -> int:
    """The balance the successful answers add up to (KRW).

    A bet that succeeded took its amount; a credit that succeeded gave its amount, unless its reversal is in the
    batch too (then it is net zero: paid then taken back, or acknowledged without paying after the reversal); a
    reversal of a bet gave the bet back exactly when that bet succeeded (had the reversal come first, its
    tombstone would have refused the bet)."""
    succeeded = {(r.call.provider, r.call.key) for r in results if r.succeeded}
    reversed_targets = {(r.call.provider, r.call.target) for r in results if r.call.action == "reversal"}
    kinds = {(r.call.provider, r.call.key): r.call.action for r in results}
    total = start
    for result in results:
        call = result.call
        if not result.succeeded:
            continue
        if call.action == "bet":
            total -= call.amount
        elif call.action == "credit" and (call.provider, call.key) not in reversed_targets:
            total += call.amount
        elif call.action == "reversal" and kinds[(call.provider, call.target)] == "bet":
            total += call.amount if (call.provider, call.target) in succeeded else 0
    return total


def test_bets_wins_and_reversals_from_three_providers_at_once_add_up(
    local_stack: LocalStack, books: Books, dynamodb_local: LocalDynamoDB, monkeypatch: pytest.MonkeyPatch
) -> None:
    start = 25 * STAKE
    player = new_player(local_stack, 990_002, start)
    label = uuid.uuid4().hex[:8]
    for i in range(PAID_ROUNDS):  # the bets of the rounds the RGS pays in the batch
        placed = local_stack.handle(rgs_call(player, "bet", paid_round(label, i)).request)
        assert placed.status == 200, placed.body
    start -= PAID_ROUNDS * STAKE
    calls = mixed_calls(player, label)

    results = play(local_stack, calls)

    never_busy(results)
    for result in results:
        if result.succeeded:
            continue
        assert result.call.action == "bet", (result.call.provider, result.call.action, result.response.body)
        assert result.declined_for_funds or result.declined_as_rolled_back, result.response.body
    for result in results:  # credits and reversals always succeed
        if result.call.action != "bet":
            assert result.succeeded, (result.call.provider, result.call.key, result.response.body)
    expected = expected_balance(start, results)
    state, entries = books.check(player.account)
    assert state.balance == expected * WON, Counter((r.call.provider, r.call.action, r.succeeded) for r in results)
    reversed_bets = {(r.call.provider, r.call.target) for r in results if r.call.action == "reversal"}
    standing = [
        r
        for r in results
        if r.call.action == "bet" and r.succeeded and (r.call.provider, r.call.key) not in reversed_bets
    ]
    standing_debits = [e for e in entries if s(e, "kind") == "debit" and not e.get("reversed_by")]
    assert len(standing_debits) == len(standing) + PAID_ROUNDS
    reconcile(dynamodb_local.endpoint_url, monkeypatch)

    # the providers send every answered call again, all at once: the same answers, nothing moves
    answered = [r.call for r in results if r.succeeded]
    again = play(local_stack, answered)
    never_busy(again)
    firsts = {(r.call.provider, r.call.key): r.response for r in results}
    for result in again:
        first = firsts[(result.call.provider, result.call.key)]
        assert (result.response.status, result.response.body) == (first.status, first.body), result.call.key
    assert books.check(player.account)[0] == state
    reconcile(dynamodb_local.endpoint_url, monkeypatch)
