"""Bad input on the RGS's own routes over HTTP on the local stack: the operator API (launch, round, revenue),
the admin's provisioning and rotation, and the player's game API (bet, cash-out, state). Every case gets
its documented status and error code, and writes nothing: the whole RgsTable (consistent scan), the secret
store's file and the operator wallet's received calls are identical before and after.

Error bodies are ``{"error": CODE, "message": text}`` (plus ``"ok": false`` on the operator's
``/api/public/rgs/*`` routes, as providers.md shapes them)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from croupier import aws
from croupier.signing import rgs
from croupier_local.server import LocalStack
from tests.fakes.operator_wallet_server import FakeOperatorWallet
from tests.support.requests import start_of_a_second
from tests.support.rgs_http import Answer, Player, RgsOperator, http
from tests.support.secrets import every_secret
from tests.support.wallet_table import scan_table

pytestmark = pytest.mark.e2e

LAUNCH = "/api/public/rgs/launch"
GOOD_LAUNCH = {"operator_player_id": "bad-input-player", "currency": "USD"}


@dataclass
class World:
    stack: LocalStack
    wallet: FakeOperatorWallet
    operator: RgsOperator
    other: RgsOperator
    player: Player
    other_player: Player
    round_id: str
    other_round_id: str


@pytest.fixture(scope="module")
def world(local_stack: LocalStack) -> Iterator[World]:
    wallet = FakeOperatorWallet().start()
    operator = RgsOperator.with_fake_wallet(local_stack, wallet)
    other = RgsOperator.provision(local_stack, wallet.url)
    wallet.fund("bad-input-player", 10_000, "USD")
    player = operator.launch("bad-input-player")
    other_player = operator.launch("bad-input-player")
    placed = player.bet(100)
    other_placed = other_player.bet(100)
    assert placed.status == other_placed.status == 200, (placed.body, other_placed.body)
    yield World(
        local_stack,
        wallet,
        operator,
        other,
        player,
        other_player,
        placed.json()["round_id"],
        other_placed.json()["round_id"],
    )
    wallet.stop()


def compact(data: Any) -> bytes:
    return json.dumps(data, separators=(",", ":")).encode()


# --- how a case sends ------------------------------------------------------------------------------------------


Send = Callable[[World], Answer]


def signed(
    method: str,
    path: str,
    body: bytes | None = None,
    *,
    secret: str | None = None,
    offset: int = 0,
    operator_id: str | None = None,
    signed_path: str | None = None,
    signed_body: bytes | None = None,
    drop: str | None = None,
    hmac_only: bool = False,
    as_other: bool = False,
) -> Send:
    """An operator call signed by the world's operator, with one thing wrong as asked."""

    def send(world: World) -> Answer:
        op = world.other if as_other else world.operator
        now = start_of_a_second() if offset > 0 else time.time()
        headers = rgs.headers(
            operator_id or op.operator_id,
            op.api_key,
            secret or op.hmac_secret,
            method,
            signed_path or path,
            signed_body if signed_body is not None else (body or b""),
            clock=lambda: now + offset,
        )
        if hmac_only:
            headers = {k: v for k, v in headers.items() if k != "X-Signature"} | {"X-Operator-Hmac": op.hmac_secret}
        if drop:
            headers.pop(drop)
        if body is not None:
            headers["Content-Type"] = "application/json"
        return http(world.stack, method, path, body, headers)

    return send


def launch_with(**changes: Any) -> Send:
    data = {**GOOD_LAUNCH, **changes}
    return signed("POST", LAUNCH, compact({k: v for k, v in data.items() if v is not DROP}))


DROP = object()


def admin(method: str, path: str, data: Any) -> Send:
    return lambda world: http(
        world.stack,
        method,
        path.format(op=world.operator.operator_id),
        compact(data),
        {"Content-Type": "application/json"},
    )


def provision_with(**changes: Any) -> Send:
    data = {"wallet_callback_url": "https://wallet.example.com/rgs", "allowed_currencies": ["USD"], **changes}
    return admin("POST", "/admin/rgs/operators", data)


