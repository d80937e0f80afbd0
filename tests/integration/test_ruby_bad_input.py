"""Bad input on Ruby's seamless-wallet callbacks: every refusal has a documented status and code, and writes nothing.

Every request goes through the HTTP path of the local stack (``LocalStack.handle``: API Gateway's event
building, the function's handler, API Gateway's response mapping) onto DynamoDB Local. Around every case the
whole wallet table is scanned (consistent read) and must be identical before and after.

Error bodies are always ``{"error": "<CODE>", "message": "<text>"}`` with ``Content-Type: application/json``.
The checks run in this order, and the first failing one answers (so a request that is both unsigned and not
JSON gets a 401, and an oversized one gets a 413 whatever else is wrong with it):

1. body size → 2. signature headers (presence, format, time window, brand key, HMAC) → 3. strict JSON →
4. fields → 5. amount → 6. player → 7. the ledger.

| status | `error` | when (details below) |
|---|---|---|
| 413 | `PAYLOAD_TOO_LARGE` | the body is over 16 KiB (16384 bytes), signed or not |
| 401 | `SIGNATURE_MISSING` | a signature header is absent |
| 401 | `SIGNATURE_MALFORMED` | the timestamp is not unix seconds, or the signature not 64 hex digits |
| 401 | `TIMESTAMP_STALE` | the timestamp is more than 300 s before the server's clock |
| 401 | `TIMESTAMP_IN_FUTURE` | the timestamp is more than 300 s after the server's clock |
| 401 | `UNKNOWN_BRAND_KEY` | no brand is configured under `X-Aggregator-Key` |
| 401 | `SIGNATURE_INVALID` | a well-formed signature that does not match the body and timestamp |
| 400 | `INVALID_JSON` | the body is not one strict JSON object |
| 400 | `INVALID_REQUEST` | a required field is missing, or a field has the wrong type or range |
| 400 | `INVALID_AMOUNT` | `amount` is a string but not a plain decimal of at most 2 places, or too large |
| 404 | `UNKNOWN_PLAYER` | a valid request whose `player_id` is not linked to a Croupier player |
| 402 | `INSUFFICIENT_FUNDS` | a debit above the balance |
| 409 | `IDEMPOTENCY_CONFLICT` | a `transaction_id` used before with a different amount, player or kind |
| 409 | `ALREADY_ROLLED_BACK` | a debit or credit whose `transaction_id` was rolled back before it arrived |
| 409 | `NOT_REVERSIBLE` | a rollback naming a credit, or another player's transaction |
| 503 | `RETRY_LATER` | the wallet stayed busy through every retry; resend the same request (not provoked here) |

Details:

* The three signature headers are `X-Aggregator-Key`, `X-Aggregator-Timestamp` and `X-Aggregator-Signature`;
  the signature is `hex(HMAC-SHA256(brand api_secret, raw body bytes + timestamp))`.
* `SIGNATURE_MALFORMED`: a timestamp that is not 1 to 12 ASCII digits (milliseconds, a sign, a decimal or an
  exponent, text, empty); a signature that is not exactly 64 hex digits (other lengths, non-hex, a prefix).
* The time window is checked before the brand key: a stale request with an unknown key is `TIMESTAMP_STALE`.
* `UNKNOWN_BRAND_KEY` also answers an empty key, a key over 128 characters and a key containing `/`.
* `SIGNATURE_INVALID`: the wrong secret, a body changed after signing (one byte, a trailing space), the
  signature of another request's body, or a signature over another timestamp than the header's.
* `INVALID_JSON`: an empty or whitespace body, malformed or truncated JSON, trailing data, invalid UTF-8, an
  array, string, number, `null` or boolean at the top, a duplicate key at any depth, a bare `NaN`,
  `Infinity` or `-Infinity`, an integer of more than 4300 digits.
* `INVALID_REQUEST`: missing `player_id` (every route), `amount` or `transaction_id` (debit, credit),
  `transaction_id` (rollback); `player_id` not a JSON integer in 1..2^63-1 (a string, `777001.0`, `7.77e5`,
  a boolean, `null`, an object, zero or negative are refused); `amount` not a JSON string (numbers are
  refused: money is a decimal string); `transaction_id` or `ref_transaction_id` not a string of 1 to 128
  characters without control characters (U+0000-U+001F, U+007F, a trailing newline included) or with a lone
  surrogate; `round_id`, `game_code`, `provider_code`, `username` not strings of at most 128 characters.
  Unknown extra fields are ignored.
* `INVALID_AMOUNT`: a sign, an exponent, whitespace, a leading zero, a bare point, a decimal comma, `NaN`,
  `Infinity`, non-ASCII digits, an empty string, 3 or more decimal places, or above 1,000,000,000,000.00.
* `IDEMPOTENCY_CONFLICT` includes a debit's signed body replayed to `/ruby/credit` (Ruby's signature does not
  cover the path; the ledger's key and fingerprint do).

A replay of a debit, credit or rollback with the same content answers the first response, byte for byte,
and writes nothing. Anything else, in particular a 500, is a bug.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest

from croupier.signing import ruby_callback
from croupier_local.apigw import HttpResponse
from croupier_local.server import LocalStack
from tests.support.players import create_player, fund_player
from tests.support.requests import (
    BRAND_SECRET,
    DROP,
    Signer,
    json_post,
    one_byte_changed,
    padded_to,
    ruby_headers,
    with_fields,
)
from tests.support.wallet_table import scan_table

KEY_HEADER, TS_HEADER, SIG_HEADER = (
    ruby_callback.KEY_HEADER,
    ruby_callback.TIMESTAMP_HEADER,
    ruby_callback.SIGNATURE_HEADER,
)

PLAYER, RUBY_ID = "badinput-player", 777001
PLAYER_2, RUBY_ID_2 = "badinput-player-2", 777002
PLAYER_3, RUBY_ID_3 = "badinput-player-3", 777003
UNKNOWN_RUBY_ID = 779999  # never linked to anyone
MAX_BODY = 16 * 1024
ROUTES = ("balance", "debit", "credit", "rollback")


# --- signing ---------------------------------------------------------------------------------------------------

SIGNED = Signer("signed", ruby_headers)
UNSIGNED = Signer("no signature headers", lambda body: {})


def without(name: str) -> Signer:
    return Signer(f"without {name}", lambda body: {k: v for k, v in ruby_headers(body).items() if k != name})


def replacing(name: str, value: str) -> Signer:
    return Signer(f"{name}={value!r}", lambda body: {**ruby_headers(body), name: value})


def shifted(seconds: int) -> Signer:
    return Signer(f"timestamp now{seconds:+d}s", lambda body: ruby_headers(body, offset=seconds))


def keyed(key: str, *, offset: int = 0) -> Signer:
    return Signer(f"key {key!r} offset {offset}", lambda body: ruby_headers(body, key=key, offset=offset))


def secret(value: str) -> Signer:
    return Signer(f"secret {value!r}", lambda body: ruby_headers(body, secret=value))


def signature_of(other: bytes) -> Signer:
    """Headers valid for ``other``, sent with the case's body (a body changed after signing)."""
    return Signer(f"signature of {other!r}", lambda body: ruby_headers(other))


