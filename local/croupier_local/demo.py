"""``python -m croupier_local.demo``: a real crash game on the running local stack (``make dev``), in a browser.

Croupier plays its own operator, through the very routes real parties use:

1. a player with money: ``POST /admin/players`` and ``POST /admin/players/<id>/deposits``;
2. an RGS operator whose ``wallet_callback_url`` is the stack's own ``/rgs-wallet`` adapter:
   ``POST /admin/rgs/operators`` (the answer shows the operator's ``api_key`` and ``hmac_secret`` once);
3. the same credentials stored as ``rgs-wallet/operators/<operator_id>`` in the stack's Secrets Manager
   (moto's server, whose endpoint the running stack writes to ``.local/stack.json``), so the adapter accepts
   the RGS's signed wallet calls;
4. a session launched with an RGS v1 signed ``POST /api/public/rgs/launch``.

It prints the launch URL (open it, or embed it in an iframe) and the verifier's URL. DEV ONLY.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from croupier import money
from croupier.secrets import SecretStore
from croupier.signing import rgs

DEFAULT_BASE_URL = "http://127.0.0.1:3000"


class DemoError(RuntimeError):
    """A step of the demo failed; the message says which and what the stack answered."""


@dataclass(frozen=True)
class Demo:
    player_id: str
    currency: str
    operator_id: str
    session_id: str
    launch_url: str
    verify_url: str
    expires_at: str
    balance_minor: int


def call(
    method: str, url: str, body: dict[str, Any] | None = None, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    """One HTTP call to the stack: the status and the JSON answer."""
    data = json.dumps(body, separators=(",", ":")).encode() if body is not None else None
    request = urllib.request.Request(  # noqa: S310 (the URL is the local stack's, http on loopback)
        url, data=data, method=method, headers={"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")
    except urllib.error.URLError as error:
        raise DemoError(f"cannot reach {url} ({error.reason}): is the local stack running (make dev)?") from None


def expect(step: str, answer: tuple[int, Any], *statuses: int) -> Any:
    status, body = answer
    if status not in statuses:
        raise DemoError(f"{step}: HTTP {status} {json.dumps(body)}")
    return body


def run(
    base_url: str = DEFAULT_BASE_URL,
    store: SecretStore | None = None,
    *,
    player_id: str | None = None,
    currency: str = "USD",
    deposit: str = "1000.00",
    ttl_seconds: int = 3600,
    lang: str | None = None,
    clock: Callable[[], float] = time.time,
) -> Demo:
    """Provision everything a game needs on the stack at ``base_url`` and launch a session."""
    base = base_url.rstrip("/")
    store = store or stack_secret_store()
    player = player_id or "demo-" + uuid.uuid4().hex[:8]

    created = call("POST", f"{base}/admin/players", {"player_id": player, "currency": currency})
    expect("create the player", created, 201, 409)  # 409: the player exists already; top it up
    expect(
        "deposit",
        call(
            "POST",
            f"{base}/admin/players/{player}/deposits",
            {"currency": currency, "amount": deposit, "reference": "demo-" + uuid.uuid4().hex},
        ),
        201,
    )
    account = expect("read the player", call("GET", f"{base}/admin/players/{player}"), 200)
    balance_minor = _balance_minor(account, currency)

    operator = expect(
        "provision the RGS operator",
        call(
            "POST",
            f"{base}/admin/rgs/operators",
            {"wallet_callback_url": f"{base}/rgs-wallet", "allowed_currencies": [currency]},
        ),
        200,
        201,
    )
    operator_id, api_key, hmac_secret = operator["operator_id"], operator["api_key"], operator["hmac_secret"]
    accept_own_wallet_calls(store, operator_id, api_key, hmac_secret)

    path = "/api/public/rgs/launch"
    body = {
        "operator_player_id": player,
        "currency": currency,
        "balance_minor": balance_minor,
        "ttl_seconds": ttl_seconds,
    } | ({"lang": lang} if lang else {})
    raw = json.dumps(body, separators=(",", ":")).encode()
    signed = rgs.headers(operator_id, api_key, hmac_secret, "POST", path, raw, clock=clock)
    request = urllib.request.Request(  # noqa: S310
        base + path, data=raw, method="POST", headers={"Content-Type": "application/json", **signed}
    )
    try:
        with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310
            launched = json.loads(response.read())
    except urllib.error.HTTPError as error:
        raise DemoError(f"launch the session: HTTP {error.code} {error.read().decode(errors='replace')}") from None
    return Demo(
        player_id=player,
        currency=currency,
        operator_id=operator_id,
        session_id=launched["session_id"],
        launch_url=launched["launch_url"],
        verify_url=f"{base}/verify",
        expires_at=launched["expires_at"],
        balance_minor=balance_minor,
    )


def accept_own_wallet_calls(store: SecretStore, operator_id: str, api_key: str, hmac_secret: str) -> None:
    """The wallet side of Croupier as its own operator: the RGS-wallet adapter accepts the RGS's calls signed
    with the operator's credentials (its ``rgs-wallet/operators/<operator_id>`` secret)."""
    store.put(f"rgs-wallet/operators/{operator_id}", {"api_key": api_key, "hmac_secrets": [hmac_secret]})


