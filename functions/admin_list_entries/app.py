"""GET /admin/players/{player_id}/entries: an account's ledger entries, newest first, paginated."""

from __future__ import annotations

from croupier.admin import EntriesPage
from croupier.wallet.wiring import admin
from croupier.web import function

app, handler = function()


@app.get("/admin/players/<player_id>/entries")
def list_entries(player_id: str) -> EntriesPage:
    return admin().entries(player_id, app.current_event.query_string_parameters or {})
