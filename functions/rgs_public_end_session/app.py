"""DELETE /api/public/rgs/sessions/{session_id}: an operator ends a player session (RGS v1 signed)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from croupier.rgs.sessions import EndAnswer
from croupier.rgs.wiring import sessions
from croupier.signing import RawRequest
from croupier.web import build_resolver, instrumented

app = build_resolver(error_fields={"ok": False})


@app.delete("/api/public/rgs/sessions/<session_id>")
def end_session(session_id: str) -> EndAnswer:
    return sessions().end(RawRequest.from_apigw_v2(app.current_event.raw_event), session_id)


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
