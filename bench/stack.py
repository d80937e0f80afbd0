"""The local stack over HTTP next to the same handler called in-process, DynamoDB work per operation, and
what a million callbacks would cost on AWS at those counts.

1. Throughput: Ruby debits through ``http://127.0.0.1`` (the local stack: HTTP parsing, the API Gateway
   event, the execution-environment pool) next to the same handler module invoked in-process with the same
   events, on the same DynamoDB Local, in alternating rounds (median of the per-pair ratios).
2. Round trips and capacity per operation: every request the handlers' DynamoDB client sends is counted
   (a ``before-send`` hook) and asked for ``ReturnConsumedCapacity`` (a ``before-parameter-build`` hook),
   whose answers are added up; except a transaction's table units, which DynamoDB Local under-reports (2 for a
   put and an update): each item it wrote is sized instead, as DynamoDB bills it (``croupier_local.capacity``).
3. Cost per million callbacks, from those counts and the measured in-process duration, at the public
   prices below: ASSUMPTIONS, not quotes; check them before relying on the figures.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import time
import uuid
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BRAND_KEY = "dev-ruby-brand-key"
CALLS = 200
ROUNDS = 5
WARMUP = 300
REPEATS = 20

# --- public prices, us-east-1: ASSUMPTIONS as published by AWS in 2025 (checked 2025-06); verify before use ---
PRICES_AS_OF = "2025-06"
LAMBDA_PER_MILLION_REQUESTS = 0.20  # USD, x86_64
LAMBDA_PER_GB_SECOND = 0.0000166667  # USD, x86_64, first 6 billion GB-s a month
HTTP_API_PER_MILLION = 1.00  # USD, first 300 million requests a month
DYNAMODB_PER_MILLION_WRU = 0.625  # USD, on-demand (after the November 2024 price cut)
DYNAMODB_PER_MILLION_RRU = 0.125  # USD, on-demand
MEMORY_SIZES_MB = (128, 256, 512)  # each function's own size: template.yaml, chosen by bench/memory.py


WRITES = frozenset({"TransactWriteItems", "PutItem", "UpdateItem"})


@dataclass
class Work:
    """DynamoDB requests and capacity of one operation."""

    calls: Counter[str] = field(default_factory=Counter)
    read_units: float = 0.0
    write_units: float = 0.0

    @property
    def round_trips(self) -> int:
        return sum(self.calls.values())


class CapacityMeter:
    """Hooks on the handlers' own DynamoDB client: counts requests, asks for and adds up consumed capacity."""

    def __init__(self, client: Any) -> None:
        from croupier_local.dynamodb import dynamodb_client

        self.client = client
        self.work = Work()
        self.reader = dynamodb_client(client.meta.endpoint_url)  # sizes updated items, uncounted
        self._sent: list[dict[str, Any]] = []

    def _ask(self, params: dict[str, Any], event_name: str, **_: Any) -> None:
        if event_name.endswith(".TransactWriteItems"):
            params["ReturnConsumedCapacity"] = "INDEXES"
            self._sent = params["TransactItems"]
        else:
            params.setdefault("ReturnConsumedCapacity", "TOTAL")

    def _read(self, table: str, key: Any) -> Any:
        return self.reader.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")

    def _count(self, event_name: str, **_: Any) -> None:
        self.work.calls[event_name.rsplit(".", 1)[-1]] += 1

    def _add(self, parsed: dict[str, Any], event_name: str, **_: Any) -> None:
        """DynamoDB Local answers TOTAL as ``CapacityUnits`` only: writes for write operations, reads else."""
        from croupier_local import capacity

        consumed = parsed.get("ConsumedCapacity") or []
        if event_name.endswith(".TransactWriteItems"):
            if consumed:  # committed (a cancelled transaction reports nothing)
                items = capacity.transaction_write_units(self._sent, self._read)
                self.work.write_units += sum(items.values()) + capacity.index_units(consumed)
            return
        units = sum(
            float(item.get("CapacityUnits", 0) or 0)
            for item in ([consumed] if isinstance(consumed, dict) else consumed)
        )
        if event_name.rsplit(".", 1)[-1] in WRITES:
            self.work.write_units += units
        else:
            self.work.read_units += units

    @contextmanager
    def measuring(self) -> Iterator[Work]:
        self.work = Work()
        events = self.client.meta.events
        for operation in ("GetItem", "Query", "TransactWriteItems", "TransactGetItems", "PutItem", "UpdateItem"):
            events.register(f"before-parameter-build.dynamodb.{operation}", self._ask)
            events.register(f"after-call.dynamodb.{operation}", self._add)
        events.register("before-send.dynamodb", self._count)
        try:
            yield self.work
        finally:
            for operation in ("GetItem", "Query", "TransactWriteItems", "TransactGetItems", "PutItem", "UpdateItem"):
                events.unregister(f"before-parameter-build.dynamodb.{operation}", self._ask)
                events.unregister(f"after-call.dynamodb.{operation}", self._add)
            events.unregister("before-send.dynamodb", self._count)


