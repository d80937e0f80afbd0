"""``croupier ruby ...`` end to end against the fake Ruby, with a temporary file secret store."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from croupier.secrets import FileSecretStore, SecretNotFound
from croupier_cli.cli import NOT_STORED, main
from tests.fakes.ruby_server import TEAM_KEY, TEAM_SECRET, FakeRubyServer

CALLBACK = "https://api.croupier.example/ruby"


@dataclass
class Run:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture
def ruby() -> Iterator[FakeRubyServer]:
    with FakeRubyServer() as server:
        yield server


@pytest.fixture
def store(tmp_path: Path, ruby: FakeRubyServer) -> FileSecretStore:
    secrets = FileSecretStore(tmp_path / "secrets.json")
    secrets.put("ruby/team", {"api_url": ruby.url, "team_key": TEAM_KEY, "team_secret": TEAM_SECRET})
    return secrets


def run(*argv: str, store: Any, environ: Mapping[str, str] | None = None) -> Run:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), store=store, environ=environ or {}, stdout=out, stderr=err)
    result = Run(code, out.getvalue(), err.getvalue())
    assert TEAM_SECRET not in result.out + result.err
    return result


def create_args(*extra: str) -> list[str]:
    return ["ruby", "brand", "create", "--name", "Lucky", "--code", "lucky", "--wallet-mode", "seamless",
            "--callback-url", CALLBACK, *extra]  # fmt: skip


# --- brand create and its one-time secret ----------------------------------------------------------


def test_brand_create_stores_the_secret_and_does_not_print_it(ruby: FakeRubyServer, store: FileSecretStore) -> None:
    result = run(*create_args(), store=store)

    assert result.code == 0, result.err
    brand = result.json()
    secret = ruby.brand_secrets[brand["api_key"]]
    assert secret not in result.out
    assert secret not in result.err
    assert brand["api_secret"] == f"<stored in {store.path}>"
    assert (brand["id"], brand["code"], brand["wallet_mode"]) == (1, "lucky", "seamless")
    assert store.get(f"ruby/brands/{brand['api_key']}") == {
        "api_key": brand["api_key"],
        "api_secret": secret,
        "brand_id": 1,
        "code": "lucky",
        "currency": "KRW",
        "wallet_mode": "seamless",
    }


def test_brand_create_show_secret_prints_it(ruby: FakeRubyServer, store: FileSecretStore) -> None:
    result = run(*create_args("--show-secret"), store=store)

    assert result.code == 0
    brand = result.json()
    secret = ruby.brand_secrets[brand["api_key"]]
    assert brand["api_secret"] == secret
    assert store.get(f"ruby/brands/{brand['api_key']}")["api_secret"] == secret


class StoreThatWatchesStdout:
    """Team credentials from a real store; ``put`` records whether anything was printed before it."""

    def __init__(self, inner: FileSecretStore, stdout: io.StringIO) -> None:
        self.inner = inner
        self.stdout = stdout
        self.printed_before_put: str | None = None

    def get(self, name: str) -> dict[str, Any]:
        return self.inner.get(name)

    def put(self, name: str, value: dict[str, Any]) -> str:
        self.printed_before_put = self.stdout.getvalue()
        return self.inner.put(name, value)


def test_the_secret_is_stored_before_anything_is_printed(store: FileSecretStore) -> None:
    out, err = io.StringIO(), io.StringIO()
    watching = StoreThatWatchesStdout(store, out)

    code = main(create_args(), store=watching, environ={}, stdout=out, stderr=err)

    assert code == 0
    assert watching.printed_before_put == ""
    assert json.loads(out.getvalue())["id"] == 1


class BrokenStore:
    def __init__(self, inner: FileSecretStore) -> None:
        self.inner = inner

    def get(self, name: str) -> dict[str, Any]:
        return self.inner.get(name)

    def put(self, name: str, value: dict[str, Any]) -> str:
        raise OSError("disk full")


def test_a_failing_store_shows_the_secret_once_on_stderr_and_fails(
    ruby: FakeRubyServer, store: FileSecretStore
) -> None:
    result = run(*create_args(), store=BrokenStore(store))

    assert result.code != 0
    brand = result.json()
    secret = ruby.brand_secrets[brand["api_key"]]
    assert result.err.count(secret) == 1
    assert "WARNING" in result.err
    assert "disk full" in result.err
    assert f"ruby/brands/{brand['api_key']}" in result.err
    assert secret not in result.out
    assert brand["api_secret"] == NOT_STORED
    with pytest.raises(SecretNotFound):
        store.get(f"ruby/brands/{brand['api_key']}")


def test_brand_create_invalid_input_fails_with_one_line_and_sends_nothing(
    ruby: FakeRubyServer, store: FileSecretStore
) -> None:
    args = create_args()
    args[args.index(CALLBACK)] = CALLBACK + "/"

    result = run(*args, store=store)

    assert result.code == 1
    assert result.out == ""
    assert result.err.count("\n") == 1
    assert "slash" in result.err
    assert ruby.requests == []


def test_brand_create_timeout_says_the_brand_may_exist(ruby: FakeRubyServer, store: FileSecretStore) -> None:
    ruby.slow_down(2.0)

    result = run("ruby", "--timeout", "0.2", *create_args()[1:], store=store)

    assert result.code == 1
    assert "brand list" in result.err
    assert len(ruby.requests) == 1


def test_a_duplicate_code_is_a_one_line_error(ruby: FakeRubyServer, store: FileSecretStore) -> None:
    ruby.add_brand("lucky")

    result = run(*create_args(), store=store)

    assert result.code == 1
    assert result.err.count("\n") == 1
    assert "409" in result.err
    assert "BRAND_CODE_EXISTS" in result.err


# --- the other commands ----------------------------------------------------------------------------


def test_brand_list_one_page(ruby: FakeRubyServer, store: FileSecretStore) -> None:
    for n in range(5):
        ruby.add_brand(f"b{n}")

    result = run("ruby", "brand", "list", "--page", "2", "--size", "2", store=store)

    assert result.code == 0
    page = result.json()
    assert (page["total"], page["page"], page["page_size"]) == (5, 2, 2)
    assert [b["code"] for b in page["items"]] == ["b2", "b3"]
    assert page["items"][0]["balance"] == "0.00"


def test_brand_list_all_walks_every_page(ruby: FakeRubyServer, store: FileSecretStore) -> None:
    for n in range(5):
        ruby.add_brand(f"b{n}")

    result = run("ruby", "brand", "list", "--all", "--size", "2", store=store)

    assert result.code == 0
    assert [b["code"] for b in result.json()] == [f"b{n}" for n in range(5)]
    assert len(ruby.requests) == 3


def test_brand_update_status_and_set(ruby: FakeRubyServer, store: FileSecretStore) -> None:
    brand = ruby.add_brand("b")

    result = run(
        "ruby", "brand", "update", str(brand["id"]), "--status", "0", "--set", f"callback_url={CALLBACK}",
        store=store,
    )  # fmt: skip

    assert result.code == 0, result.err
    assert ruby.requests[0].json() == {"callback_url": CALLBACK, "status": 0}
    assert result.json()["status"] == 0
    assert ruby.brands[brand["id"]]["callback_url"] == CALLBACK


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["--status", "0", "--set", "status=1"], "status"),
        ([], "nothing to update"),
        (["--set", "name=a", "--set", "name=b"], "twice"),
    ],
)
def test_brand_update_conflicts(ruby: FakeRubyServer, store: FileSecretStore, args: list[str], complaint: str) -> None:
    result = run("ruby", "brand", "update", "1", *args, store=store)

    assert result.code == 1
    assert complaint in result.err
    assert ruby.requests == []


def test_brand_recharge_sends_a_decimal_string(ruby: FakeRubyServer, store: FileSecretStore) -> None:
    brand = ruby.add_brand("t")

    result = run("ruby", "brand", "recharge", str(brand["id"]), "--amount", "100.00", store=store)

    assert result.code == 0, result.err
    assert ruby.requests[0].body == b'{"amount":"100.00"}'
    assert result.json()["balance"] == "100.00"


@pytest.mark.parametrize("option", [["--size", "0"], ["--page", "0"], ["--all", "--size", "101"]])
def test_out_of_range_paging_is_refused_not_defaulted(
    ruby: FakeRubyServer, store: FileSecretStore, option: list[str]
) -> None:
    result = run("ruby", "brand", "list", *option, store=store)

    assert result.code == 1
    assert "page" in result.err or "size" in result.err
    assert ruby.requests == []


def test_brand_recharge_rejects_a_non_number(ruby: FakeRubyServer, store: FileSecretStore) -> None:
    result = run("ruby", "brand", "recharge", "1", "--amount", "lots", store=store)

    assert result.code == 1
    assert ruby.requests == []


def test_player_list_get_and_missing(ruby: FakeRubyServer, store: FileSecretStore) -> None:
    brand = ruby.add_brand("b")
    kim = ruby.add_player(brand["id"], "kim", balance="1250.00")
    ruby.add_player(brand["id"], "lee")

    listed = run("ruby", "player", "list", "--brand-id", str(brand["id"]), "--username", "ki", store=store)
    got = run("ruby", "player", "get", str(kim["id"]), store=store)
    missing = run("ruby", "player", "get", "424242", store=store)

    assert [p["username"] for p in listed.json()["items"]] == ["kim"]
    assert got.json()["balance"] == "1250.00"
    assert missing.code == 1
    assert "404" in missing.err


def test_player_list_all(ruby: FakeRubyServer, store: FileSecretStore) -> None:
    for n in range(3):
        ruby.add_player(1, f"p{n}")

    result = run("ruby", "player", "list", "--all", "--size", "1", store=store)

    assert [p["username"] for p in result.json()] == ["p0", "p1", "p2"]


@pytest.mark.parametrize(("resource", "path"), [("bet", "/api/bet/list"), ("sports-bet", "/api/sports-bet/list")])
def test_bet_lists(ruby: FakeRubyServer, store: FileSecretStore, resource: str, path: str) -> None:
    sports = resource == "sports-bet"
    ruby.add_bet(sports=sports, status=1, round_id="settled")
    ruby.add_bet(sports=sports, status=0, round_id="pending")

    page = run("ruby", resource, "list", "--status", "1", store=store)
    every = run("ruby", resource, "list", "--all", store=store)

    assert [b["round_id"] for b in page.json()["items"]] == ["settled"]
    assert [b["round_id"] for b in every.json()] == ["settled", "pending"]
    assert {r.path for r in ruby.requests} == {path}
    assert ruby.requests[0].params["status"] == "1"


# --- credentials -----------------------------------------------------------------------------------


def test_environment_overrides_the_store(ruby: FakeRubyServer, tmp_path: Path) -> None:
    empty = FileSecretStore(tmp_path / "empty.json")
    environ = {"RUBY_API_URL": ruby.url, "RUBY_TEAM_KEY": TEAM_KEY, "RUBY_TEAM_SECRET": TEAM_SECRET}

    result = run("ruby", "brand", "list", store=empty, environ=environ)

    assert result.code == 0, result.err
    assert result.json()["total"] == 0


def test_a_wrong_secret_from_the_environment_is_401_and_never_printed(
    ruby: FakeRubyServer, store: FileSecretStore
) -> None:
    result = run("ruby", "brand", "list", store=store, environ={"RUBY_TEAM_SECRET": "wrong-secret-value"})

    assert result.code == 1
    assert "401" in result.err
    assert "wrong-secret-value" not in result.err + result.out


def test_no_credentials_anywhere_is_a_clear_error(tmp_path: Path) -> None:
    result = run("ruby", "brand", "list", store=FileSecretStore(tmp_path / "empty.json"))

    assert result.code == 1
    assert "RUBY_TEAM_KEY" in result.err
    assert result.err.count("\n") == 1


# --- usage -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["ruby"],
        ["ruby", "brand", "create", "--code", "c", "--wallet-mode", "transfer"],
        ["ruby", "brand", "create", "--name", "n", "--code", "c", "--wallet-mode", "hybrid"],
        ["ruby", "brand", "list", "--page", "1", "--all"],
        ["ruby", "brand", "update", "seven", "--status", "0"],
        ["ruby", "brand", "update", "1", "--set", "no-equals-sign"],
        ["ruby", "bet", "list", "--status", "7"],
        ["nonsense"],
    ],
)
def test_usage_errors_exit_2(ruby: FakeRubyServer, store: FileSecretStore, argv: list[str]) -> None:
    result = run(*argv, store=store)

    assert result.code == 2
    assert "usage:" in result.err
    assert result.out == ""
    assert ruby.requests == []


def test_help_exits_0(store: FileSecretStore, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"], store=store) == 0
    assert "ruby" in capsys.readouterr().out
