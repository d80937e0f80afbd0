"""Inputs that reached DynamoDB as keys or start keys it refuses, each once a 500, now a documented 4xx.

Found while fuzzing the local stack against docs/openapi.json (tests/e2e/test_openapi_fuzz.py)."""

from __future__ import annotations

import base64
import json
import uuid

import pytest
import requests

from croupier.signing import rgs
from croupier_local.server import LocalStack
from tests.support.players import admin_post, create_player

pytestmark = pytest.mark.e2e


def test_a_well_formed_cursor_of_another_account_is_invalid_not_a_500(local_stack: LocalStack) -> None:
    # Given a player, and a cursor shaped like ours but naming another place in the table
    player = f"cur-{uuid.uuid4().hex[:8]}"
    create_player(local_stack, player_id=player, currency="KRW")
    foreign = base64.urlsafe_b64encode(json.dumps({k: {"S": "x"} for k in ("pk", "sk", "gsi1pk", "gsi1sk")}).encode())

    # When the page after it is asked for
    answer = requests.get(
        f"{local_stack.base_url}/admin/players/{player}/entries", params={"cursor": foreign.decode()}, timeout=30
    )

    # Then it is refused as a cursor this API did not return
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == "INVALID_CURSOR"


def test_an_overlong_operator_id_is_an_unknown_operator(local_stack: LocalStack) -> None:
    answer = requests.post(f"{local_stack.base_url}/admin/rgs/operators/{'a' * 3000}/keys", data=b"{}", timeout=30)

    assert answer.status_code == 404, answer.text
    assert answer.json()["error"] == "UNKNOWN_OPERATOR"


def test_an_overlong_round_id_is_an_unknown_round(local_stack: LocalStack) -> None:
    # Given an operator
    provisioned = admin_post(
        local_stack,
        "/admin/rgs/operators",
        {"wallet_callback_url": "http://127.0.0.1:9", "allowed_currencies": ["KRW"]},
    )
    assert provisioned.status == 201, provisioned.body
    operator = provisioned.json()

    # When it asks, correctly signed, for a round id longer than any DynamoDB key
    path = f"/api/public/rgs/round/r_{'a' * 3000}"
    signed = rgs.headers(operator["operator_id"], operator["api_key"], operator["hmac_secret"], "GET", path)
    answer = requests.get(f"{local_stack.base_url}{path}", headers=signed, timeout=30)

    # Then there is no such round
    assert answer.status_code == 404, answer.text
    assert answer.json() == {"ok": False, "error": "UNKNOWN_ROUND", "message": "no such round for this operator"}


@pytest.mark.parametrize(
    ("links", "problem"),
    [
        ({"someprovider": "a" * 5000}, "links.someprovider"),
        ({"someprovider": 10**100}, "links.someprovider"),
        ({"ruby": 2**63}, "links.ruby"),
    ],
)
def test_a_link_that_can_never_be_matched_is_refused(
    local_stack: LocalStack, links: dict[str, object], problem: str
) -> None:
    answer = admin_post(
        local_stack, "/admin/players", {"player_id": f"lnk-{uuid.uuid4().hex[:8]}", "currency": "KRW", "links": links}
    )

    assert answer.status == 400, answer.body
    assert answer.json()["error"] == "INVALID_REQUEST"
    assert problem in answer.json()["message"]
