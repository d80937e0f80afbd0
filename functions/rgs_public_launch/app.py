"""POST /api/public/rgs/launch: an operator opens a player session (RGS v1 signed)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from croupier.rgs.sessions import LaunchAnswer
from croupier.rgs.wiring import public_base_url, sessions
from croupier.signing import RawRequest
from croupier.web import build_resolver, instrumented

app = build_resolver(error_fields={"ok": False})


@app.post("/api/public/rgs/launch")
def launch() -> LaunchAnswer:
    request = RawRequest.from_apigw_v2(app.current_event.raw_event)
    return sessions().launch(request, public_base_url(request.headers))


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
