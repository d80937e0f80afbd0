"""Players of a test's own: created and funded through the admin handlers (over the local stack's HTTP path),
or, for a player the handlers have not seen, through the admin service and a Ledger of its own."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from croupier import money
from croupier.ledger import AccountKey, Kind, Ledger, Movement
from croupier.wallet import wiring
from croupier_local.apigw import HttpRequest, HttpResponse
from croupier_local.server import LocalStack

RUBY_CURRENCY = "KRW"


def units(amount: str) -> int:
    """Internal units of a decimal string of at most 2 places."""
    return money.from_decimal_string(amount, max_places=2)


# --- through the admin handlers -------------------------------------------------------------------------------


def admin_post(stack: LocalStack, path: str, data: dict[str, Any]) -> HttpResponse:
    return stack.handle(
        HttpRequest("POST", path, headers=[("Content-Type", "application/json")], body=json.dumps(data).encode())
    )


def create_player(stack: LocalStack, **fields: Any) -> None:
    """``POST /admin/players`` with these fields, answered 201."""
    created = admin_post(stack, "/admin/players", fields)
    assert created.status == 201, created.body


def fund_player(stack: LocalStack, player_id: str, currency: str, amount: str, reference: str) -> None:
    """``POST /admin/players/<player_id>/deposits``, answered 201."""
    data = {"currency": currency, "amount": amount, "reference": reference}
    funded = admin_post(stack, f"/admin/players/{player_id}/deposits", data)
    assert funded.status == 201, funded.body


# --- behind the handlers' back ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Player:
    """A player with a KRW account, linked to a Ruby id."""

    player_id: str
    ruby_id: int

    @property
    def account(self) -> AccountKey:
        return AccountKey(self.player_id, RUBY_CURRENCY)


def cold_ruby_player(prefix: str, first_ruby_id: int, deposit: str) -> Player:
    """A fresh player (``<prefix>-`` id) linked to a fresh Ruby id above ``first_ruby_id``, funded through a
    Ledger of its own: nothing here touches the handlers' snapshot cache or their Ruby links."""
    player = Player(f"{prefix}-{uuid.uuid4().hex[:20]}", first_ruby_id + (uuid.uuid4().int >> 80))
    body = {"player_id": player.player_id, "currency": RUBY_CURRENCY, "links": {"ruby": player.ruby_id}}
    wiring.admin().create_player(json.dumps(body).encode())
    seed = Movement("admin", f"seed-{player.player_id}", player.account, Kind.CREDIT, units(deposit))
    Ledger(wiring.ledger_store()).move(seed)
    return player
