"""The RGS wallet adapter (providers.md §1 and §5): ``POST /rgs-wallet/bet|win|refund`` on DynamoDB Local.

Every call goes through the HTTP path of the local stack (``LocalStack.handle``: API Gateway's event, the
function's handler, API Gateway's response mapping), signed with RGS v1 by the dev-only operator of
``local/dev-secrets.json``; key rotation is exercised on an ``RgsWallet`` built over a temporary copy of that
file. After every scenario the account is checked with a client of the test's own: balance = the sum of
its entries' deltas, version = their number, an unbroken ``balance_before`` → ``balance_after`` chain.

Contract under test: success is ``200 {"ok": true, "balance_minor": <after>}`` in the currency's minor units
(rounded down when another provider left a fraction); errors are ``{"ok": false, "error", "message"}``. A
bet is entered under its player and round (``bet:<operator_player_id>/<round_id>``) and holds
``tx:<operator_tx_id>`` with a marker; a win or a refund is entered under ``tx:<operator_tx_id>``; a win is
backed by its bet, and a refund reverses it (or leaves a tombstone there). The attacks on these rules (wins
without a bet, above the bound, after a refund) are in ``test_wallet_attacks.py``. A replay answers the
original body and writes nothing.
"""

from __future__ import annotations

import base64
import json
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from croupier.errors import Unauthorized
from croupier.ledger import AccountKey, AccountState, Kind, Ledger, Movement
from croupier.ledger.dynamo import DynamoLedgerStore
from croupier.secrets import CachedSecrets, FileSecretStore
from croupier.wallet import wiring
from croupier.wallet.rgs import RgsWallet, bet_key
from croupier_local.apigw import HttpResponse
from croupier_local.dynamodb import LocalDynamoDB
from croupier_local.events import DEFAULT_SECRETS, refresh_signature
from croupier_local.server import LocalStack
from tests.support.players import admin_post, create_player, fund_player
from tests.support.requests import (
    OPERATOR_ID,
    RGS_SECRET,
    rgs_headers,
    rgs_raw_request,
    rgs_refused,
    rgs_request,
)
from tests.support.round_trips import GET, READ_TX, WRITE, DynamoCalls
from tests.support.wallet_table import TABLE, Books, n, s

pytestmark = pytest.mark.dynamodb_local

REPO_ROOT = Path(__file__).resolve().parents[2]
PROVIDER = f"rgs:{OPERATOR_ID}"
UNITS_PER_MINOR = {"USD": 100, "EUR": 100, "KRW": 10_000, "JPY": 10_000}  # internal units (10**-4 major)


# --- requests -------------------------------------------------------------------------------------------------


def tx(label: str) -> str:
    return f"rg-{label}-{uuid.uuid4().hex[:16]}"


def body(account: AccountKey, tx_id: str, round_id: str, amount_minor: int, **extra: Any) -> bytes:
    data: dict[str, Any] = {
        "operator_tx_id": tx_id,
        "operator_player_id": account.player_id,
        "session_id": "rg-session-1",
        "round_id": round_id,
        "currency": account.currency,
        "amount_minor": amount_minor,
        **extra,
    }
    return json.dumps(data, separators=(",", ":")).encode()


def send(stack: LocalStack, route: str, payload: bytes, headers: dict[str, str] | None = None) -> HttpResponse:
    """``payload`` to ``/rgs-wallet/<route>``, signed now for that route unless ``headers`` are given."""
    return stack.handle(rgs_request(route, payload, headers))


def ok(response: HttpResponse, balance_minor: int) -> None:
    assert response.status == 200, response.body
    assert (response.header("Content-Type") or "").startswith("application/json")
    assert response.json() == {"ok": True, "balance_minor": balance_minor}


def new_player(stack: LocalStack, currency: str, deposit: str | None, *, also: tuple[str, ...] = ()) -> AccountKey:
    """A fresh player (``rg-`` id) with an account in ``currency`` (and ``also``), funded via the admin API."""
    player_id = f"rg-{uuid.uuid4().hex[:20]}"
    create_player(stack, player_id=player_id, currencies=[currency, *also])
    if deposit is not None:
        fund_player(stack, player_id, currency, deposit, f"{player_id}-seed")
    return AccountKey(player_id, currency)


