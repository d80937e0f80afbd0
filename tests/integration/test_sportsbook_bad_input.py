"""Bad input on the sportsbook's callbacks: every refusal has its documented status and code, and writes nothing.

Every request goes through the HTTP path of the local stack (``LocalStack.handle``: API Gateway's event
building, the function's handler, API Gateway's response mapping) onto Amazon DynamoDB Local. Around every
case the whole wallet table is scanned (consistent read) and must be identical before and after.

providers.md section 4: *every processed answer is HTTP 200 JSON*. A refusal is ``{"error": "<CODE>"}`` and
nothing else (no ``message``, no ``transaction_id``), with ``Content-Type: application/json``. The checks
run in this order, and the first failing one answers (so an unsigned body that is not JSON is
``INVALID_HASH``, and an oversized one is ``INVALID_REQUEST`` whether it is signed or not):

1. body size → 2. security hash → 3. strict JSON → 4. fields → 5. currency and amount → 6. player →
7. the ledger.

| status | `error` | when (details below) |
|---|---|---|
| 200 | `INVALID_REQUEST` | body over 16 KiB; not one strict JSON object; a field missing, mistyped or out of range |
| 200 | `INVALID_HASH` | no hash header, a malformed hash, or one that does not match the raw body |
| 200 | `INVALID_AMOUNT` | `amount` not a JSON number, negative, above 10^12, or finer than the currency's exponent |
| 200 | `UNKNOWN_USER` | `user_id` has no account in `currency` |
| 200 | `INSUFFICENT_FUNDS` | a bet above the balance (the provider's spelling; test_sportsbook_wallet.py) |
| 200 | `DUPLICATE_TRANSACTION` | a `transaction_id` reused with other content (test_sportsbook_wallet.py) |
| 200 | `TRANSACTION_ROLLED_BACK` | a bet whose id was rolled back before it arrived (test_sportsbook_wallet.py) |
| 200 | `ROLLBACK_MISMATCH` | a rollback whose amount or player is not its target's (test_sportsbook_wallet.py) |
| 503 | `TEMPORARY_ERROR` | DynamoDB stayed throttled/busy through every retry (test_sportsbook_concurrency.py) |
| 500 | `INTERNAL_ERROR` | never on purpose: any 500 is a bug |

Details:

* The hash is ``hex(HMAC-SHA256(security_hash, raw body))`` in ``X-Security-Hash`` or the provider's own
  misspelling ``X-Securty-Hash`` (header names are case-insensitive; hex digits of either case).
* Size: more than 16384 bytes is refused before the hash is looked at; exactly 16384 is processed.
* ``INVALID_HASH``: the header absent; a value that is not exactly 64 hex digits (non-hex, 63 digits, empty,
  a ``sha256=`` prefix); a well-formed hash of the wrong secret; a body changed after signing (one byte, a
  trailing space); ``X-Security-Hash`` wins over ``X-Securty-Hash`` when both are sent.
* ``INVALID_REQUEST`` (JSON): empty body, malformed or truncated JSON, trailing data, invalid UTF-8, a
  top-level array, string, number or ``null``, a duplicate key, a bare ``NaN``, ``Infinity`` or
  ``-Infinity``, a number whose exponent is beyond ``Decimal``'s range, nesting too deep to parse.
* ``INVALID_REQUEST`` (fields): any of ``transaction_id``, ``action``, ``user_id``, ``currency``, ``amount``
  (and ``rollback_transaction_id`` on the rollback route) missing; ``action`` not exactly ``bet``/``result``
  (``rollback`` on the rollback route); ids not JSON strings; ``transaction_id`` /
  ``rollback_transaction_id`` empty, over 128 characters or holding a control character; ``user_id`` empty,
  over 64 characters or outside ``[A-Za-z0-9_.:-]``; ``currency`` not three upper-case letters or not an
  ISO 4217 code. Unknown extra fields are ignored.
* ``INVALID_AMOUNT``: a string (even ``"10.00"`` or ``"NaN"``), a boolean, ``null``, an object or array, a
  negative number, more than 10^12, or more decimals than the currency has (EUR 10.555, JPY 1.5, EUR 1e-5).
  Trailing zeros are not precision: ``10.50`` and ``1.05E+1`` are EUR 10.50.
* ``UNKNOWN_USER``: a player that does not exist, or exists without an account in that currency.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from croupier.signing import sportsbook
from croupier_local.apigw import HttpResponse
from croupier_local.server import LocalStack
from tests.support.players import create_player, fund_player
from tests.support.requests import DROP, SECURITY_HASH, Signer, json_post, one_byte_changed, padded_to, with_fields
from tests.support.wallet_table import scan_table

pytestmark = pytest.mark.dynamodb_local

HEADER, MISSPELLED = sportsbook.SIGNATURE_HEADER, sportsbook.SIGNATURE_HEADER_MISSPELLED

RUN = uuid.uuid4().hex[:8]  # ids of this run only, whatever the table held before
PLAYER = f"sb-bi-{RUN}"  # EUR 1000
PLAYER_JPY = f"sb-bi-jpy-{RUN}"  # JPY 100000
UNKNOWN_PLAYER = f"sb-bi-nobody-{RUN}"  # never created
MAX_BODY = 16 * 1024
ROUTES = ("transaction", "transaction-rollback")
TX, RB = ROUTES


# --- signing ---------------------------------------------------------------------------------------------------

SIGNED = Signer("signed", lambda body: {HEADER: sportsbook.sign(SECURITY_HASH, body)})
UNSIGNED = Signer("no hash header", lambda body: {})


def replacing(value: str, header: str = HEADER) -> Signer:
    return Signer(f"{header}={value!r}", lambda body: {header: value})


def secret(value: str) -> Signer:
    return Signer(f"secret {value!r}", lambda body: {HEADER: sportsbook.sign(value, body)})


def signature_of(other: bytes) -> Signer:
    """A hash valid for ``other``, sent with the case's body (a body changed after signing)."""
    return Signer(f"hash of {other!r}", lambda body: {HEADER: sportsbook.sign(SECURITY_HASH, other)})


