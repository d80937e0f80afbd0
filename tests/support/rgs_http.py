"""The RGS over real HTTP on the local stack, as an admin, an operator and a player use it.

``RgsOperator.provision`` creates an operator through ``POST /admin/rgs/operators``; ``self_operated``
also stores its credentials as the local RGS-wallet adapter's ``rgs-wallet/operators/<id>`` secret, so
that the RGS's signed wallet calls reach Croupier's own wallet (Croupier as its own operator).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from croupier import aws
from croupier.rgs.sealing import Sealer
from croupier.rgs.store import RgsStore
from croupier.signing import rgs
from croupier_local.demo import accept_own_wallet_calls
from croupier_local.server import LocalStack
from tests.fakes.operator_wallet_server import FakeOperatorWallet
from tests.support.targets import ApiTarget


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    headers: dict[str, str]

    def json(self) -> Any:
        return json.loads(self.body)


def http(
    stack: ApiTarget, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> Answer:
    """One request to the local stack over a socket; any status is an answer."""
    request = urllib.request.Request(f"{stack.base_url}{path}", data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return Answer(response.status, response.read(), {k.lower(): v for k, v in response.headers.items()})
    except urllib.error.HTTPError as error:
        return Answer(error.code, error.read(), {k.lower(): v for k, v in error.headers.items()})


def admin(stack: ApiTarget, method: str, path: str, data: dict[str, Any] | None = None) -> Answer:
    body = None if data is None else json.dumps(data).encode()
    return http(stack, method, path, body, {"Content-Type": "application/json"})


@dataclass
class RgsOperator:
    stack: ApiTarget
    operator_id: str
    api_key: str
    hmac_secret: str

    @classmethod
    def provision(cls, stack: ApiTarget, wallet_callback_url: str, **settings: Any) -> RgsOperator:
        data = {"wallet_callback_url": wallet_callback_url, "allowed_currencies": ["USD"], **settings}
        answer = admin(stack, "POST", "/admin/rgs/operators", data)
        assert answer.status == 201, answer.body
        created = answer.json()
        return cls(stack, created["operator_id"], created["api_key"], created["hmac_secret"])

    @classmethod
    def with_fake_wallet(cls, stack: ApiTarget, wallet: FakeOperatorWallet, **settings: Any) -> RgsOperator:
        """An operator whose wallet is ``wallet`` (a fake operator wallet server), which checks its calls' signatures
        with this operator's credentials."""
        operator = cls.provision(stack, wallet.url, **settings)
        wallet.operator_id, wallet.api_key, wallet.hmac_secret = (
            operator.operator_id,
            operator.api_key,
            operator.hmac_secret,
        )
        return operator

    @classmethod
    def self_operated(cls, stack: ApiTarget, **settings: Any) -> RgsOperator:
        """An operator whose wallet is the local stack's own ``/rgs-wallet`` adapter."""
        operator = cls.provision(stack, f"{stack.base_url}/rgs-wallet", **settings)
        accept_own_wallet_calls(stack.secret_store, operator.operator_id, operator.api_key, operator.hmac_secret)
        return operator

    def signed(self, method: str, path_with_query: str, data: dict[str, Any] | None = None) -> Answer:
        """An operator call, RGS v1 signed now (the path with its query is what is signed)."""
        body = b"" if data is None else json.dumps(data, separators=(",", ":")).encode()
        headers = rgs.headers(self.operator_id, self.api_key, self.hmac_secret, method, path_with_query, body)
        if data is not None:
            headers["Content-Type"] = "application/json"
        return http(self.stack, method, path_with_query, body if data is not None else None, headers)

    def launch(self, player: str, currency: str = "USD", **extra: Any) -> Player:
        answer = self.signed(
            "POST", "/api/public/rgs/launch", {"operator_player_id": player, "currency": currency, **extra}
        )
        assert answer.status == 200, answer.body
        launched = answer.json()
        token = parse_qs(urlsplit(launched["launch_url"]).query)["session"][0]
        return Player(self.stack, token, launched)

    def round(self, round_id: str) -> Answer:
        return self.signed("GET", f"/api/public/rgs/round/{round_id}")

    def revenue(self, first: str, last: str) -> Answer:
        return self.signed("GET", f"/api/public/rgs/revenue?from={first}&to={last}")


@dataclass
class Player:
    stack: ApiTarget
    token: str
    launched: dict[str, Any]

    def _call(self, method: str, path: str, data: dict[str, Any] | None = None) -> Answer:
        headers = {"Authorization": f"Bearer {self.token}"}
        body = None
        if data is not None:
            headers["Content-Type"] = "application/json"
            body = json.dumps(data).encode()
        return http(self.stack, method, path, body, headers)

    def bet(self, amount_minor: int, **extra: Any) -> Answer:
        return self._call("POST", "/rgs/play/bet", {"amount_minor": amount_minor, **extra})

    def cash_out(self, round_id: str) -> Answer:
        return self._call("POST", "/rgs/play/cashout", {"round_id": round_id})

    def state(self) -> Answer:
        return self._call("GET", "/rgs/play/state")


def stack_store(stack: LocalStack) -> RgsStore:
    """The local stack's RgsTable through the functions' own clients, with a sealer on the stack's seed key:
    the tests' privilege (an RGS function's), never the player's nor a mere reader's of the table."""
    return RgsStore("RgsTable", aws.dynamodb, sealer=Sealer(aws.kms, stack.seed_key_id))


def crash_point(stack: LocalStack, round_id: str) -> int:
    """The round's crash point, read behind the server's back and opened with the stack's key."""
    store = stack_store(stack)
    stored = store.read_round(round_id)
    assert stored is not None
    return int(store.opened(stored).round.crash_cents)
