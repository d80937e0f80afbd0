"""The crash game's arithmetic: the multiplier curve, cash-outs, payouts and revenue shares.

Integers and ``Decimal`` only. The server's clock is the only clock: a round starts at a server time, and
every multiplier is computed from the milliseconds since then.

* Curve: ``multiplier(t) = e^(GROWTH · t)`` with ``t`` in ms and ``GROWTH = 0.00006``, computed with
  ``decimal`` at 34 significant digits and rounded **down** to hundredths (2.00x after 11 553 ms, 10x after
  38 377 ms).
* The round crashes when the multiplier reaches its crash point: at ``crash_time(crash_cents)``.
* A cash-out received at ``t`` is honoured at ``multiplier(t)`` if that is **below** the crash point; an
  automatic cash-out at ``a`` is honoured when ``a ≤ crash point`` (docs/fairness.md), at ``a``.
* Payout: ``floor(bet_minor · cash-out cents / 100)``, never above ``bet · max_win_multiplier``.
* Revenue: ``ggr = bets - wins`` of settled rounds; the house share is ``ggr · rate`` rounded toward zero
  and the operator's share is the rest, so the two always add up to ``ggr`` (148000 at 15 % → 22200 and
  125800).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, Context, Decimal

GROWTH_PER_MS = Decimal("0.00006")
_CONTEXT = Context(prec=34)
MAX_ROUND_MS = 10 * 60 * 1000
"""No round lasts longer than this (the cap is reached well before: 2000x after about 127 s)."""


def multiplier_cents(elapsed_ms: int) -> int:
    """The multiplier ``elapsed_ms`` after the round's start, in hundredths, rounded down."""
    if elapsed_ms <= 0:
        return 100
    value = _CONTEXT.exp(_CONTEXT.multiply(GROWTH_PER_MS, Decimal(min(elapsed_ms, MAX_ROUND_MS))))
    return int(_CONTEXT.multiply(value, Decimal(100)).to_integral_value(rounding=ROUND_FLOOR))


def time_to_reach(cents: int) -> int:
    """The first whole millisecond at which the multiplier reaches ``cents`` hundredths (0 for ≤ 1.00x)."""
    if cents <= 100:
        return 0
    exact = _CONTEXT.divide(_CONTEXT.ln(_CONTEXT.divide(Decimal(cents), Decimal(100))), GROWTH_PER_MS)
    guess = int(exact.to_integral_value(rounding=ROUND_CEILING))
    while guess > 0 and multiplier_cents(guess - 1) >= cents:  # the rounding of the curve decides
        guess -= 1
    while multiplier_cents(guess) < cents:
        guess += 1
    return guess


@dataclass(frozen=True, slots=True)
class CashOut:
    honoured: bool
    cents: int
    """The multiplier the cash-out is paid at (hundredths); 0 when not honoured."""


def manual_cash_out(elapsed_ms: int, crash_cents: int) -> CashOut:
    """A cash-out received ``elapsed_ms`` after the start: honoured below the crash point only."""
    cents = multiplier_cents(elapsed_ms)
    if cents < crash_cents:
        return CashOut(True, cents)
    return CashOut(False, 0)


def auto_cash_out(target_cents: int, crash_cents: int) -> CashOut:
    """An automatic cash-out at ``target_cents``: honoured when the crash point reaches it."""
    if target_cents <= crash_cents:
        return CashOut(True, target_cents)
    return CashOut(False, 0)


def payout_minor(bet_minor: int, cash_out_cents: int, max_win_multiplier: int) -> int:
    if bet_minor < 0 or cash_out_cents < 0:
        raise ValueError("amounts are never negative")
    return min((bet_minor * cash_out_cents) // 100, bet_minor * max_win_multiplier)


@dataclass(frozen=True, slots=True)
class Shares:
    house_minor: int
    operator_minor: int


def revenue_shares(ggr_minor: int, house_rate: Decimal) -> Shares:
    """The house's share rounded toward zero; the operator's is the rest (they add up to ``ggr``)."""
    if not Decimal(0) <= house_rate <= Decimal(1):
        raise ValueError("the house rate is a fraction from 0 to 1")
    house = int(_CONTEXT.multiply(Decimal(ggr_minor), house_rate).to_integral_value(rounding=ROUND_DOWN))
    return Shares(house_minor=house, operator_minor=ggr_minor - house)