# --- the books, read with a client of the test's own ---------------------------------------------------------


@pytest.fixture(scope="module")
def books(dynamodb_local: LocalDynamoDB, real_client: Any, local_stack: LocalStack) -> Books:
    """Checks the chain, not its floor (``below_zero=None``)."""
    assert dynamodb_local.kind == "dynamodb-local", "these tests need DynamoDB Local, never moto"
    return Books(real_client, below_zero=None)


# --- happy paths, exact amounts ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("currency", "deposit", "start", "bet", "win", "bet2"),
    [
        pytest.param("USD", "100.00", 10_000, 1_250, 3_001, 499, id="USD-cents"),
        pytest.param("KRW", "50000", 50_000, 10_000, 25_000, 3_000, id="KRW-whole-won"),
        pytest.param("JPY", "7000", 7_000, 1_500, 4_501, 1, id="JPY-whole-yen"),
    ],
)
def test_bet_win_and_refund_answer_the_exact_balance_in_minor_units(
    local_stack: LocalStack, books: Books, currency: str, deposit: str, start: int, bet: int, win: int, bet2: int
) -> None:
    account = new_player(local_stack, currency, deposit)
    unit = UNITS_PER_MINOR[currency]
    round1, round2 = tx("round"), tx("round")
    bet_id, win_id, bet2_id, refund_id = f"bet-{round1}", f"win-{round1}", f"bet-{round2}", f"refund-{round2}"

    ok(send(local_stack, "bet", body(account, bet_id, round1, bet)), start - bet)
    ok(send(local_stack, "win", body(account, win_id, round1, win, multiplier=2.4)), start - bet + win)
    ok(send(local_stack, "bet", body(account, bet2_id, round2, bet2)), start - bet + win - bet2)
    ok(send(local_stack, "refund", body(account, refund_id, round2, bet2)), start - bet + win)

    state = books.check(account)[0]
    assert state == AccountState((start - bet + win) * unit, 5)
    entries = books.entries(account)
    assert [(s(e, "kind"), n(e, "delta")) for e in entries] == [
        ("credit", start * unit),
        ("debit", -bet * unit),
        ("credit", win * unit),
        ("debit", -bet2 * unit),
        ("reversal", bet2 * unit),
    ]
    # where each one is kept: a bet under its player and round, a win and a refund under their own operator_tx_id
    placed = books.entry(PROVIDER, bet_key(account.player_id, round1))
    assert placed is not None
    assert (s(placed, "kind"), placed["meta"]["M"]["operator_tx_id"]["S"]) == ("debit", bet_id)
    assert placed["meta"]["M"]["round_id"]["S"] == round1
    won = books.entry(PROVIDER, f"tx:{win_id}")
    assert won is not None
    assert s(won, "kind") == "credit"
    assert Decimal(str(json.loads(won["meta"]["M"]["multiplier"]["S"]))) == Decimal("2.4")
    refunded = books.entry(PROVIDER, bet_key(account.player_id, round2))
    assert refunded is not None
    assert s(refunded, "reversed_by") == f"tx:{refund_id}"
    refund = books.entry(PROVIDER, f"tx:{refund_id}")
    assert refund is not None
    assert (s(refund, "effect"), s(refund, "target")) == ("applied", bet_key(account.player_id, round2))


def test_balance_minor_is_rounded_down_when_another_provider_left_a_fraction(
    local_stack: LocalStack, books: Books
) -> None:
    """KRW has no minor unit, but Ruby moves hundredths: 1000.50 KRW is answered as 1000, never 1001."""
    account = new_player(local_stack, "KRW", "1000.50")
    ok(send(local_stack, "bet", body(account, tx("bet"), tx("round"), 0)), 1_000)
    ok(send(local_stack, "bet", body(account, tx("bet"), tx("round"), 100)), 900)
    rgs_refused(send(local_stack, "bet", body(account, tx("bet"), tx("round"), 901)), 402, "INSUFFICIENT_FUNDS")
    ok(send(local_stack, "bet", body(account, tx("bet"), tx("round"), 900)), 0)
    assert books.check(account)[0] == AccountState(5_000, 4), "0.50 KRW is left: answered as 0"


