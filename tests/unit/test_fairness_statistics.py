"""A statistical check of the crash-point formula over 10^6 simulated rounds: for each cash-out target m,
the share of rounds reaching m agrees with rtp/m within 5 standard deviations, and so does the mean
return of the strategy 'always cash out at m'. Each check fails by chance with probability ~6e-7; at m = 1.01
it resolves a bias of 0.25 % of the probability (5 sigma), so a formula off by 1 % fails it for sure."""

from __future__ import annotations

import hashlib
import hmac
import math
import os
from fractions import Fraction

import pytest

from croupier import fairness

ROUNDS = 1_000_000
TARGETS_CENTS = [101, 150, 200, 300, 500, 1000, 2500, 10_000]
Z = 5.0


@pytest.fixture(scope="module")
def crash_points() -> list[int]:
    """10^6 crash points in hundredths, from fresh random server seeds (as production draws them)."""
    rtp = fairness.rtp_fraction("0.96")
    numerator = 100 * rtp.numerator * fairness.SPACE
    points = []
    server_seed = os.urandom(32).hex().encode()
    for nonce in range(ROUNDS):  # one server seed, many nonces: the nonce makes every round distinct
        digest = hmac.new(server_seed, f"client:{nonce}:crash".encode(), hashlib.sha256).hexdigest()
        x = fairness.SPACE - int(digest[:13], 16)
        points.append(min(numerator // (rtp.denominator * x), 100 * 2000))
    sample = fairness.crash_cents(server_seed.decode(), "client", 12345)
    assert points[12345] == sample, "the fast loop must be the formula itself"
    return points


@pytest.mark.parametrize("k", TARGETS_CENTS)
def test_the_share_of_rounds_reaching_each_target_is_rtp_over_m(crash_points: list[int], k: int) -> None:
    p = float(Fraction(96, k))  # rtp / m with m = k/100
    observed = sum(1 for c in crash_points if c >= k) / ROUNDS
    sigma = math.sqrt(p * (1 - p) / ROUNDS)
    assert abs(observed - p) <= Z * sigma, f"P(crash >= {k / 100}) = {observed}, expected {p} ± {Z * sigma}"


@pytest.mark.parametrize("k", TARGETS_CENTS)
def test_every_strategy_returns_rtp(crash_points: list[int], k: int) -> None:
    m = k / 100
    p = 0.96 / m
    mean_return = m * sum(1 for c in crash_points if c >= k) / ROUNDS
    sigma = m * math.sqrt(p * (1 - p) / ROUNDS)
    assert abs(mean_return - 0.96) <= Z * sigma, f"cash-out at {m}: return {mean_return}, expected 0.96 ± {Z * sigma}"


def test_instant_busts_are_one_minus_rtp(crash_points: list[int]) -> None:
    observed = sum(1 for c in crash_points if c < 100) / ROUNDS
    sigma = math.sqrt(0.04 * 0.96 / ROUNDS)
    assert abs(observed - 0.04) <= Z * sigma
