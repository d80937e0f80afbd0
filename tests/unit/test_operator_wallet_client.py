"""OperatorWalletClient against a fake operator wallet that verifies every RGS v1 signature on its side."""

from __future__ import annotations

import dataclasses
import socket
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest

from croupier.clients.http import HttpResponse, TransportError, UrllibTransport
from croupier.clients.operator_wallet import AnswerKind, OperatorWalletClient, WalletAnswer, WalletCall
from croupier.errors import BadRequest
from croupier.signing import Failure, RawRequest, rgs
from tests.fakes.operator_wallet_server import API_KEY, HMAC_SECRET, OPERATOR_ID, FakeOperatorWallet

NOW = 1_780_000_000
PLAYER = "player-7"
START = 100_000

BET = WalletCall("bet-r1", PLAYER, "s-1", "r1", "KRW", 10_000)
WIN = WalletCall("win-r1", PLAYER, "s-1", "r1", "KRW", 23_500, multiplier="2.35")
REFUND = WalletCall("refund-r1", PLAYER, "s-1", "r1", "KRW", 10_000)


@pytest.fixture
def wallet() -> Iterator[FakeOperatorWallet]:
    with FakeOperatorWallet(clock=lambda: NOW) as fake:
        fake.fund(PLAYER, START)
        yield fake


def make_client(wallet: FakeOperatorWallet, **kwargs: Any) -> OperatorWalletClient:
    options: dict[str, Any] = {"timeout": 5.0, "clock": lambda: NOW, **kwargs}
    return OperatorWalletClient(wallet.url, OPERATOR_ID, API_KEY, HMAC_SECRET, **options)


@pytest.fixture
def client(wallet: FakeOperatorWallet) -> OperatorWalletClient:
    return make_client(wallet)


def bet(round_id: str, amount: int, player: str = PLAYER) -> WalletCall:
    return WalletCall(f"bet-{round_id}", player, "s-1", round_id, "KRW", amount)


class TamperingTransport:
    """The real transport, altering the request after it was signed (as a proxy in the middle would)."""

    def __init__(self, tamper: Callable[[str, dict[str, str], bytes], tuple[str, dict[str, str], bytes]]) -> None:
        self.inner = UrllibTransport()
        self.tamper = tamper

    def send(self, method: str, url: str, headers: Mapping[str, str], body: bytes, timeout: float) -> HttpResponse:
        url, changed, body = self.tamper(url, dict(headers), body)
        return self.inner.send(method, url, changed, body, timeout)


class CannedTransport:
    """No socket: answers one canned response (or raises), and records what it was asked to send."""

    def __init__(self, answer: HttpResponse | TransportError) -> None:
        self.answer = answer
        self.sent: list[tuple[str, str, dict[str, str], bytes]] = []

    def send(self, method: str, url: str, headers: Mapping[str, str], body: bytes, timeout: float) -> HttpResponse:
        self.sent.append((method, url, dict(headers), body))
        if isinstance(self.answer, TransportError):
            raise self.answer
        return self.answer


def canned_client(answer: HttpResponse | TransportError) -> tuple[OperatorWalletClient, CannedTransport]:
    transport = CannedTransport(answer)
    client = OperatorWalletClient(
        "https://wallet.example/rgs", OPERATOR_ID, API_KEY, HMAC_SECRET, transport=transport, clock=lambda: NOW
    )
    return client, transport


def assert_no_effect(wallet: FakeOperatorWallet) -> None:
    assert wallet.balance(PLAYER) == START
    assert wallet.entries == []


# --- signed calls ----------------------------------------------------------------------------------


def test_a_bet_is_signed_verified_by_the_wallet_and_answers_ok(
    wallet: FakeOperatorWallet, client: OperatorWalletClient
) -> None:
    answer = client.bet(BET)

    assert answer == WalletAnswer(
        AnswerKind.OK, "bet", "bet-r1", status=200, balance_minor=90_000, detail="bet: ok, balance_minor 90000"
    )
    assert answer.kind == "ok"
    assert (answer.ok, answer.refused, answer.unclear) == (True, False, False)
    assert wallet.balance(PLAYER) == 90_000
    [request] = wallet.requests
    assert request.verified, request.verdict
    assert (request.method, request.path_with_query) == ("POST", "/bet")
    assert request.body == (
        b'{"operator_tx_id":"bet-r1","operator_player_id":"player-7","session_id":"s-1",'
        b'"round_id":"r1","currency":"KRW","amount_minor":10000}'
    )
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["X-Operator-Id"] == OPERATOR_ID
    assert request.headers["X-Operator-Key"] == API_KEY
    assert request.headers["X-Timestamp"] == str(NOW)
    assert "X-Operator-Hmac" not in request.headers
    assert wallet.operator_hmac_seen == 0
    assert HMAC_SECRET not in repr(dict(request.headers.items()))


