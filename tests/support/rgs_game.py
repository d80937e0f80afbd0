"""A crash game on DynamoDB Local against a fake operator wallet over HTTP, with the test's own clock and
retry queue: what the RGS round tests and the sweeper tests play with."""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from croupier.clients.operator_wallet import OperatorWalletClient
from croupier.rgs.curve import time_to_reach
from croupier.rgs.game import Game
from croupier.rgs.operators import Operators
from croupier.rgs.revenue import aggregate
from croupier.rgs.sealing import Sealer
from croupier.rgs.sessions import Sessions
from croupier.rgs.store import RgsStore, revenue_rows
from croupier.secrets import FileSecretStore
from croupier.signing import RawRequest, rgs
from croupier_local.dynamodb import create_tables
from croupier_local.streams import StreamEventSource
from croupier_local.template import load_template
from tests.fakes.operator_wallet_server import FakeOperatorWallet

REPO_ROOT = Path(__file__).resolve().parents[2]


class Clock:
    def __init__(self) -> None:
        self.ms = 1_795_000_000_000

    def seconds(self) -> float:
        return self.ms / 1000


class Retries:
    def __init__(self) -> None:
        self.queued: list[tuple[str, str]] = []

    def enqueue(self, kind: str, round_id: str) -> None:
        self.queued.append((kind, round_id))


class World:
    def __init__(
        self,
        client: Any,
        tmp_path: Path,
        table: str = "RgsTable",
        *,
        wallet_timeout: float = 0.5,
        sealer: Sealer,
    ) -> None:
        self.clock = Clock()
        self.table = table
        self.store = RgsStore(table, lambda: client, sealer=sealer)
        self.operators = Operators(self.store, FileSecretStore(tmp_path / "s.json"), clock=self.clock.seconds)
        self.sessions = Sessions(self.store, self.operators, clock=self.clock.seconds)
        self.wallet = FakeOperatorWallet().start()
        self.operator = self.operators.provision(  # the clock stands still: many bets share one of its seconds
            json.dumps(
                {"wallet_callback_url": self.wallet.url, "allowed_currencies": ["USD"], "max_bets_per_second": 100}
            ).encode()
        )
        self.wallet.operator_id = self.operator["operator_id"]
        self.wallet.api_key = self.operator["api_key"]
        self.wallet.hmac_secret = self.operator["hmac_secret"]
        self.retries = Retries()
        self._stream: StreamEventSource | None = None
        self.game = Game(
            self.store,
            self.operators.settings,
            lambda operator_id: OperatorWalletClient(
                self.wallet.url,
                operator_id,
                self.operator["api_key"],
                self.operator["hmac_secret"],
                timeout=wallet_timeout,
            ),
            self.retries,
            clock_ms=lambda: self.clock.ms,
        )

    def launch(self, player: str = "player-1", funds: int = 100_000, currency: str = "USD") -> str:
        self.wallet.fund(player, funds, currency)
        raw = json.dumps({"operator_player_id": player, "currency": currency}).encode()
        op = self.operator
        headers = rgs.headers(
            op["operator_id"],
            op["api_key"],
            op["hmac_secret"],
            "POST",
            "/api/public/rgs/launch",
            raw,
            clock=self.clock.seconds,
        )
        answer = self.sessions.launch(RawRequest.of("POST", "/api/public/rgs/launch", headers, raw), "http://rgs")
        return parse_qs(urlsplit(answer["launch_url"]).query)["session"][0]

    def drain_revenue(self) -> int:
        """Hand the aggregator everything the table's stream holds now, as Lambda would (on this world's
        store, so its faults apply); answers how many records it got."""
        if self._stream is None:
            (spec,) = load_template(REPO_ROOT / "template.yaml").stream_sources
            endpoint = self.store.client.meta.endpoint_url
            self._stream = StreamEventSource(
                spec,
                endpoint,
                lambda event: aggregate(self.store, event["Records"], now_s=int(self.clock.seconds())),
                table_name=self.table,
            )
        return self._stream.drain()

    def revenue(self, day: str) -> dict[str, Any] | None:
        """The day's USD counters of this world's operator, summed over their shards, once the stream is drained."""
        self.drain_revenue()
        rows = revenue_rows(self.store, self.operator["operator_id"], day, day)
        if not rows:
            return None
        return {name: sum(row[name] for row in rows) for name in ("bets_minor", "wins_minor", "rounds")}


@contextmanager
def world_of_its_own(endpoint_url: str, client: Any, tmp_path: Path, sealer: Sealer, prefix: str) -> Iterator[World]:
    """A world on a table of its own (the template's RgsTable under another name), deleted after: for tests
    that read the whole table or index, where other tests leave rounds behind on purpose."""
    (spec,) = [t for t in load_template(REPO_ROOT / "template.yaml").tables if t.logical_id == "RgsTable"]
    name = f"{prefix}{uuid.uuid4().hex[:12]}"
    create_tables(
        endpoint_url,
        [dataclasses.replace(spec, logical_id=name, create_kwargs={**spec.create_kwargs, "TableName": name})],
    )
    created = World(client, tmp_path, table=name, sealer=sealer)
    try:
        yield created
    finally:
        created.wallet.stop()
        client.delete_table(TableName=name)


def bet(world: World, token: str, amount: int = 1_000, **extra: Any) -> dict[str, Any]:
    return world.game.bet(token, json.dumps({"amount_minor": amount, **extra}).encode())


def cash_out(world: World, token: str, round_id: str) -> dict[str, Any]:
    return world.game.cash_out(token, json.dumps({"round_id": round_id}).encode())


def crash_of(world: World, round_id: str) -> int:
    """The round's crash point (opened with the world's sealer while the round is open)."""
    stored = world.store.read_round(round_id)
    assert stored is not None
    return int(world.store.opened(stored).round.crash_cents)


def winning_round(world: World, token: str, amount: int = 1_000) -> dict[str, Any]:
    """Bet until a round whose crash point is above 1.50x (one in ~1.6): a cash-out at 1.50x then wins (one at
    exactly the crash point does not: a round crashing at 1.50x was once taken, and its cash-out lost)."""
    for _ in range(40):
        placed = bet(world, token, amount)
        if crash_of(world, placed["round_id"]) > 150:
            return placed
        world.clock.ms += time_to_reach(100 + crash_of(world, placed["round_id"]))  # past its crash: it settles
        cash_out(world, token, placed["round_id"])
    raise AssertionError("no round reached 1.50x in 40 tries")
