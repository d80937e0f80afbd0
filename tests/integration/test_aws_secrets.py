"""Secrets Manager through the very code the functions use (``croupier.aws.secretsmanager`` and
``SecretsManagerStore``), against moto's server over HTTP: no file store, no stub.

The regression this guards: the store once passed ``boto3_client=`` to Powertools' ``get_secret``, which
forwarded it into ``GetSecretValue``; every read in AWS failed before reaching the network.
"""

from __future__ import annotations

import io
import json
import logging
import uuid
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError

from croupier import aws
from croupier.secrets import (
    SDK_BODY_LOGGERS,
    SecretMalformed,
    SecretNotFound,
    SecretsManagerStore,
    default_store,
)
from croupier_local.aws_services import client
from croupier_local.moto_server import MotoServer
from croupier_local.server import LocalStack
from tests.support.requests import ruby_request


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Calls:
    """Every HTTP attempt a boto3 client makes, by operation (a ``before-send`` hook)."""

    def __init__(self, sdk_client: Any) -> None:
        self.operations: list[str] = []
        self._client = sdk_client

    def hook(self, request: Any, **_: Any) -> None:
        target = request.headers.get("X-Amz-Target", b"")
        self.operations.append((target.decode() if isinstance(target, bytes) else target).rpartition(".")[2])

    def __enter__(self) -> Calls:
        self._client.meta.events.register("before-send.secrets-manager", self.hook)
        return self

    def __exit__(self, *exc: object) -> None:
        self._client.meta.events.unregister("before-send.secrets-manager", self.hook)


@pytest.fixture
def prefix() -> str:
    return f"croupier/test-{uuid.uuid4().hex[:8]}/"


@pytest.fixture
def layer_client(local_stack: LocalStack) -> Any:
    """The layer's own Secrets Manager client, as the functions build it (endpoint from the SDK's settings)."""
    return aws.secretsmanager()


@pytest.fixture
def store(layer_client: Any, prefix: str) -> SecretsManagerStore:
    return SecretsManagerStore(prefix, client_factory=aws.secretsmanager)


def test_the_layer_client_reaches_the_emulator_through_the_sdks_own_endpoint_setting(
    local_stack: LocalStack, layer_client: Any
) -> None:
    assert layer_client.meta.endpoint_url == local_stack.aws_endpoint
    assert layer_client.meta.config.read_timeout <= 2  # never botocore's 60 s inside a provider's deadline
    assert layer_client.meta.config.connect_timeout <= 1


def test_default_store_is_secrets_manager_on_the_local_stack(local_stack: LocalStack) -> None:
    store = default_store()
    assert isinstance(store, SecretsManagerStore)
    assert store.prefix == "croupier/dev/"
    assert store.get("ruby/brands/dev-ruby-brand-key")["api_secret"]  # seeded from the dev-only file


def test_put_then_get_round_trips_the_json_object(store: SecretsManagerStore, prefix: str, layer_client: Any) -> None:
    arn = store.put("a/b", {"k": "v", "n": 1})
    assert arn.startswith("arn:aws:secretsmanager:")
    assert f":secret:{prefix}a/b" in arn
    assert store.get("a/b") == {"k": "v", "n": 1}
    raw = layer_client.get_secret_value(SecretId=f"{prefix}a/b")["SecretString"]
    assert json.loads(raw) == {"k": "v", "n": 1}


def test_a_missing_secret_is_secret_not_found(store: SecretsManagerStore) -> None:
    with pytest.raises(SecretNotFound):
        store.get("nothing/here")


@pytest.mark.parametrize("stored", ["not json", "[1, 2]", '"a string"'])
def test_a_secret_that_is_not_a_json_object_is_malformed_and_its_value_not_shown(
    store: SecretsManagerStore, prefix: str, layer_client: Any, stored: str
) -> None:
    name = f"odd-{uuid.uuid4().hex[:6]}"
    layer_client.create_secret(Name=prefix + name, SecretString=stored)
    with pytest.raises(SecretMalformed) as raised:
        store.get(name)
    assert stored not in str(raised.value)