def test_a_win_carries_its_multiplier_as_a_json_string(
    wallet: FakeOperatorWallet, client: OperatorWalletClient
) -> None:
    client.bet(BET)

    answer = client.win(WIN)

    assert (answer.kind, answer.balance_minor) == ("ok", 90_000 + 23_500)
    request = wallet.calls("win")[0]
    assert request.verified
    assert request.body.endswith(b'"currency":"KRW","amount_minor":23500,"multiplier":"2.35"}')
    assert request.json()["multiplier"] == "2.35"


def test_a_refund_gives_the_round_s_bet_back(wallet: FakeOperatorWallet, client: OperatorWalletClient) -> None:
    client.bet(BET)

    answer = client.refund(REFUND)

    assert (answer.kind, answer.route, answer.balance_minor) == ("ok", "refund", START)
    assert [(e.route, e.delta_minor) for e in wallet.entries] == [("bet", -10_000), ("refund", 10_000)]
    assert b"multiplier" not in wallet.calls("refund")[0].body


@pytest.mark.parametrize("route", ["bet", "win", "refund"])
def test_the_signature_covers_exactly_the_path_and_bytes_sent(
    wallet: FakeOperatorWallet, client: OperatorWalletClient, route: str
) -> None:
    call = WIN if route == "win" else BET
    getattr(client, route)(call)

    [request] = wallet.requests
    assert request.path_with_query == f"/{route}"
    assert request.body == expected_body(call)
    expected = rgs.sign(HMAC_SECRET, NOW, "POST", request.path_with_query, request.body)
    assert request.headers["X-Signature"] == expected
    assert rgs.sign(HMAC_SECRET, NOW, "POST", request.path_with_query, request.body + b" ") != expected
    assert rgs.sign(HMAC_SECRET, NOW, "POST", "/other" + request.path_with_query, request.body) != expected


def expected_body(call: WalletCall) -> bytes:
    """The compact JSON the client must send, built independently of the client."""
    fields = [
        f'"operator_tx_id":"{call.operator_tx_id}"',
        f'"operator_player_id":"{call.operator_player_id}"',
        f'"session_id":"{call.session_id}"',
        f'"round_id":"{call.round_id}"',
        f'"currency":"{call.currency}"',
        f'"amount_minor":{call.amount_minor}',
    ]
    if call.multiplier is not None:
        fields.append(f'"multiplier":"{call.multiplier}"')
    return ("{" + ",".join(fields) + "}").encode()


def test_a_path_prefix_of_the_callback_url_is_sent_and_signed() -> None:
    with FakeOperatorWallet(prefix="/op/api/rgs-wallet", clock=lambda: NOW) as wallet:
        wallet.fund(PLAYER, START)
        client = OperatorWalletClient(
            wallet.url + "/op/api/rgs-wallet/", OPERATOR_ID, API_KEY, HMAC_SECRET, clock=lambda: NOW
        )

        answers = [client.bet(BET), client.win(WIN), client.refund(REFUND)]

        assert [a.kind for a in answers] == ["ok", "ok", "ok"]
        assert [r.path_with_query for r in wallet.requests] == [
            "/op/api/rgs-wallet/bet",
            "/op/api/rgs-wallet/win",
            "/op/api/rgs-wallet/refund",
        ]
        assert all(r.verified for r in wallet.requests)
        assert client.wallet_callback_url == wallet.url + "/op/api/rgs-wallet"


