"""GET /admin/players/{player_id}/limits: the player's limits per currency, their pending increases and the current
windows' usage."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from croupier.protection import PlayerLimitsView
from croupier.wallet.wiring import protection
from croupier.web import build_resolver, instrumented

app = build_resolver()


@app.get("/admin/players/<player_id>/limits")
def get_limits(player_id: str) -> PlayerLimitsView:
    return protection().limits(player_id)


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