def test_a_base64_encoded_body_from_api_gateway_is_verified_on_its_decoded_bytes(
    local_stack: LocalStack, books: Books
) -> None:
    """API Gateway hands a body base64-encoded when its content type is not textual: the signature covers the
    decoded bytes. The sample event of ``events/`` is re-signed with ``croupier_local.events``."""
    account = new_player(local_stack, "KRW", "5000")
    event = json.loads((REPO_ROOT / "events" / "rgs_wallet_bet.json").read_text(encoding="utf-8"))
    raw = body(account, tx("b64"), tx("round"), 1_000)
    event["body"] = base64.b64encode(raw).decode()
    event["isBase64Encoded"] = True
    event["headers"]["content-type"] = "application/octet-stream"
    result = local_stack.invoke("RgsWalletBetFunction", refresh_signature(event))
    assert (result["statusCode"], json.loads(result["body"])) == (200, {"ok": True, "balance_minor": 4_000})
    assert books.check(account)[0] == AccountState(4_000 * 10_000, 2)


# --- replays ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("route", ["bet", "win", "refund"])
def test_a_replay_answers_the_original_body_and_has_one_effect(
    local_stack: LocalStack, books: Books, route: str
) -> None:
    account = new_player(local_stack, "USD", "100.00")
    round_id = tx("round")
    if route in ("win", "refund"):
        ok(send(local_stack, "bet", body(account, f"bet-{round_id}", round_id, 2_000)), 8_000)
    payload = body(account, f"{route}-{round_id}", round_id, 2_000 if route != "win" else 1_234)
    first = send(local_stack, route, payload)
    expected = {"bet": 8_000, "win": 9_234, "refund": 10_000}[route]
    ok(first, expected)
    # move the balance in between, so that an answer recomputed from the account would differ
    fund_player(local_stack, account.player_id, "USD", "1.11", tx("between"))
    before = books.player_items(account)
    for _ in range(3):
        replay = send(local_stack, route, payload)  # a fresh signature, the same body
        assert (replay.status, replay.body) == (first.status, first.body)
    assert books.player_items(account) == before, "a replay wrote something"
    versions = {"bet": 3, "win": 4, "refund": 4}[route]
    assert books.check(account)[0] == AccountState((expected + 111) * 100, versions)


def test_a_replay_of_a_refund_of_an_unknown_round_answers_the_original_body(
    local_stack: LocalStack, books: Books
) -> None:
    account = new_player(local_stack, "USD", "10.00")
    round_id = tx("round")
    payload = body(account, f"refund-{round_id}", round_id, 700)
    first = send(local_stack, "refund", payload)
    ok(first, 1_000)
    fund_player(local_stack, account.player_id, "USD", "0.05", tx("between"))
    before = books.player_items(account)
    replay = send(local_stack, "refund", payload)
    assert (replay.status, replay.body) == (200, first.body)
    assert books.player_items(account) == before


# --- conflicts --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def two_players(local_stack: LocalStack) -> tuple[AccountKey, AccountKey]:
    """Player A with USD (funded) and EUR (funded), player B with USD (funded)."""
    a = new_player(local_stack, "USD", "1000.00", also=("EUR",))
    fund_player(local_stack, a.player_id, "EUR", "1000.00", f"{a.player_id}-eur-seed")
    b = new_player(local_stack, "USD", "1000.00")
    return a, b


CONFLICTS = [
    *[("bet", change) for change in ("amount", "player", "currency")],  # another round: see the test below
    *[("win", change) for change in ("amount", "player", "currency", "round")],  # a win names its bet's round
    *[("refund", change) for change in ("amount", "player", "currency", "round")],
]


