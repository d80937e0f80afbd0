"""Each verifier answers valid, or exactly why not, case by case."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

import pytest

from croupier.signing import Failure, Headers, RawRequest, Verdict, rabbitx, rgs, ruby_callback, ruby_team, sportsbook

NOW = 1_783_112_400
OPERATOR_ID = "3f2a9c1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b"
BODY = b'{"player_id":12345,"amount":"100.50","transaction_id":"t-1"}'


def at(now: float) -> Callable[[], float]:
    return lambda: now


def brand_secrets(key: str) -> list[str]:
    return ["brand-secret"] if key == "brand-key" else []


def ruby_request(body: bytes = BODY, ts: int = NOW, **override: str | None) -> RawRequest:
    headers: dict[str, str | None] = dict(ruby_callback.headers("brand-key", "brand-secret", body, clock=at(ts)))
    headers.update(override)
    return RawRequest.of("POST", "/ruby/debit", {k: v for k, v in headers.items() if v is not None}, body)


# --- Ruby callback -----------------------------------------------------------------------------------


def test_ruby_callback_valid() -> None:
    verdict = ruby_callback.verify(ruby_request(), brand_secrets, clock=at(NOW))
    assert verdict == Verdict.valid(key_id="brand-key")


@pytest.mark.parametrize(
    ("override", "reason"),
    [
        ({"X-Aggregator-Key": None}, Failure.MISSING_HEADER),
        ({"X-Aggregator-Timestamp": None}, Failure.MISSING_HEADER),
        ({"X-Aggregator-Signature": None}, Failure.MISSING_HEADER),
        ({"X-Aggregator-Key": "someone-else"}, Failure.UNKNOWN_KEY),
        ({"X-Aggregator-Timestamp": "yesterday"}, Failure.MALFORMED),
        ({"X-Aggregator-Timestamp": "-5"}, Failure.MALFORMED),
        ({"X-Aggregator-Timestamp": "1.5e9"}, Failure.MALFORMED),
        ({"X-Aggregator-Signature": "zz" * 32}, Failure.MALFORMED),
        ({"X-Aggregator-Signature": "ab" * 31}, Failure.MALFORMED),
        ({"X-Aggregator-Signature": "ab" * 32}, Failure.BAD_SIGNATURE),
    ],
)
def test_ruby_callback_rejects(override: dict[str, str | None], reason: Failure) -> None:
    verdict = ruby_callback.verify(ruby_request(**override), brand_secrets, clock=at(NOW))
    assert not verdict.ok
    assert verdict.reason is reason
    assert "brand-secret" not in verdict.detail


def test_ruby_callback_timestamp_window_is_300_seconds_both_ways() -> None:
    request = ruby_request(ts=NOW)
    assert ruby_callback.verify(request, brand_secrets, clock=at(NOW + 300)).ok
    assert ruby_callback.verify(request, brand_secrets, clock=at(NOW - 300)).ok
    assert ruby_callback.verify(request, brand_secrets, clock=at(NOW + 301)).reason is Failure.STALE_TIMESTAMP
    assert ruby_callback.verify(request, brand_secrets, clock=at(NOW - 301)).reason is Failure.FUTURE_TIMESTAMP


def test_ruby_callback_body_changed_by_one_byte_after_signing() -> None:
    signed = ruby_request()
    tampered = RawRequest(
        signed.method, signed.path_with_query, signed.headers, signed.body.replace(b"100.50", b"100.51")
    )
    assert ruby_callback.verify(tampered, brand_secrets, clock=at(NOW)).reason is Failure.BAD_SIGNATURE


def test_headers_are_case_insensitive_and_secrets_never_repr() -> None:
    headers = Headers({"X-Aggregator-Signature": "deadbeef"})
    assert headers["x-aggregator-signature"] == "deadbeef"
    assert "X-AGGREGATOR-SIGNATURE" in headers
    assert "deadbeef" not in repr(headers)


def test_base64_body_from_api_gateway_is_decoded_before_verifying() -> None:
    headers = ruby_callback.headers("brand-key", "brand-secret", BODY, clock=at(NOW))
    event = {
        "rawPath": "/ruby/debit",
        "rawQueryString": "",
        "headers": {k.lower(): v for k, v in headers.items()},
        "requestContext": {"http": {"method": "POST"}},
        "body": base64.b64encode(BODY).decode(),
        "isBase64Encoded": True,
    }
    request = RawRequest.from_apigw_v2(event)
    assert request.body == BODY
    assert ruby_callback.verify(request, brand_secrets, clock=at(NOW)).ok


def test_path_with_query_comes_from_raw_path_and_raw_query_string() -> None:
    event = {"rawPath": "/api/public/rgs/revenue", "rawQueryString": "from=2026-07-01&to=2026-07-31", "body": None}
    request = RawRequest.from_apigw_v2(event)
    assert request.path_with_query == "/api/public/rgs/revenue?from=2026-07-01&to=2026-07-31"
    assert request.body == b""


# --- Ruby Team API -----------------------------------------------------------------------------------


def test_ruby_team_api_signs_the_query_string_as_sent() -> None:
    path = "/api/bet/list?page=1&size=20&brand_id=42"
    headers = ruby_team.headers("team", "team-secret", "GET", path, clock=at(NOW))
    secrets = {"team": ["team-secret"]}.get
    assert ruby_team.verify(RawRequest.of("GET", path, headers), lambda k: secrets(k) or [], clock=at(NOW)).ok
    reordered = RawRequest.of("GET", "/api/bet/list?size=20&page=1&brand_id=42", headers)
    assert ruby_team.verify(reordered, lambda k: secrets(k) or [], clock=at(NOW)).reason is Failure.BAD_SIGNATURE


# --- Sportsbook --------------------------------------------------------------------------------------


def test_sportsbook_missing_header_and_no_configured_secret() -> None:
    body = b'{"transaction_id":"op-1"}'
    assert sportsbook.verify(RawRequest.of("POST", "/", {}, body), ["s"]).reason is Failure.MISSING_HEADER
    signed = RawRequest.of("POST", "/", sportsbook.headers("s", body), body)
    assert sportsbook.verify(signed, []).reason is Failure.UNKNOWN_KEY
    assert sportsbook.verify(signed, ["other", "s"]).ok  # rotation: either hash is accepted


# --- RGS v1 ------------------------------------------------------------------------------------------


def rgs_secrets(operator_id: str, key: str) -> list[str]:
    return ["op-secret"] if (operator_id, key) == (OPERATOR_ID, "op-key") else []


def rgs_request(**override: str | None) -> RawRequest:
    path = "/api/public/rgs/revenue?from=2026-07-01&to=2026-07-31"
    headers: dict[str, str | None] = dict(rgs.headers(OPERATOR_ID, "op-key", "op-secret", "GET", path, clock=at(NOW)))
    headers.update(override)
    return RawRequest.of("GET", path, {k: v for k, v in headers.items() if v is not None})


@pytest.mark.parametrize(
    ("override", "reason"),
    [
        ({}, None),
        ({"X-Operator-Hmac": "op-secret"}, None),  # the raw secret header is ignored
        ({"X-Operator-Id": None}, Failure.MISSING_HEADER),
        ({"X-Operator-Key": None}, Failure.MISSING_HEADER),
        ({"X-Timestamp": None}, Failure.MISSING_HEADER),
        ({"X-Signature": None}, Failure.MISSING_HEADER),
        ({"X-Operator-Id": "not-a-uuid"}, Failure.MALFORMED),
        ({"X-Operator-Key": "has space"}, Failure.MALFORMED),
        ({"X-Operator-Id": "00000000-0000-4000-8000-000000000000"}, Failure.UNKNOWN_KEY),
        ({"X-Operator-Key": "other-key"}, Failure.UNKNOWN_KEY),
        ({"X-Timestamp": str(NOW - 301)}, Failure.STALE_TIMESTAMP),
        ({"X-Timestamp": str(NOW + 301)}, Failure.FUTURE_TIMESTAMP),
        ({"X-Timestamp": str(NOW + 1)}, Failure.BAD_SIGNATURE),
    ],
)
def test_rgs_verify(override: dict[str, str | None], reason: Failure | None) -> None:
    verdict = rgs.verify(rgs_request(**override), rgs_secrets, clock=at(NOW))
    assert verdict.reason is reason
    assert verdict.ok is (reason is None)


def test_rgs_date_range_cannot_be_altered() -> None:
    signed = rgs_request()
    altered = RawRequest(signed.method, signed.path_with_query.replace("07-31", "12-31"), signed.headers, signed.body)
    assert rgs.verify(altered, rgs_secrets, clock=at(NOW)).reason is Failure.BAD_SIGNATURE


def test_rgs_key_rotation_accepts_old_and_new_secret() -> None:
    request = rgs_request()
    assert rgs.verify(request, lambda op, key: ["new-secret", "op-secret"], clock=at(NOW)).ok
    assert rgs.verify(request, lambda op, key: ["new-secret"], clock=at(NOW)).reason is Failure.BAD_SIGNATURE


# --- RabbitX -----------------------------------------------------------------------------------------

SECRET_HEX = "0x" + "ab" * 32


def rabbit_request(ttl: int = 60, clock_at: int = NOW, **override: str | None) -> RawRequest:
    data = {"method": "POST", "path": "/orders", "marketID": "BTC-USD", "size": 1, "reduce_only": True}
    headers: dict[str, str | None] = dict(rabbitx.headers("k", SECRET_HEX, data, ttl_seconds=ttl, clock=at(clock_at)))
    headers.update(override)
    body = json.dumps({"marketID": "BTC-USD", "size": 1, "reduce_only": True})
    return RawRequest.of("POST", "/orders", {k: v for k, v in headers.items() if v is not None}, body)


def rabbit_secrets(key: str) -> list[str]:
    return [SECRET_HEX] if key == "k" else []


@pytest.mark.parametrize(
    ("override", "now", "reason"),
    [
        ({}, NOW, None),
        ({}, NOW + 59, None),
        ({}, NOW + 60, Failure.EXPIRED),
        ({"RBT-TS": str(NOW + 601)}, NOW, Failure.FUTURE_TIMESTAMP),
        ({"RBT-API-KEY": None}, NOW, Failure.MISSING_HEADER),
        ({"RBT-API-KEY": "nobody"}, NOW, Failure.UNKNOWN_KEY),
        ({"RBT-SIGNATURE": "ab" * 32}, NOW, Failure.MALFORMED),  # the 0x prefix is required
        ({"RBT-SIGNATURE": "0x" + "ab" * 32}, NOW, Failure.BAD_SIGNATURE),
        ({"RBT-TS": "soon"}, NOW, Failure.MALFORMED),
    ],
)
def test_rabbitx_verify(override: dict[str, str | None], now: int, reason: Failure | None) -> None:
    verdict = rabbitx.verify(rabbit_request(**override), rabbit_secrets, clock=at(now))
    assert verdict.reason is reason


def test_rabbitx_signer_bounds_and_types() -> None:
    with pytest.raises(ValueError, match="ttl_seconds"):
        rabbitx.headers("k", SECRET_HEX, {"method": "GET", "path": "/"}, ttl_seconds=601)
    with pytest.raises(TypeError, match="floats"):
        rabbitx.sign(SECRET_HEX, {"method": "POST", "path": "/", "price": 0.1}, NOW)
    with pytest.raises(ValueError, match="method"):
        rabbitx.sign(SECRET_HEX, {"path": "/"}, NOW)
    with pytest.raises(ValueError, match="hexadecimal"):
        rabbitx.sign("not-hex", {"method": "GET", "path": "/"}, NOW)


def test_rabbitx_malformed_body_is_malformed_not_an_exception() -> None:
    signed = rabbit_request()
    for body in (b"{not json", b"[1, 2]", b'{"method": "GET"}'):
        request = RawRequest(signed.method, signed.path_with_query, signed.headers, body)
        assert rabbitx.verify(request, rabbit_secrets, clock=at(NOW)).reason is Failure.MALFORMED
