"""Exact money: every amount is an integer count of internal units, never a float.

One internal unit is ``10**-SCALE`` of a currency's major unit, whatever the currency. ``SCALE = 4``
is the largest exponent in ISO 4217 (CLF, UYW), so every amount a provider may send is exact: Ruby's
2-decimal strings (even for KRW, whose exponent is 0), a sportsbook's decimal numbers at the currency's
exponent, and an RGS's integer minor units. An amount that cannot be represented exactly is rejected,
never rounded.
"""

from __future__ import annotations

import re
from decimal import Decimal

from croupier.errors import BadRequest

SCALE = 4
UNITS_PER_MAJOR = 10**SCALE

MAX_MAJOR_AMOUNT = 10**12
"""The largest amount of one movement, in major units (a trillion: far beyond any real bet or win)."""
MAX_UNITS = MAX_MAJOR_AMOUNT * UNITS_PER_MAJOR

# ISO 4217 active codes by minor-unit exponent (funds codes included; X-codes without minor units and
# precious metals excluded).
_EXPONENT_0 = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_EXPONENT_3 = "BHD IQD JOD KWD LYD OMR TND"
_EXPONENT_4 = "CLF UYW"
_EXPONENT_2 = (
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN BZD CAD "
    "CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD "
    "GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA "
    "MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR "
    "RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD "
    "TZS UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG"
)
EXPONENTS: dict[str, int] = {
    **{code: 0 for code in _EXPONENT_0.split()},
    **{code: 2 for code in _EXPONENT_2.split()},
    **{code: 3 for code in _EXPONENT_3.split()},
    **{code: 4 for code in _EXPONENT_4.split()},
}

_DECIMAL_STRING = re.compile(r"(0|[1-9][0-9]{0,15})(?:\.([0-9]{1,4}))?")


class InvalidAmount(BadRequest):
    code = "INVALID_AMOUNT"


class UnknownCurrency(BadRequest):
    code = "UNKNOWN_CURRENCY"


def exponent(currency: str) -> int:
    try:
        return EXPONENTS[currency]
    except KeyError:
        raise UnknownCurrency(f"unknown currency {currency!r} (ISO 4217 codes only)") from None


def max_minor_units(currency: str) -> int:
    """The largest amount of one movement (:data:`MAX_MAJOR_AMOUNT`) in the currency's minor units."""
    places: int = exponent(currency)
    return MAX_MAJOR_AMOUNT * int(10**places)


def _bounded(units: int) -> int:
    if units > MAX_UNITS:
        raise InvalidAmount(f"amount exceeds the maximum of {MAX_MAJOR_AMOUNT} per movement")
    return units


def from_decimal_string(text: object, *, max_places: int) -> int:
    """Parse a plain non-negative decimal string such as ``"1250.00"`` into internal units.

    No sign, exponent, whitespace, leading zeros or more than ``max_places`` decimals. Ruby sends
    2-decimal strings for every currency, so its callers pass ``max_places=2``.
    """
    if not isinstance(text, str):
        raise InvalidAmount('amount must be a decimal string such as "10.00"')
    match = _DECIMAL_STRING.fullmatch(text)
    if match is None:
        raise InvalidAmount('amount must be a plain non-negative decimal string such as "10.00"')
    whole, fraction = match.group(1), match.group(2) or ""
    if len(fraction) > max_places:
        raise InvalidAmount(f"amount has more than {max_places} decimal places")
    return _bounded(int(whole) * UNITS_PER_MAJOR + int(fraction.ljust(SCALE, "0") or "0"))


def from_decimal(value: object, currency: str) -> int:
    """Parse an exact JSON decimal number (already a ``Decimal``, never a float) at the currency's exponent."""
    places = exponent(currency)
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise InvalidAmount("amount must be a JSON number")
    number = Decimal(value)
    if not number.is_finite():
        raise InvalidAmount("amount must be a finite number")
    if number < 0:
        raise InvalidAmount("amount must not be negative")
    if number > MAX_MAJOR_AMOUNT:
        raise InvalidAmount(f"amount exceeds the maximum of {MAX_MAJOR_AMOUNT} per movement")
    _, digit_tuple, exp = number.as_tuple()
    if not isinstance(exp, int):  # NaN and Infinity carry a letter here; refused above already
        raise InvalidAmount("amount must be a finite number")
    digits = int("".join(map(str, digit_tuple)) or "0")
    while digits and digits % 10 == 0:  # exact integer arithmetic: no context precision, no rounding
        digits //= 10
        exp += 1
    if digits and exp < -places:
        raise InvalidAmount(f"amount has more decimal places than {currency} allows ({places})")
    minor = digits * 10 ** (exp + places) if digits else 0
    return _bounded(minor * 10 ** (SCALE - places))


def from_minor_units(value: object, currency: str) -> int:
    """Parse an integer count of the currency's minor units (RGS ``amount_minor``)."""
    places = exponent(currency)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidAmount("amount_minor must be an integer")
    if value < 0:
        raise InvalidAmount("amount_minor must not be negative")
    return _bounded(value * 10 ** (SCALE - places))


def to_minor_units(units: int, currency: str) -> int:
    """Internal units as the currency's minor units; exact or an error (never rounded)."""
    factor: int = 10 ** (SCALE - exponent(currency))
    minor, remainder = divmod(units, factor)
    if remainder:
        raise ValueError(f"{units} internal units are not a whole number of {currency} minor units")
    return minor


def to_decimal(units: int) -> Decimal:
    return Decimal(units).scaleb(-SCALE)


def to_decimal_string(units: int, *, min_places: int = 2) -> str:
    """``"1250.00"``: at least ``min_places`` decimals, more only when the amount needs them (exact)."""
    sign = "-" if units < 0 else ""
    whole, fraction = divmod(abs(units), UNITS_PER_MAJOR)
    digits = str(fraction).rjust(SCALE, "0").rstrip("0")
    digits = digits.ljust(min_places, "0")
    return f"{sign}{whole}.{digits}" if digits else f"{sign}{whole}"
