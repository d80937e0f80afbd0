"""Launcher: the logic of the sportsbook and RGS launch routes, against fake providers on real sockets."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from croupier.clients.rgs import Reason as RgsReason
from croupier.clients.rgs import RgsApiError
from croupier.clients.sportsbook import Reason as SportsbookReason
from croupier.clients.sportsbook import SportsbookApiError
from croupier.errors import BadRequest, Unavailable
from croupier.jsonbody import InvalidJson
from croupier.launch import ConfigInvalid, ConfigMissing, InvalidRequest, Launcher
from croupier.ledger import AccountKey, AccountState, UnknownAccount
from croupier.secrets import CachedSecrets, FileSecretStore, SecretNotFound
from tests.fakes.rgs_server import API_KEY, HMAC_SECRET, OPERATOR_ID, FakeRgsServer
from tests.fakes.sportsbook_server import PASSWORD, USERNAME, VERSION, FakeSportsbookServer

REPO_ROOT = Path(__file__).resolve().parents[2]


class DictStore:
    """A secret store in memory, changeable between calls."""

    def __init__(self, secrets: dict[str, dict[str, Any]]) -> None:
        self.secrets = secrets

    def get(self, name: str) -> dict[str, Any]:
        if name not in self.secrets:
            raise SecretNotFound(name)
        return dict(self.secrets[name])

    def put(self, name: str, value: dict[str, Any]) -> str:
        self.secrets[name] = value
        return name


class Balances:
    """The ledger's balance read, as a dict; records every account asked for."""

    def __init__(self, balances: dict[AccountKey, int]) -> None:
        self.balances = balances
        self.asked: list[AccountKey] = []

    def __call__(self, account: AccountKey) -> AccountState:
        self.asked.append(account)
        if account not in self.balances:
            raise UnknownAccount("unknown player or currency")
        return AccountState(balance=self.balances[account], version=1)


@pytest.fixture
def book() -> Iterator[FakeSportsbookServer]:
    with FakeSportsbookServer() as server:
        yield server


@pytest.fixture
def rgs_server() -> Iterator[FakeRgsServer]:
    with FakeRgsServer() as server:
        yield server


@pytest.fixture
def store(book: FakeSportsbookServer, rgs_server: FakeRgsServer) -> DictStore:
    return DictStore(
        {
            "sportsbook": {
                "api_url": book.url,
                "api_version": VERSION,
                "client_username": USERNAME,
                "client_password": PASSWORD,
                "security_hash": "not-used-here",
            },
            "rgs/external": {
                "base_url": rgs_server.url,
                "operator_id": OPERATOR_ID,
                "api_key": API_KEY,
                "hmac_secret": HMAC_SECRET,
            },
        }
    )


@pytest.fixture
def balances() -> Balances:
    return Balances(
        {
            AccountKey("player-7", "KRW"): 1_255_000,  # 125.5 KRW: KRW has no minor unit, so 125
            AccountKey("player-7", "USD"): 12_345_600,  # 1234.56 USD
            AccountKey("in-debt", "USD"): -5_000,
        }
    )


@pytest.fixture
def launcher(store: DictStore, balances: Balances) -> Launcher:
    return Launcher(CachedSecrets(store), balances, timeout=5)


def body(**fields: Any) -> bytes:
    return json.dumps(fields).encode()


# --- sportsbook ------------------------------------------------------------------------------------


def test_sportsbook_launch_checks_the_account_and_answers_the_iframe_url(
    launcher: Launcher, book: FakeSportsbookServer, balances: Balances
) -> None:
    answer = launcher.sportsbook(body(player_id="player-7", currency="KRW", lang="ko"))

    assert answer == {"url": "https://sportsbook.example/play?session=s-1&user=player-7&currency=KRW&lang=ko"}
    assert balances.asked == [AccountKey("player-7", "KRW")]
    assert book.sessions == [{"session": "s-1", "user_id": "player-7", "currency": "KRW", "lang": "ko"}]


