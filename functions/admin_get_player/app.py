"""GET /admin/players/{player_id}: the player, its provider links and its balances."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from croupier.admin import PlayerView
from croupier.wallet.wiring import admin
from croupier.web import build_resolver, instrumented

app = build_resolver()


@app.get("/admin/players/<player_id>")
def get_player(player_id: str) -> PlayerView:
    return admin().player(player_id)


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