# --- the signature, seen from the wallet: a definite no --------------------------------------------


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda url, headers, body: (url, headers, body.replace(b"10000", b"1")), id="body"),
        pytest.param(lambda url, headers, body: (url + "?x=1", headers, body), id="query added"),
        pytest.param(lambda url, headers, body: (url, {**headers, "X-Timestamp": str(NOW + 1)}, body), id="timestamp"),
    ],
)
def test_a_request_altered_after_signing_is_refused_without_effect(
    wallet: FakeOperatorWallet, tamper: Callable[[str, dict[str, str], bytes], tuple[str, dict[str, str], bytes]]
) -> None:
    answer = make_client(wallet, transport=TamperingTransport(tamper)).bet(BET)

    assert (answer.kind, answer.status, answer.code) == ("refused", 401, "UNAUTHORIZED")
    assert wallet.requests[0].failure is Failure.BAD_SIGNATURE
    assert_no_effect(wallet)


@pytest.mark.parametrize(
    ("api_key", "secret", "clock_offset", "failure"),
    [
        (API_KEY, "not-the-secret", 0, Failure.BAD_SIGNATURE),
        ("another-key", HMAC_SECRET, 0, Failure.UNKNOWN_KEY),
        (API_KEY, HMAC_SECRET, -301, Failure.STALE_TIMESTAMP),
    ],
)
def test_wrong_credentials_or_clock_are_refused_and_the_secret_stays_out(
    wallet: FakeOperatorWallet, api_key: str, secret: str, clock_offset: int, failure: Failure
) -> None:
    client = OperatorWalletClient(wallet.url, OPERATOR_ID, api_key, secret, clock=lambda: NOW + clock_offset)

    answer = client.bet(BET)

    assert (answer.kind, answer.status) == ("refused", 401)
    assert secret not in answer.detail
    assert secret not in repr(answer)
    assert wallet.requests[0].failure is failure
    assert_no_effect(wallet)


def test_the_wallet_refuses_a_secret_on_the_wire(wallet: FakeOperatorWallet) -> None:
    client = make_client(
        wallet, transport=TamperingTransport(lambda u, h, b: (u, {**h, "X-Operator-Hmac": HMAC_SECRET}, b))
    )

    assert client.bet(BET).kind == "refused"
    assert wallet.operator_hmac_seen == 1
    assert_no_effect(wallet)


# --- refused: the operator said no, nothing happened -----------------------------------------------


def test_insufficient_funds_is_refused_with_402(wallet: FakeOperatorWallet, client: OperatorWalletClient) -> None:
    answer = client.bet(bet("r9", START + 1))

    assert (answer.kind, answer.status, answer.code) == ("refused", 402, "INSUFFICIENT_FUNDS")
    assert answer.balance_minor is None
    assert answer.detail == "bet: the operator refused it with HTTP 402 INSUFFICIENT_FUNDS: " + (
        "the balance is lower than the bet"
    )
    assert len(wallet.requests) == 1
    assert_no_effect(wallet)


def test_an_unknown_player_is_refused_with_404(wallet: FakeOperatorWallet, client: OperatorWalletClient) -> None:
    answer = client.bet(bet("r1", 1, player="nobody"))

    assert (answer.kind, answer.status, answer.code) == ("refused", 404, "UNKNOWN_PLAYER")
    assert_no_effect(wallet)


def test_the_same_tx_id_with_other_content_is_refused_with_409(
    wallet: FakeOperatorWallet, client: OperatorWalletClient
) -> None:
    assert client.bet(BET).ok

    answer = client.bet(dataclasses.replace(BET, amount_minor=20_000))

    assert (answer.kind, answer.status, answer.code) == ("refused", 409, "IDEMPOTENCY_CONFLICT")
    assert wallet.balance(PLAYER) == START - 10_000
    assert len(wallet.entries) == 1


@pytest.mark.parametrize(
    ("status", "code"),
    [(402, "INSUFFICIENT_FUNDS"), (403, "PLAYER_BLOCKED"), (404, "UNKNOWN_PLAYER"), (409, "IDEMPOTENCY_CONFLICT")],
)
def test_a_scripted_4xx_is_refused_with_its_status_and_code(
    wallet: FakeOperatorWallet, client: OperatorWalletClient, status: int, code: str
) -> None:
    wallet.refuse_next(1, status, code)

    answer = client.bet(BET)

    assert (answer.kind, answer.status, answer.code, answer.timed_out) == ("refused", status, code, False)
    assert len(wallet.requests) == 1
    assert_no_effect(wallet)


# --- unclear: it may or may not have taken effect; never retried by the client ---------------------