GOOD_MISSPELLED_BAD_PROPER = Signer(
    "X-Security-Hash wrong, X-Securty-Hash right",
    lambda body: {HEADER: "ab" * 32, MISSPELLED: sportsbook.sign(SECURITY_HASH, body)},
)


# --- bodies ------------------------------------------------------------------------------------------------------


class Raw(str):
    """JSON text put into a body as it is (a number exactly as the provider would write it)."""

    __slots__ = ()


def encode(data: dict[str, Any]) -> bytes:
    """A JSON object whose top-level ``Raw`` values are written verbatim (so ``0.1`` stays ``0.1``)."""
    parts = [
        f"{json.dumps(k)}:{v if isinstance(v, Raw) else json.dumps(v, ensure_ascii=False)}" for k, v in data.items()
    ]
    return ("{" + ",".join(parts) + "}").encode()


def body(route: str, tx: str, **fields: Any) -> bytes:
    """A valid-looking request for ``route`` (unique ``tx``), with ``fields`` overridden or dropped (``DROP``).

    The transaction baseline is a EUR 1.00 bet; the rollback baseline rolls back an unknown transaction, so
    it too would write (a reversal entry and a tombstone) if it were not refused."""
    data: dict[str, Any] = {"transaction_id": tx, "action": "bet", "user_id": PLAYER, "currency": "EUR"}
    if route == RB:
        data = {**data, "rollback_transaction_id": f"{tx}-target", "action": "rollback"}
    data["amount"] = Raw("1.00")
    return encode(with_fields(data, fields))


def padded(route: str, tx: str, size: int) -> bytes:
    """A valid-looking request of exactly ``size`` bytes (an ignored ``pad`` field)."""
    return padded_to(lambda pad: body(route, tx, pad=pad), size)


BET_SIGNED = body(TX, "sb-bi-tamper-bet")
ROLLBACK_SIGNED = body(RB, "sb-bi-tamper-rb")


# --- the corpus ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    name: str
    route: str
    body: bytes
    code: str
    status: int = 200
    sign: Signer = field(default=SIGNED)

    def __str__(self) -> str:
        return self.name


INVALID_REQUEST, INVALID_HASH, INVALID_AMOUNT, UNKNOWN_USER = (
    "INVALID_REQUEST",
    "INVALID_HASH",
    "INVALID_AMOUNT",
    "UNKNOWN_USER",
)

