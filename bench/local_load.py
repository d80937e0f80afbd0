"""Load on the running local stack: signed Ruby callbacks from many connections at once, every one answered?

Two scenarios, as Ruby's pre-launch checklist asks for a load test with concurrent requests:

1. ``clients``: 64 clients, each on one keep-alive connection, send 15 callbacks each (debits, credits,
   rollbacks of their own debits, balances) across 16 players with known starting balances, half of them too
   poor for every debit (402 expected). The balances implied by the answers are compared with a live read.
   With fewer players (``--players 8``: 8 clients on each account) the ledger's optimistic writes on DynamoDB
   Local lose so many races that a few requests spend their 2.5 s retry budget: 503 RETRY_LATER, counted
   apart in the report.
2. ``burst``: 256 connections opened at once, each sending one balance or debit callback.

Each request ends answered (a status) or unanswered (reset, closed or timed out: counted as a reset). An
unanswered money callback is sent again with the same ``transaction_id`` (idempotent) so the balance check
still knows what happened.

    make dev                                # terminal 1
    .venv/bin/python -m bench.local_load    # terminal 2: the URL from .local/stack.json
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from croupier.secrets import FileSecretStore
from croupier.signing import ruby_callback
from croupier_local.events import DEFAULT_SECRETS

Sign = Callable[[bytes], Mapping[str, str]]
"""Ruby's signature headers for a body, made at send time."""

BRAND_KEY = "dev-ruby-brand-key"
CLIENTS = 64
CALLS_PER_CLIENT = 15
CONNECTIONS = 256
PLAYERS = 16
RICH, POOR = Decimal("100000.00"), Decimal("300.00")
TIMEOUT = 60.0
RESENDS = 5


@dataclass(frozen=True)
class Call:
    """One callback and what came back: ``status`` is None when no answer came (reset, closed, timed out)."""

    operation: str
    ruby_id: int
    amount: Decimal
    transaction_id: str
    status: int | None
    answer: Mapping[str, Any]
    failure: str = ""
    """Without an answer, what the client met: ConnectionResetError, RemoteDisconnected, TimeoutError..."""


@dataclass
class Tally:
    """The calls of one scenario, and the balances their answers imply."""

    calls: list[Call] = field(default_factory=list)
    resent: list[Call] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def unanswered(self) -> int:
        return sum(call.status is None for call in self.calls)

    @property
    def server_errors(self) -> int:
        return sum(call.status is not None and call.status >= 500 for call in self.calls)

    @property
    def retry_later(self) -> int:
        """The wallet's own 503: its retry budget ran out on a contended account (nothing written)."""
        return sum(call.status == 503 and call.answer.get("error") == "RETRY_LATER" for call in self.calls)

    @property
    def statuses(self) -> Counter[int | None]:
        return Counter(call.status for call in self.calls)

    def final(self) -> list[Call]:
        """Each call's outcome: its own answer, or the answer to its resend when it had none."""
        resent = {(call.operation, call.transaction_id): call for call in self.resent}
        return [
            resent.get((call.operation, call.transaction_id), call) if call.status is None else call
            for call in self.calls
        ]

    def expected(self, start: Mapping[int, Decimal]) -> dict[int, Decimal]:
        """``start`` moved by every answered debit, credit and rollback (a rollback of a debit answered 200)."""
        balances = dict(start)
        calls = self.final()
        debited = {
            call.transaction_id: call.amount for call in calls if call.operation == "debit" and call.status == 200
        }
        for call in calls:
            if call.status != 200:
                continue
            if call.operation == "debit":
                balances[call.ruby_id] -= call.amount
            elif call.operation == "credit":
                balances[call.ruby_id] += call.amount
            elif call.operation == "rollback":
                balances[call.ruby_id] += debited.get(call.transaction_id, Decimal(0))
        return balances

    def summary(self) -> str:
        statuses = ", ".join(f"{status}: {count}" for status, count in sorted(self.statuses.items(), key=str))
        failures = Counter(call.failure for call in self.calls if call.failure)
        if failures:
            statuses += "; no answer: " + ", ".join(f"{name} {count}" for name, count in failures.most_common())
        return (
            f"{len(self.calls)} sent, {len(self.calls) - self.unanswered} answered, {self.unanswered} reset, "
            f"{self.server_errors} 5xx ({self.retry_later} of them RETRY_LATER) ({statuses}) in {self.seconds:.1f} s"
        )