def timestamp_moved(seconds: int) -> Signer:
    """A signature over one timestamp, sent with another (well inside the window)."""

    def make(body: bytes) -> dict[str, str]:
        headers = ruby_headers(body)
        return {**headers, TS_HEADER: str(int(headers[TS_HEADER]) + seconds)}

    return Signer(f"signed timestamp moved {seconds:+d}s", make)


def garbled_and(signer: Signer) -> Signer:
    return Signer(f"garbled signature, {signer.label}", lambda body: {**signer(body), SIG_HEADER: "zz" * 32})


# --- bodies ------------------------------------------------------------------------------------------------------


def body(route: str, tx: str = "", **fields: Any) -> bytes:
    """A valid-looking request for ``route`` (unique ``tx``), with ``fields`` overridden or dropped (``DROP``)."""
    data: dict[str, Any] = {"player_id": RUBY_ID}
    if route in ("debit", "credit"):
        data |= {"amount": "1.00", "transaction_id": tx, "round_id": f"round-{tx}", "game_code": "dev-slot"}
    elif route == "rollback":
        data |= {"transaction_id": tx, "round_id": f"round-{tx}"}
    return json.dumps(with_fields(data, fields), separators=(",", ":"), ensure_ascii=False).encode()


def padded(route: str, tx: str, size: int) -> bytes:
    """A valid-looking request of exactly ``size`` bytes (an ignored ``pad`` field)."""
    return padded_to(lambda pad: body(route, tx, pad=pad), size)


DEBIT_SIGNED = body("debit", "bi-sig-tamper")
BALANCE_OF_SAME_PLAYER = body("balance")


# --- the corpus ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    name: str
    route: str
    body: bytes
    status: int
    code: str
    sign: Signer = field(default=SIGNED)

    def __str__(self) -> str:
        return self.name