def player(method: str, path: str, data: Any = None, *, auth: str | None = None, raw: bytes | None = None) -> Send:
    """A player call with the world's session token unless ``auth`` says otherwise."""

    def send(world: World) -> Answer:
        headers = {"Authorization": auth if auth is not None else f"Bearer {world.player.token}"}
        body = raw if raw is not None else (None if data is None else compact(data))
        if body is not None:
            headers["Content-Type"] = "application/json"
        if auth == "":
            headers.pop("Authorization")
        return http(world.stack, method, path, body, headers)

    return send


def bet_with(data: Any) -> Send:
    return player("POST", "/rgs/play/bet", data)


def round_of(which: str) -> Send:
    def send(world: World) -> Answer:
        round_id = {"other-session": world.other_round_id, "unknown": "r_" + uuid.uuid4().hex}[which]
        return player("POST", "/rgs/play/cashout", {"round_id": round_id})(world)

    return send


def operator_round(which: str, **kwargs: Any) -> Send:
    def send(world: World) -> Answer:
        round_id = {"own": world.round_id, "unknown": "r_" + uuid.uuid4().hex}[which]
        return signed("GET", f"/api/public/rgs/round/{round_id}", **kwargs)(world)

    return send


@dataclass(frozen=True)
class Case:
    label: str
    send: Send
    status: int
    code: str


