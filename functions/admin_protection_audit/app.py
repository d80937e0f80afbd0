"""GET /admin/players/{player_id}/protection-audit: every change to the player's exclusions and limits: who (the IAM
principal), when and what, oldest first, paginated."""

from __future__ import annotations

from croupier.protection import ProtectionAuditPage
from croupier.wallet.wiring import protection
from croupier.web import function

app, handler = function()


@app.get("/admin/players/<player_id>/protection-audit")
def protection_audit(player_id: str) -> ProtectionAuditPage:
    return protection().audit(player_id, app.current_event.query_string_parameters or {})
