"""POST /admin/players/{player_id}/deposits: credits the account, idempotent on the caller's reference."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from croupier.signing import RawRequest
from croupier.wallet.wiring import admin
from croupier.web import build_resolver, instrumented, json_response

app = build_resolver()


@app.post("/admin/players/<player_id>/deposits")
def deposit(player_id: str) -> Response[str]:
    body = RawRequest.from_apigw_v2(app.current_event.raw_event).body
    result, replayed = admin().deposit(player_id, body)
    return json_response(200 if replayed else 201, result)


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