@pytest.mark.parametrize(("route", "change"), CONFLICTS, ids=[f"{r}-other-{c}" for r, c in CONFLICTS])
def test_the_same_operator_tx_id_with_other_content_is_a_conflict_and_writes_nothing(
    local_stack: LocalStack,
    books: Books,
    two_players: tuple[AccountKey, AccountKey],
    route: str,
    change: str,
) -> None:
    a, b = two_players
    round_id = tx("round")
    tx_id = f"{route}-{round_id}"
    if route in ("win", "refund"):
        balance_minor = books.account(a).balance // 100
        ok(send(local_stack, "bet", body(a, f"bet-{round_id}", round_id, 300)), balance_minor - 300)
    original = send(local_stack, route, body(a, tx_id, round_id, 300))
    assert original.status == 200, original.body
    other = {
        "amount": body(a, tx_id, round_id, 301),
        "player": body(b, tx_id, round_id, 300),
        "currency": body(AccountKey(a.player_id, "EUR"), tx_id, round_id, 300),
        "round": body(a, tx_id, tx("other-round"), 300),
    }[change]
    before = books.scan()
    rgs_refused(send(local_stack, route, other), 409, "IDEMPOTENCY_CONFLICT")
    assert books.scan() == before, "a conflicting request wrote something"
    replay = send(local_stack, route, body(a, tx_id, round_id, 300))
    assert (replay.status, replay.body) == (200, original.body), "the original is still answered"
    for account in (a, b, AccountKey(a.player_id, "EUR")):
        books.check(account)


def test_a_second_bet_for_the_same_round_with_another_operator_tx_id_is_a_conflict(
    local_stack: LocalStack, books: Books
) -> None:
    account = new_player(local_stack, "USD", "50.00")
    round_id = tx("round")
    ok(send(local_stack, "bet", body(account, f"bet-{round_id}", round_id, 1_000)), 4_000)
    before = books.scan()
    rgs_refused(
        send(local_stack, "bet", body(account, f"bet2-{round_id}", round_id, 1_000)), 409, "IDEMPOTENCY_CONFLICT"
    )
    assert books.scan() == before
    assert books.check(account)[0] == AccountState(4_000 * 100, 2)


def test_the_same_bet_operator_tx_id_for_another_round_is_a_conflict_not_a_second_debit(
    local_stack: LocalStack, books: Books
) -> None:
    account = new_player(local_stack, "USD", "50.00")
    tx_id = tx("bet")
    ok(send(local_stack, "bet", body(account, tx_id, tx("round"), 1_000)), 4_000)
    before = books.player_items(account)
    second = send(local_stack, "bet", body(account, tx_id, tx("round"), 1_000))
    after = books.player_items(account)
    assert books.check(account)[0].balance == 4_000 * 100, "the player was debited twice for one operator_tx_id"
    assert after == before
    rgs_refused(second, 409, "IDEMPOTENCY_CONFLICT")


def test_a_bets_operator_tx_id_reused_by_a_win_is_a_conflict(local_stack: LocalStack, books: Books) -> None:
    account = new_player(local_stack, "USD", "50.00")
    round_id = tx("round")
    tx_id = f"tx-{round_id}"
    ok(send(local_stack, "bet", body(account, tx_id, round_id, 1_000)), 4_000)
    before = books.player_items(account)
    win = send(local_stack, "win", body(account, tx_id, round_id, 1_000))
    assert books.player_items(account) == before, "the win was credited under the bet's operator_tx_id"
    rgs_refused(win, 409, "IDEMPOTENCY_CONFLICT")


# --- funds, late bets, mismatched refunds, unknown players ---------------------------------------------------------


def test_a_bet_above_the_balance_is_refused_402_and_writes_nothing(local_stack: LocalStack, books: Books) -> None:
    account = new_player(local_stack, "USD", "10.00")
    round_id = tx("round")
    payload = body(account, f"bet-{round_id}", round_id, 1_001)
    before = books.scan()
    rgs_refused(send(local_stack, "bet", payload), 402, "INSUFFICIENT_FUNDS")
    assert books.scan() == before
    assert books.entry(PROVIDER, bet_key(account.player_id, round_id)) is None
    # the boundary: exactly the balance is accepted
    ok(send(local_stack, "bet", body(account, tx("bet"), tx("round"), 1_000)), 0)
    # a declined bet was not recorded: once the player is funded, the same request is a new bet
    deposit = {"currency": "USD", "amount": "20.00", "reference": tx("topup")}
    assert admin_post(local_stack, f"/admin/players/{account.player_id}/deposits", deposit).status == 201
    ok(send(local_stack, "bet", payload), 999)
    assert books.check(account)[0] == AccountState(999 * 100, 4)