CASES: list[Case] = [
    # --- 413: size first -----------------------------------------------------------------------------------
    Case("oversized-debit-signed", "debit", padded("debit", "bi-big-1", MAX_BODY + 1), 413, "PAYLOAD_TOO_LARGE"),
    Case("oversized-credit-signed", "credit", padded("credit", "bi-big-2", 20_000), 413, "PAYLOAD_TOO_LARGE"),
    Case(
        "oversized-rollback-signed", "rollback", padded("rollback", "bi-big-3", MAX_BODY + 1), 413, "PAYLOAD_TOO_LARGE"
    ),
    Case(
        "oversized-balance-unsigned",
        "balance",
        padded("balance", "", MAX_BODY + 1),
        413,
        "PAYLOAD_TOO_LARGE",
        UNSIGNED,
    ),
    Case("oversized-garbage-unsigned", "debit", b"[" * (MAX_BODY + 100), 413, "PAYLOAD_TOO_LARGE", UNSIGNED),
    # --- 401: signature headers --------------------------------------------------------------------------
    Case("missing-key-header", "debit", body("debit", "bi-h-1"), 401, "SIGNATURE_MISSING", without(KEY_HEADER)),
    Case("missing-timestamp-header", "credit", body("credit", "bi-h-2"), 401, "SIGNATURE_MISSING", without(TS_HEADER)),
    Case(
        "missing-signature-header",
        "rollback",
        body("rollback", "bi-h-3"),
        401,
        "SIGNATURE_MISSING",
        without(SIG_HEADER),
    ),
    Case("missing-all-headers", "balance", body("balance"), 401, "SIGNATURE_MISSING", UNSIGNED),
    Case("unsigned-garbage-is-401-not-400", "debit", b"not json at all", 401, "SIGNATURE_MISSING", UNSIGNED),
    Case("timestamp-stale", "debit", body("debit", "bi-h-4"), 401, "TIMESTAMP_STALE", shifted(-301)),
    Case("timestamp-stale-by-a-day", "rollback", body("rollback", "bi-h-5"), 401, "TIMESTAMP_STALE", shifted(-86_400)),
    Case("timestamp-in-future", "credit", body("credit", "bi-h-6"), 401, "TIMESTAMP_IN_FUTURE", shifted(301)),
    Case("timestamp-zero", "balance", body("balance"), 401, "TIMESTAMP_STALE", replacing(TS_HEADER, "0")),
    Case("timestamp-text", "balance", body("balance"), 401, "SIGNATURE_MALFORMED", replacing(TS_HEADER, "yesterday")),
    Case(
        "timestamp-negative", "debit", body("debit", "bi-h-7"), 401, "SIGNATURE_MALFORMED", replacing(TS_HEADER, "-5")
    ),
    Case(
        "timestamp-decimal",
        "credit",
        body("credit", "bi-h-8"),
        401,
        "SIGNATURE_MALFORMED",
        replacing(TS_HEADER, "1.7e9"),
    ),
    Case(
        "timestamp-milliseconds",
        "debit",
        body("debit", "bi-h-9"),
        401,
        "SIGNATURE_MALFORMED",
        replacing(TS_HEADER, str(int(time.time() * 1000))),
    ),
    Case(
        "timestamp-empty", "rollback", body("rollback", "bi-h-10"), 401, "SIGNATURE_MALFORMED", replacing(TS_HEADER, "")
    ),
    Case(
        "signature-not-hex",
        "debit",
        body("debit", "bi-h-11"),
        401,
        "SIGNATURE_MALFORMED",
        replacing(SIG_HEADER, "zz" * 32),
    ),
    Case(
        "signature-63-hex",
        "credit",
        body("credit", "bi-h-12"),
        401,
        "SIGNATURE_MALFORMED",
        replacing(SIG_HEADER, "a" * 63),
    ),
    Case(
        "signature-66-hex",
        "rollback",
        body("rollback", "bi-h-13"),
        401,
        "SIGNATURE_MALFORMED",
        replacing(SIG_HEADER, "ab" * 33),
    ),
    Case("signature-empty", "balance", body("balance"), 401, "SIGNATURE_MALFORMED", replacing(SIG_HEADER, "")),
    Case(
        "signature-sha256-prefixed",
        "debit",
        body("debit", "bi-h-14"),
        401,
        "SIGNATURE_MALFORMED",
        replacing(SIG_HEADER, "sha256=" + "ab" * 32),
    ),
    Case(
        "signature-wrong-but-well-formed",
        "debit",
        body("debit", "bi-h-15"),
        401,
        "SIGNATURE_INVALID",
        replacing(SIG_HEADER, "ab" * 32),
    ),
    Case(
        "signature-wrong-secret",
        "credit",
        body("credit", "bi-h-16"),
        401,
        "SIGNATURE_INVALID",
        secret("not-the-brand-secret"),
    ),
    Case(
        "signature-other-timestamp",
        "rollback",
        body("rollback", "bi-h-17"),
        401,
        "SIGNATURE_INVALID",
        timestamp_moved(-1),
    ),
    Case(
        "body-one-byte-changed-after-signing",
        "debit",
        one_byte_changed(DEBIT_SIGNED, b'"amount":"1.00"', b'"amount":"9.00"'),
        401,
        "SIGNATURE_INVALID",
        signature_of(DEBIT_SIGNED),
    ),
    Case(
        "body-trailing-space-after-signing",
        "debit",
        DEBIT_SIGNED + b" ",
        401,
        "SIGNATURE_INVALID",
        signature_of(DEBIT_SIGNED),
    ),
    Case(
        "signature-of-another-routes-body",
        "credit",
        body("credit", "bi-h-18"),
        401,
        "SIGNATURE_INVALID",
        signature_of(BALANCE_OF_SAME_PLAYER),
    ),
    Case("unknown-brand-key", "credit", body("credit", "bi-h-19"), 401, "UNKNOWN_BRAND_KEY", keyed("no-such-brand")),
    Case("brand-key-path-traversal", "balance", body("balance"), 401, "UNKNOWN_BRAND_KEY", keyed("../team")),
    Case("brand-key-empty", "debit", body("debit", "bi-h-20"), 401, "UNKNOWN_BRAND_KEY", keyed("")),
    Case("brand-key-too-long", "rollback", body("rollback", "bi-h-21"), 401, "UNKNOWN_BRAND_KEY", keyed("k" * 129)),
    Case(
        "stale-checked-before-the-brand-key",
        "debit",
        body("debit", "bi-h-22"),
        401,
        "TIMESTAMP_STALE",
        keyed("no-such-brand", offset=-301),
    ),
    Case(
        "malformed-checked-before-stale",
        "credit",
        body("credit", "bi-h-23"),
        401,
        "SIGNATURE_MALFORMED",
        garbled_and(shifted(-301)),
    ),
    # --- 400 INVALID_JSON (all validly signed) ---------------------------------------------------------------
    Case("json-empty-body", "balance", b"", 400, "INVALID_JSON"),
    Case("json-whitespace-only", "debit", b" \n\t ", 400, "INVALID_JSON"),
    Case(
        "json-unquoted-key",
        "debit",
        b'{player_id: 777001, "amount": "1.00", "transaction_id": "bi-j-1"}',
        400,
        "INVALID_JSON",
    ),
    Case("json-single-quotes", "credit", b"{'player_id': 777001}", 400, "INVALID_JSON"),
    Case("json-trailing-comma", "rollback", b'{"player_id":777001,"transaction_id":"bi-j-2",}', 400, "INVALID_JSON"),
    Case("json-truncated", "debit", body("debit", "bi-j-3")[:-7], 400, "INVALID_JSON"),
    Case("json-truncated-inside-string", "credit", b'{"player_id":777001,"amount":"1.0', 400, "INVALID_JSON"),
    Case("json-trailing-data", "balance", b'{"player_id":777001} x', 400, "INVALID_JSON"),
    Case("json-two-objects", "rollback", body("rollback", "bi-j-4") * 2, 400, "INVALID_JSON"),
    Case("json-comment", "balance", b'{"player_id":777001} // hi', 400, "INVALID_JSON"),
    Case(
        "json-invalid-utf8",
        "debit",
        b'{"player_id":777001,"amount":"1.00","transaction_id":"bi-\xff"}',
        400,
        "INVALID_JSON",
    ),
    Case(
        "json-array", "debit", b'[{"player_id":777001,"amount":"1.00","transaction_id":"bi-j-5"}]', 400, "INVALID_JSON"
    ),
    Case("json-string", "credit", b'"player_id=777001"', 400, "INVALID_JSON"),
    Case("json-number", "balance", b"777001", 400, "INVALID_JSON"),
    Case("json-null", "rollback", b"null", 400, "INVALID_JSON"),
    Case("json-true", "balance", b"true", 400, "INVALID_JSON"),
    Case("json-duplicate-player-id", "balance", b'{"player_id":777001,"player_id":777001}', 400, "INVALID_JSON"),
    Case(
        "json-duplicate-amount",
        "debit",
        b'{"player_id":777001,"amount":"1.00","amount":"900.00","transaction_id":"bi-j-6"}',
        400,
        "INVALID_JSON",
    ),
    Case(
        "json-duplicate-transaction-id",
        "rollback",
        b'{"player_id":777001,"transaction_id":"bi-j-7","transaction_id":"bi-j-8"}',
        400,
        "INVALID_JSON",
    ),
    Case(
        "json-duplicate-key-nested",
        "credit",
        b'{"player_id":777001,"amount":"1.00","transaction_id":"bi-j-9","extra":{"a":1,"a":2}}',
        400,
        "INVALID_JSON",
    ),
    Case(
        "json-bare-nan-amount",
        "debit",
        b'{"player_id":777001,"amount":NaN,"transaction_id":"bi-j-10"}',
        400,
        "INVALID_JSON",
    ),
    Case(
        "json-bare-infinity-amount",
        "credit",
        b'{"player_id":777001,"amount":Infinity,"transaction_id":"bi-j-11"}',
        400,
        "INVALID_JSON",
    ),
    Case("json-bare-minus-infinity", "balance", b'{"player_id":777001,"x":-Infinity}', 400, "INVALID_JSON"),
    Case("json-bare-nan-player-id", "rollback", b'{"player_id":NaN,"transaction_id":"bi-j-12"}', 400, "INVALID_JSON"),
    Case("json-integer-over-4300-digits", "balance", b'{"player_id":1' + b"0" * 4300 + b"}", 400, "INVALID_JSON"),
    # --- 400 INVALID_REQUEST: missing fields -------------------------------------------------------------------
    Case("missing-player-id-balance", "balance", b"{}", 400, "INVALID_REQUEST"),
    Case("missing-player-id-debit", "debit", body("debit", "bi-m-1", player_id=DROP), 400, "INVALID_REQUEST"),
    Case("missing-amount-debit", "debit", body("debit", "bi-m-2", amount=DROP), 400, "INVALID_REQUEST"),
    Case("missing-transaction-id-debit", "debit", body("debit", "", transaction_id=DROP), 400, "INVALID_REQUEST"),
    Case("missing-player-id-credit", "credit", body("credit", "bi-m-3", player_id=DROP), 400, "INVALID_REQUEST"),
    Case("missing-amount-credit", "credit", body("credit", "bi-m-4", amount=DROP), 400, "INVALID_REQUEST"),
    Case("missing-transaction-id-credit", "credit", body("credit", "", transaction_id=DROP), 400, "INVALID_REQUEST"),
    Case("missing-player-id-rollback", "rollback", body("rollback", "bi-m-5", player_id=DROP), 400, "INVALID_REQUEST"),
    Case(
        "missing-transaction-id-rollback",
        "rollback",
        body("rollback", "", transaction_id=DROP),
        400,
        "INVALID_REQUEST",
    ),
    # --- 400 INVALID_REQUEST: wrong types and ranges -------------------------------------------------------------
    Case("player-id-string", "balance", body("balance", player_id=str(RUBY_ID)), 400, "INVALID_REQUEST"),
    Case(
        "player-id-float",
        "debit",
        b'{"player_id":777001.0,"amount":"1.00","transaction_id":"bi-t-1"}',
        400,
        "INVALID_REQUEST",
    ),
    Case(
        "player-id-exponent",
        "credit",
        b'{"player_id":7.77001e5,"amount":"1.00","transaction_id":"bi-t-2"}',
        400,
        "INVALID_REQUEST",
    ),
    Case("player-id-true", "rollback", body("rollback", "bi-t-3", player_id=True), 400, "INVALID_REQUEST"),
    Case("player-id-null", "balance", body("balance", player_id=None), 400, "INVALID_REQUEST"),
    Case("player-id-negative", "debit", body("debit", "bi-t-4", player_id=-RUBY_ID), 400, "INVALID_REQUEST"),
    Case("player-id-zero", "credit", body("credit", "bi-t-5", player_id=0), 400, "INVALID_REQUEST"),
    Case("player-id-over-int64", "balance", body("balance", player_id=2**63), 400, "INVALID_REQUEST"),
    Case("player-id-object", "rollback", body("rollback", "bi-t-6", player_id={"id": RUBY_ID}), 400, "INVALID_REQUEST"),
    Case("amount-integer-number", "debit", body("debit", "bi-t-7", amount=1), 400, "INVALID_REQUEST"),
    Case(
        "amount-decimal-number",
        "credit",
        b'{"player_id":777001,"amount":1.00,"transaction_id":"bi-t-8"}',
        400,
        "INVALID_REQUEST",
    ),
    Case("amount-true", "debit", body("debit", "bi-t-9", amount=True), 400, "INVALID_REQUEST"),
    Case("amount-null", "credit", body("credit", "bi-t-10", amount=None), 400, "INVALID_REQUEST"),
    Case("amount-object", "debit", body("debit", "bi-t-11", amount={"value": "1.00"}), 400, "INVALID_REQUEST"),
    Case("amount-array", "credit", body("credit", "bi-t-12", amount=["1.00"]), 400, "INVALID_REQUEST"),
    Case("transaction-id-empty", "debit", body("debit", ""), 400, "INVALID_REQUEST"),
    Case("transaction-id-129-chars", "credit", body("credit", "t" * 129), 400, "INVALID_REQUEST"),
    Case("transaction-id-number", "debit", body("debit", "", transaction_id=12345), 400, "INVALID_REQUEST"),
    Case("transaction-id-null", "rollback", body("rollback", "", transaction_id=None), 400, "INVALID_REQUEST"),
    Case("transaction-id-control-char", "debit", body("debit", "bi-t-\u0001"), 400, "INVALID_REQUEST"),
    Case("transaction-id-nul", "rollback", body("rollback", "bi-t-\u0000-13"), 400, "INVALID_REQUEST"),
    Case("transaction-id-trailing-newline", "credit", body("credit", "bi-t-14\n"), 400, "INVALID_REQUEST"),
    Case("transaction-id-del", "debit", body("debit", "bi-t-\u007f"), 400, "INVALID_REQUEST"),
    Case(
        "transaction-id-lone-surrogate",
        "debit",
        b'{"player_id":777001,"amount":"1.00","transaction_id":"\\ud800"}',
        400,
        "INVALID_REQUEST",
    ),
    Case(
        "ref-transaction-id-empty",
        "rollback",
        body("rollback", "bi-t-15", ref_transaction_id=""),
        400,
        "INVALID_REQUEST",
    ),
    Case(
        "ref-transaction-id-number",
        "rollback",
        body("rollback", "bi-t-16", ref_transaction_id=7),
        400,
        "INVALID_REQUEST",
    ),
    Case("round-id-number", "debit", body("debit", "bi-t-17", round_id=12), 400, "INVALID_REQUEST"),
    Case("game-code-too-long", "credit", body("credit", "bi-t-18", game_code="g" * 129), 400, "INVALID_REQUEST"),
    Case("username-not-a-string", "balance", body("balance", username=["alice"]), 400, "INVALID_REQUEST"),
    # --- 400 INVALID_AMOUNT ------------------------------------------------------------------------------------------
    Case("amount-negative", "debit", body("debit", "bi-a-1", amount="-1.00"), 400, "INVALID_AMOUNT"),
    Case("amount-negative-credit", "credit", body("credit", "bi-a-2", amount="-0.01"), 400, "INVALID_AMOUNT"),
    Case("amount-nan-string", "debit", body("debit", "bi-a-3", amount="NaN"), 400, "INVALID_AMOUNT"),
    Case("amount-infinity-string", "credit", body("credit", "bi-a-4", amount="Infinity"), 400, "INVALID_AMOUNT"),
    Case("amount-exponent", "debit", body("debit", "bi-a-5", amount="1e3"), 400, "INVALID_AMOUNT"),
    Case("amount-three-places", "credit", body("credit", "bi-a-6", amount="1.001"), 400, "INVALID_AMOUNT"),
    Case("amount-over-maximum", "credit", body("credit", "bi-a-7", amount="10000000000000.00"), 400, "INVALID_AMOUNT"),
    Case(
        "amount-one-cent-over-maximum",
        "debit",
        body("debit", "bi-a-8", amount="1000000000000.01"),
        400,
        "INVALID_AMOUNT",
    ),
    Case(
        "amount-twenty-digits",
        "debit",
        body("debit", "bi-a-9", amount="99999999999999999999.00"),
        400,
        "INVALID_AMOUNT",
    ),
    Case("amount-empty-string", "credit", body("credit", "bi-a-10", amount=""), 400, "INVALID_AMOUNT"),
    Case("amount-leading-space", "debit", body("debit", "bi-a-11", amount=" 1.00"), 400, "INVALID_AMOUNT"),
    Case("amount-plus-sign", "credit", body("credit", "bi-a-12", amount="+1.00"), 400, "INVALID_AMOUNT"),
    Case("amount-leading-zero", "debit", body("debit", "bi-a-13", amount="01.00"), 400, "INVALID_AMOUNT"),
    Case("amount-decimal-comma", "credit", body("credit", "bi-a-14", amount="1,00"), 400, "INVALID_AMOUNT"),
    Case("amount-non-ascii-digits", "debit", body("debit", "bi-a-15", amount="١٢"), 400, "INVALID_AMOUNT"),
    Case("amount-bare-point", "credit", body("credit", "bi-a-16", amount="1."), 400, "INVALID_AMOUNT"),
    # --- 404 and the order of field checks before the player -------------------------------------------------------
    Case("unknown-player-balance", "balance", body("balance", player_id=UNKNOWN_RUBY_ID), 404, "UNKNOWN_PLAYER"),
    Case("unknown-player-debit", "debit", body("debit", "bi-u-1", player_id=UNKNOWN_RUBY_ID), 404, "UNKNOWN_PLAYER"),
    Case("unknown-player-credit", "credit", body("credit", "bi-u-2", player_id=UNKNOWN_RUBY_ID), 404, "UNKNOWN_PLAYER"),
    Case(
        "unknown-player-rollback",
        "rollback",
        body("rollback", "bi-u-3", player_id=UNKNOWN_RUBY_ID),
        404,
        "UNKNOWN_PLAYER",
    ),
    Case("unknown-player-max-int64", "balance", body("balance", player_id=2**63 - 1), 404, "UNKNOWN_PLAYER"),
    Case(
        "amount-checked-before-player",
        "debit",
        body("debit", "bi-u-4", player_id=UNKNOWN_RUBY_ID, amount="NaN"),
        400,
        "INVALID_AMOUNT",
    ),
    Case(
        "fields-checked-before-player",
        "rollback",
        body("rollback", "", player_id=UNKNOWN_RUBY_ID, transaction_id=DROP),
        400,
        "INVALID_REQUEST",
    ),
]

