"""Ruby seamless wallet (providers.md section 2): balance, debit, credit and rollback callbacks.

Order of checks, each a documented error that writes nothing: body size (413) → signature against the
brand's key and secret, ±300 s (401) → strict JSON (400) → fields (400) → player (404) → the ledger
(402 funds, 409 conflicting replay or already rolled back, 503 retry). Money is decimal strings both
ways; the brand's currency comes from its configuration.

Ruby's signature covers the body and the timestamp, not the path: a captured debit's bytes and headers are a
valid rollback of that debit for 300 s. So every entry keeps a digest of the signature it arrived with, and a
rollback carrying its target's signature is refused (401 ``REPLAYED_REQUEST``, nothing written); the debit
path costs nothing more (the digest rides in the entry it writes anyway), the rollback reads its target
already. A credit's or debit's request replayed to the other route meets the entry its transaction id holds
(409 ``IDEMPOTENCY_CONFLICT``); a balance request moves nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, WithJsonSchema, model_validator
from typing_extensions import TypedDict

from croupier import money
from croupier.checks import signature_refused, validated
from croupier.errors import PayloadTooLarge
from croupier.jsonbody import MAX_BODY_BYTES, parse_object
from croupier.ledger import AccountKey, Kind, Ledger, Movement, Outcome, Reversal, UnknownAccount, signature_digest
from croupier.lru import BoundedLru
from croupier.network import SourceAllowList
from croupier.observability import count_movement
from croupier.secrets import CachedSecrets
from croupier.signing import Clock, RawRequest, ruby_callback
from croupier.signing._core import system_clock

PROVIDER = "ruby"
DEADLINE_SECONDS = 4.0
"""Ruby gives up after a hard 5 s: every callback's own work (its secret read, its link, the ledger's reads,
commit and retries) ends within 4 s of its arrival, leaving 1 s for API Gateway, the network and a cold start's
margin. The ledger starts no attempt that could still run at that deadline; a secret read is bounded by the
Secrets Manager client's own timeouts (``croupier.aws.SECRETS_CONFIG``: at most 3 s, cached afterwards)."""
TxId = Annotated[StrictStr, Field(min_length=1, max_length=128, pattern=r"^[^\x00-\x1f\x7f-\x9f\u2028\u2029]+$")]
ShortText = Annotated[StrictStr, Field(max_length=128)]
RubyPlayerId = Annotated[StrictInt, Field(ge=1, le=2**63 - 1)]
AmountString = Annotated[  # checked by croupier.money (INVALID_AMOUNT), not by the model (INVALID_REQUEST)
    StrictStr,
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^(0|[1-9][0-9]{0,15})(\.[0-9]{1,2})?$",
            "description": "a plain non-negative decimal string with at most 2 decimals",
            "examples": ["1250.00"],
        }
    ),
]
Balance = Annotated[
    str,
    Field(
        pattern=r"^-?(0|[1-9][0-9]*)\.[0-9]{2,4}$",
        description="a decimal string with at least 2 decimals (more only when the amount needs them)",
        examples=["48500.00"],
    ),
]

# --- requests ---------------------------------------------------------------------------------------


