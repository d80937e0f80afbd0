"""POST /api/public/rgs/launch: an operator opens a player session (RGS v1 signed)."""

from __future__ import annotations

from croupier.rgs.sessions import LaunchAnswer
from croupier.rgs.wiring import public_base_url, sessions
from croupier.web import function, request

app, handler = function(error_fields={"ok": False})


@app.post("/api/public/rgs/launch")
def launch() -> LaunchAnswer:
    received = request(app)
    return sessions().launch(received, public_base_url(received.headers))
