"""POST /rgs/play/cashout: cash out a round at the multiplier the server computes on receipt."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from croupier.rgs.rounds import PlayerRound
from croupier.rgs.wiring import bearer_token, game, time_left
from croupier.signing import RawRequest
from croupier.web import build_resolver, instrumented

app = build_resolver()


@app.post("/rgs/play/cashout")
def play() -> PlayerRound:
    request = RawRequest.from_apigw_v2(app.current_event.raw_event)
    return game().cash_out(bearer_token(request.headers), request.body, time_left_ms=time_left(app.lambda_context))


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
