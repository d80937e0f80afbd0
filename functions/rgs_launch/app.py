"""POST /rgs/launch: an external RGS's launch_url for a player (IAM-authorised)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from croupier.launch import RgsLaunchAnswer
from croupier.signing import RawRequest
from croupier.wallet.wiring import launcher
from croupier.web import build_resolver, instrumented

app = build_resolver()


@app.post("/rgs/launch")
def launch() -> RgsLaunchAnswer:
    return launcher().rgs(RawRequest.from_apigw_v2(app.current_event.raw_event).body)


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
