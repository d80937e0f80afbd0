"""RabbitX-style API-key signing (we call such an API).

``RBT-SIGNATURE = "0x" + hex(HMAC(hex_decode(secret), sha256(payload)))`` where ``payload`` is the
concatenation of ``k=v`` for the request data's keys in ascending order followed by ``str(expiry)``.
The data always holds ``method`` and ``path``; each value is written as RabbitX's own Python client
(rabbitx-io/rabbitx-python-client, ``payload.py``) writes it: booleans ``true``/``false``, lists their Python
repr with ``"`` quotes, anything else its ``str()`` (a float as Python writes it: ``1e-05``, ``0.1``,
``1e+16``). ``RBT-TS`` is an **expiry** time: a verifier rejects ``now >= RBT-TS``.

What is signed is the request's JSON body, ``method`` and ``path`` included, exactly as that client sends
it; a request without a body (a GET) is signed over its method and path alone. **The query string is not
signed**: RabbitX's client sends a GET's parameters unsigned, so a verifier that accepts its requests cannot
protect them. A verifier reads each JSON number as the text that was sent (:class:`JsonNumber`), so a float
is signed by the very digits its sender's ``str()`` wrote, never re-rendered.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

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


class JsonNumber(float):
    """A JSON number with a fraction or an exponent, as received: it compares as a float and prints as the
    literal text that was sent (``1e-05`` stays ``1e-05``; ``1E+16`` would stay ``1E+16``)."""

    __slots__ = ("text",)
    text: str

    def __new__(cls, text: str) -> JsonNumber:
        number = super().__new__(cls, text)
        number.text = text
        return number

    def __str__(self) -> str:
        return self.text

    __repr__ = __str__


def render(value: Any) -> str:
    """How one data value is written into the signed payload (as RabbitX's client's ``Payload.hash``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("NaN and infinities are not signed: JSON cannot carry them")
    if isinstance(value, list):
        return str(value).replace("'", '"')
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


class _Duplicate(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name, value in pairs:
        if name in found:
            raise _Duplicate(name)
        found[name] = value
    return found


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def request_data(request: RawRequest) -> dict[str, Any] | Verdict:
    """The signed data of a received request: its JSON body's fields, ``method`` and ``path`` among them.

    A body may leave ``method`` and ``path`` out (they are then the request line's); when it holds them they
    must be the request line's, or a signed body could be replayed to another method or path. A request
    without a body is signed over ``{"method", "path"}``. The query string is not part of the data.
    """
    method, path = request.method.upper(), request.path
    data: dict[str, Any] = {}
    if request.body.strip():
        try:
            body = json.loads(
                request.body, parse_float=JsonNumber, parse_constant=_no_constant, object_pairs_hook=_unique_keys
            )
        except _Duplicate as duplicate:
            return Verdict.fail(Failure.MALFORMED, f"parameter {duplicate.name!r} is given twice")
        except (ValueError, UnicodeDecodeError):
            return Verdict.fail(Failure.MALFORMED, "body is not JSON")
        if not isinstance(body, dict):
            return Verdict.fail(Failure.MALFORMED, "body must be a JSON object")
        data = body
    for name, expected in (("method", method), ("path", path)):
        if name not in data:
            data[name] = expected
        elif data[name] != expected:
            return Verdict.fail(Failure.MALFORMED, f"the body's {name!r} is not the request line's")
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
