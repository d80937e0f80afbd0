"""Shared fixtures. DynamoDB Local is started once by the test session (moto only without Java)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from croupier_local.dynamodb import LocalDynamoDB, create_tables, local_dynamodb
from croupier_local.server import LocalStack
from croupier_local.template import load_template

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def dynamodb_local() -> Iterator[LocalDynamoDB]:
    """One DynamoDB Local for the whole session, with every table of template.yaml."""
    with local_dynamodb(REPO_ROOT) as dynamodb:
        create_tables(dynamodb.endpoint_url, load_template(REPO_ROOT / "template.yaml").tables)
        yield dynamodb


@pytest.fixture(scope="session")
def local_stack(dynamodb_local: LocalDynamoDB) -> Iterator[LocalStack]:
    """Every route of template.yaml served in-process on loopback, on the session's DynamoDB Local."""
    with LocalStack(REPO_ROOT, port=0, dynamodb_endpoint=dynamodb_local.endpoint_url) as stack:
        yield stack


@pytest.fixture(autouse=True)
def _no_real_aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never reach AWS: dev-only dummy credentials unless a test sets its own."""
    for name, value in (
        ("AWS_ACCESS_KEY_ID", "dev-only-test-key"),
        ("AWS_SECRET_ACCESS_KEY", "dev-only-test-secret"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
    ):
        if name not in os.environ:
            monkeypatch.setenv(name, value)
