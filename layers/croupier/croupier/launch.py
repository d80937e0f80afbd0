"""The logic of the two launch routes (IAM-authorised): open a player's sportsbook or external RGS session.

``Launcher.sportsbook`` takes ``{"player_id", "currency", "lang"?}`` and answers ``{"url"}``, the
sportsbook iframe (providers.md section 4). ``Launcher.rgs`` takes ``{"player_id", "currency",
"ttl_seconds"?}`` and answers ``{"launch_url", "session_id", "expires_at"}`` from the external RGS
(section 5), telling it the player's balance in minor units. Both first check that the player has an
account in that currency (an unknown one is a 404, ``UNKNOWN_PLAYER``).

Provider settings come from the secret store (``sportsbook``, ``rgs/external``); a missing one is a 503
``CONFIG_MISSING``. The sportsbook client is kept per ``(api_url, username)`` so its bearer token is reused
by every launch of a warm execution environment; it is replaced when its version or password changes.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError
from typing_extensions import TypedDict

from croupier.checks import InvalidRequest
from croupier.clients.http import Transport
from croupier.clients.rgs import MAX_TTL_SECONDS, MIN_TTL_SECONDS, RgsClient
from croupier.clients.sportsbook import SportsbookClient
from croupier.errors import Unavailable
from croupier.jsonbody import parse_object
from croupier.ledger import AccountKey, AccountState
from croupier.ledger.protection import PlayerExcluded
from croupier.secrets import CachedSecrets
from croupier.signing import Clock
from croupier.wallet.rgs import balance_minor

SPORTSBOOK_CONFIG = "sportsbook"
RGS_CONFIG = "rgs/external"
SPORTSBOOK_FIELDS = ("api_url", "api_version", "client_username", "client_password")
RGS_FIELDS = ("base_url", "operator_id", "api_key", "hmac_secret")
DEFAULT_TTL_SECONDS = 3600
DEFAULT_TIMEOUT_SECONDS = 5.0
"""A launch's wait for the provider: half the function's 10 s, the rest for the balance and secret reads."""
_MAX_CACHED_CLIENTS = 8

PlayerId = Annotated[StrictStr, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
Currency = Annotated[StrictStr, Field(pattern=r"^[A-Z]{3}$")]
Lang = Annotated[StrictStr, Field(pattern=r"^[a-z]{2}(-[A-Z]{2})?$")]
TtlSeconds = Annotated[StrictInt, Field(ge=MIN_TTL_SECONDS, le=MAX_TTL_SECONDS)]

BalanceReader = Callable[[AccountKey], AccountState]
"""A live balance read: :meth:`croupier.ledger.Ledger.balance`; raises ``UnknownAccount`` (404)."""


class ConfigMissing(Unavailable):
    """A provider's settings are not in the secret store (or lack a field): nothing was sent."""

    code = "CONFIG_MISSING"


class ConfigInvalid(Unavailable):
    """A provider's settings are there but unusable (e.g. an ``api_url`` that is not a URL)."""

    code = "CONFIG_INVALID"


class SportsbookLaunchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    player_id: PlayerId
    currency: Currency
    lang: Lang | None = None


class RgsLaunchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    player_id: PlayerId
    currency: Currency
    ttl_seconds: TtlSeconds = DEFAULT_TTL_SECONDS
    lang: Annotated[
        Literal["en", "ko"] | None,
        Field(description="the game page's language at the RGS: en (its default) or ko; sent on only when given"),
    ] = None


class SportsbookLaunchAnswer(TypedDict):
    url: Annotated[str, Field(description="the sportsbook iframe for the player")]


class RgsLaunchAnswer(TypedDict):
    launch_url: str
    session_id: str
    expires_at: Annotated[str, Field(description="ISO-8601 UTC")]


M = TypeVar("M", bound=BaseModel)


