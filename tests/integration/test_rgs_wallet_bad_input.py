"""Bad input on the RGS wallet routes (``POST /rgs-wallet/bet|win|refund``): every refusal has a documented
status and code, and writes nothing.

Every request goes through the HTTP path of the local stack (``LocalStack.handle``: API Gateway's event
building, the function's handler, API Gateway's response mapping) onto Amazon DynamoDB Local. Around every
case the whole wallet table is scanned (consistent read, with a boto3 client of the test's own) and must be
identical before and after.

Error bodies are always ``{"ok": false, "error": "<CODE>", "message": "<text>"}`` with
``Content-Type: application/json``. The checks run in this order, and the first failing one answers (so a
request that is both unsigned and not JSON gets a 401, and an oversized one gets a 413 whatever else is wrong):

1. body size → 2. signature headers (presence, format, time window, operator id and api key, HMAC) →
3. strict JSON → 4. fields → 5. currency and amount → 6. player → 7. the ledger.

| status | `error` | when (details below) |
|---|---|---|
| 413 | `PAYLOAD_TOO_LARGE` | the body is over 16 KiB (16384 bytes), signed or not |
| 401 | `SIGNATURE_MISSING` | one of `X-Operator-Id`, `X-Operator-Key`, `X-Timestamp`, `X-Signature` is absent |
| 401 | `SIGNATURE_MALFORMED` | a signature header is present but not in its format (details below) |
| 401 | `TIMESTAMP_STALE` | the timestamp is more than 300 s before the server's clock |
| 401 | `TIMESTAMP_IN_FUTURE` | the timestamp is more than 300 s after the server's clock |
| 401 | `UNKNOWN_OPERATOR` | no operator is configured under `X-Operator-Id`, or `X-Operator-Key` is not its api key |
| 401 | `SIGNATURE_INVALID` | a well-formed signature that does not match `ts.METHOD.path_with_query.sha256(body)` |
| 400 | `INVALID_JSON` | the body is not one strict JSON object |
| 400 | `INVALID_REQUEST` | a required field is missing, or a field has the wrong type, length, characters or range |
| 400 | `UNKNOWN_CURRENCY` | `currency` is three capitals but not an ISO 4217 code |
| 400 | `INVALID_AMOUNT` | `amount_minor` is above 1,000,000,000,000 major units |
| 404 | `UNKNOWN_PLAYER` | a valid request for a player, or a currency of the player, that does not exist |
| 404 | `BET_NOT_FOUND` | a win naming no bet of its player, currency and round (`test_wallet_attacks.py`) |
| 402 | `INSUFFICIENT_FUNDS` | a bet above the balance (`test_rgs_wallet.py`) |
| 409 | `IDEMPOTENCY_CONFLICT` | an `operator_tx_id` reused with other content; a 2nd bet for a round |
| 409 | `ALREADY_ROLLED_BACK` | a bet for a round that was refunded before it arrived (`test_rgs_wallet.py`) |
| 409 | `REVERSAL_AMOUNT_MISMATCH` | a refund whose amount is not the bet's (`test_rgs_wallet.py`) |
| 409 | `NOT_REVERSIBLE` | a refund naming another currency's bet, or itself (`test_rgs_wallet.py`) |
| 409 | `WIN_ABOVE_LIMIT` | wins of one bet above its stake x `max_win_multiplier` (`test_wallet_attacks.py`) |
| 409 | `BET_SETTLED` | a win for a refunded bet, a refund of a bet paid a win (`test_wallet_attacks.py`) |
| 503 | `RETRY_LATER` | the wallet stayed busy through every retry (`test_rgs_wallet_concurrency.py`) |

Details:

* The required fields are `operator_tx_id`, `operator_player_id`, `session_id`, `round_id`, `currency` and
  `amount_minor` on every route (`multiplier` on a win is optional and free-form). Unknown extra fields are
  ignored.
* `SIGNATURE_MALFORMED`: an operator id that is not a dashed uuid; an empty key or one with a space; a
  timestamp that is not 1 to 12 ASCII digits (milliseconds, a sign, a decimal or exponent, text); a signature
  that is not exactly 64 hex digits (other lengths, non-hex, a ``sha256=`` prefix, empty).
* The time window is checked before the operator: a stale request from an unknown operator is
  `TIMESTAMP_STALE`.
* `SIGNATURE_INVALID`: the wrong secret; a body changed after signing (one byte, a trailing space); a query
  string added, or the path or the method changed, after signing (the signature covers
  ``METHOD.path_with_query``); a signature over another timestamp than the header's; and a garbage signature
  sent with the right secret in `X-Operator-Hmac` (that header is ignored; without `X-Signature` it is
  `SIGNATURE_MISSING`).
* `INVALID_JSON`: malformed or truncated JSON, trailing data, an empty body, invalid UTF-8, an array, string,
  number or `null` at the top, a duplicate key, a bare `NaN` or `Infinity`, an integer of more than 4300
  digits, nesting 3000 deep.
* `INVALID_REQUEST`: `amount_minor` not a JSON integer ≥ 0 (a float such as `1.5` or `100.0`, `1e2`, a string,
  a boolean, `null`, a negative number); an id that is not a string (`operator_tx_id`, `session_id`,
  `round_id`: 1 to 128 characters without control characters, U+2028/U+2029 or lone surrogates;
  `operator_player_id`: 1 to 64 of ``A-Za-z0-9_.:-``); `currency` not three capital ASCII letters (lower case,
  two letters, a trailing newline, `null`).

A request that passes every check is the baseline of each route and succeeds (a control test below), so each
row fails only for its own defect. Anything else, in particular a 500, is a bug.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest

from croupier.signing import rgs
from croupier_local.apigw import HttpRequest, HttpResponse
from croupier_local.dynamodb import LocalDynamoDB
from croupier_local.server import LocalStack
from tests.support.players import create_player, fund_player
from tests.support.requests import (
    DROP,
    OPERATOR_ID,
    RGS_API_KEY,
    RGS_SECRET,
    Signer,
    one_byte_changed,
    padded_to,
    rgs_headers,
    rgs_refused,
    rgs_request,
    with_fields,
)
from tests.support.wallet_table import scan_table

pytestmark = pytest.mark.dynamodb_local

ID_HEADER, KEY_HEADER, TS_HEADER, SIG_HEADER = (
    rgs.OPERATOR_ID_HEADER,
    rgs.KEY_HEADER,
    rgs.TIMESTAMP_HEADER,
    rgs.SIGNATURE_HEADER,
)
HMAC_HEADER = "X-Operator-Hmac"

PLAYER = "rg-bad-input-player"
MAX_BODY = 16 * 1024
ROUTES = ("bet", "win", "refund")
FIELDS = ("operator_tx_id", "operator_player_id", "session_id", "round_id", "currency", "amount_minor")


# --- signing ---------------------------------------------------------------------------------------------------


SIGNED = Signer("signed", rgs_headers)
UNSIGNED = Signer("no signature headers", lambda route, body: {})


def without(name: str) -> Signer:
    return Signer(f"without {name}", lambda r, b: {k: v for k, v in rgs_headers(r, b).items() if k != name})


def replacing(name: str, value: str) -> Signer:
    return Signer(f"{name}={value!r}", lambda r, b: {**rgs_headers(r, b), name: value})


def shifted(seconds: int, **kwargs: str) -> Signer:
    return Signer(f"timestamp now{seconds:+d}s {kwargs}", lambda r, b: rgs_headers(r, b, offset=seconds, **kwargs))


def signed_with(**kwargs: str) -> Signer:
    return Signer(f"signed with {sorted(kwargs)}", lambda r, b: rgs_headers(r, b, **kwargs))


def signature_of(other: bytes) -> Signer:
    """Headers valid for ``other``, sent with the case's body (a body changed after signing)."""
    return Signer(f"signature of {other[:40]!r}", lambda r, b: rgs_headers(r, other))


