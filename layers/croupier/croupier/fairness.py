"""Provably-fair primitives shared by the RGS and its verifiers (standard library only).

``server_seed_hash = sha256(server_seed)`` is published before a round; the outcome bytes are
``HMAC_SHA256(key=server_seed, msg="<client_seed>:<nonce>:<purpose>")`` with purpose ``crash`` for the
crash point and ``map``/``loot``/``guard`` for the derived seeds.
"""

from __future__ import annotations

import hashlib
import hmac

PURPOSES = ("crash", "map", "loot", "guard")


def seed_hash(server_seed: str) -> str:
    return hashlib.sha256(server_seed.encode("utf-8")).hexdigest()


def outcome_hmac(server_seed: str, client_seed: str, nonce: int, purpose: str = "crash") -> str:
    if purpose not in PURPOSES:
        raise ValueError(f"purpose must be one of {PURPOSES}")
    if nonce < 0:
        raise ValueError("nonce must be non-negative")
    message = f"{client_seed}:{nonce}:{purpose}".encode()
    return hmac.new(server_seed.encode("utf-8"), message, hashlib.sha256).hexdigest()
