"""RGS operators and sessions on DynamoDB Local: provisioning shows the secret once and stores it only in
the secret store; rotation overlaps; launch opens a session whose token is stored only as a hash."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from croupier.errors import CroupierError
from croupier.rgs.credentials import token_hash
from croupier.rgs.operators import Operators, UnknownOperator
from croupier.rgs.sealing import Sealer
from croupier.rgs.sessions import Sessions
from croupier.rgs.store import RgsStore
from croupier.secrets import FileSecretStore
from croupier.signing import RawRequest, rgs

NOW = 1_795_000_000.0
SETTINGS = {"wallet_callback_url": "https://wallet.example.com/rgs-wallet", "allowed_currencies": ["USD", "KRW"]}


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


World = tuple[Operators, Sessions, FileSecretStore, Clock]


@pytest.fixture
def world(real_client: Any, tmp_path: Path, rgs_sealer: Sealer) -> World:
    clock = Clock()
    secrets = FileSecretStore(tmp_path / "secrets.json")
    store = RgsStore("RgsTable", lambda: real_client, sealer=rgs_sealer)
    operators = Operators(store, secrets, clock=clock, cache_seconds=0)
    return operators, Sessions(store, operators, clock=clock), secrets, clock


def table_text(client: Any) -> str:
    items: list[Any] = []
    kwargs: dict[str, Any] = {"TableName": "RgsTable", "ConsistentRead": True}
    while True:
        page = client.scan(**kwargs)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            return json.dumps(items)
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def signed_launch(operator_id: str, api_key: str, secret: str, body: dict[str, Any], at: float) -> RawRequest:
    raw = json.dumps(body, separators=(",", ":")).encode()
    path = "/api/public/rgs/launch"
    headers = rgs.headers(operator_id, api_key, secret, "POST", path, raw, clock=lambda: at)
    return RawRequest.of("POST", path, headers, raw)


def test_provisioning_shows_the_secret_once_and_keeps_it_only_in_the_secret_store(
    world: World, real_client: Any
) -> None:
    operators, _, secrets, _ = world
    created = operators.provision(json.dumps(SETTINGS).encode())
    secret = created["hmac_secret"]
    assert created["rtp_target"] == "0.96"
    assert created["max_win_multiplier"] == 2000
    assert created["house_share"] == "0.15"
    assert created["enabled"] is True
    assert secret not in table_text(real_client)
    assert secret not in json.dumps(operators.view(created["operator_id"]))
    assert secrets.get(f"rgs/operators/{created['operator_id']}")["keys"] == {created["api_key"]: secret}
    assert operators.secrets_for(created["operator_id"], created["api_key"]) == [secret]
    assert operators.secrets_for(created["operator_id"], "another-key") == []


@pytest.mark.parametrize(
    "settings",
    [
        {"allowed_currencies": ["USD"]},
        {**SETTINGS, "wallet_callback_url": "http://wallet.example.com/rgs-wallet"},
        {**SETTINGS, "wallet_callback_url": "https://wallet.example.com/rgs-wallet/"},
        {**SETTINGS, "allowed_currencies": []},
        {**SETTINGS, "allowed_currencies": ["XYZ"]},
        {**SETTINGS, "rtp_target": "1.2"},
        {**SETTINGS, "rtp_target": "0.96001"},
        {**SETTINGS, "max_win_multiplier": 1},
        {**SETTINGS, "house_share": "-0.1"},
        {**SETTINGS, "enabled": "yes"},
        {**SETTINGS, "surprise": 1},
    ],
)
def test_invalid_settings_are_refused_and_nothing_is_written(
    world: World, real_client: Any, settings: dict[str, Any]
) -> None:
    operators, _, secrets, _ = world
    before = table_text(real_client)
    with pytest.raises(CroupierError) as refused:
        operators.provision(json.dumps(settings).encode())
    assert refused.value.status == 400
    assert table_text(real_client) == before
    assert not secrets.path.exists()


def test_a_rotated_key_overlaps_then_the_old_one_retires(
    world: World,
) -> None:
    operators, _, _, clock = world
    first = operators.provision(json.dumps(SETTINGS).encode())
    operator_id = first["operator_id"]
    second = operators.rotate_key(operator_id, b'{"overlap_seconds": 3600}')
    assert second["api_key"] != first["api_key"]
    assert operators.secrets_for(operator_id, first["api_key"]) == [first["hmac_secret"]]
    assert operators.secrets_for(operator_id, second["api_key"]) == [second["hmac_secret"]]
    clock.now += 3601
    assert operators.secrets_for(operator_id, first["api_key"]) == []
    assert operators.secrets_for(operator_id, second["api_key"]) == [second["hmac_secret"]]
    operators.change(operator_id, b'{"enabled": false}')
    assert operators.secrets_for(operator_id, second["api_key"]) == []
    with pytest.raises(UnknownOperator):
        operators.rotate_key("00000000-0000-4000-8000-000000000000", b"{}")


class CachingSecrets(FileSecretStore):
    """A secret store that caches like Secrets Manager through Powertools, unless asked for a fresh read."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.cached: dict[str, dict[str, Any]] = {}
        self.fresh_reads = 0

    def get(self, name: str, *, fresh: bool = False) -> dict[str, Any]:
        if fresh or name not in self.cached:
            self.fresh_reads += fresh
            self.cached[name] = super().get(name)
        return self.cached[name]