class RubyClient:
    """One keep-alive HTTP/1.1 connection sending signed callbacks (reopened after a loss)."""

    def __init__(self, base_url: str, sign: Sign, timeout: float = TIMEOUT) -> None:
        url = urlsplit(base_url)
        self.connection = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port or 80, timeout=timeout)
        self.sign = sign

    def send(self, operation: str, body: Mapping[str, Any]) -> tuple[int | None, dict[str, Any], str]:
        raw = json.dumps(body, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", **self.sign(raw)}
        try:
            self.connection.request("POST", f"/ruby/{operation}", body=raw, headers=headers)
            response = self.connection.getresponse()
            text = response.read()
        except (OSError, http.client.HTTPException) as error:
            self.connection.close()  # the next request opens a new connection
            return None, {}, type(error).__name__
        answer: dict[str, Any] = json.loads(text) if text else {}
        return response.status, answer, ""

    def call(self, operation: str, ruby_id: int, amount: Decimal = Decimal(0), transaction_id: str = "") -> Call:
        body: dict[str, Any] = {"player_id": ruby_id}
        if operation != "balance":
            body["transaction_id"] = transaction_id
        if operation in ("debit", "credit"):
            body["amount"] = f"{amount:.2f}"
        status, answer, failure = self.send(operation, body)
        return Call(operation, ruby_id, amount, transaction_id, status, answer, failure)

    def close(self) -> None:
        self.connection.close()


def dev_signer() -> Sign:
    """Signs as the dev-only brand, whose secret ``make dev`` seeds from ``local/dev-secrets.json``."""
    secret: str = FileSecretStore(DEFAULT_SECRETS).get(f"ruby/brands/{BRAND_KEY}")["api_secret"]
    return lambda body: ruby_callback.headers(BRAND_KEY, secret, body)


def balance(base_url: str, ruby_id: int, sign: Sign) -> Decimal:
    """A live read through ``POST /ruby/balance``."""
    client = RubyClient(base_url, sign)
    try:
        call = client.call("balance", ruby_id)
    finally:
        client.close()
    if call.status != 200:
        raise RuntimeError(f"balance of Ruby player {ruby_id}: {call.status} {call.answer}")
    return Decimal(call.answer["balance"])


def _resend(base_url: str, sign: Sign, tally: Tally) -> None:
    """Each unanswered money callback again, same transaction_id, until answered: what did it do?"""
    client = RubyClient(base_url, sign)
    try:
        for call in tally.calls:
            if call.status is not None or call.operation == "balance":
                continue
            for _ in range(RESENDS):
                again = client.call(call.operation, call.ruby_id, call.amount, call.transaction_id)
                if again.status is not None:
                    tally.resent.append(again)
                    break
    finally:
        client.close()


def clients(
    base_url: str,
    players: Mapping[int, Decimal],
    *,
    sign: Sign,
    count: int = CLIENTS,
    calls: int = CALLS_PER_CLIENT,
    seed: int = 0,
) -> Tally:
    """``count`` clients released together, ``calls`` callbacks each on its own keep-alive connection."""
    ruby_ids = sorted(players)
    barrier = threading.Barrier(count)

    def one_client(number: int) -> list[Call]:
        pick = random.Random(seed * 100_003 + number)
        client = RubyClient(base_url, sign)
        debited: list[Call] = []
        made: list[Call] = []
        barrier.wait(timeout=TIMEOUT)
        try:
            for index in range(calls):
                transaction_id = f"load-{number}-{index}-{uuid.uuid4().hex[:8]}"
                ruby_id = pick.choice(ruby_ids)
                roll = pick.random()
                if roll < 0.15 and debited:
                    debit = debited.pop(pick.randrange(len(debited)))
                    call = client.call("rollback", debit.ruby_id, transaction_id=debit.transaction_id)
                elif roll < 0.55:
                    amount = Decimal(pick.randrange(100, 9_000)) / 100
                    call = client.call("debit", ruby_id, amount, transaction_id)
                    if call.status == 200:
                        debited.append(call)
                elif roll < 0.85:
                    call = client.call("credit", ruby_id, Decimal(pick.randrange(100, 5_000)) / 100, transaction_id)
                else:
                    call = client.call("balance", ruby_id)
                made.append(call)
        finally:
            client.close()
        return made

    return _run(base_url, sign, count, one_client)


def burst(base_url: str, ruby_ids: list[int], *, sign: Sign, connections: int = CONNECTIONS) -> Tally:
    """``connections`` connections opened together, each sending one callback: a balance or a 1.00 debit."""
    barrier = threading.Barrier(connections)

    def one_connection(number: int) -> list[Call]:
        client = RubyClient(base_url, sign)
        ruby_id = ruby_ids[number % len(ruby_ids)]
        barrier.wait(timeout=TIMEOUT)
        try:
            if number % 2:
                return [client.call("debit", ruby_id, Decimal("1.00"), f"burst-{number}-{uuid.uuid4().hex[:8]}")]
            return [client.call("balance", ruby_id)]
        finally:
            client.close()

    return _run(base_url, sign, connections, one_connection)


def _run(base_url: str, sign: Sign, threads: int, work: Callable[[int], list[Call]]) -> Tally:
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        made = list(pool.map(work, range(threads)))
    tally = Tally([call for calls in made for call in calls], seconds=time.perf_counter() - started)
    _resend(base_url, sign, tally)
    return tally


def check_balances(base_url: str, tally: Tally, start: Mapping[int, Decimal], sign: Sign) -> dict[int, Any]:
    """Each player whose live balance differs from what the answers imply: (expected, live)."""
    expected = tally.expected(start)
    live = {ruby_id: balance(base_url, ruby_id, sign) for ruby_id in expected}
    return {ruby_id: (expected[ruby_id], live[ruby_id]) for ruby_id in expected if expected[ruby_id] != live[ruby_id]}


def _admin_post(base_url: str, path: str, data: Mapping[str, Any]) -> None:
    url = urlsplit(base_url)
    connection = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port or 80, timeout=TIMEOUT)
    try:
        connection.request("POST", path, body=json.dumps(data), headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        text = response.read()
    finally:
        connection.close()
    if response.status != 201:
        raise RuntimeError(f"POST {path}: {response.status} {text!r}")


def create_players(base_url: str, count: int = PLAYERS) -> dict[int, Decimal]:
    """``count`` players linked to fresh Ruby ids through the admin routes, alternately rich and poor."""
    players: dict[int, Decimal] = {}
    for number in range(count):
        player_id = f"load-{uuid.uuid4().hex[:12]}"
        ruby_id = 700_000_000 + uuid.uuid4().int % 99_999_999
        deposit = RICH if number % 2 else POOR
        _admin_post(base_url, "/admin/players", {"player_id": player_id, "currency": "KRW", "links": {"ruby": ruby_id}})
        _admin_post(
            base_url,
            f"/admin/players/{player_id}/deposits",
            {"currency": "KRW", "amount": f"{deposit:.2f}", "reference": f"{player_id}-seed"},
        )
        players[ruby_id] = deposit
    return players


def _report(title: str, base_url: str, tally: Tally, start: Mapping[int, Decimal], sign: Sign) -> bool:
    wrong = check_balances(base_url, tally, start, sign)
    balances = "exact" if not wrong else f"{len(wrong)} WRONG: {wrong}"
    print(f"{title}: {tally.summary()}; balances of {len(start)} players: {balances}")
    for ruby_id in wrong:
        for call in tally.final():
            if call.ruby_id == ruby_id and call.operation != "balance":
                print(f"  {call.operation} {call.amount} {call.transaction_id}: {call.status} {dict(call.answer)}")
    return not wrong and not tally.unanswered and not tally.server_errors


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.local_load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", help="the local stack (default: from .local/stack.json)")
    parser.add_argument("--clients", type=int, default=CLIENTS)
    parser.add_argument("--calls", type=int, default=CALLS_PER_CLIENT, help="callbacks per client")
    parser.add_argument("--connections", type=int, default=CONNECTIONS, help="connections in the burst")
    parser.add_argument("--players", type=int, default=PLAYERS, help="players the callbacks spread over")
    args = parser.parse_args(argv)
    if args.base_url is None:
        from croupier_local.demo import running_stack

        args.base_url = running_stack()["base_url"]
    sign = dev_signer()
    players = create_players(args.base_url, args.players)
    start = {ruby_id: balance(args.base_url, ruby_id, sign) for ruby_id in players}
    tally = clients(args.base_url, players, sign=sign, count=args.clients, calls=args.calls)
    ok = _report(f"{args.clients} clients x {args.calls} Ruby callbacks", args.base_url, tally, start, sign)
    start = {ruby_id: balance(args.base_url, ruby_id, sign) for ruby_id in players}
    tally = burst(args.base_url, sorted(players), sign=sign, connections=args.connections)
    ok = _report(f"{args.connections} connections at once", args.base_url, tally, start, sign) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