CASES: list[Case] = [
    # --- size first ---------------------------------------------------------------------------------------
    Case("oversized-bet-signed", TX, padded(TX, "sb-bi-big-1", MAX_BODY + 1), INVALID_REQUEST),
    Case("oversized-rollback-signed", RB, padded(RB, "sb-bi-big-2", 20_000), INVALID_REQUEST),
    Case("oversized-unsigned-is-not-a-hash-error", TX, b"[" * (MAX_BODY + 100), INVALID_REQUEST, sign=UNSIGNED),
    # --- the security hash ---------------------------------------------------------------------------------
    Case("hash-header-missing", TX, body(TX, "sb-bi-h-1"), INVALID_HASH, sign=UNSIGNED),
    Case("hash-header-missing-rollback", RB, body(RB, "sb-bi-h-2"), INVALID_HASH, sign=UNSIGNED),
    Case("unsigned-garbage-is-a-hash-error", TX, b"not json at all", INVALID_HASH, sign=UNSIGNED),
    Case("hash-garbled-not-hex", TX, body(TX, "sb-bi-h-3"), INVALID_HASH, sign=replacing("zz" * 32)),
    Case("hash-63-hex", RB, body(RB, "sb-bi-h-4"), INVALID_HASH, sign=replacing("a" * 63)),
    Case("hash-empty", TX, body(TX, "sb-bi-h-5"), INVALID_HASH, sign=replacing("")),
    Case("hash-sha256-prefixed", TX, body(TX, "sb-bi-h-6"), INVALID_HASH, sign=replacing("sha256=" + "ab" * 32)),
    Case("hash-wrong-but-well-formed", TX, body(TX, "sb-bi-h-7"), INVALID_HASH, sign=replacing("ab" * 32)),
    Case(
        "hash-wrong-misspelled-header",
        RB,
        body(RB, "sb-bi-h-8"),
        INVALID_HASH,
        sign=replacing("cd" * 32, MISSPELLED),
    ),
    Case("hash-of-the-wrong-secret", RB, body(RB, "sb-bi-h-9"), INVALID_HASH, sign=secret("not-the-security-hash")),
    Case(
        "hash-proper-header-wins-over-misspelled",
        TX,
        body(TX, "sb-bi-h-10"),
        INVALID_HASH,
        sign=GOOD_MISSPELLED_BAD_PROPER,
    ),
    Case(
        "body-one-byte-changed-after-signing-amount",
        TX,
        one_byte_changed(BET_SIGNED, b'"amount":1.00', b'"amount":9.00'),
        INVALID_HASH,
        sign=signature_of(BET_SIGNED),
    ),
    Case(
        "body-one-byte-changed-after-signing-action",
        TX,
        one_byte_changed(BET_SIGNED, b'"action":"bet"', b'"action":"bat"'),
        INVALID_HASH,
        sign=signature_of(BET_SIGNED),
    ),
    Case(
        "rollback-one-byte-changed-after-signing",
        RB,
        one_byte_changed(ROLLBACK_SIGNED, b'"amount":1.00', b'"amount":1.01'),
        INVALID_HASH,
        sign=signature_of(ROLLBACK_SIGNED),
    ),
    Case(
        "body-trailing-space-after-signing",
        TX,
        BET_SIGNED + b" ",
        INVALID_HASH,
        sign=signature_of(BET_SIGNED),
    ),
    # --- strict JSON ------------------------------------------------------------------------------------------
    Case("json-empty-body", TX, b"", INVALID_REQUEST),
    Case("json-whitespace-body", RB, b"  \n", INVALID_REQUEST),
    Case("json-malformed", TX, b'{"transaction_id": "sb-bi-j-1", "action": bet}', INVALID_REQUEST),
    Case("json-truncated", TX, body(TX, "sb-bi-j-2")[:-1], INVALID_REQUEST),
    Case("json-truncated-rollback", RB, body(RB, "sb-bi-j-3")[:40], INVALID_REQUEST),
    Case("json-trailing-data", TX, body(TX, "sb-bi-j-4") + b"{}", INVALID_REQUEST),
    Case("json-invalid-utf8", TX, body(TX, "sb-bi-j-5").replace(b"sb-bi-j-5", b"sb-bi-j-\xff5"), INVALID_REQUEST),
    Case("json-array", TX, b"[" + body(TX, "sb-bi-j-6") + b"]", INVALID_REQUEST),
    Case("json-string", RB, b'"rollback"', INVALID_REQUEST),
    Case("json-number", TX, b"1.00", INVALID_REQUEST),
    Case("json-null", RB, b"null", INVALID_REQUEST),
    Case(
        "json-duplicate-amount",
        TX,
        body(TX, "sb-bi-j-7")[:-1] + b',"amount":1000}',
        INVALID_REQUEST,
    ),
    Case(
        "json-duplicate-transaction-id-rollback",
        RB,
        body(RB, "sb-bi-j-8")[:-1] + b',"transaction_id":"sb-bi-j-8b"}',
        INVALID_REQUEST,
    ),
    Case("json-duplicate-key-nested", TX, body(TX, "sb-bi-j-9", extra={"a": 1})[:-2] + b',"a":2}}', INVALID_REQUEST),
    Case("amount-bare-nan", TX, body(TX, "sb-bi-j-10", amount=Raw("NaN")), INVALID_REQUEST),
    Case("amount-bare-infinity", TX, body(TX, "sb-bi-j-11", amount=Raw("Infinity")), INVALID_REQUEST),
    Case("amount-bare-minus-infinity", RB, body(RB, "sb-bi-j-12", amount=Raw("-Infinity")), INVALID_REQUEST),
    Case(
        "amount-exponent-beyond-decimal",
        TX,
        body(TX, "sb-bi-j-13", amount=Raw("1e9999999999999999999")),
        INVALID_REQUEST,
    ),
    Case("amount-integer-5000-digits", RB, body(RB, "sb-bi-j-14", amount=Raw("9" * 5000)), INVALID_REQUEST),
    Case("json-nested-3000-deep", TX, body(TX, "sb-bi-j-15", x=Raw("[" * 3000 + "]" * 3000)), INVALID_REQUEST),
    # --- fields: missing ------------------------------------------------------------------------------------
    *(
        Case(f"missing-{name}", TX, body(TX, f"sb-bi-m-{name}", **{name: DROP}), INVALID_REQUEST)
        for name in ("transaction_id", "action", "user_id", "currency", "amount")
    ),
    *(
        Case(f"missing-{name}-rollback", RB, body(RB, f"sb-bi-mr-{name}", **{name: DROP}), INVALID_REQUEST)
        for name in ("transaction_id", "rollback_transaction_id", "action", "user_id", "currency", "amount")
    ),
    # --- fields: action ---------------------------------------------------------------------------------------
    Case("action-rollback-on-transaction-route", TX, body(TX, "sb-bi-a-1", action="rollback"), INVALID_REQUEST),
    Case("action-upper-case", TX, body(TX, "sb-bi-a-2", action="BET"), INVALID_REQUEST),
    Case("action-withdraw", TX, body(TX, "sb-bi-a-3", action="withdraw"), INVALID_REQUEST),
    Case("action-null", TX, body(TX, "sb-bi-a-4", action=None), INVALID_REQUEST),
    Case("action-list", TX, body(TX, "sb-bi-a-5", action=["bet"]), INVALID_REQUEST),
    Case("action-bet-on-rollback-route", RB, body(RB, "sb-bi-a-6", action="bet"), INVALID_REQUEST),
    Case("action-refund-on-rollback-route", RB, body(RB, "sb-bi-a-7", action="refund"), INVALID_REQUEST),
    Case("a-signed-bet-sent-to-the-rollback-route", RB, body(TX, "sb-bi-a-8"), INVALID_REQUEST),
    # --- fields: ids -------------------------------------------------------------------------------------------
    Case("transaction-id-integer", TX, body(TX, "", transaction_id=12345), INVALID_REQUEST),
    Case("transaction-id-empty", TX, body(TX, "", transaction_id=""), INVALID_REQUEST),
    Case("transaction-id-129-chars", TX, body(TX, "sb-bi-i-" + "x" * 121), INVALID_REQUEST),
    Case("transaction-id-newline", TX, body(TX, "sb-bi-i-2\n"), INVALID_REQUEST),
    Case("transaction-id-nul", RB, body(RB, "sb-bi-i-3\x00"), INVALID_REQUEST),
    Case(
        "transaction-id-lone-surrogate",
        TX,
        body(TX, "sb-bi-i-4").replace(b"sb-bi-i-4", b"sb-bi-i-4\\ud800"),
        INVALID_REQUEST,
    ),
    Case(
        "rollback-transaction-id-129-chars",
        RB,
        body(RB, "sb-bi-i-5", rollback_transaction_id="y" * 129),
        INVALID_REQUEST,
    ),
    Case("rollback-transaction-id-null", RB, body(RB, "sb-bi-i-6", rollback_transaction_id=None), INVALID_REQUEST),
    Case("user-id-integer", TX, body(TX, "sb-bi-i-7", user_id=42), INVALID_REQUEST),
    Case("user-id-empty", TX, body(TX, "sb-bi-i-8", user_id=""), INVALID_REQUEST),
    Case("user-id-65-chars", TX, body(TX, "sb-bi-i-9", user_id="u" * 65), INVALID_REQUEST),
    Case("user-id-with-slash", RB, body(RB, "sb-bi-i-10", user_id=f"{PLAYER}/x"), INVALID_REQUEST),
    Case("user-id-trailing-newline", TX, body(TX, "sb-bi-i-11", user_id=f"{PLAYER}\n"), INVALID_REQUEST),
    # --- fields: currency ---------------------------------------------------------------------------------------
    Case("currency-lower-case", TX, body(TX, "sb-bi-c-1", currency="eur"), INVALID_REQUEST),
    Case("currency-four-letters", TX, body(TX, "sb-bi-c-2", currency="EURO"), INVALID_REQUEST),
    Case("currency-not-iso-4217", RB, body(RB, "sb-bi-c-3", currency="ABC"), INVALID_REQUEST),
    Case("currency-numeric-code", TX, body(TX, "sb-bi-c-4", currency=978), INVALID_REQUEST),
    Case("currency-null", RB, body(RB, "sb-bi-c-5", currency=None), INVALID_REQUEST),
    Case(
        "currency-unknown-beats-unknown-user",
        TX,
        body(TX, "sb-bi-c-6", currency="ABC", user_id=UNKNOWN_PLAYER),
        INVALID_REQUEST,
    ),
    # --- amount ---------------------------------------------------------------------------------------------
    Case("amount-string", TX, body(TX, "sb-bi-n-1", amount="10.00"), INVALID_AMOUNT),
    Case("amount-string-rollback", RB, body(RB, "sb-bi-n-2", amount="1.00"), INVALID_AMOUNT),
    Case("amount-string-nan", TX, body(TX, "sb-bi-n-3", amount="NaN"), INVALID_AMOUNT),
    Case("amount-true", TX, body(TX, "sb-bi-n-4", amount=True), INVALID_AMOUNT),
    Case("amount-false-rollback", RB, body(RB, "sb-bi-n-5", amount=False), INVALID_AMOUNT),
    Case("amount-null", TX, body(TX, "sb-bi-n-6", amount=None), INVALID_AMOUNT),
    Case("amount-object", TX, body(TX, "sb-bi-n-7", amount={"value": 1}), INVALID_AMOUNT),
    Case("amount-array", RB, body(RB, "sb-bi-n-8", amount=[1]), INVALID_AMOUNT),
    Case("amount-negative-integer", TX, body(TX, "sb-bi-n-9", amount=Raw("-1")), INVALID_AMOUNT),
    Case("amount-negative-decimal-rollback", RB, body(RB, "sb-bi-n-10", amount=Raw("-0.01")), INVALID_AMOUNT),
    Case("amount-eur-three-decimals", TX, body(TX, "sb-bi-n-11", amount=Raw("10.555")), INVALID_AMOUNT),
    Case(
        "amount-jpy-one-decimal",
        TX,
        body(TX, "sb-bi-n-12", amount=Raw("1.5"), currency="JPY", user_id=PLAYER_JPY),
        INVALID_AMOUNT,
    ),
    Case("amount-eur-three-decimals-rollback", RB, body(RB, "sb-bi-n-13", amount=Raw("0.001")), INVALID_AMOUNT),
    Case("amount-eur-exponent-too-fine", TX, body(TX, "sb-bi-n-14", amount=Raw("1e-5")), INVALID_AMOUNT),
    Case("amount-above-a-trillion", TX, body(TX, "sb-bi-n-15", amount=Raw("1000000000000.01")), INVALID_AMOUNT),
    Case("amount-absurd-exponent", RB, body(RB, "sb-bi-n-16", amount=Raw("1E+30")), INVALID_AMOUNT),
    Case("amount-absurd-integer", TX, body(TX, "sb-bi-n-17", amount=Raw("1" + "0" * 40)), INVALID_AMOUNT),
    Case(
        "amount-checked-before-the-player",
        TX,
        body(TX, "sb-bi-n-18", amount=Raw("10.555"), user_id=UNKNOWN_PLAYER),
        INVALID_AMOUNT,
    ),
    # --- the player -------------------------------------------------------------------------------------------
    Case("user-unknown-bet", TX, body(TX, "sb-bi-u-1", user_id=UNKNOWN_PLAYER), UNKNOWN_USER),
    Case("user-unknown-result", TX, body(TX, "sb-bi-u-2", user_id=UNKNOWN_PLAYER, action="result"), UNKNOWN_USER),
    Case("user-unknown-rollback", RB, body(RB, "sb-bi-u-3", user_id=UNKNOWN_PLAYER), UNKNOWN_USER),
    Case("user-without-that-currency", TX, body(TX, "sb-bi-u-4", currency="USD"), UNKNOWN_USER),
    Case("user-without-that-currency-rollback", RB, body(RB, "sb-bi-u-5", currency="JPY"), UNKNOWN_USER),
]

