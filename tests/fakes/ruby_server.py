"""A fake of Ruby's Team API on a real socket: it verifies every signature as Ruby would.

``FakeRubyServer`` is a :class:`http.server.ThreadingHTTPServer` on ``127.0.0.1`` (port 0) in a thread. It
checks ``X-Team-*`` signatures with :func:`croupier.signing.ruby_team.verify` over the raw path, query
string and body it received, answers 401 when they do not verify, keeps brands, players and bets in
memory, and records every request exactly as it arrived (``requests``). It can be slowed down
(``slow_down``) or made to fail (``fail_next``) to exercise timeouts and error paths.

``FakeHttpServer`` is the reusable part (threading, recording, delays, JSON answers) that other fakes
(see ``tests.fakes.rabbitx_server``) build on.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import count
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs

from croupier.signing import Clock, Failure, Headers, RawRequest, Verdict, ruby_team

TEAM_KEY = "test-team-key"
TEAM_SECRET = "test-team-secret-never-printed"
CREATED_AT = "2026-07-03T12:00:00Z"

Answer = tuple[int, Any]
"""An HTTP status and a JSON-able body (or raw ``bytes`` sent as they are)."""


@dataclass(frozen=True, slots=True)
class ReceivedRequest:
    """One request exactly as the server read it off the socket, and how its signature verified."""

    method: str
    path_with_query: str
    headers: Headers
    body: bytes
    verdict: Verdict | None
    """``None`` for a route that needs no authentication."""

    @property
    def verified(self) -> bool:
        """The signature was checked and is valid."""
        return self.verdict is not None and self.verdict.ok

    @property
    def failure(self) -> Failure | None:
        """Why the signature did not verify (``None`` when it did, or was not checked)."""
        return None if self.verdict is None else self.verdict.reason

    @property
    def path(self) -> str:
        return self.path_with_query.split("?", 1)[0]

    @property
    def query(self) -> str:
        parts = self.path_with_query.split("?", 1)
        return parts[1] if len(parts) == 2 else ""

    @property
    def params(self) -> dict[str, str]:
        return {name: values[-1] for name, values in parse_qs(self.query, keep_blank_values=True).items()}

    def json(self) -> Any:
        return json.loads(self.body, parse_float=Decimal) if self.body else None


class HttpError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeHttpServer


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read ``requests`` instead
        return

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        status, payload = self.server.fake.dispatch(self.command, self.path, Headers(self.headers.items()), body)
        data = payload if isinstance(payload, bytes) else json.dumps(payload, default=_encode).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
            self.close_connection = True


def _encode(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    raise TypeError(type(value).__name__)


class FakeHttpServer:
    """A JSON HTTP server in a thread that records what it receives. Subclasses answer the requests."""

    def __init__(self) -> None:
        self.requests: list[ReceivedRequest] = []
        self._lock = threading.RLock()
        self._delay = 0.0
        self._delayed_left: int | None = None
        self._failures: list[Answer] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # lifecycle ---------------------------------------------------------------------------------

    def start(self) -> Self:
        server = _Server(("127.0.0.1", 0), _Handler)
        server.fake = self
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the server is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    # knobs -------------------------------------------------------------------------------------

    def slow_down(self, seconds: float, *, requests: int | None = None) -> None:
        """Sleep ``seconds`` before answering the next ``requests`` requests (every request if ``None``)."""
        with self._lock:
            self._delay = seconds
            self._delayed_left = requests

    def fail_next(self, status: int, body: Any) -> None:
        """Answer the next authenticated request with this status and body instead of handling it."""
        with self._lock:
            self._failures.append((status, body))

    def requests_to(self, path: str) -> list[ReceivedRequest]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    # the request path --------------------------------------------------------------------------

    def dispatch(self, method: str, path_with_query: str, headers: Headers, body: bytes) -> Answer:
        raw = RawRequest(method=method, path_with_query=path_with_query, headers=headers, body=body)
        verdict = self.authenticate(raw)
        received = ReceivedRequest(method, path_with_query, headers, body, verdict)
        with self._lock:
            self.requests.append(received)
            delay = self._delay
            if self._delayed_left is not None:
                if self._delayed_left > 0:
                    self._delayed_left -= 1
                else:
                    delay = 0.0
        if delay:
            time.sleep(delay)
        if verdict is not None and not verdict.ok:
            return 401, {"error": "UNAUTHORIZED", "message": verdict.detail}
        with self._lock:
            if self._failures:
                return self._failures.pop(0)
        try:
            return self.route(received)
        except HttpError as error:
            return error.status, {"error": error.code, "message": error.message}

    def authenticate(self, request: RawRequest) -> Verdict | None:
        """The verdict on the request's signature; ``None`` for a route needing none."""
        raise NotImplementedError

    def route(self, request: ReceivedRequest) -> Answer:
        raise NotImplementedError


