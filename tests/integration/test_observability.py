"""Logs and metrics of the handlers, in-process on the local stack and DynamoDB Local.

* No secret reaches a log: representative requests of every kind (Ruby, sportsbook, RGS wallet, both launch
  routes against fake providers, RGS operator provisioning, key rotation, the operator's and the player's
  routes, the retry worker, and ``croupier ruby brand create``) run with everything captured at DEBUG: the
  Powertools logger's structured lines, every stdlib log record (boto3, botocore, urllib3, the local stack),
  and whatever reaches stdout and stderr. Every secret of ``local/dev-secrets.json`` and every secret handed
  out on the way (an operator's ``hmac_secret`` at provisioning and rotation, a brand's ``api_secret``) is
  searched for in all of it.
* Every structured line of an API request carries API Gateway's request id as ``correlation_id``.
* Each operation emits the metrics it should, read from the EMF documents Powertools prints when it flushes.
"""

from __future__ import annotations

import io
import json
import logging
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from croupier.observability import METRIC_NAMES, NAMESPACE, SERVICE, logger, metrics
from croupier.rgs import wiring as rgs_wiring
from croupier.secrets import SecretStore
from croupier.signing import rgs, ruby_callback
from croupier.wallet import wiring as wallet_wiring
from croupier_cli import cli
from croupier_local.apigw import HttpRequest, HttpResponse
from croupier_local.server import LocalStack
from tests.fakes.rgs_server import FakeRgsServer
from tests.fakes.ruby_server import FakeRubyServer
from tests.fakes.sportsbook_server import FakeSportsbookServer
from tests.support.players import admin_post, create_player, fund_player
from tests.support.requests import compact, json_post, rgs_request, ruby_request, sportsbook_request

REPO_ROOT = Path(__file__).resolve().parents[2]
DEV_SECRETS = REPO_ROOT / "local" / "dev-secrets.json"
SECRET_FIELD = re.compile(r"secret|password|hash", re.IGNORECASE)


def secret_values(value: Any, *, under_secret_field: bool = False) -> set[str]:
    """Every string held under a field whose name says secret, password or hash, at any depth."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            found |= secret_values(item, under_secret_field=under_secret_field or bool(SECRET_FIELD.search(key)))
    elif isinstance(value, list):
        for item in value:
            found |= secret_values(item, under_secret_field=under_secret_field)
    elif isinstance(value, str) and under_secret_field:
        found.add(value)
    return found


def configured_secrets() -> set[str]:
    return secret_values(json.loads(DEV_SECRETS.read_text(encoding="utf-8"))["secrets"])


def test_the_dev_secrets_file_holds_the_secrets_the_log_test_looks_for() -> None:
    """The search below is only as good as this list: every kind of credential, each long enough to be unique."""
    found = configured_secrets()
    assert len(found) >= 5, found  # Ruby brand and team, sportsbook hash and password, the RGS wallet's secret
    assert all(len(value) >= 16 for value in found)


# --- capture -----------------------------------------------------------------------------------------------


class Captured:
    def __init__(self, buffer: io.StringIO, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]):
        self._buffer = buffer
        self._caplog = caplog
        self._capfd = capfd
        self._streams: list[str] = []

    def structured_lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self._buffer.getvalue().splitlines() if line.strip()]

    def text(self) -> str:
        """Everything captured so far: structured lines, every stdlib record with its extras, stdout, stderr."""
        out, err = self._capfd.readouterr()
        self._streams += [out, err]
        records = [json.dumps(vars(record), default=str) for record in self._caplog.records]
        records += [record.getMessage() for record in self._caplog.records]
        return "\n".join([self._buffer.getvalue(), *records, *self._streams])


@pytest.fixture
def captured(caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> Iterator[Captured]:
    """The Powertools logger at DEBUG into a buffer of its own (its own formatter: the lines as CloudWatch gets
    them), and the root logger at DEBUG into caplog."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logger.registered_formatter)
    previous = logger.log_level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    caplog.set_level(logging.DEBUG)
    try:
        yield Captured(buffer, caplog, capfd)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)


def clear_wiring() -> None:
    """Forget every dependency the handlers built (they read the secrets file named at build time)."""
    for module in (wallet_wiring, rgs_wiring):
        for name in dir(module):
            clear: Callable[[], None] | None = getattr(getattr(module, name), "cache_clear", None)
            if clear is not None:
                clear()


