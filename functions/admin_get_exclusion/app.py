"""GET /admin/players/{player_id}/exclusions: the player's exclusion, whether it applies now and from when it can be
lifted."""

from __future__ import annotations

from croupier.protection import ExclusionView
from croupier.wallet.wiring import protection
from croupier.web import function

app, handler = function()


@app.get("/admin/players/<player_id>/exclusions")
def get_exclusion(player_id: str) -> ExclusionView:
    return protection().exclusion(player_id)
