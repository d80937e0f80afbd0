"""Ruby's seamless-wallet contract (providers.md section 2), item by item, over real HTTP on the local stack.

What a provider's integration engineer checks before launch: JSON in and out, decimal strings both ways,
the brand's currency, a live side-effect-free balance, debit/credit answering balance and balance_before,
rollback answering balance only, the same answer for a repeated transaction_id, non-2xx on insufficient
funds, 401 on any signature problem, 404 for an unknown player, unknown extra fields ignored.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from decimal import Decimal
from typing import Any

import pytest

from croupier.signing import ruby_callback
from croupier_local.server import LocalStack

BRAND_KEY = "dev-ruby-brand-key"
BRAND_SECRET = "dev-only-ruby-brand-secret-not-for-production"
RUBY_ID = 880_001


def call(
    stack: LocalStack, path: str, body: dict[str, Any], *, sign: bool = True, clock: float | None = None
) -> tuple[int, dict[str, Any], str]:
    raw = json.dumps(body, separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json"}
    if sign:
        headers.update(
            ruby_callback.headers(BRAND_KEY, BRAND_SECRET, raw, clock=(lambda: clock) if clock else time.time)
        )
    request = urllib.request.Request(f"{stack.base_url}{path}", data=raw, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read().decode()
            return response.status, dict(response.headers), text
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


@pytest.fixture(scope="module")
def player(local_stack: LocalStack) -> str:
    player_id = f"checklist-{uuid.uuid4().hex[:8]}"
    for path, body in (
        ("/admin/players", {"player_id": player_id, "currency": "KRW", "links": {"ruby": RUBY_ID}}),
        (f"/admin/players/{player_id}/deposits", {"currency": "KRW", "amount": "10000", "reference": f"{player_id}-0"}),
    ):
        status, _, text = call(local_stack, path, body, sign=False)
        assert status == 201, text
    return player_id


def tx() -> str:
    return f"chk-{uuid.uuid4().hex[:12]}"


def entries(stack: LocalStack, player_id: str) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"{stack.base_url}/admin/players/{player_id}/entries?limit=100", timeout=10) as r:
        items: list[dict[str, Any]] = json.loads(r.read())["items"]
        return items


@pytest.mark.usefixtures("player")
def test_json_in_and_out_with_decimal_string_balances(local_stack: LocalStack) -> None:
    status, headers, text = call(local_stack, "/ruby/balance", {"player_id": RUBY_ID})
    assert status == 200
    assert headers["Content-Type"].startswith("application/json")
    body = json.loads(text)
    assert isinstance(body["balance"], str)
    assert body["balance"].count(".") == 1
    assert len(body["balance"].split(".")[1]) == 2


def test_balance_is_a_live_read_without_side_effects(local_stack: LocalStack, player: str) -> None:
    before = entries(local_stack, player)
    first = call(local_stack, "/ruby/balance", {"player_id": RUBY_ID, "username": "u", "provider_code": "evo"})
    second = call(local_stack, "/ruby/balance", {"player_id": RUBY_ID})
    assert first[0] == second[0] == 200
    assert json.loads(first[2]) == json.loads(second[2])
    assert entries(local_stack, player) == before
    status, _, _ = call(local_stack, "/ruby/credit", {"player_id": RUBY_ID, "amount": "0.50", "transaction_id": tx()})
    assert status == 200
    after = json.loads(call(local_stack, "/ruby/balance", {"player_id": RUBY_ID})[2])["balance"]
    assert Decimal(after) - Decimal(json.loads(first[2])["balance"]) == Decimal("0.50")  # live, never cached


@pytest.mark.usefixtures("player")
def test_debit_and_credit_answer_balance_and_balance_before_and_repeat_the_same_answer(local_stack: LocalStack) -> None:
    start = json.loads(call(local_stack, "/ruby/balance", {"player_id": RUBY_ID})[2])["balance"]
    bet = {"player_id": RUBY_ID, "amount": "100.50", "transaction_id": tx(), "round_id": "r1", "game_code": "g"}
    status, _, first = call(local_stack, "/ruby/debit", bet)
    assert status == 200
    body = json.loads(first)
    assert body["balance_before"] == start
    assert set(body) == {"balance", "balance_before"}
    win = {"player_id": RUBY_ID, "amount": "250.00", "transaction_id": tx(), "round_id": "r1"}
    status, _, credit = call(local_stack, "/ruby/credit", win)
    assert status == 200
    assert json.loads(credit)["balance_before"] == body["balance"]
    assert call(local_stack, "/ruby/debit", bet)[2] == first  # the same answer, no second effect
    assert call(local_stack, "/ruby/credit", win)[2] == credit


@pytest.mark.usefixtures("player")
def test_rollback_answers_balance_only_and_repeats_it(local_stack: LocalStack) -> None:
    bet = {"player_id": RUBY_ID, "amount": "10.00", "transaction_id": tx()}
    debited = json.loads(call(local_stack, "/ruby/debit", bet)[2])
    rollback = {"player_id": RUBY_ID, "transaction_id": bet["transaction_id"]}
    status, _, text = call(local_stack, "/ruby/rollback", rollback)
    assert status == 200
    assert json.loads(text) == {"balance": debited["balance_before"]}
    assert call(local_stack, "/ruby/rollback", rollback)[2] == text


@pytest.mark.usefixtures("player")
def test_insufficient_funds_is_not_2xx(local_stack: LocalStack) -> None:
    status, _, text = call(
        local_stack, "/ruby/debit", {"player_id": RUBY_ID, "amount": "99999999.00", "transaction_id": tx()}
    )
    assert not 200 <= status < 300
    assert json.loads(text)["error"] == "INSUFFICIENT_FUNDS"


@pytest.mark.usefixtures("player")
@pytest.mark.parametrize(
    ("how", "code"),
    [("unsigned", "SIGNATURE_MISSING"), ("stale", "TIMESTAMP_STALE"), ("future", "TIMESTAMP_IN_FUTURE")],
)
def test_signature_problems_are_401(local_stack: LocalStack, how: str, code: str) -> None:
    now = time.time()
    clock = {"unsigned": None, "stale": now - 301, "future": now + 301}[how]
    status, _, text = call(local_stack, "/ruby/balance", {"player_id": RUBY_ID}, sign=how != "unsigned", clock=clock)
    assert status == 401
    assert json.loads(text)["error"] == code


def test_an_unknown_player_is_404_and_extra_fields_are_ignored(local_stack: LocalStack, player: str) -> None:
    status, _, text = call(local_stack, "/ruby/balance", {"player_id": 880_999})
    assert (status, json.loads(text)["error"]) == (404, "UNKNOWN_PLAYER")
    extra = {"player_id": RUBY_ID, "amount": "1.00", "transaction_id": tx(), "currency": "USD", "future_field": [1]}
    status, _, text = call(local_stack, "/ruby/debit", extra)
    assert status == 200, text
    assert entries(local_stack, player)[0]["currency"] == "KRW"  # newest first: the brand's currency, whatever is sent