def timestamp_moved(seconds: int) -> Signer:
    """A signature over one timestamp, sent with another (well inside the window)."""

    def make(route: str, body: bytes) -> dict[str, str]:
        headers = rgs_headers(route, body)
        return {**headers, TS_HEADER: str(int(headers[TS_HEADER]) + seconds)}

    return Signer(f"signed timestamp moved {seconds:+d}s", make)


def and_hmac(signer: Signer) -> Signer:
    """``signer``'s headers plus the raw secret in ``X-Operator-Hmac`` (which must make no difference)."""
    return Signer(f"{signer.label} + {HMAC_HEADER}", lambda r, b: {**signer(r, b), HMAC_HEADER: RGS_SECRET})


# --- bodies ------------------------------------------------------------------------------------------------------


def body(route: str, tx: str, **fields: Any) -> bytes:
    """A valid request for ``route`` (unique ``tx``), with ``fields`` overridden or dropped (``DROP``)."""
    data: dict[str, Any] = {
        "operator_tx_id": tx,
        "operator_player_id": PLAYER,
        "session_id": "rg-bad-session",
        "round_id": f"round-{tx}",
        "currency": "USD",
        "amount_minor": 100,
    }
    if route == "win":
        data["multiplier"] = 2
    return json.dumps(with_fields(data, fields), separators=(",", ":"), ensure_ascii=False).encode()


