"""POST /admin/players/{player_id}/exclusions: exclude the player from gambling (every currency, every brand): every
stake refused until it ends or is lifted."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response

from croupier.protection import principal_of
from croupier.wallet.wiring import protection
from croupier.web import function, json_response, request

app, handler = function()


@app.post("/admin/players/<player_id>/exclusions")
def exclude(player_id: str) -> Response[str]:
    result = protection().exclude(player_id, request(app).body, principal_of(app.current_event.raw_event))
    return json_response(201, result)
