"""Every case of signing-vectors.json (copied from shared/specs) signs and verifies exactly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from croupier import fairness
from croupier.signing import RawRequest, rabbitx, rgs, ruby_callback, ruby_team, sportsbook
from croupier.signing._core import sha256_hex

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parents[1] / "data" / "signing-vectors.json").read_text(encoding="utf-8")
)["schemes"]

OPERATOR_ID = "3f2a9c1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b"


def cases(scheme: str) -> list[Any]:
    found = VECTORS[scheme]["cases"]
    assert found, f"no vectors for {scheme}"
    return [pytest.param(case, id=f"{scheme}-{i}") for i, case in enumerate(found)]


def test_the_vector_file_matches_the_shared_spec() -> None:
    shared = Path(__file__).parents[3] / "shared" / "specs" / "signing-vectors.json"
    if not shared.exists():
        pytest.skip("shared/ is not beside this checkout")
    assert json.loads(shared.read_text(encoding="utf-8"))["schemes"] == VECTORS


@pytest.mark.parametrize("case", cases("ruby_team_api"))
def test_ruby_team_api(case: dict[str, Any]) -> None:
    signature = ruby_team.sign(case["secret"], case["timestamp"], case["method"], case["path_with_query"], case["body"])
    assert signature == case["signature"]
    request = RawRequest.of(
        case["method"].upper(),
        case["path_with_query"],
        {"X-Team-Key": "team", "X-Team-Timestamp": str(case["timestamp"]), "X-Team-Signature": case["signature"]},
        case["body"],
    )
    verdict = ruby_team.verify(
        request, lambda key: [case["secret"]] if key == "team" else [], clock=lambda: case["timestamp"]
    )
    assert verdict.ok, verdict


@pytest.mark.parametrize("case", cases("ruby_callback"))
def test_ruby_callback(case: dict[str, Any]) -> None:
    assert ruby_callback.sign(case["secret"], case["body"], case["timestamp"]) == case["signature"]
    request = RawRequest.of(
        "POST",
        "/ruby/debit",
        {
            "x-aggregator-key": "brand",
            "x-aggregator-timestamp": case["timestamp"],
            "x-aggregator-signature": case["signature"],
        },
        case["body"],
    )
    verdict = ruby_callback.verify(
        request, lambda key: [case["secret"]] if key == "brand" else [], clock=lambda: int(case["timestamp"])
    )
    assert verdict.ok, verdict


@pytest.mark.parametrize("case", cases("sportsbook_security_hash"))
@pytest.mark.parametrize("header", ["X-Security-Hash", "X-Securty-Hash", "x-security-hash"])
def test_sportsbook(case: dict[str, Any], header: str) -> None:
    assert sportsbook.sign(case["secret"], case["body"]) == case["signature"]
    request = RawRequest.of("POST", "/sportsbook/transaction", {header: case["signature"]}, case["body"])
    assert sportsbook.verify(request, [case["secret"]]).ok


@pytest.mark.parametrize("case", cases("rgs"))
def test_rgs(case: dict[str, Any]) -> None:
    assert sha256_hex(case["body"].encode()) == case["body_sha256"]
    signature = rgs.sign(case["secret"], case["timestamp"], case["method"], case["path_with_query"], case["body"])
    assert signature == case["signature"]
    request = RawRequest.of(
        case["method"],
        case["path_with_query"],
        {
            "X-Operator-Id": OPERATOR_ID,
            "X-Operator-Key": "op-key",
            "X-Timestamp": str(case["timestamp"]),
            "X-Signature": case["signature"],
        },
        case["body"],
    )
    verdict = rgs.verify(
        request,
        lambda op, key: [case["secret"]] if (op, key) == (OPERATOR_ID, "op-key") else [],
        clock=lambda: case["timestamp"],
    )
    assert verdict.ok, verdict


@pytest.mark.parametrize("case", cases("rabbitx"))
def test_rabbitx(case: dict[str, Any]) -> None:
    assert rabbitx.sign(case["secret"], case["data"], case["expires"]) == case["signature"]


@pytest.mark.parametrize("case", cases("rabbitx"))
def test_rabbitx_verifies_a_request_carrying_the_vector_data(case: dict[str, Any]) -> None:
    data = dict(case["data"])
    method, path = data.pop("method"), data.pop("path")
    request = RawRequest.of(
        method,
        path,
        {"RBT-API-KEY": "k", "RBT-TS": str(case["expires"]), "RBT-SIGNATURE": case["signature"]},
        json.dumps(data) if data else b"",
    )
    verdict = rabbitx.verify(
        request, lambda key: [case["secret"]] if key == "k" else [], clock=lambda: case["expires"] - 1
    )
    assert verdict.ok, verdict


@pytest.mark.parametrize("case", cases("rgs_fairness_hmac"))
def test_rgs_fairness_hmac(case: dict[str, Any]) -> None:
    assert fairness.seed_hash(case["server_seed"]) == case["server_seed_hash"]
    assert fairness.outcome_hmac(case["server_seed"], case["client_seed"], case["nonce"]) == case["crash_hmac"]


@pytest.mark.parametrize(("scheme", "module"), [("ruby_team_api", ruby_team), ("rgs", rgs)])
def test_a_request_signed_without_a_body_is_signed_with_the_empty_body(scheme: str, module: Any) -> None:
    gets = [case for case in VECTORS[scheme]["cases"] if not case["body"]]
    assert gets
    for case in gets:
        assert (
            module.sign(case["secret"], case["timestamp"], case["method"], case["path_with_query"]) == case["signature"]
        )


REFERENCE: dict[str, Any] = json.loads(
    (Path(__file__).parents[1] / "data" / "rabbitx-reference-vectors.json").read_text(encoding="utf-8")
)


def test_the_rabbitx_reference_file_matches_the_shared_spec() -> None:
    shared = Path(__file__).parents[3] / "shared" / "specs" / "rabbitx-reference-vectors.json"
    if not shared.exists():
        pytest.skip("shared/ is not beside this checkout")
    assert json.loads(shared.read_text(encoding="utf-8")) == REFERENCE


@pytest.mark.parametrize("case", REFERENCE["requests"], ids=lambda case: case["name"])
def test_rabbitx_signs_what_the_reference_client_signs(case: dict[str, Any]) -> None:
    """The reference client writes a float as Python's str(); so does our signer (1e-05, 0.1)."""
    sent = case["sent"]["headers"]
    assert rabbitx.sign(case["api_secret"], case["signed_data"], int(sent["RBT-TS"])) == sent["RBT-SIGNATURE"]


@pytest.mark.parametrize(
    "case", [c for c in REFERENCE["requests"] if c["sent"]["path_with_query"] == "/account"], ids=lambda c: c["name"]
)
def test_rabbitx_verifies_the_reference_clients_get(case: dict[str, Any]) -> None:
    sent = case["sent"]
    request = RawRequest.of(sent["method"], sent["path_with_query"], sent["headers"], sent["body"])
    verdict = rabbitx.verify(
        request, lambda key: [case["api_secret"]] if key == case["api_key"] else [], clock=lambda: case["now"]
    )
    assert (verdict.ok, verdict.key_id) == (True, case["api_key"])