def _balance_minor(account: dict[str, Any], currency: str) -> int:
    """The player's balance in the currency's minor units, as the launch reports it to the game."""
    balances = account.get("balances") or {}
    value = balances.get(currency) if isinstance(balances, dict) else None
    if value is None:
        return 0
    amount = Decimal(str(value["balance"] if isinstance(value, dict) else value))
    return int(amount.scaleb(money.exponent(currency)))


STACK_FILE = Path(".local") / "stack.json"
"""What the running ``make dev`` stack writes at start: its URL, DynamoDB and AWS (moto) endpoints, secrets prefix."""


def running_stack(path: str | os.PathLike[str] | None = None) -> dict[str, str]:
    """The endpoints of the running local stack, from ``.local/stack.json``."""
    if path is None:
        from croupier_local.__main__ import find_repo_root

        path = find_repo_root() / STACK_FILE
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DemoError(f"no {path}: start the local stack first (make dev)") from None
    if not isinstance(document, dict) or not isinstance(document.get("aws_endpoint"), str):
        raise DemoError(f"{path} does not describe a running stack; restart it (make dev)")
    return {str(key): str(value) for key, value in document.items()}


def stack_secret_store(aws_endpoint: str | None = None, prefix: str | None = None) -> SecretStore:
    """The running stack's Secrets Manager, through the store the functions use."""
    if aws_endpoint is None or prefix is None:
        stack = running_stack()
        aws_endpoint = aws_endpoint or stack["aws_endpoint"]
        prefix = prefix or stack.get("secrets_prefix", "croupier/dev/")
    from croupier_local.aws_services import secret_store

    return secret_store(aws_endpoint, prefix)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m croupier_local.demo", description="Launch a crash game on the running local stack."
    )
    parser.add_argument("--base-url", default=DEFAULT_BASE_URL, help=f"the local stack (default {DEFAULT_BASE_URL})")
    parser.add_argument(
        "--aws-endpoint", help="the stack's Secrets Manager (moto) endpoint (default: from .local/stack.json)"
    )
    parser.add_argument("--player", help="the player id (default: a new demo-xxxxxxxx)")
    parser.add_argument("--currency", default="USD")
    parser.add_argument("--deposit", default="1000.00", help="deposited before the launch (default 1000.00)")
    parser.add_argument("--ttl", type=int, default=3600, help="session lifetime in seconds (default 3600)")
    parser.add_argument("--lang", choices=["en", "ko"], help="the game page's language (default en)")
    args = parser.parse_args(argv)
    try:
        demo = run(
            args.base_url,
            stack_secret_store(args.aws_endpoint, "croupier/dev/" if args.aws_endpoint else None),
            player_id=args.player,
            currency=args.currency,
            deposit=args.deposit,
            ttl_seconds=args.ttl,
            lang=args.lang,
        )
    except DemoError as error:
        print(f"demo: {error}", file=sys.stderr)
        return 1
    print("Croupier crash demo (DEV ONLY)")
    print(f"  player:    {demo.player_id} ({demo.balance_minor} minor units of {demo.currency})")
    print(f"  operator:  {demo.operator_id} (wallet: {args.base_url.rstrip('/')}/rgs-wallet)")
    print(f"  expires:   {demo.expires_at}")
    print(f"  play:      {demo.launch_url}")
    print(f"  verify:    {demo.verify_url}")
    print(f"  ledger:    {args.base_url.rstrip('/')}/admin/players/{demo.player_id}/entries?currency={demo.currency}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
