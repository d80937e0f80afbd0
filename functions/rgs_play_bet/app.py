"""POST /rgs/play/bet: place a bet in the crash game (the session token authorises it)."""

from __future__ import annotations

from croupier.rgs.rounds import BetAnswer
from croupier.rgs.wiring import bearer_token, game, time_left
from croupier.web import function, request

app, handler = function()


@app.post("/rgs/play/bet")
def play() -> BetAnswer:
    received = request(app)
    return game().bet(bearer_token(received.headers), received.body, time_left_ms=time_left(app.lambda_context))