R = "/api/public/rgs/revenue"
CASES = [
    # launch: signature
    Case("launch unsigned", lambda w: http(w.stack, "POST", LAUNCH, compact(GOOD_LAUNCH)), 401, "SIGNATURE_MISSING"),
    Case("launch without X-Signature", signed("POST", LAUNCH, compact(GOOD_LAUNCH), drop="X-Signature"), 401, "SIGNATURE_MISSING"),
    Case("launch with the secret in X-Operator-Hmac", signed("POST", LAUNCH, compact(GOOD_LAUNCH), hmac_only=True), 401, "SIGNATURE_MISSING"),
    Case("launch wrong secret", signed("POST", LAUNCH, compact(GOOD_LAUNCH), secret="not-the-secret"), 401, "SIGNATURE_INVALID"),
    Case("launch stale", signed("POST", LAUNCH, compact(GOOD_LAUNCH), offset=-301), 401, "TIMESTAMP_STALE"),
    Case("launch from the future", signed("POST", LAUNCH, compact(GOOD_LAUNCH), offset=301), 401, "TIMESTAMP_IN_FUTURE"),
    Case("launch unknown operator", signed("POST", LAUNCH, compact(GOOD_LAUNCH), operator_id=str(uuid.uuid4())), 401, "UNKNOWN_OPERATOR"),
    Case("launch body changed after signing", signed("POST", LAUNCH, compact(GOOD_LAUNCH), signed_body=b"{}"), 401, "SIGNATURE_INVALID"),
    Case("launch oversized", signed("POST", LAUNCH, b'{"pad":"' + b"x" * 17_000 + b'"}'), 413, "PAYLOAD_TOO_LARGE"),
    # launch: body
    Case("launch not JSON", signed("POST", LAUNCH, b"operator_player_id=x"), 400, "INVALID_JSON"),
    Case("launch JSON array", signed("POST", LAUNCH, b"[]"), 400, "INVALID_JSON"),
    Case("launch duplicate key", signed("POST", LAUNCH, b'{"currency":"USD","currency":"USD","operator_player_id":"a"}'), 400, "INVALID_JSON"),
    Case("launch without player", launch_with(operator_player_id=DROP), 400, "INVALID_REQUEST"),
    Case("launch player with a space", launch_with(operator_player_id="a b"), 400, "INVALID_REQUEST"),
    Case("launch player of 65 characters", launch_with(operator_player_id="p" * 65), 400, "INVALID_REQUEST"),
    Case("launch currency lower case", launch_with(currency="usd"), 400, "INVALID_REQUEST"),
    Case("launch currency not ISO 4217", launch_with(currency="XYZ"), 400, "UNKNOWN_CURRENCY"),
    Case("launch currency not allowed", launch_with(currency="EUR"), 403, "CURRENCY_NOT_ALLOWED"),
    Case("launch ttl 59 s", launch_with(ttl_seconds=59), 400, "INVALID_REQUEST"),
    Case("launch ttl over a day", launch_with(ttl_seconds=86_401), 400, "INVALID_REQUEST"),
    Case("launch ttl as a string", launch_with(ttl_seconds="600"), 400, "INVALID_REQUEST"),
    Case("launch negative balance", launch_with(balance_minor=-1), 400, "INVALID_REQUEST"),
    Case("launch fractional balance", launch_with(balance_minor=1.5), 400, "INVALID_REQUEST"),
    Case("launch lang not offered", launch_with(lang="fr"), 400, "INVALID_REQUEST"),
    Case("launch lang upper case", launch_with(lang="KO"), 400, "INVALID_REQUEST"),
    Case("launch lang with a region", launch_with(lang="ko-KR"), 400, "INVALID_REQUEST"),
    Case("launch lang as a number", launch_with(lang=1), 400, "INVALID_REQUEST"),
    Case("launch lang empty", launch_with(lang=""), 400, "INVALID_REQUEST"),
    # round and revenue
    Case("round unknown", operator_round("unknown"), 404, "UNKNOWN_ROUND"),
    Case("round of another operator", lambda w: signed("GET", f"/api/public/rgs/round/{w.round_id}", as_other=True)(w), 404, "UNKNOWN_ROUND"),
    Case("round signed for another path", operator_round("own", signed_path="/api/public/rgs/round/r_0"), 401, "SIGNATURE_INVALID"),
    Case("round unsigned", lambda w: http(w.stack, "GET", f"/api/public/rgs/round/{w.round_id}"), 401, "SIGNATURE_MISSING"),
    Case("revenue without dates", signed("GET", R), 400, "INVALID_RANGE"),
    Case("revenue reversed", signed("GET", f"{R}?from=2026-02-02&to=2026-02-01"), 400, "INVALID_RANGE"),
    Case("revenue over 366 days", signed("GET", f"{R}?from=2025-01-01&to=2026-01-03"), 400, "INVALID_RANGE"),
    Case("revenue impossible date", signed("GET", f"{R}?from=2026-02-30&to=2026-03-01"), 400, "INVALID_RANGE"),
    Case("revenue query added after signing", signed("GET", f"{R}?from=2026-01-01&to=2026-01-02", signed_path=R), 401, "SIGNATURE_INVALID"),
    # admin: provisioning and rotation
    Case("provision plain-http wallet", provision_with(wallet_callback_url="http://wallet.example.com/rgs"), 400, "INVALID_REQUEST"),
    Case("provision rtp above 1", provision_with(rtp_target="1.5"), 400, "INVALID_REQUEST"),
    Case("provision no currencies", provision_with(allowed_currencies=[]), 400, "INVALID_REQUEST"),
    Case("provision unknown field", provision_with(api_key="chosen-by-me"), 400, "INVALID_REQUEST"),
    Case("provision house share of 2", provision_with(house_share="2"), 400, "INVALID_REQUEST"),
    Case("rotate unknown operator", admin("POST", f"/admin/rgs/operators/{uuid.uuid4()}/keys", {}), 404, "UNKNOWN_OPERATOR"),
    Case("rotate negative overlap", admin("POST", "/admin/rgs/operators/{op}/keys", {"overlap_seconds": -1}), 400, "INVALID_REQUEST"),
    # the player's game API
    Case("bet without a token", player("POST", "/rgs/play/bet", {"amount_minor": 100}, auth=""), 401, "INVALID_SESSION"),
    Case("bet with Basic auth", player("POST", "/rgs/play/bet", {"amount_minor": 100}, auth="Basic dXNlcjpwYXNz"), 401, "INVALID_SESSION"),
    Case("bet unknown token", player("POST", "/rgs/play/bet", {"amount_minor": 100}, auth="Bearer " + "A" * 32), 401, "INVALID_SESSION"),
    Case("bet token of 200 characters", player("POST", "/rgs/play/bet", {"amount_minor": 100}, auth="Bearer " + "A" * 200), 401, "INVALID_SESSION"),
    Case("bet of zero", bet_with({"amount_minor": 0}), 400, "INVALID_REQUEST"),
    Case("bet as a string", bet_with({"amount_minor": "100"}), 400, "INVALID_REQUEST"),
    Case("bet fractional", bet_with({"amount_minor": 1.5}), 400, "INVALID_REQUEST"),
    Case("bet boolean", bet_with({"amount_minor": True}), 400, "INVALID_REQUEST"),
    Case("bet over the maximum", bet_with({"amount_minor": 10**12 + 1}), 400, "INVALID_REQUEST"),
    Case("bet client seed of 65", bet_with({"amount_minor": 100, "client_seed": "s" * 65}), 400, "INVALID_REQUEST"),
    Case("bet client seed with a space", bet_with({"amount_minor": 100, "client_seed": "a b"}), 400, "INVALID_REQUEST"),
    Case("bet auto cash-out 1.00", bet_with({"amount_minor": 100, "auto_cash_out": "1.00"}), 400, "INVALID_REQUEST"),
    Case("bet auto cash-out 3 decimals", bet_with({"amount_minor": 100, "auto_cash_out": "1.505"}), 400, "INVALID_REQUEST"),
    Case("bet auto cash-out above the cap", bet_with({"amount_minor": 100, "auto_cash_out": "2000.01"}), 400, "INVALID_REQUEST"),
    Case("bet unknown field", bet_with({"amount_minor": 100, "currency": "USD"}), 400, "INVALID_REQUEST"),
    Case("bet not JSON", player("POST", "/rgs/play/bet", raw=b"amount_minor=100"), 400, "INVALID_JSON"),
    Case("bet oversized", player("POST", "/rgs/play/bet", raw=b'{"amount_minor":1,"p":"' + b"x" * 17_000 + b'"}'), 413, "PAYLOAD_TOO_LARGE"),
    Case("cash-out malformed round id", player("POST", "/rgs/play/cashout", {"round_id": "round-1"}), 400, "INVALID_REQUEST"),
    Case("cash-out without round id", player("POST", "/rgs/play/cashout", {}), 400, "INVALID_REQUEST"),
    Case("cash-out of another session's round", round_of("other-session"), 404, "UNKNOWN_ROUND"),
    Case("cash-out of an unknown round", round_of("unknown"), 404, "UNKNOWN_ROUND"),
    Case("state without a token", player("GET", "/rgs/play/state", auth=""), 401, "INVALID_SESSION"),
]  # fmt: skip