def lambda_cost_per_million(duration_ms: float, memory_mb: int) -> float:
    billed_ms = math.ceil(duration_ms)  # Lambda bills by the millisecond, rounded up
    return LAMBDA_PER_MILLION_REQUESTS + 1_000_000 * (billed_ms / 1000) * (memory_mb / 1024) * LAMBDA_PER_GB_SECOND


def dynamodb_cost_per_million(work: Work) -> float:
    return work.write_units * DYNAMODB_PER_MILLION_WRU + work.read_units * DYNAMODB_PER_MILLION_RRU


@dataclass(frozen=True)
class Fixture:
    stack: Any
    ruby_id: int
    player_id: str
    ruby_secret: str
    sportsbook_hash: str


def ruby_event(op: str, body: dict[str, Any], secret: str) -> tuple[bytes, dict[str, str]]:
    from croupier.signing import ruby_callback

    raw = json.dumps(body, separators=(",", ":")).encode()
    headers = {**ruby_callback.headers(BRAND_KEY, secret, raw), "Content-Type": "application/json"}
    return raw, headers


def as_event(method: str, path: str, raw: bytes, headers: dict[str, str]) -> dict[str, Any]:
    from croupier_local.apigw import HttpRequest, build_event

    request = HttpRequest(method, path, headers=list(headers.items()), body=raw)
    return build_event(request, route_key=f"{method} {path}", path_parameters={}, request_id="bench")


def throughput(
    fx: Fixture, calls: int = CALLS, rounds: int = ROUNDS, warmup: int = WARMUP
) -> tuple[float, float, float]:
    """Debits per second over HTTP and in-process, and the median of their per-pair ratio."""
    import requests

    run = uuid.uuid4().hex[:6]
    counter = iter(range(10**9))
    session = requests.Session()
    url = f"{fx.stack.base_url}/ruby/debit"

    def body() -> dict[str, Any]:
        return {"player_id": fx.ruby_id, "amount": "1.00", "transaction_id": f"b-{run}-{next(counter)}"}

    def over_http() -> None:
        raw, headers = ruby_event("debit", body(), fx.ruby_secret)
        answer = session.post(url, data=raw, headers=headers, timeout=30)
        assert answer.status_code == 200, answer.text

    def in_process() -> None:
        raw, headers = ruby_event("debit", body(), fx.ruby_secret)
        result = fx.stack.invoke("RubyDebitFunction", as_event("POST", "/ruby/debit", raw, headers))
        assert result["statusCode"] == 200, result

    for _ in range(warmup):
        over_http()
        in_process()
    http_rates, direct_rates, ratios = [], [], []
    for round_number in range(rounds):
        pair: dict[str, float] = {}
        order: list[tuple[str, Callable[[], None]]] = [("http", over_http), ("direct", in_process)]
        for side, fn in order if round_number % 2 == 0 else list(reversed(order)):
            start = time.perf_counter()
            for _ in range(calls):
                fn()
            pair[side] = calls / (time.perf_counter() - start)
        http_rates.append(pair["http"])
        direct_rates.append(pair["direct"])
        ratios.append(pair["http"] / pair["direct"])
    return statistics.median(http_rates), statistics.median(direct_rates), statistics.median(ratios)


