"""Client of Ruby's Team API (providers.md section 3): brands, players and bets, signed per section 1.

Every request is signed with :func:`croupier.signing.ruby_team.headers` over the exact path, query string
and body bytes that are sent. Inputs are validated before anything goes on the wire; money is a decimal
string on the wire and a :class:`~decimal.Decimal` in Python, never a float. Only a ``GET`` is retried,
once, and only when no answer came back at all; a ``POST``, ``PUT`` or ``DELETE`` is never retried,
because it may have had its effect at Ruby.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Generic, Literal, TypeVar
from urllib.parse import urlencode, urlsplit

from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError

from croupier import __version__
from croupier.clients.http import (
    DEFAULT_TIMEOUT_SECONDS,
    HttpResponse,
    ProviderApiError,
    Transport,
    TransportError,
    UrllibTransport,
    check_currency,
    dumps_json,
)
from croupier.errors import BadRequest, UpstreamError
from croupier.signing import Clock, ruby_team

TEST_URL = "https://api-test.ruby-gaming.com"
PRODUCTION_URL = "https://api.ruby-gaming.com"

WALLET_MODES = ("seamless", "transfer")
BET_STATUSES = {0: "pending", 1: "settled", 2: "cancelled"}
MAX_NAME_LENGTH = 100
MAX_CODE_LENGTH = 50
MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20
_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
_MAX_ERROR_TEXT = 300

Method = Literal["GET", "POST", "PUT", "DELETE"]
QueryValue = str | int | None
T = TypeVar("T", bound=BaseModel)


# --- results ---------------------------------------------------------------------------------------


class RubyModel(BaseModel):
    """Base of Ruby's answers: fields Ruby adds later are kept (``extra="allow"``), never an error."""

    model_config = ConfigDict(extra="allow", frozen=True)


class Brand(RubyModel):
    id: int
    name: str | None = None
    code: str | None = None
    wallet_mode: str | None = None
    currency: str | None = None
    callback_url: str | None = None
    status: int | None = None
    api_key: str | None = None
    balance: Decimal | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    api_secret: SecretStr | None = None
    """Never expected outside brand creation; typed so that, if Ruby ever sends it, it cannot print."""


class BrandCreated(Brand):
    """The answer to brand creation: the only time Ruby ever returns the brand's ``api_secret``."""

    api_key: str
    api_secret: SecretStr


class Recharge(RubyModel):
    brand_id: int | None = None
    amount: Decimal | None = None
    balance_before: Decimal | None = None
    balance: Decimal | None = None


class Player(RubyModel):
    id: int
    brand_id: int | None = None
    username: str | None = None
    balance: Decimal | None = None
    currency: str | None = None
    status: int | None = None
    created_at: datetime | None = None


class Bet(RubyModel):
    id: int | str
    brand_id: int | None = None
    player_id: int | None = None
    provider_code: str | None = None
    game_code: str | None = None
    round_id: str | None = None
    transaction_id: str | None = None
    status: int | None = None
    bet_amount: Decimal | None = None
    win_amount: Decimal | None = None
    currency: str | None = None
    created_at: datetime | None = None
    settled_at: datetime | None = None


class SportsBet(Bet):
    """A sportsbook bet (``/api/sports-bet``): a bet, plus whatever sports fields Ruby sends."""


class Page(BaseModel, Generic[T]):
    """One page of a list: Ruby takes ``size`` and answers ``page_size``."""

    model_config = ConfigDict(extra="allow", frozen=True)

    total: int
    page: int
    page_size: int
    items: list[T]

    @property
    def is_last(self) -> bool:
        return not self.items or self.page * self.page_size >= self.total


class Health(RubyModel):
    status: str | None = None


# --- errors ----------------------------------------------------------------------------------------


class RubyApiError(ProviderApiError):
    """Ruby answered with a non-2xx status. ``status`` stays 502 (what Croupier answers its own callers);
    Ruby's own status, error code and message are in ``upstream_status``, ``upstream_code`` and
    ``upstream_message``."""

    code = "RUBY_API_ERROR"


# --- the client ------------------------------------------------------------------------------------