# The refusals of valid requests, exercised in test_sportsbook_wallet.py / test_sportsbook_concurrency.py.
ELSEWHERE = {
    "INSUFFICENT_FUNDS": 200,
    "DUPLICATE_TRANSACTION": 200,
    "TRANSACTION_ROLLED_BACK": 200,
    "ROLLBACK_MISMATCH": 200,
    "TEMPORARY_ERROR": 503,
}


# --- fixtures and helpers --------------------------------------------------------------------------------------


def send(stack: LocalStack, route: str, payload: bytes, headers: dict[str, str]) -> HttpResponse:
    return stack.handle(json_post(f"/sportsbook/{route}", payload, headers))


def signed_call(stack: LocalStack, route: str, payload: bytes) -> HttpResponse:
    return send(stack, route, payload, SIGNED(payload))


@pytest.fixture(scope="module")
def players(local_stack: LocalStack) -> None:
    """Two players of our own, funded through the admin API."""
    for player_id, currency, deposit in ((PLAYER, "EUR", "1000.00"), (PLAYER_JPY, "JPY", "100000")):
        create_player(local_stack, player_id=player_id, currency=currency)
        fund_player(local_stack, player_id, currency, deposit, f"{player_id}-seed")


def assert_refused(response: HttpResponse, status: int, code: str) -> None:
    assert response.status == status, response.body
    assert (response.header("Content-Type") or "").startswith("application/json")
    assert response.json() == {"error": code}
    assert SECURITY_HASH not in response.body.decode("utf-8")


