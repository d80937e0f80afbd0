"""RubyTeamClient against a fake Ruby that verifies every signature on its side, over a real socket."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from croupier.clients.http import HttpResponse, TransportError, UrllibTransport
from croupier.errors import BadRequest, UpstreamError
from croupier.signing import Failure, RawRequest, ruby_team
from croupier_cli.ruby_team import (
    Bet,
    BrandCreated,
    Page,
    RubyApiError,
    RubyTeamClient,
    SportsBet,
    build_query,
    decimal_string,
)
from tests.fakes.ruby_server import TEAM_KEY, TEAM_SECRET, FakeRubyServer

CALLBACK = "https://api.croupier.example/ruby"


class CountingTransport:
    """The real transport, counting attempts and optionally altering a request after it was signed."""

    def __init__(self, tamper: Callable[[str, bytes], tuple[str, bytes]] | None = None) -> None:
        self.inner = UrllibTransport()
        self.tamper = tamper
        self.sent: list[tuple[str, str, dict[str, str], bytes]] = []

    def send(self, method: str, url: str, headers: Mapping[str, str], body: bytes, timeout: float) -> HttpResponse:
        if self.tamper is not None:
            url, body = self.tamper(url, body)
        self.sent.append((method, url, dict(headers), body))
        return self.inner.send(method, url, headers, body, timeout)


class NoNetwork:
    def send(self, method: str, url: str, headers: Mapping[str, str], body: bytes, timeout: float) -> HttpResponse:
        raise AssertionError(f"nothing should be sent, but {method} {url} was")


@pytest.fixture
def ruby() -> Iterator[FakeRubyServer]:
    with FakeRubyServer() as server:
        yield server


@pytest.fixture
def client(ruby: FakeRubyServer) -> RubyTeamClient:
    return RubyTeamClient(ruby.url, TEAM_KEY, TEAM_SECRET, timeout=5)


def offline_client() -> RubyTeamClient:
    return RubyTeamClient("https://api-test.ruby-gaming.com", TEAM_KEY, TEAM_SECRET, transport=NoNetwork())


# --- brands ----------------------------------------------------------------------------------------


def test_create_brand_sends_compact_json_signed_and_returns_the_secret_hidden(
    ruby: FakeRubyServer, client: RubyTeamClient
) -> None:
    created = client.create_brand("Lucky Seven", "lucky7", "seamless", CALLBACK)

    [request] = ruby.requests
    assert request.method == "POST"
    assert request.path_with_query == "/api/brand/create"
    assert request.verified
    assert request.headers["Content-Type"] == "application/json"
    assert request.body == (
        b'{"name":"Lucky Seven","code":"lucky7","wallet_mode":"seamless",'
        b'"callback_url":"https://api.croupier.example/ruby","currency":"KRW"}'
    )
    assert isinstance(created, BrandCreated)
    assert created.id == 1
    assert created.api_key == "brand-key-1"
    secret = ruby.brand_secrets["brand-key-1"]
    assert created.api_secret.get_secret_value() == secret
    for shown in (repr(created), str(created), created.model_dump_json(), json.dumps(created.model_dump(mode="json"))):
        assert secret not in shown
    assert created.balance == Decimal("0.00")


def test_create_transfer_brand_needs_no_callback_and_does_not_send_one(
    ruby: FakeRubyServer, client: RubyTeamClient
) -> None:
    created = client.create_brand("T" * 100, "c" * 50, "transfer", currency="USD")

    assert created.wallet_mode == "transfer"
    body = ruby.requests[0].json()
    assert "callback_url" not in body
    assert body["currency"] == "USD"


@pytest.mark.parametrize(
    ("kwargs", "complaint"),
    [
        ({"name": "n" * 101}, "name"),
        ({"name": ""}, "name"),
        ({"name": " padded"}, "name"),
        ({"code": "c" * 51}, "code"),
        ({"code": ""}, "code"),
        ({"wallet_mode": "hybrid"}, "wallet_mode"),
        ({"callback_url": None}, "callback_url"),
        ({"callback_url": CALLBACK + "/"}, "slash"),
        ({"callback_url": "ftp://example.com/ruby"}, "callback_url"),
        ({"callback_url": "example.com/ruby"}, "callback_url"),
        ({"currency": "krw"}, "currency"),
        ({"currency": "KRWX"}, "currency"),
    ],
)
def test_create_brand_rejects_invalid_input_before_sending(
    ruby: FakeRubyServer, client: RubyTeamClient, kwargs: dict[str, Any], complaint: str
) -> None:
    arguments: dict[str, Any] = {"name": "Brand", "code": "brand", "wallet_mode": "seamless", "callback_url": CALLBACK}
    arguments.update(kwargs)

    with pytest.raises(BadRequest, match=complaint):
        client.create_brand(**arguments)

    assert ruby.requests == []


def test_duplicate_code_is_ruby_error_with_its_code_and_is_not_retried(
    ruby: FakeRubyServer, client: RubyTeamClient
) -> None:
    ruby.add_brand("taken")

    with pytest.raises(RubyApiError) as caught:
        client.create_brand("Again", "taken", "transfer")

    error = caught.value
    assert error.upstream_status == 409
    assert error.upstream_code == "BRAND_CODE_EXISTS"
    assert error.upstream_message == "brand code taken already exists"
    assert error.status == 502  # what Croupier itself would answer
    assert "409" in str(error)
    assert len(ruby.requests) == 1


def test_list_brands_sends_paging_and_reads_the_page(ruby: FakeRubyServer, client: RubyTeamClient) -> None:
    for n in range(5):
        ruby.add_brand(f"b{n}")

    page = client.list_brands(page=2, size=2)

    assert ruby.requests[0].path_with_query == "/api/brand/list?page=2&size=2"
    assert ruby.requests[0].body == b""
    assert (page.total, page.page, page.page_size) == (5, 2, 2)
    assert [b.code for b in page.items] == ["b2", "b3"]


@pytest.mark.parametrize(("brands", "size", "requests"), [(7, 3, 3), (6, 3, 2), (0, 3, 1), (1, 100, 1), (201, 100, 3)])
def test_iter_brands_walks_every_page_and_stops(
    ruby: FakeRubyServer, client: RubyTeamClient, brands: int, size: int, requests: int
) -> None:
    for n in range(brands):
        ruby.add_brand(f"b{n}")

    walked = list(client.iter_brands(size=size))

    assert [b.code for b in walked] == [f"b{n}" for n in range(brands)]
    assert [r.params["page"] for r in ruby.requests] == [str(p) for p in range(1, requests + 1)]
    assert all(r.params["size"] == str(size) for r in ruby.requests)


def test_update_brand_puts_the_fields(ruby: FakeRubyServer, client: RubyTeamClient) -> None:
    brand = ruby.add_brand("b")

    updated = client.update_brand(brand["id"], status=0)

    [request] = ruby.requests
    assert (request.method, request.path_with_query, request.body) == (
        "PUT",
        f"/api/brand/{brand['id']}",
        b'{"status":0}',
    )
    assert updated.status == 0
    assert ruby.brands[brand["id"]]["status"] == 0


@pytest.mark.parametrize(
    ("brand_id", "fields", "error"),
    [
        (1, {}, BadRequest),
        (0, {"status": 0}, BadRequest),
        (True, {"status": 0}, BadRequest),
        (1, {"status": "0"}, BadRequest),
        (1, {"callback_url": CALLBACK + "/"}, BadRequest),
        (1, {"name": "x" * 101}, BadRequest),
        (1, {"limit": 1.5}, TypeError),
    ],
)
def test_update_brand_rejects_invalid_input_before_sending(
    brand_id: Any, fields: dict[str, Any], error: type[Exception]
) -> None:
    with pytest.raises(error):
        offline_client().update_brand(brand_id, **fields)


def test_recharge_sends_the_amount_as_a_decimal_string(ruby: FakeRubyServer, client: RubyTeamClient) -> None:
    brand = ruby.add_brand("t", balance="10.00")

    result = client.recharge_brand(brand["id"], Decimal("100.50"))

    assert ruby.requests[0].body == b'{"amount":"100.50"}'
    assert result.balance == Decimal("110.50")
    assert result.balance_before == Decimal("10.00")
    assert isinstance(result.balance, Decimal)


@pytest.mark.parametrize("amount", [100.5, 100.0, float("nan")])
def test_recharge_refuses_floats_with_no_request(ruby: FakeRubyServer, client: RubyTeamClient, amount: float) -> None:
    with pytest.raises(TypeError, match="float"):
        client.recharge_brand(1, amount)  # type: ignore[arg-type]
    assert ruby.requests == []


@pytest.mark.parametrize("amount", ["0", "-1.00", "abc", "NaN", "Infinity", ""])
def test_recharge_refuses_non_positive_or_non_numbers(amount: str) -> None:
    with pytest.raises(BadRequest):
        offline_client().recharge_brand(1, amount)


@pytest.mark.parametrize(
    ("amount", "text"),
    [("100.00", "100.00"), (Decimal("1E+2"), "100"), (Decimal("0.000001"), "0.000001"), (5, "5"), (" 7.5 ", "7.5")],
)
def test_decimal_string_is_plain_decimal_notation(amount: Decimal | str | int, text: str) -> None:
    assert decimal_string(amount) == text


# --- players and bets ------------------------------------------------------------------------------


def test_list_players_filters_and_the_signed_query_is_exactly_the_one_sent(
    ruby: FakeRubyServer, client: RubyTeamClient
) -> None:
    brand = ruby.add_brand("b")
    wanted = ruby.add_player(brand["id"], "kim & lee/김+1 %x")
    ruby.add_player(brand["id"], "someone else")

    page = client.list_players(brand_id=brand["id"], username="lee/김+1 %")

    [request] = ruby.requests
    expected_query = urlencode(
        [("brand_id", str(brand["id"])), ("page", "1"), ("size", "20"), ("username", "lee/김+1 %")]
    )
    assert request.path_with_query == f"/api/player/list?{expected_query}"
    # the server verified the signature over the raw path it received ...
    assert request.verified
    # ... and that is the signature of exactly this path and query
    timestamp = request.headers["X-Team-Timestamp"]
    assert request.headers["X-Team-Signature"] == ruby_team.sign(
        TEAM_SECRET, timestamp, "GET", request.path_with_query, b""
    )
    assert request.params["username"] == "lee/김+1 %"
    assert [p.id for p in page.items] == [wanted["id"]]


@pytest.mark.parametrize(
    ("kwargs", "complaint"),
    [
        ({"page": 0}, "page"),
        ({"page": -1}, "page"),
        ({"page": True}, "page"),
        ({"size": 0}, "size"),
        ({"size": 101}, "size"),
        ({"size": "20"}, "size"),
        ({"brand_id": 0}, "brand_id"),
        ({"username": ""}, "username"),
    ],
)
def test_list_players_rejects_invalid_paging_and_filters(kwargs: dict[str, Any], complaint: str) -> None:
    with pytest.raises(BadRequest, match=complaint):
        offline_client().list_players(**kwargs)


def test_iter_players_walks_all_pages(ruby: FakeRubyServer, client: RubyTeamClient) -> None:
    brand = ruby.add_brand("b")
    other = ruby.add_brand("other")
    ids = [ruby.add_player(brand["id"], f"p{n}")["id"] for n in range(11)]
    ruby.add_player(other["id"], "not mine")

    walked = list(client.iter_players(brand_id=brand["id"], size=4))

    assert [p.id for p in walked] == ids
    assert len(ruby.requests) == 3


def test_get_player_and_a_missing_player(ruby: FakeRubyServer, client: RubyTeamClient) -> None:
    player = ruby.add_player(1, "kim", balance="1250.00")

    got = client.get_player(player["id"])

    assert ruby.requests[0].path_with_query == f"/api/player/{player['id']}"
    assert got.username == "kim"
    assert got.balance == Decimal("1250.00")
    with pytest.raises(RubyApiError) as caught:
        client.get_player(999_999)
    assert (caught.value.upstream_status, caught.value.upstream_code) == (404, "PLAYER_NOT_FOUND")


def test_list_bets_filters_keep_unknown_fields_and_money_as_decimal(
    ruby: FakeRubyServer, client: RubyTeamClient
) -> None:
    ruby.add_bet(status=1, provider_code="pragmatic", bet_amount="5000.00", new_ruby_field={"odds": "1.95"})
    ruby.add_bet(status=0, provider_code="pragmatic")
    ruby.add_bet(status=1, provider_code="evolution")

    page = client.list_bets(brand_id=1, status=1, provider_code="pragmatic")

    assert (
        ruby.requests[0].path_with_query == "/api/bet/list?brand_id=1&page=1&provider_code=pragmatic&size=20&status=1"
    )
    [bet] = page.items
    assert isinstance(bet, Bet)
    assert bet.bet_amount == Decimal("5000.00")
    assert bet.model_extra == {"new_ruby_field": {"odds": "1.95"}}


@pytest.mark.parametrize("status", [3, -1, True, "1"])
def test_list_bets_rejects_unknown_status(status: Any) -> None:
    with pytest.raises(BadRequest, match="status"):
        offline_client().list_bets(status=status)


def test_sports_bets_live_under_their_own_path_and_walk_all_pages(ruby: FakeRubyServer, client: RubyTeamClient) -> None:
    for n in range(5):
        ruby.add_bet(sports=True, round_id=f"match-{n}")
    ruby.add_bet(round_id="casino")

    walked = list(client.iter_sports_bets(size=2))

    assert {r.path for r in ruby.requests} == {"/api/sports-bet/list"}
    assert len(ruby.requests) == 3
    assert [b.round_id for b in walked] == [f"match-{n}" for n in range(5)]
    assert all(isinstance(b, SportsBet) for b in walked)


def test_health_is_sent_unsigned(ruby: FakeRubyServer, client: RubyTeamClient) -> None:
    assert client.health().status == "ok"
    [request] = ruby.requests
    assert "X-Team-Signature" not in request.headers
    assert "X-Team-Key" not in request.headers


# --- signatures ------------------------------------------------------------------------------------


def _bump_page(url: str, body: bytes) -> tuple[str, bytes]:
    return url.replace("page=1", "page=2"), body


def _alter_one_byte(url: str, body: bytes) -> tuple[str, bytes]:
    return url, body.replace(b'"status":0', b'"status":1')


def test_a_query_altered_after_signing_gets_401(ruby: FakeRubyServer) -> None:
    client = RubyTeamClient(ruby.url, TEAM_KEY, TEAM_SECRET, transport=CountingTransport(_bump_page))

    with pytest.raises(RubyApiError) as caught:
        client.list_brands()

    assert caught.value.upstream_status == 401
    assert caught.value.upstream_code == "UNAUTHORIZED"
    [request] = ruby.requests
    assert request.params["page"] == "2"
    assert request.failure is Failure.BAD_SIGNATURE
    assert TEAM_SECRET not in str(caught.value)


def test_a_body_altered_after_signing_gets_401_and_changes_nothing(ruby: FakeRubyServer) -> None:
    brand = ruby.add_brand("b")
    client = RubyTeamClient(ruby.url, TEAM_KEY, TEAM_SECRET, transport=CountingTransport(_alter_one_byte))

    with pytest.raises(RubyApiError) as caught:
        client.update_brand(brand["id"], status=0)

    assert caught.value.upstream_status == 401
    assert ruby.requests[0].body == b'{"status":1}'
    assert ruby.brands[brand["id"]]["status"] == 1


@pytest.mark.parametrize(
    ("key", "secret", "clock_offset", "reason"),
    [
        (TEAM_KEY, "not-the-team-secret", 0, Failure.BAD_SIGNATURE),
        ("someone-else", TEAM_SECRET, 0, Failure.UNKNOWN_KEY),
        (TEAM_KEY, TEAM_SECRET, -3600, Failure.STALE_TIMESTAMP),
    ],
)
def test_wrong_credentials_or_clock_get_401(
    ruby: FakeRubyServer, key: str, secret: str, clock_offset: int, reason: Failure
) -> None:
    client = RubyTeamClient(ruby.url, key, secret, clock=lambda: time.time() + clock_offset)

    with pytest.raises(RubyApiError) as caught:
        client.list_brands()

    assert caught.value.upstream_status == 401
    assert secret not in str(caught.value)
    assert ruby.requests[0].failure is reason


def test_an_echoed_secret_is_redacted_from_errors(ruby: FakeRubyServer, client: RubyTeamClient) -> None:
    ruby.fail_next(500, {"error": "BOOM", "message": f"bad secret {TEAM_SECRET}"})

    with pytest.raises(RubyApiError) as caught:
        client.list_brands()

    assert TEAM_SECRET not in str(caught.value)
    assert TEAM_SECRET not in (caught.value.upstream_message or "")
    assert caught.value.upstream_code == "BOOM"


class VerifyingTransport:
    """No socket: verifies each request as Ruby would and answers an empty page."""

    def __init__(self) -> None:
        self.received: list[RawRequest] = []

    def send(self, method: str, url: str, headers: Mapping[str, str], body: bytes, timeout: float) -> HttpResponse:
        parts = urlsplit(url)
        request = RawRequest.of(method, parts.path + (f"?{parts.query}" if parts.query else ""), headers, body)
        verdict = ruby_team.verify(request, lambda key: [TEAM_SECRET] if key == TEAM_KEY else [])
        assert verdict.ok, verdict.detail
        self.received.append(request)
        return HttpResponse(200, body=b'{"total":0,"page":1,"page_size":20,"items":[]}')


@settings(max_examples=75, deadline=None)
@given(username=st.text(min_size=1, max_size=40))
def test_any_username_is_signed_as_sent_and_read_back_unchanged(username: str) -> None:
    transport = VerifyingTransport()
    client = RubyTeamClient("https://api-test.ruby-gaming.com", TEAM_KEY, TEAM_SECRET, transport=transport)

    client.list_players(username=username)

    [request] = transport.received
    assert parse_qs(request.query, keep_blank_values=True)["username"] == [username]


def test_a_base_url_path_prefix_is_part_of_the_signed_path() -> None:
    transport = VerifyingTransport()
    client = RubyTeamClient("https://gateway.example/ruby-proxy/", TEAM_KEY, TEAM_SECRET, transport=transport)

    page = client.list_brands()

    assert transport.received[0].path_with_query == "/ruby-proxy/api/brand/list?page=1&size=20"
    assert isinstance(page, Page)


def test_build_query_drops_none_and_sorts() -> None:
    assert build_query({"size": 20, "brand_id": None, "page": 1, "a": "x y"}) == "a=x+y&page=1&size=20"
    with pytest.raises(TypeError):
        build_query({"flag": True})


# --- failures on the wire --------------------------------------------------------------------------


def test_post_that_times_out_is_not_retried(ruby: FakeRubyServer) -> None:
    ruby.slow_down(2.0)
    client = RubyTeamClient(ruby.url, TEAM_KEY, TEAM_SECRET, timeout=0.2)

    with pytest.raises(TransportError) as caught:
        client.create_brand("Slow", "slow", "transfer")

    assert caught.value.timed_out
    assert isinstance(caught.value, UpstreamError)
    assert len(ruby.requests) == 1


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda client, brand_id: client.update_brand(brand_id, status=0), id="PUT update"),
        pytest.param(lambda client, brand_id: client.recharge_brand(brand_id, "1.00"), id="POST recharge"),
    ],
)
def test_put_and_recharge_that_time_out_are_not_retried(
    ruby: FakeRubyServer, call: Callable[[RubyTeamClient, int], object]
) -> None:
    brand = ruby.add_brand("b")
    ruby.slow_down(2.0)
    client = RubyTeamClient(ruby.url, TEAM_KEY, TEAM_SECRET, timeout=0.2)

    with pytest.raises(TransportError):
        call(client, brand["id"])

    assert len(ruby.requests) == 1


def test_get_that_times_out_is_retried_exactly_once(ruby: FakeRubyServer) -> None:
    ruby.slow_down(2.0)
    client = RubyTeamClient(ruby.url, TEAM_KEY, TEAM_SECRET, timeout=0.2)

    with pytest.raises(TransportError):
        client.list_brands()

    assert len(ruby.requests) == 2


def test_get_retry_succeeds_after_one_timeout_and_is_signed_afresh(ruby: FakeRubyServer) -> None:
    ruby.add_brand("b")
    ruby.slow_down(2.0, requests=1)
    client = RubyTeamClient(ruby.url, TEAM_KEY, TEAM_SECRET, timeout=0.3)

    page = client.list_brands()

    assert [b.code for b in page.items] == ["b"]
    assert len(ruby.requests) == 2
    assert all(r.verified for r in ruby.requests)


def test_an_http_error_on_get_is_not_retried(ruby: FakeRubyServer, client: RubyTeamClient) -> None:
    ruby.fail_next(503, {"error": "MAINTENANCE", "message": "back soon"})

    with pytest.raises(RubyApiError) as caught:
        client.list_brands()

    assert (caught.value.upstream_status, caught.value.upstream_code) == (503, "MAINTENANCE")
    assert len(ruby.requests) == 1


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_connection_refused_get_tries_twice_post_once() -> None:
    transport = CountingTransport()
    client = RubyTeamClient(f"http://127.0.0.1:{_closed_port()}", TEAM_KEY, TEAM_SECRET, transport=transport)

    with pytest.raises(TransportError) as get_error:
        client.list_brands()
    assert len(transport.sent) == 2
    assert not get_error.value.timed_out

    with pytest.raises(TransportError):
        client.create_brand("B", "b", "transfer")
    assert len(transport.sent) == 3


def test_a_2xx_that_is_not_json_is_an_upstream_error(ruby: FakeRubyServer, client: RubyTeamClient) -> None:
    ruby.fail_next(200, b"<html>maintenance</html>")

    with pytest.raises(UpstreamError, match="not JSON"):
        client.list_brands()


def test_an_unexpected_answer_never_echoes_the_secret_it_held(ruby: FakeRubyServer, client: RubyTeamClient) -> None:
    ruby.fail_next(201, {"id": "not-a-number", "api_key": "k", "api_secret": "leaked-brand-secret"})

    with pytest.raises(UpstreamError) as caught:
        client.create_brand("B", "b", "transfer")

    assert "leaked-brand-secret" not in str(caught.value)
    assert "id" in str(caught.value)


# --- construction ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["http://api.ruby-gaming.com", "ftp://api.ruby-gaming.com", "api.ruby-gaming.com", "https://x/?a=1", ""],
)
def test_base_url_must_be_https_except_on_loopback(url: str) -> None:
    with pytest.raises(ValueError, match=r"base_url|HTTPS"):
        RubyTeamClient(url, TEAM_KEY, TEAM_SECRET)


def test_plain_http_is_allowed_on_loopback_or_when_asked() -> None:
    assert RubyTeamClient("http://127.0.0.1:3900", TEAM_KEY, TEAM_SECRET).base_url == "http://127.0.0.1:3900"
    insecure = RubyTeamClient("http://ruby-fake:80", TEAM_KEY, TEAM_SECRET, allow_insecure=True)
    assert insecure.base_url == "http://ruby-fake:80"


def test_repr_never_shows_the_secret() -> None:
    client = offline_client()
    assert TEAM_SECRET not in repr(client)
    assert TEAM_KEY in repr(client)
