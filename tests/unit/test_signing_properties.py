"""Property tests: a signed request verifies, and any single-byte change to a signed part does not.

Which parts a scheme signs is the scheme's own: Ruby callbacks sign the body and timestamp, not the path
or method; the sportsbook hash signs only the body; the Ruby Team API and RGS v1 sign all of
method, path with query, body and timestamp. RabbitX signs the request's *data* (method, path and
parameters), not its bytes, so whitespace in a JSON body is not covered; its key is hex, so a change of
the key is a change of its decoded bytes.
"""

from __future__ import annotations

import json
import string
from dataclasses import dataclass, replace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from croupier.signing import RawRequest, Verdict, rabbitx, rgs, ruby_callback, ruby_team, sportsbook

OPERATOR_ID = "3f2a9c1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b"
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH"]
PATH_CHARS = string.ascii_letters + string.digits + "-._~/?=&%"

bodies = st.binary(min_size=1, max_size=300)
paths = st.text(alphabet=PATH_CHARS, min_size=0, max_size=60).map(lambda s: "/" + s)
timestamps = st.integers(min_value=1_000_000_000, max_value=4_000_000_000)
secrets = st.text(min_size=1, max_size=64).filter(lambda s: "\x00" not in s)


@dataclass(frozen=True)
class Signed:
    method: str
    path: str
    body: bytes
    ts: int
    secret: str


def flip(data: bytes, index: int, new: int) -> bytes:
    """``data`` with the byte at ``index`` replaced by a different byte."""
    i = index % len(data)
    value = new if new != data[i] else (new + 1) % 256
    return data[:i] + bytes([value]) + data[i + 1 :]


def flip_text(text: str, index: int, new: str) -> str:
    i = index % len(text)
    value = new if new != text[i] else ("a" if text[i] != "a" else "b")
    return text[:i] + value + text[i + 1 :]


# --- one signer/verifier pair per scheme: sign with `signing`, verify `received` against the true secret


def ruby_team_verify(signing: Signed, received: Signed, *, key: str = "team") -> Verdict:
    headers = ruby_team.headers(
        key, signing.secret, signing.method, signing.path, signing.body, clock=lambda: signing.ts
    )
    headers["X-Team-Timestamp"] = str(received.ts)
    request = RawRequest.of(received.method, received.path, headers, received.body)
    return ruby_team.verify(request, lambda k: [received.secret] if k == "team" else [], clock=lambda: signing.ts)


def ruby_callback_verify(signing: Signed, received: Signed, *, key: str = "brand") -> Verdict:
    headers = ruby_callback.headers(key, signing.secret, signing.body, clock=lambda: signing.ts)
    headers["X-Aggregator-Timestamp"] = str(received.ts)
    request = RawRequest.of(received.method, received.path, headers, received.body)
    return ruby_callback.verify(request, lambda k: [received.secret] if k == "brand" else [], clock=lambda: signing.ts)


def rgs_verify(signing: Signed, received: Signed, *, key: str = "op-key") -> Verdict:
    headers = rgs.headers(
        OPERATOR_ID, key, signing.secret, signing.method, signing.path, signing.body, clock=lambda: signing.ts
    )
    headers["X-Timestamp"] = str(received.ts)
    request = RawRequest.of(received.method, received.path, headers, received.body)
    return rgs.verify(
        request, lambda op, k: [received.secret] if (op, k) == (OPERATOR_ID, "op-key") else [], clock=lambda: signing.ts
    )


def sportsbook_verify(signing: Signed, received: Signed) -> Verdict:
    request = RawRequest.of(
        received.method, received.path, sportsbook.headers(signing.secret, signing.body), received.body
    )
    return sportsbook.verify(request, [received.secret])


@settings(max_examples=150)
@given(bodies, paths, st.sampled_from(METHODS), timestamps, secrets)
def test_every_scheme_verifies_what_it_signed(body: bytes, path: str, method: str, ts: int, secret: str) -> None:
    signed = Signed(method, path, body, ts, secret)
    for verify in (ruby_team_verify, ruby_callback_verify, rgs_verify, sportsbook_verify):
        assert verify(signed, signed).ok, verify.__name__


@settings(max_examples=200)
@given(bodies, paths, st.sampled_from(METHODS), timestamps, secrets, st.integers(0, 10_000), st.integers(0, 255))
def test_a_changed_body_byte_fails_everywhere(
    body: bytes, path: str, method: str, ts: int, secret: str, index: int, new: int
) -> None:
    signed = Signed(method, path, body, ts, secret)
    received = replace(signed, body=flip(body, index, new))
    for verify in (ruby_team_verify, ruby_callback_verify, rgs_verify, sportsbook_verify):
        assert not verify(signed, received).ok, verify.__name__


@settings(max_examples=200)
@given(
    bodies, paths, st.sampled_from(METHODS), timestamps, secrets, st.integers(0, 10_000), st.sampled_from(PATH_CHARS)
)
def test_a_changed_path_byte_fails_where_the_path_is_signed(
    body: bytes, path: str, method: str, ts: int, secret: str, index: int, new: str
) -> None:
    signed = Signed(method, path, body, ts, secret)
    received = replace(signed, path=flip_text(path, index, new))
    for verify in (ruby_team_verify, rgs_verify):
        assert not verify(signed, received).ok, verify.__name__


