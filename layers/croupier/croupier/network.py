"""Where Croupier meets the network: per-provider source-IP allow-lists, and the one check of a URL it calls or
hands on (:func:`check_url`).

Allow-lists are checked before any secret of a key the request names is read.

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
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple, TypeGuard
from urllib.parse import urlsplit

from croupier.errors import Forbidden

if TYPE_CHECKING:
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


# --- URLs ------------------------------------------------------------------------------------------------------

MAX_URL_LENGTH = 4096
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
"""Where plain http is allowed without ``allow_insecure`` (a fake or a tunnel on this machine)."""
_URL_CHARACTERS = re.compile(r"[!-~]+")  # printable ASCII, no space: a URL sent or handed on as it is
_HOST = re.compile(r"[A-Za-z0-9._-]+")


class WebUrl(NamedTuple):
    """A checked URL: ``origin`` is ``scheme://host[:port]`` (the scheme lower-case), ``path`` has no trailing
    slash (a base URL's prefix, the client's own paths go under it)."""

    origin: str
    path: str
    query: str
    fragment: str

    @property
    def base(self) -> str:
        """``origin`` and ``path``: where a client's own paths are appended."""
        return self.origin + self.path


def check_url(
    value: object,
    *,
    name: str = "url",
    allow_insecure: bool = False,
    allow_query: bool = False,
    allow_fragment: bool = False,
    max_length: int = MAX_URL_LENGTH,
) -> WebUrl:
    """The one check of a URL Croupier calls (a provider's base URL: no query, no fragment) or hands on to a
    player's browser (a launch URL: ``allow_query`` and ``allow_fragment``).

    Always: a string of at most ``max_length`` printable ASCII characters, no space, backslash or surrounding
    whitespace; absolute ``https`` (``http`` only on a loopback host, or anywhere with ``allow_insecure``, a
    development setting); a host of letters, digits, ``.``, ``-``, ``_`` or an IPv6 literal; a port from 1 to
    65535 when one is given; no user or password. Raises :class:`ValueError` naming ``name``, never the value.
    """
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} is required: an absolute https URL")
    if len(value) > max_length:
        raise ValueError(f"{name} must be at most {max_length} characters")
    if not _URL_CHARACTERS.fullmatch(value) or "\\" in value:
        raise ValueError(f"{name} must be printable ASCII without spaces or backslashes")
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:  # an unclosed IPv6 bracket, a port that is not a number or out of range
        raise ValueError(f"{name} must have a host and a port from 1 to 65535") from None
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise ValueError(f"{name} must be an absolute https URL with a host")
    if "@" in parts.netloc:
        raise ValueError(f"{name} must not hold credentials (user or password)")
    host = parts.hostname or ""
    if parts.netloc.startswith("["):
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise ValueError(f"{name} must have a host") from None
    elif not _HOST.fullmatch(host):
        raise ValueError(f"{name} must have a host (letters, digits, dots, hyphens)")
    if port == 0 or parts.netloc.endswith(":"):
        raise ValueError(f"{name} must have a port from 1 to 65535")
    if "?" in value and not allow_query:
        raise ValueError(f"{name} must not hold a query")
    if "#" in value and not allow_fragment:
        raise ValueError(f"{name} must not hold a fragment")
    if parts.scheme == "http" and not allow_insecure and host.lower() not in LOOPBACK_HOSTS:
        raise ValueError(f"{name} must be https (plain http only on a loopback host)")
    return WebUrl(f"{parts.scheme}://{parts.netloc}", parts.path.rstrip("/"), parts.query, parts.fragment)


def fit_to_hand_on(value: object, *, allow_insecure: bool = False) -> TypeGuard[str]:
    """Whether a provider's URL for a player's browser (a launch URL) passes :func:`check_url`, its query and
    fragment allowed (the provider's own routing)."""
    try:
        check_url(value, allow_insecure=allow_insecure, allow_query=True, allow_fragment=True)
    except ValueError:
        return False
    return True
