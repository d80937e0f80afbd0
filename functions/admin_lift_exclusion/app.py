"""DELETE /admin/players/{player_id}/exclusions: lift the player's exclusion once its cooling-off is over (409 COOL_OFF
before)."""

from __future__ import annotations

from croupier.jsonbody import refuse_oversized
from croupier.protection import ExclusionView, principal_of
from croupier.wallet.wiring import protection
from croupier.web import function, request

app, handler = function()


@app.delete("/admin/players/<player_id>/exclusions")
def lift_exclusion(player_id: str) -> ExclusionView:
    refuse_oversized(request(app).body)  # it takes none: 413 as every route
    return protection().lift(player_id, principal_of(app.current_event.raw_event))