@pytest.fixture
def providers(
    local_stack: LocalStack,
) -> Iterator[tuple[SecretStore, FakeSportsbookServer, FakeRgsServer]]:
    """Fake sportsbook and RGS servers that expect the dev credentials; for this test only, the stack's Secrets
    Manager points the handlers at them (the dev values are put back afterwards)."""
    store = local_stack.secret_store
    book_config, rgs_config = store.get("sportsbook"), store.get("rgs/external")
    with (
        FakeSportsbookServer(book_config["client_username"], book_config["client_password"]) as book,
        FakeRgsServer(rgs_config["operator_id"], rgs_config["api_key"], rgs_config["hmac_secret"]) as rgs_server,
    ):
        store.put("sportsbook", {**book_config, "api_url": book.url})
        store.put("rgs/external", {**rgs_config, "base_url": rgs_server.url})
        clear_wiring()
        try:
            yield store, book, rgs_server
        finally:
            store.put("sportsbook", book_config)
            store.put("rgs/external", rgs_config)
            clear_wiring()


# --- requests --------------------------------------------------------------------------------------------------


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def new_player(stack: LocalStack, currencies: list[str], amount: str = "100000") -> tuple[str, int]:
    player_id, ruby_id = uid("obs"), uuid.uuid4().int % 10**12 + 1
    create_player(stack, player_id=player_id, currencies=currencies, links={"ruby": ruby_id})
    for currency in currencies:
        fund_player(stack, player_id, currency, amount, uid("dep"))
    return player_id, ruby_id


def ruby_move(stack: LocalStack, operation: str, ruby_id: int, tx_id: str, amount: str = "100.00") -> HttpResponse:
    return stack.handle(ruby_request(operation, {"player_id": ruby_id, "amount": amount, "transaction_id": tx_id}))


def sportsbook_body(player_id: str, tx_id: str, action: str, amount: str, **extra: str) -> bytes:
    return compact(
        {"transaction_id": tx_id, "action": action, "user_id": player_id, "currency": "EUR", "amount": amount} | extra
    ).replace(b'"amount":"' + amount.encode() + b'"', b'"amount":' + amount.encode())


def rgs_wallet_body(player_id: str, tx_id: str, round_id: str, amount_minor: int) -> bytes:
    return compact(
        {
            "operator_tx_id": tx_id,
            "operator_player_id": player_id,
            "session_id": "s-obs",
            "round_id": round_id,
            "currency": "KRW",
            "amount_minor": amount_minor,
        }
    )


def operator_request(
    operator_id: str, api_key: str, secret: str, method: str, path: str, body: bytes = b"", query: str = ""
) -> HttpRequest:
    signed = path + (f"?{query}" if query else "")
    headers = rgs.headers(operator_id, api_key, secret, method, signed, body)
    pairs = [("Host", "localhost"), ("Content-Type", "application/json"), *headers.items()]
    return HttpRequest(method, path, raw_query=query, headers=pairs, body=body)


def bearer(method: str, path: str, token: str, body: bytes = b"") -> HttpRequest:
    pairs = [("Host", "localhost"), ("Content-Type", "application/json"), ("Authorization", f"Bearer {token}")]
    return HttpRequest(method, path, headers=pairs, body=body)


# --- no secret in any log ---------------------------------------------------------------------------------------