def test_a_refund_of_an_unknown_round_answers_ok_and_a_late_bet_for_that_round_is_refused(
    local_stack: LocalStack, books: Books
) -> None:
    account = new_player(local_stack, "USD", "30.00")
    round_id = tx("round")
    refund_id = f"refund-{round_id}"
    ok(send(local_stack, "refund", body(account, refund_id, round_id, 500)), 3_000)
    tombstone = books.entry(PROVIDER, bet_key(account.player_id, round_id))
    assert tombstone is not None
    assert (s(tombstone, "kind"), s(tombstone, "reversed_by")) == ("tombstone", f"tx:{refund_id}")
    own = books.entry(PROVIDER, f"tx:{refund_id}")
    assert own is not None
    assert (s(own, "effect"), n(own, "delta")) == ("target_unknown", 0)

    before = books.scan()
    late = send(local_stack, "bet", body(account, f"bet-{round_id}", round_id, 500))
    rgs_refused(late, 409, "ALREADY_ROLLED_BACK")
    assert books.scan() == before, "the late bet wrote something"

    # another refund of that round (its own id) moves nothing either
    ok(send(local_stack, "refund", body(account, f"refund2-{round_id}", round_id, 500)), 3_000)
    assert books.check(account)[0] == AccountState(3_000 * 100, 3)


def test_a_refund_whose_amount_differs_from_the_bet_is_refused_and_writes_nothing(
    local_stack: LocalStack, books: Books
) -> None:
    account = new_player(local_stack, "USD", "30.00")
    round_id = tx("round")
    ok(send(local_stack, "bet", body(account, f"bet-{round_id}", round_id, 500)), 2_500)
    for wrong in (499, 501, 0):
        before = books.scan()
        rgs_refused(
            send(local_stack, "refund", body(account, tx("refund"), round_id, wrong)), 409, "REVERSAL_AMOUNT_MISMATCH"
        )
        assert books.scan() == before
    ok(send(local_stack, "refund", body(account, f"refund-{round_id}", round_id, 500)), 3_000)
    ok(send(local_stack, "refund", body(account, tx("refund-again"), round_id, 500)), 3_000)  # already reversed
    assert books.check(account)[0] == AccountState(3_000 * 100, 4)


def test_a_refund_naming_another_players_or_currencys_bet_never_reverses_that_bet(
    local_stack: LocalStack, books: Books, two_players: tuple[AccountKey, AccountKey]
) -> None:
    """Bets are keyed by player and round: player B's refund in A's round names B's own (absent) bet, so it
    moves no money and leaves B's tombstone; in another currency, A's bet is not reversible by it."""
    a, b = two_players
    round_id = tx("round")
    balance_minor = books.account(a).balance // 100
    b_balance_minor = books.account(b).balance // 100
    ok(send(local_stack, "bet", body(a, f"bet-{round_id}", round_id, 250)), balance_minor - 250)
    ok(send(local_stack, "refund", body(b, tx("refund"), round_id, 250)), b_balance_minor)
    tombstone = books.entry(PROVIDER, bet_key(b.player_id, round_id))
    assert tombstone is not None
    assert s(tombstone, "kind") == "tombstone"
    before = books.scan()
    euro = AccountKey(a.player_id, "EUR")
    rgs_refused(send(local_stack, "refund", body(euro, tx("refund"), round_id, 250)), 409, "NOT_REVERSIBLE")
    assert books.scan() == before
    ok(send(local_stack, "refund", body(a, f"refund-{round_id}", round_id, 250)), balance_minor)
    for account in (a, b, AccountKey(a.player_id, "EUR")):
        books.check(account)


