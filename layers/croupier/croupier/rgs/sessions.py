"""Operator calls of the RGS (``/api/public/rgs/*``) and the player sessions they open.

``POST /api/public/rgs/launch`` (RGS v1 signed, ±300 s; ``X-Operator-Hmac`` ignored) opens a session for
one of the operator's players: an unguessable token (192 bits) that the launch URL carries and the table
keeps only as its SHA-256, with an expiry (and a TTL that deletes it later), and the commitment of its first
round's server seed (docs/fairness.md).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr
from typing_extensions import TypedDict

from croupier import fairness, money
from croupier.checks import signature_refused, validated
from croupier.errors import Forbidden, NotFound, PayloadTooLarge
from croupier.jsonbody import MAX_BODY_BYTES, parse_object
from croupier.observability import count
from croupier.rgs.credentials import new_server_seed, new_session_token, token_hash
from croupier.rgs.operators import Operators, iso
from croupier.rgs.store import RgsStore
from croupier.signing import RawRequest, rgs

MIN_TTL_SECONDS = 60
MAX_TTL_SECONDS = 24 * 3600
MAX_TOKEN_CHARS = 128


class CurrencyNotAllowed(Forbidden):
    code = "CURRENCY_NOT_ALLOWED"


class UnknownSession(NotFound):
    code = "UNKNOWN_SESSION"


class EndAnswer(TypedDict):
    ok: Literal[True]
    session_id: str
    ended_at: Annotated[str, Field(description="ISO-8601 UTC: when the session was first ended")]


class IpNotAllowed(Forbidden):
    code = "IP_NOT_ALLOWED"
    metric = "SignatureFailures"


class LaunchRequest(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    operator_player_id: Annotated[StrictStr, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
    currency: Annotated[StrictStr, Field(pattern=r"^[A-Z]{3}$")]
    balance_minor: Annotated[StrictInt, Field(ge=0)] | None = None
    ttl_seconds: Annotated[StrictInt, Field(ge=MIN_TTL_SECONDS, le=MAX_TTL_SECONDS)] = 3600
    lang: Annotated[
        Literal["en", "ko"] | None,
        Field(description="the game page's language: en (the default) or ko; the launch_url carries it"),
    ] = None


class LaunchAnswer(TypedDict):
    ok: Literal[True]
    session_id: str
    launch_url: Annotated[
        str, Field(description="https://<host>/play?session=<token>[&lang=<lang>]: embed it in an iframe")
    ]
    expires_at: Annotated[str, Field(description="ISO-8601 UTC")]


class Sessions:
    def __init__(self, store: RgsStore, operators: Operators, *, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.operators = operators
        self.clock = clock

    def authenticate(self, request: RawRequest) -> str:
        """The operator id of a correctly signed operator call (413 for a body over 16 KiB, before anything is
        hashed; 403 from a source outside the operator's ``allowed_ips``, before any secret is read; 401
        otherwise)."""
        if len(request.body) > MAX_BODY_BYTES:
            raise PayloadTooLarge(f"body is larger than {MAX_BODY_BYTES} bytes")
        claimed = request.headers.get(rgs.OPERATOR_ID_HEADER, "").strip().lower()
        if rgs.is_operator_id(claimed):  # else the signature check refuses it
            settings = self.operators.settings(claimed)  # the table only, cached: no secret read
            if settings is not None and not settings.source_allowed(request.source_ip):
                raise IpNotAllowed("this source address is not on the operator's allow-list")
        verdict = rgs.verify(request, self.operators.secrets_for, clock=self.clock)
        if not verdict.ok or verdict.key_id is None:
            raise signature_refused(verdict, "UNKNOWN_OPERATOR")
        return verdict.key_id

    def launch(self, request: RawRequest, public_base_url: str) -> LaunchAnswer:
        operator_id = self.authenticate(request)
        body = validated(LaunchRequest, parse_object(request.body))
        money.exponent(body.currency)
        settings = self.operators.settings(operator_id)
        if settings is None or body.currency not in settings.allowed_currencies:
            raise CurrencyNotAllowed(f"{body.currency} is not among the operator's allowed currencies")
        token = new_session_token()
        session_id = "s_" + uuid.uuid4().hex
        now = self.clock()
        expires = int(now) + body.ttl_seconds
        session = {
            "session_id": session_id,
            "operator_id": operator_id,
            "operator_player_id": body.operator_player_id,
            "currency": body.currency,
            "created_at": iso(now),
            "expires_at": iso(expires),
            "nonce": 0,
        }
        if body.balance_minor is not None:
            session["balance_minor"] = body.balance_minor  # shown to the player until a wallet call reports one
        first_seed = new_server_seed()  # committed now, before the player can send anything to play with
        self.store.create_session(
            token_hash(token), session, expires, next_seed=first_seed, next_seed_hash=fairness.seed_hash(first_seed)
        )
        count("SessionsLaunched")
        lang = f"&lang={body.lang}" if body.lang else ""  # the page reads it from its address (en without it)
        return {
            "ok": True,
            "session_id": session_id,
            "launch_url": f"{public_base_url.rstrip('/')}/play?session={token}{lang}",
            "expires_at": iso(expires),
        }

    def end(self, request: RawRequest, session_id: str) -> EndAnswer:
        """End one of the operator's sessions: its token is refused from now on (bets, cash-outs, state). Its
        rounds still open run to their end as any other (the sweeper settles them; an automatic cash-out is
        honoured). Ending it again answers the same; another operator's session is unknown (404)."""
        operator_id = self.authenticate(request)
        ended = self.store.end_session(session_id, operator_id, iso(self.clock()))
        if ended is None:
            raise UnknownSession("no such session of this operator")
        count("SessionsEnded")
        return {"ok": True, "session_id": session_id, "ended_at": ended}

    def frame_ancestors(self, token: str) -> str:
        """The CSP ``frame-ancestors`` sources of the game page for the session of ``token``: its operator's
        ``allowed_origins`` (``*`` when it has none, or when the token names no session: that page holds
        nothing to protect). Two reads, the session and the operator (cached), and never a secret."""
        if not token or len(token) > MAX_TOKEN_CHARS:
            return "*"
        found = self.store.read_session(token_hash(token))
        settings = self.operators.settings(found[0]["operator_id"]) if found else None
        return settings.frame_ancestors() if settings else "*"