def operations(fx: Fixture) -> dict[str, Callable[[], dict[str, Any]]]:
    """One call of each measured operation, in-process through the real handler, on fresh ids."""
    from croupier.signing import sportsbook

    def ruby(op: str, extra: dict[str, Any]) -> Callable[[], dict[str, Any]]:
        def call() -> dict[str, Any]:
            body = {"player_id": fx.ruby_id, **extra}
            raw, headers = ruby_event(op, body, fx.ruby_secret)
            name = {"balance": "RubyBalanceFunction", "debit": "RubyDebitFunction", "credit": "RubyCreditFunction"}
            result: dict[str, Any] = fx.stack.invoke(
                name.get(op, "RubyRollbackFunction"), as_event("POST", f"/ruby/{op}", raw, headers)
            )
            assert result["statusCode"] == 200, result
            return result

        return call

    replayed = f"replay-{uuid.uuid4().hex[:8]}"
    ruby("debit", {"amount": "1.00", "transaction_id": replayed})()
    last_debit: list[str] = []

    def debit() -> dict[str, Any]:
        tx = f"d-{uuid.uuid4().hex[:12]}"
        last_debit.append(tx)
        return ruby("debit", {"amount": "1.00", "transaction_id": tx})()

    def sportsbook_bet() -> dict[str, Any]:
        raw = json.dumps(
            {
                "transaction_id": f"sb-{uuid.uuid4().hex[:12]}",
                "action": "bet",
                "user_id": fx.player_id,
                "currency": "KRW",
                "amount": 1,
            }
        ).encode()
        headers = {**sportsbook.headers(fx.sportsbook_hash, raw), "Content-Type": "application/json"}
        result: dict[str, Any] = fx.stack.invoke(
            "SportsbookTransactionFunction", as_event("POST", "/sportsbook/transaction", raw, headers)
        )
        assert result["statusCode"] == 200, result
        assert '"error":null' in result["body"], result
        return result

    return {
        "ruby balance": ruby("balance", {}),
        "ruby debit": debit,
        "ruby credit": lambda: ruby("credit", {"amount": "1.00", "transaction_id": f"c-{uuid.uuid4().hex[:12]}"})(),
        "ruby rollback": lambda: ruby("rollback", {"transaction_id": last_debit[-1] if last_debit else "none"})(),
        "ruby replay": ruby("debit", {"amount": "1.00", "transaction_id": replayed}),
        "sportsbook bet": sportsbook_bet,
    }


def work_per_operation(fx: Fixture, repeats: int = 20) -> dict[str, tuple[Work, float]]:
    """Each operation's DynamoDB work (of one call, warm) and its median in-process duration in ms."""
    from croupier import aws

    meter = CapacityMeter(aws.dynamodb())
    found: dict[str, tuple[Work, float]] = {}
    ops = operations(fx)
    for name, call in ops.items():
        if name == "ruby rollback":
            ops["ruby debit"]()
        call()  # warm: caches filled as in a warm Lambda
        if name == "ruby rollback":
            ops["ruby debit"]()
        with meter.measuring() as work:
            call()
        durations = []
        for _ in range(repeats):
            if name == "ruby rollback":
                ops["ruby debit"]()
            start = time.perf_counter()
            call()
            durations.append((time.perf_counter() - start) * 1000)
        found[name] = (work, statistics.median(durations))
    return found


