"""GET /api/public/rgs/revenue?from=YYYY-MM-DD&to=YYYY-MM-DD: GGR and shares per day and currency (signed)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from croupier.rgs import reports
from croupier.rgs.operators import UnknownOperator
from croupier.rgs.reports import RevenueAnswer
from croupier.rgs.wiring import operators, rgs_store, sessions
from croupier.signing import RawRequest
from croupier.web import build_resolver, instrumented

app = build_resolver(error_fields={"ok": False})


@app.get("/api/public/rgs/revenue")
def revenue() -> RevenueAnswer:
    operator_id = sessions().authenticate(RawRequest.from_apigw_v2(app.current_event.raw_event))
    settings = operators().settings(operator_id)
    if settings is None:
        raise UnknownOperator("unknown operator")
    return reports.revenue(rgs_store(), operator_id, settings, app.current_event.query_string_parameters or {})


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
