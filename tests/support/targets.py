"""Where an end-to-end journey sends its HTTP: the in-process local stack (``make dev``'s code) by default, or,
with ``CROUPIER_E2E_TARGET=sam-api``, the API that ``make sam-api`` serves from Lambda containers (its
endpoints read from the ``.local/sam-api.json`` it writes)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from croupier.secrets import SecretStore
from croupier_local import aws_services

TARGET_ENV = "CROUPIER_E2E_TARGET"
SAM_API_FILE = Path(".local") / "sam-api.json"


class ApiTarget(Protocol):
    @property
    def base_url(self) -> str: ...

    @property
    def secret_store(self) -> SecretStore: ...


@dataclass(frozen=True)
class RemoteTarget:
    """A running API with its emulators: its URL, its Secrets Manager and its DynamoDB (for the test's own
    look behind the server's back)."""

    base_url: str
    aws_endpoint: str
    dynamodb_endpoint: str
    secrets_prefix: str

    @property
    def secret_store(self) -> SecretStore:
        return aws_services.secret_store(self.aws_endpoint, self.secrets_prefix)

    def dynamodb(self) -> Any:
        return aws_services.client("dynamodb", self.dynamodb_endpoint)


def sam_api_target(repo_root: Path) -> RemoteTarget:
    path = repo_root / SAM_API_FILE
    if not path.is_file():
        raise RuntimeError(f"{TARGET_ENV}=sam-api but no {path}: start `make sam-api` first")
    document = json.loads(path.read_text(encoding="utf-8"))
    return RemoteTarget(
        base_url=os.environ.get("CROUPIER_E2E_BASE_URL") or document["base_url"],
        aws_endpoint=document["aws_endpoint"],
        dynamodb_endpoint=document["dynamodb_endpoint"],
        secrets_prefix=document["secrets_prefix"],
    )