class _Request(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class BalanceRequest(_Request):
    player_id: RubyPlayerId
    username: ShortText | None = None
    provider_code: ShortText | None = None


class MoveRequest(_Request):
    player_id: RubyPlayerId
    amount: AmountString
    transaction_id: TxId
    round_id: ShortText | None = None
    provider_code: ShortText | None = None
    game_code: ShortText | None = None
    username: ShortText | None = None

    def meta(self) -> dict[str, str]:
        fields = {"round_id": self.round_id, "provider_code": self.provider_code, "game_code": self.game_code}
        return {k: v for k, v in fields.items() if v is not None}


class RollbackRequest(_Request):
    player_id: RubyPlayerId
    transaction_id: TxId
    ref_transaction_id: TxId | None = None
    round_id: ShortText | None = None
    provider_code: ShortText | None = None
    game_code: ShortText | None = None

    @model_validator(mode="after")
    def _not_itself(self) -> RollbackRequest:
        if self.ref_transaction_id == self.transaction_id:
            raise ValueError("a rollback cannot roll itself back")
        return self

    @property
    def target(self) -> str:
        """The debit to reverse: ``ref_transaction_id`` when sent, else ``transaction_id`` (ours)."""
        return self.ref_transaction_id or self.transaction_id

    @property
    def own_id(self) -> str:
        """The rollback's own idempotency key."""
        return self.transaction_id if self.ref_transaction_id else f"rollback:{self.transaction_id}"


# --- answers ----------------------------------------------------------------------------------------


class BalanceAnswer(TypedDict):
    balance: Balance


class MoveAnswer(TypedDict):
    balance: Balance
    balance_before: Balance


class RollbackAnswer(TypedDict):
    balance: Balance


# --- brands -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Brand:
    api_key: str
    api_secret: str
    currency: str

    def __repr__(self) -> str:
        return f"Brand(api_key={self.api_key!r}, currency={self.currency!r})"


class BrandDirectory:
    """Brands by api key from the secret store (``ruby/brands/<api_key>``), cached for a while."""

    def __init__(self, secrets: CachedSecrets) -> None:
        self._secrets = secrets
        self._brands: dict[str, tuple[dict[str, Any], Brand]] = {}
        """The brand last made of each key's secret value: rebuilt only when the secret cache hands another value
        (read again after its time to live). Only keys whose secret exists get here: bounded by the brands."""

    def get(self, api_key: str) -> Brand | None:
        if not api_key or len(api_key) > 128 or "/" in api_key:
            return None
        value = self._secrets.get(f"ruby/brands/{api_key}")
        if value is None:
            return None
        made = self._brands.get(api_key)
        if made is not None and made[0] is value:
            return made[1]
        brand = self._brand(api_key, value)
        if brand is not None:
            self._brands[api_key] = (value, brand)
        return brand

    @staticmethod
    def _brand(api_key: str, value: dict[str, Any]) -> Brand | None:
        secret, currency = value.get("api_secret"), value.get("currency", "KRW")
        if not isinstance(secret, str) or not secret or not isinstance(currency, str):
            return None
        money.exponent(currency)  # a misconfigured currency fails loudly, not per request
        return Brand(api_key=api_key, api_secret=secret, currency=currency)


PLAYER_LINKS_CACHED = 100_000


class PlayerLinks:
    """Ruby's integer player id → our player id. Links are immutable, so a found link is kept until the bounded
    LRU needs its place (one at a time, never the whole cache)."""

    def __init__(self, resolve: Callable[[str, str], str | None], *, size: int = PLAYER_LINKS_CACHED) -> None:
        self._resolve = resolve
        self._cache: BoundedLru[str, str] = BoundedLru(size)

    def player_for(self, ruby_player_id: int) -> str:
        key = str(ruby_player_id)
        found = self._cache.get(key)
        if found is None:
            found = self._resolve(PROVIDER, key)
            if found is None:
                raise UnknownAccount(f"unknown player_id {ruby_player_id}")
            self._cache.put(key, found)
        return found


# --- the wallet ---------------------------------------------------------------------------------------


class RubyWallet:
    def __init__(
        self,
        ledger: Ledger,
        brands: BrandDirectory,
        links: PlayerLinks,
        *,
        clock: Clock = system_clock,
        deadline_seconds: float = DEADLINE_SECONDS,
        sources: SourceAllowList | None = None,
    ):
        self.ledger = ledger
        self.brands = brands
        self.links = links
        self.clock = clock
        self.deadline_seconds = deadline_seconds
        self.sources = sources

    def _account(self, brand: Brand, ruby_player_id: int, deadline: float) -> AccountKey:
        self.ledger.ensure_time(deadline)  # the link may need a read: only if it can end in time
        return AccountKey(self.links.player_for(ruby_player_id), brand.currency)

    def _authenticate(self, request: RawRequest) -> tuple[Brand, dict[str, Any]]:
        found: list[Brand] = []

        def secrets_for(key: str) -> list[str]:
            brand = self.brands.get(key)
            if brand is None:
                return []
            found.append(brand)
            return [brand.api_secret]

        if len(request.body) > MAX_BODY_BYTES:
            raise PayloadTooLarge(f"body is larger than {MAX_BODY_BYTES} bytes")
        if self.sources is not None:
            self.sources.check(request.source_ip)  # 403 before any brand's secret is read
        verdict = ruby_callback.verify(request, secrets_for, clock=self.clock)
        if not verdict.ok:
            raise signature_refused(verdict, "UNKNOWN_BRAND_KEY")
        return found[0], parse_object(request.body)

    def balance(self, request: RawRequest) -> BalanceAnswer:
        deadline = self.ledger.deadline(self.deadline_seconds)
        brand, data = self._authenticate(request)
        body = validated(BalanceRequest, data)
        account = self._account(brand, body.player_id, deadline)
        state = self.ledger.balance(account, deadline=deadline)
        return {"balance": money.to_decimal_string(state.balance)}

    def debit(self, request: RawRequest) -> MoveAnswer:
        return self._move(request, Kind.DEBIT)

    def credit(self, request: RawRequest) -> MoveAnswer:
        return self._move(request, Kind.CREDIT)

    def _move(self, request: RawRequest, kind: Kind) -> MoveAnswer:
        deadline = self.ledger.deadline(self.deadline_seconds)
        brand, data = self._authenticate(request)
        body = validated(MoveRequest, data)
        amount = money.from_decimal_string(body.amount, max_places=2)
        account = self._account(brand, body.player_id, deadline)
        signature = signature_digest(request.headers.get(ruby_callback.SIGNATURE_HEADER, ""))
        movement = Movement(PROVIDER, body.transaction_id, account, kind, amount, meta=body.meta(), signature=signature)
        outcome = self.ledger.move(movement, deadline=deadline)
        _count(outcome)
        return {
            "balance": money.to_decimal_string(outcome.balance_after),
            "balance_before": money.to_decimal_string(outcome.balance_before),
        }

    def rollback(self, request: RawRequest) -> RollbackAnswer:
        deadline = self.ledger.deadline(self.deadline_seconds)
        brand, data = self._authenticate(request)
        body = validated(RollbackRequest, data)
        account = self._account(brand, body.player_id, deadline)
        meta = {k: v for k, v in (("round_id", body.round_id), ("game_code", body.game_code)) if v}
        signature = signature_digest(request.headers.get(ruby_callback.SIGNATURE_HEADER, ""))
        reversal = Reversal(PROVIDER, body.own_id, body.target, account, meta=meta, signature=signature)
        outcome = self.ledger.reverse(reversal, deadline=deadline)
        _count(outcome)
        return {"balance": money.to_decimal_string(outcome.balance_after)}


def _count(outcome: Outcome) -> None:
    count_movement(outcome.replayed)