@pytest.mark.parametrize("status", [500, 502, 503, 504, 302])
def test_a_5xx_or_other_status_is_unclear_and_tried_once(
    wallet: FakeOperatorWallet, client: OperatorWalletClient, status: int
) -> None:
    wallet.fail_next(1, status)

    answer = client.bet(BET)

    assert (answer.kind, answer.status, answer.timed_out) == ("unclear", status, False)
    assert answer.balance_minor is None
    assert f"HTTP {status}" in answer.detail
    assert "may have taken effect" in answer.detail
    assert len(wallet.requests) == 1
    assert_no_effect(wallet)


def test_fail_next_defaults_to_503_with_a_code(wallet: FakeOperatorWallet, client: OperatorWalletClient) -> None:
    wallet.fail_next(2)

    answers = [client.win(WIN), client.win(WIN)]

    assert [(a.kind, a.status, a.code) for a in answers] == [("unclear", 503, "UNAVAILABLE")] * 2
    assert client.win(WIN).ok  # the script is used up: the third try is handled
    assert len(wallet.requests) == 3


def test_a_timeout_without_effect_is_unclear_and_the_caller_s_refund_is_harmless(wallet: FakeOperatorWallet) -> None:
    wallet.hang_next(1, 5.0)
    client = make_client(wallet, timeout=0.2)

    started = time.monotonic()
    answer = client.bet(BET)

    assert time.monotonic() - started < 1.5
    assert (answer.kind, answer.status, answer.timed_out) == ("unclear", None, True)
    assert "no answer within 0.2 s" in answer.detail
    assert len(wallet.requests) == 1
    assert_no_effect(wallet)

    refund = client.refund(REFUND)  # what the caller does with an unclear bet

    assert (refund.kind, refund.balance_minor) == ("ok", START)
    assert "r1" in wallet.refunded_rounds
    assert client.bet(BET).code == "ALREADY_REFUNDED"  # a late copy of the bet cannot take the money


def test_a_timeout_after_the_bet_was_applied_is_unclear_and_the_refund_reverses_it(
    wallet: FakeOperatorWallet,
) -> None:
    wallet.hang_next(1, 5.0, applied=True)
    client = make_client(wallet, timeout=0.2)

    answer = client.bet(BET)

    assert (answer.kind, answer.timed_out) == ("unclear", True)
    assert wallet.balance(PLAYER) == START - 10_000  # the money moved; only the answer was lost

    assert client.refund(REFUND).balance_minor == START
    assert len(wallet.requests) == 2


def test_a_lost_win_answer_is_recovered_by_sending_the_same_win_again(wallet: FakeOperatorWallet) -> None:
    client = make_client(wallet, timeout=0.2)
    client.bet(BET)
    wallet.hang_next(1, 5.0, applied=True)

    lost = client.win(WIN)
    again = client.win(WIN)

    assert (lost.kind, lost.timed_out) == ("unclear", True)
    assert (again.kind, again.balance_minor) == ("ok", START - 10_000 + 23_500)
    assert wallet.balance(PLAYER) == START - 10_000 + 23_500  # paid once
    assert [e.route for e in wallet.entries] == ["bet", "win"]


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(None, id="the real answer cut in half"),
        pytest.param(b"", id="empty"),
        pytest.param(b"<html>OK</html>", id="not JSON"),
        pytest.param(b"\xff\xfe", id="not UTF-8"),
        pytest.param(b"[]", id="a list"),
        pytest.param(b'{"ok":true}', id="no balance"),
        pytest.param(b'{"balance_minor":90000}', id="no ok"),
        pytest.param(b'{"ok":false,"balance_minor":90000}', id="ok false"),
        pytest.param(b'{"ok":"true","balance_minor":90000}', id="ok a string"),
        pytest.param(b'{"ok":1,"balance_minor":90000}', id="ok a number"),
        pytest.param(b'{"ok":true,"balance_minor":"90000"}', id="balance a string"),
        pytest.param(b'{"ok":true,"balance_minor":90000.0}', id="balance with a fraction"),
        pytest.param(b'{"ok":true,"balance_minor":9e4}', id="balance with an exponent"),
        pytest.param(b'{"ok":true,"balance_minor":true}', id="balance a boolean"),
        pytest.param(b'{"ok":true,"balance_minor":null}', id="balance null"),
        pytest.param(b'{"ok":true,"balance_minor":NaN}', id="balance NaN"),
        pytest.param(b'{"ok":true,"balance_minor":1' + b"0" * 21 + b"}", id="balance out of range"),
        pytest.param(b'{"ok":true,"balance_minor":1,"balance_minor":2}', id="duplicate keys"),
    ],
)
def test_a_200_that_is_not_a_valid_ok_answer_is_unclear(
    wallet: FakeOperatorWallet, client: OperatorWalletClient, body: bytes | None
) -> None:
    wallet.garble_next(1, body)

    answer = client.bet(BET)

    assert (answer.kind, answer.status, answer.balance_minor, answer.timed_out) == ("unclear", 200, None, False)
    assert answer.detail.startswith("bet: the wallet answered HTTP 200 with ")
    assert wallet.balance(PLAYER) == START - 10_000  # it did take effect: hence unclear, not refused
    assert len(wallet.requests) == 1


