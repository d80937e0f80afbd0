"""POST /rgs-wallet/bet: an external RGS's bet call to our wallet (providers.md section 5)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from croupier.signing import RawRequest
from croupier.wallet.rgs import WalletAnswer
from croupier.wallet.wiring import rgs_wallet
from croupier.web import build_resolver, instrumented

app = build_resolver(error_fields={"ok": False})


@app.post("/rgs-wallet/bet")
def bet() -> WalletAnswer:
    return rgs_wallet().bet(RawRequest.from_apigw_v2(app.current_event.raw_event))


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
