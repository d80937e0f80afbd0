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
    hmac_sha256_hex,
    matches_any,
    read_key_timestamp_signature,
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
    claimed = read_key_timestamp_signature(
        request.headers, KEY_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER, clock(), window
    )
    if isinstance(claimed, Verdict):
        return claimed
    secrets = secrets_for(claimed.key)
    if not secrets:
        return Verdict.fail(Failure.UNKNOWN_KEY, f"unknown {KEY_HEADER}")
    expected = [sign(s, request.body, claimed.timestamp) for s in secrets]
    if not matches_any(expected, claimed.signature):
        return Verdict.fail(Failure.BAD_SIGNATURE, f"{SIGNATURE_HEADER} does not match", key_id=claimed.key)
    return Verdict.valid(key_id=claimed.key)
