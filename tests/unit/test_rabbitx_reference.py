"""Croupier's RabbitX client and verifier side by side with RabbitX's own Python client.

``tests/data/rabbitx-reference-vectors.json`` (a copy of shared/specs) holds calls made with
rabbitx-io/rabbitx-python-client@9f98f65 and ``requests``' own request preparation: for each call, the key,
secret and clock, and exactly what the reference sent (method, path with query, body bytes, ``RBT-*``
headers), plus wallet onboarding cases (private key, clock, body).

``tests/data/rabbitx-heldout-vectors.json`` holds more cases made the same way by ``tools/rabbitx_vectors.py``
(the reference client's own endpoint and signing code, run in a throwaway virtualenv with requests 2.34.2 and
eth-account 0.14.0 from PyPI, every request captured after ``requests`` prepared it): other keys, clocks,
floats (``1e-05``, ``0.1``, ``1e+16``), nested lists, booleans, GET parameters, DELETE and PUT bodies. The
tests read only the committed JSON: they run offline.

Every case must come out of :func:`croupier_cli.rabbitx.prepare` (and :func:`onboarding_request`) byte for
byte, and :func:`croupier.signing.rabbitx.verify` must accept each request at its clock and refuse it once
expired, with another secret, with any byte of its signed parts changed, and with a request line that
disagrees with the ``method``/``path`` its body carries.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from croupier.clients.http import HttpResponse
from croupier.signing import Failure, RawRequest, Verdict, rabbitx
from croupier_cli.rabbitx import SIGNATURE_LIFETIME_SECONDS, RabbitXClient, onboarding_request, prepare

DATA = Path(__file__).parents[1] / "data"
SHARED: dict[str, Any] = json.loads((DATA / "rabbitx-reference-vectors.json").read_text(encoding="utf-8"))
HELDOUT: dict[str, Any] = json.loads((DATA / "rabbitx-heldout-vectors.json").read_text(encoding="utf-8"))
ONBOARDING_MESSAGE: str = SHARED["onboarding_message"]


def _cases(kind: str) -> list[Any]:
    found = [pytest.param(case, id=f"shared-{case['name']}") for case in SHARED[kind]]
    found += [pytest.param(case, id=f"heldout-{case['name']}") for case in HELDOUT[kind]]
    return found


REQUESTS = _cases("requests")
BODY_REQUESTS = [param for param in REQUESTS if param.values[0]["sent"]["body"]]
ONBOARDING = _cases("onboarding")


def test_the_vector_files_hold_what_they_claim() -> None:
    assert (len(SHARED["requests"]), len(SHARED["onboarding"])) == (36, 4)
    assert len(HELDOUT["requests"]) >= 40
    assert len(HELDOUT["onboarding"]) >= 4
    assert HELDOUT["onboarding_message"] == ONBOARDING_MESSAGE
    assert SHARED["signature_lifetime_seconds"] == HELDOUT["signature_lifetime_seconds"] == SIGNATURE_LIFETIME_SECONDS
    assert "tools/rabbitx_vectors.py" in HELDOUT["source"]


def rbt(headers: Mapping[str, str]) -> dict[str, str]:
    return {name: value for name, value in headers.items() if name.upper().startswith("RBT-")}


def prepared(case: dict[str, Any], data: Any) -> tuple[str, str, bytes, dict[str, str]]:
    call = case["call"]
    return prepare(
        call["method"],
        call["path"],
        params=call["params"],
        data=data,
        api_key=case["api_key"],
        api_secret=case["api_secret"],
        now=case["now"],
    )


def sent(case: dict[str, Any]) -> tuple[str, str, bytes, dict[str, str]]:
    reference = case["sent"]
    return reference["method"], reference["path_with_query"], reference["body"].encode("utf-8"), reference["headers"]


# --- prepare: what the client puts on the wire -----------------------------------------------------


@pytest.mark.parametrize("case", REQUESTS)
def test_prepare_sends_exactly_what_the_reference_sends_for_the_same_call(case: dict[str, Any]) -> None:
    method, target, body, headers = prepared(case, case["call"]["data"])
    assert (method, target, body, rbt(headers)) == sent(case)


@pytest.mark.parametrize("case", REQUESTS)
def test_prepare_given_the_references_own_signed_dict_sends_the_same(case: dict[str, Any]) -> None:
    """The dict the reference signs holds ``method`` and ``path`` where its endpoint put them: kept there."""
    method, target, body, headers = prepared(case, case["signed_data"])
    assert (method, target, body, rbt(headers)) == sent(case)


@pytest.mark.parametrize("case", BODY_REQUESTS)
def test_a_body_is_the_signed_dict_and_a_json_header_says_so(case: dict[str, Any]) -> None:
    _, _, body, headers = prepared(case, case["call"]["data"])
    assert json.loads(body) == case["signed_data"]
    assert headers["Content-Type"] == "application/json"


class Recording:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, dict[str, str], bytes]] = []

    def send(self, method: str, url: str, headers: Mapping[str, str], body: bytes, timeout: float) -> HttpResponse:
        self.sent.append((method, url, dict(headers), body))
        return HttpResponse(200, body=b'{"success": true, "result": []}')


@pytest.mark.parametrize("case", REQUESTS)
def test_the_client_sends_what_prepare_builds(case: dict[str, Any]) -> None:
    transport = Recording()
    client = RabbitXClient(
        "https://api.rabbitx.example",
        case["api_key"],
        case["api_secret"],
        transport=transport,
        clock=lambda: case["now"],
    )
    call = case["call"]
    client.request(call["method"], call["path"], params=call["params"], data=call["data"])

    [(method, url, headers, body)] = transport.sent
    expected_method, target, expected_body, expected_headers = sent(case)
    assert (method, url, body, rbt(headers)) == (
        expected_method,
        "https://api.rabbitx.example" + target,
        expected_body,
        expected_headers,
    )


# --- the verifier ----------------------------------------------------------------------------------


def received(case: dict[str, Any], **change: Any) -> RawRequest:
    method, target, body, headers = sent(case)
    parts = {"method": method, "target": target, "body": body, "headers": dict(headers), **change}
    return RawRequest.of(parts["method"], parts["target"], parts["headers"], parts["body"])


def verdict(
    case: dict[str, Any], request: RawRequest, *, now: float | None = None, secret: str | None = None
) -> Verdict:
    key, right = case["api_key"], secret or case["api_secret"]
    at = case["now"] if now is None else now
    return rabbitx.verify(request, lambda claimed: [right] if claimed == key else [], clock=lambda: at)


@pytest.mark.parametrize("case", REQUESTS)
def test_the_verifier_accepts_the_reference_request_until_it_expires(case: dict[str, Any]) -> None:
    expires = int(case["sent"]["headers"]["RBT-TS"])
    assert verdict(case, received(case)) == Verdict.valid(key_id=case["api_key"])
    assert verdict(case, received(case), now=expires - 1).ok
    for late in (expires, expires + 1):
        assert verdict(case, received(case), now=late).reason is Failure.EXPIRED


@pytest.mark.parametrize("case", REQUESTS)
def test_the_verifier_refuses_another_secret(case: dict[str, Any]) -> None:
    other = "0x" + bytes(b ^ 1 for b in bytes.fromhex(case["api_secret"].removeprefix("0x"))).hex()
    assert verdict(case, received(case), secret=other).reason is Failure.BAD_SIGNATURE


def _flip(text: str, index: int) -> str:
    return text[:index] + chr(ord(text[index]) ^ 1) + text[index + 1 :]


@pytest.mark.parametrize("case", REQUESTS)
def test_the_verifier_refuses_any_changed_byte_of_what_is_signed(case: dict[str, Any]) -> None:
    """Body, method, path and the RBT headers; the query string is not signed (RabbitX's scheme, see below)."""
    method, target, body, headers = sent(case)
    path = target.split("?", 1)[0]
    query = target[len(path) :]
    changes: list[dict[str, Any]] = [{"method": other} for other in ("GET", "POST", "PUT", "DELETE") if other != method]
    changes += [{"target": _flip(path, i) + query} for i in range(1, len(path))]
    changes += [{"body": body[:i] + bytes([body[i] ^ 1]) + body[i + 1 :]} for i in range(len(body))]
    for name in ("RBT-TS", "RBT-SIGNATURE", "RBT-API-KEY"):
        value = headers[name]
        start = 2 if name == "RBT-SIGNATURE" else 0
        changes += [{"headers": {**headers, name: _flip(value, i)}} for i in range(start, len(value))]
    for change in changes:
        found = verdict(case, received(case, **change))
        assert not found.ok, change


@pytest.mark.parametrize("case", BODY_REQUESTS)
def test_the_verifier_refuses_a_body_whose_method_or_path_disagree_with_the_request_line(case: dict[str, Any]) -> None:
    """The body carries the signed ``method`` and ``path``: replayed under another request line, it is refused,
    even when the signature is right for the body."""
    _, target, _, _ = sent(case)
    path, mark, query = target.partition("?")
    for change in ({"method": "PATCH"}, {"target": path + "/x" + mark + query}):
        found = verdict(case, received(case, **change))
        assert found.reason is Failure.MALFORMED, change
        assert "request line" in found.detail


def test_the_query_string_is_not_signed_as_in_rabbitxs_own_scheme() -> None:
    """RabbitX's client signs a GET's method and path only and sends its parameters unsigned. A verifier that
    must accept its requests cannot protect the query: this test keeps that limit visible."""
    [case] = [c for c in SHARED["requests"] if c["name"] == "orders.list[0]"]
    _, target, _, _ = sent(case)
    assert "p_page=2" in target
    assert verdict(case, received(case, target=target.replace("p_page=2", "p_page=3"))).ok


# --- onboarding with a wallet key ------------------------------------------------------------------


@pytest.mark.parametrize("case", ONBOARDING)
def test_onboarding_request_reproduces_the_reference_exactly(case: dict[str, Any]) -> None:
    path, body, headers = onboarding_request(case["private_key"], now=case["now"])
    assert (case["sent"]["method"], path, body, rbt(headers)) == (
        "POST",
        case["sent"]["path_with_query"],
        case["sent"]["body"].encode("utf-8"),
        case["sent"]["headers"],
    )
    assert headers["Content-Type"] == "application/json"


@pytest.mark.parametrize("case", ONBOARDING)
def test_the_onboarding_signature_recovers_the_wallet_as_metamask_verify_does(case: dict[str, Any]) -> None:
    from eth_account import Account
    from eth_account.messages import encode_defunct

    _, body, headers = onboarding_request(case["private_key"], now=case["now"])
    sent_body = json.loads(body)
    signature = bytearray(bytes.fromhex(sent_body["signature"].removeprefix("0x")))
    assert signature[-1] in (0, 1)  # the reference's `% 27`
    signature[-1] += 27
    message = encode_defunct(text=f"{ONBOARDING_MESSAGE}\n{headers['RBT-TS']}")
    recovered = Account.recover_message(message, signature=bytes(signature))
    assert recovered == sent_body["wallet"] == Account.from_key(case["private_key"]).address
    assert sent_body["isClient"] is False


def test_onboarding_refuses_a_key_that_is_not_a_private_key() -> None:
    for bad in ("", "0x12", "not hex at all", "0x" + "00" * 32):
        with pytest.raises(ValueError, match="private key") as caught:
            onboarding_request(bad, now=1_800_000_000)
        assert bad not in str(caught.value) or not bad


@pytest.mark.parametrize("case", ONBOARDING)
def test_the_fakes_onboarding_check_accepts_the_reference_and_refuses_any_change(case: dict[str, Any]) -> None:
    """tests/fakes/rabbitx_server.py checks onboarding as the reference's metamask_verify: it can say no."""
    from tests.fakes.rabbitx_server import verify_onboarding

    reference = case["sent"]
    expires = int(reference["headers"]["RBT-TS"])

    def check(headers: Mapping[str, str], body: str, now: float) -> Verdict:
        return verify_onboarding(RawRequest.of("POST", "/onboarding", headers, body), clock=lambda: now)

    assert check(reference["headers"], reference["body"], case["now"]).ok
    assert check(reference["headers"], reference["body"], expires).reason is Failure.EXPIRED
    earlier = {"RBT-TS": str(expires - 1)}
    assert check(earlier, reference["body"], case["now"]).reason is Failure.BAD_SIGNATURE
    wallet = json.loads(reference["body"])["wallet"]
    other_wallet = reference["body"].replace(wallet, "0x" + "ab" * 20)
    assert check(reference["headers"], other_wallet, case["now"]).reason is Failure.BAD_SIGNATURE


scalars = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(-(10**20), 10**20),
    st.booleans(),
    st.text(max_size=12),
    st.none(),
)
bodies = st.dictionaries(
    st.text(min_size=1, max_size=8).filter(lambda name: name not in ("method", "path")),
    st.one_of(scalars, st.lists(st.one_of(scalars, st.lists(scalars, max_size=3)), max_size=4)),
    max_size=6,
)


@settings(max_examples=300, deadline=None)
@given(bodies, st.sampled_from(["POST", "PUT", "DELETE"]), st.integers(1_700_000_000, 1_900_000_000))
def test_whatever_prepare_sends_the_verifier_accepts_and_reads_back(
    data: dict[str, Any], method: str, now: int
) -> None:
    """Any floats (str() of each, shortest or exponent), nested lists, booleans, text, None: what prepare signs
    is what the verifier reads back from the bytes sent."""
    secret = "0x" + "5c" * 32
    verb, target, body, headers = prepare(method, "/orders", data=data, api_key="k", api_secret=secret, now=now)
    assert json.loads(body) == {**data, "method": method, "path": "/orders"}
    found = rabbitx.verify(RawRequest.of(verb, target, headers, body), lambda key: [secret], clock=lambda: now)
    assert found.ok, found
