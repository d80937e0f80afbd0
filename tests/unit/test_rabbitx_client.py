"""RabbitXClient against a fake that verifies RBT-* signatures with croupier.signing.rabbitx.verify."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

import pytest

from croupier.clients import HttpResponse, RabbitXApiError, RabbitXClient, TransportError, UrllibTransport
from croupier.errors import UpstreamError
from croupier.signing import Failure, rabbitx
from tests.fakes.rabbitx_server import API_KEY, API_SECRET, FakeRabbitXServer


@pytest.fixture
def server() -> Iterator[FakeRabbitXServer]:
    with FakeRabbitXServer() as fake:
        yield fake


@pytest.fixture
def client(server: FakeRabbitXServer) -> RabbitXClient:
    return RabbitXClient(server.url, API_KEY, API_SECRET, timeout=5)


class NoNetwork:
    def send(self, method: str, url: str, headers: Mapping[str, str], body: bytes, timeout: float) -> HttpResponse:
        raise AssertionError(f"nothing should be sent, but {method} {url} was")


def offline() -> RabbitXClient:
    return RabbitXClient("https://api.rabbitx.example", API_KEY, API_SECRET, transport=NoNetwork())


def test_get_is_signed_and_fractions_come_back_as_decimal(server: FakeRabbitXServer, client: RabbitXClient) -> None:
    answer = client.request("GET", "/markets", {"market_id": "BTC-USD", "active": True, "page": None})

    [request] = server.requests
    assert request.verified
    assert request.path_with_query == "/markets?active=true&market_id=BTC-USD"
    assert request.body == b""
    market = answer["result"][0]
    assert market["last_price"] == Decimal("65000.50")
    assert isinstance(market["last_price"], Decimal)
    assert isinstance(market["min_order"], Decimal)


def test_post_sends_params_as_a_compact_json_body(server: FakeRabbitXServer, client: RabbitXClient) -> None:
    answer = client.post(
        "/orders", {"market_id": "BTC-USD", "price": Decimal("65000.5"), "size": "0.01", "post_only": True}
    )

    [request] = server.requests
    assert request.verified
    assert request.path_with_query == "/orders"
    assert request.headers["Content-Type"] == "application/json"
    assert request.body == b'{"market_id":"BTC-USD","price":"65000.5","size":"0.01","post_only":true}'
    assert answer["result"]["status"] == "open"
    assert answer["result"]["price"] == "65000.5"


def test_the_signed_data_is_method_path_and_params(server: FakeRabbitXServer, client: RabbitXClient) -> None:
    client.post("/orders", {"market_id": "ETH-USD", "tags": ["a", "b"]})

    [request] = server.requests
    expires = int(request.headers["RBT-TS"])
    data = {"method": "POST", "path": "/orders", "market_id": "ETH-USD", "tags": ["a", "b"]}
    assert request.headers["RBT-SIGNATURE"] == rabbitx.sign(API_SECRET, data, expires)
    assert request.headers["RBT-API-KEY"] == API_KEY
    assert 0 < expires - time.time() <= 60


def test_delete_sends_params_in_the_query(server: FakeRabbitXServer, client: RabbitXClient) -> None:
    order = client.post("/orders", {"market_id": "BTC-USD"})["result"]

    answer = client.delete("/orders", {"order_id": order["id"], "market_id": "BTC-USD"})

    request = server.requests[-1]
    assert request.method == "DELETE"
    assert request.path_with_query == f"/orders?market_id=BTC-USD&order_id={order['id']}"
    assert request.body == b""
    assert request.verified
    assert answer["result"]["status"] == "canceled"


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_floats_are_refused_before_sending(server: FakeRabbitXServer, client: RabbitXClient, method: str) -> None:
    with pytest.raises(TypeError, match="float"):
        client.request(method, "/orders", {"price": 1.5})
    assert server.requests == []


@pytest.mark.parametrize(
    ("method", "path", "params"),
    [
        ("GET", "/orders", {"method": "DELETE"}),
        ("POST", "/orders", {"path": "/admin"}),
        ("GET", "/orders?x=1", None),
        ("GET", "orders", None),
        ("PATCH", "/orders", None),
    ],
)
def test_invalid_requests_are_refused_before_sending(method: str, path: str, params: dict[str, Any] | None) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the message varies by case
        offline().request(method, path, params)


@pytest.mark.parametrize(
    ("secret", "clock_offset", "reason"),
    [
        ("0x" + "6b" * 32, 0, Failure.BAD_SIGNATURE),
        (API_SECRET, -3600, Failure.EXPIRED),
    ],
)
def test_a_bad_signature_or_expired_request_gets_401(
    server: FakeRabbitXServer, secret: str, clock_offset: int, reason: Failure
) -> None:
    client = RabbitXClient(server.url, API_KEY, secret, clock=lambda: time.time() + clock_offset)

    with pytest.raises(RabbitXApiError) as caught:
        client.get("/markets")

    assert caught.value.upstream_status == 401
    assert isinstance(caught.value, UpstreamError)
    assert secret not in str(caught.value)
    assert server.requests[0].failure is reason


class Tampering:
    def __init__(self) -> None:
        self.inner = UrllibTransport()

    def send(self, method: str, url: str, headers: Mapping[str, str], body: bytes, timeout: float) -> HttpResponse:
        return self.inner.send(method, url, headers, body.replace(b"BTC", b"ETH"), timeout)


def test_a_body_altered_after_signing_gets_401(server: FakeRabbitXServer) -> None:
    client = RabbitXClient(server.url, API_KEY, API_SECRET, transport=Tampering())

    with pytest.raises(RabbitXApiError) as caught:
        client.post("/orders", {"market_id": "BTC-USD"})

    assert caught.value.upstream_status == 401
    assert server.orders == {}


def test_an_error_answer_carries_status_and_code(server: FakeRabbitXServer, client: RabbitXClient) -> None:
    with pytest.raises(RabbitXApiError) as caught:
        client.delete("/orders", {"order_id": 42})

    error = caught.value
    assert (error.upstream_status, error.upstream_code, error.upstream_message) == (
        404,
        "ORDER_NOT_FOUND",
        "no such order",
    )
    assert error.status == 502
    assert len(server.requests) == 1


def test_post_that_times_out_is_not_retried_get_is_retried_once(server: FakeRabbitXServer) -> None:
    server.slow_down(2.0)
    client = RabbitXClient(server.url, API_KEY, API_SECRET, timeout=0.2)

    with pytest.raises(TransportError) as caught:
        client.post("/orders", {"market_id": "BTC-USD"})
    assert caught.value.timed_out
    assert len(server.requests) == 1

    with pytest.raises(TransportError):
        client.get("/markets")
    assert len(server.requests) == 3


@pytest.mark.parametrize(
    ("kwargs", "complaint"),
    [
        ({"api_secret": "not-hex"}, "hexadecimal"),
        ({"ttl_seconds": 0}, "ttl_seconds"),
        ({"ttl_seconds": 601}, "ttl_seconds"),
        ({"base_url": "ftp://x"}, "base_url"),
        ({"timeout": 0}, "timeout"),
    ],
)
def test_construction_is_validated(kwargs: dict[str, Any], complaint: str) -> None:
    arguments: dict[str, Any] = {
        "base_url": "https://api.rabbitx.example",
        "api_key": API_KEY,
        "api_secret": API_SECRET,
    }
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=complaint):
        RabbitXClient(**arguments)


def test_repr_never_shows_the_secret() -> None:
    assert API_SECRET not in repr(offline())
    assert "5a5a" not in repr(offline())
