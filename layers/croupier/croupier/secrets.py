"""Where secrets live: AWS Secrets Manager in AWS, the dev-only secrets file on the local stack.

Secret names are relative (``ruby/team``, ``ruby/brands/<api_key>``); the AWS store prefixes them with
``SECRETS_PREFIX`` (``croupier/<stage>/``). Values are JSON objects. Nothing here logs a value.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any, Protocol

SECRETS_FILE_ENV = "CROUPIER_SECRETS_FILE"
SECRETS_PREFIX_ENV = "SECRETS_PREFIX"
DEFAULT_CACHE_SECONDS = 300


class SecretNotFound(LookupError):
    """No secret of that name."""


class SecretStore(Protocol):
    def get(self, name: str, *, fresh: bool = False) -> dict[str, Any]:
        """The secret's JSON object; :class:`SecretNotFound` when there is none. ``fresh`` skips any cache."""
        ...

    def put(self, name: str, value: dict[str, Any]) -> str:
        """Create or replace the secret; answers where it was stored (an ARN or a file path)."""
        ...


class FileSecretStore:
    """The local stack's store: one JSON file ``{"secrets": {name: object}}``, written atomically, mode 0600."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def _load(self) -> dict[str, Any]:
        try:
            document = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {"secrets": {}}
        if not isinstance(document, dict) or not isinstance(document.get("secrets", {}), dict):
            raise ValueError(f"{self.path} must hold a JSON object with a 'secrets' object")
        document.setdefault("secrets", {})
        return document

    def get(self, name: str, *, fresh: bool = False) -> dict[str, Any]:
        value = self._load()["secrets"].get(name)  # read from the file every time: always fresh
        if not isinstance(value, dict):
            raise SecretNotFound(name)
        return value

    def put(self, name: str, value: dict[str, Any]) -> str:
        with self._lock:
            document = self._load()
            document["secrets"][name] = value
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".secrets-", suffix=".json")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    json.dump(document, handle, indent=2, sort_keys=True)
                    handle.write("\n")
                os.chmod(tmp, 0o600)
                os.replace(tmp, self.path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        return str(self.path)


class SecretsManagerStore:
    """AWS Secrets Manager, read through Powertools parameters (cached for ``max_age`` seconds)."""

    def __init__(
        self, prefix: str, *, max_age: int = DEFAULT_CACHE_SECONDS, client_factory: Callable[[], Any] | None = None
    ) -> None:
        self.prefix = prefix
        self.max_age = max_age
        self._client_factory = client_factory or _secretsmanager_client

    def _full_name(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def get(self, name: str, *, fresh: bool = False) -> dict[str, Any]:
        from aws_lambda_powertools.utilities import parameters

        client = self._client_factory()
        try:
            value = parameters.get_secret(
                self._full_name(name), transform="json", max_age=self.max_age, boto3_client=client, force_fetch=fresh
            )
        except parameters.exceptions.GetParameterError as exc:
            if "ResourceNotFoundException" in repr(exc.__cause__ or exc):
                raise SecretNotFound(name) from None
            raise
        if not isinstance(value, dict):
            raise SecretNotFound(name)
        return value

    def put(self, name: str, value: dict[str, Any]) -> str:
        client = self._client_factory()
        full_name = self._full_name(name)
        payload = json.dumps(value, sort_keys=True)
        try:
            answer = client.create_secret(Name=full_name, SecretString=payload)
        except client.exceptions.ResourceExistsException:
            answer = client.put_secret_value(SecretId=full_name, SecretString=payload)
        return str(answer["ARN"])


class CachedSecrets:
    """Secrets read through any store and kept for ``ttl`` seconds (absent ones too, so a flood of unknown
    keys does not become a flood of store calls). Bounded; thread-safe."""

    def __init__(
        self, store: SecretStore, *, ttl: float = DEFAULT_CACHE_SECONDS, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._store = store
        self._ttl = ttl
        self._monotonic = monotonic
        self._cache: dict[str, tuple[float, dict[str, Any] | None]] = {}
        self._lock = threading.Lock()

    def get(self, name: str) -> dict[str, Any] | None:
        now = self._monotonic()
        with self._lock:
            hit = self._cache.get(name)
        if hit is not None and now - hit[0] < self._ttl:
            return hit[1]
        try:
            value: dict[str, Any] | None = self._store.get(name)
        except SecretNotFound:
            value = None
        with self._lock:
            if len(self._cache) > 1000:
                self._cache.clear()
            self._cache[name] = (now, value)
        return value


@cache
def _secretsmanager_client() -> Any:
    import boto3

    return boto3.session.Session().client("secretsmanager")


def default_store() -> SecretStore:
    """The dev secrets file when ``CROUPIER_SECRETS_FILE`` is set (local stack), else Secrets Manager."""
    path = os.environ.get(SECRETS_FILE_ENV)
    if path:
        return FileSecretStore(path)
    return SecretsManagerStore(os.environ.get(SECRETS_PREFIX_ENV, "croupier/dev/"))
