"""DELETE /api/public/rgs/sessions/{session_id}: an operator ends a player session (RGS v1 signed)."""

from __future__ import annotations

from croupier.rgs.sessions import EndAnswer
from croupier.rgs.wiring import sessions
from croupier.web import function, request

app, handler = function(error_fields={"ok": False})


@app.delete("/api/public/rgs/sessions/<session_id>")
def end_session(session_id: str) -> EndAnswer:
    return sessions().end(request(app), session_id)
