"""GET /admin/players/{player_id}/entries: an account's ledger entries, newest first, paginated."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from croupier.admin import EntriesPage
from croupier.wallet.wiring import admin
from croupier.web import build_resolver, instrumented

app = build_resolver()


@app.get("/admin/players/<player_id>/entries")
def list_entries(player_id: str) -> EntriesPage:
    return admin().entries(player_id, app.current_event.query_string_parameters or {})


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
