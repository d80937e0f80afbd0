"""Shared pieces of every signature scheme: the raw request, the verdict, and safe helpers.

This module is on the path of every request, so it uses the standard library only.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

Clock = Callable[[], float]
"""Returns the current unix time in seconds. Injected so tests can freeze or move time."""

DEFAULT_WINDOW_SECONDS = 300

_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
_UNIX_SECONDS = re.compile(r"[0-9]{1,12}")


class Failure(StrEnum):
    """Why a request did not verify. The values are stable, machine-readable codes."""

    MISSING_HEADER = "missing_header"
    MALFORMED = "malformed"
    UNKNOWN_KEY = "unknown_key"
    STALE_TIMESTAMP = "stale_timestamp"
    FUTURE_TIMESTAMP = "future_timestamp"
    EXPIRED = "expired"
    BAD_SIGNATURE = "bad_signature"


@dataclass(frozen=True, slots=True)
class Verdict:
    """The answer of a verifier: valid, or the reason why not.

    ``detail`` is safe to log and to return to the caller: it names headers, never secrets or
    signatures. ``key_id`` is the (public) key the request claimed, when it had one.
    """

    ok: bool
    reason: Failure | None = None
    detail: str = ""
    key_id: str | None = None

    def __bool__(self) -> bool:
        return self.ok

    @classmethod
    def valid(cls, key_id: str | None = None) -> Verdict:
        return cls(ok=True, key_id=key_id)

    @classmethod
    def fail(cls, reason: Failure, detail: str, key_id: str | None = None) -> Verdict:
        return cls(ok=False, reason=reason, detail=detail, key_id=key_id)


class Headers(Mapping[str, str]):
    """A read-only, case-insensitive view of HTTP headers (names compared lower-cased)."""

    __slots__ = ("_items",)

    def __init__(self, headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None) -> None:
        items: dict[str, str] = {}
        if headers is not None:
            pairs = headers.items() if isinstance(headers, Mapping) else headers
            for name, value in pairs:
                items[name.lower()] = value
        self._items = items

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._items

    def get(self, name: str, default: Any = None) -> Any:  # one lookup (Mapping.get would try, then catch)
        return self._items.get(name.lower(), default)

    def value(self, name: str) -> str | None:
        """The header's value, or None when absent (one lookup)."""
        return self._items.get(name.lower())

    def __iter__(self) -> Any:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:  # never print header values: they may carry signatures
        return f"Headers({sorted(self._items)})"


@dataclass(frozen=True, slots=True)
class RawRequest:
    """A request exactly as received: the bytes that were signed, never a re-serialisation."""

    method: str
    path_with_query: str
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""
    source_ip: str = ""
    """The caller's address as API Gateway saw it (``requestContext.http.sourceIp``); never signed."""

    @classmethod
    def of(
        cls,
        method: str,
        path_with_query: str,
        headers: Mapping[str, str] | None = None,
        body: bytes | str = b"",
    ) -> RawRequest:
        raw = body.encode("utf-8") if isinstance(body, str) else body
        return cls(method=method, path_with_query=path_with_query, headers=Headers(headers), body=raw)

    @classmethod
    def from_apigw_v2(cls, event: Mapping[str, Any]) -> RawRequest:
        """Build from an API Gateway HTTP API (payload v2.0) event, decoding a base64 body."""
        body_field = event.get("body") or ""
        body = base64.b64decode(body_field) if event.get("isBase64Encoded") else body_field.encode("utf-8")
        path = event.get("rawPath") or "/"
        query = event.get("rawQueryString") or ""
        path_with_query = f"{path}?{query}" if query else path
        http = event.get("requestContext", {}).get("http", {})
        return cls(
            method=http.get("method", ""),
            path_with_query=path_with_query,
            headers=Headers(event.get("headers") or {}),
            body=body,
            source_ip=http.get("sourceIp") or "",
        )

    @property
    def path(self) -> str:
        return self.path_with_query.split("?", 1)[0]

    @property
    def query(self) -> str:
        parts = self.path_with_query.split("?", 1)
        return parts[1] if len(parts) == 2 else ""


KEYED_CONTEXTS_KEPT = 256


