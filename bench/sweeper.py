"""The RGS sweeper on DynamoDB Local: due rounds a minute with its worker threads, next to one thread, measured in
the same run, and where the time goes.

1. ``SEQUENTIAL_ROUNDS`` due rounds swept by one thread (the old sweeper's way, which also stopped at 200 a
   run), then ``ROUNDS`` due rounds swept by ``SWEEP_WORKERS`` threads, each on DynamoDB Local with the
   template's RgsTable: rounds a minute of each and their ratio. The rounds are written straight into the table,
   open and overdue, half of them won automatic cash-outs the sweeper settles and pays (a read, the settlement
   transaction, a read, the wallet's win, the move to paid), half crashed (a read, the settlement). The operator
   wallet is an in-process fake that answers at once, so the figures are the sweeper's and DynamoDB Local's.
2. Where the time goes: DynamoDB calls per round (a ``before-call`` hook), their mean latency, this process's
   CPU per round and DynamoDB Local's (the Java process, from /proc), and a profile of one thread's sweep by
   package.
3. What AWS would give: the calls per round x ASSUMED latencies / the workers, and the ceiling of one vCPU at
   the measured CPU per round (Python's GIL keeps a run on one core).
"""

from __future__ import annotations

import cProfile
import json
import os
import pstats
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

Route = Literal["bet", "win", "refund"]

ROOT = Path(__file__).resolve().parents[1]
ROUNDS = 10_000
SEQUENTIAL_ROUNDS = 1_000
PROFILED_ROUNDS = 300
WARMUP_ROUNDS = 1_000
"""Swept first, unmeasured: DynamoDB Local's JIT warms up (its CPU a round falls by half) and the pools fill."""
OPERATORS = 10
NOW_MS = 1_795_000_000_000

# --- ASSUMED AWS latencies (in-region, warm connections): not measured here; check them before relying on them ---
AWS_SINGLE_ITEM_MS = 6.0  # GetItem, UpdateItem
AWS_TRANSACTION_MS = 15.0  # TransactWriteItems of two items
AWS_WALLET_MS = 150.0  # one operator wallet call over HTTPS


class FastWallet:
    """An operator wallet that answers at once: idempotent on operator_tx_id, thread-safe."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.done: dict[str, int] = {}
        self.calls = 0

    def _ok(self, route: Route, call: Any) -> Any:
        from croupier.clients.operator_wallet import AnswerKind, WalletAnswer

        with self.lock:
            self.calls += 1
            balance = self.done.setdefault(call.operator_tx_id, 1_000_000 + call.amount_minor)
        return WalletAnswer(AnswerKind.OK, route, call.operator_tx_id, status=200, balance_minor=balance)

    def bet(self, call: Any, *, timeout: float | None = None) -> Any:
        return self._ok("bet", call)

    def win(self, call: Any, *, timeout: float | None = None) -> Any:
        return self._ok("win", call)

    def refund(self, call: Any, *, timeout: float | None = None) -> Any:
        return self._ok("refund", call)


class DynamoCalls:
    """DynamoDB calls by operation and their total latency (botocore's before-call/after-call hooks)."""

    def __init__(self, client: Any) -> None:
        self.calls: Counter[str] = Counter()
        self.seconds = 0.0
        self._lock = threading.Lock()
        self._started = threading.local()
        client.meta.events.register("before-call.dynamodb", self._before)
        client.meta.events.register("after-call.dynamodb", self._after)

    def _before(self, model: Any, **_: Any) -> None:
        self._started.at = time.perf_counter()

    def _after(self, model: Any, **_: Any) -> None:
        elapsed = time.perf_counter() - self._started.at
        with self._lock:
            self.calls[model.name] += 1
            self.seconds += elapsed

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.seconds = 0.0


def seed(client: Any, table: str, n: int, sealer: Any) -> None:
    """``n`` open rounds, overdue: even ones won automatic cash-outs (1.50x, crash at 3.00x), odd ones crashed;
    their seed and crash point sealed as the bet seals them (``sealer``: one environment's, so the sweeper opens
    them without a KMS call per round, as a warm one does)."""
    from croupier.rgs.rounds import Round
    from croupier.rgs.store import round_item, round_place

    def item(i: int) -> dict[str, Any]:
        round_id = "r_" + uuid.uuid4().hex
        placed = Round(
            round_id=round_id,
            operator_id=f"00000000-0000-4000-8000-{i % OPERATORS:012d}",
            session_id=f"s-{i % 500}",
            operator_player_id=f"player-{i % 500}",
            currency="USD",
            bet_minor=1_000,
            client_seed="bench",
            nonce=i,
            server_seed="0" * 64,
            server_seed_hash="0" * 64,
            crash_cents=300 if i % 2 == 0 else 200,
            auto_cash_out_cents=150 if i % 2 == 0 else None,
            rtp_target="0.97",
            max_win_multiplier=10_000,
            created_at_ms=NOW_MS - 600_000,
        )
        sealed = sealer.seal(json.dumps(placed.sealed_part(), sort_keys=True), round_place(round_id))
        return {
            **round_item(placed, sealed, "open", NOW_MS - 300_000 + i),
            "started_at_ms": {"S": json.dumps(NOW_MS - 600_000)},
            "bet_balance_minor": {"S": "99000"},
        }

    def write(start: int) -> None:
        batch = [{"PutRequest": {"Item": item(i)}} for i in range(start, min(start + 25, n))]
        while batch:
            answer = client.batch_write_item(RequestItems={table: batch})
            batch = answer.get("UnprocessedItems", {}).get(table, [])

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(write, range(0, n, 25)))


