"""POST /rgs/play/cashout: cash out a round at the multiplier the server computes on receipt."""

from __future__ import annotations

from croupier.rgs.rounds import PlayerRound
from croupier.rgs.wiring import bearer_token, game, time_left
from croupier.web import function, request

app, handler = function()


@app.post("/rgs/play/cashout")
def play() -> PlayerRound:
    received = request(app)
    return game().cash_out(bearer_token(received.headers), received.body, time_left_ms=time_left(app.lambda_context))