@pytest.mark.parametrize("route", ["bet", "win", "refund"])
def test_an_unknown_player_or_currency_is_404_and_writes_nothing(
    local_stack: LocalStack, books: Books, route: str
) -> None:
    known = new_player(local_stack, "USD", "10.00")
    for account in (AccountKey(f"rg-nobody-{uuid.uuid4().hex[:12]}", "USD"), AccountKey(known.player_id, "EUR")):
        before = books.scan()
        rgs_refused(send(local_stack, route, body(account, tx(route), tx("round"), 100)), 404, "UNKNOWN_PLAYER")
        assert books.scan() == before
    assert books.check(known)[0] == AccountState(1_000 * 100, 1)


# --- signatures ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "make", "code"),
    [
        ("stale by 301 s", lambda r, p: rgs_headers(r, p, offset=-301), "TIMESTAMP_STALE"),
        ("301 s in the future", lambda r, p: rgs_headers(r, p, offset=301), "TIMESTAMP_IN_FUTURE"),
        ("unknown operator id", lambda r, p: rgs_headers(r, p, operator_id=str(uuid.uuid4())), "UNKNOWN_OPERATOR"),
        ("wrong api key", lambda r, p: rgs_headers(r, p, api_key="not-the-dev-rgs-key"), "UNKNOWN_OPERATOR"),
        ("wrong secret", lambda r, p: rgs_headers(r, p, secret="not-the-secret"), "SIGNATURE_INVALID"),
        ("signature of another body", lambda r, p: rgs_headers(r, p + b" "), "SIGNATURE_INVALID"),
    ],
)
@pytest.mark.parametrize("route", ["bet", "win", "refund"])
def test_a_request_that_does_not_verify_is_401_and_writes_nothing(
    local_stack: LocalStack, books: Books, route: str, label: str, make: Any, code: str
) -> None:
    account = new_player(local_stack, "USD", "10.00")
    payload = body(account, tx(route), tx("round"), 100)
    before = books.scan()
    rgs_refused(send(local_stack, route, payload, make(route, payload)), 401, code)
    assert books.scan() == before, label
    assert books.check(account)[0] == AccountState(1_000 * 100, 1)


@pytest.mark.parametrize("offset", [-299, 0, 299])
def test_a_timestamp_within_300_seconds_verifies(local_stack: LocalStack, books: Books, offset: int) -> None:
    account = new_player(local_stack, "USD", "10.00")
    payload = body(account, tx("bet"), tx("round"), 100)
    ok(send(local_stack, "bet", payload, rgs_headers("bet", payload, offset=offset)), 900)
    assert books.check(account)[0] == AccountState(900 * 100, 2)


def test_the_x_operator_hmac_header_is_ignored(local_stack: LocalStack, books: Books) -> None:
    """providers.md §1: the raw secret on the wire is ignored: it neither helps nor hurts, and is never stored."""
    account = new_player(local_stack, "USD", "10.00")
    payload = body(account, tx("bet"), tx("round"), 100)
    with_hmac = {**rgs_headers("bet", payload), "X-Operator-Hmac": RGS_SECRET}
    ok(send(local_stack, "bet", payload, with_hmac), 900)

    garbled = {**rgs_headers("win", payload), "X-Signature": "ab" * 32, "X-Operator-Hmac": RGS_SECRET}
    before = books.scan()
    rgs_refused(send(local_stack, "win", payload, garbled), 401, "SIGNATURE_INVALID")
    instead = {k: v for k, v in rgs_headers("win", payload).items() if k != "X-Signature"}
    rgs_refused(send(local_stack, "win", payload, {**instead, "X-Operator-Hmac": RGS_SECRET}), 401, "SIGNATURE_MISSING")
    after = books.scan()
    assert after == before
    assert RGS_SECRET not in json.dumps(list(after.values())), "the secret was stored"
    assert books.check(account)[0] == AccountState(900 * 100, 2)


# --- key rotation ----------------------------------------------------------------------------------------------------


NEW_SECRET = "rg-rotated-secret-newest-dev-only"
RETIRED_SECRET = "rg-retired-secret-dev-only"


