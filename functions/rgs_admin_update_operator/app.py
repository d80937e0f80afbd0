"""PATCH /admin/rgs/operators/{operator_id}: change an operator's settings (limits, allow-lists, state)."""

from __future__ import annotations

from croupier.rgs.operators import OperatorView
from croupier.rgs.wiring import operators
from croupier.web import function, request

app, handler = function()


@app.patch("/admin/rgs/operators/<operator_id>")
def update_operator(operator_id: str) -> OperatorView:
    return operators().change(operator_id, request(app).body)
