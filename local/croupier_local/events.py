"""Sample events in ``events/``: refresh the signature of a signed one so that it verifies now.

A signed event's timestamp is old by the time anyone runs it, so a provider's verifier answers 401.
``python -m croupier_local.events events/ruby_debit.json > /tmp/event.json`` re-signs it with the
dev-only secret from ``local/dev-secrets.json`` at the current time; then
``sam local invoke RubyDebitFunction -e /tmp/event.json`` (where Docker exists) gets past the check.
"""

from __future__ import annotations

import base64
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from croupier.secrets import FileSecretStore, SecretStore
from croupier.signing import rgs, ruby_callback

DEFAULT_SECRETS = Path(__file__).resolve().parents[1] / "dev-secrets.json"


def body_bytes(event: dict[str, Any]) -> bytes:
    body = event.get("body") or ""
    return base64.b64decode(body) if event.get("isBase64Encoded") else body.encode("utf-8")


def refresh_signature(
    event: dict[str, Any],
    *,
    store: SecretStore | None = None,
    secrets_file: Path = DEFAULT_SECRETS,
    clock: Callable[[], float] = time.time,
) -> dict[str, Any]:
    """A copy of ``event`` whose provider signature headers are valid at ``clock()`` (the sportsbook's hash
    has no timestamp: it stays valid as it is). The secrets are the callers': the committed dev-only ones,
    or ``store`` (the stack's Secrets Manager, for an operator provisioned at run time)."""
    refreshed: dict[str, Any] = json.loads(json.dumps(event))
    headers: dict[str, str] = refreshed.get("headers", {})
    store = store or FileSecretStore(secrets_file)
    key = headers.get("x-aggregator-key")
    if key is not None:
        secret = store.get(f"ruby/brands/{key}")["api_secret"]
        signed = ruby_callback.headers(key, secret, body_bytes(refreshed), clock=clock)
        headers.update({name.lower(): value for name, value in signed.items()})
    operator_id = headers.get("x-operator-id")
    raw_path = refreshed.get("rawPath", "")
    if operator_id is not None and raw_path.startswith(("/rgs-wallet/", "/api/public/rgs/")):
        if raw_path.startswith("/rgs-wallet/"):  # an external RGS calling our wallet
            config = store.get(f"rgs-wallet/operators/{operator_id}")
            api_key, secret = config["api_key"], config["hmac_secrets"][0]
        else:  # an operator calling our RGS
            api_key = headers["x-operator-key"]
            secret = store.get(f"rgs/operators/{operator_id}")["keys"][api_key]
        query = refreshed.get("rawQueryString") or ""
        path = raw_path + (f"?{query}" if query else "")
        method = refreshed["requestContext"]["http"]["method"]
        signed = rgs.headers(operator_id, api_key, secret, method, path, body_bytes(refreshed), clock=clock)
        headers.update({name.lower(): value for name, value in signed.items()})
    return refreshed


def curl_headers(body: str, *, key: str = "dev-ruby-brand-key", secrets_file: Path = DEFAULT_SECRETS) -> str:
    """``-H`` options for curl that sign ``body`` as Ruby would, with the dev-only brand, now."""
    secret = FileSecretStore(secrets_file).get(f"ruby/brands/{key}")["api_secret"]
    signed = ruby_callback.headers(key, secret, body.encode("utf-8"))
    return " ".join(f"-H '{name}: {value}'" for name, value in signed.items())


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) == 2 and args[0] == "--ruby-headers":
        print(curl_headers(args[1]))
        return 0
    if len(args) != 1:
        print(
            "usage: python -m croupier_local.events events/<name>.json\n"
            "       python -m croupier_local.events --ruby-headers '<exact JSON body>'",
            file=sys.stderr,
        )
        return 2
    event = json.loads(Path(args[0]).read_text(encoding="utf-8"))
    print(json.dumps(refresh_signature(event), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
