"""Operators of the RGS: provisioning, settings, key rotation, and the credentials every operator call is
verified against (RGS v1, providers.md section 1).

An operator's ``hmac_secret`` is returned once, at provisioning or rotation, and kept only in the secret
store (Secrets Manager in AWS: ``croupier/<stage>/rgs/operators/<operator_id>``; the dev-only file
locally), never in the table, a log or an error. The table holds the settings and the public key ids,
each with the time it retires: a rotation keeps the previous keys valid for an overlap window.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import ROUND_CEILING, Decimal
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, field_validator, model_validator
from typing_extensions import TypedDict

from croupier import money
from croupier.checks import M, validated
from croupier.errors import Conflict, NotFound
from croupier.jsonbody import parse_object
from croupier.lru import BoundedLru
from croupier.network import AllowListMalformed, allowed, check_url, parse_cidrs
from croupier.rgs.credentials import new_api_key, new_operator_credentials
from croupier.rgs.store import RgsStore
from croupier.secrets import SecretNotFound, SecretStore

DEFAULT_RTP = Decimal("0.96")
DEFAULT_MAX_WIN = 2000
DEFAULT_HOUSE_SHARE = Decimal("0.15")
DEFAULT_MAX_BETS_PER_SECOND = 10
"""Bets one session may place in one second (a round lasts seconds: more is a script); 429 TOO_MANY_BETS above."""
DEFAULT_OVERLAP_SECONDS = 24 * 3600
MAX_OVERLAP_SECONDS = 30 * 24 * 3600
CACHE_SECONDS = 60.0
MAX_CACHED = 1000
"""Known operators, unknown ids and fresh re-reads: each remembered per environment, least recently used out first."""
REFRESH_ON_MISS_SECONDS = 5.0
"""At most this often per operator, a key not seen yet makes an environment read the operator again, fresh."""
DEFAULT_LIMITS_MAJOR = (Decimal("0.10"), Decimal("1000"), Decimal("100000"))
"""Min bet, max bet and max payout per round, in major units, where the operator set none for a currency:
in minor units they scale with the currency's exponent (USD 10 / 100 000 / 10 000 000; KRW 1 / 1 000 / 100 000)."""

Currency = Annotated[StrictStr, Field(pattern=r"^[A-Z]{3}$")]
Cidr = Annotated[StrictStr, Field(min_length=2, max_length=49, pattern=r"^[0-9A-Fa-f:.]+(/[0-9]{1,3})?$")]
Origin = Annotated[
    StrictStr,
    Field(
        max_length=253,
        pattern=r"^https://(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:[0-9]{1,5})?$"
        r"|^http://(localhost|127\.0\.0\.1)(:[0-9]{1,5})?$",
        description="a CSP frame-ancestors source: https://host[:port], https://*.host, or http on loopback",
    ),
]


class UnknownOperator(NotFound):
    code = "UNKNOWN_OPERATOR"


class OperatorChanged(Conflict):
    code = "CONCURRENT_CHANGE"


def secret_name(operator_id: str) -> str:
    return f"rgs/operators/{operator_id}"


class CurrencyLimits(BaseModel):
    """An operator's limits in one currency, in its minor units: a bet from ``min_bet_minor`` to
    ``max_bet_minor``; a round pays at most ``max_payout_minor`` (and never more than the ledger can move)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_bet_minor: StrictInt = Field(ge=1)
    max_bet_minor: StrictInt = Field(ge=1)
    max_payout_minor: StrictInt = Field(ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if not self.min_bet_minor <= self.max_bet_minor <= self.max_payout_minor:
            raise ValueError("min_bet_minor <= max_bet_minor <= max_payout_minor")
        return self


def default_limits(currency: str) -> CurrencyLimits:
    """:data:`DEFAULT_LIMITS_MAJOR` in the currency's minor units (at least one minor unit each)."""
    places = money.exponent(currency)
    low, high, payout = (
        max(1, int(major.scaleb(places).to_integral_value(ROUND_CEILING))) for major in DEFAULT_LIMITS_MAJOR
    )
    return CurrencyLimits(min_bet_minor=low, max_bet_minor=high, max_payout_minor=payout)


