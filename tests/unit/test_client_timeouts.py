"""Every AWS client the layer creates and every outbound HTTP call has an explicit, short timeout and
bounded retries, so that no dependency that stops answering can hold a function until Lambda kills it.

Stated bounds: an AWS client connects within 1 s, reads within 2 s and tries at most twice, so one AWS call
costs at most 5 s, half of an API function's 10 s; an HTTP call made inside an API function (an operator's
wallet, a launch) waits at most 5 s; one made by the command line at most 10 s (``--timeout`` to change it).
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from croupier import aws, launch
from croupier.clients import http
from croupier.clients.operator_wallet import OperatorWalletClient
from croupier.clients.rgs import RgsClient
from croupier.clients.sportsbook import SportsbookClient
from croupier_cli.rabbitx import RabbitXClient
from croupier_cli.ruby_team import RubyTeamClient

REPO_ROOT = Path(__file__).resolve().parents[2]
AWS_CONNECT_BOUND, AWS_READ_BOUND, AWS_ATTEMPTS_BOUND, AWS_CALL_BOUND = 1.0, 2.0, 2, 5.0
LAMBDA_HTTP_BOUND, CLI_HTTP_BOUND = 5.0, 10.0
KNOWN_CONFIGS = {"CLIENT_CONFIG", "SECRETS_CONFIG"}


def sources() -> Iterator[Path]:
    for folder in ("layers", "functions"):
        yield from (REPO_ROOT / folder).rglob("*.py")


def client_calls() -> list[tuple[str, ast.Call]]:
    """Every ``….client(…)`` or ``….resource(…)`` call of boto3 in the layer and the functions."""
    found = []
    for path in sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("client", "resource")
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found.append((f"{path.relative_to(REPO_ROOT)}:{node.lineno}", node))
    return found


def test_every_boto3_client_in_the_code_is_made_with_one_of_the_reviewed_configs() -> None:
    calls = client_calls()
    assert calls  # the scan sees aws.py's clients at least
    for where, call in calls:
        config = next((k.value for k in call.keywords if k.arg == "config"), None)
        assert isinstance(config, ast.Name), f"{where}: a boto3 client without config=…"
        assert config.id in KNOWN_CONFIGS, f"{where}: config={config.id} is not a reviewed one"


def aws_factories() -> dict[str, Callable[[], Any]]:
    """Every client factory of croupier.aws (the cached functions), uncached so that nothing is kept."""
    return {
        name: value.__wrapped__
        for name, value in vars(aws).items()
        if callable(value) and hasattr(value, "cache_clear") and not name.startswith("_")
    }


def test_the_factories_are_the_ones_reviewed_here() -> None:
    assert set(aws_factories()) == {"dynamodb", "kms", "sqs", "secretsmanager"}


@pytest.mark.parametrize("name", sorted(aws_factories()))
def test_each_aws_client_has_short_timeouts_and_bounded_retries(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    config = aws_factories()[name]().meta.config
    assert config.connect_timeout <= AWS_CONNECT_BOUND
    assert config.read_timeout <= AWS_READ_BOUND
    attempts = config.retries["total_max_attempts"]
    assert 1 <= attempts <= AWS_ATTEMPTS_BOUND
    assert (config.connect_timeout + config.read_timeout) * attempts <= AWS_CALL_BOUND


def default_timeout(callable_: Callable[..., Any]) -> float:
    value = inspect.signature(callable_).parameters["timeout"].default
    assert isinstance(value, int | float), f"{callable_.__qualname__}: no default timeout"
    return float(value)


@pytest.mark.parametrize("client", [OperatorWalletClient, launch.Launcher])
def test_http_calls_made_inside_an_api_function_wait_at_most_5_s(client: Callable[..., Any]) -> None:
    """The operator's wallet (the RGS's bet, win, refund) and the launches (sportsbook, external RGS)."""
    assert default_timeout(client) <= LAMBDA_HTTP_BOUND


@pytest.mark.parametrize("client", [RubyTeamClient, RabbitXClient, SportsbookClient, RgsClient])
def test_every_provider_client_has_a_short_default_timeout(client: Callable[..., Any]) -> None:
    assert default_timeout(client) <= CLI_HTTP_BOUND
    assert http.DEFAULT_TIMEOUT_SECONDS <= CLI_HTTP_BOUND


def test_the_transport_takes_a_timeout_on_every_send() -> None:
    parameter = inspect.signature(http.UrllibTransport.send).parameters["timeout"]
    assert parameter.default is inspect.Parameter.empty  # no send without a stated timeout


@pytest.mark.parametrize("timeout", [0, -1.0, True, "5", None, float("nan")])
@pytest.mark.parametrize(
    "build",
    [
        lambda t: RgsClient("https://rgs.example", "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b", "k", "s", timeout=t),
        lambda t: OperatorWalletClient(
            "https://w.example", "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b", "k", "s", timeout=t
        ),
        lambda t: SportsbookClient("https://sb.example", "v1", "u", "p", timeout=t),
    ],
    ids=["rgs", "operator_wallet", "sportsbook"],
)
def test_every_client_refuses_a_timeout_that_is_not_a_positive_number(
    build: Callable[[Any], object], timeout: Any
) -> None:
    """One check (``clients.http.check_timeout``): the RGS and sportsbook clients took ``True`` as one second."""
    with pytest.raises(ValueError, match="timeout must be a positive number of seconds"):
        build(timeout)