def test_a_key_rotated_elsewhere_is_taken_at_once_and_unknown_keys_cannot_flood_the_stores(
    real_client: Any, tmp_path: Path
) -> None:
    clock = Clock()
    store = RgsStore("RgsTable", lambda: real_client)
    here = Operators(store, CachingSecrets(tmp_path / "s.json"), clock=clock)  # caches for a minute
    elsewhere = Operators(store, CachingSecrets(tmp_path / "s.json"), clock=clock)
    first = elsewhere.provision(json.dumps(SETTINGS).encode())
    operator_id = first["operator_id"]
    assert here.secrets_for(operator_id, first["api_key"]) == [first["hmac_secret"]]  # now cached here
    second = elsewhere.rotate_key(operator_id, b"{}")
    assert here.secrets_for(operator_id, second["api_key"]) == [second["hmac_secret"]]  # no 401 for a minute
    assert here.secrets_for(operator_id, first["api_key"]) == [first["hmac_secret"]]  # the overlap holds
    secrets = here.secrets
    assert isinstance(secrets, CachingSecrets)
    reads = secrets.fresh_reads
    for i in range(50):
        assert here.secrets_for(operator_id, f"guess-{i}") == []
    assert secrets.fresh_reads == reads  # refreshed less than 5 s ago: the guesses read nothing
    third = elsewhere.rotate_key(operator_id, b"{}")
    assert here.secrets_for(operator_id, third["api_key"]) == []  # within the 5 s: not yet
    here_refreshed = here._refreshed.get(operator_id)
    assert here_refreshed is not None
    here._refreshed.put(operator_id, here_refreshed - 5)  # five seconds later
    assert here.secrets_for(operator_id, third["api_key"]) == [third["hmac_secret"]]
    assert secrets.fresh_reads == reads + 1


def test_launch_opens_a_session_whose_token_is_stored_only_as_its_hash(world: World, real_client: Any) -> None:
    operators, sessions, _, clock = world
    op = operators.provision(json.dumps(SETTINGS).encode())
    body = {"operator_player_id": "player-42", "currency": "USD", "balance_minor": 500_000, "ttl_seconds": 600}
    request = signed_launch(op["operator_id"], op["api_key"], op["hmac_secret"], body, clock.now)
    answer = sessions.launch(request, "https://rgs.example.com")
    assert answer["ok"] is True
    assert answer["expires_at"] == datetime.fromtimestamp(NOW + 600, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    url = urlsplit(answer["launch_url"])
    assert (url.scheme, url.netloc, url.path) == ("https", "rgs.example.com", "/play")
    token = parse_qs(url.query)["session"][0]
    assert len(token) >= 32
    assert token not in table_text(real_client)
    stored = sessions.store.read_session(token_hash(token))
    assert stored is not None
    assert stored[0]["operator_player_id"] == "player-42"
    assert stored[1] == int(NOW) + 600


@pytest.mark.parametrize(("lang", "query"), [(None, None), ("en", ["en"]), ("ko", ["ko"])])
def test_launch_url_carries_the_language_the_operator_names(
    world: World, lang: str | None, query: list[str] | None
) -> None:
    operators, sessions, _, clock = world
    op = operators.provision(json.dumps(SETTINGS).encode())
    body = {"operator_player_id": "p", "currency": "KRW"} | ({"lang": lang} if lang else {})
    answer = sessions.launch(signed_launch(op["operator_id"], op["api_key"], op["hmac_secret"], body, clock.now), "x")
    params = parse_qs(urlsplit(answer["launch_url"]).query)
    assert params.get("lang") == query
    assert set(params) == {"session"} | ({"lang"} if lang else set())


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"currency": "EUR"}, 403, "CURRENCY_NOT_ALLOWED"),
        ({"lang": "fr"}, 400, "INVALID_REQUEST"),
        ({"lang": "KO"}, 400, "INVALID_REQUEST"),
        ({"ttl_seconds": 10}, 400, "INVALID_REQUEST"),
        ({"operator_player_id": ""}, 400, "INVALID_REQUEST"),
        ({"balance_minor": -1}, 400, "INVALID_REQUEST"),
    ],
)
def test_launch_refusals(
    world: World,
    real_client: Any,
    change: dict[str, Any],
    status: int,
    code: str,
) -> None:
    operators, sessions, _, clock = world
    op = operators.provision(json.dumps(SETTINGS).encode())
    body = {"operator_player_id": "p", "currency": "USD", **change}
    before = table_text(real_client)
    with pytest.raises(CroupierError) as refused:
        sessions.launch(
            signed_launch(op["operator_id"], op["api_key"], op["hmac_secret"], body, clock.now), "https://x"
        )
    assert (refused.value.status, refused.value.code) == (status, code)
    assert table_text(real_client) == before


def test_launch_signature_checks_ignore_x_operator_hmac(
    world: World,
) -> None:
    operators, sessions, _, clock = world
    op = operators.provision(json.dumps(SETTINGS).encode())
    body = {"operator_player_id": "p", "currency": "USD"}
    good = signed_launch(op["operator_id"], op["api_key"], op["hmac_secret"], body, clock.now)
    forged = signed_launch(op["operator_id"], op["api_key"], "not-the-secret", body, clock.now)
    with_raw_secret = RawRequest.of(
        "POST",
        forged.path_with_query,
        {**dict(forged.headers.items()), "X-Operator-Hmac": op["hmac_secret"]},
        forged.body,
    )
    assert sessions.launch(good, "https://x")["ok"] is True
    for request, code in ((with_raw_secret, "SIGNATURE_INVALID"),):
        with pytest.raises(CroupierError) as refused:
            sessions.launch(request, "https://x")
        assert (refused.value.status, refused.value.code) == (401, code)
    stale = signed_launch(op["operator_id"], op["api_key"], op["hmac_secret"], body, clock.now - 301)
    with pytest.raises(CroupierError) as refused:
        sessions.launch(stale, "https://x")
    assert (refused.value.status, refused.value.code) == (401, "TIMESTAMP_STALE")
