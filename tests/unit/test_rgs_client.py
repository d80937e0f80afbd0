"""RgsClient against a fake external RGS that verifies every RGS v1 signature on its side."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import pytest

from croupier.clients.http import HttpResponse, UrllibTransport
from croupier.clients.rgs import Reason, RgsApiError, RgsClient, RgsLaunch, iso_z
from croupier.errors import BadRequest, UpstreamError
from croupier.signing import Failure, RawRequest, rgs
from tests.fakes.rgs_server import API_KEY, HMAC_SECRET, OPERATOR_ID, FakeRgsServer

NOW = 1_780_000_000


@pytest.fixture
def server() -> Iterator[FakeRgsServer]:
    with FakeRgsServer(clock=lambda: NOW) as fake:
        yield fake


def make_client(server: FakeRgsServer, **kwargs: Any) -> RgsClient:
    options: dict[str, Any] = {"timeout": 5.0, "clock": lambda: NOW, **kwargs}
    return RgsClient(server.url, OPERATOR_ID, API_KEY, HMAC_SECRET, **options)


@pytest.fixture
def client(server: FakeRgsServer) -> RgsClient:
    return make_client(server)


def the_error(call: Callable[[], object]) -> RgsApiError:
    with pytest.raises(RgsApiError) as caught:
        call()
    return caught.value


class TamperingTransport:
    """The real transport, altering the request after it was signed (as a proxy in the middle would)."""

    def __init__(self, tamper: Callable[[str, dict[str, str], bytes], tuple[str, dict[str, str], bytes]]) -> None:
        self.inner = UrllibTransport()
        self.tamper = tamper

    def send(self, method: str, url: str, headers: Mapping[str, str], body: bytes, timeout: float) -> HttpResponse:
        url, changed, body = self.tamper(url, dict(headers), body)
        return self.inner.send(method, url, changed, body, timeout)


# --- the happy path --------------------------------------------------------------------------------


def test_launch_is_signed_verified_by_the_rgs_and_answers_the_session(server: FakeRgsServer, client: RgsClient) -> None:
    launched = client.launch("player-7", "KRW", 125_000, 3600)

    [request] = server.requests
    assert request.verified, request.verdict
    assert (request.method, request.path_with_query) == ("POST", "/api/public/rgs/launch")
    assert (
        request.body == b'{"operator_player_id":"player-7","currency":"KRW","balance_minor":125000,"ttl_seconds":3600}'
    )
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["X-Operator-Id"] == OPERATOR_ID
    assert request.headers["X-Operator-Key"] == API_KEY
    assert request.headers["X-Timestamp"] == str(NOW)
    assert "X-Operator-Hmac" not in request.headers
    assert server.operator_hmac_seen == 0
    assert HMAC_SECRET not in repr(dict(request.headers.items()))

    assert isinstance(launched, RgsLaunch)
    session = server.sessions[launched.session_id]
    assert launched.launch_url == session["launch_url"]
    assert launched.launch_url.startswith("https://rgs.example/play?session=")
    assert launched.expires_at == datetime.fromtimestamp(NOW + 3600, UTC)
    assert launched.expires_at_iso == session["expires_at"] == "2026-05-28T21:26:40Z"


def test_the_signature_covers_exactly_the_bytes_and_path_that_were_sent(
    server: FakeRgsServer, client: RgsClient
) -> None:
    client.launch("p1", "USD", 0, 60)

    [request] = server.requests
    expected = rgs.sign(HMAC_SECRET, NOW, "POST", request.path_with_query, request.body)
    assert request.headers["X-Signature"] == expected
    assert rgs.sign(HMAC_SECRET, NOW, "POST", request.path_with_query, request.body + b" ") != expected


def test_a_base_url_path_prefix_is_part_of_the_signed_path() -> None:
    with FakeRgsServer(prefix="/gateway/rgs", clock=lambda: NOW) as server:
        client = RgsClient(server.url + "/gateway/rgs/", OPERATOR_ID, API_KEY, HMAC_SECRET, clock=lambda: NOW)

        client.launch("p1", "KRW", 1, 60)

        [request] = server.requests
        assert request.path_with_query == "/gateway/rgs/api/public/rgs/launch"
        assert request.verified


def test_an_upper_case_operator_id_still_verifies(server: FakeRgsServer) -> None:
    make_client(server).launch("p1", "KRW", 1, 60)
    client = RgsClient(server.url, OPERATOR_ID.upper(), API_KEY, HMAC_SECRET, clock=lambda: NOW)

    client.launch("p1", "KRW", 1, 60)

    assert all(r.verified for r in server.requests)


# --- the signature, seen from the RGS --------------------------------------------------------------


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda url, headers, body: (url, headers, body.replace(b"125000", b"999999")), id="body"),
        pytest.param(lambda url, headers, body: (url + "?x=1", headers, body), id="query added"),
        pytest.param(lambda url, headers, body: (url, {**headers, "X-Timestamp": str(NOW + 1)}, body), id="timestamp"),
    ],
)
def test_a_request_altered_after_signing_is_refused_by_the_rgs(
    server: FakeRgsServer, tamper: Callable[[str, dict[str, str], bytes], tuple[str, dict[str, str], bytes]]
) -> None:
    client = make_client(server, transport=TamperingTransport(tamper))

    error = the_error(lambda: client.launch("p1", "KRW", 125_000, 3600))

    assert error.reason is Reason.AUTH_REFUSED
    assert error.upstream_status == 401
    assert server.requests[0].failure is Failure.BAD_SIGNATURE
    assert server.sessions == {}


@pytest.mark.parametrize(
    ("operator_id", "api_key", "secret", "clock_offset", "failure"),
    [
        (OPERATOR_ID, API_KEY, "not-the-secret", 0, Failure.BAD_SIGNATURE),
        ("11111111-2222-4333-8444-555555555555", API_KEY, HMAC_SECRET, 0, Failure.UNKNOWN_KEY),
        (OPERATOR_ID, "another-key", HMAC_SECRET, 0, Failure.UNKNOWN_KEY),
        (OPERATOR_ID, API_KEY, HMAC_SECRET, -301, Failure.STALE_TIMESTAMP),
    ],
)
def test_wrong_credentials_or_clock_are_auth_refused_without_the_secret(
    server: FakeRgsServer, operator_id: str, api_key: str, secret: str, clock_offset: int, failure: Failure
) -> None:
    client = RgsClient(server.url, operator_id, api_key, secret, clock=lambda: NOW + clock_offset, timeout=5)

    error = the_error(lambda: client.launch("p1", "KRW", 1, 60))

    assert error.reason is Reason.AUTH_REFUSED
    assert "refused our operator signature" in str(error)
    assert secret not in str(error)
    assert server.requests[0].failure is failure


def test_the_fake_refuses_a_secret_on_the_wire(server: FakeRgsServer) -> None:
    client = make_client(
        server, transport=TamperingTransport(lambda u, h, b: (u, {**h, "X-Operator-Hmac": HMAC_SECRET}, b))
    )

    assert the_error(lambda: client.launch("p1", "KRW", 1, 60)).reason is Reason.AUTH_REFUSED
    assert server.operator_hmac_seen == 1


# --- provider failures -----------------------------------------------------------------------------


def test_a_5xx_is_an_error_with_the_status_and_is_never_retried(server: FakeRgsServer, client: RgsClient) -> None:
    server.fail_next(503, {"error": "MAINTENANCE", "message": "back soon"})

    error = the_error(lambda: client.launch("p1", "KRW", 1, 60))

    assert error.reason is Reason.PROVIDER_STATUS
    assert (error.upstream_status, error.upstream_code, error.status) == (503, "MAINTENANCE", 502)
    assert str(error) == "RGS launch answered HTTP 503 MAINTENANCE: back soon"
    assert isinstance(error, UpstreamError)
    assert len(server.requests) == 1


def test_an_echoed_secret_is_redacted(server: FakeRgsServer, client: RgsClient) -> None:
    server.fail_next(400, {"error": "BAD", "message": f"your secret {HMAC_SECRET} is wrong"})

    error = the_error(lambda: client.launch("p1", "KRW", 1, 60))

    assert HMAC_SECRET not in str(error)
    assert "<redacted>" in str(error)


GOOD = {"ok": True, "session_id": "s", "launch_url": "https://r.example/p", "expires_at": "2026-01-01T00:00:00Z"}
DROP = object()


def answer_with(**changes: object) -> dict[str, object]:
    """A good launch answer with fields changed (``DROP`` removes one)."""
    answer = {**GOOD, **changes}
    return {name: value for name, value in answer.items() if value is not DROP}


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(b"<html>ok</html>", id="not JSON"),
        pytest.param(b"", id="empty"),
        pytest.param([], id="a list"),
        pytest.param(answer_with(ok=DROP), id="no ok"),
        pytest.param(answer_with(ok="true"), id="ok as a string"),
        pytest.param({"ok": False, "error": "NOPE"}, id="ok false"),
        pytest.param(answer_with(launch_url=DROP), id="no launch_url"),
        pytest.param(answer_with(launch_url="/play?s=1"), id="relative launch_url"),
        pytest.param(answer_with(launch_url="javascript:alert(1)"), id="javascript launch_url"),
        pytest.param(answer_with(launch_url="https://r.example/\n"), id="newline launch_url"),
        pytest.param(answer_with(session_id=DROP), id="no session_id"),
        pytest.param(answer_with(session_id=7), id="number session_id"),
        pytest.param(answer_with(session_id=""), id="empty session_id"),
        pytest.param(answer_with(expires_at=DROP), id="no expires_at"),
        pytest.param(answer_with(expires_at="tomorrow"), id="expires_at not a time"),
        pytest.param(answer_with(expires_at="2026-01-01T00:00:00"), id="expires_at without zone"),
        pytest.param(answer_with(expires_at=1780000000), id="expires_at a number"),
    ],
)
def test_a_malformed_answer_is_a_bad_answer(server: FakeRgsServer, client: RgsClient, answer: object) -> None:
    server.fail_next(200, answer)

    error = the_error(lambda: client.launch("p1", "KRW", 1, 60))

    assert error.reason is Reason.BAD_ANSWER
    assert str(error).startswith("RGS launch answered")


def test_an_offset_expires_at_is_normalised_to_utc(server: FakeRgsServer, client: RgsClient) -> None:
    server.fail_next(
        200,
        {
            "ok": True,
            "session_id": "s-1",
            "launch_url": "https://r.example/p",
            "expires_at": "2026-01-01T09:00:00+09:00",
        },
    )

    launched = client.launch("p1", "KRW", 1, 60)

    assert launched.expires_at == datetime(2026, 1, 1, tzinfo=UTC)
    assert launched.expires_at_iso == "2026-01-01T00:00:00Z"


def test_iso_z_keeps_fractions_only_when_there_are_some() -> None:
    assert iso_z(datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)) == "2026-01-01T12:00:00Z"
    assert iso_z(datetime(2026, 1, 1, 12, 0, 0, 500, tzinfo=UTC)) == "2026-01-01T12:00:00.000500Z"


def test_a_slow_rgs_is_a_timeout_and_the_launch_is_not_retried(server: FakeRgsServer) -> None:
    server.slow_down(2.0)
    client = make_client(server, timeout=0.2)

    started = time.monotonic()
    error = the_error(lambda: client.launch("p1", "KRW", 1, 60))

    assert time.monotonic() - started < 1.5
    assert error.reason is Reason.TIMEOUT
    assert error.timed_out
    assert "may have been created" in str(error)
    assert len(server.requests) == 1


def test_an_unreachable_rgs_is_an_error_tried_once() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sent: list[str] = []

    def record(url: str, headers: dict[str, str], body: bytes) -> tuple[str, dict[str, str], bytes]:
        sent.append(url)
        return url, headers, body

    client = RgsClient(
        f"http://127.0.0.1:{port}", OPERATOR_ID, API_KEY, HMAC_SECRET, transport=TamperingTransport(record)
    )

    error = the_error(lambda: client.launch("p1", "KRW", 1, 60))

    assert error.reason is Reason.UNREACHABLE
    assert len(sent) == 1


# --- inputs and construction -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("player", "currency", "balance", "ttl", "complaint"),
    [
        ("", "KRW", 1, 60, "operator_player_id"),
        ("p" * 65, "KRW", 1, 60, "operator_player_id"),
        ("p\n", "KRW", 1, 60, "operator_player_id"),
        ("p1", "krw", 1, 60, "currency"),
        ("p1", "KRW\n", 1, 60, "currency"),
        ("p1", "KRW", -1, 60, "balance_minor"),
        ("p1", "KRW", 1.5, 60, "balance_minor"),
        ("p1", "KRW", True, 60, "balance_minor"),
        ("p1", "KRW", "100", 60, "balance_minor"),
        ("p1", "KRW", 1, 59, "ttl_seconds"),
        ("p1", "KRW", 1, 86_401, "ttl_seconds"),
        ("p1", "KRW", 1, 60.0, "ttl_seconds"),
    ],
)
def test_invalid_inputs_are_refused_before_anything_is_sent(
    server: FakeRgsServer, client: RgsClient, player: Any, currency: Any, balance: Any, ttl: Any, complaint: str
) -> None:
    with pytest.raises(BadRequest, match=complaint):
        client.launch(player, currency, balance, ttl)

    assert server.requests == []


@pytest.mark.parametrize("lang", ["fr", "EN", "", "ko-KR"])
def test_a_language_the_game_page_does_not_speak_is_refused_before_anything_is_sent(
    server: FakeRgsServer, client: RgsClient, lang: str
) -> None:
    with pytest.raises(BadRequest, match="lang"):
        client.launch("p1", "KRW", 1, 60, lang=lang)

    assert server.requests == []


def test_lang_is_sent_only_when_given(server: FakeRgsServer, client: RgsClient) -> None:
    client.launch("p1", "KRW", 1, 60)
    client.launch("p1", "KRW", 1, 60, lang="ko")

    assert [request.json().get("lang") for request in server.requests] == [None, "ko"]
    assert b"lang" not in server.requests[0].body


@pytest.mark.parametrize(
    ("base_url", "operator_id", "api_key", "secret"),
    [
        ("http://rgs.example", OPERATOR_ID, API_KEY, HMAC_SECRET),
        ("rgs.example", OPERATOR_ID, API_KEY, HMAC_SECRET),
        ("https://rgs.example/?a=1", OPERATOR_ID, API_KEY, HMAC_SECRET),
        ("https://rgs.example", "not-a-uuid", API_KEY, HMAC_SECRET),
        ("https://rgs.example", OPERATOR_ID, "has space", HMAC_SECRET),
        ("https://rgs.example", OPERATOR_ID, "", HMAC_SECRET),
        ("https://rgs.example", OPERATOR_ID, API_KEY, ""),
    ],
)
def test_construction_refuses_unusable_settings(base_url: str, operator_id: str, api_key: str, secret: str) -> None:
    with pytest.raises(ValueError, match=r"base_url|operator_id|api_key|hmac_secret|HTTPS"):
        RgsClient(base_url, operator_id, api_key, secret)


def test_repr_never_shows_the_secret() -> None:
    client = RgsClient("https://rgs.example", OPERATOR_ID, API_KEY, HMAC_SECRET)

    assert HMAC_SECRET not in repr(client)
    assert OPERATOR_ID in repr(client)


def test_the_verifier_the_fake_uses_agrees_with_the_client_offline() -> None:
    """No socket: the headers the client sends verify with croupier.signing.rgs.verify as they are."""
    received: list[RawRequest] = []

    class Verifying:
        def send(self, method: str, url: str, headers: Mapping[str, str], body: bytes, timeout: float) -> HttpResponse:
            request = RawRequest.of(method, urlsplit(url).path, headers, body)
            verdict = rgs.verify(request, lambda o, k: [HMAC_SECRET], clock=lambda: NOW)
            assert verdict.ok, verdict.detail
            received.append(request)
            answer = (
                b'{"ok":true,"session_id":"s","launch_url":"https://r.example/p","expires_at":"2026-01-01T00:00:00Z"}'
            )
            return HttpResponse(200, body=answer)

    RgsClient(
        "https://rgs.example", OPERATOR_ID, API_KEY, HMAC_SECRET, transport=Verifying(), clock=lambda: NOW
    ).launch("p1", "KRW", 1, 60)

    assert len(received) == 1
