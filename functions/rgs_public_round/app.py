"""GET /api/public/rgs/round/{round_id}: a round's public data (RGS v1 signed); the seed after settlement."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from croupier.rgs import reports
from croupier.rgs.reports import RoundView
from croupier.rgs.wiring import rgs_store, sessions
from croupier.signing import RawRequest
from croupier.web import build_resolver, instrumented

app = build_resolver(error_fields={"ok": False})


@app.get("/api/public/rgs/round/<round_id>")
def read_round(round_id: str) -> RoundView:
    operator_id = sessions().authenticate(RawRequest.from_apigw_v2(app.current_event.raw_event))
    return reports.round_view(rgs_store().read_round(round_id), operator_id)


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
