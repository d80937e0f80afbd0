"""POST /sportsbook/launch: the sportsbook's iframe URL for a player (IAM-authorised)."""

from __future__ import annotations

from croupier.launch import SportsbookLaunchAnswer
from croupier.wallet.wiring import launcher
from croupier.web import function, request

app, handler = function()


@app.post("/sportsbook/launch")
def launch() -> SportsbookLaunchAnswer:
    return launcher().sportsbook(request(app).body)
