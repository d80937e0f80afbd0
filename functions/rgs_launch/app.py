"""POST /rgs/launch: an external RGS's launch_url for a player (IAM-authorised)."""

from __future__ import annotations

from croupier.launch import RgsLaunchAnswer
from croupier.wallet.wiring import launcher
from croupier.web import function, request

app, handler = function()


@app.post("/rgs/launch")
def launch() -> RgsLaunchAnswer:
    return launcher().rgs(request(app).body)
