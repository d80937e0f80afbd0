"""POST /admin/rgs/operators: provision an RGS operator; its hmac_secret is in this answer and nowhere else."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from croupier.rgs.wiring import operators
from croupier.signing import RawRequest
from croupier.web import build_resolver, instrumented, json_response

app = build_resolver()


@app.post("/admin/rgs/operators")
def create_operator() -> Response[str]:
    return json_response(201, operators().provision(RawRequest.from_apigw_v2(app.current_event.raw_event).body))


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