def test_a_garbled_answer_without_effect_is_unclear_too(
    wallet: FakeOperatorWallet, client: OperatorWalletClient
) -> None:
    wallet.garble_next(1, applied=False)

    assert client.win(WIN).kind == "unclear"
    assert_no_effect(wallet)


@pytest.mark.parametrize(
    ("body", "balance"),
    [
        (b'{"ok":true,"balance_minor":0}', 0),
        (b'{"ok":true,"balance_minor":-5}', -5),
        (b'{"ok":true,"balance_minor":42,"currency":"KRW","extra":[1.5]}', 42),
        (b'{"balance_minor":7,"ok":true}', 7),
    ],
)
def test_the_ok_balance_is_the_integer_the_operator_sent(
    wallet: FakeOperatorWallet, client: OperatorWalletClient, body: bytes, balance: int
) -> None:
    wallet.garble_next(1, body)

    answer = client.bet(BET)

    assert (answer.kind, answer.balance_minor) == ("ok", balance)
    assert type(answer.balance_minor) is int


@pytest.mark.parametrize("status", [201, 202, 204])
def test_only_a_200_is_ok_even_with_an_ok_body(status: int) -> None:
    client, transport = canned_client(HttpResponse(status, body=b'{"ok":true,"balance_minor":5}'))

    answer = client.bet(BET)

    assert (answer.kind, answer.status, answer.balance_minor) == ("unclear", status, None)
    assert len(transport.sent) == 1


def test_a_refused_connection_is_unclear_and_tried_once() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sent: list[str] = []

    def record(url: str, headers: dict[str, str], body: bytes) -> tuple[str, dict[str, str], bytes]:
        sent.append(url)
        return url, headers, body

    client = OperatorWalletClient(
        f"http://127.0.0.1:{port}/rgs", OPERATOR_ID, API_KEY, HMAC_SECRET, transport=TamperingTransport(record)
    )

    answer = client.bet(BET)

    assert (answer.kind, answer.status, answer.timed_out) == ("unclear", None, False)
    assert answer.detail.startswith("bet: the wallet could not be reached: ")
    assert sent == [f"http://127.0.0.1:{port}/rgs/bet"]


# --- idempotency through the wallet ----------------------------------------------------------------


def test_replays_answer_the_original_answer_without_a_second_effect(
    wallet: FakeOperatorWallet, client: OperatorWalletClient
) -> None:
    first = client.bet(BET)
    assert client.bet(BET) == first
    assert client.bet(bet("r2", 5_000)).balance_minor == START - 15_000

    replay = client.bet(BET)  # the balance moved since: the replay still answers what the first answered

    assert replay == first
    assert replay.balance_minor == START - 10_000
    assert client.win(WIN) == client.win(WIN)
    assert client.refund(REFUND) == client.refund(REFUND)
    assert [(e.route, e.operator_tx_id) for e in wallet.entries] == [
        ("bet", "bet-r1"),
        ("bet", "bet-r2"),
        ("win", "win-r1"),
        ("refund", "refund-r1"),
    ]
    assert wallet.balance(PLAYER) == START - 5_000 + 23_500
    assert len(wallet.requests) == 8
    assert all(r.verified and "X-Operator-Hmac" not in r.headers for r in wallet.requests)


def test_a_replayed_refusal_stays_refused(wallet: FakeOperatorWallet, client: OperatorWalletClient) -> None:
    too_much = bet("r3", START + 1)
    first = client.bet(too_much)
    wallet.fund(PLAYER, START)

    assert client.bet(too_much) == first
    assert first.status == 402


