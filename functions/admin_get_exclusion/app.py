"""GET /admin/players/{player_id}/exclusions: the player's exclusion, whether it applies now and from when it can be
lifted."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from croupier.protection import ExclusionView
from croupier.wallet.wiring import protection
from croupier.web import build_resolver, instrumented

app = build_resolver()


@app.get("/admin/players/<player_id>/exclusions")
def get_exclusion(player_id: str) -> ExclusionView:
    return protection().exclusion(player_id)


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