class RubyTeamClient:
    """Signed calls to Ruby's Team API. Thread-safe: it holds no per-request state."""

    def __init__(
        self,
        base_url: str,
        team_key: str,
        team_secret: str,
        *,
        transport: Transport | None = None,
        clock: Clock = time.time,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        allow_insecure: bool = False,
    ) -> None:
        self.base_url, self._base_path = _check_base_url(base_url, allow_insecure=allow_insecure)
        if not team_key or not team_secret:
            raise ValueError("team_key and team_secret are required")
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self.team_key = team_key
        self._team_secret = team_secret
        self._transport: Transport = transport or UrllibTransport()
        self._clock = clock
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"RubyTeamClient(base_url={self.base_url!r}, team_key={self.team_key!r})"

    # brands -------------------------------------------------------------------------------------

    def create_brand(
        self,
        name: str,
        code: str,
        wallet_mode: str,
        callback_url: str | None = None,
        currency: str = "KRW",
    ) -> BrandCreated:
        """Create a brand. The answer's ``api_secret`` is returned only this once: store it at once."""
        body: dict[str, Any] = {
            "name": _check_name(name),
            "code": _check_code(code),
            "wallet_mode": _check_wallet_mode(wallet_mode),
        }
        if wallet_mode == "seamless" and callback_url is None:
            raise BadRequest("callback_url is required for a seamless brand")
        if callback_url is not None:
            body["callback_url"] = _check_callback_url(callback_url)
        body["currency"] = check_currency(currency)
        return _parse(BrandCreated, self._call("POST", "/api/brand/create", body=body))

    def list_brands(self, page: int = 1, size: int = DEFAULT_PAGE_SIZE) -> Page[Brand]:
        return _parse(Page[Brand], self._call("GET", "/api/brand/list", query=_paging(page, size)))

    def iter_brands(self, size: int = MAX_PAGE_SIZE) -> Iterator[Brand]:
        return _walk(lambda page: self.list_brands(page=page, size=size))

    def update_brand(self, brand_id: int, **fields: Any) -> Brand:
        """Change a brand's fields, e.g. ``update_brand(7, status=0)`` disables it."""
        brand_id = _check_id(brand_id, "brand_id")
        if not fields:
            raise BadRequest("nothing to update")
        body = {name: _check_field(name, value) for name, value in fields.items()}
        answer = self._call("PUT", f"/api/brand/{brand_id}", body=body)
        return _parse(Brand, {"id": brand_id, **answer} if isinstance(answer, dict) else answer)

    def recharge_brand(self, brand_id: int, amount: Decimal | str | int, **fields: Any) -> Recharge:
        """Top up a transfer-mode brand. ``amount`` is sent as a decimal string; a float is refused."""
        brand_id = _check_id(brand_id, "brand_id")
        body: dict[str, Any] = {"amount": decimal_string(amount, positive=True)}
        for name, value in fields.items():
            if name in body:
                raise BadRequest(f"{name} is given twice")
            body[name] = _check_field(name, value)
        answer = self._call("POST", f"/api/brand/{brand_id}/recharge", body=body)
        return _parse(Recharge, {"brand_id": brand_id, **answer} if isinstance(answer, dict) else answer)

    # players ------------------------------------------------------------------------------------

    def list_players(
        self,
        brand_id: int | None = None,
        username: str | None = None,
        page: int = 1,
        size: int = DEFAULT_PAGE_SIZE,
    ) -> Page[Player]:
        """Players, optionally of one brand and/or whose username contains ``username``."""
        query = {
            "brand_id": _optional_id(brand_id, "brand_id"),
            "username": _optional_text(username, "username"),
            **_paging(page, size),
        }
        return _parse(Page[Player], self._call("GET", "/api/player/list", query=query))

    def iter_players(
        self, brand_id: int | None = None, username: str | None = None, size: int = MAX_PAGE_SIZE
    ) -> Iterator[Player]:
        return _walk(lambda page: self.list_players(brand_id=brand_id, username=username, page=page, size=size))

    def get_player(self, player_id: int) -> Player:
        player_id = _check_id(player_id, "player_id")
        return _parse(Player, self._call("GET", f"/api/player/{player_id}"))

    # bets ---------------------------------------------------------------------------------------

    def list_bets(
        self,
        brand_id: int | None = None,
        player_id: int | None = None,
        status: int | None = None,
        provider_code: str | None = None,
        page: int = 1,
        size: int = DEFAULT_PAGE_SIZE,
    ) -> Page[Bet]:
        """Bets; ``status`` is 0 pending, 1 settled, 2 cancelled."""
        query = _bet_query(brand_id, player_id, status, provider_code, page, size)
        return _parse(Page[Bet], self._call("GET", "/api/bet/list", query=query))

    def iter_bets(
        self,
        brand_id: int | None = None,
        player_id: int | None = None,
        status: int | None = None,
        provider_code: str | None = None,
        size: int = MAX_PAGE_SIZE,
    ) -> Iterator[Bet]:
        return _walk(lambda page: self.list_bets(brand_id, player_id, status, provider_code, page=page, size=size))

    def list_sports_bets(
        self,
        brand_id: int | None = None,
        player_id: int | None = None,
        status: int | None = None,
        provider_code: str | None = None,
        page: int = 1,
        size: int = DEFAULT_PAGE_SIZE,
    ) -> Page[SportsBet]:
        query = _bet_query(brand_id, player_id, status, provider_code, page, size)
        return _parse(Page[SportsBet], self._call("GET", "/api/sports-bet/list", query=query))

    def iter_sports_bets(
        self,
        brand_id: int | None = None,
        player_id: int | None = None,
        status: int | None = None,
        provider_code: str | None = None,
        size: int = MAX_PAGE_SIZE,
    ) -> Iterator[SportsBet]:
        return _walk(
            lambda page: self.list_sports_bets(brand_id, player_id, status, provider_code, page=page, size=size)
        )

    # health -------------------------------------------------------------------------------------

    def health(self) -> Health:
        """``GET /health``: needs no authentication, so it is sent unsigned."""
        return _parse(Health, self._call("GET", "/health", signed=False))

    # the wire -----------------------------------------------------------------------------------

    def _call(
        self,
        method: Method,
        path: str,
        *,
        query: Mapping[str, QueryValue] | None = None,
        body: Mapping[str, Any] | None = None,
        signed: bool = True,
    ) -> Any:
        path_with_query = self._base_path + path
        query_string = build_query(query or {})
        if query_string:
            path_with_query += "?" + query_string
        raw_body = dumps_json(dict(body)) if body is not None else b""
        attempts = 2 if method == "GET" else 1
        for attempt in range(1, attempts + 1):
            # signed again on a retry: the timestamp is the signing time
            headers = {"Accept": "application/json", "User-Agent": f"croupier/{__version__}"}
            if raw_body:
                headers["Content-Type"] = "application/json"
            if signed:
                headers.update(
                    ruby_team.headers(
                        self.team_key, self._team_secret, method, path_with_query, raw_body, clock=self._clock
                    )
                )
            try:
                response = self._transport.send(
                    method, self.base_url + path_with_query, headers, raw_body, self.timeout
                )
            except TransportError:
                if attempt < attempts:
                    continue
                raise
            return self._answer(method, path, response)
        raise AssertionError("unreachable")  # pragma: no cover

    def _answer(self, method: str, path: str, response: HttpResponse) -> Any:
        try:
            data = response.json()
        except (ValueError, UnicodeDecodeError):
            data = None
            if response.ok:
                raise UpstreamError(f"Ruby answered {method} {path} with a body that is not JSON") from None
        if not response.ok:
            raise self._error(method, path, response.status, data)
        return data

    def _error(self, method: str, path: str, status: int, data: Any) -> RubyApiError:
        code: str | None = None
        text: str | None = None
        if isinstance(data, dict):
            raw_code = data.get("error", data.get("code"))
            raw_text = data.get("message", data.get("detail", data.get("msg")))
            code = self._scrub(raw_code) if isinstance(raw_code, str | int) else None
            text = self._scrub(raw_text) if isinstance(raw_text, str | int | list | dict) else None
        summary = f"Ruby answered {method} {path} with HTTP {status}"
        if code:
            summary += f" {code}"
        if text:
            summary += f": {text}"
        return RubyApiError(
            summary, upstream_status=status, upstream_code=code, upstream_message=text, method=method, path=path
        )

    def _scrub(self, value: object) -> str:
        """Upstream text, one line, bounded, and never holding our secret even if Ruby echoed it."""
        text = " ".join(str(value).split())[:_MAX_ERROR_TEXT]
        return text.replace(self._team_secret, "<redacted>")