def rotation_wallet(secrets_file: Path, client: Any) -> RgsWallet:
    return RgsWallet(Ledger(DynamoLedgerStore(TABLE, lambda: client)), CachedSecrets(FileSecretStore(secrets_file)))


def test_during_a_key_rotation_both_configured_secrets_verify(
    local_stack: LocalStack, books: Books, real_client: Any, tmp_path: Path
) -> None:
    document = json.loads(DEFAULT_SECRETS.read_text(encoding="utf-8"))
    document["secrets"][f"rgs-wallet/operators/{OPERATOR_ID}"]["hmac_secrets"] = [NEW_SECRET, RGS_SECRET]
    secrets_file = tmp_path / "secrets.json"
    secrets_file.write_text(json.dumps(document), encoding="utf-8")
    wallet = rotation_wallet(secrets_file, real_client)
    account = new_player(local_stack, "USD", "10.00")

    new = body(account, tx("bet"), tx("round"), 100)
    old = body(account, tx("bet"), tx("round"), 200)
    assert wallet.bet(rgs_raw_request("bet", new, NEW_SECRET)) == {"ok": True, "balance_minor": 900}
    assert wallet.bet(rgs_raw_request("bet", old, RGS_SECRET)) == {"ok": True, "balance_minor": 700}
    assert wallet.bet(rgs_raw_request("bet", new, RGS_SECRET)) == {"ok": True, "balance_minor": 900}, (
        "replay, other secret"
    )
    with pytest.raises(Unauthorized) as raised:
        wallet.bet(rgs_raw_request("bet", body(account, tx("bet"), tx("round"), 300), RETIRED_SECRET))
    assert raised.value.code == "SIGNATURE_INVALID"

    # the rotation completes: the old secret is removed, and no longer verifies
    document["secrets"][f"rgs-wallet/operators/{OPERATOR_ID}"]["hmac_secrets"] = [NEW_SECRET]
    secrets_file.write_text(json.dumps(document), encoding="utf-8")
    wallet = rotation_wallet(secrets_file, real_client)
    won_round = json.loads(new)["round_id"]
    with pytest.raises(Unauthorized) as raised:
        wallet.win(rgs_raw_request("win", body(account, tx("win"), won_round, 50), RGS_SECRET))
    assert raised.value.code == "SIGNATURE_INVALID"
    assert wallet.win(rgs_raw_request("win", body(account, tx("win"), won_round, 50), NEW_SECRET)) == {
        "ok": True,
        "balance_minor": 750,
    }
    assert books.check(account)[0] == AccountState(750 * 100, 4)


# --- operator id spelling ----------------------------------------------------------------------------------------


def test_the_operator_id_is_one_operator_whatever_its_letter_case(local_stack: LocalStack, books: Books) -> None:
    account = new_player(local_stack, "USD", "10.00")
    round_id = tx("round")
    bet = body(account, f"bet-{round_id}", round_id, 400)
    ok(send(local_stack, "bet", bet, rgs_headers("bet", bet, operator_id=OPERATOR_ID.upper())), 600)
    replay = send(local_stack, "bet", bet)  # the same bet, operator id in lower case
    refund = send(local_stack, "refund", body(account, f"refund-{round_id}", round_id, 400))
    assert books.check(account)[0].balance == 1_000 * 100, "the bet was not refunded (or was taken twice)"
    ok(replay, 600)
    ok(refund, 1_000)


# --- ids that collide with the round keys ------------------------------------------------------------------------


def test_a_refund_whose_operator_tx_id_looks_like_a_round_key_is_not_a_500(
    local_stack: LocalStack, books: Books
) -> None:
    """Bets were once keyed ``<round_id>:bet`` in the key space of the wins' and refunds' ``operator_tx_id``: a
    refund whose own id was its round's bet key reversed itself, a 500. Keys are now prefixed (``bet:``,
    ``tx:``) so no operator id can name a bet's key; any documented answer, and nothing written if refused."""
    account = new_player(local_stack, "USD", "10.00")
    round_id = tx("round")
    before = books.player_items(account)
    response = send(local_stack, "refund", body(account, bet_key(account.player_id, round_id), round_id, 100))
    assert response.status != 500, response.body
    assert "ok" in response.json()
    if response.status == 200:
        assert response.json() == {"ok": True, "balance_minor": 1_000}
    else:
        assert books.player_items(account) == before
    books.check(account)


