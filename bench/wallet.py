"""Ruby wallet throughput and CPU, each next to a baseline measured in the same run.

1. Throughput on DynamoDB Local: debit, credit and replay calls per second through the real Lambda
   handler (signature check, parsing, ledger, response; one thread) next to a bare boto3 loop of
   ``transact_write_items`` sending the same requests (entry put + conditional account update with the
   player-protection counters, see :func:`same_shape_requests`). Goal: ≥ 0.95.
2. CPU per call of the handler's own work (everything but DynamoDB: the store answers at once) next to
   a floor of one HMAC-SHA256 plus one ``json.loads`` of the same body. Goal: ≤ 8x (the wallet logic).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import importlib.util
import json
import os
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

from bench.quiet import handler_output_sunk
from bench.signing import per_call
from croupier.ledger import Kind

ROOT = Path(__file__).resolve().parents[1]
BRAND_KEY = "dev-ruby-brand-key"
BRAND_SECRET = "dev-only-ruby-brand-secret-not-for-production"
THROUGHPUT_CALLS = 300
ROUNDS = 9
WARMUP_CALLS = 2000
CPU_CALLS = 5_000
"""Calls timed of the wallet logic a repeat; the floor gets 4x as many, the whole handler 0.4x."""


def load_handler(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "functions" / name / "app.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def ruby_event(op: str, body: dict[str, Any]) -> dict[str, Any]:
    from croupier.signing import ruby_callback

    raw = json.dumps(body, separators=(",", ":"))
    headers = {k.lower(): v for k, v in ruby_callback.headers(BRAND_KEY, BRAND_SECRET, raw).items()}
    headers["content-type"] = "application/json"
    return {
        "version": "2.0",
        "routeKey": f"POST /ruby/{op}",
        "rawPath": f"/ruby/{op}",
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "http": {"method": "POST", "path": f"/ruby/{op}", "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1"},
            "requestId": "bench",
            "routeKey": f"POST /ruby/{op}",
            "stage": "$default",
        },
        "body": raw,
        "isBase64Encoded": False,
    }


class Context:
    function_name = "bench"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    aws_request_id = "bench"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 10_000


def paired_rates(
    handler: Callable[[int], object], raw: Callable[[int], object], calls: int | None = None
) -> tuple[float, float, float]:
    """Calls per second of each, in ROUNDS adjacent pairs of rounds (handler, then raw, then the other
    order), and the median of the per-pair ratios: drift and DynamoDB Local's hiccups weigh on both sides
    of a pair alike, and the median ignores the odd disturbed pair."""
    calls = calls or THROUGHPUT_CALLS
    handler_rates, raw_rates, ratios = [], [], []
    for round_number in range(ROUNDS):
        pair = {}
        order = (("handler", handler), ("raw", raw)) if round_number % 2 == 0 else (("raw", raw), ("handler", handler))
        for side, fn in order:
            start = time.perf_counter()
            for i in range(calls):
                fn(i)
            pair[side] = calls / (time.perf_counter() - start)
        handler_rates.append(pair["handler"])
        raw_rates.append(pair["raw"])
        ratios.append(pair["handler"] / pair["raw"])
    return statistics.median(handler_rates), statistics.median(raw_rates), statistics.median(ratios)


def main() -> dict[str, Any]:
    """Print the tables; return the throughput, protection and CPU figures."""
    os.environ.update({"POWERTOOLS_METRICS_DISABLED": "true", "POWERTOOLS_TRACE_DISABLED": "true"})
    from croupier_local.dynamodb import create_tables, dynamodb_client, local_dynamodb
    from croupier_local.template import load_template

    with local_dynamodb(ROOT) as ddb:
        create_tables(ddb.endpoint_url, load_template(ROOT / "template.yaml").tables)
        os.environ.update(
            {
                "AWS_ENDPOINT_URL_DYNAMODB": ddb.endpoint_url,
                "AWS_ACCESS_KEY_ID": "croupierlocaldevonly",
                "AWS_SECRET_ACCESS_KEY": "croupier-local-dev-only-not-a-secret",
                "AWS_DEFAULT_REGION": "us-east-1",
                "WALLET_TABLE": "WalletTable",
                "CROUPIER_SECRETS_FILE": str(ROOT / "local" / "dev-secrets.json"),
                "POWERTOOLS_TRACE_DISABLED": "true",
                "POWERTOOLS_METRICS_DISABLED": "true",
                "POWERTOOLS_LOG_LEVEL": "WARNING",
            }
        )
        figures = throughput(ddb.endpoint_url, dynamodb_client(ddb.endpoint_url))
    return {**figures, "cpu": cpu()}


def throughput(endpoint: str, raw_client: Any) -> dict[str, Any]:
    from croupier.wallet.wiring import admin

    player, ruby_id = f"bench-{uuid.uuid4().hex[:8]}", 900_000 + int(time.time()) % 99_999
    admin().create_player(json.dumps({"player_id": player, "currency": "KRW", "links": {"ruby": ruby_id}}).encode())
    admin().deposit(player, json.dumps({"currency": "KRW", "amount": "100000000", "reference": f"{player}-d"}).encode())
    debit, credit = load_handler("ruby_debit"), load_handler("ruby_credit")
    ctx = Context()
    run = uuid.uuid4().hex[:6]

    def body(i: int, tag: str) -> dict[str, Any]:
        return {"player_id": ruby_id, "amount": "1.00", "transaction_id": f"{tag}-{run}-{i}", "round_id": f"r-{i}"}

    counter = iter(range(10**9))

    def handler_debit(_: int) -> None:
        result = debit.handler(ruby_event("debit", body(next(counter), "d")), ctx)
        assert result["statusCode"] == 200, result

    def handler_credit(_: int) -> None:
        result = credit.handler(ruby_event("credit", body(next(counter), "c")), ctx)
        assert result["statusCode"] == 200, result

    replayed = ruby_event("debit", body(-1, "replay"))
    assert debit.handler(replayed, ctx)["statusCode"] == 200

    def handler_replay(_: int) -> None:
        assert debit.handler(replayed, ctx)["statusCode"] == 200

    calls = THROUGHPUT_CALLS * ROUNDS + 1
    start_balance = 10**15
    raw: dict[str, Callable[[int], None]] = {}
    for name, kind in (("debit", Kind.DEBIT), ("credit", Kind.CREDIT)):
        raw_player = raw_account(raw_client, f"raw-{name}-{uuid.uuid4().hex[:8]}", start_balance)
        requests = iter(same_shape_requests(raw_player, kind, start_balance, calls))
        raw[name] = functools.partial(send_next, raw_client, requests)
    # A replay as the handler's meets it: the entry is there, the account as the request expects it (only the entry's
    # condition fails; an account missing too would fail a second condition, a different cancellation).
    replay_player = raw_account(raw_client, f"raw-replay-{uuid.uuid4().hex[:8]}", start_balance)
    replayed_request = same_shape_requests(replay_player, Kind.DEBIT, start_balance, 1)[0]
    raw_client.transact_write_items(**{**replayed_request, "TransactItems": replayed_request["TransactItems"][:1]})

    def raw_replay(_: int) -> None:
        try:  # the entry exists: the transaction is cancelled and hands the stored entry back (ALL_OLD)
            raw_client.transact_write_items(**{**replayed_request, "ClientRequestToken": uuid.uuid4().hex})
        except raw_client.exceptions.TransactionCanceledException as cancelled:
            reasons = [r.get("Code") for r in cancelled.response.get("CancellationReasons", [])]
            assert reasons == ["ConditionalCheckFailed", "None"], reasons  # the entry's condition, and only it
            return
        raise AssertionError("the replayed transaction was not cancelled")

    raw["replay"] = raw_replay
    handlers = {"debit": handler_debit, "credit": handler_credit, "replay": handler_replay}

    def signed_ahead(name: str) -> Callable[[int], None]:
        """The timed handler calls of ``name`` with their events built and signed before the clock starts, as the
        raw loop's requests are (signing is the caller's work, ~10 us a call; a Ruby signature stays valid 300 s,
        longer than one operation's rounds take)."""
        if name == "replay":
            return handler_replay
        module, tag = (debit, "d") if name == "debit" else (credit, "c")
        events = iter([ruby_event(name, body(next(counter), tag)) for _ in range(THROUGHPUT_CALLS * ROUNDS)])

        def call(_: int) -> None:
            result = module.handler(next(events), ctx)
            assert result["statusCode"] == 200, result

        return call

    with handler_output_sunk():
        handler_debit(0)  # warm: link and snapshot cached, as in a warm Lambda
        handler_credit(0)
        for fn in raw.values():
            fn(0)
        for i in range(WARMUP_CALLS):  # DynamoDB Local's JIT warms up before anything is timed
            handler_credit(i)
            raw["replay"](i)
        results = [(name, *paired_rates(signed_ahead(name), raw[name])) for name in handlers]
    print(
        f"wallet throughput on DynamoDB Local (one thread; medians of {ROUNDS} adjacent pairs of "
        f"{THROUGHPUT_CALLS}-call rounds)"
    )
    print(f"{'operation':<10}{'handler/s':>12}{'raw/s':>10}{'ratio':>8}")
    for name, handler_rate, raw_rate, ratio in results:
        print(f"{name:<10}{handler_rate:>12.0f}{raw_rate:>10.0f}{ratio:>8.2f}")
    return {
        "throughput": {
            name: {"handler_per_s": handler_rate, "raw_per_s": raw_rate, "ratio": ratio}
            for name, handler_rate, raw_rate, ratio in results
        },
        "protection": limits_next_to_none(debit, handler_debit, ctx),
    }


