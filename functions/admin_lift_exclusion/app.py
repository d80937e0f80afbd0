"""DELETE /admin/players/{player_id}/exclusions: lift the player's exclusion once its cooling-off is over (409 COOL_OFF
before)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from croupier.jsonbody import refuse_oversized
from croupier.protection import ExclusionView, principal_of
from croupier.signing import RawRequest
from croupier.wallet.wiring import protection
from croupier.web import build_resolver, instrumented

app = build_resolver()


@app.delete("/admin/players/<player_id>/exclusions")
def lift_exclusion(player_id: str) -> ExclusionView:
    refuse_oversized(RawRequest.from_apigw_v2(app.current_event.raw_event).body)  # it takes none: 413 as every route
    return protection().lift(player_id, principal_of(app.current_event.raw_event))


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