def raw(route: str, tx: str, replace: str, by: str) -> bytes:
    """The valid body of ``route`` as text with one literal piece replaced (for what ``json.dumps`` cannot write)."""
    text = body(route, tx).decode()
    assert text.count(replace) == 1, (text, replace)
    return text.replace(replace, by).encode()


def padded(route: str, tx: str, size: int) -> bytes:
    """A valid request of exactly ``size`` bytes (an ignored ``pad`` field)."""
    return padded_to(lambda pad: body(route, tx, pad=pad), size)


BET_SIGNED = body("bet", "rg-bi-tamper")
WIN_SIGNED = body("win", "rg-bi-tamper-2")


# --- the corpus ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    name: str
    route: str
    body: bytes
    status: int
    code: str
    sign: Signer = field(default=SIGNED)
    send_route: str | None = None
    """Where the request goes when it is not ``route`` (the route it was signed for)."""
    query: str = ""
    """A query string added to the request after signing."""


def missing(route: str, name: str) -> Case:
    return Case(
        f"{route}-missing-{name}",
        route,
        body(route, f"rg-bi-m-{route}-{name}", **{name: DROP}),
        400,
        "INVALID_REQUEST",
    )


def bad_field(name: str, route: str, field_name: str, value: Any, code: str = "INVALID_REQUEST") -> Case:
    status = 404 if code == "UNKNOWN_PLAYER" else 400
    return Case(name, route, body(route, f"rg-bi-f-{name}", **{field_name: value}), status, code)


