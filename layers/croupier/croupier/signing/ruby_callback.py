"""Ruby seamless-wallet callbacks (Ruby calls us): ``HMAC(brand_secret, raw_body + timestamp)``.

The key is the **brand's** api secret; the body comes first; |now - ts| must be at most 300 s.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from croupier.signing._core import (
    DEFAULT_WINDOW_SECONDS,
    Clock,
    Failure,
    RawRequest,
    Verdict,
    check_window,
    hmac_sha256_hex,
    matches_any,
    parse_hex_signature,
    parse_unix_seconds,
    require_header,
    system_clock,
    utf8,
)

KEY_HEADER = "X-Aggregator-Key"
TIMESTAMP_HEADER = "X-Aggregator-Timestamp"
SIGNATURE_HEADER = "X-Aggregator-Signature"


def sign(secret: str, body: bytes | str, timestamp: int | str) -> str:
    return hmac_sha256_hex(utf8(secret), utf8(body) + str(timestamp).encode("ascii"))


def headers(key: str, secret: str, body: bytes | str, *, clock: Clock = system_clock) -> dict[str, str]:
    timestamp = str(int(clock()))
    return {KEY_HEADER: key, TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: sign(secret, body, timestamp)}


def verify(
    request: RawRequest,
    secrets_for: Callable[[str], Sequence[str]],
    *,
    clock: Clock = system_clock,
    window: int = DEFAULT_WINDOW_SECONDS,
) -> Verdict:
    """``secrets_for(brand_key)`` returns the brand's secret(s); empty for an unknown key."""
    key = require_header(request.headers, KEY_HEADER)
    if isinstance(key, Verdict):
        return key
    raw_ts = require_header(request.headers, TIMESTAMP_HEADER)
    if isinstance(raw_ts, Verdict):
        return raw_ts
    raw_sig = require_header(request.headers, SIGNATURE_HEADER)
    if isinstance(raw_sig, Verdict):
        return raw_sig
    timestamp = parse_unix_seconds(raw_ts, TIMESTAMP_HEADER)
    if isinstance(timestamp, Verdict):
        return timestamp
    signature = parse_hex_signature(raw_sig, SIGNATURE_HEADER)
    if isinstance(signature, Verdict):
        return signature
    stale = check_window(timestamp, clock(), window, TIMESTAMP_HEADER)
    if stale is not None:
        return stale
    secrets = secrets_for(key)
    if not secrets:
        return Verdict.fail(Failure.UNKNOWN_KEY, f"unknown {KEY_HEADER}")
    expected = [sign(s, request.body, raw_ts.strip()) for s in secrets]
    if not matches_any(expected, signature):
        return Verdict.fail(Failure.BAD_SIGNATURE, f"{SIGNATURE_HEADER} does not match", key_id=key)
    return Verdict.valid(key_id=key)
