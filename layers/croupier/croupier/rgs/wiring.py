"""The RGS's dependencies, built once per execution environment on first use (never at import)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

from croupier import aws
from croupier.rgs.operators import Operators
from croupier.rgs.sessions import Sessions
from croupier.rgs.store import RgsStore
from croupier.secrets import default_store
from croupier.settings import settings


@cache
def rgs_store() -> RgsStore:
    return RgsStore(settings().rgs_table, aws.dynamodb)


@cache
def operators() -> Operators:
    return Operators(rgs_store(), default_store())


@cache
def sessions() -> Sessions:
    return Sessions(rgs_store(), operators())


def public_base_url(headers: Mapping[str, str]) -> str:
    """Where players reach this API: the host the request came to, over the protocol it came by."""
    proto = headers.get("x-forwarded-proto", "https").split(",")[0].strip() or "https"
    host = headers.get("host", "localhost")
    return f"{proto}://{host}"