CASES: list[Case] = [
    # --- 413: size first -----------------------------------------------------------------------------------
    Case("oversized-bet-signed", "bet", padded("bet", "rg-bi-big-1", MAX_BODY + 1), 413, "PAYLOAD_TOO_LARGE"),
    Case("oversized-win-signed", "win", padded("win", "rg-bi-big-2", 20_000), 413, "PAYLOAD_TOO_LARGE"),
    Case(
        "oversized-refund-unsigned",
        "refund",
        padded("refund", "rg-bi-big-3", MAX_BODY + 1),
        413,
        "PAYLOAD_TOO_LARGE",
        UNSIGNED,
    ),
    Case("oversized-garbage-unsigned", "bet", b"[" * (MAX_BODY + 100), 413, "PAYLOAD_TOO_LARGE", UNSIGNED),
    # --- 401: signature headers missing --------------------------------------------------------------------
    Case("missing-operator-id", "bet", body("bet", "rg-bi-h-1"), 401, "SIGNATURE_MISSING", without(ID_HEADER)),
    Case("missing-operator-key", "win", body("win", "rg-bi-h-2"), 401, "SIGNATURE_MISSING", without(KEY_HEADER)),
    Case("missing-timestamp", "refund", body("refund", "rg-bi-h-3"), 401, "SIGNATURE_MISSING", without(TS_HEADER)),
    Case("missing-signature", "bet", body("bet", "rg-bi-h-4"), 401, "SIGNATURE_MISSING", without(SIG_HEADER)),
    Case("missing-all-headers-garbage-body", "win", b"not json at all", 401, "SIGNATURE_MISSING", UNSIGNED),
    Case(
        "hmac-header-instead-of-signature",
        "refund",
        body("refund", "rg-bi-h-5"),
        401,
        "SIGNATURE_MISSING",
        and_hmac(without(SIG_HEADER)),
    ),
    # --- 401: signature headers garbled --------------------------------------------------------------------
    Case(
        "operator-id-not-a-uuid",
        "bet",
        body("bet", "rg-bi-h-6"),
        401,
        "SIGNATURE_MALFORMED",
        replacing(ID_HEADER, "operator-1"),
    ),
    Case(
        "operator-id-without-dashes",
        "win",
        body("win", "rg-bi-h-7"),
        401,
        "SIGNATURE_MALFORMED",
        replacing(ID_HEADER, OPERATOR_ID.replace("-", "")),
    ),
    Case(
        "operator-key-with-a-space",
        "refund",
        body("refund", "rg-bi-h-8"),
        401,
        "SIGNATURE_MALFORMED",
        replacing(KEY_HEADER, "dev rgs-wallet-key"),
    ),
    Case("operator-key-empty", "bet", body("bet", "rg-bi-h-9"), 401, "SIGNATURE_MALFORMED", replacing(KEY_HEADER, "")),
    Case("timestamp-text", "win", body("win", "rg-bi-h-10"), 401, "SIGNATURE_MALFORMED", replacing(TS_HEADER, "now")),
    Case(
        "timestamp-milliseconds",
        "refund",
        body("refund", "rg-bi-h-11"),
        401,
        "SIGNATURE_MALFORMED",
        replacing(TS_HEADER, str(int(time.time() * 1000))),
    ),
    Case(
        "timestamp-negative", "bet", body("bet", "rg-bi-h-12"), 401, "SIGNATURE_MALFORMED", replacing(TS_HEADER, "-5")
    ),
    Case(
        "timestamp-exponent",
        "win",
        body("win", "rg-bi-h-13"),
        401,
        "SIGNATURE_MALFORMED",
        replacing(TS_HEADER, "1.7e9"),
    ),
    Case(
        "signature-not-hex",
        "refund",
        body("refund", "rg-bi-h-14"),
        401,
        "SIGNATURE_MALFORMED",
        replacing(SIG_HEADER, "zz" * 32),
    ),
    Case(
        "signature-63-hex",
        "bet",
        body("bet", "rg-bi-h-15"),
        401,
        "SIGNATURE_MALFORMED",
        replacing(SIG_HEADER, "a" * 63),
    ),
    Case(
        "signature-sha256-prefixed",
        "win",
        body("win", "rg-bi-h-16"),
        401,
        "SIGNATURE_MALFORMED",
        replacing(SIG_HEADER, "sha256=" + "ab" * 32),
    ),
    Case(
        "signature-empty",
        "refund",
        body("refund", "rg-bi-h-17"),
        401,
        "SIGNATURE_MALFORMED",
        replacing(SIG_HEADER, ""),
    ),
    # --- 401: time window ----------------------------------------------------------------------------------
    Case("timestamp-stale-301s", "bet", body("bet", "rg-bi-h-18"), 401, "TIMESTAMP_STALE", shifted(-301)),
    Case("timestamp-stale-a-day", "refund", body("refund", "rg-bi-h-19"), 401, "TIMESTAMP_STALE", shifted(-86_400)),
    Case("timestamp-future-301s", "win", body("win", "rg-bi-h-20"), 401, "TIMESTAMP_IN_FUTURE", shifted(301)),
    Case("timestamp-zero", "bet", body("bet", "rg-bi-h-21"), 401, "TIMESTAMP_STALE", replacing(TS_HEADER, "0")),
    Case(
        "stale-and-unknown-operator",
        "win",
        body("win", "rg-bi-h-22"),
        401,
        "TIMESTAMP_STALE",
        shifted(-400, operator_id=str(uuid.UUID(int=7))),
    ),
    # --- 401: operator and key -----------------------------------------------------------------------------
    Case(
        "unknown-operator-id",
        "bet",
        body("bet", "rg-bi-h-23"),
        401,
        "UNKNOWN_OPERATOR",
        signed_with(operator_id="00000000-0000-4000-8000-000000000000"),
    ),
    Case(
        "wrong-api-key", "win", body("win", "rg-bi-h-24"), 401, "UNKNOWN_OPERATOR", signed_with(api_key="rg-wrong-key")
    ),
    Case(
        "api-key-in-upper-case",
        "refund",
        body("refund", "rg-bi-h-25"),
        401,
        "UNKNOWN_OPERATOR",
        signed_with(api_key=RGS_API_KEY.upper()),
    ),
    # --- 401: the HMAC ------------------------------------------------------------------------------------------
    Case("wrong-secret", "bet", body("bet", "rg-bi-h-26"), 401, "SIGNATURE_INVALID", signed_with(secret="rg-wrong")),
    Case(
        "body-one-byte-changed-after-signing",
        "bet",
        one_byte_changed(BET_SIGNED, b'"amount_minor":100', b'"amount_minor":900'),
        401,
        "SIGNATURE_INVALID",
        signature_of(BET_SIGNED),
    ),
    Case(
        "body-trailing-space-after-signing",
        "win",
        WIN_SIGNED + b" ",
        401,
        "SIGNATURE_INVALID",
        signature_of(WIN_SIGNED),
    ),
    Case(
        "query-string-added-after-signing",
        "refund",
        body("refund", "rg-bi-h-27"),
        401,
        "SIGNATURE_INVALID",
        query="amount_minor=1",
    ),
    Case(
        "signed-with-a-query-string-sent-without",
        "bet",
        body("bet", "rg-bi-h-28"),
        401,
        "SIGNATURE_INVALID",
        signed_with(path="/rgs-wallet/bet?currency=USD"),
    ),
    Case(
        "path-changed-after-signing-win-to-bet",
        "win",
        body("win", "rg-bi-h-29"),
        401,
        "SIGNATURE_INVALID",
        send_route="bet",
    ),
    Case(
        "path-changed-after-signing-refund-to-win",
        "refund",
        body("refund", "rg-bi-h-30"),
        401,
        "SIGNATURE_INVALID",
        send_route="win",
    ),
    Case(
        "method-changed-after-signing",
        "bet",
        body("bet", "rg-bi-h-31"),
        401,
        "SIGNATURE_INVALID",
        signed_with(method="PUT"),
    ),
    Case(
        "signature-over-another-timestamp",
        "win",
        body("win", "rg-bi-h-32"),
        401,
        "SIGNATURE_INVALID",
        timestamp_moved(-1),
    ),
    Case(
        "garbage-signature-with-the-secret-in-x-operator-hmac",
        "refund",
        body("refund", "rg-bi-h-33"),
        401,
        "SIGNATURE_INVALID",
        and_hmac(replacing(SIG_HEADER, "ab" * 32)),
    ),
    # --- 400 INVALID_JSON (signed) ---------------------------------------------------------------------------
    Case("json-truncated", "bet", body("bet", "rg-bi-j-1")[:-1], 400, "INVALID_JSON"),
    Case("json-array", "win", b'[{"operator_tx_id":"rg-bi-j-2"}]', 400, "INVALID_JSON"),
    Case("json-string", "refund", b'"rg-bi-j-3"', 400, "INVALID_JSON"),
    Case("json-null", "bet", b"null", 400, "INVALID_JSON"),
    Case("json-number", "win", b"100", 400, "INVALID_JSON"),
    Case("json-empty-body", "refund", b"", 400, "INVALID_JSON"),
    Case("json-trailing-data", "bet", body("bet", "rg-bi-j-4") + b"{}", 400, "INVALID_JSON"),
    Case("json-duplicate-amount", "bet", raw("bet", "rg-bi-j-5", "}", ',"amount_minor":1}'), 400, "INVALID_JSON"),
    Case(
        "json-duplicate-operator-tx-id",
        "refund",
        raw("refund", "rg-bi-j-6", "}", ',"operator_tx_id":"rg-bi-j-6b"}'),
        400,
        "INVALID_JSON",
    ),
    Case(
        "json-nan-amount",
        "win",
        raw("win", "rg-bi-j-7", '"amount_minor":100', '"amount_minor":NaN'),
        400,
        "INVALID_JSON",
    ),
    Case(
        "json-infinity-amount",
        "refund",
        raw("refund", "rg-bi-j-8", '"amount_minor":100', '"amount_minor":Infinity'),
        400,
        "INVALID_JSON",
    ),
    Case(
        "json-invalid-utf8",
        "bet",
        body("bet", "rg-bi-j-9").replace(b"rg-bad-session", b"rg-bad-\xff"),
        400,
        "INVALID_JSON",
    ),
    Case(
        "json-integer-of-5000-digits",
        "win",
        raw("win", "rg-bi-j-10", '"amount_minor":100', '"amount_minor":' + "9" * 5000),
        400,
        "INVALID_JSON",
    ),
    Case(
        "json-nested-3000-deep",
        "refund",
        raw("refund", "rg-bi-j-11", "}", ',"x":' + "[" * 3000 + "]" * 3000 + "}"),
        400,
        "INVALID_JSON",
    ),
    # --- 400 INVALID_REQUEST: missing fields ------------------------------------------------------------------
    *[missing("bet", name) for name in FIELDS],
    *[missing("win", name) for name in FIELDS],
    *[missing("refund", name) for name in FIELDS],
    Case("empty-object", "bet", b"{}", 400, "INVALID_REQUEST"),
    # --- 400 INVALID_REQUEST: wrong types and ranges ------------------------------------------------------------
    Case(
        "amount-float",
        "bet",
        raw("bet", "rg-bi-f-1", '"amount_minor":100', '"amount_minor":1.5'),
        400,
        "INVALID_REQUEST",
    ),
    Case(
        "amount-integral-float",
        "win",
        raw("win", "rg-bi-f-2", '"amount_minor":100', '"amount_minor":100.0'),
        400,
        "INVALID_REQUEST",
    ),
    Case(
        "amount-exponent",
        "refund",
        raw("refund", "rg-bi-f-3", '"amount_minor":100', '"amount_minor":1e2'),
        400,
        "INVALID_REQUEST",
    ),
    bad_field("amount-string", "bet", "amount_minor", "100"),
    bad_field("amount-true", "win", "amount_minor", True),
    bad_field("amount-false", "refund", "amount_minor", False),
    bad_field("amount-negative", "bet", "amount_minor", -1),
    bad_field("amount-null", "win", "amount_minor", None),
    bad_field("amount-object", "refund", "amount_minor", {"value": 100}),
    bad_field("tx-id-empty", "bet", "operator_tx_id", ""),
    bad_field("tx-id-129-chars", "win", "operator_tx_id", "t" * 129),
    bad_field("tx-id-newline", "refund", "operator_tx_id", "rg-bi-f-nl\n"),
    bad_field("tx-id-nul", "bet", "operator_tx_id", "rg-bi\x00-f"),
    bad_field("tx-id-integer", "win", "operator_tx_id", 12345),
    Case(
        "tx-id-lone-surrogate",
        "refund",
        raw("refund", "rg-bi-f-sur", '"operator_tx_id":"rg-bi-f-sur"', '"operator_tx_id":"rg-\\ud800"'),
        400,
        "INVALID_REQUEST",
    ),
    bad_field("round-id-empty", "refund", "round_id", ""),
    bad_field("round-id-del-char", "bet", "round_id", "round\x7f"),
    bad_field("round-id-null", "win", "round_id", None),
    bad_field("session-id-129-chars", "win", "session_id", "s" * 129),
    bad_field("session-id-line-separator", "bet", "session_id", "s\u2028s"),
    bad_field("session-id-list", "refund", "session_id", ["s"]),
    bad_field("player-empty", "bet", "operator_player_id", ""),
    bad_field("player-65-chars", "win", "operator_player_id", "p" * 65),
    bad_field("player-with-space", "refund", "operator_player_id", "rg bad"),
    bad_field("player-with-slash", "bet", "operator_player_id", "rg/bad"),
    bad_field("player-integer", "win", "operator_player_id", 990001),
    bad_field("currency-lower-case", "bet", "currency", "usd"),
    bad_field("currency-two-letters", "win", "currency", "US"),
    bad_field("currency-four-letters", "refund", "currency", "USDT"),
    bad_field("currency-trailing-newline", "bet", "currency", "USD\n"),
    bad_field("currency-null", "win", "currency", None),
    # --- 400: currency and amount ---------------------------------------------------------------------------------
    bad_field("currency-unknown-xyz", "bet", "currency", "XYZ", "UNKNOWN_CURRENCY"),
    bad_field("currency-unknown-xau", "refund", "currency", "XAU", "UNKNOWN_CURRENCY"),
    bad_field("amount-above-the-maximum", "bet", "amount_minor", 10**14 + 1, "INVALID_AMOUNT"),
    bad_field("amount-huge", "win", "amount_minor", 10**30, "INVALID_AMOUNT"),
    bad_field("amount-huge-refund", "refund", "amount_minor", 2**63, "INVALID_AMOUNT"),
    # --- 404: the player ------------------------------------------------------------------------------------------
    bad_field("unknown-player-bet", "bet", "operator_player_id", "rg-bad-nobody", "UNKNOWN_PLAYER"),
    bad_field("unknown-player-win", "win", "operator_player_id", "rg-bad-nobody", "UNKNOWN_PLAYER"),
    bad_field("unknown-player-refund", "refund", "operator_player_id", "rg-bad-nobody", "UNKNOWN_PLAYER"),
    bad_field("currency-the-player-has-not", "win", "currency", "EUR", "UNKNOWN_PLAYER"),
    bad_field("currency-the-player-has-not-refund", "refund", "currency", "JPY", "UNKNOWN_PLAYER"),
]

