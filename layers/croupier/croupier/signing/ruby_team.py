"""Ruby Team API (we call Ruby): ``HMAC(secret, ts + METHOD + path_with_query + raw_body)``.

No separators; the method upper-cased; the query string signed exactly as sent; GET has an empty body.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from croupier.signing._core import (
    DEFAULT_WINDOW_SECONDS,
    Clock,
    Failure,
    RawRequest,
    Verdict,
    hmac_sha256_hex,
    matches_any,
    read_key_timestamp_signature,
    system_clock,
    utf8,
)

KEY_HEADER = "X-Team-Key"
TIMESTAMP_HEADER = "X-Team-Timestamp"
SIGNATURE_HEADER = "X-Team-Signature"


def message(timestamp: int | str, method: str, path_with_query: str, body: bytes | str) -> bytes:
    return f"{timestamp}{method.upper()}{path_with_query}".encode() + utf8(body)


def sign(secret: str, timestamp: int | str, method: str, path_with_query: str, body: bytes | str = b"") -> str:
    return hmac_sha256_hex(utf8(secret), message(timestamp, method, path_with_query, body))


def headers(
    key: str, secret: str, method: str, path_with_query: str, body: bytes | str = b"", *, clock: Clock = system_clock
) -> dict[str, str]:
    timestamp = int(clock())
    return {
        KEY_HEADER: key,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(secret, timestamp, method, path_with_query, body),
    }


def verify(
    request: RawRequest,
    secrets_for: Callable[[str], Sequence[str]],
    *,
    clock: Clock = system_clock,
    window: int = DEFAULT_WINDOW_SECONDS,
) -> Verdict:
    """Verify a Team API request as Ruby would (used by test servers and by anyone proxying Ruby)."""
    claimed = read_key_timestamp_signature(
        request.headers, KEY_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER, clock(), window
    )
    if isinstance(claimed, Verdict):
        return claimed
    secrets = secrets_for(claimed.key)
    if not secrets:
        return Verdict.fail(Failure.UNKNOWN_KEY, f"unknown {KEY_HEADER}")
    expected = [sign(s, claimed.timestamp, request.method, request.path_with_query, request.body) for s in secrets]
    if not matches_any(expected, claimed.signature):
        return Verdict.fail(Failure.BAD_SIGNATURE, f"{SIGNATURE_HEADER} does not match", key_id=claimed.key)
    return Verdict.valid(key_id=claimed.key)
