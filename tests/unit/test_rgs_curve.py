"""The crash game's arithmetic: the curve, cash-outs, payouts, revenue shares, and issued credentials."""

from __future__ import annotations

import math
import re
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from croupier.rgs import credentials
from croupier.rgs.curve import (
    auto_cash_out,
    manual_cash_out,
    multiplier_cents,
    payout_minor,
    revenue_shares,
    time_to_reach,
)


def test_the_curve_starts_at_one_and_follows_e_to_the_growth_times_t() -> None:
    assert multiplier_cents(0) == 100
    assert multiplier_cents(-5) == 100
    for ms in (1, 1_000, 11_552, 11_553, 38_377, 60_000, 126_682):
        assert multiplier_cents(ms) == math.floor(100 * math.exp(0.00006 * ms) + 1e-9)
    assert (multiplier_cents(11_552), multiplier_cents(11_553)) == (199, 200)  # 2.00x after 11 553 ms


@given(st.integers(0, 200_000), st.integers(1, 5_000))
def test_the_curve_never_falls(ms: int, later: int) -> None:
    assert multiplier_cents(ms) <= multiplier_cents(ms + later)


@given(st.integers(101, 200_000))
def test_time_to_reach_is_the_first_millisecond_at_that_multiplier(cents: int) -> None:
    t = time_to_reach(cents)
    assert multiplier_cents(t) >= cents
    assert t == 0 or multiplier_cents(t - 1) < cents


def test_a_manual_cash_out_is_honoured_only_below_the_crash_point() -> None:
    crash = 250
    before = time_to_reach(crash) - 1
    assert manual_cash_out(before, crash).honoured
    assert manual_cash_out(before, crash).cents == multiplier_cents(before) < crash
    assert manual_cash_out(time_to_reach(crash), crash) == manual_cash_out(10**6, crash)
    assert not manual_cash_out(time_to_reach(crash), crash).honoured
    assert not manual_cash_out(0, 99).honoured  # a round that busts at its start honours nothing


def test_an_automatic_cash_out_is_honoured_up_to_and_at_the_crash_point() -> None:
    assert auto_cash_out(250, 250).honoured
    assert auto_cash_out(250, 250).cents == 250
    assert not auto_cash_out(251, 250).honoured


@pytest.mark.parametrize(
    ("bet", "cents", "cap", "expected"),
    [
        (1_000, 235, 2000, 2_350),
        (333, 150, 2000, 499),
        (1, 199, 2000, 1),
        (10, 300_000, 2000, 20_000),
        (0, 500, 2000, 0),
    ],
)
def test_payouts_round_down_and_never_pass_the_cap(bet: int, cents: int, cap: int, expected: int) -> None:
    assert payout_minor(bet, cents, cap) == expected


@pytest.mark.parametrize(
    ("ggr", "rate", "house", "operator"),
    [
        (148_000, "0.15", 22_200, 125_800),  # providers.md's example
        (1_001, "0.15", 150, 851),
        (-1_001, "0.15", -150, -851),  # a losing day: toward zero, and still adding up
        (7, "0", 0, 7),
        (7, "1", 7, 0),
    ],
)
def test_revenue_shares_round_toward_zero_and_add_up(ggr: int, rate: str, house: int, operator: int) -> None:
    shares = revenue_shares(ggr, Decimal(rate))
    assert (shares.house_minor, shares.operator_minor) == (house, operator)
    assert shares.house_minor + shares.operator_minor == ggr


def test_a_house_rate_outside_zero_to_one_is_refused() -> None:
    with pytest.raises(ValueError, match="house rate"):
        revenue_shares(100, Decimal("1.5"))


def test_credentials_are_fresh_unguessable_and_the_secret_never_reprs() -> None:
    first, second = credentials.new_operator_credentials(), credentials.new_operator_credentials()
    assert first.operator_id != second.operator_id
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", first.operator_id)
    assert first.hmac_secret not in repr(first)
    assert len(first.hmac_secret) >= 43  # 32 random bytes, base64url
    tokens = {credentials.new_session_token() for _ in range(1000)}
    assert len(tokens) == 1000
    assert all(len(t) >= 32 for t in tokens)  # 24 bytes = 192 bits
    token = tokens.pop()
    assert credentials.token_hash(token) != token
    assert re.fullmatch(r"[0-9a-f]{64}", credentials.token_hash(token))
    assert credentials.new_server_seed() != credentials.new_server_seed()