def java_cpu_seconds(pid: int | None) -> float:
    """User + system CPU of DynamoDB Local's process so far (0 where /proc cannot tell)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, TypeError):
        return 0.0


def run(game: Any, calls: DynamoCalls, workers: int, n: int, pid: int | None) -> dict[str, Any]:
    calls.reset()
    wall, cpu, java = time.perf_counter(), time.process_time(), java_cpu_seconds(pid)
    done = game.sweep(workers=workers, limit=n, time_left_ms=lambda: 3_600_000)
    wall, cpu, java = time.perf_counter() - wall, time.process_time() - cpu, java_cpu_seconds(pid) - java
    handled = sum(v for k, v in done.items() if k != "failed")
    return {
        "done": done,
        "handled": handled,
        "per_minute": handled / wall * 60,
        "wall": wall,
        "cpu_ms": cpu / max(handled, 1) * 1000,
        "java_ms": java / max(handled, 1) * 1000,
        "calls": Counter(calls.calls),
        "latency_ms": calls.seconds / max(sum(calls.calls.values()), 1) * 1000,
    }


def profile_by_package(game: Any, n: int) -> list[tuple[str, float]]:
    """``n`` rounds swept one after the other under cProfile: this process's own CPU time by package, largest
    first."""
    due = game.store.due_rounds(NOW_MS, n)
    profiler = cProfile.Profile(time.process_time)  # CPU time: waits for DynamoDB Local are in ms/call
    profiler.enable()
    for round_id in due:  # what each worker does for a round, on this thread so that the profiler sees it
        game._sweep_one(round_id)
    profiler.disable()
    totals: Counter[str] = Counter()
    stats: dict[Any, Any] = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    for (filename, _, name), (_, _, own, _, _) in stats.items():
        totals[_package(filename, name)] += own
    grand = sum(totals.values()) or 1.0
    return [(package, own / grand) for package, own in totals.most_common(8)]


def _package(filename: str, name: str) -> str:
    for package in ("botocore", "urllib3", "boto3", "croupier", "concurrent", "json", "ssl", "http", "email"):
        if f"/{package}/" in filename or filename.endswith(f"/{package}.py"):
            return package
    if filename == "~":
        return "builtins: " + name.split(" of ")[0].strip("<>{}").replace("built-in method ", "")[:30]
    return "other"


def main(
    rounds: int = ROUNDS, sequential_rounds: int = SEQUENTIAL_ROUNDS, profiled: int = PROFILED_ROUNDS
) -> dict[str, float]:
    os.environ.update({"POWERTOOLS_METRICS_DISABLED": "true", "POWERTOOLS_TRACE_DISABLED": "true"})
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
    from croupier_local.dynamodb import create_tables, local_dynamodb
    from croupier_local.moto_server import MotoServer
    from croupier_local.template import load_template

    with local_dynamodb(ROOT) as ddb, MotoServer() as moto:
        (spec,) = [t for t in load_template(ROOT / "template.yaml").tables if t.logical_id == "RgsTable"]
        table = f"RgsSweepBench{uuid.uuid4().hex[:8]}"
        create_tables(
            ddb.endpoint_url,
            [replace(spec, logical_id=table, create_kwargs={**spec.create_kwargs, "TableName": table})],
        )
        return report(
            ddb.endpoint_url, ddb.pid, table, rounds, sequential_rounds, profiled, WARMUP_ROUNDS, moto.endpoint_url
        )


def report(
    endpoint: str,
    pid: int | None,
    table: str,
    rounds: int,
    sequential_rounds: int,
    profiled: int,
    warmup: int,
    kms_endpoint: str,
) -> dict[str, float]:
    """``kms_endpoint``: a moto server whose KMS seals the rounds' seeds. Prints the report; returns rounds a
    minute of one thread and of the workers, their ratio, and the rounds left due."""
    import boto3
    from botocore.config import Config

    from croupier.aws import CLIENT_CONFIG
    from croupier.rgs.game import SWEEP_WORKERS, Game
    from croupier.rgs.sealing import Sealer
    from croupier.rgs.store import RgsStore
    from croupier_local.aws_services import client as aws_client
    from croupier_local.aws_services import create_seed_key

    # the layer's client settings (pool, no retries), but a 10 s read timeout: DynamoDB Local on a busy
    # two-core machine can take longer than the 1 s AWS answers in, and a timeout would fail the round
    config = CLIENT_CONFIG.merge(Config(read_timeout=10, max_pool_connections=max(64, SWEEP_WORKERS * 2)))
    client = boto3.session.Session().client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="benchonly",
        aws_secret_access_key="benchonly",
        config=config,
    )
    calls = DynamoCalls(client)
    wallet = FastWallet()
    kms = aws_client("kms", kms_endpoint)
    sealer = Sealer(lambda: kms, create_seed_key(kms_endpoint))
    store = RgsStore(table, lambda: client, sealer=sealer)
    game = Game(store, lambda _: None, lambda _: wallet, _NoRetries(), clock_ms=lambda: NOW_MS)

    seed(client, table, warmup, sealer)
    run(game, calls, SWEEP_WORKERS, warmup, pid)
    seed(client, table, sequential_rounds, sealer)
    one = run(game, calls, 1, sequential_rounds, pid)
    seed(client, table, rounds, sealer)
    many = run(game, calls, SWEEP_WORKERS, rounds, pid)
    seed(client, table, profiled, sealer)
    shares = profile_by_package(game, profiled)
    left = len(game.store.due_rounds(NOW_MS, rounds))

    print(f"sweeper on DynamoDB Local ({os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end)")
    print(
        f"{'run':<26}{'rounds':>8}{'failed':>8}{'s':>8}{'rounds/min':>12}"
        f"{'py CPU ms/rd':>14}{'java ms/rd':>12}{'ms/call':>9}"
    )
    for name, r in ((f"1 thread ({sequential_rounds})", one), (f"{SWEEP_WORKERS} threads ({rounds})", many)):
        print(
            f"{name:<26}{r['handled']:>8}{r['done']['failed']:>8}{r['wall']:>8.1f}{r['per_minute']:>12.0f}"
            f"{r['cpu_ms']:>14.2f}{r['java_ms']:>12.2f}{r['latency_ms']:>9.1f}"
        )
    print(f"ratio {SWEEP_WORKERS} threads / 1 thread: {many['per_minute'] / one['per_minute']:.2f}x", end="")
    print(f"; the old sweeper also stopped at 200 rounds a run: {many['per_minute'] / 200:.0f}x its 200/min")
    print(f"goal 10,000/min: {'met' if many['per_minute'] >= 10_000 else 'NOT met'} on this machine; left due: {left}")
    per_round = {op: n / max(many["handled"], 1) for op, n in sorted(many["calls"].items())}
    print("DynamoDB calls per round: " + ", ".join(f"{op} {n:.2f}" for op, n in per_round.items()))
    wallet_per_round = wallet.calls / max(warmup + one["handled"] + many["handled"] + profiled, 1)
    print(f"wallet calls: {wallet.calls} ({wallet_per_round:.2f} a round)")
    print(
        f"profile of one thread ({profiled} rounds), own time by package: "
        + ", ".join(f"{p} {s:.0%}" for p, s in shares)
    )
    singles = sum(n for op, n in per_round.items() if op != "TransactWriteItems")
    latency = singles * AWS_SINGLE_ITEM_MS + per_round.get("TransactWriteItems", 0) * AWS_TRANSACTION_MS
    latency += wallet_per_round * AWS_WALLET_MS
    io_bound = SWEEP_WORKERS / latency * 1000 * 60
    cpu_bound = 1000 / many["cpu_ms"] * 60 if many["cpu_ms"] else float("inf")
    print(
        f"AWS estimate (ASSUMED {AWS_SINGLE_ITEM_MS:g} ms a single-item call, {AWS_TRANSACTION_MS:g} ms a transaction, "
        f"{AWS_WALLET_MS:g} ms a wallet call): {latency:.0f} ms a round x {SWEEP_WORKERS} workers -> "
        f"{io_bound:,.0f}/min by latency; one vCPU at {many['cpu_ms']:.2f} ms CPU a round -> {cpu_bound:,.0f}/min; "
        f"so ~{min(io_bound, cpu_bound):,.0f}/min"
    )
    return {
        "one_thread_per_minute": one["per_minute"],
        "workers_per_minute": many["per_minute"],
        "ratio": many["per_minute"] / one["per_minute"],
        "left_due": left,
    }


class _NoRetries:
    def enqueue(self, kind: str, round_id: str) -> None:
        raise AssertionError(f"the fast wallet never fails ({kind} {round_id})")


if __name__ == "__main__":
    main()