class OperatorSettings(BaseModel):
    """What an operator is provisioned with (every field but the URL and currencies has a default)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    wallet_callback_url: StrictStr = Field(max_length=512)
    rtp_target: Decimal = Field(default=DEFAULT_RTP, ge=Decimal("0.5"), le=Decimal("1"), decimal_places=4)
    max_win_multiplier: StrictInt = Field(default=DEFAULT_MAX_WIN, ge=2, le=100_000)
    allowed_currencies: list[Currency] = Field(min_length=1, max_length=50)
    house_share: Decimal = Field(default=DEFAULT_HOUSE_SHARE, ge=Decimal("0"), le=Decimal("1"), decimal_places=4)
    enabled: StrictBool = True
    limits: dict[Currency, CurrencyLimits] = Field(
        default_factory=dict, description="per allowed currency; a currency without its own has the defaults"
    )
    allowed_ips: list[Cidr] | None = Field(
        default=None, min_length=1, max_length=100, description="CIDRs its signed calls may come from; null: any"
    )
    max_bets_per_second: StrictInt = Field(default=DEFAULT_MAX_BETS_PER_SECOND, ge=1, le=100)
    allowed_origins: list[Origin] | None = Field(
        default=None, min_length=1, max_length=20, description="origins that may frame the game; null: any (*)"
    )

    @field_validator("allowed_ips")
    @classmethod
    def _cidrs(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        try:
            return [str(network) for network in parse_cidrs(tuple(value))]
        except AllowListMalformed as error:
            raise ValueError(str(error)) from None

    @field_validator("wallet_callback_url")
    @classmethod
    def _https_or_loopback(cls, value: str) -> str:
        check_url(value, name="wallet_callback_url")
        if value.endswith("/"):
            raise ValueError("wallet_callback_url must not end with a slash (the wallet's paths are added to it)")
        return value

    @field_validator("allowed_currencies")
    @classmethod
    def _iso_currencies(cls, value: list[str]) -> list[str]:
        for currency in value:
            money.exponent(currency)
        return sorted(set(value))

    @model_validator(mode="after")
    def _limits_of_allowed_currencies(self) -> Self:
        for currency, limits in self.limits.items():
            if currency not in self.allowed_currencies:
                raise ValueError(f"limits for {currency}, which is not an allowed currency")
            if limits.max_payout_minor > money.max_minor_units(currency):
                raise ValueError(f"max_payout_minor of {currency} is above what the ledger can move")
        return self

    def limits_for(self, currency: str) -> CurrencyLimits:
        return self.limits.get(currency) or default_limits(currency)

    def stored(self) -> dict[str, Any]:
        return {
            "wallet_callback_url": self.wallet_callback_url,
            "rtp_target": str(self.rtp_target),
            "max_win_multiplier": self.max_win_multiplier,
            "allowed_currencies": list(self.allowed_currencies),
            "house_share": str(self.house_share),
            "enabled": self.enabled,
            "limits": {currency: limits.model_dump() for currency, limits in sorted(self.limits.items())},
            "allowed_ips": self.allowed_ips,
            "allowed_origins": self.allowed_origins,
            "max_bets_per_second": self.max_bets_per_second,
        }

    def source_allowed(self, source_ip: str) -> bool:
        return self.allowed_ips is None or allowed(source_ip, parse_cidrs(tuple(self.allowed_ips)))

    def frame_ancestors(self) -> str:
        """The game page's CSP ``frame-ancestors`` sources for this operator's sessions."""
        return " ".join(self.allowed_origins) if self.allowed_origins else "*"


class SettingsChange(BaseModel):
    """What an admin may change of an operator (``PATCH``): the fields given replace the current ones (``limits``
    per currency: the currencies named are replaced, the others kept); the result is checked as a whole."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: StrictBool | None = None
    house_share: Decimal | None = Field(default=None, ge=Decimal("0"), le=Decimal("1"), decimal_places=4)
    allowed_currencies: list[Currency] | None = Field(default=None, min_length=1, max_length=50)
    limits: dict[Currency, CurrencyLimits] | None = None
    allowed_ips: list[Cidr] | None = Field(default=None, description="null clears the list: any source")
    max_bets_per_second: StrictInt | None = Field(default=None, ge=1, le=100)
    allowed_origins: list[Origin] | None = Field(default=None, description="null clears the list: any site (*)")

    def applied_to(self, current: dict[str, Any]) -> OperatorSettings:
        """The settings with this change: validated as a whole (400 when they no longer hold together)."""
        changed = {**current}
        for name in ("enabled", "allowed_currencies", "max_bets_per_second"):
            if getattr(self, name) is not None:
                changed[name] = getattr(self, name)
        if self.house_share is not None:
            changed["house_share"] = str(self.house_share)
        for name in ("allowed_ips", "allowed_origins"):  # given as null: cleared
            if name in self.model_fields_set:
                changed[name] = getattr(self, name)
        if self.limits is not None:
            changed["limits"] = {**current.get("limits", {}), **{c: v.model_dump() for c, v in self.limits.items()}}
        return validated(OperatorSettings, changed)


