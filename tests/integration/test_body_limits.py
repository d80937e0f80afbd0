"""Every HTTP route refuses a body over 16 KiB (``croupier.jsonbody.MAX_BODY_BYTES``) before it parses it, and
before it verifies a signature over it where the route is signed. API Gateway's own limit (10 MB for an HTTP
API) is far above: the functions enforce ours.

Each route of template.yaml gets a body of 16 KiB + 1 through its handler on the local stack, authorised as far
as the route asks (a valid session token for the player's routes, an existing operator for key rotation), so
that the size check, not an earlier refusal, answers. The sportsbook answers every processed request with 200
and a code (its protocol): there the refusal is ``INVALID_REQUEST``. GET routes never read a body."""

from __future__ import annotations

import json

import pytest

from croupier.jsonbody import MAX_BODY_BYTES
from croupier.signing import rgs
from croupier_local.apigw import HttpRequest
from croupier_local.server import LocalStack
from croupier_local.template import Route, load_template
from tests.integration.test_events import REPO_ROOT

ROUTES = [route for route in load_template(REPO_ROOT / "template.yaml").routes if route.method != "GET"]
OVERSIZED = b'{"pad":"' + b"x" * (MAX_BODY_BYTES - 9) + b'"}'
SPORTSBOOK = {"/sportsbook/transaction", "/sportsbook/transaction-rollback"}


def test_the_oversized_body_is_one_byte_over() -> None:
    assert len(OVERSIZED) == MAX_BODY_BYTES + 1


@pytest.fixture(scope="module")
def authorised(local_stack: LocalStack) -> dict[str, str]:
    """An operator and a player session of its own: what the rotation and the player's routes need."""
    settings = {"wallet_callback_url": "http://127.0.0.1:9/rgs-wallet", "allowed_currencies": ["KRW"]}
    created = local_stack.handle(HttpRequest("POST", "/admin/rgs/operators", body=json.dumps(settings).encode()))
    assert created.status == 201, created.body
    operator = created.json()
    body = json.dumps({"operator_player_id": "p-size", "currency": "KRW"}).encode()
    path = "/api/public/rgs/launch"
    headers = rgs.headers(operator["operator_id"], operator["api_key"], operator["hmac_secret"], "POST", path, body)
    launched = local_stack.handle(
        HttpRequest("POST", path, headers=[("Host", "localhost"), *headers.items()], body=body)
    )
    assert launched.status == 200, launched.body
    return {"operator_id": operator["operator_id"], "token": launched.json()["launch_url"].split("session=", 1)[1]}


@pytest.mark.parametrize("route", ROUTES, ids=[route.route_key for route in ROUTES])
def test_every_route_refuses_a_body_over_16_kib(
    local_stack: LocalStack, authorised: dict[str, str], route: Route
) -> None:
    path = route.path.replace("{operator_id}", authorised["operator_id"]).replace("{player_id}", "size-player")
    headers = [("Host", "localhost"), ("Content-Type", "application/json")]
    if path.startswith("/rgs/play/"):
        headers.append(("Authorization", f"Bearer {authorised['token']}"))
    answer = local_stack.handle(HttpRequest(route.method, path, headers=headers, body=OVERSIZED))
    if route.path in SPORTSBOOK:
        assert (answer.status, answer.json()) == (200, {"error": "INVALID_REQUEST"})
    else:
        assert answer.status == 413, answer.body
        assert answer.json()["error"] == "PAYLOAD_TOO_LARGE"
