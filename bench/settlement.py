"""RGS settlement throughput on DynamoDB Local with 64 players at once, next to baselines in the same run.

- **cash-out path**: ``Game.cash_out`` for 64 players in 64 threads, each on its own open rounds (read the
  session and the round, the one conditional settling write, the win to an in-process wallet that answers at
  once, the round moved to ``paid``, read again): settled rounds per second.
- **bare write** (the baseline): the same 64 threads sending only the settling ``UpdateItem`` (``status =
  open`` → ``crashed``) on rounds of their own, nothing else: writes per second.
- **old transaction**: what settlement was before, a ``TransactWriteItems`` of the round and the operator's
  single revenue item, from the same 64 threads: transactions per second, and how many met a conflict (each
  one was a 500 and a lost cash-out).

Medians of adjacent runs, the order alternating. Figures are ratios: this machine is small and shared.
"""

from __future__ import annotations

import json
import os
import statistics
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from botocore.config import Config
from botocore.exceptions import ClientError

ROOT = Path(__file__).resolve().parents[1]
PLAYERS = 64
ROUNDS_PER_PLAYER = 12
REPEATS = 3


class InstantWallet:
    """The operator's wallet, in process, answering every call at once with ok."""

    def _ok(self, call: Any, route: str) -> Any:
        from croupier.clients.operator_wallet import AnswerKind, WalletAnswer

        return WalletAnswer(kind=AnswerKind.OK, route=route, operator_tx_id=call.operator_tx_id, status=200)  # type: ignore[arg-type]

    def bet(self, call: Any, *, timeout: float | None = None) -> Any:
        return self._ok(call, "bet")

    def win(self, call: Any, *, timeout: float | None = None) -> Any:
        return self._ok(call, "win")

    def refund(self, call: Any, *, timeout: float | None = None) -> Any:
        return self._ok(call, "refund")


class Setup:
    def __init__(self, endpoint: str, tmp: Path, table: str = "RgsTable", *, kms_endpoint: str) -> None:
        """``kms_endpoint``: a moto server whose KMS seals the seeds, as the functions do."""
        import boto3

        from croupier.rgs.game import Game
        from croupier.rgs.operators import Operators
        from croupier.rgs.sealing import Sealer
        from croupier.rgs.sessions import Sessions
        from croupier.rgs.store import RgsStore
        from croupier.secrets import FileSecretStore
        from croupier_local.aws_services import client as aws_client
        from croupier_local.aws_services import create_seed_key

        self.client = boto3.session.Session().client(
            "dynamodb",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="croupierlocaldevonly",
            aws_secret_access_key="croupier-local-dev-only-not-a-secret",
            config=Config(retries={"total_max_attempts": 1}, max_pool_connections=PLAYERS + 8),
        )
        self.now = [1_795_000_000_000]
        self.table = table  # a table of the benchmark's own: its bare rounds are no game's
        kms = aws_client("kms", kms_endpoint)
        self.store = RgsStore(table, lambda: self.client, sealer=Sealer(lambda: kms, create_seed_key(kms_endpoint)))
        self.operators = Operators(self.store, FileSecretStore(tmp / "secrets.json"), clock=lambda: self.now[0] / 1000)
        self.sessions = Sessions(self.store, self.operators, clock=lambda: self.now[0] / 1000)
        self.operator = self.operators.provision(
            json.dumps(
                {
                    "wallet_callback_url": "http://127.0.0.1:9/w",
                    "allowed_currencies": ["USD"],
                    # a player's ROUNDS_PER_PLAYER rounds are placed at one instant of the bench's clock: above
                    # the default 10 bets a second, the session's rate limit would refuse them (TooManyBets)
                    "max_bets_per_second": 100,
                }
            ).encode()
        )
        wallet = InstantWallet()
        self.game = Game(
            self.store, self.operators.settings, lambda _: wallet, _NoRetries(), clock_ms=lambda: self.now[0]
        )
        self.tokens = [self._launch(f"bench-{i}") for i in range(PLAYERS)]

    def _launch(self, player: str) -> str:
        from urllib.parse import parse_qs, urlsplit

        from croupier.signing import RawRequest, rgs

        raw = json.dumps({"operator_player_id": player, "currency": "USD"}).encode()
        op = self.operator
        path = "/api/public/rgs/launch"
        headers = rgs.headers(
            op["operator_id"], op["api_key"], op["hmac_secret"], "POST", path, raw, clock=lambda: self.now[0] / 1000
        )
        answer = self.sessions.launch(RawRequest.of("POST", path, headers, raw), "http://bench")
        return parse_qs(urlsplit(answer["launch_url"]).query)["session"][0]

    def open_rounds(self) -> list[list[str]]:
        """Each player's open rounds, placed at the clock's now (not timed)."""

        def place(token: str) -> list[str]:
            body = json.dumps({"amount_minor": 100}).encode()
            return [self.game.bet(token, body)["round_id"] for _ in range(ROUNDS_PER_PLAYER)]

        with ThreadPoolExecutor(16) as pool:
            return list(pool.map(place, self.tokens))


class _NoRetries:
    def enqueue(self, kind: str, round_id: str) -> None:
        pass


def _timed(work: Callable[[int], int]) -> float:
    """Items per second of ``work(player)`` run by 64 threads at once."""
    started = time.perf_counter()
    with ThreadPoolExecutor(PLAYERS) as pool:
        done = sum(pool.map(work, range(PLAYERS)))
    return done / (time.perf_counter() - started)