# --- Ruby ------------------------------------------------------------------------------------------


class FakeRubyServer(FakeHttpServer):
    """Enough of Ruby's Team API, in memory, behind real signature checks."""

    def __init__(
        self,
        team_key: str = TEAM_KEY,
        team_secret: str = TEAM_SECRET,
        *,
        clock: Clock = time.time,
    ) -> None:
        super().__init__()
        self.team_key = team_key
        self.team_secret = team_secret
        self.clock = clock
        self.brands: dict[int, dict[str, Any]] = {}
        self.brand_secrets: dict[str, str] = {}
        self.players: dict[int, dict[str, Any]] = {}
        self.bets: list[dict[str, Any]] = []
        self.sports_bets: list[dict[str, Any]] = []
        self._ids = count(1)
        self._player_ids = count(1001)
        self._bet_ids = count(50_001)

    # seeding -----------------------------------------------------------------------------------

    def add_brand(self, code: str, *, wallet_mode: str = "transfer", balance: str = "0.00") -> dict[str, Any]:
        with self._lock:
            brand_id = next(self._ids)
            brand = {
                "id": brand_id,
                "name": f"Brand {code}",
                "code": code,
                "wallet_mode": wallet_mode,
                "callback_url": None,
                "currency": "KRW",
                "status": 1,
                "balance": balance,
                "api_key": f"brand-key-{brand_id}",
                "created_at": CREATED_AT,
            }
            self.brands[brand_id] = brand
            return dict(brand)

    def add_player(self, brand_id: int, username: str, *, balance: str = "0.00") -> dict[str, Any]:
        with self._lock:
            player_id = next(self._player_ids)
            player = {
                "id": player_id,
                "brand_id": brand_id,
                "username": username,
                "balance": balance,
                "currency": "KRW",
                "status": 1,
                "created_at": CREATED_AT,
            }
            self.players[player_id] = player
            return dict(player)

    def add_bet(self, *, sports: bool = False, **fields: Any) -> dict[str, Any]:
        with self._lock:
            bet = {
                "id": next(self._bet_ids),
                "brand_id": 1,
                "player_id": 1001,
                "provider_code": "sportsbook" if sports else "pragmatic",
                "game_code": "match-1" if sports else "vs20doghouse",
                "round_id": "r-1",
                "transaction_id": "t-1",
                "status": 1,
                "bet_amount": "1000.00",
                "win_amount": "0.00",
                "currency": "KRW",
                "created_at": CREATED_AT,
                **fields,
            }
            (self.sports_bets if sports else self.bets).append(bet)
            return dict(bet)

    # the API -----------------------------------------------------------------------------------

    def authenticate(self, request: RawRequest) -> Verdict | None:
        if request.path == "/health":
            return None
        return ruby_team.verify(request, self._secrets_for, clock=self.clock)

    def _secrets_for(self, key: str) -> Sequence[str]:
        return [self.team_secret] if key == self.team_key else []

    def route(self, request: ReceivedRequest) -> Answer:
        method, parts = request.method, [p for p in request.path.split("/") if p]
        if method == "GET" and request.body:
            raise HttpError(400, "BAD_REQUEST", "GET has no body")
        if method in ("POST", "PUT") and not request.headers.get("Content-Type", "").startswith("application/json"):
            raise HttpError(415, "UNSUPPORTED_MEDIA_TYPE", "send application/json")
        match method, parts:
            case "GET", ["health"]:
                return 200, {"status": "ok"}
            case "POST", ["api", "brand", "create"]:
                return self._create_brand(_object(request))
            case "GET", ["api", "brand", "list"]:
                return 200, self._page(self.brands.values(), request.params)
            case "PUT", ["api", "brand", brand_id]:
                return self._update_brand(_int(brand_id), _object(request))
            case "POST", ["api", "brand", brand_id, "recharge"]:
                return self._recharge(_int(brand_id), _object(request))
            case "GET", ["api", "player", "list"]:
                return 200, self._page(self._players(request.params), request.params)
            case "GET", ["api", "player", player_id]:
                with self._lock:
                    player = self.players.get(_int(player_id))
                if player is None:
                    raise HttpError(404, "PLAYER_NOT_FOUND", "no such player")
                return 200, player
            case "GET", ["api", "bet", "list"]:
                return 200, self._page(_filter_bets(self.bets, request.params), request.params)
            case "GET", ["api", "sports-bet", "list"]:
                return 200, self._page(_filter_bets(self.sports_bets, request.params), request.params)
        raise HttpError(404, "NOT_FOUND", f"no route {method} {request.path}")

    def _create_brand(self, body: dict[str, Any]) -> Answer:
        name, code, mode = body.get("name"), body.get("code"), body.get("wallet_mode")
        callback_url, currency = body.get("callback_url"), body.get("currency", "KRW")
        if not isinstance(name, str) or not 0 < len(name) <= 100:
            raise HttpError(422, "VALIDATION_ERROR", "name")
        if not isinstance(code, str) or not 0 < len(code) <= 50:
            raise HttpError(422, "VALIDATION_ERROR", "code")
        if mode not in ("seamless", "transfer"):
            raise HttpError(422, "VALIDATION_ERROR", "wallet_mode")
        if mode == "seamless" and not callback_url:
            raise HttpError(422, "VALIDATION_ERROR", "callback_url is required for seamless")
        if isinstance(callback_url, str) and callback_url.endswith("/"):
            raise HttpError(422, "VALIDATION_ERROR", "callback_url must not end with /")
        with self._lock:
            if any(b["code"] == code for b in self.brands.values()):
                raise HttpError(409, "BRAND_CODE_EXISTS", f"brand code {code} already exists")
            brand_id = next(self._ids)
            api_key = f"brand-key-{brand_id}"
            api_secret = secrets.token_hex(24)
            brand = {
                "id": brand_id,
                "name": name,
                "code": code,
                "wallet_mode": mode,
                "callback_url": callback_url,
                "currency": currency,
                "status": 1,
                "balance": "0.00",
                "api_key": api_key,
                "created_at": CREATED_AT,
            }
            self.brands[brand_id] = brand
            self.brand_secrets[api_key] = api_secret
            return 201, {**brand, "api_secret": api_secret}

    def _update_brand(self, brand_id: int, body: dict[str, Any]) -> Answer:
        with self._lock:
            brand = self.brands.get(brand_id)
            if brand is None:
                raise HttpError(404, "BRAND_NOT_FOUND", "no such brand")
            unknown = set(body) - {"name", "callback_url", "status", "currency", "wallet_mode"}
            if unknown:
                raise HttpError(422, "VALIDATION_ERROR", f"cannot update {sorted(unknown)}")
            brand.update(body)
            return 200, dict(brand)

    def _recharge(self, brand_id: int, body: dict[str, Any]) -> Answer:
        amount = body.get("amount")
        if not isinstance(amount, str):  # money is a decimal string, never a JSON number
            raise HttpError(422, "VALIDATION_ERROR", "amount must be a decimal string")
        try:
            value = Decimal(amount)
        except InvalidOperation:
            raise HttpError(422, "VALIDATION_ERROR", "amount is not a number") from None
        with self._lock:
            brand = self.brands.get(brand_id)
            if brand is None:
                raise HttpError(404, "BRAND_NOT_FOUND", "no such brand")
            if brand["wallet_mode"] != "transfer":
                raise HttpError(400, "NOT_TRANSFER_MODE", "only transfer brands are recharged")
            before = Decimal(brand["balance"])
            brand["balance"] = format(before + value, "f")
            answer = {"brand_id": brand_id, "amount": amount, "balance_before": format(before, "f")}
            return 200, {**answer, "balance": brand["balance"]}

    def _players(self, params: Mapping[str, str]) -> list[dict[str, Any]]:
        with self._lock:
            found = list(self.players.values())
        if "brand_id" in params:
            found = [p for p in found if p["brand_id"] == _int(params["brand_id"])]
        if "username" in params:
            found = [p for p in found if params["username"] in p["username"]]
        return found

    def _page(self, rows: Iterable[dict[str, Any]], params: Mapping[str, str]) -> dict[str, Any]:
        page = _int(params.get("page", "1"))
        size = _int(params.get("size", "20"))
        if page < 1 or not 1 <= size <= 100:
            raise HttpError(400, "BAD_REQUEST", "page >= 1 and 1 <= size <= 100")
        with self._lock:
            items = sorted((dict(r) for r in rows), key=lambda r: str(r["id"]).zfill(12))
        return {"total": len(items), "page": page, "page_size": size, "items": items[(page - 1) * size : page * size]}


def _filter_bets(bets: list[dict[str, Any]], params: Mapping[str, str]) -> list[dict[str, Any]]:
    found = list(bets)
    for name in ("brand_id", "player_id", "status"):
        if name in params:
            found = [b for b in found if b[name] == _int(params[name])]
    if "provider_code" in params:
        found = [b for b in found if b["provider_code"] == params["provider_code"]]
    return found


def _object(request: ReceivedRequest) -> dict[str, Any]:
    try:
        body = request.json()
    except ValueError:
        raise HttpError(400, "BAD_REQUEST", "body is not JSON") from None
    if not isinstance(body, dict):
        raise HttpError(400, "BAD_REQUEST", "body must be a JSON object")
    return body


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise HttpError(400, "BAD_REQUEST", f"{text!r} is not an integer") from None