# --- helpers ---------------------------------------------------------------------------------------


def build_query(params: Mapping[str, QueryValue]) -> str:
    """The query string, built once: ``None`` dropped, keys sorted, form-encoded. It is signed and sent as is."""
    pairs: list[tuple[str, str]] = []
    for name in sorted(params):
        value = params[name]
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise TypeError(f"query parameter {name} must be a string or an integer")
        pairs.append((name, str(value)))
    return urlencode(pairs)


def decimal_string(amount: Decimal | str | int, *, positive: bool = False) -> str:
    """An amount as a plain decimal string (``"100.00"``, never ``"1E+2"``). Floats are a TypeError."""
    if isinstance(amount, float):
        raise TypeError("money is never a float: pass a Decimal or a decimal string")
    if isinstance(amount, bool) or not isinstance(amount, Decimal | str | int):
        raise TypeError(f"an amount must be a Decimal, a decimal string or an integer, not {type(amount).__name__}")
    try:
        value = Decimal(amount.strip()) if isinstance(amount, str) else Decimal(amount)
    except InvalidOperation:
        raise BadRequest(f"amount {str(amount)[:40]!r} is not a decimal number") from None
    if not value.is_finite():
        raise BadRequest("amount must be a finite number")
    if positive and value <= 0:
        raise BadRequest("amount must be greater than zero")
    return format(value, "f")