def test_the_sportsbook_token_is_reused_across_launches(launcher: Launcher, book: FakeSportsbookServer) -> None:
    launcher.sportsbook(body(player_id="player-7", currency="KRW"))
    launcher.sportsbook(body(player_id="player-7", currency="USD"))

    assert book.auth_calls == 1
    assert book.session_calls == 2
    assert "lang" not in book.requests_to("/v1/start-session")[0].json()


def test_a_rotated_sportsbook_password_gets_a_new_client(book: FakeSportsbookServer, balances: Balances) -> None:
    store = DictStore(
        {
            "sportsbook": {
                "api_url": book.url,
                "api_version": VERSION,
                "client_username": USERNAME,
                "client_password": "old",
            }
        }
    )
    launcher = Launcher(CachedSecrets(store, ttl=0), balances, timeout=5)
    with pytest.raises(SportsbookApiError) as caught:
        launcher.sportsbook(body(player_id="player-7", currency="KRW"))
    assert caught.value.reason is SportsbookReason.AUTH_REFUSED

    store.secrets["sportsbook"]["client_password"] = PASSWORD
    launcher.sportsbook(body(player_id="player-7", currency="KRW"))
    launcher.sportsbook(body(player_id="player-7", currency="KRW"))

    assert book.auth_calls == 2  # the refused one, then one for both launches
    assert book.session_calls == 2


def test_an_unknown_player_is_404_and_nothing_is_sent(launcher: Launcher, book: FakeSportsbookServer) -> None:
    with pytest.raises(UnknownAccount) as caught:
        launcher.sportsbook(body(player_id="nobody", currency="KRW"))

    assert caught.value.status == 404
    assert caught.value.code == "UNKNOWN_PLAYER"
    assert book.requests == []


def test_a_sportsbook_failure_is_a_502_with_the_reason(launcher: Launcher, book: FakeSportsbookServer) -> None:
    book.fail_next(503, {"error": "MAINTENANCE"})

    with pytest.raises(SportsbookApiError) as caught:
        launcher.sportsbook(body(player_id="player-7", currency="KRW"))

    error = caught.value
    assert (error.status, error.code) == (502, "SPORTSBOOK_API_ERROR")
    assert error.reason is SportsbookReason.PROVIDER_STATUS
    assert "HTTP 503 MAINTENANCE" in error.message
    assert PASSWORD not in error.message


@pytest.mark.parametrize(
    ("raw", "fields"),
    [
        (body(currency="KRW"), ["player_id"]),
        (body(player_id="player-7"), ["currency"]),
        (body(player_id="", currency="KRW"), ["player_id"]),
        (body(player_id="p" * 65, currency="KRW"), ["player_id"]),
        (body(player_id="bad id!", currency="KRW"), ["player_id"]),
        (body(player_id=7, currency="KRW"), ["player_id"]),
        (body(player_id="player-7", currency="krw"), ["currency"]),
        (body(player_id="player-7", currency="KRW", lang="english"), ["lang"]),
        (body(player_id="player-7", currency="KRW", lang="en-gb"), ["lang"]),
        (body(player_id="player-7", currency="KRW", user_id="x"), ["user_id"]),
        (body(), ["currency", "player_id"]),
    ],
)
def test_an_invalid_sportsbook_body_is_invalid_request_naming_fields_only(
    launcher: Launcher, book: FakeSportsbookServer, balances: Balances, raw: bytes, fields: list[str]
) -> None:
    with pytest.raises(InvalidRequest) as caught:
        launcher.sportsbook(raw)

    error = caught.value
    assert (error.status, error.code) == (400, "INVALID_REQUEST")
    for field in fields:
        assert field in error.message
    for value in ("english", "bad id!", "krw", "en-gb"):
        assert value not in error.message
    assert balances.asked == []
    assert book.requests == []


@pytest.mark.parametrize("raw", [b"", b"not json", b"[]", b'{"player_id":"a","player_id":"b","currency":"KRW"}'])
def test_a_body_that_is_not_a_json_object_is_a_bad_request(launcher: Launcher, raw: bytes) -> None:
    with pytest.raises(InvalidJson) as caught:
        launcher.sportsbook(raw)

    assert isinstance(caught.value, BadRequest)
    assert caught.value.status == 400


