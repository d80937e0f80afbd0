"""GET /api/public/rgs/revenue?from=YYYY-MM-DD&to=YYYY-MM-DD: GGR and shares per day and currency (signed)."""

from __future__ import annotations

from croupier.rgs import reports
from croupier.rgs.operators import UnknownOperator
from croupier.rgs.reports import RevenueAnswer
from croupier.rgs.wiring import operators, rgs_store, sessions
from croupier.web import function, request

app, handler = function(error_fields={"ok": False})


@app.get("/api/public/rgs/revenue")
def revenue() -> RevenueAnswer:
    operator_id = sessions().authenticate(request(app))
    settings = operators().settings(operator_id)
    if settings is None:
        raise UnknownOperator("unknown operator")
    return reports.revenue(rgs_store(), operator_id, settings, app.current_event.query_string_parameters or {})
