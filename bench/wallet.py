"""Ruby wallet throughput and CPU, each next to a baseline measured in the same run.

1. Throughput on DynamoDB Local: debit, credit and replay calls per second through the real Lambda
   handler (signature check, parsing, ledger, response; one thread) next to a bare boto3 loop of
   ``transact_write_items`` of the same shape (entry put + conditional account update). Goal: ≥ 0.9.
2. CPU per call of the handler's own work (everything but DynamoDB: the store answers at once) next to
   a floor of one HMAC-SHA256 plus one ``json.loads`` of the same body. Goal: ≤ 10x.
"""

from __future__ import annotations

import hashlib
import hmac
import importlib.util
import json
import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from bench.signing import per_call

ROOT = Path(__file__).resolve().parents[1]
BRAND_KEY = "dev-ruby-brand-key"
BRAND_SECRET = "dev-only-ruby-brand-secret-not-for-production"
THROUGHPUT_CALLS = 300
ROUNDS = 3


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


def rate(fn: Callable[[int], object], calls: int = THROUGHPUT_CALLS) -> float:
    """Best-of-ROUNDS calls per second of ``fn(i)`` over ``calls`` calls."""
    best = 0.0
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for i in range(calls):
            fn(i)
        best = max(best, calls / (time.perf_counter() - start))
    return best


def main() -> None:
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
        throughput(ddb.endpoint_url, dynamodb_client(ddb.endpoint_url))
    cpu()


def throughput(endpoint: str, raw_client: Any) -> None:
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

    raw_requests = same_shape_requests(raw_player := f"raw-{uuid.uuid4().hex[:8]}", THROUGHPUT_CALLS * ROUNDS * 3 + 1)
    raw_client.put_item(
        TableName="WalletTable",
        Item={
            "pk": {"S": f"PLAYER#{raw_player}"},
            "sk": {"S": "ACCOUNT#KRW"},
            "balance": {"N": "0"},
            "version": {"N": "0"},
        },
    )
    sent = iter(raw_requests)

    def raw_transact(_: int) -> None:
        raw_client.transact_write_items(**next(sent))

    handler_debit(0)  # warm: link and snapshot cached, as in a warm Lambda
    handler_credit(0)
    raw_transact(0)
    results = [
        (name, rate(fn), rate(raw_transact))
        for name, fn in (("debit", handler_debit), ("credit", handler_credit), ("replay", handler_replay))
    ]
    print("wallet throughput on DynamoDB Local (one thread, best of 3 x 300 calls)")
    print(f"{'operation':<10}{'handler/s':>12}{'raw/s':>10}{'ratio':>8}")
    for name, handler_rate, raw_rate in results:
        print(f"{name:<10}{handler_rate:>12.0f}{raw_rate:>10.0f}{handler_rate / raw_rate:>8.2f}")


def same_shape_requests(player: str, count: int) -> list[dict[str, Any]]:
    """The exact TransactWriteItems requests the handler's debits send (entry put with every attribute,
    GSI keys and meta, conditional account update, ClientRequestToken), built before the clock starts."""
    from croupier.ledger import AccountKey, AccountState, Entry, Kind
    from croupier.ledger.dynamo import CommitPlan, DynamoLedgerStore

    captured: list[dict[str, Any]] = []

    class Recorder:
        def transact_write_items(self, **params: Any) -> dict[str, Any]:
            captured.append(params)
            return {}

    store = DynamoLedgerStore("WalletTable", lambda: Recorder())
    account = AccountKey(player, "KRW")
    for version in range(count):
        entry = Entry(
            provider="ruby",
            tx_id=f"{player}-{version}",
            kind=Kind.CREDIT,
            account=account,
            amount=10_000,
            delta=10_000,
            balance_before=version * 10_000,
            balance_after=(version + 1) * 10_000,
            version=version + 1,
            created_at="2026-11-21T11:22:33.000000Z",
            fingerprint="0" * 32,
            meta={"round_id": f"r-{version}"},
        )
        store.commit(CommitPlan(entry=entry, expected=AccountState(version * 10_000, version)))
    return captured


class InstantClient:
    """A DynamoDB client that accepts every transaction at once: the handler's own work, nothing else."""

    def transact_write_items(self, **_: Any) -> dict[str, Any]:
        return {}


def cpu() -> None:
    from croupier.ledger import AccountKey, AccountState, Ledger
    from croupier.ledger.dynamo import DynamoLedgerStore
    from croupier.secrets import FileSecretStore
    from croupier.signing import RawRequest
    from croupier.wallet.ruby import BrandDirectory, PlayerLinks, RubyWallet

    store = DynamoLedgerStore("WalletTable", lambda: InstantClient())
    ledger = Ledger(store)
    wallet = RubyWallet(
        ledger, BrandDirectory(FileSecretStore(ROOT / "local" / "dev-secrets.json")), PlayerLinks(lambda p, e: "bench")
    )
    ledger.snapshots.put(AccountKey("bench", "KRW"), AccountState(10**15, 1))
    raw = json.dumps({"player_id": 1, "amount": "1.00", "transaction_id": "t", "round_id": "r"}, separators=(",", ":"))
    request = RawRequest.of(
        "POST", "/ruby/debit", {k: v for k, v in ruby_event("debit", json.loads(raw))["headers"].items()}, raw
    )

    def floor() -> object:
        hmac.new(BRAND_SECRET.encode(), raw.encode(), hashlib.sha256).hexdigest()
        return json.loads(raw)

    base = per_call(floor, calls=20_000)
    own = per_call(lambda: wallet.debit(request), calls=5_000)
    module = load_handler("ruby_debit")
    setattr(module, "ruby_wallet", lambda: wallet)  # noqa: B010 - this environment's wallet answers at once
    event = ruby_event("debit", json.loads(raw))
    module_ctx = Context()
    full = per_call(lambda: module.handler(event, module_ctx), calls=2_000)
    print(f"wallet CPU per debit (floor: 1 HMAC-SHA256 + 1 json.loads of {len(raw)} bytes = {base * 1e6:.2f} us)")
    print(f"{'path':<44}{'us/call':>10}{'x floor':>10}")
    print(f"{'wallet logic (verify, parse, ledger, reply)':<44}{own * 1e6:>10.2f}{own / base:>10.2f}")
    print(f"{'whole Lambda handler (+ Powertools, routing)':<44}{full * 1e6:>10.2f}{full / base:>10.2f}")


if __name__ == "__main__":
    main()