# --- invalid calls: refused before anything is sent ------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "complaint"),
    [
        ({"operator_tx_id": ""}, "operator_tx_id"),
        ({"operator_tx_id": "t" * 129}, "operator_tx_id"),
        ({"operator_tx_id": "bet\n1"}, "operator_tx_id"),
        ({"operator_tx_id": 7}, "operator_tx_id"),
        ({"operator_player_id": ""}, "operator_player_id"),
        ({"operator_player_id": "p" * 65}, "operator_player_id"),
        ({"operator_player_id": " p1"}, "operator_player_id"),
        ({"session_id": None}, "session_id"),
        ({"round_id": "r\u2028"}, "round_id"),
        ({"currency": "krw"}, "currency"),
        ({"currency": "KRW\n"}, "currency"),
        ({"amount_minor": -1}, "amount_minor"),
        ({"amount_minor": 1.0}, "amount_minor"),
        ({"amount_minor": True}, "amount_minor"),
        ({"amount_minor": "100"}, "amount_minor"),
        ({"amount_minor": 10**20 + 1}, "amount_minor"),
        ({"multiplier": "2,35"}, "multiplier"),
        ({"multiplier": "-2.35"}, "multiplier"),
        ({"multiplier": "2.35\n"}, "multiplier"),
        ({"multiplier": "1e3"}, "multiplier"),
        ({"multiplier": ""}, "multiplier"),
        ({"multiplier": 2.35}, "multiplier"),
    ],
)
def test_an_invalid_call_is_refused_before_anything_is_sent(
    wallet: FakeOperatorWallet, client: OperatorWalletClient, changes: dict[str, Any], complaint: str
) -> None:
    with pytest.raises(BadRequest, match=complaint):
        client.win(dataclasses.replace(WIN, **changes))

    assert wallet.requests == []


@pytest.mark.parametrize("route", ["bet", "refund"])
def test_a_multiplier_goes_with_a_win_only(
    wallet: FakeOperatorWallet, client: OperatorWalletClient, route: str
) -> None:
    with pytest.raises(BadRequest, match="multiplier goes with a win only"):
        getattr(client, route)(dataclasses.replace(BET, multiplier="2.00"))

    assert wallet.requests == []


def test_a_win_without_a_multiplier_and_an_amount_of_zero_are_sent(
    wallet: FakeOperatorWallet, client: OperatorWalletClient
) -> None:
    answer = client.win(dataclasses.replace(WIN, multiplier=None, amount_minor=0))

    assert (answer.kind, answer.balance_minor) == ("ok", START)
    assert b"multiplier" not in wallet.requests[0].body


def test_only_a_wallet_call_is_sent(wallet: FakeOperatorWallet, client: OperatorWalletClient) -> None:
    with pytest.raises(BadRequest, match="WalletCall"):
        client.bet(BET.body())  # type: ignore[arg-type]

    assert wallet.requests == []


# --- construction and secret hygiene ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "operator_id", "api_key", "secret", "timeout"),
    [
        ("http://wallet.example/rgs", OPERATOR_ID, API_KEY, HMAC_SECRET, 5),
        ("wallet.example/rgs", OPERATOR_ID, API_KEY, HMAC_SECRET, 5),
        ("ftp://wallet.example/rgs", OPERATOR_ID, API_KEY, HMAC_SECRET, 5),
        ("https://wallet.example/rgs?a=1", OPERATOR_ID, API_KEY, HMAC_SECRET, 5),
        ("https://wallet.example/rgs#top", OPERATOR_ID, API_KEY, HMAC_SECRET, 5),
        (f"https://op:{HMAC_SECRET}@wallet.example/rgs", OPERATOR_ID, API_KEY, HMAC_SECRET, 5),
        ("https://wallet.example/r gs", OPERATOR_ID, API_KEY, HMAC_SECRET, 5),
        ("https://wallet.example/rgs\u00e9", OPERATOR_ID, API_KEY, HMAC_SECRET, 5),
        ("https://wallet.example:99999/rgs", OPERATOR_ID, API_KEY, HMAC_SECRET, 5),
        ("https://wallet.example/rgs", "not-a-uuid", API_KEY, HMAC_SECRET, 5),
        ("https://wallet.example/rgs", OPERATOR_ID, "has space", HMAC_SECRET, 5),
        ("https://wallet.example/rgs", OPERATOR_ID, "", HMAC_SECRET, 5),
        ("https://wallet.example/rgs", OPERATOR_ID, API_KEY, "", 5),
        ("https://wallet.example/rgs", OPERATOR_ID, API_KEY, HMAC_SECRET, 0),
        ("https://wallet.example/rgs", OPERATOR_ID, API_KEY, HMAC_SECRET, -1.0),
    ],
)
def test_construction_refuses_unusable_settings(
    url: str, operator_id: str, api_key: str, secret: str, timeout: float
) -> None:
    with pytest.raises(ValueError, match=r"wallet_callback_url|operator_id|api_key|hmac_secret|HTTPS|timeout") as e:
        OperatorWalletClient(url, operator_id, api_key, secret, timeout=timeout)

    assert HMAC_SECRET not in str(e.value)


