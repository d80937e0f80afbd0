"""POST /admin/players/{player_id}/exclusions: exclude the player from gambling (every currency, every brand): every
stake refused until it ends or is lifted."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from croupier.protection import principal_of
from croupier.signing import RawRequest
from croupier.wallet.wiring import protection
from croupier.web import build_resolver, instrumented, json_response

app = build_resolver()


def _body() -> bytes:
    return RawRequest.from_apigw_v2(app.current_event.raw_event).body


@app.post("/admin/players/<player_id>/exclusions")
def exclude(player_id: str) -> Response[str]:
    result = protection().exclude(player_id, _body(), principal_of(app.current_event.raw_event))
    return json_response(201, result)


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
