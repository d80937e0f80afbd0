"""GET /admin/players/{player_id}: the player, its provider links and its balances."""

from __future__ import annotations

from croupier.admin import PlayerView
from croupier.wallet.wiring import admin
from croupier.web import function

app, handler = function()


@app.get("/admin/players/<player_id>")
def get_player(player_id: str) -> PlayerView:
    return admin().player(player_id)