# Bodies that once made the JSON parser raise past its error mapping (a 500): deep nesting, a huge exponent.
CASES += [
    Case(
        "json-nested-3000-deep",
        "balance",
        b'{"player_id":777001,"x":' + b"[" * 3000 + b"]" * 3000 + b"}",
        400,
        "INVALID_JSON",
    ),
    Case(
        "json-nested-objects-deep",
        "debit",
        b'{"player_id":777001,"amount":"1.00","transaction_id":"bi-x-1","x":'
        + b'{"a":' * 2000
        + b"1"
        + b"}" * 2000
        + b"}",
        400,
        "INVALID_JSON",
    ),
    Case(
        "json-number-exponent-overflow",
        "credit",
        b'{"player_id":777001,"amount":1e9999999999999999999,"transaction_id":"bi-x-2"}',
        400,
        "INVALID_JSON",
    ),
]


# The refusals of valid requests, exercised by the semantic tests at the end (status, code).
SEMANTIC_ERRORS = [
    (409, "IDEMPOTENCY_CONFLICT"),
    (402, "INSUFFICIENT_FUNDS"),
    (409, "ALREADY_ROLLED_BACK"),
    (409, "NOT_REVERSIBLE"),
]


# --- fixtures and helpers --------------------------------------------------------------------------------------