class Launcher:
    """Launch logic shared by the two routes. Thread-safe; create it once per execution environment."""

    def __init__(
        self,
        secrets: CachedSecrets,
        balance: BalanceReader,
        *,
        transport: Transport | None = None,
        clock: Clock = time.time,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        self._secrets = secrets
        self._balance = balance
        self._transport = transport
        self._clock = clock
        self._timeout = timeout
        self._lock = threading.Lock()
        self._sportsbook_clients: dict[tuple[str, str], tuple[str, SportsbookClient]] = {}

    def sportsbook(self, body: bytes) -> SportsbookLaunchAnswer:
        """``{"player_id", "currency", "lang"?}`` → ``{"url"}``: the player's sportsbook iframe."""
        request = _validate(SportsbookLaunchRequest, parse_object(body))
        self._playable(AccountKey(request.player_id, request.currency))  # the account must exist
        client = self._sportsbook_client()
        return {"url": client.start_session(request.player_id, request.currency, request.lang)}

    def rgs(self, body: bytes) -> RgsLaunchAnswer:
        """``{"player_id", "currency", "ttl_seconds"?, "lang"?}`` → ``{"launch_url", "session_id", "expires_at"}``."""
        request = _validate(RgsLaunchRequest, parse_object(body))
        state = self._playable(AccountKey(request.player_id, request.currency))
        client = self._rgs_client()
        # rounded down to whole minor units; a balance below zero (a reversed win) is shown as nothing to play
        minor = max(balance_minor(state.balance, request.currency), 0)
        launched = client.launch(request.player_id, request.currency, minor, request.ttl_seconds, lang=request.lang)
        return {
            "launch_url": launched.launch_url,
            "session_id": launched.session_id,
            "expires_at": launched.expires_at_iso,
        }

    # clients ----------------------------------------------------------------------------------------

    def _playable(self, account: AccountKey) -> AccountState:
        """The account, read live; an excluded player starts no session (403 ``PLAYER_EXCLUDED``)."""
        state = self._balance(account)
        if state.protection.excluded(datetime.fromtimestamp(self._clock(), UTC)):
            raise PlayerExcluded("the player is excluded from gambling: no session is started")
        return state

    def _sportsbook_client(self) -> SportsbookClient:
        config = self._config(SPORTSBOOK_CONFIG, SPORTSBOOK_FIELDS)
        api_url, version, username, password = (config[name] for name in SPORTSBOOK_FIELDS)
        key = (api_url, username)
        fingerprint = hashlib.sha256(f"{version}\x00{password}".encode()).hexdigest()
        with self._lock:
            cached = self._sportsbook_clients.get(key)
            if cached is not None and cached[0] == fingerprint:
                return cached[1]
            try:
                client = SportsbookClient(
                    api_url,
                    version,
                    username,
                    password,
                    transport=self._transport,
                    clock=self._clock,
                    timeout=self._timeout,
                )
            except ValueError as error:  # the clients' messages name fields, never values
                raise ConfigInvalid(f"the {SPORTSBOOK_CONFIG} configuration is invalid: {error}") from None
            if len(self._sportsbook_clients) >= _MAX_CACHED_CLIENTS:
                self._sportsbook_clients.clear()
            self._sportsbook_clients[key] = (fingerprint, client)
            return client

    def _rgs_client(self) -> RgsClient:
        config = self._config(RGS_CONFIG, RGS_FIELDS)
        try:
            return RgsClient(
                *(config[name] for name in RGS_FIELDS),
                transport=self._transport,
                clock=self._clock,
                timeout=self._timeout,
            )
        except ValueError as error:
            raise ConfigInvalid(f"the {RGS_CONFIG} configuration is invalid: {error}") from None

    def _config(self, name: str, fields: Sequence[str]) -> dict[str, str]:
        config = self._secrets.get(name)
        if config is None:
            raise ConfigMissing(f"the {name} configuration is missing")
        missing = [field for field in fields if not isinstance(config.get(field), str) or not config[field].strip()]
        if missing:
            raise ConfigMissing(f"the {name} configuration lacks {', '.join(missing)}")
        return {field: config[field] for field in fields}


def _validate(model: type[M], data: dict[str, Any]) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        problems = error.errors(include_input=False)
        unknown = sorted({str(e["loc"][0])[:40] for e in problems if e["type"] == "extra_forbidden" and e["loc"]})
        invalid = sorted(
            {".".join(str(p) for p in e["loc"]) or "body" for e in problems if e["type"] != "extra_forbidden"}
        )
        parts = []
        if invalid:
            parts.append(f"invalid or missing fields: {', '.join(invalid)}")
        if unknown:
            parts.append(f"unexpected fields: {', '.join(unknown)}")
        raise InvalidRequest("; ".join(parts)) from None