# The refusals of valid requests, exercised in test_rgs_wallet.py and test_rgs_wallet_concurrency.py.
SEMANTIC_ERRORS = [
    (402, "INSUFFICIENT_FUNDS"),
    (409, "IDEMPOTENCY_CONFLICT"),
    (409, "ALREADY_ROLLED_BACK"),
    (409, "REVERSAL_AMOUNT_MISMATCH"),
    (409, "NOT_REVERSIBLE"),
    (503, "RETRY_LATER"),
    (404, "BET_NOT_FOUND"),
    (409, "WIN_ABOVE_LIMIT"),
    (409, "BET_SETTLED"),
]


# --- fixtures and helpers --------------------------------------------------------------------------------------


def send(stack: LocalStack, case: Case) -> HttpResponse:
    headers = case.sign(case.route, case.body)
    return stack.handle(rgs_request(case.send_route or case.route, case.body, headers, query=case.query))


def signed_call(stack: LocalStack, route: str, payload: bytes) -> HttpResponse:
    return send(stack, Case("control", route, payload, 200, ""))


def bet_behind(stack: LocalStack, payload: bytes) -> None:
    """The bet a win needs: the same player, currency and round as ``payload``, placed first."""
    data = json.loads(payload)
    bet = body("bet", f"{data['operator_tx_id']}-its-bet", round_id=data["round_id"], amount_minor=1)
    assert signed_call(stack, "bet", bet).status == 200