# --- the corpus ------------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("players")
@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in CASES])
def test_bad_input_is_refused_with_its_documented_code_and_writes_nothing(
    case: Case, local_stack: LocalStack, real_client: Any
) -> None:
    before = scan_table(real_client)
    response = send(local_stack, case.route, case.body, case.sign(case.body))
    after = scan_table(real_client)
    assert_refused(response, case.status, case.code)
    assert after == before


def test_the_corpus_is_large_distinct_and_covers_both_routes() -> None:
    assert len(CASES) >= 30
    assert len({c.name for c in CASES}) == len(CASES)
    assert len({(c.route, c.body, c.sign.label) for c in CASES}) == len(CASES), "two rows send the same request"
    for route in ROUTES:
        codes = {c.code for c in CASES if c.route == route}
        assert codes == {INVALID_HASH, INVALID_REQUEST, INVALID_AMOUNT, UNKNOWN_USER}, route


def test_the_documented_table_matches_the_codes_exercised() -> None:
    rows = re.findall(r"^\| (\d{3}) \| `([A-Z_]+)` \|", __doc__ or "", flags=re.MULTILINE)
    documented = {code: int(status) for status, code in rows}
    exercised = {c.code: c.status for c in CASES} | ELSEWHERE
    assert len(rows) == len(documented), "a code is documented twice"
    assert {code: documented[code] for code in exercised} == exercised
    assert set(documented) - set(exercised) == {"INTERNAL_ERROR"}