# --- RGS -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("currency", "sent_minor"),
    [("KRW", 125), ("USD", 123_456)],
)
def test_rgs_launch_sends_the_balance_in_minor_units_and_answers_the_session(
    launcher: Launcher, rgs_server: FakeRgsServer, balances: Balances, currency: str, sent_minor: int
) -> None:
    answer = launcher.rgs(body(player_id="player-7", currency=currency))

    [request] = rgs_server.requests
    assert request.verified
    assert "X-Operator-Hmac" not in request.headers
    assert request.json() == {
        "operator_player_id": "player-7",
        "currency": currency,
        "balance_minor": sent_minor,
        "ttl_seconds": 3600,
    }
    session = rgs_server.sessions[answer["session_id"]]
    assert answer == {
        "launch_url": session["launch_url"],
        "session_id": answer["session_id"],
        "expires_at": session["expires_at"],
    }
    assert answer["expires_at"].endswith("Z")
    assert balances.asked == [AccountKey("player-7", currency)]


def test_rgs_launch_passes_the_requested_ttl(launcher: Launcher, rgs_server: FakeRgsServer) -> None:
    launcher.rgs(body(player_id="player-7", currency="USD", ttl_seconds=86_400))
    launcher.rgs(body(player_id="player-7", currency="USD", ttl_seconds=60))

    assert [r.json()["ttl_seconds"] for r in rgs_server.requests] == [86_400, 60]


def test_rgs_launch_passes_the_language_on_only_when_given(launcher: Launcher, rgs_server: FakeRgsServer) -> None:
    launcher.rgs(body(player_id="player-7", currency="USD", lang="ko"))
    launcher.rgs(body(player_id="player-7", currency="USD"))

    assert [r.json().get("lang", "absent") for r in rgs_server.requests] == ["ko", "absent"]
    assert all(r.verified for r in rgs_server.requests)


def test_a_balance_below_zero_is_launched_as_zero(launcher: Launcher, rgs_server: FakeRgsServer) -> None:
    launcher.rgs(body(player_id="in-debt", currency="USD"))

    assert rgs_server.requests[0].json()["balance_minor"] == 0


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (body(player_id="player-7", currency="USD", ttl_seconds=59), "ttl_seconds"),
        (body(player_id="player-7", currency="USD", ttl_seconds=86_401), "ttl_seconds"),
        (body(player_id="player-7", currency="USD", ttl_seconds="3600"), "ttl_seconds"),
        (b'{"player_id":"player-7","currency":"USD","ttl_seconds":3600.0}', "ttl_seconds"),
        (body(player_id="player-7", currency="USD", ttl_seconds=True), "ttl_seconds"),
        (body(player_id="player-7", currency="USD", lang="fr"), "lang"),
        (body(player_id="player-7", currency="USD", lang="EN"), "lang"),
        (body(player_id="player-7"), "currency"),
    ],
)
def test_an_invalid_rgs_body_is_invalid_request(
    launcher: Launcher, rgs_server: FakeRgsServer, raw: bytes, field: str
) -> None:
    with pytest.raises(InvalidRequest, match=field) as caught:
        launcher.rgs(raw)

    assert caught.value.code == "INVALID_REQUEST"
    assert rgs_server.requests == []


def test_rgs_unknown_player_is_404(launcher: Launcher, rgs_server: FakeRgsServer) -> None:
    with pytest.raises(UnknownAccount):
        launcher.rgs(body(player_id="player-7", currency="EUR"))

    assert rgs_server.requests == []


def test_an_rgs_failure_is_a_502_with_the_reason(launcher: Launcher, rgs_server: FakeRgsServer) -> None:
    rgs_server.fail_next(500, {"error": "BOOM", "message": "internal"})

    with pytest.raises(RgsApiError) as caught:
        launcher.rgs(body(player_id="player-7", currency="USD"))

    assert (caught.value.status, caught.value.code) == (502, "RGS_API_ERROR")
    assert caught.value.reason is RgsReason.PROVIDER_STATUS
    assert caught.value.message == "RGS launch answered HTTP 500 BOOM: internal"


