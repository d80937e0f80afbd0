"""Sportsbook callbacks (the sportsbook calls us): ``X-Security-Hash = HMAC(security_hash, raw_body)``.

The provider's own document also spells the header ``X-Securty-Hash``; both are accepted. The protocol
has no timestamp: replays are absorbed by the ledger's idempotency.
"""

from __future__ import annotations

from collections.abc import Sequence

from croupier.signing._core import (
    Failure,
    RawRequest,
    Verdict,
    hmac_sha256_hex,
    matches_any,
    parse_hex_signature,
    require_header,
    utf8,
)

SIGNATURE_HEADER = "X-Security-Hash"
SIGNATURE_HEADER_MISSPELLED = "X-Securty-Hash"


def sign(secret: str, body: bytes | str) -> str:
    return hmac_sha256_hex(utf8(secret), utf8(body))


def headers(secret: str, body: bytes | str) -> dict[str, str]:
    return {SIGNATURE_HEADER: sign(secret, body)}


def verify(request: RawRequest, secrets: Sequence[str]) -> Verdict:
    """``secrets`` are the security hashes currently accepted (more than one during a rotation)."""
    raw_sig = require_header(request.headers, SIGNATURE_HEADER, SIGNATURE_HEADER_MISSPELLED)
    if isinstance(raw_sig, Verdict):
        return raw_sig
    signature = parse_hex_signature(raw_sig, SIGNATURE_HEADER)
    if isinstance(signature, Verdict):
        return signature
    if not secrets:
        return Verdict.fail(Failure.UNKNOWN_KEY, "no security hash is configured")
    if not matches_any([sign(s, request.body) for s in secrets], signature):
        return Verdict.fail(Failure.BAD_SIGNATURE, f"{SIGNATURE_HEADER} does not match")
    return Verdict.valid()
