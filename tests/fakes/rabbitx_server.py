"""A fake RabbitX-style API: verifies ``RBT-*`` signatures with :func:`croupier.signing.rabbitx.verify`.

Routes: ``GET /markets`` (answers fractions as JSON numbers, to prove the client reads them as Decimal),
``POST /orders`` (echoes the order it received), ``DELETE /orders`` (cancels by the body's ``order_id``), as
RabbitX's own client sends them (the signed ``method`` and ``path`` in the body). Anything not signed right
answers 401; unknown routes 404. Every request is recorded in ``requests``.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Sequence
from itertools import count
from typing import Any

from croupier.signing import Clock, Failure, Headers, RawRequest, Verdict, rabbitx
from croupier.signing._core import parse_unix_seconds, require_header
from croupier_cli.rabbitx import ONBOARDING_MESSAGE, ONBOARDING_PATH
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
        self.onboarded: dict[str, dict[str, Any]] = {}
        """Every onboarding answered, by wallet: the key, secret and JWT handed out."""
        self._keys: dict[str, str] = {api_key: api_secret}
        self._profile_ids = count(7001)

    def authenticate(self, request: RawRequest) -> Verdict | None:
        if request.path == ONBOARDING_PATH:
            return verify_onboarding(request, clock=self.clock)
        return rabbitx.verify(request, self._secrets_for, clock=self.clock)

    def _secrets_for(self, key: str) -> Sequence[str]:
        with self._lock:
            return [self._keys[key]] if key in self._keys else []

    def dispatch(self, method: str, path_with_query: str, headers: Headers, body: bytes) -> Answer:
        status, payload = super().dispatch(method, path_with_query, headers, body)
        if status >= 400 and isinstance(payload, dict) and "message" in payload:  # RabbitX's error shape
            return status, {"success": False, "error": payload["message"], "code": payload["error"]}
        return status, payload

    def route(self, request: ReceivedRequest) -> Answer:
        match request.method, request.path:
            case "POST", "/onboarding":
                return 200, self._onboard(request.json()["wallet"])
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

    def _onboard(self, wallet: str) -> dict[str, Any]:
        with self._lock:
            key, secret, jwt = f"rbx-{secrets.token_hex(8)}", "0x" + secrets.token_hex(32), secrets.token_urlsafe(24)
            self._keys[key] = secret
            profile = {"id": next(self._profile_ids), "wallet": wallet, "profile_type": "trader", "status": "active"}
            self.onboarded[wallet] = {"api_key": key, "api_secret": secret, "jwt": jwt, "profile": profile}
        return {
            "success": True,
            "result": [{"apiSecret": {"Key": key, "Secret": secret}, "jwt": jwt, "profile": profile}],
        }


def verify_onboarding(request: RawRequest, *, clock: Clock = time.time) -> Verdict:
    """The reference's ``metamask_verify`` over a received ``POST /onboarding``."""
    from eth_account import Account
    from eth_account.messages import encode_defunct

    raw_expiry = require_header(request.headers, rabbitx.EXPIRY_HEADER)
    if isinstance(raw_expiry, Verdict):
        return raw_expiry
    expires = parse_unix_seconds(raw_expiry, rabbitx.EXPIRY_HEADER)
    if isinstance(expires, Verdict):
        return expires
    try:
        body = json.loads(request.body)
        wallet, signature = body["wallet"], bytearray(bytes.fromhex(body["signature"].removeprefix("0x")))
    except (ValueError, KeyError, TypeError, AttributeError):
        return Verdict.fail(Failure.MALFORMED, "the body must hold a wallet and a hex signature")
    if len(signature) != 65 or signature[-1] > 1:
        return Verdict.fail(Failure.MALFORMED, "the signature must be 65 bytes ending in 0 or 1")
    signature[-1] += 27
    message = encode_defunct(text=f"{ONBOARDING_MESSAGE}\n{expires}")
    try:
        recovered = Account.recover_message(message, signature=bytes(signature))
    except Exception:  # an impossible signature recovers no key
        return Verdict.fail(Failure.BAD_SIGNATURE, "the signature recovers no wallet", key_id=str(wallet))
    if not isinstance(wallet, str) or recovered.lower() != wallet.lower():
        return Verdict.fail(Failure.BAD_SIGNATURE, "the signature is not the wallet's", key_id=str(wallet))
    if clock() >= expires:
        return Verdict.fail(Failure.EXPIRED, f"{rabbitx.EXPIRY_HEADER} has passed", key_id=wallet)
    return Verdict.valid(key_id=wallet)


def _fields(request: ReceivedRequest) -> dict[str, Any]:
    """A body's fields without the signed ``method`` and ``path`` (RabbitX's client sends them in the body)."""
    body = request.json()
    if not isinstance(body, dict):
        raise HttpError(400, "BAD_REQUEST", "the body must be a JSON object")
    return {name: value for name, value in body.items() if name not in ("method", "path")}