def send(stack: LocalStack, route: str, payload: bytes, headers: dict[str, str]) -> HttpResponse:
    return stack.handle(json_post(f"/ruby/{route}", payload, headers))


def signed_call(stack: LocalStack, route: str, payload: bytes) -> HttpResponse:
    return send(stack, route, payload, SIGNED(payload))


@pytest.fixture(scope="module")
def players(local_stack: LocalStack) -> None:
    """Three KRW players of our own, linked to Ruby ids no other test uses, funded through the admin API."""
    for player_id, ruby_id, deposit in (
        (PLAYER, RUBY_ID, "1000"),
        (PLAYER_2, RUBY_ID_2, "1000"),
        (PLAYER_3, RUBY_ID_3, "50"),
    ):
        create_player(local_stack, player_id=player_id, currency="KRW", links={"ruby": ruby_id})
        # KRW has no minor unit: the admin API takes KRW amounts without decimals
        fund_player(local_stack, player_id, "KRW", deposit, f"{player_id}-seed")


def balance_of(stack: LocalStack, ruby_id: int) -> Decimal:
    response = signed_call(stack, "balance", body("balance", player_id=ruby_id))
    assert response.status == 200, response.body
    return Decimal(response.json()["balance"])


def money_text(value: Decimal) -> str:
    return f"{value:.2f}"


