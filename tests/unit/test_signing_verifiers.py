"""Each verifier answers valid, or exactly why not, case by case."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

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
    as_text = rabbitx.sign(SECRET_HEX, {"method": "POST", "path": "/", "price": "1e-05"}, NOW)
    assert rabbitx.sign(SECRET_HEX, {"method": "POST", "path": "/", "price": 1e-05}, NOW) == as_text  # str(float)
    with pytest.raises(ValueError, match="NaN"):
        rabbitx.sign(SECRET_HEX, {"method": "POST", "path": "/", "price": float("nan")}, NOW)
    with pytest.raises(ValueError, match="method"):
        rabbitx.sign(SECRET_HEX, {"path": "/"}, NOW)
    with pytest.raises(ValueError, match="hexadecimal"):
        rabbitx.sign("not-hex", {"method": "GET", "path": "/"}, NOW)


def test_rabbitx_malformed_body_is_malformed_not_an_exception() -> None:
    signed = rabbit_request()
    for body in (b"{not json", b"[1, 2]", b'{"method": "GET"}'):
        request = RawRequest(signed.method, signed.path_with_query, signed.headers, body)
        assert rabbitx.verify(request, rabbit_secrets, clock=at(NOW)).reason is Failure.MALFORMED


# --- what a verdict carries: the header at fault in its detail, the claimed key -----------------------


def rabbit_signed(data: dict[str, Any], path_with_query: str, body: bytes | str = b"", ttl: int = 60) -> RawRequest:
    headers = rabbitx.headers("k", SECRET_HEX, data, ttl_seconds=ttl, clock=at(NOW))
    return RawRequest.of(data["method"], path_with_query, headers, body)


def ruby_at(now: int = NOW, **override: str | None) -> Verdict:
    return ruby_callback.verify(ruby_request(**override), brand_secrets, clock=at(now))


def rgs_at(now: int = NOW, secrets: Callable[[str, str], list[str]] = rgs_secrets, **override: str | None) -> Verdict:
    return rgs.verify(rgs_request(**override), secrets, clock=at(now))


def rabbit_at(now: int = NOW, secrets: Callable[[str], list[str]] = rabbit_secrets, **override: str | None) -> Verdict:
    return rabbitx.verify(rabbit_request(**override), secrets, clock=at(now))


def team_at(secrets: list[str]) -> Verdict:
    return ruby_team.verify(team_request(), lambda key: secrets, clock=at(NOW))


def sportsbook_at(headers: dict[str, str], secrets: list[str]) -> Verdict:
    return sportsbook.verify(RawRequest.of("POST", "/", headers, BODY), secrets)


FAULTS: list[tuple[Callable[[], Verdict], Failure, str]] = [
    (lambda: ruby_at(**{"X-Aggregator-Timestamp": "soon"}), Failure.MALFORMED, "X-Aggregator-Timestamp"),
    (lambda: ruby_at(**{"X-Aggregator-Signature": "zz"}), Failure.MALFORMED, "X-Aggregator-Signature"),
    (lambda: ruby_at(now=NOW + 301), Failure.STALE_TIMESTAMP, "X-Aggregator-Timestamp"),
    (lambda: ruby_at(now=NOW - 301), Failure.FUTURE_TIMESTAMP, "X-Aggregator-Timestamp"),
    (lambda: ruby_at(**{"X-Aggregator-Key": "x"}), Failure.UNKNOWN_KEY, "X-Aggregator-Key"),
    (lambda: team_at([]), Failure.UNKNOWN_KEY, "X-Team-Key"),
    (lambda: team_at(["other"]), Failure.BAD_SIGNATURE, "X-Team-Signature"),
    (lambda: rgs_at(**{"X-Operator-Id": "op"}), Failure.MALFORMED, "X-Operator-Id"),
    (lambda: rgs_at(**{"X-Operator-Key": "a b"}), Failure.MALFORMED, "X-Operator-Key"),
    (lambda: rgs_at(**{"X-Timestamp": "now"}), Failure.MALFORMED, "X-Timestamp"),
    (lambda: rgs_at(**{"X-Signature": "ab"}), Failure.MALFORMED, "X-Signature"),
    (lambda: rgs_at(now=NOW + 301), Failure.STALE_TIMESTAMP, "X-Timestamp"),
    (lambda: rgs_at(secrets=lambda op, key: []), Failure.UNKNOWN_KEY, "X-Operator-Id"),
    (lambda: rgs_at(secrets=lambda op, key: ["other"]), Failure.BAD_SIGNATURE, "X-Signature"),
    (lambda: rabbit_at(**{"RBT-TS": "soon"}), Failure.MALFORMED, "RBT-TS"),
    (lambda: rabbit_at(**{"RBT-SIGNATURE": "ab" * 32}), Failure.MALFORMED, "RBT-SIGNATURE"),
    (lambda: rabbit_at(now=NOW + 60), Failure.EXPIRED, "RBT-TS"),
    (lambda: rabbit_at(**{"RBT-TS": str(NOW + 601)}), Failure.FUTURE_TIMESTAMP, "RBT-TS"),
    (lambda: rabbit_at(**{"RBT-API-KEY": "x"}), Failure.UNKNOWN_KEY, "RBT-API-KEY"),
    (lambda: rabbit_at(secrets=lambda key: ["0x" + "cd" * 32]), Failure.BAD_SIGNATURE, "RBT-SIGNATURE"),
    (lambda: sportsbook_at({"X-Securty-Hash": "ab"}, ["s"]), Failure.MALFORMED, "X-Security-Hash"),
    (lambda: sportsbook_at(sportsbook.headers("s", BODY), ["t"]), Failure.BAD_SIGNATURE, "X-Security-Hash"),
]


@pytest.mark.parametrize(("verdict", "reason", "named"), FAULTS)
def test_a_failure_names_the_header_at_fault(verdict: Callable[[], Verdict], reason: Failure, named: str) -> None:
    """The detail goes back to the caller and into the logs: it must say which header is wrong."""
    got = verdict()
    assert got.reason is reason
    assert named in got.detail


def test_every_failure_has_a_detail() -> None:
    signed = RawRequest.of("POST", "/", sportsbook.headers("s", BODY), BODY)
    assert sportsbook.verify(signed, []).detail
    for path, body in (("/x", b'{"a": 1, "a": 2}'), ("/x", b"{not json"), ("/x", b"[1, 2]")):
        verdict = rabbitx.verify(
            rabbit_signed({"method": "GET", "path": "/x"}, path, body), rabbit_secrets, clock=at(NOW)
        )
        assert (verdict.reason, bool(verdict.detail)) == (Failure.MALFORMED, True)


def team_request() -> RawRequest:
    path = "/api/bet/list?page=1"
    return RawRequest.of("GET", path, ruby_team.headers("team", "team-secret", "GET", path, clock=at(NOW)))


def test_the_verdict_names_the_claimed_key_when_valid_and_when_the_signature_is_wrong() -> None:
    """The key is public: a bad signature is logged against the key it claimed."""
    cases: list[tuple[Callable[[list[str]], Verdict], str]] = [
        (lambda s: ruby_callback.verify(ruby_request(), lambda key: s, clock=at(NOW)), "brand-key"),
        (lambda s: ruby_team.verify(team_request(), lambda key: s, clock=at(NOW)), "team"),
        (lambda s: rgs.verify(rgs_request(), lambda op, key: s, clock=at(NOW)), OPERATOR_ID),
        (lambda s: rabbitx.verify(rabbit_request(), lambda key: s, clock=at(NOW)), "k"),
    ]
    for verify, key in cases:
        right = {"brand-key": "brand-secret", "team": "team-secret", OPERATOR_ID: "op-secret", "k": SECRET_HEX}[key]
        valid = verify([right])
        assert (valid.ok, valid.key_id) == (True, key)
        wrong = verify(["0x" + "cd" * 32])
        assert (wrong.reason, wrong.key_id) == (Failure.BAD_SIGNATURE, key)


def test_rgs_operator_id_is_one_operator_whatever_its_letter_case() -> None:
    seen: list[str] = []

    def secrets(operator_id: str, key: str) -> list[str]:
        seen.append(operator_id)
        return rgs_secrets(operator_id, key)

    verdict = rgs.verify(rgs_request(**{"X-Operator-Id": OPERATOR_ID.upper()}), secrets, clock=at(NOW))
    assert (verdict.ok, verdict.key_id, seen) == (True, OPERATOR_ID, [OPERATOR_ID])


# --- rotation: any of the current secrets, in whatever order they come ---------------------------------


def test_the_matching_secret_may_come_first_or_last() -> None:
    body = b'{"transaction_id":"op-1"}'
    signed = RawRequest.of("POST", "/", sportsbook.headers("s", body), body)
    assert sportsbook.verify(signed, ["s", "other"]).ok
    assert sportsbook.verify(signed, ["other", "s"]).ok
    assert rgs.verify(rgs_request(), lambda op, key: ["op-secret", "new-secret"], clock=at(NOW)).ok
    assert ruby_callback.verify(ruby_request(), lambda key: ["brand-secret", "next"], clock=at(NOW)).ok


# --- the raw request ---------------------------------------------------------------------------------


def test_headers_from_pairs_iterate_lower_cased() -> None:
    headers = Headers([("X-Team-Key", "team"), ("Content-Type", "application/json")])
    assert headers["x-team-key"] == "team"
    assert list(headers) == ["x-team-key", "content-type"]
    assert dict(headers) == {"x-team-key": "team", "content-type": "application/json"}
    assert len(headers) == 2


def test_a_text_body_is_its_utf8_bytes() -> None:
    assert RawRequest.of("POST", "/", {}, '{"name":"한국"}').body == '{"name":"한국"}'.encode()


def test_api_gateway_event_gives_method_path_and_plain_body() -> None:
    body = '{"name":"한국 브랜드"}'
    event = {
        "rawPath": "/ruby/debit",
        "headers": {"x-aggregator-key": "brand-key"},
        "requestContext": {"http": {"method": "POST", "sourceIp": "203.0.113.7"}},
        "body": body,
        "isBase64Encoded": False,
    }
    request = RawRequest.from_apigw_v2(event)
    assert (request.method, request.path_with_query, request.body) == ("POST", "/ruby/debit", body.encode())
    assert request.source_ip == "203.0.113.7"
    assert request.headers["X-Aggregator-Key"] == "brand-key"
    bare = RawRequest.from_apigw_v2({})
    assert (bare.method, bare.path_with_query, bare.body, len(bare.headers), bare.source_ip) == ("", "/", b"", 0, "")


def test_the_method_from_api_gateway_is_what_ruby_team_and_rgs_sign() -> None:
    path = "/api/public/rgs/revenue?from=2026-07-01&to=2026-07-31"
    headers = rgs.headers(OPERATOR_ID, "op-key", "op-secret", "GET", path, clock=at(NOW))
    event = {
        "rawPath": "/api/public/rgs/revenue",
        "rawQueryString": "from=2026-07-01&to=2026-07-31",
        "headers": headers,
        "requestContext": {"http": {"method": "GET"}},
    }
    assert rgs.verify(RawRequest.from_apigw_v2(event), rgs_secrets, clock=at(NOW)).ok
    event["requestContext"] = {"http": {"method": "DELETE"}}
    assert rgs.verify(RawRequest.from_apigw_v2(event), rgs_secrets, clock=at(NOW)).reason is Failure.BAD_SIGNATURE


# --- RabbitX: the request's data ---------------------------------------------------------------------


def test_rabbitx_the_query_string_is_not_signed_data() -> None:
    """RabbitX's own client signs a GET's method and path and sends its parameters unsigned (see
    test_rabbitx_reference.py): a verifier that accepts its requests ignores the query."""
    data = {"method": "GET", "path": "/orders"}
    assert rabbitx.verify(rabbit_signed(data, "/orders?p_limit=10&p_note="), rabbit_secrets, clock=at(NOW)).ok
    signed_with_query = {**data, "p_limit": "10"}
    refused = rabbitx.verify(rabbit_signed(signed_with_query, "/orders?p_limit=10"), rabbit_secrets, clock=at(NOW))
    assert refused.reason is Failure.BAD_SIGNATURE


def test_rabbitx_a_parameter_given_twice_is_malformed() -> None:
    data = {"method": "POST", "path": "/orders", "size": "1"}
    for body in (b'{"size": "1", "size": "2"}', b'{"size": "1", "x": {"a": 1, "a": 1}}'):
        verdict = rabbitx.verify(rabbit_signed(data, "/orders", body), rabbit_secrets, clock=at(NOW))
        assert verdict.reason is Failure.MALFORMED
        assert "given twice" in verdict.detail


def test_rabbitx_a_body_naming_another_method_or_path_is_malformed() -> None:
    data = {"method": "POST", "path": "/orders", "size": "1"}
    good = rabbit_signed(data, "/orders", b'{"size": "1", "method": "POST", "path": "/orders"}')
    assert rabbitx.verify(good, rabbit_secrets, clock=at(NOW)).ok
    for body in (b'{"size": "1", "method": "PUT"}', b'{"size": "1", "path": "/orders/x"}', b'{"method": "post"}'):
        verdict = rabbitx.verify(rabbit_signed(data, "/orders", body), rabbit_secrets, clock=at(NOW))
        assert verdict.reason is Failure.MALFORMED
        assert "request line" in verdict.detail


def test_rabbitx_json_numbers_are_signed_as_the_text_sent() -> None:
    """A sender's str(float) is signed as it wrote it: 1e-05 stays 1e-05, even inside a list."""
    data = {"method": "POST", "path": "/orders", "size": "1e-05", "levels": [0.1, 1e16]}
    assert rabbitx.render([0.1, 1e16]) == "[0.1, 1e+16]"
    request = rabbit_signed({**data, "levels": "[0.1, 1e+16]"}, "/orders", '{"size": 1e-05, "levels": [0.1, 1e+16]}')
    assert rabbitx.verify(request, rabbit_secrets, clock=at(NOW)).ok
    reworded = rabbit_signed({**data, "levels": "[0.1, 1e+16]"}, "/orders", '{"size": 0.00001, "levels": [0.1, 1e+16]}')
    assert rabbitx.verify(reworded, rabbit_secrets, clock=at(NOW)).reason is Failure.BAD_SIGNATURE


