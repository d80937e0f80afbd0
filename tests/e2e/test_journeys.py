"""Each provider's journey over HTTP, as the provider would make it, against either target (tests/e2e/conftest.py):
the in-process local stack, or ``make sam-api`` serving every route from Lambda containers
(``CROUPIER_E2E_TARGET=sam-api``, which ``make test`` runs as well). Only HTTP and the stack's Secrets Manager
are used, so the same test proves the same behaviour on both.

The admin routes are IAM-authorised in AWS; neither local target emulates IAM, so they are called unsigned.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from decimal import Decimal
from typing import Any

import pytest

from croupier import fairness
from croupier.signing import rgs, ruby_callback, sportsbook
from tests.support.rgs_http import RgsOperator
from tests.support.targets import ApiTarget, RemoteTarget

pytestmark = [pytest.mark.e2e, pytest.mark.journey]


def send(api: ApiTarget, method: str, path: str, data: Any = None, headers: dict[str, str] | None = None) -> Any:
    """One request; answers (status, parsed JSON body)."""
    body = None if data is None else (data if isinstance(data, bytes) else json.dumps(data).encode())
    request = urllib.request.Request(
        f"{api.base_url}{path}",
        data=body,
        method=method,
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def new_player(api: ApiTarget, currency: str, deposit: str, links: dict[str, Any] | None = None) -> str:
    player_id = f"journey-{uuid.uuid4().hex[:10]}"
    status, body = send(
        api, "POST", "/admin/players", {"player_id": player_id, "currency": currency, "links": links or {}}
    )
    assert status == 201, body
    status, body = send(
        api,
        "POST",
        f"/admin/players/{player_id}/deposits",
        {"currency": currency, "amount": deposit, "reference": f"{player_id}-deposit"},
    )
    assert status == 201, body
    return player_id


def balance(api: ApiTarget, player_id: str, currency: str) -> Decimal:
    status, body = send(api, "GET", f"/admin/players/{player_id}")
    assert status == 200, body
    return Decimal(str(body["balances"][currency]))


def test_ruby_debit_credit_rollback_and_replays(api: ApiTarget) -> None:
    ruby_id = 600_000_000 + uuid.uuid4().int % 99_999_999
    player_id = new_player(api, "KRW", "10000", {"ruby": ruby_id})
    brand = api.secret_store.get("ruby/brands/dev-ruby-brand-key")

    def ruby(operation: str, data: dict[str, Any]) -> Any:
        raw = json.dumps(data, separators=(",", ":")).encode()
        return send(
            api, "POST", f"/ruby/{operation}", raw, ruby_callback.headers(brand["api_key"], brand["api_secret"], raw)
        )

    assert ruby("balance", {"player_id": ruby_id}) == (200, {"balance": "10000.00"})
    bet = {"player_id": ruby_id, "amount": "1500.00", "transaction_id": f"bet-{uuid.uuid4().hex}"}
    debited = ruby("debit", bet)
    assert debited == (200, {"balance": "8500.00", "balance_before": "10000.00"})
    assert ruby("debit", bet) == debited  # a replay answers the original answer and moves nothing
    win = {"player_id": ruby_id, "amount": "700.00", "transaction_id": f"win-{uuid.uuid4().hex}"}
    assert ruby("credit", win) == (200, {"balance": "9200.00", "balance_before": "8500.00"})
    lost = {"player_id": ruby_id, "amount": "200.00", "transaction_id": f"bet-{uuid.uuid4().hex}"}
    assert ruby("debit", lost)[0] == 200
    assert ruby("rollback", {"player_id": ruby_id, "transaction_id": lost["transaction_id"]}) == (
        200,
        {"balance": "9200.00"},
    )
    status, body = ruby("debit", {**bet, "amount": "1.00"})  # the same transaction id with other content
    assert status == 409, body
    assert balance(api, player_id, "KRW") == Decimal("9200")


def test_sportsbook_bet_and_its_rollback(api: ApiTarget) -> None:
    player_id = new_player(api, "KRW", "5000")
    security_hash = api.secret_store.get("sportsbook")["security_hash"]

    def book(path: str, data: dict[str, Any]) -> Any:
        raw = json.dumps(data, separators=(",", ":")).encode()
        return send(api, "POST", path, raw, sportsbook.headers(security_hash, raw))

    bet_id = f"sb-{uuid.uuid4().hex[:16]}"
    bet = {"transaction_id": bet_id, "action": "bet", "user_id": player_id, "currency": "KRW", "amount": 3000}
    status, body = book("/sportsbook/transaction", bet)
    assert status == 200, body
    assert body["error"] is None
    assert balance(api, player_id, "KRW") == Decimal("2000")
    assert book("/sportsbook/transaction", bet) == (status, body)  # a replay: the same answer, nothing moves
    rollback = {
        "transaction_id": f"sb-{uuid.uuid4().hex[:16]}",
        "rollback_transaction_id": bet_id,
        "action": "rollback",
        "user_id": player_id,
        "currency": "KRW",
        "amount": 3000,
    }
    status, body = book("/sportsbook/transaction-rollback", rollback)
    assert status == 200, body
    assert body["error"] is None
    assert balance(api, player_id, "KRW") == Decimal("5000")


def test_rgs_wallet_bet_win_and_refund(api: ApiTarget) -> None:
    player_id = new_player(api, "KRW", "5000")
    operator_id = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b"  # the dev-only external RGS of local/dev-secrets.json
    config = api.secret_store.get(f"rgs-wallet/operators/{operator_id}")

    def wallet(operation: str, data: dict[str, Any]) -> Any:
        raw = json.dumps(data, separators=(",", ":")).encode()
        path = f"/rgs-wallet/{operation}"
        signed = rgs.headers(operator_id, config["api_key"], config["hmac_secrets"][0], "POST", path, raw)
        return send(api, "POST", path, raw, signed)

    round_id = f"rnd-{uuid.uuid4().hex[:12]}"
    common = {"operator_player_id": player_id, "session_id": "s-journey", "round_id": round_id, "currency": "KRW"}
    bet = {**common, "operator_tx_id": f"bet-{round_id}", "amount_minor": 1000}
    assert wallet("bet", bet) == (200, {"ok": True, "balance_minor": 4000})
    assert wallet("bet", bet) == (200, {"ok": True, "balance_minor": 4000})  # replay
    win = {**common, "operator_tx_id": f"win-{round_id}", "amount_minor": 2350, "multiplier": "2.35"}
    assert wallet("win", win) == (200, {"ok": True, "balance_minor": 6350})
    other_round = f"rnd-{uuid.uuid4().hex[:12]}"
    second = {**common, "round_id": other_round, "operator_tx_id": f"bet-{other_round}", "amount_minor": 500}
    assert wallet("bet", second) == (200, {"ok": True, "balance_minor": 5850})
    refund = {**common, "round_id": other_round, "operator_tx_id": f"refund-{other_round}", "amount_minor": 500}
    assert wallet("refund", {**refund, "bet_operator_tx_id": second["operator_tx_id"]})[0] == 200
    assert balance(api, player_id, "KRW") == Decimal("6350")


def test_rgs_session_bet_and_state_with_croupier_as_its_own_operator(api: ApiTarget) -> None:
    player_id = new_player(api, "USD", "100.00")
    operator = RgsOperator.self_operated(api, allowed_currencies=["USD"])
    player = operator.launch(player_id, "USD", balance_minor=10_000)
    placed = player.bet(250, client_seed=f"journey-{uuid.uuid4().hex[:8]}")
    if isinstance(api, RemoteTarget):
        # In a Lambda container, loopback is the container itself, and the RGS calls an operator's wallet only
        # over https or on loopback: the stack's own /rgs-wallet is out of its reach, so the bet is refused and
        # refunded (its retry queued to SQS), and nothing moves. With a real https wallet this is the 200 below.
        assert placed.status == 503, placed.body
        assert placed.json()["error"] == "BET_NOT_CONFIRMED"
        assert balance(api, player_id, "USD") == Decimal("100.00")
        (only,) = player.state().json()["rounds"]
        assert only["status"] in ("refund_pending", "refunded")
        return
    assert placed.status == 200, placed.body
    bet = placed.json()
    assert balance(api, player_id, "USD") == Decimal("97.50")  # the bet moved through the signed wallet call
    state = player.state()
    assert state.status == 200, state.body
    rounds = {item["round_id"]: item for item in state.json()["rounds"]}
    assert bet["round_id"] in rounds
    seen = rounds[bet["round_id"]]
    # sealed until the round ends, shown once it has (a low crash point can end it before this read: CI, 11-29)
    assert ("server_seed" in seen) is (seen["status"] not in ("placing", "open")), seen
    cashed = player.cash_out(bet["round_id"])  # a cash-out now, or the crash came first: the round ends either way
    assert cashed.status == 200, cashed.body
    assert cashed.json()["status"] in ("paid", "cashed_out", "crashed"), cashed.body

    published = operator.round(bet["round_id"])  # the round verifies from what the operator's route publishes
    assert published.status == 200, published.body
    view = published.json()
    assert fairness.seed_hash(view["server_seed"]) == view["server_seed_hash"] == bet["server_seed_hash"]
    assert view["outcome"] == fairness.outcome(view["server_seed"], view["client_seed"], view["nonce"]).as_dict()
    paid = Decimal(view["payout_minor"]) / 100
    assert balance(api, player_id, "USD") == Decimal("97.50") + paid  # exactly the bet and the win moved
