"""SportsbookClient against a fake sportsbook operator on a real socket: auth, token reuse, start-session."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from croupier.clients.sportsbook import (
    MAX_EXPIRES_IN_SECONDS,
    Reason,
    SportsbookApiError,
    SportsbookClient,
    parse_expires_in,
)
from croupier.errors import BadRequest, UpstreamError
from tests.fakes.sportsbook_server import PASSWORD, USERNAME, VERSION, FakeSportsbookServer


class FakeClock:
    """Unix time that moves only when told to."""

    def __init__(self, now: float = 1_780_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def book(clock: FakeClock) -> Iterator[FakeSportsbookServer]:
    with FakeSportsbookServer(clock=clock) as server:
        yield server


def make_client(server: FakeSportsbookServer, clock: FakeClock | None = None, **kwargs: Any) -> SportsbookClient:
    options: dict[str, Any] = {"timeout": 5.0, **kwargs}
    if clock is not None:
        options["clock"] = clock
    return SportsbookClient(server.url, VERSION, USERNAME, PASSWORD, **options)


@pytest.fixture
def client(book: FakeSportsbookServer, clock: FakeClock) -> SportsbookClient:
    return make_client(book, clock)


def the_error(call: Any) -> SportsbookApiError:
    with pytest.raises(SportsbookApiError) as caught:
        call()
    return caught.value


# --- the happy path --------------------------------------------------------------------------------


def test_start_session_authenticates_then_sends_the_bearer_and_returns_the_url(
    book: FakeSportsbookServer, client: SportsbookClient
) -> None:
    url = client.start_session("player-7", "KRW", "ko")

    assert url == "https://sportsbook.example/play?session=s-1&user=player-7&currency=KRW&lang=ko"
    auth, start = book.requests
    assert (auth.method, auth.path) == ("POST", "/v1/auth")
    assert auth.json() == {"username": USERNAME, "password": PASSWORD}
    assert auth.headers["Content-Type"] == "application/json"
    assert "Authorization" not in auth.headers
    assert (start.method, start.path) == ("POST", "/v1/start-session")
    assert start.body == b'{"user_id":"player-7","currency":"KRW","lang":"ko"}'
    assert book.bearer_tokens() == [next(iter(book.tokens))]


def test_lang_is_left_out_when_not_given(book: FakeSportsbookServer, client: SportsbookClient) -> None:
    client.start_session("p1", "EUR")

    assert book.requests_to("/v1/start-session")[0].body == b'{"user_id":"p1","currency":"EUR"}'


def test_a_base_path_and_a_slashed_version_are_joined_cleanly() -> None:
    with FakeSportsbookServer(version="api/v2") as server:
        client = SportsbookClient(server.url + "/", "/api/v2/", USERNAME, PASSWORD, timeout=5)

        assert client.start_session("p1", "USD").startswith("https://sportsbook.example/play?")
        assert [r.path for r in server.requests] == ["/api/v2/auth", "/api/v2/start-session"]


# --- the token -------------------------------------------------------------------------------------


def test_the_token_is_reused_across_calls(book: FakeSportsbookServer, client: SportsbookClient) -> None:
    urls = [client.start_session(f"p{i}", "KRW") for i in range(4)]

    assert len(set(urls)) == 4
    assert book.auth_calls == 1
    assert book.session_calls == 4
    assert len(set(book.bearer_tokens())) == 1


def test_the_token_is_refreshed_shortly_before_it_expires(
    book: FakeSportsbookServer, client: SportsbookClient, clock: FakeClock
) -> None:
    client.start_session("p1", "KRW")  # expires_in "3600", refresh_margin 60
    clock.advance(3539)
    client.start_session("p1", "KRW")
    assert book.auth_calls == 1

    clock.advance(1)  # 60 s before expiry: a new token, before the sportsbook would refuse the old one
    client.start_session("p1", "KRW")

    assert book.auth_calls == 2
    first, second, third = book.bearer_tokens()
    assert first == second != third
    assert book.session_calls == 3  # no 401 was needed


def test_a_token_shorter_lived_than_the_margin_is_still_kept_for_half_its_life(clock: FakeClock) -> None:
    with FakeSportsbookServer(expires_in="30", clock=clock) as server:
        client = make_client(server, clock, refresh_margin=60)
        client.start_session("p1", "KRW")
        clock.advance(14)
        client.start_session("p1", "KRW")
        assert server.auth_calls == 1

        clock.advance(1)
        client.start_session("p1", "KRW")
        assert server.auth_calls == 2


@pytest.mark.parametrize("expires_in", ["3600", 3600, " 3600 "])
def test_expires_in_is_read_from_a_string_or_an_integer(clock: FakeClock, expires_in: object) -> None:
    with FakeSportsbookServer(expires_in=expires_in, clock=clock) as server:
        client = make_client(server, clock, refresh_margin=0)
        client.start_session("p1", "KRW")
        clock.advance(3599)
        client.start_session("p1", "KRW")
        assert server.auth_calls == 1
        clock.advance(1)
        client.start_session("p1", "KRW")
        assert server.auth_calls == 2


@pytest.mark.parametrize(
    "expires_in",
    [
        "",
        "abc",
        "-5",
        "0",
        "1.5",
        "1e3",
        "0x10",
        "\uff13\uff16\uff10\uff10",
        0,
        -1,
        True,
        None,
        [3600],
        {"s": 1},
        "99999999999",
    ],
)
def test_a_nonsense_expires_in_is_a_bad_answer_and_no_session_is_started(expires_in: object) -> None:
    with FakeSportsbookServer(expires_in=expires_in) as server:
        error = the_error(lambda: make_client(server).start_session("p1", "KRW"))

        assert error.reason is Reason.BAD_ANSWER
        assert "expires_in" in str(error)
        assert server.session_calls == 0


@pytest.mark.parametrize("raw", [b"3600.5", b"3600.0", b"3.6e3"])
def test_a_json_number_with_a_fraction_or_exponent_for_expires_in_is_refused(
    book: FakeSportsbookServer, raw: bytes
) -> None:
    book.fail_next(200, b'{"token":"tok-abc","expires_in":' + raw + b"}")

    assert the_error(lambda: make_client(book).start_session("p1", "KRW")).reason is Reason.BAD_ANSWER
    assert book.session_calls == 0


@given(st.integers(min_value=1, max_value=MAX_EXPIRES_IN_SECONDS))
def test_parse_expires_in_reads_every_valid_lifetime_both_ways(seconds: int) -> None:
    assert parse_expires_in(seconds) == seconds
    assert parse_expires_in(str(seconds)) == seconds
    assert parse_expires_in(str(-seconds)) is None
    assert parse_expires_in(f"{seconds}.0") is None


def test_invalidate_forces_a_new_token(book: FakeSportsbookServer, client: SportsbookClient) -> None:
    client.start_session("p1", "KRW")
    client.invalidate()
    client.start_session("p1", "KRW")

    assert book.auth_calls == 2


# --- 401 on start-session --------------------------------------------------------------------------


def test_a_revoked_token_is_replaced_once_and_the_call_succeeds(
    book: FakeSportsbookServer, client: SportsbookClient
) -> None:
    client.start_session("p1", "KRW")
    book.revoke_tokens()

    url = client.start_session("p2", "KRW")

    assert "user=p2" in url
    assert book.auth_calls == 2
    _, refused, retried = book.bearer_tokens()
    assert refused != retried
    assert [s["user_id"] for s in book.sessions] == ["p1", "p2"]
    client.start_session("p3", "KRW")  # and the new token is the one kept
    assert book.auth_calls == 2


def test_a_second_401_is_an_error_and_nothing_more_is_tried(
    book: FakeSportsbookServer, client: SportsbookClient
) -> None:
    book.refuse_sessions(2)

    error = the_error(lambda: client.start_session("p1", "KRW"))

    assert error.reason is Reason.UNAUTHORIZED
    assert error.upstream_status == 401
    assert error.status == 502
    assert isinstance(error, UpstreamError)
    assert (book.auth_calls, book.session_calls) == (2, 2)
    assert book.sessions == []

    client.start_session("p1", "KRW")  # the refused token is not kept
    assert (book.auth_calls, book.session_calls) == (3, 3)


def test_concurrent_callers_refused_with_the_same_token_share_one_new_token(
    book: FakeSportsbookServer, client: SportsbookClient
) -> None:
    client.start_session("warm", "KRW")
    book.revoke_tokens()

    results = run_concurrently(lambda i: client.start_session(f"p{i}", "KRW"), 6)

    assert all(isinstance(r, str) for r in results), results
    assert book.auth_calls == 2
    assert len(book.sessions) == 7


# --- concurrency -----------------------------------------------------------------------------------


def run_concurrently(call: Any, count: int) -> list[object]:
    barrier = threading.Barrier(count)
    results: list[object] = [None] * count

    def worker(index: int) -> None:
        barrier.wait()
        try:
            results[index] = call(index)
        except Exception as error:  # reported to the test, not lost in the thread
            results[index] = error

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    return results


def test_concurrent_first_callers_trigger_a_single_auth(book: FakeSportsbookServer, client: SportsbookClient) -> None:
    book.slow_down(0.3, requests=1)  # the auth is slow: every other caller arrives while it is running

    results = run_concurrently(lambda i: client.start_session(f"p{i}", "KRW"), 8)

    assert all(isinstance(r, str) for r in results), results
    assert book.auth_calls == 1
    assert book.session_calls == 8
    assert len(set(book.bearer_tokens())) == 1


# --- provider failures -----------------------------------------------------------------------------


def test_a_5xx_on_start_session_is_an_error_with_the_status_and_is_not_retried(
    book: FakeSportsbookServer, client: SportsbookClient
) -> None:
    client.start_session("p1", "KRW")
    book.fail_next(503, {"error": "MAINTENANCE", "message": "back soon"})

    error = the_error(lambda: client.start_session("p2", "KRW"))

    assert error.reason is Reason.PROVIDER_STATUS
    assert (error.upstream_status, error.upstream_code) == (503, "MAINTENANCE")
    assert str(error) == "sportsbook start-session answered HTTP 503 MAINTENANCE: back soon"
    assert book.session_calls == 2


def test_a_5xx_on_auth_is_an_error_and_no_session_is_started(book: FakeSportsbookServer) -> None:
    book.fail_next(500, b"<html>oops</html>")

    error = the_error(lambda: make_client(book).start_session("p1", "KRW"))

    assert error.reason is Reason.PROVIDER_STATUS
    assert str(error) == "sportsbook auth answered HTTP 500"
    assert book.session_calls == 0


def test_refused_credentials_are_reported_without_the_password() -> None:
    with FakeSportsbookServer(password="the-real-password") as server:
        client = SportsbookClient(server.url, VERSION, USERNAME, PASSWORD, timeout=5)

        error = the_error(lambda: client.start_session("p1", "KRW"))

        assert error.reason is Reason.AUTH_REFUSED
        assert error.upstream_status == 401
        assert "refused our client credentials" in str(error)
        assert PASSWORD not in str(error)
        assert PASSWORD not in repr(error)
        assert server.session_calls == 0


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(b"<html>ok</html>", id="not JSON"),
        pytest.param(b"\xff\xfe", id="not UTF-8"),
        pytest.param(b"", id="empty"),
        pytest.param(["https://x.example"], id="a list"),
        pytest.param({}, id="no url"),
        pytest.param({"url": None}, id="null url"),
        pytest.param({"url": 42}, id="number url"),
        pytest.param({"url": ""}, id="empty url"),
        pytest.param({"url": "/play?session=1"}, id="relative url"),
        pytest.param({"url": "javascript:alert(1)"}, id="javascript url"),
        pytest.param({"url": "ftp://files.example/play"}, id="ftp url"),
        pytest.param({"url": "https://x.example/play\n"}, id="newline in url"),
        pytest.param({"url": "https://x.example/a b"}, id="space in url"),
        pytest.param({"url": "https://"}, id="no host"),
    ],
)
def test_a_malformed_start_session_answer_is_a_bad_answer(
    book: FakeSportsbookServer, client: SportsbookClient, answer: object
) -> None:
    client.start_session("warm", "KRW")
    book.fail_next(200, answer)

    error = the_error(lambda: client.start_session("p1", "KRW"))

    assert error.reason is Reason.BAD_ANSWER
    assert "start-session" in str(error)


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(b"not json", id="not JSON"),
        pytest.param({"expires_in": "3600"}, id="no token"),
        pytest.param({"token": "", "expires_in": "3600"}, id="empty token"),
        pytest.param({"token": 12345, "expires_in": "3600"}, id="number token"),
        pytest.param({"token": "abc def", "expires_in": "3600"}, id="space in token"),
        pytest.param({"token": "abc\r\nX-Injected: 1", "expires_in": "3600"}, id="header injection"),
    ],
)
def test_a_malformed_auth_answer_is_a_bad_answer(book: FakeSportsbookServer, answer: object) -> None:
    book.fail_next(200, answer)

    error = the_error(lambda: make_client(book).start_session("p1", "KRW"))

    assert error.reason is Reason.BAD_ANSWER
    assert "auth" in str(error)
    assert book.session_calls == 0


def test_a_slow_sportsbook_is_a_timeout_error(book: FakeSportsbookServer) -> None:
    book.slow_down(2.0)
    client = make_client(book, timeout=0.2)

    started = time.monotonic()
    error = the_error(lambda: client.start_session("p1", "KRW"))

    assert time.monotonic() - started < 1.5
    assert error.reason is Reason.TIMEOUT
    assert error.timed_out
    assert "timed out" in str(error)


def test_the_timeout_bounds_the_whole_call_not_each_request(book: FakeSportsbookServer) -> None:
    book.slow_down(0.25)  # auth and start-session each take 0.25 s: together more than the 0.4 s budget
    client = make_client(book, timeout=0.4)

    started = time.monotonic()
    error = the_error(lambda: client.start_session("p1", "KRW"))

    assert time.monotonic() - started < 0.9
    assert error.reason is Reason.TIMEOUT
    assert "start-session" in str(error)
    assert book.auth_calls == 1


def test_an_unreachable_sportsbook_is_an_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = SportsbookClient(f"http://127.0.0.1:{port}", VERSION, USERNAME, PASSWORD, timeout=2)

    error = the_error(lambda: client.start_session("p1", "KRW"))

    assert error.reason is Reason.UNREACHABLE
    assert "could not be reached" in str(error)


# --- secrets ---------------------------------------------------------------------------------------


def test_an_echoed_password_or_token_never_reaches_an_error_message(
    book: FakeSportsbookServer, client: SportsbookClient
) -> None:
    client.start_session("p1", "KRW")
    [token] = book.tokens
    book.fail_next(500, {"error": f"E-{PASSWORD}", "message": f"password {PASSWORD} token {token}"})

    error = the_error(lambda: client.start_session("p2", "KRW"))

    for shown in (str(error), repr(error), error.message, error.upstream_code or "", repr(error.args)):
        assert PASSWORD not in shown
        assert token not in shown
    assert "<redacted>" in str(error)


def test_repr_shows_neither_the_password_nor_the_token(book: FakeSportsbookServer, client: SportsbookClient) -> None:
    client.start_session("p1", "KRW")
    [token] = book.tokens

    for shown in (repr(client), str(client), repr(vars(client).get("_token"))):
        assert PASSWORD not in shown
        assert token not in shown
    assert USERNAME in repr(client)


# --- inputs ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("user_id", "currency", "lang", "complaint"),
    [
        ("", "KRW", None, "user_id"),
        ("u" * 65, "KRW", None, "user_id"),
        (" p1", "KRW", None, "user_id"),
        ("p\n1", "KRW", None, "user_id"),
        (7, "KRW", None, "user_id"),
        ("p1", "krw", None, "currency"),
        ("p1", "KRWX", None, "currency"),
        ("p1", "KRW\n", None, "currency"),
        ("p1", "", None, "currency"),
        ("p1", "KRW", "EN", "lang"),
        ("p1", "KRW", "en-gb", "lang"),
        ("p1", "KRW", "eng", "lang"),
        ("p1", "KRW", "en\n", "lang"),
        ("p1", "KRW", "", "lang"),
    ],
)
def test_invalid_inputs_are_refused_before_anything_is_sent(
    book: FakeSportsbookServer, client: SportsbookClient, user_id: Any, currency: Any, lang: Any, complaint: str
) -> None:
    with pytest.raises(BadRequest, match=complaint):
        client.start_session(user_id, currency, lang)

    assert book.requests == []


def test_valid_edge_inputs_are_accepted(book: FakeSportsbookServer, client: SportsbookClient) -> None:
    client.start_session("u" * 64, "KRW", "en-GB")

    assert json.loads(book.requests_to("/v1/start-session")[0].body)["lang"] == "en-GB"


@pytest.mark.parametrize(
    ("api_url", "api_version", "username", "password"),
    [
        ("http://sportsbook.example", "v1", "u", "p"),
        ("ftp://127.0.0.1", "v1", "u", "p"),
        ("127.0.0.1:3901", "v1", "u", "p"),
        ("https://sportsbook.example?x=1", "v1", "u", "p"),
        ("https://sportsbook.example", "", "u", "p"),
        ("https://sportsbook.example", "v1?x", "u", "p"),
        ("https://sportsbook.example", "v1", "", "p"),
        ("https://sportsbook.example", "v1", "u", ""),
    ],
)
def test_construction_refuses_unusable_settings(api_url: str, api_version: str, username: str, password: str) -> None:
    with pytest.raises(ValueError, match=r"api_url|api_version|username|HTTPS"):
        SportsbookClient(api_url, api_version, username, password)


def test_plain_http_is_allowed_on_loopback_or_when_asked() -> None:
    assert SportsbookClient("http://127.0.0.1:3901/", "v1", "u", "p").api_url == "http://127.0.0.1:3901"
    insecure = SportsbookClient("http://sportsbook-fake:80", "v1", "u", "p", allow_insecure=True)
    assert insecure.api_url == "http://sportsbook-fake:80"