def assert_error(response: HttpResponse, status: int, code: str) -> None:
    assert response.status == status, response.body
    assert (response.header("Content-Type") or "").startswith("application/json")
    answer = response.json()
    assert set(answer) == {"error", "message"}, answer
    assert answer["error"] == code, answer
    assert isinstance(answer["message"], str), answer
    assert answer["message"], answer
    assert BRAND_SECRET not in response.body.decode("utf-8")


# --- the corpus ------------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("players")
@pytest.mark.parametrize(
    "case",
    [pytest.param(c, id=c.name) for c in CASES],
)
def test_bad_input_is_refused_with_its_documented_error_and_writes_nothing(
    case: Case, local_stack: LocalStack, real_client: Any
) -> None:
    before = scan_table(real_client)
    response = send(local_stack, case.route, case.body, case.sign(case.body))
    after = scan_table(real_client)
    assert_error(response, case.status, case.code)
    assert after == before


def test_the_corpus_is_large_distinct_and_covers_every_route() -> None:
    assert len(CASES) >= 50
    assert len({c.name for c in CASES}) == len(CASES)
    assert len({(c.route, c.body, c.sign.label) for c in CASES}) == len(CASES), "two rows send the same request"
    for route in ROUTES:
        codes = {c.code for c in CASES if c.route == route}
        assert {"SIGNATURE_MISSING", "INVALID_JSON", "INVALID_REQUEST", "UNKNOWN_PLAYER"} <= codes, route
        assert {c.status for c in CASES if c.route == route} >= {400, 401, 404, 413}, route
    for route in ("debit", "credit"):
        assert "INVALID_AMOUNT" in {c.code for c in CASES if c.route == route}, route


