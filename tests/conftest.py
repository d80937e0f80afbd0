"""Shared fixtures. DynamoDB Local is started once by the test session (moto only without Java)."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from hypothesis import settings

from croupier import aws
from croupier.rgs.sealing import Sealer
from croupier_cli import cli
from croupier_local.aws_services import client as aws_client
from croupier_local.aws_services import create_seed_key
from croupier_local.dynamodb import LocalDynamoDB, create_tables, local_dynamodb
from croupier_local.moto_server import MotoServer
from croupier_local.server import LocalStack
from croupier_local.template import load_template
from tests.support.round_trips import DynamoCalls

REPO_ROOT = Path(__file__).resolve().parents[1]

# `make mutation` (--hypothesis-profile=mutation) runs the unit tests through mutmut's trampolines on a busy machine:
# no deadline there, and the same examples every run (no database either), so that two scores compare.
settings.register_profile("mutation", deadline=None, derandomize=True, database=None)


@pytest.fixture(scope="session")
def dynamodb_local() -> Iterator[LocalDynamoDB]:
    """One DynamoDB Local for the whole session, with every table of template.yaml.

    When the session ends, every balance in it is reconciled with its entries (`croupier reconcile`):
    whatever the heavy tests did, the ledger must still add up."""
    with local_dynamodb(REPO_ROOT) as dynamodb:
        create_tables(dynamodb.endpoint_url, load_template(REPO_ROOT / "template.yaml").tables)
        yield dynamodb
        out = io.StringIO()
        with pytest.MonkeyPatch.context() as env:
            env.setenv("AWS_ACCESS_KEY_ID", "devonlytestkey")
            env.setenv("AWS_SECRET_ACCESS_KEY", "devonlytestsecret")
            env.setenv("AWS_DEFAULT_REGION", "us-east-1")
            code = cli.main(
                ["reconcile", "--table", "WalletTable", "--endpoint-url", dynamodb.endpoint_url], stdout=out
            )
        assert code == 0, f"croupier reconcile found differences at the end of the session:\n{out.getvalue()}"


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    """One moto server for the whole session: Secrets Manager and SQS, reached through the AWS SDK as in AWS.
    (The layer caches its clients per process, so every stack of the session shares this endpoint.)"""
    with MotoServer() as server:
        yield server


@pytest.fixture(scope="session")
def local_stack(dynamodb_local: LocalDynamoDB, moto_server: MotoServer, rgs_seed_key: str) -> Iterator[LocalStack]:
    """Every route of template.yaml served in-process on loopback, on the session's DynamoDB Local, its secrets
    in Secrets Manager and its queues in SQS (the session's moto server), seeded with the dev-only secrets; its
    seeds sealed with the session's seed key (the rounds the integration tests leave in RgsTable too: its
    sweeper opens them)."""
    with LocalStack(
        REPO_ROOT,
        port=0,
        dynamodb_endpoint=dynamodb_local.endpoint_url,
        aws_endpoint=moto_server.endpoint_url,
        seed_key_id=rgs_seed_key,
    ) as stack:
        yield stack


@pytest.fixture(scope="module")
def real_client(dynamodb_local: LocalDynamoDB) -> Any:
    """A boto3 DynamoDB client of the test's own on the session's DynamoDB Local (botocore's default retries),
    nothing the code under test builds or caches."""
    return boto3.client(
        "dynamodb",
        endpoint_url=dynamodb_local.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="devonly",  # DynamoDB Local takes any letters-and-digits key
        aws_secret_access_key="devonly",
    )


@pytest.fixture
def calls(local_stack: LocalStack) -> Iterator[DynamoCalls]:
    """Every HTTP attempt the handlers' DynamoDB client makes during the test (a ``before-send`` hook)."""
    client = aws.dynamodb()
    recorder = DynamoCalls()
    client.meta.events.register("before-send.dynamodb", recorder.hook)
    try:
        yield recorder
    finally:
        client.meta.events.unregister("before-send.dynamodb", recorder.hook)


@pytest.fixture(autouse=True)
def _no_real_aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never reach AWS: dev-only dummy credentials unless a test sets its own."""
    for name, value in (
        ("AWS_ACCESS_KEY_ID", "devonlytestkey"),
        ("AWS_SECRET_ACCESS_KEY", "devonlytestsecret"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
    ):
        if name not in os.environ:
            monkeypatch.setenv(name, value)


@pytest.fixture(scope="session")
def rgs_seed_key(moto_server: MotoServer) -> str:
    """A KMS key on the session's moto server for the RGS's sealed seeds (as the local stack creates one)."""
    return create_seed_key(moto_server.endpoint_url)


@pytest.fixture
def rgs_sealer(moto_server: MotoServer, rgs_seed_key: str) -> Sealer:
    """A sealer of the test's own (an execution environment's: its own data key and cache) on moto's KMS."""
    return Sealer(lambda: aws_client("kms", moto_server.endpoint_url), rgs_seed_key)