@pytest.fixture(scope="module")
def wallet_table(dynamodb_local: LocalDynamoDB, real_client: Any) -> Any:
    assert dynamodb_local.kind == "dynamodb-local", "these tests need DynamoDB Local, never moto"
    return real_client


@pytest.fixture(scope="module")
def player(local_stack: LocalStack) -> None:
    """One USD player of our own, funded through the admin API."""
    create_player(local_stack, player_id=PLAYER, currency="USD")
    fund_player(local_stack, PLAYER, "USD", "100.00", "rg-bi")


# --- the corpus ------------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("player")
@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in CASES])
def test_bad_input_is_refused_with_its_documented_error_and_writes_nothing(
    case: Case, local_stack: LocalStack, wallet_table: Any
) -> None:
    before = scan_table(wallet_table)
    response = send(local_stack, case)
    after = scan_table(wallet_table)
    rgs_refused(response, case.status, case.code)
    assert after == before


def test_the_corpus_is_large_distinct_and_covers_every_route() -> None:
    assert len(CASES) >= 30
    assert len({c.name for c in CASES}) == len(CASES)
    signatures = {(c.route, c.send_route, c.query, c.body, c.sign.label) for c in CASES}
    assert len(signatures) == len(CASES), "two rows send the same request"
    for route in ROUTES:
        codes = {c.code for c in CASES if c.route == route}
        assert {"SIGNATURE_MISSING", "SIGNATURE_MALFORMED", "SIGNATURE_INVALID", "INVALID_JSON"} <= codes, route
        assert {"INVALID_REQUEST", "INVALID_AMOUNT", "UNKNOWN_PLAYER", "PAYLOAD_TOO_LARGE"} <= codes, route
        assert {f"{route}-missing-{name}" for name in FIELDS} <= {c.name for c in CASES}


