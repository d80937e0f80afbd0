"""GET /rgs/play/state: the player's session and its last rounds (the session token authorises it)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from croupier.rgs.rounds import SessionState
from croupier.rgs.wiring import bearer_token, game
from croupier.signing import Headers
from croupier.web import build_resolver, instrumented

app = build_resolver()


@app.get("/rgs/play/state")
def state() -> SessionState:
    return game().state(bearer_token(Headers(app.current_event.headers)))


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
