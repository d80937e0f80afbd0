"""RabbitX-style API-key signing (we call such an API).

``RBT-SIGNATURE = "0x" + hex(HMAC(hex_decode(secret), sha256(payload)))`` where ``payload`` is the
concatenation of ``k=v`` for the request data's keys in ascending order followed by ``str(expiry)``.
The data always holds ``method`` and ``path``; booleans render ``true``/``false``; lists render as their
Python repr with ``"`` quotes. ``RBT-TS`` is an **expiry** time: a verifier rejects ``now >= RBT-TS``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

from croupier.signing._core import (
    Clock,
    Failure,
    RawRequest,
    Verdict,
    decode_hex_secret,
    matches_any,
    parse_hex_signature,
    parse_unix_seconds,
    require_header,
    system_clock,
)

KEY_HEADER = "RBT-API-KEY"
EXPIRY_HEADER = "RBT-TS"
SIGNATURE_HEADER = "RBT-SIGNATURE"

MAX_EXPIRY_SECONDS = 600
"""Signers set the expiry at most this far ahead; verifiers refuse expiries further out."""


def render(value: Any) -> str:
    """How one data value is written into the signed payload."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        raise TypeError("floats are not signed: pass an int, a Decimal or a string")
    if isinstance(value, list | tuple):
        return str(list(value)).replace("'", '"')
    return str(value)


def payload(data: Mapping[str, Any], expires: int) -> bytes:
    return ("".join(f"{key}={render(data[key])}" for key in sorted(data)) + str(expires)).encode("utf-8")


def sign(secret: str, data: Mapping[str, Any], expires: int) -> str:
    if "method" not in data or "path" not in data:
        raise ValueError("signed data must hold 'method' and 'path'")
    digest = hashlib.sha256(payload(data, expires)).digest()
    return "0x" + hmac.new(decode_hex_secret(secret), digest, hashlib.sha256).hexdigest()


def headers(
    api_key: str,
    secret: str,
    data: Mapping[str, Any],
    *,
    ttl_seconds: int = 60,
    clock: Clock = system_clock,
) -> dict[str, str]:
    if not 0 < ttl_seconds <= MAX_EXPIRY_SECONDS:
        raise ValueError(f"ttl_seconds must be in 1..{MAX_EXPIRY_SECONDS}")
    expires = int(clock()) + ttl_seconds
    return {KEY_HEADER: api_key, EXPIRY_HEADER: str(expires), SIGNATURE_HEADER: sign(secret, data, expires)}


def request_data(request: RawRequest) -> dict[str, Any] | Verdict:
    """The signed data of a received request: method, path, query parameters and JSON body fields."""
    data: dict[str, Any] = {"method": request.method.upper(), "path": request.path}
    for name, value in parse_qsl(request.query, keep_blank_values=True):
        if name in data:
            return Verdict.fail(Failure.MALFORMED, f"parameter {name!r} is given twice")
        data[name] = value
    if request.body.strip():
        try:
            body = json.loads(request.body, parse_float=Decimal)
        except (ValueError, UnicodeDecodeError):
            return Verdict.fail(Failure.MALFORMED, "body is not JSON")
        if not isinstance(body, dict):
            return Verdict.fail(Failure.MALFORMED, "body must be a JSON object")
        for name, value in body.items():
            if name in data:
                return Verdict.fail(Failure.MALFORMED, f"parameter {name!r} is given twice")
            data[name] = value
    return data


def verify(
    request: RawRequest,
    secrets_for: Callable[[str], Sequence[str]],
    *,
    clock: Clock = system_clock,
    max_expiry_seconds: int = MAX_EXPIRY_SECONDS,
) -> Verdict:
    key = require_header(request.headers, KEY_HEADER)
    if isinstance(key, Verdict):
        return key
    raw_expiry = require_header(request.headers, EXPIRY_HEADER)
    if isinstance(raw_expiry, Verdict):
        return raw_expiry
    raw_sig = require_header(request.headers, SIGNATURE_HEADER)
    if isinstance(raw_sig, Verdict):
        return raw_sig
    expires = parse_unix_seconds(raw_expiry, EXPIRY_HEADER)
    if isinstance(expires, Verdict):
        return expires
    signature = parse_hex_signature(raw_sig, SIGNATURE_HEADER, prefix="0x")
    if isinstance(signature, Verdict):
        return signature
    now = clock()
    if now >= expires:
        return Verdict.fail(Failure.EXPIRED, f"{EXPIRY_HEADER} has passed")
    if expires > now + max_expiry_seconds:
        return Verdict.fail(Failure.FUTURE_TIMESTAMP, f"{EXPIRY_HEADER} is more than {max_expiry_seconds} s ahead")
    data = request_data(request)
    if isinstance(data, Verdict):
        return data
    secrets = secrets_for(key)
    if not secrets:
        return Verdict.fail(Failure.UNKNOWN_KEY, f"unknown {KEY_HEADER}")
    try:
        expected = [sign(s, data, expires)[2:] for s in secrets]
    except (TypeError, ValueError):
        return Verdict.fail(Failure.MALFORMED, "request data cannot be signed")
    if not matches_any(expected, signature):
        return Verdict.fail(Failure.BAD_SIGNATURE, f"{SIGNATURE_HEADER} does not match", key_id=key)
    return Verdict.valid(key_id=key)