def limits_next_to_none(debit: ModuleType, without: Callable[[int], None], ctx: Context) -> dict[str, float]:
    """A Ruby debit of a player with all nine limits set (high enough never to bind: every check is made and the
    window counters written) next to the same debit of a player without any, paired rounds in the same run.
    Goal: ≥ 0.9 (within 10 %)."""
    from croupier.wallet.wiring import admin, protection

    player, ruby_id = f"bench-lim-{uuid.uuid4().hex[:8]}", 800_000 + int(time.time()) % 99_999
    admin().create_player(json.dumps({"player_id": player, "currency": "KRW", "links": {"ruby": ruby_id}}).encode())
    admin().deposit(player, json.dumps({"currency": "KRW", "amount": "100000000", "reference": f"{player}-d"}).encode())
    high = {"day": "90000000", "week": "90000000", "month": "90000000"}
    limits = {"currency": "KRW", "deposit": high, "loss": high, "wager": high}
    protection().set_limits(player, json.dumps(limits).encode(), "bench")
    counter = iter(range(10**9))
    run = uuid.uuid4().hex[:6]

    def with_limits(_: int) -> None:
        body = {"player_id": ruby_id, "amount": "1.00", "transaction_id": f"l-{run}-{next(counter)}", "round_id": "r"}
        result = debit.handler(ruby_event("debit", body), ctx)
        assert result["statusCode"] == 200, result

    with handler_output_sunk():
        for i in range(WARMUP_CALLS // 4):
            with_limits(i)
        limited, plain, ratio = paired_rates(with_limits, without)
    print("player protection: a debit with limits set next to one without (same run, same handler)")
    print(f"{'operation':<16}{'limits/s':>10}{'none/s':>10}{'ratio':>8}")
    print(f"{'debit':<16}{limited:>10.0f}{plain:>10.0f}{ratio:>8.2f}  (goal >= 0.90)")
    return {"limits_per_s": limited, "none_per_s": plain, "ratio": ratio}


def raw_account(client: Any, player: str, balance: int) -> str:
    """An account item of the raw loop's player, version 0 (what its first request expects)."""
    client.put_item(
        TableName="WalletTable",
        Item={
            "pk": {"S": f"PLAYER#{player}"},
            "sk": {"S": "ACCOUNT#KRW"},
            "balance": {"N": str(balance)},
            "version": {"N": "0"},
        },
    )
    return player


def send_next(client: Any, requests: Iterator[dict[str, Any]], _: int) -> None:
    client.transact_write_items(**next(requests))


def same_shape_requests(player: str, kind: Kind, start: int, count: int) -> list[dict[str, Any]]:
    """The exact TransactWriteItems requests the handler sends for ``kind``, built before the clock starts by the
    ledger's own plan (``Ledger._movement_plan``) and the store's own serialisation: the entry with every attribute
    (GSI keys, meta, the signature's digest), the account update with its conditions and the player-protection
    window counters it writes on every movement (``win``, three nested maps), the ClientRequestToken. Whatever
    the ledger adds to a movement's transaction, the baseline sends too."""
    from croupier.ledger import AccountKey, AccountState, Ledger, Movement, signature_digest
    from croupier.ledger.dynamo import DynamoLedgerStore
    from croupier.ledger.service import _after

    captured: list[dict[str, Any]] = []

    class Recorder:
        def transact_write_items(self, **params: Any) -> dict[str, Any]:
            captured.append(params)
            return {}

    store = DynamoLedgerStore("WalletTable", lambda: Recorder())
    ledger = Ledger(store, now=lambda: "2026-11-21T11:22:33.000000Z")
    account = AccountKey(player, "KRW")
    state = AccountState(start, 0)
    signature = signature_digest("5" * 64)  # a Ruby request's digest is kept on its entry
    for version in range(count):
        movement = Movement(
            "ruby", f"{player}-{version}", account, kind, 10_000, meta={"round_id": f"r-{version}"}, signature=signature
        )
        plan = ledger._movement_plan(movement, state)
        store.commit(plan)
        state = _after(plan)
    return captured


class InstantClient:
    """A DynamoDB client that accepts every transaction at once: the handler's own work, nothing else."""

    def transact_write_items(self, **_: Any) -> dict[str, Any]:
        return {}


def cpu() -> dict[str, float]:
    from croupier.ledger import AccountKey, AccountState, Ledger
    from croupier.ledger.dynamo import DynamoLedgerStore
    from croupier.secrets import CachedSecrets, FileSecretStore
    from croupier.signing import RawRequest
    from croupier.wallet.ruby import BrandDirectory, PlayerLinks, RubyWallet

    store = DynamoLedgerStore("WalletTable", lambda: InstantClient())
    ledger = Ledger(store)
    wallet = RubyWallet(
        ledger,
        BrandDirectory(CachedSecrets(FileSecretStore(ROOT / "local" / "dev-secrets.json"))),
        PlayerLinks(lambda p, e: "bench"),
    )
    ledger.snapshots.put(AccountKey("bench", "KRW"), AccountState(10**15, 1))
    raw = json.dumps({"player_id": 1, "amount": "1.00", "transaction_id": "t", "round_id": "r"}, separators=(",", ":"))
    request = RawRequest.of(
        "POST", "/ruby/debit", {k: v for k, v in ruby_event("debit", json.loads(raw))["headers"].items()}, raw
    )

    def floor() -> object:
        hmac.new(BRAND_SECRET.encode(), raw.encode(), hashlib.sha256).hexdigest()
        return json.loads(raw)

    base = per_call(floor, calls=CPU_CALLS * 4)
    own = per_call(lambda: wallet.debit(request), calls=CPU_CALLS)
    module = load_handler("ruby_debit")
    setattr(module, "ruby_wallet", lambda: wallet)  # noqa: B010 - this environment's wallet answers at once
    event = ruby_event("debit", json.loads(raw))
    module_ctx = Context()
    with handler_output_sunk():
        full = per_call(lambda: module.handler(event, module_ctx), calls=max(CPU_CALLS * 2 // 5, 1))
    print(f"wallet CPU per debit (floor: 1 HMAC-SHA256 + 1 json.loads of {len(raw)} bytes = {base * 1e6:.2f} us)")
    print(f"{'path':<44}{'us/call':>10}{'x floor':>10}")
    print(f"{'wallet logic (verify, parse, ledger, reply)':<44}{own * 1e6:>10.2f}{own / base:>10.2f}")
    print(f"{'whole Lambda handler (+ Powertools, routing)':<44}{full * 1e6:>10.2f}{full / base:>10.2f}")
    return {"floor_us": base * 1e6, "logic_us": own * 1e6, "handler_us": full * 1e6}


if __name__ == "__main__":
    main()
