"""POST /sportsbook/transaction: the sportsbook's transaction callback (providers.md section 4).

Every processed answer is HTTP 200 JSON; see croupier.wallet.sportsbook for the codes.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from croupier.signing import RawRequest
from croupier.wallet.wiring import sportsbook_wallet
from croupier.web import build_resolver, instrumented, json_response

app = build_resolver()


@app.post("/sportsbook/transaction")
def transaction() -> Response[str]:
    answer = sportsbook_wallet().transaction(RawRequest.from_apigw_v2(app.current_event.raw_event))
    return json_response(answer.status, answer.body)


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
