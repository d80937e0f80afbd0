"""POST /admin/rgs/operators/{operator_id}/keys: a new key pair (shown once); older keys retire after the overlap."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response

from croupier.rgs.wiring import operators
from croupier.web import function, json_response, request

app, handler = function()


@app.post("/admin/rgs/operators/<operator_id>/keys")
def rotate_key(operator_id: str) -> Response[str]:
    return json_response(201, operators().rotate_key(operator_id, request(app).body))