def test_the_documented_table_matches_the_codes_exercised() -> None:
    rows = re.findall(r"^\| (\d{3}) \| `([A-Z_]+)` \|", __doc__ or "", flags=re.MULTILINE)
    documented = {code: int(status) for status, code in rows}
    exercised = {c.code: c.status for c in CASES} | {code: status for status, code in SEMANTIC_ERRORS}
    assert len(rows) == len(documented), "a code is documented twice"
    assert {code: documented[code] for code in exercised} == exercised
    assert set(documented) - set(exercised) == {"RETRY_LATER"}


@pytest.mark.usefixtures("players")
@pytest.mark.parametrize("route", ROUTES)
def test_the_baseline_requests_succeed_so_each_row_fails_only_for_its_own_defect(
    route: str, local_stack: LocalStack, real_client: Any
) -> None:
    """The rows are these requests with one thing wrong: here they are right, and debit/credit/rollback write."""
    payload = body(route, f"bi-control-{route}")
    before = scan_table(real_client)
    response = signed_call(local_stack, route, payload)
    after = scan_table(real_client)
    assert response.status == 200, response.body
    assert "balance" in response.json()
    if route == "balance":
        assert after == before
    else:
        assert (f"TX#ruby#bi-control-{route}", "TX") in after
        assert after != before


@pytest.mark.usefixtures("players")
def test_a_body_of_exactly_16_kib_is_accepted(local_stack: LocalStack) -> None:
    payload = padded("balance", "", MAX_BODY)
    response = signed_call(local_stack, "balance", payload)
    assert response.status == 200, response.body


@pytest.mark.usefixtures("players")
def test_unknown_fields_are_ignored(local_stack: LocalStack) -> None:
    """providers.md: "ignore unknown extra fields" — so none of the rows fails only because of an extra field."""
    payload = body("balance", currency="USD", extra={"nested": [1, 2.5, None]}, provider_code="pp")
    response = signed_call(local_stack, "balance", payload)
    assert response.status == 200, response.body


# --- semantic refusals that must write nothing -----------------------------------------------------------------


@pytest.mark.usefixtures("players")
@pytest.mark.parametrize(
    ("first_route", "first", "second_route", "second"),
    [
        pytest.param(
            "debit",
            body("debit", "bi-s-amount-d", amount="10.00"),
            "debit",
            body("debit", "bi-s-amount-d", amount="11.00"),
            id="debit-other-amount",
        ),
        pytest.param(
            "credit",
            body("credit", "bi-s-amount-c", amount="10.00"),
            "credit",
            body("credit", "bi-s-amount-c", amount="10.01"),
            id="credit-other-amount",
        ),
        pytest.param(
            "debit",
            body("debit", "bi-s-player", amount="10.00"),
            "debit",
            body("debit", "bi-s-player", amount="10.00", player_id=RUBY_ID_2),
            id="debit-other-player",
        ),
        pytest.param(
            "debit",
            body("debit", "bi-s-kind", amount="10.00"),
            "credit",
            body("debit", "bi-s-kind", amount="10.00"),
            id="debit-body-replayed-to-credit",
        ),
    ],
)
def test_a_transaction_id_reused_with_other_content_conflicts_and_writes_nothing(
    first_route: str, first: bytes, second_route: str, second: bytes, local_stack: LocalStack, real_client: Any
) -> None:
    original = signed_call(local_stack, first_route, first)
    assert original.status == 200, original.body
    before = scan_table(real_client)
    conflicting = signed_call(local_stack, second_route, second)
    after = scan_table(real_client)
    assert_error(conflicting, 409, "IDEMPOTENCY_CONFLICT")
    assert after == before


