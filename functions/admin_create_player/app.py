"""POST /admin/players: create a player, an account per currency and its provider links."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from croupier.signing import RawRequest
from croupier.wallet.wiring import admin
from croupier.web import build_resolver, instrumented, json_response

app = build_resolver()


@app.post("/admin/players")
def create_player() -> Response[str]:
    body = RawRequest.from_apigw_v2(app.current_event.raw_event).body
    return json_response(201, admin().create_player(body))


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
