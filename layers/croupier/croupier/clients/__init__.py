"""Clients of the providers' APIs we call (providers.md section 3 and the RabbitX-style scheme)."""

from croupier.clients.http import HttpResponse, Transport, TransportError, UrllibTransport
from croupier.clients.rabbitx import RabbitXApiError, RabbitXClient
from croupier.clients.ruby_team import (
    Bet,
    Brand,
    BrandCreated,
    Page,
    Player,
    Recharge,
    RubyApiError,
    RubyTeamClient,
    SportsBet,
)

__all__ = [
    "Bet",
    "Brand",
    "BrandCreated",
    "HttpResponse",
    "Page",
    "Player",
    "RabbitXApiError",
    "RabbitXClient",
    "Recharge",
    "RubyApiError",
    "RubyTeamClient",
    "SportsBet",
    "Transport",
    "TransportError",
    "UrllibTransport",
]
