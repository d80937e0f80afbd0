"""POST /admin/players: create a player, an account per currency and its provider links."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response

from croupier.wallet.wiring import admin
from croupier.web import function, json_response, request

app, handler = function()


@app.post("/admin/players")
def create_player() -> Response[str]:
    return json_response(201, admin().create_player(request(app).body))
