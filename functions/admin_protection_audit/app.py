"""GET /admin/players/{player_id}/protection-audit: every change to the player's exclusions and limits: who (the IAM
principal), when and what, oldest first, paginated."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from croupier.protection import ProtectionAuditPage
from croupier.wallet.wiring import protection
from croupier.web import build_resolver, instrumented

app = build_resolver()


@app.get("/admin/players/<player_id>/protection-audit")
def protection_audit(player_id: str) -> ProtectionAuditPage:
    return protection().audit(player_id, app.current_event.query_string_parameters or {})


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