def test_representative_requests_log_no_secret_and_carry_the_request_id(
    local_stack: LocalStack, providers: tuple[SecretStore, FakeSportsbookServer, FakeRgsServer], captured: Captured
) -> None:
    store, book, rgs_server = providers
    secrets = configured_secrets()

    def call(request: HttpRequest, status: int | None = None) -> HttpResponse:
        response = local_stack.handle(request)
        if status is not None:
            assert response.status == status, (request.path, response.body)
        return response

    # The wallet: Ruby (debit, credit, rollback, a replay, a bad signature, a decline)
    player_id, ruby_id = new_player(local_stack, ["KRW", "EUR"])
    call(ruby_request("balance", {"player_id": ruby_id}), 200)
    bet_id = uid("bet")
    assert ruby_move(local_stack, "debit", ruby_id, bet_id).status == 200
    assert ruby_move(local_stack, "debit", ruby_id, bet_id).status == 200
    assert ruby_move(local_stack, "credit", ruby_id, uid("win")).status == 200
    call(ruby_request("rollback", {"player_id": ruby_id, "transaction_id": uid("rb"), "ref_transaction_id": bet_id}))
    assert ruby_move(local_stack, "debit", ruby_id, uid("big"), "99999999.00").status == 402
    body = compact({"player_id": ruby_id, "amount": "1.00", "transaction_id": uid("forged")})
    forged = ruby_callback.headers("dev-ruby-brand-key", "not-the-secret", body)
    call(json_post("/ruby/debit", body, forged, host=True), 401)

    # the sportsbook: a bet, its rollback, a bad hash
    sb_bet = uid("sb")
    call(sportsbook_request("transaction", sportsbook_body(player_id, sb_bet, "bet", "10.5")), 200)
    rollback = sportsbook_body(player_id, uid("sbr"), "rollback", "10.5", rollback_transaction_id=sb_bet)
    call(sportsbook_request("transaction-rollback", rollback), 200)
    call(json_post("/sportsbook/transaction", rollback, {"X-Security-Hash": "0" * 64}), 200)

    # an external RGS calling our wallet: bet, win, refund of an unknown bet
    call(rgs_request("bet", rgs_wallet_body(player_id, uid("b"), "rnd-obs", 1000)), 200)
    call(rgs_request("win", rgs_wallet_body(player_id, uid("w"), "rnd-obs", 2500)), 200)
    call(rgs_request("refund", rgs_wallet_body(player_id, uid("r"), uid("rnd"), 500)), 200)

    # the launch routes against the fake providers (the sportsbook's password and the RGS's secret are used)
    launch = json.dumps({"player_id": player_id, "currency": "KRW"}).encode()
    call(json_post("/sportsbook/launch", launch, {}, host=True), 200)
    call(json_post("/rgs/launch", launch, {}, host=True), 200)
    assert book.auth_calls == 1
    assert len(rgs_server.sessions) == 1

    # our RGS: provisioning shows an hmac_secret, rotation another; the operator's and the player's routes
    settings = {"wallet_callback_url": "http://127.0.0.1:9/rgs-wallet", "allowed_currencies": ["KRW"]}
    operator = call(json_post("/admin/rgs/operators", json.dumps(settings).encode(), {}), 201).json()
    operator_id = operator["operator_id"]
    rotated = call(json_post(f"/admin/rgs/operators/{operator_id}/keys", b"{}", {}), 201).json()
    secrets |= {operator["hmac_secret"], rotated["hmac_secret"]}
    launch_body = compact({"operator_player_id": "p-obs", "currency": "KRW", "balance_minor": 100000})
    launched = call(
        operator_request(
            operator_id, rotated["api_key"], rotated["hmac_secret"], "POST", "/api/public/rgs/launch", launch_body
        ),
        200,
    ).json()
    token = launched["launch_url"].split("session=", 1)[1]
    secrets.add(token)  # the session token is a bearer credential too
    call(
        operator_request(
            operator_id, operator["api_key"], operator["hmac_secret"], "GET", "/api/public/rgs/revenue", b"",
            "from=2026-01-01&to=2026-01-02",
        ),
        200,
    )  # fmt: skip
    before = len(captured.structured_lines())
    unconfirmed = call(bearer("POST", "/rgs/play/bet", token, compact({"amount_minor": 100})), 503)  # no wallet
    bet_lines = captured.structured_lines()[before:]
    call(bearer("GET", "/rgs/play/state", token), 200)
    retry = json.loads((REPO_ROOT / "events" / "rgs_wallet_retry.json").read_text(encoding="utf-8"))
    assert local_stack.invoke("RgsWalletRetryFunction", retry) == {"batchItemFailures": []}

    # the command line: a brand created on the fake Ruby, its api_secret stored and not printed
    team = store.get("ruby/team")
    with FakeRubyServer(team["team_key"], team["team_secret"]) as ruby:
        store.put("ruby/team", {**team, "api_url": ruby.url})
        out, err = io.StringIO(), io.StringIO()
        argv = ["ruby", "brand", "create", "--name", "Obs", "--code", "obs01", "--wallet-mode", "seamless",
                "--callback-url", "https://api.example/ruby"]  # fmt: skip
        assert cli.main(argv, store=store, environ={}, stdout=out, stderr=err) == 0, err.getvalue()
        brand_secret = ruby.brand_secrets[json.loads(out.getvalue())["api_key"]]
        secrets.add(brand_secret)
        assert brand_secret not in out.getvalue() + err.getvalue()

    everything = captured.text()
    assert len(everything) > 10_000  # DEBUG really was captured (botocore alone writes much more)
    leaked = sorted(secret[:6] + "…" for secret in secrets if secret in everything)
    assert not leaked, f"secrets found in the logs: {leaked}"

    # the lines of a request carry API Gateway's request id (what the caller saw as apigw-requestid)
    assert any(line["level"] == "WARNING" for line in bet_lines)  # the refund of the unconfirmed bet, at least
    assert {line.get("correlation_id") for line in bet_lines} == {unconfirmed.header("apigw-requestid")}
    assert all(line["function_name"] == "RgsPlayBetFunction" for line in bet_lines)


# --- metrics ------------------------------------------------------------------------------------------------------


