"""A fake RabbitX-style API: verifies ``RBT-*`` signatures with :func:`croupier.signing.rabbitx.verify`.

Routes: ``GET /markets`` (answers fractions as JSON numbers, to prove the client reads them as Decimal),
``POST /orders`` (echoes the order it received), ``DELETE /orders`` (cancels by the body's ``order_id``), as
RabbitX's own client sends them (the signed ``method`` and ``path`` in the body). Anything not signed right
answers 401; unknown routes 404. Every request is recorded in ``requests``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from itertools import count
from typing import Any

from croupier.signing import Clock, Headers, RawRequest, Verdict, rabbitx
from tests.fakes.ruby_server import Answer, FakeHttpServer, HttpError, ReceivedRequest

API_KEY = "test-rabbitx-key"
API_SECRET = "0x" + "5a" * 32

MARKETS = b'{"success":true,"result":[{"id":"BTC-USD","last_price":65000.50,"min_order":0.0001}]}'


class FakeRabbitXServer(FakeHttpServer):
    def __init__(self, api_key: str = API_KEY, api_secret: str = API_SECRET, *, clock: Clock = time.time) -> None:
        super().__init__()
        self.api_key = api_key
        self.api_secret = api_secret
        self.clock = clock
        self.orders: dict[int, dict[str, Any]] = {}
        self._order_ids = count(1)

    def authenticate(self, request: RawRequest) -> Verdict | None:
        return rabbitx.verify(request, self._secrets_for, clock=self.clock)

    def _secrets_for(self, key: str) -> Sequence[str]:
        return [self.api_secret] if key == self.api_key else []

    def dispatch(self, method: str, path_with_query: str, headers: Headers, body: bytes) -> Answer:
        status, payload = super().dispatch(method, path_with_query, headers, body)
        if status >= 400 and isinstance(payload, dict) and "message" in payload:  # RabbitX's error shape
            return status, {"success": False, "error": payload["message"], "code": payload["error"]}
        return status, payload

    def route(self, request: ReceivedRequest) -> Answer:
        match request.method, request.path:
            case "GET", "/markets":
                return 200, MARKETS
            case "POST", "/orders":
                order = _fields(request)
                if "market_id" not in order:
                    raise HttpError(400, "BAD_REQUEST", "market_id is required")
                with self._lock:
                    order_id = next(self._order_ids)
                    self.orders[order_id] = {"id": order_id, **order, "status": "open"}
                    return 200, {"success": True, "result": self.orders[order_id]}
            case "DELETE", "/orders":
                with self._lock:
                    order = self.orders.get(int(_fields(request).get("order_id", 0)))
                    if order is None:
                        raise HttpError(404, "ORDER_NOT_FOUND", "no such order")
                    order["status"] = "canceled"
                    return 200, {"success": True, "result": order}
        raise HttpError(404, "NOT_FOUND", f"no route {request.method} {request.path}")


def _fields(request: ReceivedRequest) -> dict[str, Any]:
    """A body's fields without the signed ``method`` and ``path`` (RabbitX's client sends them in the body)."""
    body = request.json()
    if not isinstance(body, dict):
        raise HttpError(400, "BAD_REQUEST", "the body must be a JSON object")
    return {name: value for name, value in body.items() if name not in ("method", "path")}