@functools.lru_cache(maxsize=KEYED_CONTEXTS_KEPT)
def _keyed(key: bytes) -> hmac.HMAC:
    """An HMAC-SHA256 context that has absorbed ``key`` (its inner and outer pads): a request copies it instead of
    keying a new one. Bounded; the keys are the secrets this environment caches anyway."""
    return hmac.new(key, digestmod=hashlib.sha256)


def hmac_sha256_hex(key: bytes, message: bytes) -> str:
    mac = _keyed(key).copy()  # the keyed state copied: half the work of hmac.new(key, message) per call
    mac.update(message)
    return mac.hexdigest()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def utf8(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.encode("utf-8")


def require_header(headers: Headers, *names: str) -> str | Verdict:
    """The first present header of ``names`` (alternative spellings), or a MISSING_HEADER verdict."""
    for name in names:
        value = headers.value(name)
        if value is not None:
            return value
    return Verdict.fail(Failure.MISSING_HEADER, f"missing header {names[0]}")


def parse_hex_signature(value: str, name: str, *, prefix: str = "") -> str | Verdict:
    """Lower-cased 64-digit hex from a header value, or a MALFORMED verdict."""
    candidate = value.strip()
    if prefix:
        if not candidate.startswith(prefix):
            return Verdict.fail(Failure.MALFORMED, f"{name} must start with {prefix}")
        candidate = candidate[len(prefix) :]
    if not _HEX64.fullmatch(candidate):
        return Verdict.fail(Failure.MALFORMED, f"{name} must be 64 hexadecimal digits")
    return candidate.lower()


def parse_unix_seconds(value: str, name: str) -> int | Verdict:
    """A non-negative integer count of unix seconds, or a MALFORMED verdict."""
    candidate = value.strip()
    if not _UNIX_SECONDS.fullmatch(candidate):
        return Verdict.fail(Failure.MALFORMED, f"{name} must be unix seconds")
    return int(candidate)


def check_window(timestamp: int, now: float, window: int, name: str) -> Verdict | None:
    """None when ``timestamp`` lies within ``window`` seconds of ``now``; otherwise why not."""
    if timestamp < now - window:
        return Verdict.fail(Failure.STALE_TIMESTAMP, f"{name} is more than {window} s in the past")
    if timestamp > now + window:
        return Verdict.fail(Failure.FUTURE_TIMESTAMP, f"{name} is more than {window} s in the future")
    return None


@dataclass(frozen=True, slots=True)
class Claimed:
    """What a request's key/timestamp/signature headers claim, parsed and within the time window."""

    key: str
    timestamp: str
    signature: str


def read_key_timestamp_signature(
    headers: Headers, key_header: str, timestamp_header: str, signature_header: str, now: float, window: int
) -> Claimed | Verdict:
    """The three headers of the key + unix-seconds + hex-HMAC schemes, each checked, in a fixed order:
    present, well formed, then fresh (±``window`` s). The signature itself is the caller's to check."""
    key = headers.value(key_header)
    raw_ts = headers.value(timestamp_header)
    raw_sig = headers.value(signature_header)
    if key is None or raw_ts is None or raw_sig is None:  # the first one missing is named
        missing = next(
            n for n, v in ((key_header, key), (timestamp_header, raw_ts), (signature_header, raw_sig)) if v is None
        )
        return Verdict.fail(Failure.MISSING_HEADER, f"missing header {missing}")
    timestamp = parse_unix_seconds(raw_ts, timestamp_header)
    if isinstance(timestamp, Verdict):
        return timestamp
    signature = parse_hex_signature(raw_sig, signature_header)
    if isinstance(signature, Verdict):
        return signature
    stale = check_window(timestamp, now, window, timestamp_header)
    if stale is not None:
        return stale
    return Claimed(key=key, timestamp=raw_ts.strip(), signature=signature)


def matches_any(expected: Iterable[str], provided: str) -> bool:
    """Constant-time comparison of ``provided`` against every candidate (no early exit)."""
    provided_bytes = provided.encode("ascii")
    found = False
    for candidate in expected:
        found |= hmac.compare_digest(candidate.encode("ascii"), provided_bytes)
    return found


def decode_hex_secret(secret: str) -> bytes:
    """Hex-decode a secret with an optional ``0x`` prefix (RabbitX-style keys)."""
    text = secret[2:] if secret[:2].lower() == "0x" else secret
    try:
        return binascii.unhexlify(text)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("secret is not valid hexadecimal") from exc


def system_clock() -> float:
    return time.time()
