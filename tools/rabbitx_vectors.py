#!/usr/bin/env python3
"""Make RabbitX request vectors with RabbitX's own Python client: what it sends, byte for byte.

Not part of Croupier and no dependency of it: it imports the reference client, which Croupier never ships.
Run it in a throwaway virtualenv, outside the repository, with the reference checked out beside it:

    python3 -m venv /tmp/rbx
    /tmp/rbx/bin/pip install requests==2.34.2 eth-account==0.14.0 web3 python-ulid websocket-client rel
    mkdir /tmp/rabbitx-python-client   # rabbitx-io/rabbitx-python-client at 9f98f65 (MIT), e.g. by git archive
    /tmp/rbx/bin/python tools/rabbitx_vectors.py --reference /tmp/rabbitx-python-client --seed 15 \\
        > tests/data/rabbitx-heldout-vectors.json

Each request is made by the reference's own code: its endpoint methods (``client.orders.create(...)``) or,
for data no endpoint builds (nested lists, booleans, odd floats), its session exactly as every endpoint uses
it (``sign_request(data)`` then ``session.<verb>(url, json=data, params=params, headers=session.headers)``).
``requests`` prepares each request as it would send it; a transport adapter captures it instead of sending
(method, path with query, body bytes, ``RBT-*`` headers). The clock is the session's ``_current_timestamp``.
Onboarding cases come from ``client.onboarding.onboarding()`` with a private key. The output's ``source``
says how it was made; ``tests/unit/test_rabbitx_reference.py`` reads the committed JSON and runs offline.
``--count N`` adds N random body and query calls (for a side-by-side measurement; the committed file uses
the default).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path
from typing import Any

SOURCE = (
    "tools/rabbitx_vectors.py --seed {seed} --count {count}: rabbitx-io/rabbitx-python-client@9f98f65 "
    "(payload.py, session.py, endpoints/*.py, metamask.py) run in a throwaway virtualenv with requests {requests} "
    "request preparation (captured by a transport adapter, never sent) and eth-account {eth_account}"
)
MARKETS = ["BTC-USD", "ETH-USD", "SOL-USD", "DOGE-USD"]
FLOATS = [1e-05, 0.1, 0.2, 0.3, 1.5, 0.001, 1e16, 1.2345e-07, 65000.5, 58276.88402, 123456789.123, -0.0, 2.5e-10, 1e21]
POSITIVE = [number for number in FLOATS if number > 0]  # the endpoints drop a falsy optional (``if price:``)


class Capture:
    """A requests transport adapter that keeps each prepared request and answers a canned success."""

    def __init__(self) -> None:
        import requests

        self.prepared: list[Any] = []

        class Adapter(requests.adapters.HTTPAdapter):
            def send(inner, request: Any, *args: Any, **kwargs: Any) -> Any:
                self.prepared.append(request)
                response = requests.Response()
                response.status_code = 200
                response._content = json.dumps(
                    {
                        "success": True,
                        "result": [
                            {
                                "id": 1,
                                "apiSecret": {"Key": "k", "Secret": "00"},
                                "jwt": "j",
                                "profile": {"id": 1},
                            }
                        ],
                    }
                ).encode()
                response.request = request
                return response

        self.adapter = Adapter()


def captured(client: Any, capture: Capture, now: int, act: Any) -> dict[str, Any]:
    client._current_timestamp = now
    before = len(capture.prepared)
    act()
    [request] = capture.prepared[before:]
    body = request.body or b""
    return {
        "method": request.method,
        "path_with_query": request.path_url,
        "body": body.decode("utf-8") if isinstance(body, bytes) else body,
        "headers": {name: value for name, value in request.headers.items() if name.upper().startswith("RBT-")},
    }


def new_client(
    rabbitx: Any, capture: Capture, rng: random.Random, private_key: str | None = None
) -> tuple[Any, str, str]:
    key = f"rbx-held-{rng.getrandbits(40):010x}"
    secret = ("0x" if rng.random() < 0.3 else "") + rng.randbytes(32).hex()
    keys = {"private_key": private_key} if private_key else {"api_key": key, "api_secret": secret}
    client = rabbitx.client.Client(api_url="https://api.rabbitx.invalid", **keys)
    client.session.mount("https://", capture.adapter)
    return client, key, secret


def text(rng: random.Random) -> str:
    return rng.choice(["plain", "with space", "it's", 'say "hi"', "ünïcødé", "한국", "a,b", "x=y&z", "~tilde"])


def value(rng: random.Random, depth: int = 0) -> Any:
    kinds = ["int", "float", "bool", "text", "list", "nested", "object"] if depth == 0 else ["int", "float", "text"]
    kind = rng.choice(kinds)
    if kind == "int":
        return rng.choice([0, 1, -7, 42, 10**16, rng.randrange(10**9)])
    if kind == "float":
        return rng.choice([*FLOATS, round(rng.uniform(0, 100000), rng.randrange(1, 6))])
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "text":
        return text(rng)
    if kind == "list":
        return [value(rng, depth + 1) for _ in range(rng.randrange(0, 4))] + [rng.random() < 0.5]
    if kind == "object":
        return {"inner": value(rng, depth + 1), "flag": True, "list": [value(rng, depth + 1)]}
    return [[value(rng, depth + 1) for _ in range(2)], [text(rng)]]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", required=True, type=Path, help="the reference client's checkout")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--count", type=int, default=24, help="random body and query calls besides the endpoints")
    args = parser.parse_args()
    sys.path.insert(0, str(args.reference))

    import importlib.metadata

    import rabbitx.client  # the reference, from --reference
    import requests
    from rabbitx import const
    from rabbitx.client import OrderSide, OrderStatus, OrderType, TimeInForce
    from rabbitx.client.endpoints.candle import CandlePeriod

    rng = random.Random(args.seed)  # noqa: S311 - reproducible test data, no secret of anyone's
    capture = Capture()
    cases: list[dict[str, Any]] = []

    def record(name: str, method: str, path: str, params: Any, data: dict[str, Any], act: Any) -> None:
        client, key, secret = new_client(rabbitx, capture, rng)
        now = rng.randrange(1_700_000_000, 1_900_000_000)
        signed: dict[str, Any] = {}
        original = client.sign_request

        def keep(given: dict[str, Any]) -> None:
            signed.update(given)
            original(given)

        client.sign_request = keep
        sent = captured(client, capture, now, lambda: act(client))
        cases.append(
            {
                "name": name,
                "call": {"method": method, "path": path, "params": params, "data": data},
                "now": now,
                "api_key": key,
                "api_secret": secret,
                "sent": sent,
                "signed_data": signed,
            }
        )

    def endpoint(name: str, method: str, path: str, params: Any, data: dict[str, Any], act: Any) -> None:
        record(name, method, path, params, data, act)

    for i in range(3):
        market, price, size = rng.choice(MARKETS), rng.choice(POSITIVE), rng.choice(POSITIVE[:7])
        order_id = rng.randrange(10**9)
        endpoint(
            f"orders.create+options[{i}]",
            "POST",
            "/orders",
            None,
            {
                "market_id": market,
                "price": price,
                "side": "long",
                "size": size,
                "type": "stop_limit",
                "client_order_id": f"cid-{i}",
                "time_in_force": "post_only",
                "trigger_price": 0.1,
                "size_percent": 0.25,
            },
            lambda c, m=market, p=price, s=size, i=i: c.orders.create(
                m, p, OrderSide.LONG, s, OrderType.STOP_LIMIT, f"cid-{i}", TimeInForce.POSTONLY, 0.1, 0.25
            ),
        )
        endpoint(
            f"orders.amend+options[{i}]",
            "PUT",
            "/orders",
            None,
            {
                "order_id": order_id,
                "market_id": market,
                "size": size,
                "size_percent": 0.5,
                "price": price,
                "trigger_price": 1e-05,
            },
            lambda c, o=order_id, m=market, p=price, s=size: c.orders.amend(o, m, p, 1e-05, s, 0.5),
        )
        endpoint(f"orders.cancel_all[{i}]", "DELETE", "/orders/cancel_all", None, {}, lambda c: c.orders.cancel_all())
        start = rng.randrange(1_700_000_000, 1_800_000_000)
        endpoint(
            f"orders.list+filters[{i}]",
            "GET",
            "/orders",
            {"p_limit": 25, "p_order": "ASC", "p_page": i, "market_id": market, "status": "open", "start_time": start},
            {},
            lambda c, m=market, s=start, i=i: c.orders.list(
                market_id=m, status=OrderStatus.OPEN, start_time=s, p_limit=25, p_order="ASC", p_page=i
            ),
        )
        endpoint(
            f"fills.list[{i}]",
            "GET",
            "/fills",
            {"p_limit": 50, "p_order": "DESC", "p_page": 0, "market_id": "BTC-USD,ETH-USD"},
            {},
            lambda c: c.fills.list(market_id=["BTC-USD", "ETH-USD"]),
        )
        endpoint(
            f"candles.list[{i}]",
            "GET",
            "/candles",
            {"market_id": market, "timestamp_from": start, "timestamp_to": start + 3600, "period": "5"},
            {},
            lambda c, m=market, s=start: c.candles.list(m, s, s + 3600, CandlePeriod.M5),
        )
        endpoint(
            f"account.validate[{i}]",
            "GET",
            "/account/validate",
            {"jwt": f"eyJ.{i}~x+y/z"},
            {},
            lambda c, i=i: c.account.validate(f"eyJ.{i}~x+y/z"),
        )
        endpoint(
            f"jwt.update[{i}]",
            "POST",
            "/jwt",
            None,
            {"refresh_token": f"token-{i}", "is_client": False},
            lambda c, i=i: c.jwt.update(f"token-{i}"),
        )
        endpoint(
            f"deadman.create[{i}]",
            "POST",
            "/cancel_all_after",
            {"timeout": 30000 + i, "market_id": market},
            {},
            lambda c, m=market, i=i: c.deadman.create(30000 + i, m),
        )
        endpoint(
            f"deadman.remove[{i}]",
            "DELETE",
            "/cancel_all_after",
            {"market_id": market},
            {},
            lambda c, m=market: c.deadman.remove(m),
        )

    verbs = ["POST", "PUT", "DELETE", "GET"]
    for i in range(args.count):
        method = verbs[i % len(verbs)]
        path = rng.choice(["/orders", "/account/leverage", "/custom/things", "/positions"])
        if method == "GET":
            params: Any = {f"q{j}": value(rng, 1) for j in range(rng.randrange(1, 4))}
            params["flag"] = rng.random() < 0.5
            params["many"] = [1, 0.1, "a b"]
            params["skipped"] = None
            data: dict[str, Any] = {}
        else:
            params = None
            data = {f"f{j}_{rng.choice('abcxyz')}": value(rng) for j in range(rng.randrange(1, 6))}

        def act(c: Any, method: str = method, path: str = path, params: Any = params, data: Any = data) -> None:
            signed = {**data, "method": method, "path": path}
            c.sign_request(signed)
            verb = getattr(c.session, method.lower())
            if method == "GET":
                verb(f"{c.api_url}{path}", params=params, headers=c.headers)
            else:
                verb(f"{c.api_url}{path}", json=signed, headers=c.headers)

        record(f"session.{method.lower()}[{i}]", method, path, params, data, act)

    onboarding = []
    for i in range(5):
        private_key = "0x" + rng.randbytes(32).hex()
        client, _, _ = new_client(rabbitx, capture, rng, private_key=private_key)
        now = rng.randrange(1_700_000_000, 1_900_000_000)
        sent = captured(client, capture, now, client.onboarding.onboarding)
        onboarding.append({"name": f"onboarding[{i}]", "private_key": private_key, "now": now, "sent": sent})

    document = {
        "source": SOURCE.format(
            seed=args.seed,
            count=args.count,
            requests=requests.__version__,
            eth_account=importlib.metadata.version("eth-account"),
        ),
        "signature_lifetime_seconds": const.SIGNATURE_LIFETIME,
        "onboarding_message": const.ONBOARDING_MESSAGE,
        "requests": cases,
        "onboarding": onboarding,
    }
    json.dump(document, sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
