"""GET /rgs/play/state: the player's session and its last rounds (the session token authorises it)."""

from __future__ import annotations

from croupier.rgs.rounds import SessionState
from croupier.rgs.wiring import bearer_token, game
from croupier.signing import Headers
from croupier.web import function

app, handler = function()


@app.get("/rgs/play/state")
def state() -> SessionState:
    return game().state(bearer_token(Headers(app.current_event.headers)))