def test_a_win_whose_operator_tx_id_looks_like_a_round_key_does_not_block_that_rounds_bet(
    local_stack: LocalStack, books: Books
) -> None:
    account = new_player(local_stack, "USD", "10.00")
    round_id, earlier = tx("round"), tx("earlier-round")
    ok(send(local_stack, "bet", body(account, f"bet-{earlier}", earlier, 100)), 900)
    ok(send(local_stack, "win", body(account, bet_key(account.player_id, round_id), earlier, 200)), 1_100)
    ok(send(local_stack, "bet", body(account, f"bet-{round_id}", round_id, 100)), 1_000)


# --- DynamoDB round trips -----------------------------------------------------------------------------------------


def cold_player(stack: LocalStack, deposit_minor: int) -> AccountKey:
    """A USD player funded through a Ledger of its own: the handlers' snapshot cache has not seen it."""
    account = new_player(stack, "USD", None)
    seed = Movement("admin", f"seed-{account.player_id}", account, Kind.CREDIT, deposit_minor * 100)
    Ledger(wiring.ledger_store()).move(seed)
    return account


def test_round_trips_warm_bet_win_and_replays_cost_one_a_refund_two_its_replay_one(
    local_stack: LocalStack, books: Books, calls: DynamoCalls
) -> None:
    account = cold_player(local_stack, 10_000)
    calls.take()
    round1, round2 = tx("round"), tx("round")

    ok(send(local_stack, "bet", body(account, f"bet-{round1}", round1, 1_000)), 9_000)
    assert calls.take() == [GET, WRITE], "a cold bet reads the account once, then writes"

    bet = body(account, f"bet-{round2}", round2, 500)
    win = body(account, f"win-{round1}", round1, 2_500)
    refund = body(account, f"refund-{round2}", round2, 500)

    ok(send(local_stack, "bet", bet), 8_500)
    assert calls.take() == [WRITE], "warm bet"
    ok(send(local_stack, "win", win), 11_000)
    assert calls.take() == [WRITE], "warm win"
    ok(send(local_stack, "bet", bet), 8_500)
    assert calls.take() == [WRITE], "bet replay: answered from ALL_OLD of the one write"
    ok(send(local_stack, "win", win), 11_000)
    assert calls.take() == [WRITE], "win replay"
    ok(send(local_stack, "refund", refund), 11_500)
    assert calls.take() == [READ_TX, WRITE], "refund: one consistent read, one write"
    ok(send(local_stack, "refund", refund), 11_500)
    assert calls.take() == [READ_TX], "refund replay: the read finds the refund's own entry"

    rgs_refused(send(local_stack, "bet", body(account, tx("bet"), tx("round"), 999_999)), 402, "INSUFFICIENT_FUNDS")
    assert calls.take() == [WRITE], "funds are decided by the write's own condition"
    rgs_refused(send(local_stack, "bet", bet, rgs_headers("bet", bet, secret="wrong")), 401, "SIGNATURE_INVALID")
    assert calls.take() == [], "a request that does not verify never reaches DynamoDB"
    assert books.check(account)[0] == AccountState(11_500 * 100, 5)


def test_money_values_in_answers_are_json_integers(local_stack: LocalStack, books: Books) -> None:
    """``balance_minor`` is an integer, never a float or a decimal string."""
    account = new_player(local_stack, "USD", "0.01")
    response = send(local_stack, "bet", body(account, tx("bet"), tx("round"), 1))
    assert response.body.replace(b" ", b"") == b'{"ok":true,"balance_minor":0}'
    parsed = json.loads(response.body, parse_float=Decimal)
    assert type(parsed["balance_minor"]) is int
    assert books.check(account)[0] == AccountState(0, 2)
