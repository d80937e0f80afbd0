"""GET /admin/players/{player_id}/limits: the player's limits per currency, their pending increases and the current
windows' usage."""

from __future__ import annotations

from croupier.protection import PlayerLimitsView
from croupier.wallet.wiring import protection
from croupier.web import function

app, handler = function()


@app.get("/admin/players/<player_id>/limits")
def get_limits(player_id: str) -> PlayerLimitsView:
    return protection().limits(player_id)