@contextmanager
def running_stack() -> Iterator[Fixture]:
    from croupier_local.server import LocalStack

    os.environ.update(
        {
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
            "LOCAL_LOG_LEVEL": "WARNING",
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with LocalStack(ROOT, port=0) as stack:
            from croupier import aws

            # clients cached by an earlier benchmark name its stopped DynamoDB and moto
            aws.dynamodb.cache_clear()
            aws.secretsmanager.cache_clear()
            aws.sqs.cache_clear()
            yield prepare(stack, stack.secret_store)


def prepare(stack: Any, store: Any) -> Fixture:
    """A funded player linked to a Ruby id on ``stack``, and the dev-only secrets to sign with (``store``: the
    stack's Secrets Manager)."""
    player, ruby_id = f"bench-{uuid.uuid4().hex[:8]}", 800_000_000 + uuid.uuid4().int % 99_999_999
    for path, data in (
        ("/admin/players", {"player_id": player, "currency": "KRW", "links": {"ruby": ruby_id}}),
        (f"/admin/players/{player}/deposits", {"currency": "KRW", "amount": "1000000000", "reference": "b"}),
    ):
        result = stack.handle(_post(path, data))
        assert result.status == 201, result.body
    return Fixture(
        stack=stack,
        ruby_id=ruby_id,
        player_id=player,
        ruby_secret=store.get(f"ruby/brands/{BRAND_KEY}")["api_secret"],
        sportsbook_hash=store.get("sportsbook")["security_hash"],
    )


def _post(path: str, data: dict[str, Any]) -> Any:
    from croupier_local.apigw import HttpRequest

    return HttpRequest("POST", path, headers=[("Content-Type", "application/json")], body=json.dumps(data).encode())


def report(
    fx: Fixture, calls: int = CALLS, rounds: int = ROUNDS, warmup: int = WARMUP, repeats: int = REPEATS
) -> dict[str, Any]:
    """Print the tables; return the HTTP/in-process figures and each operation's work and cost (at 256 MB)."""
    from bench.quiet import handler_output_sunk

    with handler_output_sunk():
        http, direct, ratio = throughput(fx, calls, rounds, warmup)
        work = work_per_operation(fx, repeats)
    print(f"local stack over HTTP vs the same handler in-process (Ruby debit, one thread, medians of {rounds} pairs)")
    print(f"{'http/s':>8}{'in-process/s':>14}{'ratio':>8}")
    print(f"{http:>8.0f}{direct:>14.0f}{ratio:>8.2f}")
    print("DynamoDB work per operation (warm; DynamoDB Local's ReturnConsumedCapacity, a transaction's items sized)")
    print(f"{'operation':<16}{'round trips':>12}{'WRU':>6}{'RRU':>6}{'ms in-process':>15}  requests")
    for name, (w, ms) in work.items():
        calls_text = ", ".join(f"{op} x{n}" for op, n in sorted(w.calls.items()))
        print(f"{name:<16}{w.round_trips:>12}{w.write_units:>6.1f}{w.read_units:>6.1f}{ms:>15.1f}  {calls_text}")
    print(f"cost per million callbacks on AWS, USD (ASSUMED public us-east-1 prices as of {PRICES_AS_OF}:")
    print(
        f"  Lambda ${LAMBDA_PER_MILLION_REQUESTS}/M requests + ${LAMBDA_PER_GB_SECOND}/GB-s, HTTP API "
        f"${HTTP_API_PER_MILLION}/M, DynamoDB on-demand ${DYNAMODB_PER_MILLION_WRU}/M WRU, "
        f"${DYNAMODB_PER_MILLION_RRU}/M RRU; duration = the in-process time above, DynamoDB Local's latency "
        "standing in for DynamoDB's; logs, X-Ray and data transfer left out)"
    )
    header = "".join(f"{'Lambda ' + str(m) + 'MB':>14}" for m in MEMORY_SIZES_MB)
    print(f"{'operation':<16}{'HTTP API':>10}{'DynamoDB':>10}{header}{'total@256MB':>13}{'DynamoDB share':>16}")
    operations: dict[str, dict[str, float]] = {}
    for name, (w, ms) in work.items():
        dynamo = dynamodb_cost_per_million(w)
        lambdas = [lambda_cost_per_million(ms, m) for m in MEMORY_SIZES_MB]
        total = HTTP_API_PER_MILLION + dynamo + lambdas[1]
        cells = "".join(f"{cost:>14.2f}" for cost in lambdas)
        print(f"{name:<16}{HTTP_API_PER_MILLION:>10.2f}{dynamo:>10.2f}{cells}{total:>13.2f}{dynamo / total:>16.2f}")
        operations[name] = {
            "round_trips": w.round_trips,
            "wru": w.write_units,
            "rru": w.read_units,
            "ms": ms,
            "cost_per_million_usd": total,
            "dynamodb_share": dynamo / total,
        }
    return {"http_per_s": http, "in_process_per_s": direct, "http_ratio": ratio, "operations": operations}


def main() -> dict[str, Any]:
    with running_stack() as fx:
        return report(fx, CALLS, ROUNDS, WARMUP, REPEATS)


if __name__ == "__main__":
    main()