# --- controls: each row fails only for its own defect -----------------------------------------------------------


@pytest.mark.usefixtures("players")
@pytest.mark.parametrize("route", ROUTES)
def test_the_baseline_requests_succeed_and_write(route: str, local_stack: LocalStack, real_client: Any) -> None:
    """The rows are these requests with one thing wrong: here they are right, and both write."""
    tx = f"sb-bi-control-{route}-{RUN}"
    before = scan_table(real_client)
    response = signed_call(local_stack, route, body(route, tx))
    after = scan_table(real_client)
    assert response.status == 200, response.body
    answer = response.json()
    assert answer["error"] is None
    assert isinstance(answer["transaction_id"], str)
    assert answer["transaction_id"]
    assert (f"TX#sportsbook#{tx}", "TX") in after
    assert after != before


@pytest.mark.usefixtures("players")
@pytest.mark.parametrize(
    ("label", "route", "fields"),
    [
        ("jpy-integer", TX, {"currency": "JPY", "user_id": PLAYER_JPY, "amount": Raw("15")}),
        ("jpy-trailing-zero", TX, {"currency": "JPY", "user_id": PLAYER_JPY, "amount": Raw("15.0")}),
        ("eur-two-decimals", TX, {"amount": Raw("10.55")}),
        ("eur-exponent", TX, {"amount": Raw("1.05E+1")}),
        ("eur-trailing-zeros", RB, {"amount": Raw("0.1000000")}),
        ("result", TX, {"action": "result"}),
        ("id-of-128-chars", TX, {"transaction_id": f"sb-bi-{RUN}-".ljust(128, "z")}),
        ("unknown-fields-ignored", RB, {"extra": {"nested": [1, 2.5, None]}, "lang": "en"}),
    ],
)
def test_near_misses_of_the_corpus_are_processed(
    label: str, route: str, fields: dict[str, Any], local_stack: LocalStack
) -> None:
    fields = dict(fields)
    tx = fields.pop("transaction_id", f"sb-bi-near-{label}-{RUN}")
    response = signed_call(local_stack, route, body(route, tx, **fields))
    assert response.status == 200, response.body
    assert response.json()["error"] is None, label