@pytest.mark.usefixtures("players")
def test_a_debit_above_the_balance_is_refused_and_writes_nothing(local_stack: LocalStack, real_client: Any) -> None:
    balance = balance_of(local_stack, RUBY_ID_3)
    assert balance > 0
    before = scan_table(real_client)
    refused = signed_call(
        local_stack,
        "debit",
        body("debit", "bi-s-funds-1", player_id=RUBY_ID_3, amount=money_text(balance + Decimal("0.01"))),
    )
    after = scan_table(real_client)
    assert_error(refused, 402, "INSUFFICIENT_FUNDS")
    assert after == before
    assert balance_of(local_stack, RUBY_ID_3) == balance
    # the boundary: exactly the balance is not refused (so the 402 was about the funds)
    drained = signed_call(
        local_stack, "debit", body("debit", "bi-s-funds-2", player_id=RUBY_ID_3, amount=money_text(balance))
    )
    assert drained.status == 200, drained.body
    assert drained.json() == {"balance": "0.00", "balance_before": money_text(balance)}


@pytest.mark.usefixtures("players")
def test_a_debit_arriving_after_its_rollback_is_refused_and_writes_nothing(
    local_stack: LocalStack, real_client: Any
) -> None:
    balance = balance_of(local_stack, RUBY_ID)
    rollback = signed_call(local_stack, "rollback", body("rollback", "bi-s-late"))
    assert rollback.status == 200, rollback.body
    assert rollback.json() == {"balance": money_text(balance)}  # a tombstone, no money moved
    before = scan_table(real_client)
    late = signed_call(local_stack, "debit", body("debit", "bi-s-late", amount="5.00"))
    after = scan_table(real_client)
    assert_error(late, 409, "ALREADY_ROLLED_BACK")
    assert after == before


@pytest.mark.usefixtures("players")
@pytest.mark.parametrize(
    ("target_route", "target", "rollback"),
    [
        pytest.param(
            "debit",
            body("debit", "bi-s-theirs", amount="3.00"),
            body("rollback", "bi-s-theirs", player_id=RUBY_ID_2),
            id="another-players-debit",
        ),
        pytest.param(
            "credit",
            body("credit", "bi-s-win", amount="4.00"),
            body("rollback", "bi-s-win"),
            id="a-credit",
        ),
        pytest.param(
            "credit",
            body("credit", "bi-s-win-ref", amount="4.00"),
            body("rollback", "bi-s-win-ref-own", ref_transaction_id="bi-s-win-ref"),
            id="a-credit-by-ref-transaction-id",
        ),
    ],
)
def test_a_rollback_of_what_it_may_not_reverse_is_refused_and_writes_nothing(
    target_route: str, target: bytes, rollback: bytes, local_stack: LocalStack, real_client: Any
) -> None:
    """Ruby rolls back debits only, and only the same player's."""
    original = signed_call(local_stack, target_route, target)
    assert original.status == 200, original.body
    before = scan_table(real_client)
    refused = signed_call(local_stack, "rollback", rollback)
    after = scan_table(real_client)
    assert_error(refused, 409, "NOT_REVERSIBLE")
    assert after == before


@pytest.mark.usefixtures("players")
@pytest.mark.parametrize(
    ("route", "setup", "request_body"),
    [
        pytest.param("debit", [], body("debit", "bi-r-debit", amount="12.34"), id="debit"),
        pytest.param("credit", [], body("credit", "bi-r-credit", amount="5.50"), id="credit"),
        pytest.param(
            "rollback",
            [("debit", body("debit", "bi-r-rb-target", amount="7.00"))],
            body("rollback", "bi-r-rb-target"),
            id="rollback",
        ),
        pytest.param(
            "rollback",
            [("debit", body("debit", "bi-r-ref-target", amount="8.00"))],
            body("rollback", "bi-r-ref-own", ref_transaction_id="bi-r-ref-target"),
            id="rollback-with-ref-transaction-id",
        ),
        pytest.param("rollback", [], body("rollback", "bi-r-rb-unknown"), id="rollback-of-an-unknown-debit"),
    ],
)
def test_a_replay_answers_the_first_response_byte_for_byte_and_writes_nothing(
    route: str,
    setup: list[tuple[str, bytes]],
    request_body: bytes,
    local_stack: LocalStack,
    real_client: Any,
) -> None:
    for setup_route, setup_body in setup:
        assert signed_call(local_stack, setup_route, setup_body).status == 200
    balance = balance_of(local_stack, RUBY_ID)
    first = signed_call(local_stack, route, request_body)
    assert first.status == 200, first.body
    amount = Decimal(json.loads(request_body).get("amount", "0"))
    expected_after = {"debit": balance - amount, "credit": balance + amount}.get(route)
    if expected_after is not None:
        assert first.json() == {"balance": money_text(expected_after), "balance_before": money_text(balance)}
    else:
        reversed_amount = {"bi-r-rb-target": Decimal("7.00"), "bi-r-ref-target": Decimal("8.00")}
        target = json.loads(request_body).get("ref_transaction_id") or json.loads(request_body)["transaction_id"]
        assert first.json() == {"balance": money_text(balance + reversed_amount.get(target, Decimal(0)))}
    # move the balance in between, so a recomputed answer would differ from the stored one
    own_id = json.loads(request_body)["transaction_id"]
    between = signed_call(local_stack, "credit", body("credit", f"bi-r-between-{own_id}", amount="1.11"))
    assert between.status == 200, between.body
    before = scan_table(real_client)
    replay = send(local_stack, route, request_body, SIGNED(request_body))  # a fresh signature, same body
    after = scan_table(real_client)
    assert replay.status == first.status
    assert replay.body == first.body
    assert after == before
