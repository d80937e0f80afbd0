"""Credentials the RGS issues: operator keys and session tokens. Drawn with ``secrets`` when called (never
at import time, so a restored snapshot cannot repeat them); tokens are kept only as their SHA-256."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass

SESSION_TOKEN_BYTES = 24  # 192 bits: unguessable (≥ 128 required)


@dataclass(frozen=True, slots=True)
class OperatorCredentials:
    operator_id: str
    api_key: str
    hmac_secret: str

    def __repr__(self) -> str:  # the secret is shown once, on purpose, never by accident
        return f"OperatorCredentials(operator_id={self.operator_id!r}, api_key={self.api_key!r})"


def new_operator_credentials() -> OperatorCredentials:
    return OperatorCredentials(
        operator_id=str(uuid.uuid4()),
        api_key="rk_" + secrets.token_urlsafe(18),
        hmac_secret=secrets.token_urlsafe(32),
    )


def new_api_key() -> tuple[str, str]:
    """A rotated key pair: (api_key, hmac_secret)."""
    return "rk_" + secrets.token_urlsafe(18), secrets.token_urlsafe(32)


def new_session_token() -> str:
    return secrets.token_urlsafe(SESSION_TOKEN_BYTES)


def token_hash(token: str) -> str:
    """What is stored of a session token: its SHA-256 (the token itself is never stored)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_server_seed() -> str:
    """A round's server seed: 32 fresh random bytes, hex."""
    return secrets.token_hex(32)
