"""PATCH /admin/rgs/operators/{operator_id}: change an operator's settings (limits, allow-lists, state)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from croupier.rgs.operators import OperatorView
from croupier.rgs.wiring import operators
from croupier.signing import RawRequest
from croupier.web import build_resolver, instrumented

app = build_resolver()


@app.patch("/admin/rgs/operators/<operator_id>")
def update_operator(operator_id: str) -> OperatorView:
    return operators().change(operator_id, RawRequest.from_apigw_v2(app.current_event.raw_event).body)


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
