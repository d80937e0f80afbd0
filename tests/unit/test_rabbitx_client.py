"""RabbitXClient against a fake that verifies RBT-* signatures with croupier.signing.rabbitx.verify."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

import pytest

from croupier.clients.http import HttpResponse, TransportError, UrllibTransport
from croupier.errors import UpstreamError
from croupier.signing import Failure, rabbitx
from croupier_cli.rabbitx import RabbitXApiError, RabbitXClient
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
    answer = client.request("GET", "/markets", params={"market_id": "BTC-USD", "active": True, "page": None})

    [request] = server.requests
    assert request.verified
    assert request.path_with_query == "/markets?market_id=BTC-USD&active=True"  # as requests encodes them
    assert request.body == b""
    market = answer["result"][0]
    assert market["last_price"] == Decimal("65000.50")
    assert isinstance(market["last_price"], Decimal)
    assert isinstance(market["min_order"], Decimal)


def test_post_sends_the_signed_dict_as_its_json_body(server: FakeRabbitXServer, client: RabbitXClient) -> None:
    answer = client.post(
        "/orders", {"market_id": "BTC-USD", "price": Decimal("65000.50"), "size": 1e-05, "post_only": True}
    )

    [request] = server.requests
    assert request.verified
    assert request.path_with_query == "/orders"
    assert request.headers["Content-Type"] == "application/json"
    assert request.body == (
        b'{"market_id": "BTC-USD", "price": 65000.5, "size": 1e-05, "post_only": true, '
        b'"method": "POST", "path": "/orders"}'
    )
    assert answer["result"]["status"] == "open"
    assert answer["result"]["price"] == "65000.5"


def test_the_signed_data_is_the_body_method_and_path_included(server: FakeRabbitXServer, client: RabbitXClient) -> None:
    client.post("/orders", {"market_id": "ETH-USD", "tags": ["a", "b"], "size": 0.1})

    [request] = server.requests
    expires = int(request.headers["RBT-TS"])
    data = {"method": "POST", "path": "/orders", "market_id": "ETH-USD", "tags": ["a", "b"], "size": "0.1"}
    assert request.headers["RBT-SIGNATURE"] == rabbitx.sign(API_SECRET, data, expires)
    assert request.headers["RBT-API-KEY"] == API_KEY
    assert 0 < expires - time.time() <= 300


def test_delete_sends_its_data_as_a_body_like_post(server: FakeRabbitXServer, client: RabbitXClient) -> None:
    order = client.post("/orders", {"market_id": "BTC-USD"})["result"]

    answer = client.delete("/orders", {"order_id": order["id"], "market_id": "BTC-USD"})

    request = server.requests[-1]
    assert request.method == "DELETE"
    assert request.path_with_query == "/orders"
    assert json.loads(request.body) == {
        "order_id": order["id"],
        "market_id": "BTC-USD",
        "method": "DELETE",
        "path": "/orders",
    }
    assert request.verified
    assert answer["result"]["status"] == "canceled"


@pytest.mark.parametrize(
    ("given", "sent"),
    [(0.1, b"0.1"), (1e-05, b"1e-05"), (1e16, b"1e+16"), (Decimal("0.10"), b"0.1"), (Decimal("1E-5"), b"1e-05")],
)
def test_floats_and_exact_decimals_go_out_as_python_writes_the_float(
    server: FakeRabbitXServer, client: RabbitXClient, given: Any, sent: bytes
) -> None:
    client.post("/orders", {"market_id": "BTC-USD", "size": given})

    [request] = server.requests
    assert request.verified
    assert request.body.startswith(b'{"market_id": "BTC-USD", "size": ' + sent + b", ")


@pytest.mark.parametrize(
    "size", [Decimal("0.12345678901234567891"), Decimal("NaN"), float("nan"), float("inf"), Decimal("1E+400")]
)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_number_json_cannot_carry_exactly_is_refused_before_sending(
    server: FakeRabbitXServer, client: RabbitXClient, method: str, size: Any
) -> None:
    where = {"params": {"size": size}} if method == "GET" else {"data": {"size": size}}
    with pytest.raises(ValueError, match="size"):
        client.request(method, "/orders", **where)
    assert server.requests == []


@pytest.mark.parametrize(
    ("method", "path", "where"),
    [
        ("GET", "/orders", {"data": {"method": "DELETE"}}),
        ("POST", "/orders", {"data": {"path": "/admin"}}),
        ("GET", "/orders", {"data": {"market_id": "BTC-USD"}}),
        ("GET", "/orders?x=1", {}),
        ("GET", "orders", {}),
        ("GET", "/orders/<id>", {}),
        ("PATCH", "/orders", {}),
    ],
)
def test_invalid_requests_are_refused_before_sending(method: str, path: str, where: dict[str, Any]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the message varies by case
        offline().request(method, path, **where)


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
