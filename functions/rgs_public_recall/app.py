"""GET /api/public/rgs/players/{operator_player_id}/rounds: an operator's game recall of one of its players
(RGS v1 signed): the player's rounds, newest first, paged by an opaque cursor; the seed after settlement."""

from __future__ import annotations

from croupier.rgs import reports
from croupier.rgs.reports import RecallAnswer
from croupier.rgs.wiring import rgs_store, sessions
from croupier.web import function, request

app, handler = function(error_fields={"ok": False})


@app.get("/api/public/rgs/players/<operator_player_id>/rounds")
def recall(operator_player_id: str) -> RecallAnswer:
    operator_id = sessions().authenticate(request(app))
    query = app.current_event.query_string_parameters or {}
    return reports.recall(rgs_store(), operator_id, operator_player_id, query)
