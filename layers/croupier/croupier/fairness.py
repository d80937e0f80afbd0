"""Provably-fair crash points (standard library only; docs/fairness.md derives every line).

``server_seed_hash = sha256(server_seed)`` is published before a round; the outcome bytes are
``HMAC_SHA256(key=server_seed, msg="<client_seed>:<nonce>:<purpose>")`` with purpose ``crash`` for the
crash point and ``map``/``loot``/``guard`` for the derived seeds.

The crash point, in hundredths: take the first 52 bits of the crash HMAC as ``h`` (uniform on
``[0, 2^52)``), let ``X = 2^52 - h`` (uniform on ``1..2^52``) and

    crash_cents = min(floor(100 * rtp * 2^52 / X), 100 * max_win_multiplier)

with ``rtp`` an exact fraction. A cash-out target of ``k`` hundredths is honoured when
``crash_cents >= k``, which happens for exactly ``floor(100 * rtp * 2^52 / k)`` of the ``2^52`` values of
``X`` (below the cap): P(crash >= m) = rtp / m to within 2^-52, for every target. A crash point below 1.00
busts the round at its start (probability 1 - rtp).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

PURPOSES = ("crash", "map", "loot", "guard")
BITS = 52
SPACE: int = 2**BITS
"""The size of the integer space a crash point is drawn from (``X`` runs over ``1..SPACE``)."""
DEFAULT_RTP = Decimal("0.96")
DEFAULT_MAX_WIN_MULTIPLIER = 2000


def seed_hash(server_seed: str) -> str:
    return hashlib.sha256(server_seed.encode("utf-8")).hexdigest()


def outcome_hmac(server_seed: str, client_seed: str, nonce: int, purpose: str = "crash") -> str:
    if purpose not in PURPOSES:
        raise ValueError(f"purpose must be one of {PURPOSES}")
    if nonce < 0:
        raise ValueError("nonce must be non-negative")
    message = f"{client_seed}:{nonce}:{purpose}".encode()
    return hmac.new(server_seed.encode("utf-8"), message, hashlib.sha256).hexdigest()


def rtp_fraction(rtp: Decimal | str) -> Fraction:
    """The target return as an exact fraction; 0 < rtp <= 1, at most 4 decimals."""
    value = Fraction(Decimal(rtp))
    if not 0 < value <= 1 or (value * 10_000).denominator != 1:
        raise ValueError("rtp must be in (0, 1] with at most 4 decimals")
    return value


def crash_cents_from_x(x: int, rtp: Fraction, max_win_multiplier: int = DEFAULT_MAX_WIN_MULTIPLIER) -> int:
    """The crash point in hundredths for ``x`` in ``1..SPACE``: floor(100·rtp·SPACE / x), capped."""
    if not 1 <= x <= SPACE:
        raise ValueError("x must be in 1..2^52")
    raw = (100 * rtp.numerator * SPACE) // (rtp.denominator * x)
    return min(raw, 100 * max_win_multiplier)


def x_from_hmac(crash_hmac: str) -> int:
    return SPACE - int(crash_hmac[: BITS // 4], 16)


def crash_cents(
    server_seed: str,
    client_seed: str,
    nonce: int,
    *,
    rtp: Decimal | str = DEFAULT_RTP,
    max_win_multiplier: int = DEFAULT_MAX_WIN_MULTIPLIER,
) -> int:
    x = x_from_hmac(outcome_hmac(server_seed, client_seed, nonce, "crash"))
    return crash_cents_from_x(x, rtp_fraction(rtp), max_win_multiplier)


def winning_count(k: int, rtp: Fraction, max_win_multiplier: int = DEFAULT_MAX_WIN_MULTIPLIER) -> int:
    """How many of the SPACE values of x give ``crash_cents >= k`` (for 1 <= k <= 100·cap): exactly
    floor(100·rtp·SPACE / k), since crash_cents(x) >= k  <=>  x <= 100·rtp·SPACE / k."""
    if not 1 <= k <= 100 * max_win_multiplier:
        raise ValueError("k must be a target in hundredths from 1 to 100 * max_win_multiplier")
    return min(SPACE, (100 * rtp.numerator * SPACE) // (rtp.denominator * k))


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a round's published data reproduces: the crash point and the derived seeds."""

    crash_point: Decimal
    map_seed: str
    loot_seed: str
    guard_seed: str

    def as_dict(self) -> dict[str, str]:
        return {
            "crashPoint": f"{self.crash_point:.2f}",
            "mapSeed": self.map_seed,
            "lootSeed": self.loot_seed,
            "guardSeed": self.guard_seed,
        }


def outcome(
    server_seed: str,
    client_seed: str,
    nonce: int,
    *,
    rtp: Decimal | str = DEFAULT_RTP,
    max_win_multiplier: int = DEFAULT_MAX_WIN_MULTIPLIER,
) -> Outcome:
    cents = crash_cents(server_seed, client_seed, nonce, rtp=rtp, max_win_multiplier=max_win_multiplier)
    return Outcome(
        crash_point=Decimal(cents).scaleb(-2),
        map_seed=outcome_hmac(server_seed, client_seed, nonce, "map"),
        loot_seed=outcome_hmac(server_seed, client_seed, nonce, "loot"),
        guard_seed=outcome_hmac(server_seed, client_seed, nonce, "guard"),
    )
