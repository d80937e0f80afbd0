"""``croupier rabbitx onboard`` end to end: the fake RabbitX checks the wallet's signature as the reference's
``metamask_verify`` does, and the API key, secret and JWT land in Secrets Manager (moto's server, through the
session's fixture). The wallet's private key never appears in argv, stdout, stderr or the logs."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from croupier.secrets import SecretNotFound, SecretsManagerStore
from croupier.signing import Failure
from croupier_cli.cli import NOT_STORED, main
from croupier_cli.rabbitx import RabbitXClient
from croupier_local.aws_services import secret_store
from croupier_local.moto_server import MotoServer
from tests.fakes.rabbitx_server import FakeRabbitXServer

REPO_ROOT = Path(__file__).resolve().parents[2]
PRIVATE_KEY = "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
WALLET = "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23"  # the address of PRIVATE_KEY
KEY_DIGITS = PRIVATE_KEY.removeprefix("0x")


@dataclass
class Run:
    code: int
    out: str
    err: str
    argv: list[str]

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture
def rabbit() -> Iterator[FakeRabbitXServer]:
    with FakeRabbitXServer() as server:
        yield server


@pytest.fixture
def store(moto_server: MotoServer) -> SecretsManagerStore:
    return secret_store(moto_server.endpoint_url, f"croupier/test-{uuid.uuid4().hex[:8]}/")


def onboard(
    rabbit: FakeRabbitXServer,
    store: Any,
    *extra: str,
    environ: Mapping[str, str] | None = None,
    stdin: str = "",
    caplog: pytest.LogCaptureFixture | None = None,
) -> Run:
    argv = ["rabbitx", "onboard", "--api-url", rabbit.url, *extra]
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, store=store, environ=environ or {}, stdout=out, stderr=err, stdin=io.StringIO(stdin))
    result = Run(code, out.getvalue(), err.getvalue(), argv)
    for where in (" ".join(argv), result.out, result.err, caplog.text if caplog else ""):
        assert KEY_DIGITS not in where.lower()
    return result


def assert_stored(store: SecretsManagerStore, rabbit: FakeRabbitXServer, profile: str = "default") -> dict[str, Any]:
    given = rabbit.onboarded[WALLET]
    stored = store.get(f"rabbitx/{profile}")
    assert stored == {
        "api_url": rabbit.url,
        "api_key": given["api_key"],
        "api_secret": given["api_secret"],
        "jwt": given["jwt"],
        "wallet": WALLET,
        "profile_id": given["profile"]["id"],
    }
    return stored


def test_onboard_with_the_key_in_a_file_stores_the_secret_and_prints_none_of_it(
    rabbit: FakeRabbitXServer, store: SecretsManagerStore, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    key_file = tmp_path / "wallet.key"
    key_file.write_text(PRIVATE_KEY + "\n", encoding="utf-8")
    caplog.set_level(logging.DEBUG)

    result = onboard(rabbit, store, "--private-key-file", str(key_file), caplog=caplog)

    assert result.code == 0, result.err
    [request] = rabbit.requests
    assert (request.method, request.path, request.verified) == ("POST", "/onboarding", True)
    stored = assert_stored(store, rabbit)
    shown = result.json()
    assert shown["api_key"] == stored["api_key"]
    assert shown["wallet"] == WALLET
    assert shown["api_secret"].startswith("<stored in arn:aws:secretsmanager:")
    assert stored["api_secret"] not in result.out + result.err + caplog.text
    assert stored["jwt"] not in result.out + result.err + caplog.text
    assert "rabbitx/default" in result.err

    client = RabbitXClient.from_secret(stored, timeout=5)  # the stored key and secret sign requests
    client.get("/markets")
    assert rabbit.requests[-1].verified


def test_onboard_with_the_key_in_the_environment(rabbit: FakeRabbitXServer, store: SecretsManagerStore) -> None:
    result = onboard(rabbit, store, "--profile", "desk-1", environ={"RABBITX_PRIVATE_KEY": PRIVATE_KEY})

    assert result.code == 0, result.err
    assert_stored(store, rabbit, "desk-1")


def test_onboard_with_the_key_in_a_named_environment_variable(
    rabbit: FakeRabbitXServer, store: SecretsManagerStore
) -> None:
    result = onboard(rabbit, store, "--private-key-env", "MY_WALLET", environ={"MY_WALLET": KEY_DIGITS})

    assert result.code == 0, result.err
    assert_stored(store, rabbit)


def test_onboard_prompts_for_the_key_when_none_is_given(rabbit: FakeRabbitXServer, store: SecretsManagerStore) -> None:
    result = onboard(rabbit, store, stdin=PRIVATE_KEY + "\n")

    assert result.code == 0, result.err
    assert "wallet private key" in result.err
    assert_stored(store, rabbit)


def test_show_secret_prints_the_secret_and_jwt_once(rabbit: FakeRabbitXServer, store: SecretsManagerStore) -> None:
    result = onboard(rabbit, store, "--show-secret", stdin=PRIVATE_KEY)

    stored = assert_stored(store, rabbit)
    assert result.out.count(stored["api_secret"]) == result.out.count(stored["jwt"]) == 1
    assert stored["api_secret"] not in result.err


@pytest.mark.parametrize(
    ("extra", "environ", "stdin", "complaint"),
    [
        ([], {}, "", "no wallet private key"),
        (["--private-key-env", "NOPE"], {}, PRIVATE_KEY, "NOPE"),
        (["--private-key-file", "/nonexistent/wallet.key"], {}, "", "--private-key-file"),
        ([], {"RABBITX_PRIVATE_KEY": "0x1234"}, "", "64 hexadecimal digits"),
        ([], {"RABBITX_PRIVATE_KEY": "0x" + "00" * 32}, "", "not a valid"),
        (["--profile", "../x"], {"RABBITX_PRIVATE_KEY": PRIVATE_KEY}, "", "--profile"),
    ],
)
def test_bad_input_is_one_line_and_sends_nothing(
    rabbit: FakeRabbitXServer,
    store: SecretsManagerStore,
    extra: list[str],
    environ: dict[str, str],
    stdin: str,
    complaint: str,
) -> None:
    result = onboard(rabbit, store, *extra, environ=environ, stdin=stdin)

    assert result.code == 1
    assert result.out == ""
    assert complaint in result.err.splitlines()[-1]
    assert rabbit.requests == []


@pytest.mark.parametrize("typed", [["--private-key", PRIVATE_KEY], [f"--private-key={PRIVATE_KEY}"], [KEY_DIGITS]])
def test_the_key_is_never_an_argument_and_a_usage_error_does_not_repeat_it(
    rabbit: FakeRabbitXServer, store: SecretsManagerStore, typed: list[str]
) -> None:
    out, err = io.StringIO(), io.StringIO()
    code = main(["rabbitx", "onboard", "--api-url", rabbit.url, *typed], store=store, stdout=out, stderr=err)
    assert code == 2
    assert KEY_DIGITS not in (out.getvalue() + err.getvalue()).lower()
    assert rabbit.requests == []


def test_an_onboarding_the_fake_refuses_stores_nothing(rabbit: FakeRabbitXServer, store: SecretsManagerStore) -> None:
    """The fake's check can fail: an onboarding expired by the server's clock gets 401, and nothing lands."""
    rabbit.clock = lambda: time.time() + 3600
    result = onboard(rabbit, store, environ={"RABBITX_PRIVATE_KEY": PRIVATE_KEY})

    assert result.code == 1
    assert "401" in result.err
    assert rabbit.requests[0].failure is Failure.EXPIRED
    with pytest.raises(SecretNotFound):
        store.get("rabbitx/default")


class BrokenStore:
    def put(self, name: str, value: dict[str, Any]) -> str:
        raise OSError("throttled")

    def get(self, name: str, *, fresh: bool = False) -> dict[str, Any]:
        raise SecretNotFound(name)


def test_a_failing_store_shows_the_secret_once_on_stderr_and_fails(rabbit: FakeRabbitXServer) -> None:
    out, err = io.StringIO(), io.StringIO()
    argv = ["rabbitx", "onboard", "--api-url", rabbit.url]
    code = main(argv, store=BrokenStore(), environ={"RABBITX_PRIVATE_KEY": PRIVATE_KEY}, stdout=out, stderr=err)

    given = rabbit.onboarded[WALLET]
    assert code == 1
    assert err.getvalue().count(given["api_secret"]) == 1
    assert "WARNING" in err.getvalue()
    assert "throttled" in err.getvalue()
    assert json.loads(out.getvalue())["api_secret"] == NOT_STORED
    assert given["api_secret"] not in out.getvalue()
    assert KEY_DIGITS not in (out.getvalue() + err.getvalue()).lower()


def test_the_installed_command_reads_the_key_from_stdin_and_writes_to_secrets_manager(
    rabbit: FakeRabbitXServer, moto_server: MotoServer
) -> None:
    """The real process and default store: SECRETS_PREFIX and the SDK's endpoint setting, as an operator runs it."""
    prefix = f"croupier/test-{uuid.uuid4().hex[:8]}/"
    env = {
        **{k: v for k, v in os.environ.items() if k != "RABBITX_PRIVATE_KEY"},
        "PYTHONPATH": os.pathsep.join(str(REPO_ROOT / p) for p in ("layers/croupier", "cli", "local", ".")),
        "AWS_ENDPOINT_URL_SECRETS_MANAGER": moto_server.endpoint_url,
        "SECRETS_PREFIX": prefix,
        "AWS_ACCESS_KEY_ID": "devonlytestkey",
        "AWS_SECRET_ACCESS_KEY": "devonlytestsecret",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    env.pop("CROUPIER_SECRETS_FILE", None)
    argv = [sys.executable, "-m", "croupier_cli", "rabbitx", "onboard", "--api-url", rabbit.url]
    done = subprocess.run(argv, input=PRIVATE_KEY + "\n", capture_output=True, text=True, env=env, timeout=60)

    assert done.returncode == 0, done.stderr
    for where in (" ".join(argv), done.stdout, done.stderr):
        assert KEY_DIGITS not in where.lower()
    stored = secret_store(moto_server.endpoint_url, prefix).get("rabbitx/default")
    assert stored["api_key"] == json.loads(done.stdout)["api_key"] == rabbit.onboarded[WALLET]["api_key"]


class WatchingStore:
    """Secrets Manager, noting what stdout held when the secret was put."""

    def __init__(self, inner: SecretsManagerStore, stdout: io.StringIO) -> None:
        self.inner, self.stdout = inner, stdout
        self.printed_before_put: str | None = None

    def put(self, name: str, value: dict[str, Any]) -> str:
        self.printed_before_put = self.stdout.getvalue()
        return self.inner.put(name, value)

    def get(self, name: str, *, fresh: bool = False) -> dict[str, Any]:
        return self.inner.get(name, fresh=fresh)


def test_the_secret_is_stored_before_anything_is_printed(rabbit: FakeRabbitXServer, store: SecretsManagerStore) -> None:
    out, err = io.StringIO(), io.StringIO()
    watching = WatchingStore(store, out)
    argv = ["rabbitx", "onboard", "--api-url", rabbit.url, "--show-secret"]

    code = main(argv, store=watching, environ={"RABBITX_PRIVATE_KEY": PRIVATE_KEY}, stdout=out, stderr=err)

    assert code == 0, err.getvalue()
    assert watching.printed_before_put == ""
    assert json.loads(out.getvalue())["api_secret"] == rabbit.onboarded[WALLET]["api_secret"]