@settings(max_examples=100)
@given(bodies, paths, st.sampled_from(METHODS), st.sampled_from(METHODS), timestamps, secrets)
def test_a_changed_method_fails_where_the_method_is_signed(
    body: bytes, path: str, method: str, other: str, ts: int, secret: str
) -> None:
    if other == method:
        other = "OPTIONS"
    signed = Signed(method, path, body, ts, secret)
    for verify in (ruby_team_verify, rgs_verify):
        assert not verify(signed, replace(signed, method=other)).ok, verify.__name__


@settings(max_examples=200)
@given(bodies, paths, st.sampled_from(METHODS), timestamps, secrets, st.integers(0, 20), st.sampled_from(string.digits))
def test_a_changed_timestamp_digit_fails_where_the_timestamp_is_signed(
    body: bytes, path: str, method: str, ts: int, secret: str, index: int, digit: str
) -> None:
    signed = Signed(method, path, body, ts, secret)
    text = str(ts)
    i = index % len(text)
    new_digit = digit if digit != text[i] else str((int(digit) + 1) % 10)
    changed = int(text[:i] + new_digit + text[i + 1 :])
    assert changed != ts
    for verify in (ruby_team_verify, ruby_callback_verify, rgs_verify):
        verdict = verify(signed, replace(signed, ts=changed))
        assert not verdict.ok, verify.__name__


@settings(max_examples=200)
@given(
    bodies, paths, st.sampled_from(METHODS), timestamps, secrets, st.integers(0, 10_000), st.characters(codec="utf-8")
)
def test_a_changed_secret_character_fails_everywhere(
    body: bytes, path: str, method: str, ts: int, secret: str, index: int, new: str
) -> None:
    signed = Signed(method, path, body, ts, secret)
    wrong_secret = flip_text(secret, index, new)
    for verify in (ruby_team_verify, ruby_callback_verify, rgs_verify, sportsbook_verify):
        assert not verify(replace(signed, secret=wrong_secret), signed).ok, verify.__name__


@settings(max_examples=100)
@given(bodies, paths, st.sampled_from(METHODS), timestamps, secrets)
def test_an_unknown_key_id_fails(body: bytes, path: str, method: str, ts: int, secret: str) -> None:
    signed = Signed(method, path, body, ts, secret)
    assert ruby_team_verify(signed, signed, key="other").reason is not None
    assert ruby_callback_verify(signed, signed, key="other").reason is not None
    assert rgs_verify(signed, signed, key="other").reason is not None


# --- RabbitX: the data is signed, so mutate the data's serialisation and the key's bytes ---------------


def plain_text(size: int) -> st.SearchStrategy[str]:
    """Text that JSON writes without escapes (an escape can be re-cased without changing the data)."""
    return st.text(alphabet=string.ascii_letters + string.digits + " -_.", max_size=size)


json_values = st.one_of(
    st.integers(-(10**12), 10**12), st.booleans(), plain_text(20), st.lists(plain_text(5), max_size=3)
)
rabbit_params = st.dictionaries(
    st.text(alphabet=string.ascii_letters, min_size=1, max_size=10).filter(lambda k: k not in ("method", "path")),
    json_values,
    min_size=1,
    max_size=5,
)
hex_secrets = st.binary(min_size=16, max_size=32)


def rabbit_verify(
    secret: bytes, sent_with: bytes, params: dict[str, Any], body: bytes, path: str, method: str
) -> Verdict:
    """Sign POST /orders with ``params`` using key ``sent_with``; send ``method path body``; verify with ``secret``."""
    now = 1_711_500_000
    data = {"method": "POST", "path": "/orders", **params}
    headers = rabbitx.headers("k", sent_with.hex(), data, clock=lambda: now)
    request = RawRequest.of(method, path, headers, body)
    return rabbitx.verify(request, lambda key: ["0x" + secret.hex()], clock=lambda: now)


@settings(max_examples=200)
@given(rabbit_params, hex_secrets, st.integers(0, 10_000), st.integers(0, 255), st.sampled_from(["PUT", "DELETE"]))
def test_rabbitx_any_meaningful_byte_change_fails(
    params: dict[str, Any], secret: bytes, index: int, new: int, other_method: str
) -> None:
    method = "POST"
    body = json.dumps(params).encode()
    assert rabbit_verify(secret, secret, params, body, "/orders", method).ok
    changed = flip(body, index, new)
    i = index % len(body)
    if body[i : i + 1].isspace() and changed[i : i + 1].isspace():
        return  # whitespace between JSON tokens is not part of the signed data
    assert not rabbit_verify(secret, secret, params, changed, "/orders", method).ok
    assert not rabbit_verify(secret, secret, params, body, "/orderz", method).ok
    assert not rabbit_verify(secret, secret, params, body, "/orders", other_method).ok
    assert not rabbit_verify(secret, flip(secret, index, new), params, body, "/orders", method).ok