def written(world: World) -> tuple[dict[tuple[str, str], Any], str, int]:
    """The whole RgsTable, every secret in the stack's Secrets Manager and how many calls the operator's wallet
    received."""
    return (
        scan_table(aws.dynamodb(), "RgsTable"),
        every_secret(world.stack.aws_endpoint),
        len(world.wallet.requests),
    )


@pytest.mark.parametrize("case", CASES, ids=[case.label for case in CASES])
def test_bad_input_gets_its_documented_error_and_writes_nothing(world: World, case: Case) -> None:
    before = written(world)
    answer = case.send(world)
    assert (answer.status, answer.json().get("error")) == (case.status, case.code), answer.body
    assert answer.headers["content-type"].startswith("application/json")
    assert isinstance(answer.json()["message"], str)
    assert answer.json()["message"]
    for secret in (world.operator.hmac_secret, world.other.hmac_secret, world.player.token):
        assert secret not in answer.body.decode()
    assert written(world) == before


def test_the_corpus_has_at_least_forty_distinct_cases_over_the_operator_and_player_apis() -> None:
    labels = [case.label for case in CASES]
    assert len(labels) == len(set(labels)) >= 40
    operator_api = [c for c in labels if c.split()[0] in ("launch", "round", "revenue", "provision", "rotate")]
    player_api = [c for c in labels if c.split()[0] in ("bet", "cash-out", "state")]
    assert len(operator_api) >= 20
    assert len(player_api) >= 20


def test_the_good_requests_the_cases_are_made_from_succeed(world: World) -> None:
    """So that each case fails for its own defect only."""
    assert signed("POST", LAUNCH, compact(GOOD_LAUNCH))(world).status == 200
    assert operator_round("own")(world).status == 200
    assert signed("GET", f"{R}?from=2026-01-01&to=2026-01-02")(world).status == 200
    assert provision_with()(world).status == 201
    assert player("GET", "/rgs/play/state")(world).status == 200
    assert bet_with({"amount_minor": 100, "auto_cash_out": "2000.00", "client_seed": "s" * 64})(world).status == 200
