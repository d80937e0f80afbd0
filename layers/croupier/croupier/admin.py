"""The admin API's logic: players and their provider links, deposits, withdrawals, balances, statements.

IAM-authorised in AWS (template.yaml); open on the loopback local stack.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, NotRequired, Protocol

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, WithJsonSchema, model_validator
from typing_extensions import TypedDict

from croupier import money
from croupier.checks import InvalidRequest, validated
from croupier.errors import Conflict, NotFound
from croupier.jsonbody import parse_object
from croupier.ledger import AccountKey, AccountState, Entry, Kind, Ledger, Movement, Outcome
from croupier.ledger.service import utc_now_iso
from croupier.observability import count_movement

ADMIN_PROVIDER = "admin"
PlayerId = Annotated[StrictStr, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
Currency = Annotated[StrictStr, Field(pattern=r"^[A-Z]{3}$")]
Reference = Annotated[StrictStr, Field(min_length=1, max_length=128, pattern=r"^[^\x00-\x1f\x7f-\x9f\u2028\u2029]+$")]
MAX_PAGE = 100
RUBY_MAX_PLAYER_ID = 2**63 - 1  # what a Ruby callback's player_id can be (croupier.wallet.ruby)
Amount = Annotated[
    str,
    Field(
        pattern=r"^-?(0|[1-9][0-9]*)(\.[0-9]{1,4})?$",
        description="a decimal string with the currency's decimals (more only when the amount needs them)",
        examples=["1250.00"],
    ),
]


class AdminStore(Protocol):
    def create_player(self, player_id: str, currencies: list[str], links: dict[str, str], created_at: str) -> bool: ...

    def read_player(self, player_id: str) -> tuple[dict[str, Any] | None, dict[str, AccountState]]: ...

    def list_entries(self, account: AccountKey, limit: int, cursor: str | None) -> tuple[list[Entry], str | None]:
        """The account's entries, newest first, at most ``limit``, and the cursor of the next page (None: the
        last); an unknown account has none."""
        ...


class PlayerExists(Conflict):
    code = "PLAYER_EXISTS"


class UnknownPlayer(NotFound):
    code = "UNKNOWN_PLAYER"


class CreatePlayer(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    player_id: PlayerId
    currency: Currency | None = None
    currencies: list[Currency] | None = Field(default=None, min_length=1, max_length=20)
    links: dict[
        Annotated[StrictStr, Field(pattern=r"^[a-z][a-z0-9_-]{0,31}$")],
        Annotated[StrictInt, Field(ge=0, lt=10**64)] | Annotated[StrictStr, Field(min_length=1, max_length=128)],
    ] = Field(default_factory=dict, max_length=10)

    @model_validator(mode="after")
    def _one_currency_at_least(self) -> CreatePlayer:
        if not self.all_currencies():
            raise ValueError("give currency or currencies")
        return self

    def all_currencies(self) -> list[str]:
        found = list(self.currencies or [])
        if self.currency and self.currency not in found:
            found.insert(0, self.currency)
        return list(dict.fromkeys(found))


class MoneyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    currency: Currency
    amount: Annotated[  # checked by croupier.money (INVALID_AMOUNT), not by the model (INVALID_REQUEST)
        StrictStr,
        WithJsonSchema(
            {
                "type": "string",
                "pattern": r"^(0|[1-9][0-9]{0,15})(\.[0-9]{1,4})?$",
                "description": "a plain non-negative decimal string, at most max(2, the currency's) decimals",
                "examples": ["100.00"],
            }
        ),
    ]
    reference: Reference


class PlayerView(TypedDict):
    player_id: str
    currencies: list[str]
    links: dict[str, str]
    created_at: str
    balances: dict[str, Amount]


class EntryView(TypedDict):
    provider: str
    transaction_id: str
    kind: str
    currency: str
    amount: Amount
    delta: Amount
    balance_before: Amount
    balance_after: Amount
    version: int
    created_at: str
    effect: str
    target_transaction_id: NotRequired[str]
    reversed_by: NotRequired[str]
    meta: NotRequired[dict[str, str]]


class MoneyAnswer(EntryView):
    player_id: str
    reference: str


class EntriesPage(TypedDict):
    player_id: str
    currency: str
    items: list[EntryView]
    next_cursor: str | None


def player_id_of(raw: str) -> str:
    return str(validated(_PlayerIdOnly, {"player_id": raw}).player_id)


class _PlayerIdOnly(BaseModel):
    player_id: PlayerId


def format_amount(units: int, currency: str) -> str:
    return money.to_decimal_string(units, min_places=money.exponent(currency))


def entry_view(entry: Entry) -> EntryView:
    currency = entry.account.currency
    view: EntryView = {
        "provider": entry.provider,
        "transaction_id": entry.tx_id,
        "kind": entry.kind.value,
        "currency": currency,
        "amount": format_amount(entry.amount, currency),
        "delta": format_amount(entry.delta, currency),
        "balance_before": format_amount(entry.balance_before, currency),
        "balance_after": format_amount(entry.balance_after, currency),
        "version": entry.version,
        "created_at": entry.created_at,
        "effect": entry.effect.value,
    }
    if entry.target_tx_id is not None:
        view["target_transaction_id"] = entry.target_tx_id
    if entry.reversed_by is not None:
        view["reversed_by"] = entry.reversed_by
    if entry.meta:
        view["meta"] = dict(entry.meta)
    return view


class Admin:
    def __init__(self, store: AdminStore, ledger: Ledger) -> None:
        self.store = store
        self.ledger = ledger

    def create_player(self, body: bytes) -> PlayerView:
        request: CreatePlayer = validated(CreatePlayer, parse_object(body))
        currencies = request.all_currencies()
        for currency in currencies:
            money.exponent(currency)
        links = {provider: str(value) for provider, value in request.links.items()}
        if "ruby" in links and not (links["ruby"].isdigit() and 1 <= int(links["ruby"]) <= RUBY_MAX_PLAYER_ID):
            raise InvalidRequest("links.ruby must be Ruby's positive integer player id")
        created_at = utc_now_iso()
        if not self.store.create_player(request.player_id, currencies, links, created_at):
            raise PlayerExists("the player, or one of its provider links, exists already")
        return {
            "player_id": request.player_id,
            "currencies": currencies,
            "links": links,
            "created_at": created_at,
            "balances": {c: format_amount(0, c) for c in currencies},
        }

    def player(self, raw_player_id: str) -> PlayerView:
        player_id = player_id_of(raw_player_id)
        profile, accounts = self.store.read_player(player_id)
        if profile is None:
            raise UnknownPlayer(f"unknown player {player_id!r}")
        return {
            "player_id": profile["player_id"],
            "currencies": profile["currencies"],
            "links": profile["links"],
            "created_at": profile["created_at"],
            "balances": {c: format_amount(s.balance, c) for c, s in sorted(accounts.items())},
        }

    def deposit(self, raw_player_id: str, body: bytes) -> tuple[MoneyAnswer, bool]:
        return self._move(raw_player_id, body, Kind.CREDIT)

    def withdraw(self, raw_player_id: str, body: bytes) -> tuple[MoneyAnswer, bool]:
        return self._move(raw_player_id, body, Kind.DEBIT)

    def _move(self, raw_player_id: str, body: bytes, kind: Kind) -> tuple[MoneyAnswer, bool]:
        player_id = player_id_of(raw_player_id)
        request: MoneyRequest = validated(MoneyRequest, parse_object(body))
        # Ruby's 2-decimal strings can leave hundredths even in a 0-decimal currency: they can be withdrawn.
        units = money.from_decimal_string(request.amount, max_places=max(2, money.exponent(request.currency)))
        account = AccountKey(player_id, request.currency)
        outcome: Outcome = self.ledger.move(Movement(ADMIN_PROVIDER, request.reference, account, kind, units))
        count_movement(outcome.replayed)
        return {"player_id": player_id, "reference": request.reference, **entry_view(outcome.entry)}, outcome.replayed

    def entries(self, raw_player_id: str, query: Mapping[str, str]) -> EntriesPage:
        player_id = player_id_of(raw_player_id)
        currency = query.get("currency")
        if currency is None:
            profile, _ = self.store.read_player(player_id)
            if profile is None:
                raise UnknownPlayer(f"unknown player {player_id!r}")
            currency = profile["currencies"][0]
        money.exponent(currency)
        raw_limit = query.get("limit", "50")
        if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_PAGE:
            raise InvalidRequest(f"limit must be an integer from 1 to {MAX_PAGE}")
        items, cursor = self.store.list_entries(AccountKey(player_id, currency), int(raw_limit), query.get("cursor"))
        return {
            "player_id": player_id,
            "currency": currency,
            "items": [entry_view(e) for e in items],
            "next_cursor": cursor,
        }
