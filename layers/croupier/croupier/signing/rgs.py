"""RGS v1 (operators call the RGS; the RGS calls the operator's wallet).

``X-Signature = HMAC(hmac_secret, "{ts}.{METHOD}.{path_with_query}.{sha256_hex(raw_body)}")``. The query
string is signed too (ours), so a revenue date range cannot be altered in flight. The ``X-Operator-Hmac``
header of the upstream spec (the raw secret on the wire) is never sent and is ignored when received.
"""

from __future__ import annotations

import re
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
    sha256_hex,
    system_clock,
    utf8,
)

OPERATOR_ID_HEADER = "X-Operator-Id"
KEY_HEADER = "X-Operator-Key"
TIMESTAMP_HEADER = "X-Timestamp"
SIGNATURE_HEADER = "X-Signature"

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_API_KEY = re.compile(r"[!-~]{1,256}")  # printable ASCII, no spaces


def message(timestamp: int | str, method: str, path_with_query: str, body: bytes | str) -> bytes:
    return f"{timestamp}.{method.upper()}.{path_with_query}.{sha256_hex(utf8(body))}".encode()


def sign(secret: str, timestamp: int | str, method: str, path_with_query: str, body: bytes | str = b"") -> str:
    return hmac_sha256_hex(utf8(secret), message(timestamp, method, path_with_query, body))


def headers(
    operator_id: str,
    api_key: str,
    secret: str,
    method: str,
    path_with_query: str,
    body: bytes | str = b"",
    *,
    clock: Clock = system_clock,
) -> dict[str, str]:
    timestamp = int(clock())
    return {
        OPERATOR_ID_HEADER: operator_id,
        KEY_HEADER: api_key,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(secret, timestamp, method, path_with_query, body),
    }


def is_operator_id(value: str) -> bool:
    """``value`` has the form of an operator id (a uuid), as the X-Operator-Id header must."""
    return _UUID.fullmatch(value) is not None


def verify(
    request: RawRequest,
    secrets_for: Callable[[str, str], Sequence[str]],
    *,
    clock: Clock = system_clock,
    window: int = DEFAULT_WINDOW_SECONDS,
) -> Verdict:
    """``secrets_for(operator_id, api_key)`` returns the secrets valid for that key (several while a
    rotation overlaps), or nothing for an unknown operator or key."""
    found: list[str] = []
    for name in (OPERATOR_ID_HEADER, KEY_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER):
        value = require_header(request.headers, name)
        if isinstance(value, Verdict):
            return value
        found.append(value)
    operator_id, api_key, raw_ts, raw_sig = (v.strip() for v in found)
    if not _UUID.fullmatch(operator_id):
        return Verdict.fail(Failure.MALFORMED, f"{OPERATOR_ID_HEADER} must be a uuid")
    if not _API_KEY.fullmatch(api_key):
        return Verdict.fail(Failure.MALFORMED, f"{KEY_HEADER} must be printable ASCII")
    timestamp = parse_unix_seconds(raw_ts, TIMESTAMP_HEADER)
    if isinstance(timestamp, Verdict):
        return timestamp
    signature = parse_hex_signature(raw_sig, SIGNATURE_HEADER)
    if isinstance(signature, Verdict):
        return signature
    stale = check_window(timestamp, clock(), window, TIMESTAMP_HEADER)
    if stale is not None:
        return stale
    operator_id = operator_id.lower()  # one operator, whatever the letter case it is sent in
    secrets = secrets_for(operator_id, api_key)
    if not secrets:
        return Verdict.fail(Failure.UNKNOWN_KEY, f"unknown {OPERATOR_ID_HEADER} or {KEY_HEADER}")
    expected = [sign(s, raw_ts, request.method, request.path_with_query, request.body) for s in secrets]
    if not matches_any(expected, signature):
        return Verdict.fail(Failure.BAD_SIGNATURE, f"{SIGNATURE_HEADER} does not match", key_id=operator_id)
    return Verdict.valid(key_id=operator_id)