def cash_outs(setup: Setup) -> float:
    rounds = setup.open_rounds()
    setup.now[0] += 300  # 1.0x and a little: the rounds are open, cash-outs are honoured below the crash

    def work(player: int) -> int:
        token = setup.tokens[player]
        for round_id in rounds[player]:
            setup.game.cash_out(token, json.dumps({"round_id": round_id}).encode())
        return len(rounds[player])

    return _timed(work)


def _fresh_rounds(setup: Setup) -> list[list[str]]:
    """Round items of the bare writes' own, each ``open`` (not timed)."""
    ids = [[f"r_{uuid.uuid4().hex}" for _ in range(ROUNDS_PER_PLAYER)] for _ in range(PLAYERS)]

    def put(row: list[str]) -> None:
        for round_id in row:
            setup.client.put_item(
                TableName=setup.table,
                Item={"pk": {"S": f"ROUND#{round_id}"}, "sk": {"S": "ROUND"}, "status": {"S": "open"}},
            )

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(put, ids))
    return ids


def bare_writes(setup: Setup) -> float:
    ids = _fresh_rounds(setup)

    def work(player: int) -> int:
        for round_id in ids[player]:
            setup.client.update_item(
                TableName=setup.table,
                Key={"pk": {"S": f"ROUND#{round_id}"}, "sk": {"S": "ROUND"}},
                UpdateExpression="SET #s = :s, settlement = :x",
                ConditionExpression="#s = :open",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":s": {"S": "crashed"}, ":open": {"S": "open"}, ":x": {"S": "{}"}},
            )
        return len(ids[player])

    return _timed(work)


def old_transactions(setup: Setup) -> tuple[float, int]:
    ids = _fresh_rounds(setup)
    conflicts = [0] * PLAYERS

    def work(player: int) -> int:
        for round_id in ids[player]:
            try:
                setup.client.transact_write_items(
                    TransactItems=[
                        {
                            "Update": {
                                "TableName": setup.table,
                                "Key": {"pk": {"S": f"ROUND#{round_id}"}, "sk": {"S": "ROUND"}},
                                "UpdateExpression": "SET #s = :s",
                                "ConditionExpression": "#s = :open",
                                "ExpressionAttributeNames": {"#s": "status"},
                                "ExpressionAttributeValues": {":s": {"S": "crashed"}, ":open": {"S": "open"}},
                            }
                        },
                        {
                            "Update": {
                                "TableName": setup.table,
                                "Key": {"pk": {"S": "REVENUE#bench-old"}, "sk": {"S": "2026-11-21#USD"}},
                                "UpdateExpression": "ADD bets_minor :b, rounds :one",
                                "ExpressionAttributeValues": {":b": {"N": "100"}, ":one": {"N": "1"}},
                            }
                        },
                    ]
                )
            except ClientError:
                conflicts[player] += 1
        return len(ids[player])

    return _timed(work), sum(conflicts)


def main() -> dict[str, float]:
    os.environ.update({"POWERTOOLS_METRICS_DISABLED": "true", "POWERTOOLS_TRACE_DISABLED": "true"})
    import tempfile

    from croupier_local.dynamodb import create_tables, local_dynamodb
    from croupier_local.moto_server import MotoServer
    from croupier_local.template import load_template

    with local_dynamodb(ROOT) as ddb, MotoServer() as moto, tempfile.TemporaryDirectory() as tmp:
        create_tables(ddb.endpoint_url, load_template(ROOT / "template.yaml").tables)
        setup = Setup(ddb.endpoint_url, Path(tmp), kms_endpoint=moto.endpoint_url)
        return report(setup, repeats=REPEATS)


def report(setup: Setup, *, repeats: int) -> dict[str, float]:
    settled, bare, old, conflicts = [], [], [], 0
    for run in range(repeats + 1):  # the first run warms up and is not counted
        if run % 2:
            settled.append(cash_outs(setup))
            bare.append(bare_writes(setup))
        else:
            bare.append(bare_writes(setup))
            settled.append(cash_outs(setup))
        rate, lost = old_transactions(setup)
        old.append(rate)
        conflicts += lost if run else 0
        if run == 0:
            settled.clear()
            bare.clear()
            old.clear()
    figures = {
        "cash_outs_per_second": statistics.median(settled),
        "bare_writes_per_second": statistics.median(bare),
        "old_transactions_per_second": statistics.median(old),
    }
    total = PLAYERS * ROUNDS_PER_PLAYER * repeats
    print(f"RGS settlement, {PLAYERS} players at once on DynamoDB Local (medians of {repeats}):")
    print(f"  cash-out path        {figures['cash_outs_per_second']:8.0f} rounds/s")
    print(f"  bare settling write  {figures['bare_writes_per_second']:8.0f} writes/s  (baseline)")
    print(f"  ratio                {figures['cash_outs_per_second'] / figures['bare_writes_per_second']:8.2f}")
    print(
        f"  old transaction      {figures['old_transactions_per_second']:8.0f} tx/s, "
        f"{conflicts} of {total} met a conflict (DynamoDB Local runs transactions one at a time: it shows the"
        " shared item's cost, not AWS's TransactionConflict)"
    )
    return figures


if __name__ == "__main__":
    main()