@pytest.mark.usefixtures("players")
@pytest.mark.parametrize(
    "headers",
    [
        pytest.param(lambda b: {MISSPELLED: sportsbook.sign(SECURITY_HASH, b)}, id="misspelled-header"),
        pytest.param(lambda b: {HEADER.lower(): sportsbook.sign(SECURITY_HASH, b).upper()}, id="lower-name-upper-hex"),
        pytest.param(lambda b: {HEADER: f" {sportsbook.sign(SECURITY_HASH, b)} "}, id="padded-value"),
    ],
)
def test_hash_spellings_that_are_accepted(
    headers: Callable[[bytes], dict[str, str]], local_stack: LocalStack, request: pytest.FixtureRequest
) -> None:
    payload = body(TX, f"sb-bi-hdr-{request.node.callspec.id}-{RUN}")
    response = send(local_stack, TX, payload, headers(payload))
    assert response.status == 200, response.body
    assert response.json()["error"] is None


@pytest.mark.usefixtures("players")
def test_a_body_of_exactly_16_kib_is_processed(local_stack: LocalStack) -> None:
    response = signed_call(local_stack, TX, padded(TX, f"sb-bi-16k-{RUN}", MAX_BODY))
    assert response.status == 200, response.body
    assert response.json()["error"] is None


# --- a bug ---------------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("players")
@pytest.mark.parametrize("target_exists", [False, True], ids=["unknown-target", "existing-bet"])
def test_a_rollback_naming_itself_is_refused_as_a_processed_request(
    target_exists: bool, local_stack: LocalStack, real_client: Any
) -> None:
    tx = f"sb-bi-self-{target_exists}-{RUN}"
    if target_exists:
        assert signed_call(local_stack, TX, body(TX, tx)).json()["error"] is None
    before = scan_table(real_client)
    response = signed_call(local_stack, RB, body(RB, tx, rollback_transaction_id=tx))
    after = scan_table(real_client)
    assert_refused(response, 200, INVALID_REQUEST)
    assert after == before