def test_rabbitx_json_decimals_are_signed_as_written() -> None:
    """A body's 0.1 is the decimal 0.1 (never a float, which the signer refuses)."""
    data = {"method": "POST", "path": "/orders", "price": Decimal("58276.88402"), "size": "0.1"}
    request = rabbit_signed(data, "/orders", '{"price": 58276.88402, "size": "0.1"}')
    assert rabbitx.verify(request, rabbit_secrets, clock=at(NOW)).ok


def test_rabbitx_data_that_cannot_be_signed_is_malformed_not_an_exception() -> None:
    request = rabbit_signed({"method": "POST", "path": "/orders"}, "/orders", b'{"size": NaN}')
    verdict = rabbitx.verify(request, rabbit_secrets, clock=at(NOW))
    assert verdict.reason is Failure.MALFORMED
    assert verdict.detail


def test_rabbitx_expiry_bounds_are_inclusive_at_600_seconds() -> None:
    """providers.md: signers set the expiry at most 600 s ahead; a verifier accepts exactly that."""
    data = {"method": "GET", "path": "/account"}
    assert rabbitx.verify(rabbit_signed(data, "/account", ttl=600), rabbit_secrets, clock=at(NOW)).ok
    assert rabbitx.verify(rabbit_signed(data, "/account", ttl=1), rabbit_secrets, clock=at(NOW)).ok
    with pytest.raises(ValueError, match="ttl_seconds"):
        rabbitx.headers("k", SECRET_HEX, data, ttl_seconds=0)


def test_rabbitx_booleans_render_as_json_words() -> None:
    assert (rabbitx.render(True), rabbitx.render(False)) == ("true", "false")
