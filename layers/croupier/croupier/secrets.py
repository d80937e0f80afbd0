"""Where secrets live: AWS Secrets Manager, in AWS and on the local stack alike (there, moto's server seeded with
the dev-only secrets). A JSON file store remains for tools that run with no AWS endpoint at all.

Secret names are relative (``ruby/team``, ``ruby/brands/<api_key>``); the AWS store prefixes them with
``SECRETS_PREFIX`` (``croupier/<stage>/``). Values are JSON objects. Nothing here logs a value.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from croupier.lru import BoundedLru

SECRETS_FILE_ENV = "CROUPIER_SECRETS_FILE"
SECRETS_PREFIX_ENV = "SECRETS_PREFIX"
DEFAULT_CACHE_SECONDS = 300
MAX_CACHED_SECRETS = 1000
DEFAULT_MAX_ABSENT_SECRETS = 1000
"""How many absent names a :class:`CachedSecrets` remembers (least recently used forgotten first)."""


class SecretNotFound(LookupError):
    """No secret of that name."""


class SecretMalformed(ValueError):
    """The secret exists but does not hold a JSON object (its value is never part of the message)."""


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


SDK_BODY_LOGGERS = ("botocore.endpoint", "botocore.parsers")
"""botocore's loggers that write whole request and response bodies at DEBUG (a secret's value among them)."""


class _RedactSecretBodies(logging.Filter):
    """Drops the body from botocore's DEBUG lines of Secrets Manager calls: at DEBUG, botocore logs every
    request's parameters and every response body, which for Secrets Manager are the secret's value."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a record that cannot be formatted is dropped rather than risked
            return False
        if "SecretString" in message or "SecretBinary" in message:
            record.msg, record.args = "[a Secrets Manager request or response body, withheld]", None
        return True


_REDACTOR = _RedactSecretBodies()


def redact_sdk_secret_logs() -> None:
    """Install the redaction on botocore's body loggers (idempotent; whoever builds a store installs it)."""
    for name in SDK_BODY_LOGGERS:
        sdk_logger = logging.getLogger(name)
        if _REDACTOR not in sdk_logger.filters:
            sdk_logger.addFilter(_REDACTOR)


class SecretsManagerStore:
    """AWS Secrets Manager through the SDK's own calls (``GetSecretValue``, ``CreateSecret``,
    ``PutSecretValue``), each value kept for ``max_age`` seconds per execution environment.

    The endpoint comes from the SDK's configuration (``AWS_ENDPOINT_URL_SECRETS_MANAGER`` on the local stack, the
    regional endpoint in AWS), so the local stack runs exactly this code against moto's server."""

    def __init__(
        self,
        prefix: str,
        *,
        max_age: float = DEFAULT_CACHE_SECONDS,
        client_factory: Callable[[], Any] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.prefix = prefix
        self.max_age = max_age
        self._client_factory = client_factory or _secretsmanager_client
        self._monotonic = monotonic
        self._cache: dict[str, tuple[float, dict[str, Any]]] = {}
        self._lock = threading.Lock()
        redact_sdk_secret_logs()

    def _full_name(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def get(self, name: str, *, fresh: bool = False) -> dict[str, Any]:
        now = self._monotonic()
        if not fresh:
            with self._lock:
                hit = self._cache.get(name)
            if hit is not None and now - hit[0] < self.max_age:
                return hit[1]
        from botocore.exceptions import ClientError

        try:
            answer = self._client_factory().get_secret_value(SecretId=self._full_name(name))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                raise SecretNotFound(name) from None
            raise
        value = _secret_object(name, answer.get("SecretString"))
        with self._lock:
            if len(self._cache) >= MAX_CACHED_SECRETS and name not in self._cache:
                self._cache.pop(next(iter(self._cache)))  # the oldest entry, never the whole cache
            self._cache[name] = (now, value)
        return value

    def put(self, name: str, value: dict[str, Any]) -> str:
        client = self._client_factory()
        full_name = self._full_name(name)
        payload = json.dumps(value, sort_keys=True)
        try:
            answer = client.create_secret(Name=full_name, SecretString=payload)
        except client.exceptions.ResourceExistsException:
            answer = client.put_secret_value(SecretId=full_name, SecretString=payload)
        with self._lock:
            self._cache.pop(name, None)  # this environment reads its own write
        return str(answer["ARN"])


def _secret_object(name: str, text: str | None) -> dict[str, Any]:
    """A secret's JSON object; anything else (binary, not JSON, not an object) is an error naming only the secret."""
    try:
        value = json.loads(text) if text is not None else None
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise SecretMalformed(f"secret {name!r} is not a JSON object")
    return value


class CachedSecrets:
    """Secrets read through any store and kept for ``ttl`` seconds, absent ones too, so that a flood of unknown
    keys (random brand or operator keys) costs at most one store read per new key, not one per request.

    Found values and absent names are kept apart, each in a bounded LRU: the absent names (at most
    ``max_absent``) can only push out other absent names, one at a time, never a known key's value nor the
    whole cache. Concurrent reads of one name that is not cached wait for a single store read. Thread-safe."""

    def __init__(
        self,
        store: SecretStore,
        *,
        ttl: float = DEFAULT_CACHE_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
        max_found: int = MAX_CACHED_SECRETS,
        max_absent: int = DEFAULT_MAX_ABSENT_SECRETS,
    ) -> None:
        self._store = store
        self._ttl = ttl
        self._monotonic = monotonic
        self._found: BoundedLru[str, tuple[float, dict[str, Any]]] = BoundedLru(max_found)
        self._absent: BoundedLru[str, float] = BoundedLru(max_absent)
        self._reading: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    def get(self, name: str) -> dict[str, Any] | None:
        while True:
            now = self._monotonic()
            with self._lock:
                found = self._found.get(name)
                if found is not None and now - found[0] < self._ttl:
                    return found[1]
                absent_since = self._absent.get(name)
                if absent_since is not None and now - absent_since < self._ttl:
                    return None
                reading = self._reading.get(name)
                if reading is None:
                    self._reading[name] = threading.Event()
            if reading is None:
                return self._read(name, now)
            reading.wait()  # another thread is reading this name: take its answer from the cache

    def absent_cached(self) -> int:
        """How many absent names are remembered now (at most ``max_absent``)."""
        return len(self._absent)

    def _read(self, name: str, now: float) -> dict[str, Any] | None:
        try:
            try:
                value: dict[str, Any] | None = self._store.get(name)
            except SecretNotFound:
                value = None
            with self._lock:
                if value is None:
                    self._found.pop(name)
                    self._absent.put(name, now)
                else:
                    self._absent.pop(name)
                    self._found.put(name, (now, value))
            return value
        finally:
            with self._lock:
                self._reading.pop(name).set()


def _secretsmanager_client() -> Any:
    from croupier import aws

    return aws.secretsmanager()


def default_store() -> SecretStore:
    """Secrets Manager under ``SECRETS_PREFIX``; a JSON file only when ``CROUPIER_SECRETS_FILE`` names one
    (an explicit fallback for runs with no Secrets Manager endpoint; the local stack does not set it)."""
    path = os.environ.get(SECRETS_FILE_ENV)
    if path:
        return FileSecretStore(path)
    return SecretsManagerStore(os.environ.get(SECRETS_PREFIX_ENV, "croupier/dev/"))