def test_a_wrong_rgs_secret_is_a_502_auth_refused(
    store: DictStore, balances: Balances, rgs_server: FakeRgsServer
) -> None:
    store.secrets["rgs/external"]["hmac_secret"] = "rotated-elsewhere"
    launcher = Launcher(CachedSecrets(store), balances, timeout=5)

    with pytest.raises(RgsApiError) as caught:
        launcher.rgs(body(player_id="player-7", currency="USD"))

    assert caught.value.reason is RgsReason.AUTH_REFUSED
    assert "rotated-elsewhere" not in caught.value.message


# --- configuration ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("route", "name"), [("sportsbook", "sportsbook"), ("rgs", "rgs/external")])
def test_a_missing_configuration_is_503_config_missing(
    store: DictStore, balances: Balances, route: str, name: str
) -> None:
    del store.secrets[name]
    launcher = Launcher(CachedSecrets(store), balances, timeout=5)

    with pytest.raises(ConfigMissing) as caught:
        getattr(launcher, route)(body(player_id="player-7", currency="USD"))

    error = caught.value
    assert isinstance(error, Unavailable)
    assert (error.status, error.code) == (503, "CONFIG_MISSING")
    assert name in error.message


@pytest.mark.parametrize(
    ("route", "name", "field"),
    [
        ("sportsbook", "sportsbook", "client_password"),
        ("sportsbook", "sportsbook", "api_url"),
        ("rgs", "rgs/external", "hmac_secret"),
        ("rgs", "rgs/external", "operator_id"),
    ],
)
def test_a_configuration_lacking_a_field_is_503_naming_the_field_not_the_values(
    store: DictStore, balances: Balances, route: str, name: str, field: str
) -> None:
    store.secrets[name][field] = "  "
    launcher = Launcher(CachedSecrets(store), balances, timeout=5)

    with pytest.raises(ConfigMissing, match=field) as caught:
        getattr(launcher, route)(body(player_id="player-7", currency="USD"))

    assert caught.value.code == "CONFIG_MISSING"
    for value in (PASSWORD, HMAC_SECRET, API_KEY, USERNAME):
        assert value not in caught.value.message


@pytest.mark.parametrize(
    ("route", "name", "field", "value"),
    [
        ("sportsbook", "sportsbook", "api_url", "not a url"),
        ("rgs", "rgs/external", "operator_id", "not-a-uuid"),
        ("rgs", "rgs/external", "base_url", "http://rgs.example"),
    ],
)
def test_an_unusable_configuration_is_503_config_invalid(
    store: DictStore, balances: Balances, route: str, name: str, field: str, value: str
) -> None:
    store.secrets[name][field] = value
    launcher = Launcher(CachedSecrets(store), balances, timeout=5)

    with pytest.raises(ConfigInvalid) as caught:
        getattr(launcher, route)(body(player_id="player-7", currency="USD"))

    assert (caught.value.status, caught.value.code) == (503, "CONFIG_INVALID")
    assert value not in caught.value.message


def test_the_dev_secrets_file_has_what_the_launcher_needs(tmp_path: Path, balances: Balances) -> None:
    """The committed dev secrets, pointed at the fakes: the shapes the local stack will use work."""
    document = json.loads((REPO_ROOT / "local" / "dev-secrets.json").read_text(encoding="utf-8"))
    sportsbook, external = document["secrets"]["sportsbook"], document["secrets"]["rgs/external"]
    with (
        FakeSportsbookServer(sportsbook["client_username"], sportsbook["client_password"], version="v1") as book,
        FakeRgsServer(external["operator_id"], external["api_key"], external["hmac_secret"]) as rgs_server,
    ):
        sportsbook["api_url"], external["base_url"] = book.url, rgs_server.url
        path = tmp_path / "secrets.json"
        path.write_text(json.dumps(document), encoding="utf-8")
        launcher = Launcher(CachedSecrets(FileSecretStore(path)), balances, timeout=5)

        assert launcher.sportsbook(body(player_id="player-7", currency="KRW"))["url"].startswith("https://")
        assert launcher.rgs(body(player_id="player-7", currency="KRW"))["launch_url"].startswith("https://")
        assert rgs_server.requests[0].verified
