"""Player protection over HTTP, as a held-out client sees it: an excluded player's stakes are refused by every
provider in its own form while every credit is taken, an early lift is refused, and limits bind at their boundary.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from croupier.signing import rgs, ruby_callback, sportsbook
from tests.e2e.test_journeys import balance, new_player, send
from tests.support.targets import ApiTarget

pytestmark = [pytest.mark.e2e, pytest.mark.journey]

RGS_OPERATOR = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b"  # the dev-only external RGS of local/dev-secrets.json


class Providers:
    """Signed calls of the three providers, as they send them."""

    def __init__(self, api: ApiTarget) -> None:
        self.api = api
        self.brand = api.secret_store.get("ruby/brands/dev-ruby-brand-key")
        self.security_hash = api.secret_store.get("sportsbook")["security_hash"]
        self.rgs = api.secret_store.get(f"rgs-wallet/operators/{RGS_OPERATOR}")

    def ruby(self, operation: str, data: dict[str, Any]) -> Any:
        raw = json.dumps(data, separators=(",", ":")).encode()
        headers = ruby_callback.headers(self.brand["api_key"], self.brand["api_secret"], raw)
        return send(self.api, "POST", f"/ruby/{operation}", raw, headers)

    def book(self, path: str, data: dict[str, Any]) -> Any:
        raw = json.dumps(data, separators=(",", ":")).encode()
        return send(self.api, "POST", path, raw, sportsbook.headers(self.security_hash, raw))

    def wallet(self, operation: str, data: dict[str, Any]) -> Any:
        raw = json.dumps(data, separators=(",", ":")).encode()
        path = f"/rgs-wallet/{operation}"
        signed = rgs.headers(RGS_OPERATOR, self.rgs["api_key"], self.rgs["hmac_secrets"][0], "POST", path, raw)
        return send(self.api, "POST", path, raw, signed)


def tx(label: str) -> str:
    return f"{label}-{uuid.uuid4().hex[:16]}"


def rgs_call(player_id: str, currency: str, round_id: str, operator_tx_id: str, amount_minor: int) -> dict[str, Any]:
    return {
        "operator_player_id": player_id,
        "session_id": "s-protection",
        "round_id": round_id,
        "currency": currency,
        "operator_tx_id": operator_tx_id,
        "amount_minor": amount_minor,
    }


def sportsbook_call(player_id: str, action: str, amount: Any, currency: str = "KRW") -> dict[str, Any]:
    return {"transaction_id": tx("sb"), "action": action, "user_id": player_id, "currency": currency, "amount": amount}


def test_an_excluded_player_is_refused_every_stake_and_paid_every_credit(api: ApiTarget) -> None:
    providers = Providers(api)
    ruby_id = 700_000_000 + uuid.uuid4().int % 99_999_999
    player_id = new_player(api, "KRW", "10000", {"ruby": ruby_id})
    # stakes placed before the exclusion, settled after it
    ruby_bet = {"player_id": ruby_id, "amount": "1000.00", "transaction_id": tx("bet")}
    ruby_lost = {"player_id": ruby_id, "amount": "500.00", "transaction_id": tx("bet")}
    assert providers.ruby("debit", ruby_bet)[0] == 200
    assert providers.ruby("debit", ruby_lost)[0] == 200
    sb_bet = sportsbook_call(player_id, "bet", 1000)
    assert providers.book("/sportsbook/transaction", sb_bet)[1]["error"] is None
    won, refunded = tx("rnd"), tx("rnd")
    assert providers.wallet("bet", rgs_call(player_id, "KRW", won, f"bet-{won}", 1000))[0] == 200
    assert providers.wallet("bet", rgs_call(player_id, "KRW", refunded, f"bet-{refunded}", 500))[0] == 200
    assert balance(api, player_id, "KRW") == Decimal("6000")

    until = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    status, excluded = send(api, "POST", f"/admin/players/{player_id}/exclusions", {"kind": "time_out", "until": until})
    assert status == 201, excluded
    assert excluded["excluded"] is True
    assert excluded["exclusion"]["until"].startswith(until[:19])

    # every stake refused, each in its provider's form; nothing moves
    status, body = providers.ruby("debit", {"player_id": ruby_id, "amount": "1.00", "transaction_id": tx("bet")})
    assert (status, body["error"]) == (403, "PLAYER_EXCLUDED")
    assert providers.book("/sportsbook/transaction", sportsbook_call(player_id, "bet", 1)) == (
        200,
        {"error": "PLAYER_BLOCKED"},
    )
    late = tx("rnd")
    status, body = providers.wallet("bet", rgs_call(player_id, "KRW", late, f"bet-{late}", 1))
    assert (status, body["error"]) == (403, "PLAYER_EXCLUDED")
    for path in ("/sportsbook/launch", "/rgs/launch"):
        status, body = send(api, "POST", path, {"player_id": player_id, "currency": "KRW"})
        assert (status, body["error"]) == (403, "PLAYER_EXCLUDED"), path
    assert balance(api, player_id, "KRW") == Decimal("6000")

    # a replay of a stake taken before the exclusion is answered as it was
    assert providers.ruby("debit", ruby_bet) == (200, {"balance": "9000.00", "balance_before": "10000.00"})

    # every credit taken: wins, results, rollbacks, refunds; withdrawals stay possible
    credit = {"player_id": ruby_id, "amount": "2000.00", "transaction_id": tx("win")}
    assert providers.ruby("credit", credit)[0] == 200
    assert providers.ruby("rollback", {"player_id": ruby_id, "transaction_id": ruby_lost["transaction_id"]})[0] == 200
    result = sportsbook_call(player_id, "result", 1500)
    assert providers.book("/sportsbook/transaction", result)[1]["error"] is None
    rollback = {**sportsbook_call(player_id, "rollback", 1000), "rollback_transaction_id": sb_bet["transaction_id"]}
    assert providers.book("/sportsbook/transaction-rollback", rollback)[1]["error"] is None
    assert providers.wallet("win", rgs_call(player_id, "KRW", won, f"win-{won}", 3000))[0] == 200
    assert providers.wallet("refund", rgs_call(player_id, "KRW", refunded, f"refund-{refunded}", 500))[0] == 200
    assert balance(api, player_id, "KRW") == Decimal("6000") + 2000 + 500 + 1500 + 1000 + 3000 + 500
    status, body = send(
        api,
        "POST",
        f"/admin/players/{player_id}/withdrawals",
        {"currency": "KRW", "amount": "100", "reference": tx("w")},
    )
    assert status == 201, body
    # ... but no deposit: an excluded player cannot fund more play (UKGC SR 3.5.3, MGA PPD), nothing written
    before = balance(api, player_id, "KRW")
    deposit = {"currency": "KRW", "amount": "100", "reference": tx("d")}
    status, body = send(api, "POST", f"/admin/players/{player_id}/deposits", deposit)
    assert (status, body["error"]) == (403, "PLAYER_EXCLUDED"), body
    assert balance(api, player_id, "KRW") == before

    # lifting before the cooling-off ends is refused
    status, body = send(api, "DELETE", f"/admin/players/{player_id}/exclusions")
    assert (status, body["error"]) == (409, "COOL_OFF")
    assert send(api, "GET", f"/admin/players/{player_id}/exclusions")[1]["excluded"] is True

    status, audit = send(api, "GET", f"/admin/players/{player_id}/protection-audit")
    assert status == 200, audit
    assert [(r["action"], r["principal"]) for r in audit["items"]] == [("exclusion.set", "local")]
    assert audit["items"][0]["detail"] == {"kind": "time_out", "until": excluded["exclusion"]["until"]}


def test_limits_bind_at_their_boundary_in_every_providers_form(api: ApiTarget) -> None:
    providers = Providers(api)
    ruby_id = 800_000_000 + uuid.uuid4().int % 99_999_999
    player_id = new_player(api, "KRW", "10000", {"ruby": ruby_id})
    status, body = send(
        api, "POST", f"/admin/players/{player_id}/deposits", {"currency": "KRW", "amount": "1", "reference": tx("d")}
    )
    assert status == 201, body

    limits = {"currency": "KRW", "loss": {"day": "100"}, "wager": {"week": "300"}, "deposit": {"month": "10002"}}
    status, body = send(api, "PUT", f"/admin/players/{player_id}/limits", limits)
    assert status == 200, body
    assert body["limits"]["loss"]["day"] == {"value": "100"}
    assert body["usage"]["month"]["deposited"] == "10001"

    # Ruby: the net loss reaches the day's limit exactly, one cent more is refused
    assert providers.ruby("debit", {"player_id": ruby_id, "amount": "99.99", "transaction_id": tx("b")})[0] == 200
    assert providers.ruby("debit", {"player_id": ruby_id, "amount": "0.01", "transaction_id": tx("b")})[0] == 200
    status, body = providers.ruby("debit", {"player_id": ruby_id, "amount": "0.01", "transaction_id": tx("b")})
    assert (status, body["error"]) == (403, "LOSS_LIMIT")
    # a win makes room again (net loss = stakes - wins)
    assert providers.ruby("credit", {"player_id": ruby_id, "amount": "50.00", "transaction_id": tx("w")})[0] == 200
    # sportsbook and RGS: the week's wager limit (300) binds: 100 wagered, 200 more pass exactly
    assert providers.book("/sportsbook/transaction", sportsbook_call(player_id, "bet", 50))[1]["error"] is None
    assert providers.book("/sportsbook/transaction", sportsbook_call(player_id, "result", 100))[1]["error"] is None
    rnd = tx("rnd")
    assert providers.wallet("bet", rgs_call(player_id, "KRW", rnd, f"bet-{rnd}", 100))[0] == 200
    assert providers.wallet("win", rgs_call(player_id, "KRW", rnd, f"win-{rnd}", 100))[0] == 200
    assert providers.book("/sportsbook/transaction", sportsbook_call(player_id, "bet", 50))[1]["error"] is None
    assert providers.book("/sportsbook/transaction", sportsbook_call(player_id, "bet", 1)) == (
        200,
        {"error": "WAGER_LIMIT"},
    )
    rnd = tx("rnd")
    status, body = providers.wallet("bet", rgs_call(player_id, "KRW", rnd, f"bet-{rnd}", 1))
    assert (status, body["error"]) == (403, "WAGER_LIMIT")

    # deposits: the month's limit binds exactly
    deposit = {"currency": "KRW", "amount": "1", "reference": tx("d")}
    assert send(api, "POST", f"/admin/players/{player_id}/deposits", deposit)[0] == 201
    status, body = send(api, "POST", f"/admin/players/{player_id}/deposits", {**deposit, "reference": tx("d")})
    assert (status, body["error"]) == (403, "DEPOSIT_LIMIT")

    # an increase is pending for 24 hours; a decrease applies at once
    status, body = send(
        api,
        "PUT",
        f"/admin/players/{player_id}/limits",
        {"currency": "KRW", "loss": {"day": "500"}, "wager": {"week": "200"}},
    )
    assert status == 200, body
    assert body["limits"]["loss"]["day"]["value"] == "100"
    assert body["limits"]["loss"]["day"]["pending"]["value"] == "500"
    assert body["limits"]["wager"]["week"] == {"value": "200"}
    status, everything = send(api, "GET", f"/admin/players/{player_id}/limits")
    assert status == 200
    assert everything["currencies"]["KRW"]["limits"] == body["limits"]
    status, audit = send(api, "GET", f"/admin/players/{player_id}/protection-audit?limit=1")
    assert status == 200
    assert audit["next_cursor"]
    status, rest = send(
        api, "GET", f"/admin/players/{player_id}/protection-audit?limit=5&cursor={audit['next_cursor']}"
    )
    assert [r["action"] for r in audit["items"] + rest["items"]] == ["limits.set", "limits.set"]