def test_plain_http_is_for_loopback_or_when_allowed() -> None:
    assert OperatorWalletClient("http://localhost:3000/rgs-wallet", OPERATOR_ID, API_KEY, HMAC_SECRET)
    remote = OperatorWalletClient("http://wallet.internal/x/", OPERATOR_ID, API_KEY, HMAC_SECRET, allow_insecure=True)
    assert remote.wallet_callback_url == "http://wallet.internal/x"


def test_repr_never_shows_the_secret() -> None:
    client = OperatorWalletClient("https://wallet.example/rgs", OPERATOR_ID, API_KEY, HMAC_SECRET)

    assert HMAC_SECRET not in repr(client)
    assert "wallet.example/rgs" in repr(client)
    assert OPERATOR_ID in repr(client)


@pytest.mark.parametrize("status", [400, 503])
def test_a_secret_echoed_by_the_operator_is_redacted(status: int) -> None:
    echo = f'{{"ok":false,"error":"BAD {HMAC_SECRET}","message":"your secret {HMAC_SECRET}\\nis wrong"}}'
    client, _ = canned_client(HttpResponse(status, body=echo.encode()))

    answer = client.bet(BET)

    assert answer.kind == ("refused" if status < 500 else "unclear")
    assert HMAC_SECRET not in answer.detail
    assert HMAC_SECRET not in repr(answer)
    assert answer.code == "BAD <redacted>"
    assert answer.detail.endswith(
        "your secret <redacted> is wrong" + ("" if status < 500 else " (it may have taken effect)")
    )


def test_a_transport_failure_echoing_the_secret_is_redacted() -> None:
    client, transport = canned_client(TransportError(f"reset while sending {HMAC_SECRET}"))

    answer = client.refund(REFUND)

    assert (answer.kind, answer.timed_out) == ("unclear", False)
    assert HMAC_SECRET not in answer.detail
    assert len(transport.sent) == 1


def test_what_the_transport_is_handed_verifies_offline() -> None:
    client, transport = canned_client(HttpResponse(200, body=b'{"ok":true,"balance_minor":5}'))

    assert client.win(WIN).balance_minor == 5

    [(method, url, headers, body)] = transport.sent
    assert (method, url) == ("POST", "https://wallet.example/rgs/win")
    assert "X-Operator-Hmac" not in headers
    assert all(HMAC_SECRET not in value for value in headers.values())
    verdict = rgs.verify(
        RawRequest.of(method, "/rgs/win", headers, body), lambda o, k: [HMAC_SECRET], clock=lambda: NOW
    )
    assert verdict.ok, verdict.detail


class TimeoutRecorder:
    def __init__(self) -> None:
        self.timeouts: list[float] = []

    def send(self, method: str, url: str, headers: Mapping[str, str], body: bytes, timeout: float) -> HttpResponse:
        self.timeouts.append(timeout)
        raise TransportError("timed out", timed_out=True)


def test_a_calls_timeout_shortens_the_clients_own_and_never_lengthens_it() -> None:
    transport = TimeoutRecorder()
    client = OperatorWalletClient(
        "https://wallet.example/rgs", OPERATOR_ID, API_KEY, HMAC_SECRET, transport=transport, timeout=5
    )
    answer = client.bet(BET, timeout=1.25)
    assert answer.unclear
    assert answer.timed_out
    assert "1.25 s" in answer.detail
    client.refund(REFUND, timeout=30)
    client.win(WIN)
    assert transport.timeouts == [1.25, 5.0, 5.0]
    with pytest.raises(ValueError, match="positive"):
        client.bet(BET, timeout=0)