def _parse(model: type[T], data: Any) -> T:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        # never str(error): pydantic quotes the input, and the input may hold an api_secret
        where = ", ".join(".".join(str(p) for p in e["loc"]) or "<root>" for e in error.errors(include_input=False))
        raise UpstreamError(f"Ruby answered an unexpected shape for {model.__name__} (at {where})") from None


def _walk(fetch: Callable[[int], Page[T]]) -> Iterator[T]:
    page_number = 1
    while True:
        page = fetch(page_number)
        yield from page.items
        # the requested page number, not the echoed one: a server ignoring ``page`` cannot loop us forever
        if not page.items or page_number * page.page_size >= page.total:
            return
        page_number += 1


def _check_base_url(base_url: str, *, allow_insecure: bool) -> tuple[str, str]:
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("base_url must be an absolute https URL")
    if parts.query or parts.fragment:
        raise ValueError("base_url must not hold a query or a fragment")
    if parts.scheme == "http" and not allow_insecure and parts.hostname not in _LOOPBACK_HOSTS:
        raise ValueError("Ruby's API is HTTPS only (plain http is allowed for loopback hosts)")
    base_path = parts.path.rstrip("/")
    return f"{parts.scheme}://{parts.netloc}", base_path


def _check_text(value: object, name: str, limit: int) -> str:
    if not isinstance(value, str):
        raise BadRequest(f"{name} must be a string")
    text = value.strip()
    if not text:
        raise BadRequest(f"{name} is required")
    if len(text) > limit:
        raise BadRequest(f"{name} must be at most {limit} characters")
    if text != value:
        raise BadRequest(f"{name} must not start or end with whitespace")
    return text


def _check_name(name: object) -> str:
    return _check_text(name, "name", MAX_NAME_LENGTH)


def _check_code(code: object) -> str:
    return _check_text(code, "code", MAX_CODE_LENGTH)


def _check_wallet_mode(mode: object) -> str:
    if mode not in WALLET_MODES:
        raise BadRequest(f"wallet_mode must be one of {', '.join(WALLET_MODES)}")
    return str(mode)


def _check_callback_url(url: object) -> str:
    if not isinstance(url, str):
        raise BadRequest("callback_url must be a string")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or url != url.strip():
        raise BadRequest("callback_url must be an absolute http(s) URL")
    if parts.query or parts.fragment:
        raise BadRequest("callback_url must not hold a query or a fragment")
    if url.endswith("/"):
        raise BadRequest("callback_url must not end with a slash")
    return url


def _check_id(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise BadRequest(f"{name} must be a positive integer")
    return value


def _optional_id(value: object, name: str) -> int | None:
    return None if value is None else _check_id(value, name)


def _optional_text(value: object, name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise BadRequest(f"{name} must be a non-empty string")
    return value


def _paging(page: object, size: object) -> dict[str, QueryValue]:
    if isinstance(page, bool) or not isinstance(page, int) or page < 1:
        raise BadRequest("page must be an integer of at least 1")
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_PAGE_SIZE:
        raise BadRequest(f"size must be an integer from 1 to {MAX_PAGE_SIZE}")
    return {"page": page, "size": size}


def _bet_query(
    brand_id: object, player_id: object, status: object, provider_code: object, page: object, size: object
) -> dict[str, QueryValue]:
    if status is not None and (isinstance(status, bool) or status not in BET_STATUSES):
        raise BadRequest("status must be 0 (pending), 1 (settled) or 2 (cancelled)")
    return {
        "brand_id": _optional_id(brand_id, "brand_id"),
        "player_id": _optional_id(player_id, "player_id"),
        "status": status if isinstance(status, int) else None,
        "provider_code": _optional_text(provider_code, "provider_code"),
        **_paging(page, size),
    }


_FIELD_CHECKS: dict[str, Callable[[object], Any]] = {
    "name": _check_name,
    "code": _check_code,
    "wallet_mode": _check_wallet_mode,
    "callback_url": _check_callback_url,
    "currency": check_currency,
}


def _check_field(name: str, value: Any) -> Any:
    """One field of an update: known fields validated, money as decimal strings, floats refused."""
    if name in _FIELD_CHECKS:
        return _FIELD_CHECKS[name](value)
    if name == "status" and (isinstance(value, bool) or not isinstance(value, int)):
        raise BadRequest("status must be an integer")
    return _plain(value, name)


def _plain(value: Any, name: str) -> Any:
    if isinstance(value, float):
        raise TypeError(f"{name}: floats are never sent; pass a Decimal or a decimal string")
    if isinstance(value, Decimal):
        return decimal_string(value)
    if value is None or isinstance(value, str | int | bool):
        return value
    if isinstance(value, list | tuple):
        return [_plain(item, name) for item in value]
    if isinstance(value, dict):
        return {str(key): _plain(item, f"{name}.{key}") for key, item in value.items()}
    raise TypeError(f"{name}: {type(value).__name__} cannot be sent as JSON")
