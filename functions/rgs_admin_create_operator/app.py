"""POST /admin/rgs/operators: provision an RGS operator; its hmac_secret is in this answer and nowhere else."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response

from croupier.rgs.wiring import operators
from croupier.web import function, json_response, request

app, handler = function()


@app.post("/admin/rgs/operators")
def create_operator() -> Response[str]:
    return json_response(201, operators().provision(request(app).body))