def emf_metrics(printed: str) -> list[str]:
    """The metric names of the EMF documents in ``printed``, after checking their namespace and dimension."""
    names: list[str] = []
    for line in printed.splitlines():
        if not line.startswith('{"_aws"'):
            continue
        document = json.loads(line)
        for directive in document["_aws"]["CloudWatchMetrics"]:
            assert directive["Namespace"] == NAMESPACE
            assert directive["Dimensions"] == [["service"]]
            names += [metric["Name"] for metric in directive["Metrics"]]
        assert document["service"] == SERVICE
    return names


@pytest.fixture
def emitted(
    local_stack: LocalStack, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> Callable[[Callable[[], object]], list[str]]:
    """``emitted(action)``: the metric names the handlers publish while ``action`` runs."""
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    metrics.clear_metrics()  # what earlier tests added while metrics were disabled

    def run(action: Callable[[], object]) -> list[str]:
        capfd.readouterr()
        action()
        return sorted(emf_metrics(capfd.readouterr().out))

    return run


def test_each_operation_emits_its_metrics(local_stack: LocalStack, emitted: Callable[..., list[str]]) -> None:
    player_id, ruby_id = new_player(local_stack, ["KRW", "EUR"], amount="1000")
    bet_id = uid("bet")

    assert emitted(lambda: ruby_move(local_stack, "debit", ruby_id, bet_id)) == ["MoneyMovements"]
    assert emitted(lambda: ruby_move(local_stack, "debit", ruby_id, bet_id)) == ["Replays"]
    assert emitted(lambda: ruby_move(local_stack, "debit", ruby_id, bet_id, "1.00")) == ["Conflicts"]
    assert emitted(lambda: ruby_move(local_stack, "debit", ruby_id, uid("big"), "5000.00")) == ["Declines"]
    body = compact({"player_id": ruby_id, "amount": "1.00", "transaction_id": uid("forged")})
    forged = ruby_callback.headers("dev-ruby-brand-key", "not-the-secret", body)
    assert emitted(lambda: local_stack.handle(json_post("/ruby/debit", body, forged, host=True))) == [
        "SignatureFailures"
    ]

    # a sportsbook result, spent, then rolled back: the balance goes below zero
    won = uid("res")
    result = sportsbook_body(player_id, won, "result", "500")
    assert emitted(lambda: local_stack.handle(sportsbook_request("transaction", result))) == ["MoneyMovements"]
    spend = sportsbook_body(player_id, uid("spend"), "bet", "1500")
    assert emitted(lambda: local_stack.handle(sportsbook_request("transaction", spend))) == ["MoneyMovements"]
    undo = sportsbook_body(player_id, uid("undo"), "rollback", "500", rollback_transaction_id=won)
    assert emitted(lambda: local_stack.handle(sportsbook_request("transaction-rollback", undo))) == [
        "MoneyMovements",
        "NegativeBalances",
    ]
    unsigned = json_post("/sportsbook/transaction", spend, {"X-Security-Hash": "0" * 64})
    assert emitted(lambda: local_stack.handle(unsigned)) == ["SignatureFailures"]

    # the RGS wallet and the admin API
    bet = rgs_wallet_body(player_id, uid("b"), uid("rnd"), 100)
    assert emitted(lambda: local_stack.handle(rgs_request("bet", bet))) == ["MoneyMovements"]
    deposit = {"currency": "KRW", "amount": "1", "reference": uid("dep")}
    assert emitted(lambda: admin_post(local_stack, f"/admin/players/{player_id}/deposits", deposit)) == [
        "MoneyMovements"
    ]

    # the retry worker publishes what it counts (a retry of a round that does not exist is dropped)
    retry = json.loads((REPO_ROOT / "events" / "rgs_wallet_retry.json").read_text(encoding="utf-8"))
    assert emitted(lambda: local_stack.invoke("RgsWalletRetryFunction", retry)) == ["RetryMessagesDropped"]


def test_every_counted_name_is_a_documented_metric() -> None:
    """Every ``count("...")`` and every error's ``metric`` in the layer is in METRIC_NAMES, the other way
    round too, and the README lists every one of them."""
    source = "\n".join(path.read_text(encoding="utf-8") for path in (REPO_ROOT / "layers").rglob("*.py"))
    used = set(re.findall(r'\bcount\("([A-Za-z]+)"[,)]', source)) | set(re.findall(r'\bmetric = "([A-Za-z]+)"', source))
    used |= {"MoneyMovements", "Replays"}  # count_movement
    assert used == METRIC_NAMES, (used - METRIC_NAMES, METRIC_NAMES - used)
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert {name for name in METRIC_NAMES if f"`{name}`" not in readme} == set()