def test_the_documented_table_matches_the_codes_exercised() -> None:
    rows = re.findall(r"^\| (\d{3}) \| `([A-Z_]+)` \|", __doc__ or "", flags=re.MULTILINE)
    documented = {code: int(status) for status, code in rows}
    exercised = {c.code: c.status for c in CASES} | {code: status for status, code in SEMANTIC_ERRORS}
    assert len(rows) == len(documented), "a code is documented twice"
    assert documented == exercised


@pytest.mark.usefixtures("player")
@pytest.mark.parametrize("route", ROUTES)
def test_the_baseline_requests_succeed_so_each_row_fails_only_for_its_own_defect(
    route: str, local_stack: LocalStack, wallet_table: Any
) -> None:
    """The rows are these requests with one thing wrong: here they are right, and each writes its entry."""
    tx = f"rg-bi-control-{route}"
    if route == "win":
        bet_behind(local_stack, body(route, tx))
    before = scan_table(wallet_table)
    response = signed_call(local_stack, route, body(route, tx))
    after = scan_table(wallet_table)
    assert response.status == 200, response.body
    assert response.json()["ok"] is True
    assert isinstance(response.json()["balance_minor"], int)
    key = f"bet:{PLAYER}/round-{tx}" if route == "bet" else f"tx:{tx}"  # a bet is kept under its player and round
    assert (f"TX#rgs:{OPERATOR_ID}#{key}", "TX") in after, "its own entry"
    assert after != before
    # the player's account adds up: balance = Σ delta, version = number of entries
    account = after[(f"PLAYER#{PLAYER}", "ACCOUNT#USD")]
    entries = [
        i
        for i in after.values()
        if i["sk"]["S"] == "TX"
        and (i["player_id"]["S"], i["currency"]["S"]) == (PLAYER, "USD")
        and i["kind"]["S"] in ("debit", "credit", "reversal")
    ]
    assert int(account["balance"]["N"]) == sum(int(e["delta"]["N"]) for e in entries)
    assert int(account["version"]["N"]) == len(entries)
    assert int(account["balance"]["N"]) // 100 == response.json()["balance_minor"]


