"""The Ruby Team API client side by side with the seed's reference signer (issue 15).

The reference is the seed's algorithm for the Team API (shared/specs/providers.md §1 and §3), written here
as the seed describes it and independently of Croupier's code: the body is ``json.dumps(body,
separators=(",", ":"))`` (Python's default ``ensure_ascii``), the query ``urlencode`` of the non-empty
parameters in key order, and ``X-Team-Signature = hex(HMAC-SHA256(team_secret, ts + METHOD +
path_with_query + body))``. (The seed's own snippet is not in this repository; its vectors are, in
signing-vectors.json, and test_signing_vectors.py reproduces them.)

Finding, kept as a test: on ASCII bodies Croupier's client sends exactly the reference's method, path with
query, body bytes and ``X-Team-*`` headers. On non-ASCII bodies it sends UTF-8 where the reference writes
``\\uXXXX`` escapes: other bytes, the same JSON, and each signs what it sends, so Ruby accepts both.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import string
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit

from hypothesis import given, settings
from hypothesis import strategies as st

from croupier.clients.http import HttpResponse
from croupier.signing import RawRequest, ruby_team
from croupier_cli.ruby_team import RubyTeamClient

BASE = "https://api-test.ruby-gaming.com"
KEY = "team-key"


def reference_request(
    secret: str, now: int, method: str, path: str, query: Mapping[str, Any] | None, body: Mapping[str, Any] | None
) -> tuple[str, str, bytes, dict[str, str]]:
    """The seed's reference: what a request to Ruby's Team API is, byte for byte."""
    pairs = [(name, str(value)) for name, value in sorted((query or {}).items()) if value is not None]
    path_with_query = path + ("?" + urlencode(pairs) if pairs else "")
    raw = json.dumps(body, separators=(",", ":")) if body is not None else ""
    message = f"{now}{method.upper()}{path_with_query}{raw}"
    signature = hmac.new(secret.encode("utf-8"), message.encode("utf-8"), hashlib.sha256).hexdigest()
    headers = {"X-Team-Key": KEY, "X-Team-Timestamp": str(now), "X-Team-Signature": signature}
    return method.upper(), path_with_query, raw.encode("utf-8"), headers


class Recording:
    def __init__(self, answer: Any) -> None:
        self.answer = json.dumps(answer).encode()
        self.sent: list[tuple[str, str, bytes, dict[str, str]]] = []

    def send(self, method: str, url: str, headers: Mapping[str, str], body: bytes, timeout: float) -> HttpResponse:
        parts = urlsplit(url)
        team = {name: value for name, value in headers.items() if name.startswith("X-Team-")}
        self.sent.append((method, parts.path + ("?" + parts.query if parts.query else ""), body, team))
        return HttpResponse(200, body=self.answer)


BRAND = {"id": 7, "api_key": "k", "api_secret": "s", "name": "n", "code": "c"}
PAGE = {"total": 0, "page": 1, "page_size": 20, "items": []}


def croupier_sends(secret: str, now: int, answer: Any, call: Any) -> tuple[str, str, bytes, dict[str, str]]:
    transport = Recording(answer)
    call(RubyTeamClient(BASE, KEY, secret, transport=transport, clock=lambda: now))
    [sent] = transport.sent
    return sent


ascii_text = st.text(alphabet=string.ascii_letters + string.digits + " -_.'\"\\/", min_size=1, max_size=30).map(
    str.strip
)
names = ascii_text.filter(bool)
codes = st.text(alphabet=string.ascii_lowercase + string.digits, min_size=1, max_size=20)
secrets = st.text(alphabet=string.printable.strip(), min_size=8, max_size=40)
clocks = st.integers(1_700_000_000, 1_900_000_000)


@settings(max_examples=150, deadline=None)
@given(secrets, clocks, names, codes, st.sampled_from(["KRW", "USD", "EUR"]))
def test_brand_create_with_an_ascii_body_is_byte_identical(
    secret: str, now: int, name: str, code: str, currency: str
) -> None:
    body = {
        "name": name,
        "code": code,
        "wallet_mode": "seamless",
        "callback_url": "https://api.croupier.example/ruby",
        "currency": currency,
    }
    sent = croupier_sends(
        secret,
        now,
        BRAND,
        lambda c: c.create_brand(name, code, "seamless", "https://api.croupier.example/ruby", currency),
    )
    assert sent == reference_request(secret, now, "POST", "/api/brand/create", None, body)


@settings(max_examples=100, deadline=None)
@given(secrets, clocks, st.integers(1, 10**9), st.integers(0, 9), st.sampled_from(["1", "100.00", "0.5"]))
def test_brand_update_and_recharge_are_byte_identical(
    secret: str, now: int, brand_id: int, status: int, amount: str
) -> None:
    sent = croupier_sends(secret, now, {}, lambda c: c.update_brand(brand_id, status=status))
    assert sent == reference_request(secret, now, "PUT", f"/api/brand/{brand_id}", None, {"status": status})
    sent = croupier_sends(secret, now, {}, lambda c: c.recharge_brand(brand_id, amount))
    assert sent == reference_request(secret, now, "POST", f"/api/brand/{brand_id}/recharge", None, {"amount": amount})


@settings(max_examples=100, deadline=None)
@given(
    secrets,
    clocks,
    st.none() | st.integers(1, 10**6),
    st.none() | ascii_text.filter(bool),
    st.integers(1, 50),
    st.integers(1, 100),
)
def test_lists_with_query_parameters_are_byte_identical(
    secret: str, now: int, brand_id: int | None, username: str | None, page: int, size: int
) -> None:
    sent = croupier_sends(secret, now, PAGE, lambda c: c.list_players(brand_id, username, page, size))
    query = {"brand_id": brand_id, "username": username, "page": page, "size": size}
    assert sent == reference_request(secret, now, "GET", "/api/player/list", query, None)
    sent = croupier_sends(secret, now, PAGE, lambda c: c.list_bets(brand_id=brand_id, status=1, page=page, size=size))
    query = {"brand_id": brand_id, "status": 1, "page": page, "size": size}
    assert sent == reference_request(secret, now, "GET", "/api/bet/list", query, None)


def test_a_non_ascii_body_differs_only_by_its_escapes_and_both_verify() -> None:
    secret, now, name = "s3cr\u00e9t", 1_800_000_000, "\ud55c\uad6d \ube0c\ub79c\ub4dc"
    sent = croupier_sends(secret, now, BRAND, lambda c: c.create_brand(name, "kr01", "transfer", currency="KRW"))
    reference = reference_request(
        secret,
        now,
        "POST",
        "/api/brand/create",
        None,
        {"name": name, "code": "kr01", "wallet_mode": "transfer", "currency": "KRW"},
    )
    assert sent[2] != reference[2]
    assert not sent[2].isascii()  # Croupier sends UTF-8
    assert reference[2].isascii()  # the reference, \uXXXX escapes
    assert json.loads(sent[2]) == json.loads(reference[2])
    for method, path_with_query, body, headers in (sent, reference):
        request = RawRequest.of(method, path_with_query, headers, body)
        assert ruby_team.verify(request, lambda key: [secret] if key == KEY else [], clock=lambda: now).ok
