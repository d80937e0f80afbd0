"""Per-provider source-IP allow-lists, checked before any secret of a key the request names is read.

A provider's allow-list is the optional secret ``<provider>/allowlist`` (``{"allowed_cidrs": ["203.0.113.0/24",
"2001:db8::/32"]}``): when it exists, a callback whose source address (API Gateway's
``requestContext.http.sourceIp``) is in none of them is refused with 403 ``SOURCE_NOT_ALLOWED`` before its
signature is looked at, so a flood from elsewhere costs no brand or operator secret lookup. When the secret is
absent, every source is let through (the signature still decides). The list is one secret per provider, read
through the environment's secret cache (absent ones cached too), so it costs no read per request. A list that
is not one (malformed JSON shape, a CIDR that does not parse) fails loudly rather than letting everyone in.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from functools import lru_cache

from croupier.errors import Forbidden
from croupier.secrets import CachedSecrets

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class SourceNotAllowed(Forbidden):
    code = "SOURCE_NOT_ALLOWED"
    metric = "SignatureFailures"


class AllowListMalformed(ValueError):
    """The allow-list secret exists but is not a list of CIDRs: a configuration error, never "allow all"."""


@lru_cache(maxsize=64)
def parse_cidrs(cidrs: tuple[str, ...]) -> tuple[Network, ...]:
    try:
        return tuple(ipaddress.ip_network(cidr, strict=False) for cidr in cidrs)
    except ValueError as error:
        raise AllowListMalformed(f"an allow-list entry is not a CIDR: {error}") from None


def allowed(source_ip: str, networks: Sequence[Network]) -> bool:
    try:
        address = ipaddress.ip_address(source_ip)
    except ValueError:
        return False  # no address, or not one: never in a list
    return any(address in network for network in networks)


class SourceAllowList:
    """The allow-list of one provider (``<provider>/allowlist`` in the secret store)."""

    def __init__(self, secrets: CachedSecrets, provider: str) -> None:
        self._secrets = secrets
        self._name = f"{provider}/allowlist"

    def check(self, source_ip: str) -> None:
        config = self._secrets.get(self._name)
        if config is None:
            return
        cidrs = config.get("allowed_cidrs")
        if not isinstance(cidrs, list) or not all(isinstance(c, str) for c in cidrs):
            raise AllowListMalformed(f"{self._name}: allowed_cidrs must be a list of CIDR strings")
        if not allowed(source_ip, parse_cidrs(tuple(cidrs))):
            raise SourceNotAllowed("this source address is not on the provider's allow-list")