@pytest.mark.usefixtures("player")
def test_a_body_of_exactly_16_kib_is_accepted(local_stack: LocalStack) -> None:
    payload = padded("win", "rg-bi-exactly-16k", MAX_BODY)
    bet_behind(local_stack, payload)
    response = signed_call(local_stack, "win", payload)
    assert response.status == 200, response.body


@pytest.mark.usefixtures("player")
def test_unknown_fields_and_a_free_form_multiplier_are_accepted(local_stack: LocalStack) -> None:
    payload = body("win", "rg-bi-extra", multiplier={"x": [1, 2.5, None]}, extra={"nested": True}, lang="ko")
    bet_behind(local_stack, payload)
    response = signed_call(local_stack, "win", payload)
    assert response.status == 200, response.body


@pytest.mark.usefixtures("player")
def test_a_request_without_content_type_arrives_base64_encoded_and_still_verifies(local_stack: LocalStack) -> None:
    """API Gateway base64-encodes a body without a textual content type: the signature covers the decoded bytes."""
    payload = body("win", "rg-bi-no-content-type")
    bet_behind(local_stack, payload)
    headers = list(rgs_headers("win", payload).items())
    response = local_stack.handle(HttpRequest("POST", "/rgs-wallet/win", headers=headers, body=payload))
    assert response.status == 200, response.body
