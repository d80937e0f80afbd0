"""PUT /admin/players/{player_id}/limits: set an account's deposit, loss and wager limits (decreases at once, increases
and removals after 24 h)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from croupier.protection import SetLimitsAnswer, principal_of
from croupier.signing import RawRequest
from croupier.wallet.wiring import protection
from croupier.web import build_resolver, instrumented

app = build_resolver()


def _body() -> bytes:
    return RawRequest.from_apigw_v2(app.current_event.raw_event).body


@app.put("/admin/players/<player_id>/limits")
def set_limits(player_id: str) -> SetLimitsAnswer:
    return protection().set_limits(player_id, _body(), principal_of(app.current_event.raw_event))


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