def test_put_overwrites_an_existing_secret_as_a_new_version(
    store: SecretsManagerStore, prefix: str, layer_client: Any
) -> None:
    first = store.put("rotated", {"keys": {"k1": "s1"}})
    second = store.put("rotated", {"keys": {"k1": "s1", "k2": "s2"}})
    assert first == second  # the same secret
    versions = layer_client.list_secret_version_ids(SecretId=prefix + "rotated")["Versions"]
    assert len(versions) == 2
    assert store.get("rotated") == {"keys": {"k1": "s1", "k2": "s2"}}


def test_reads_are_cached_for_max_age_and_fresh_skips_the_cache(layer_client: Any, prefix: str) -> None:
    clock = Clock()
    store = SecretsManagerStore(prefix, max_age=300, client_factory=aws.secretsmanager, monotonic=clock)
    other_environment = SecretsManagerStore(prefix, client_factory=aws.secretsmanager)
    other_environment.put("cached", {"v": 1})
    with Calls(layer_client) as calls:
        assert store.get("cached") == {"v": 1}
        assert store.get("cached") == {"v": 1}
        assert calls.operations == ["GetSecretValue"]  # the second read made no call

        other_environment.put("cached", {"v": 2})  # rotated elsewhere
        clock.now += 299
        assert store.get("cached") == {"v": 1}  # still within max_age
        assert store.get("cached", fresh=True) == {"v": 2}  # fresh reads through
        clock.now += 301
        assert store.get("cached") == {"v": 2}
    assert calls.operations.count("GetSecretValue") == 3


def test_an_environment_reads_its_own_write_at_once(store: SecretsManagerStore) -> None:
    store.put("own", {"v": 1})
    assert store.get("own") == {"v": 1}
    store.put("own", {"v": 2})
    assert store.get("own") == {"v": 2}  # not the cached {"v": 1}


def test_the_cache_is_bounded_and_evicts_one_entry_not_all(prefix: str, layer_client: Any) -> None:
    store = SecretsManagerStore(prefix, client_factory=aws.secretsmanager)
    for index in range(3):
        store.put(f"bounded/{index}", {"i": index})
    import croupier.secrets as secrets_module

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(secrets_module, "MAX_CACHED_SECRETS", 2)
        with Calls(layer_client) as calls:
            store.get("bounded/0")
            store.get("bounded/1")
            store.get("bounded/2")  # evicts bounded/0 only
            store.get("bounded/1")
            store.get("bounded/2")
        assert calls.operations == ["GetSecretValue"] * 3


def test_an_error_other_than_not_found_is_raised_not_hidden(local_stack: LocalStack) -> None:
    def unreachable() -> Any:
        return client("secretsmanager", "http://127.0.0.1:9")

    store = SecretsManagerStore("croupier/dev/", client_factory=unreachable)
    with pytest.raises(EndpointConnectionError):
        store.get("ruby/team")


def test_a_signed_ruby_callback_reads_its_brand_secret_from_secrets_manager(
    local_stack: LocalStack, layer_client: Any
) -> None:
    """The whole route: the handler's verifier gets the brand's secret with GetSecretValue (its cache cleared)."""
    from croupier.wallet import wiring

    for factory in (wiring.secrets, wiring.ruby_wallet):
        factory.cache_clear()  # a new execution environment: nothing cached yet
    with Calls(layer_client) as calls:
        answer = local_stack.handle(ruby_request("balance", {"player_id": 1}))
    assert answer.status in (200, 404), answer.body  # verified: not 401 or 500
    assert "GetSecretValue" in calls.operations


def test_a_secret_value_never_reaches_the_sdks_debug_logs(store: SecretsManagerStore, moto_server: MotoServer) -> None:
    value = f"dev-only-{uuid.uuid4().hex}"
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        store.put("logged", {"secret": value})
        store.get("logged", fresh=True)
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)
    text = buffer.getvalue()
    assert "GetSecretValue" in text or "Secrets Manager" in text  # botocore did log the calls at DEBUG
    assert value not in text
    for name in SDK_BODY_LOGGERS:
        assert logging.getLogger(name).filters
