"""PUT /admin/players/{player_id}/limits: set an account's deposit, loss and wager limits (decreases at once, increases
and removals after 24 h)."""

from __future__ import annotations

from croupier.protection import SetLimitsAnswer, principal_of
from croupier.wallet.wiring import protection
from croupier.web import function, request

app, handler = function()


@app.put("/admin/players/<player_id>/limits")
def set_limits(player_id: str) -> SetLimitsAnswer:
    return protection().set_limits(player_id, request(app).body, principal_of(app.current_event.raw_event))
