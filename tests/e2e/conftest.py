"""The journeys' target: the in-process local stack, or ``make sam-api`` (``CROUPIER_E2E_TARGET=sam-api``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from croupier_local.server import LocalStack
from tests.support.targets import TARGET_ENV, RemoteTarget, sam_api_target

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def api(request: pytest.FixtureRequest) -> LocalStack | RemoteTarget:
    """Where the journeys send their requests: ``make dev``'s stack in process (its HTTP server on loopback), or
    the API ``make sam-api`` serves from Lambda containers."""
    target = os.environ.get(TARGET_ENV, "dev")
    if target == "sam-api":
        return sam_api_target(REPO_ROOT)
    if target != "dev":
        raise pytest.UsageError(f"{TARGET_ENV} must be dev or sam-api, not {target!r}")
    stack: LocalStack = request.getfixturevalue("local_stack")
    return stack