class Rotation(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    overlap_seconds: StrictInt = Field(default=DEFAULT_OVERLAP_SECONDS, ge=0, le=MAX_OVERLAP_SECONDS)


class LimitsView(TypedDict):
    min_bet_minor: int
    max_bet_minor: int
    max_payout_minor: int


class KeyView(TypedDict):
    api_key: str
    created_at: str
    retires_at: Annotated[str | None, Field(description="when the key stops verifying; null while it is current")]


class OperatorView(TypedDict):
    """An operator as an admin sees it: settings and key ids, never a secret."""

    operator_id: str
    created_at: str
    wallet_callback_url: str
    rtp_target: Annotated[str, Field(examples=["0.96"])]
    max_win_multiplier: int
    allowed_currencies: list[str]
    house_share: Annotated[str, Field(examples=["0.15"])]
    enabled: bool
    limits: Annotated[dict[str, LimitsView], Field(description="per allowed currency, defaults included")]
    allowed_ips: Annotated[list[str] | None, Field(description="CIDRs its signed calls may come from; null: any")]
    allowed_origins: Annotated[list[str] | None, Field(description="origins that may frame the game; null: any")]
    max_bets_per_second: Annotated[int, Field(description="bets a session may place in one second")]
    keys: list[KeyView]


class IssuedKey(OperatorView):
    """The operator with a new key pair: the only answer that ever shows its ``hmac_secret``."""

    api_key: str
    hmac_secret: str


def _validate(model: type[M], body: bytes) -> M:
    """An empty body is an empty object here: every field of a rotation or a change is optional."""
    return validated(model, parse_object(body) if body.strip() else {})


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class Operators:
    def __init__(
        self,
        store: RgsStore,
        secrets: SecretStore,
        *,
        clock: Callable[[], float] = time.time,
        cache_seconds: float = CACHE_SECONDS,
    ) -> None:
        self.store = store
        self.secrets = secrets
        self.clock = clock
        self.cache_seconds = cache_seconds
        # known operators and unknown ids apart, each a bounded LRU: a flood of unknown ids (each read once)
        # only ever pushes out other unknown ids, one at a time
        self._known: BoundedLru[str, tuple[float, dict[str, Any], dict[str, str] | None]] = BoundedLru(MAX_CACHED)
        self._unknown: BoundedLru[str, float] = BoundedLru(MAX_CACHED)
        self._refreshed: BoundedLru[str, float] = BoundedLru(MAX_CACHED)
        self._lock = threading.Lock()

    # provisioning -----------------------------------------------------------------------------------

    def provision(self, body: bytes) -> IssuedKey:
        """A new operator; the answer is the only place its ``hmac_secret`` is ever shown."""
        settings: OperatorSettings = _validate(OperatorSettings, body)
        issued = new_operator_credentials()
        now = self.clock()
        self.secrets.put(secret_name(issued.operator_id), {"keys": {issued.api_key: issued.hmac_secret}})
        profile = {
            "operator_id": issued.operator_id,
            "created_at": iso(now),
            "settings": settings.stored(),
            "keys": [{"api_key": issued.api_key, "created_at": iso(now), "retires_at": None}],
        }
        if not self.store.create_operator(issued.operator_id, profile):  # a uuid4 collision: never in practice
            raise OperatorChanged("operator id collision; provision again")
        return {**public_view(profile), "api_key": issued.api_key, "hmac_secret": issued.hmac_secret}

    def rotate_key(self, operator_id: str, body: bytes) -> IssuedKey:
        """A new key pair (shown once); every older key retires after the overlap window."""
        rotation: Rotation = _validate(Rotation, body)
        profile, revision = self._profile(operator_id)
        now = self.clock()
        api_key, hmac_secret = new_api_key()
        try:
            stored = self.secrets.get(secret_name(operator_id), fresh=True)  # never a cached, older key set
        except SecretNotFound:
            stored = {"keys": {}}
        keys = {**stored.get("keys", {}), api_key: hmac_secret}
        retires = now + rotation.overlap_seconds
        for key in profile["keys"]:
            if key["retires_at"] is None or key["retires_at"] > iso(retires):
                key["retires_at"] = iso(retires)
        profile["keys"] = [k for k in profile["keys"] if k["retires_at"] is None or k["retires_at"] > iso(now)]
        profile["keys"].append({"api_key": api_key, "created_at": iso(now), "retires_at": None})
        live = {k["api_key"] for k in profile["keys"]}
        self.secrets.put(secret_name(operator_id), {"keys": {k: v for k, v in keys.items() if k in live}})
        if not self.store.update_operator(operator_id, profile, revision):
            raise OperatorChanged("the operator changed meanwhile; rotate again")
        self._forget(operator_id)
        return {**public_view(profile), "api_key": api_key, "hmac_secret": hmac_secret}

    def change(self, operator_id: str, body: bytes) -> OperatorView:
        change: SettingsChange = _validate(SettingsChange, body)
        profile, revision = self._profile(operator_id)
        profile["settings"] = change.applied_to(profile["settings"]).stored()
        if not self.store.update_operator(operator_id, profile, revision):
            raise OperatorChanged("the operator changed meanwhile; change it again")
        self._forget(operator_id)
        return public_view(profile)

    def view(self, operator_id: str) -> OperatorView:
        return public_view(self._profile(operator_id)[0])

    def _profile(self, operator_id: str) -> tuple[dict[str, Any], int]:
        found = self.store.read_operator(operator_id)
        if found is None:
            raise UnknownOperator(f"unknown operator {operator_id!r}")
        return found

    # verification ---------------------------------------------------------------------------------------

    def secrets_for(self, operator_id: str, api_key: str) -> list[str]:
        """The secret of ``api_key`` if the operator is enabled and the key has not retired (for rgs.verify).

        A key this environment has not seen yet (rotated in another one while this one cached the operator)
        makes it read the operator and its secret again, fresh, at most once every
        :data:`REFRESH_ON_MISS_SECONDS` per operator, so unknown keys cannot flood the stores."""
        found = self._secret_of(operator_id, api_key)
        if found is None and self._cached(operator_id)[0] is not None and self._refresh(operator_id):
            found = self._secret_of(operator_id, api_key)
        return [found] if found else []

    def _secret_of(self, operator_id: str, api_key: str) -> str | None:
        profile, keys = self._cached(operator_id)
        if profile is None or not profile["settings"]["enabled"]:
            return None
        now = iso(self.clock())
        for key in profile["keys"]:
            if key["api_key"] == api_key and (key["retires_at"] is None or key["retires_at"] > now):
                return keys.get(api_key) or None
        return None

    def signing_key(self, operator_id: str) -> tuple[str, str] | None:
        """The newest live key of the operator: what the RGS signs its wallet calls with."""
        profile, keys = self._cached(operator_id)
        if profile is None:
            return None
        now = iso(self.clock())
        live = [k for k in profile["keys"] if k["retires_at"] is None or k["retires_at"] > now]
        for key in reversed(live):
            secret = keys.get(key["api_key"])
            if secret:
                return key["api_key"], secret
        return None

    def settings(self, operator_id: str) -> OperatorSettings | None:
        """The operator's settings, from the table only (cached): reading them never reads a secret."""
        profile, _ = self._cached(operator_id, with_keys=False)
        return OperatorSettings.model_validate(profile["settings"]) if profile else None

    def _refresh(self, operator_id: str) -> bool:
        """Read the operator again, fresh, unless that was done less than REFRESH_ON_MISS_SECONDS ago."""
        now = time.monotonic()
        with self._lock:
            last = self._refreshed.get(operator_id)
            if last is not None and now - last < REFRESH_ON_MISS_SECONDS:
                return False
            self._refreshed.put(operator_id, now)
        self._load(operator_id, fresh=True, with_keys=True)
        return True

    def _cached(self, operator_id: str, *, with_keys: bool = True) -> tuple[dict[str, Any] | None, dict[str, str]]:
        """The operator's profile and, ``with_keys``, its secret keys: cached together for ``cache_seconds``,
        the keys read only once something needs them (a settings read alone never touches the secret store)."""
        now = time.monotonic()
        hit = self._known.get(operator_id)
        if hit is not None and now - hit[0] < self.cache_seconds:
            if hit[2] is not None or not with_keys:
                return hit[1], hit[2] or {}
            keys = self._keys(operator_id, fresh=False)
            with self._lock:
                self._known.put(operator_id, (hit[0], hit[1], keys))
            return hit[1], keys
        unknown_since = self._unknown.get(operator_id)
        if unknown_since is not None and now - unknown_since < self.cache_seconds:
            return None, {}
        return self._load(operator_id, fresh=False, with_keys=with_keys)

    def _keys(self, operator_id: str, *, fresh: bool) -> dict[str, str]:
        try:
            keys: dict[str, str] = self.secrets.get(secret_name(operator_id), fresh=fresh).get("keys", {})
        except SecretNotFound:
            keys = {}
        return keys

    def _load(self, operator_id: str, *, fresh: bool, with_keys: bool) -> tuple[dict[str, Any] | None, dict[str, str]]:
        now = time.monotonic()
        found = self.store.read_operator(operator_id)
        profile = found[0] if found else None
        keys = self._keys(operator_id, fresh=fresh) if profile and with_keys else None
        with self._lock:
            if profile is None:
                self._known.pop(operator_id)
                self._unknown.put(operator_id, now)
            else:
                self._unknown.pop(operator_id)
                self._known.put(operator_id, (now, profile, keys))
        return profile, keys or {}

    def _forget(self, operator_id: str) -> None:
        with self._lock:
            self._known.pop(operator_id)
            self._unknown.pop(operator_id)


def public_view(profile: dict[str, Any]) -> OperatorView:
    """The operator as shown to an admin: settings and key ids, never a secret."""
    settings = OperatorSettings.model_validate(profile["settings"])
    return {
        "operator_id": profile["operator_id"],
        "created_at": profile["created_at"],
        "wallet_callback_url": settings.wallet_callback_url,
        "rtp_target": str(settings.rtp_target),
        "max_win_multiplier": settings.max_win_multiplier,
        "allowed_currencies": list(settings.allowed_currencies),
        "house_share": str(settings.house_share),
        "enabled": settings.enabled,
        "limits": {
            currency: {
                "min_bet_minor": limits.min_bet_minor,
                "max_bet_minor": limits.max_bet_minor,
                "max_payout_minor": limits.max_payout_minor,
            }
            for currency in settings.allowed_currencies
            for limits in (settings.limits_for(currency),)
        },
        "allowed_ips": settings.allowed_ips,
        "allowed_origins": settings.allowed_origins,
        "max_bets_per_second": settings.max_bets_per_second,
        "keys": [
            {"api_key": key["api_key"], "created_at": key["created_at"], "retires_at": key["retires_at"]}
            for key in profile["keys"]
        ],
    }
