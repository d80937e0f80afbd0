"""Bad input on player protection's admin routes over HTTP on the local stack: every case gets its documented status
and error code (in docs/openapi.json) and writes nothing: the player's items (accounts with their protection) and
its audit partition, read consistently, are identical before and after."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from croupier import aws
from croupier_local.server import LocalStack
from tests.e2e.test_journeys import new_player, send

pytestmark = pytest.mark.e2e

OPENAPI = json.loads((Path(__file__).resolve().parents[2] / "docs" / "openapi.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def player(local_stack: LocalStack) -> str:
    player_id = new_player(local_stack, "EUR", "100.00")
    until = "2099-01-01T00:00:00Z"
    status, body = send(
        local_stack, "POST", f"/admin/players/{player_id}/exclusions", {"kind": "time_out", "until": until}
    )
    assert status == 201, body  # an exclusion set a moment ago: lifting it is refused (COOL_OFF)
    return player_id


def items_of(player_id: str) -> list[dict[str, Any]]:
    client, table = aws.dynamodb(), "WalletTable"
    found: list[dict[str, Any]] = []
    for pk in (f"PLAYER#{player_id}", f"AUDIT#{player_id}"):
        answer = client.query(
            TableName=table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": pk}},
            ConsistentRead=True,
        )
        found.extend(answer["Items"])
    return found


CASES: list[tuple[str, str, str, Any, int, str]] = [
    # (id, method, path under the player, body, status, code)
    ("exclude: not JSON", "POST", "exclusions", b"{", 400, "INVALID_JSON"),
    ("exclude: an array", "POST", "exclusions", [], 400, "INVALID_JSON"),
    ("exclude: unknown kind", "POST", "exclusions", {"kind": "ban", "until": None}, 400, "INVALID_REQUEST"),
    ("exclude: until missing", "POST", "exclusions", {"kind": "time_out"}, 400, "INVALID_REQUEST"),
    ("exclude: extra field", "POST", "exclusions", {"kind": "time_out", "until": None, "x": 1}, 400, "INVALID_REQUEST"),
    (
        "exclude: no zone",
        "POST",
        "exclusions",
        {"kind": "time_out", "until": "2099-01-01T00:00:00"},
        400,
        "INVALID_UNTIL",
    ),
    (
        "exclude: not UTC",
        "POST",
        "exclusions",
        {"kind": "time_out", "until": "2099-01-01T00:00:00+02:00"},
        400,
        "INVALID_UNTIL",
    ),
    (
        "exclude: in the past",
        "POST",
        "exclusions",
        {"kind": "time_out", "until": "2020-01-01T00:00:00Z"},
        400,
        "INVALID_UNTIL",
    ),
    (
        "exclude: shorter",
        "POST",
        "exclusions",
        {"kind": "time_out", "until": "2098-01-01T00:00:00Z"},
        409,
        "EXCLUSION_ACTIVE",
    ),
    ("lift: cooling-off", "DELETE", "exclusions", None, 409, "COOL_OFF"),
    ("limits: none given", "PUT", "limits", {"currency": "EUR"}, 400, "INVALID_REQUEST"),
    ("limits: unknown period", "PUT", "limits", {"currency": "EUR", "loss": {"year": "1.00"}}, 400, "INVALID_REQUEST"),
    ("limits: a number", "PUT", "limits", {"currency": "EUR", "loss": {"day": 1}}, 400, "INVALID_REQUEST"),
    (
        "limits: too many decimals",
        "PUT",
        "limits",
        {"currency": "EUR", "loss": {"day": "1.001"}},
        400,
        "INVALID_AMOUNT",
    ),
    ("limits: negative", "PUT", "limits", {"currency": "EUR", "wager": {"week": "-5"}}, 400, "INVALID_AMOUNT"),
    ("limits: unknown currency", "PUT", "limits", {"currency": "XXX", "wager": {"day": "1"}}, 400, "UNKNOWN_CURRENCY"),
    ("limits: no such account", "PUT", "limits", {"currency": "USD", "wager": {"day": "1"}}, 404, "UNKNOWN_ACCOUNT"),
    ("audit: limit 0", "GET", "protection-audit?limit=0", None, 400, "INVALID_REQUEST"),
    ("audit: a foreign cursor", "GET", "protection-audit?cursor=bm90LWEtY3Vyc29y", None, 400, "INVALID_CURSOR"),
]


@pytest.mark.parametrize(
    ("method", "where", "data", "status", "code"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_input_is_a_documented_4xx_and_writes_nothing(
    local_stack: LocalStack, player: str, method: str, where: str, data: Any, status: int, code: str
) -> None:
    before = items_of(player)
    answered, body = send(local_stack, method, f"/admin/players/{player}/{where}", data)
    assert (answered, body["error"]) == (status, code), body
    assert items_of(player) == before
    path = "/admin/players/{player_id}/" + where.split("?")[0]
    documented = OPENAPI["paths"][path][method.lower()]["responses"][str(status)]
    assert code in json.dumps(documented), f"{code} is not documented for {method} {path} {status}"


@pytest.mark.parametrize(
    ("method", "where", "data"),
    [
        ("POST", "exclusions", {"kind": "time_out", "until": None}),
        ("GET", "limits", None),
        ("DELETE", "exclusions", None),
    ],
)
def test_an_unknown_or_malformed_player_is_a_documented_4xx(
    local_stack: LocalStack, method: str, where: str, data: Any
) -> None:
    unknown = f"nobody-{uuid.uuid4().hex[:8]}"
    assert send(local_stack, method, f"/admin/players/{unknown}/{where}", data)[0] == 404
    assert items_of(unknown) == []
    assert send(local_stack, method, f"/admin/players/bad%20id/{where}", data)[0] == 400
