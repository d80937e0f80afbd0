"""GET /api/public/rgs/round/{round_id}: a round's public data (RGS v1 signed); the seed after settlement."""

from __future__ import annotations

from croupier.rgs import reports
from croupier.rgs.reports import RoundView
from croupier.rgs.wiring import rgs_store, sessions
from croupier.web import function, request

app, handler = function(error_fields={"ok": False})


@app.get("/api/public/rgs/round/<round_id>")
def read_round(round_id: str) -> RoundView:
    operator_id = sessions().authenticate(request(app))
    return reports.round_view(rgs_store().read_round(round_id), operator_id)
