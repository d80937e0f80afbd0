"""POST /admin/players/{player_id}/withdrawals: debits the account, never below zero; idempotent on reference."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response

from croupier.wallet.wiring import admin
from croupier.web import function, json_response, request

app, handler = function()


@app.post("/admin/players/<player_id>/withdrawals")
def withdraw(player_id: str) -> Response[str]:
    result, replayed = admin().withdraw(player_id, request(app).body)
    return json_response(200 if replayed else 201, result)
