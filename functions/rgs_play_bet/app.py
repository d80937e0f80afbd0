"""POST /rgs/play/bet: place a bet in the crash game (the session token authorises it)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from croupier.rgs.rounds import BetAnswer
from croupier.rgs.wiring import bearer_token, game, time_left
from croupier.signing import RawRequest
from croupier.web import build_resolver, instrumented

app = build_resolver()


@app.post("/rgs/play/bet")
def play() -> BetAnswer:
    request = RawRequest.from_apigw_v2(app.current_event.raw_event)
    return game().bet(bearer_token(request.headers), request.body, time_left_ms=time_left(app.lambda_context))


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
