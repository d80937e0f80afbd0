"""croupier.money: exact amounts in internal units (10**-4 of a major unit), rejected rather than rounded."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from croupier import money
from croupier.errors import BadRequest
from croupier.money import MAX_MAJOR_AMOUNT, MAX_UNITS, InvalidAmount, UnknownCurrency

UNIT = 10**money.SCALE  # internal units per major unit


def test_scale_and_bounds_are_what_the_module_promises() -> None:
    assert money.SCALE == 4
    assert money.UNITS_PER_MAJOR == UNIT == 10_000
    assert MAX_UNITS == MAX_MAJOR_AMOUNT * UNIT == 10**16


# --- from_decimal_string ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "units"),
    [
        ("0", 0),
        ("0.00", 0),
        ("0.01", 100),
        ("0.5", 5_000),
        ("1", UNIT),
        ("100.5", 1_005_000),
        ("100.50", 1_005_000),
        ("1250.00", 12_500_000),
        ("999999999999.99", MAX_UNITS - 100),
        ("1000000000000", MAX_UNITS),
        ("1000000000000.00", MAX_UNITS),
    ],
)
def test_from_decimal_string_parses_plain_decimals_exactly(text: str, units: int) -> None:
    assert money.from_decimal_string(text, max_places=2) == units


@pytest.mark.parametrize(
    ("text", "max_places", "units"),
    [("7", 0, 7 * UNIT), ("1.234", 3, 12_340), ("1.2345", 4, 12_345), ("0.0001", 4, 1), ("3.1", 4, 31_000)],
)
def test_from_decimal_string_accepts_up_to_max_places(text: str, max_places: int, units: int) -> None:
    assert money.from_decimal_string(text, max_places=max_places) == units


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        " 1.00",
        "1.00 ",
        "1.00\n",
        "\t1",
        "+1",
        "+1.00",
        "-1",
        "-0.01",
        "-0",
        "1e3",
        "1E3",
        "1.5e2",
        "01",
        "00",
        "00.5",
        "1.",
        ".5",
        "1.001",  # three places with max_places=2
        "1.00000",  # more than SCALE places, even zeros
        "NaN",
        "nan",
        "Infinity",
        "-Infinity",
        "inf",
        "1,00",
        "1,000.00",
        "1_000",
        "0x10",
        "\u0661\u0662",  # ARABIC-INDIC DIGITS ONE, TWO
        "\uff11\uff12",  # FULLWIDTH DIGITS ONE, TWO
        "1.\u0665",  # an ASCII integer part with a non-ASCII fraction digit
        "12345678901234567",  # 17 digits: beyond the syntax, not only the bound
        "1000000000000.01",  # one cent over the maximum
        "1000000000001",
        "9999999999999999",
        "10000000000000.00",
    ],
)
def test_from_decimal_string_rejects_anything_but_a_plain_non_negative_decimal(text: str) -> None:
    with pytest.raises(InvalidAmount) as caught:
        money.from_decimal_string(text, max_places=2)
    assert caught.value.code == "INVALID_AMOUNT"
    assert caught.value.status == 400


@pytest.mark.parametrize("value", [1, 1.5, 0, None, True, False, b"1.00", Decimal("1.00"), ["1.00"], {"a": 1}])
def test_from_decimal_string_rejects_non_strings(value: object) -> None:
    with pytest.raises(InvalidAmount, match="decimal string"):
        money.from_decimal_string(value, max_places=2)


def test_from_decimal_string_rejects_more_places_even_when_they_are_zeros() -> None:
    """max_places counts the digits written, not the significant ones: "1.0" is not a 0-place amount."""
    assert money.from_decimal_string("1", max_places=0) == UNIT
    with pytest.raises(InvalidAmount, match="more than 0 decimal places"):
        money.from_decimal_string("1.0", max_places=0)
    with pytest.raises(InvalidAmount, match="more than 2 decimal places"):
        money.from_decimal_string("1.000", max_places=2)


def test_invalid_amount_is_a_bad_request() -> None:
    assert issubclass(InvalidAmount, BadRequest)
    assert issubclass(UnknownCurrency, BadRequest)
    assert UnknownCurrency("x").code == "UNKNOWN_CURRENCY"


# --- from_decimal --------------------------------------------------------------------------------------------


def test_from_decimal_is_exact_where_binary_floats_are_not() -> None:
    value = Decimal("0.1") + Decimal("0.2")
    assert value == Decimal("0.3")
    assert money.from_decimal(value, "EUR") == 3_000
    assert money.from_decimal(value, "EUR") == money.from_decimal(Decimal("0.3"), "EUR")


@pytest.mark.parametrize(
    ("value", "currency", "units"),
    [
        (Decimal("12.34"), "EUR", 123_400),
        (Decimal("12.3"), "USD", 123_000),
        (Decimal("0.01"), "EUR", 100),
        (Decimal("1500"), "JPY", 15_000_000),
        (Decimal("1500"), "KRW", 15_000_000),
        (Decimal("1500.0"), "KRW", 15_000_000),  # integral, however it is written
        (Decimal("1.234"), "BHD", 12_340),
        (Decimal("0.001"), "KWD", 10),
        (Decimal("1.2345"), "CLF", 12_345),
        (Decimal("0.0001"), "UYW", 1),
        (Decimal("0"), "EUR", 0),
        (Decimal("0.00"), "JPY", 0),
        (7, "EUR", 70_000),  # a JSON integer arrives as int
        (0, "KRW", 0),
        (Decimal("1E+2"), "JPY", 1_000_000),
        (Decimal("1E+2"), "EUR", 1_000_000),
        (Decimal("1.50E+1"), "EUR", 150_000),
        (Decimal("1E-2"), "EUR", 100),
        (Decimal("1E+12"), "KRW", MAX_UNITS),
        (Decimal(MAX_MAJOR_AMOUNT), "CLF", MAX_UNITS),
    ],
)
def test_from_decimal_accepts_amounts_at_the_currency_exponent(value: Decimal | int, currency: str, units: int) -> None:
    assert money.from_decimal(value, currency) == units


@pytest.mark.parametrize(
    ("value", "currency"),
    [
        (Decimal("12.345"), "EUR"),
        (Decimal("0.001"), "USD"),
        (Decimal("1.5"), "JPY"),
        (Decimal("0.1"), "KRW"),
        (Decimal("1.2345"), "BHD"),
        (Decimal("1.23456"), "CLF"),
        (Decimal("1E-3"), "EUR"),
        (Decimal("1E-999999"), "EUR"),
        (Decimal("100.00000001"), "EUR"),
    ],
)
def test_from_decimal_rejects_too_many_places_never_rounds(value: Decimal, currency: str) -> None:
    with pytest.raises(InvalidAmount, match="decimal places"):
        money.from_decimal(value, currency)


@pytest.mark.parametrize(
    ("value", "currency"),
    [
        (Decimal("1.0000000000000000000000000001"), "JPY"),  # 29 significant digits: 1 JPY once rounded to 28
        (Decimal("0.1000000000000000000000000000001"), "EUR"),  # 0.10 EUR once rounded
        (Decimal("999999999999.99999999999999999"), "EUR"),  # exactly the maximum once rounded
        (Decimal("1" + "0" * 40 + "1E-41"), "EUR"),  # 1.00...01 with 42 digits
    ],
)
def test_from_decimal_rejects_excess_places_beyond_the_decimal_context_precision(value: Decimal, currency: str) -> None:
    """More significant digits than the default decimal context (28) must not be rounded away before the check."""
    with pytest.raises(InvalidAmount, match="decimal places"):
        money.from_decimal(value, currency)


def test_from_decimal_keeps_every_digit_of_a_long_exact_amount() -> None:
    """Amounts of many digits are exact, and an integral value with more than 28 digits written is accepted."""
    value = Decimal("12345678.9012")  # 12 digits
    assert money.from_decimal(value, "CLF") == 123_456_789_012
    long_value = Decimal("999999999999.9999")  # 16 digits, the largest CLF amount below the maximum
    assert money.from_decimal(long_value, "CLF") == MAX_UNITS - 1
    trailing_zeros = Decimal("1.0000" + "0" * 30)  # 35 significant digits, integral: exact
    assert money.from_decimal(trailing_zeros, "JPY") == UNIT


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (Decimal("-1"), "negative"),
        (Decimal("-0.01"), "negative"),
        (-5, "negative"),
        (Decimal("NaN"), "finite"),
        (Decimal("-NaN"), "finite"),
        (Decimal("sNaN"), "finite"),
        (Decimal("Infinity"), "finite"),
        (Decimal("-Infinity"), "finite"),
        (True, "JSON number"),
        (False, "JSON number"),
        (1.5, "JSON number"),
        (1.0, "JSON number"),
        ("1.00", "JSON number"),
        (None, "JSON number"),
        (Decimal("1000000000000.01"), "maximum"),
        (Decimal("1E+13"), "maximum"),
        (Decimal("1E+1000"), "maximum"),
        (MAX_MAJOR_AMOUNT + 1, "maximum"),
    ],
)
def test_from_decimal_rejects_what_is_not_an_amount(value: object, message: str) -> None:
    with pytest.raises(InvalidAmount, match=message):
        money.from_decimal(value, "EUR")


# --- minor units -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("currency", "minor", "units"),
    [
        ("JPY", 1, UNIT),
        ("KRW", 1500, 1500 * UNIT),
        ("EUR", 1, 100),
        ("EUR", 12_345, 1_234_500),
        ("BHD", 1, 10),
        ("BHD", 1_234, 12_340),
        ("CLF", 1, 1),
        ("CLF", 12_345, 12_345),
        ("USD", 0, 0),
    ],
)
def test_minor_units_round_trip_per_exponent(currency: str, minor: int, units: int) -> None:
    assert money.from_minor_units(minor, currency) == units
    assert money.to_minor_units(units, currency) == minor


@given(
    currency=st.sampled_from(["JPY", "KRW", "EUR", "USD", "BHD", "KWD", "CLF", "UYW"]),
    data=st.data(),
)
def test_minor_units_round_trip_property(currency: str, data: st.DataObject) -> None:
    places = money.exponent(currency)
    minor = data.draw(st.integers(min_value=0, max_value=MAX_MAJOR_AMOUNT * 10**places))
    units = money.from_minor_units(minor, currency)
    assert units == minor * 10 ** (money.SCALE - places)
    assert money.to_minor_units(units, currency) == minor


@pytest.mark.parametrize(
    ("value", "message"),
    [(-1, "negative"), (True, "integer"), (1.0, "integer"), ("100", "integer"), (Decimal("1"), "integer")],
)
def test_from_minor_units_rejects_non_integers_and_negatives(value: object, message: str) -> None:
    with pytest.raises(InvalidAmount, match=message):
        money.from_minor_units(value, "EUR")


def test_from_minor_units_is_bounded() -> None:
    assert money.from_minor_units(MAX_MAJOR_AMOUNT * 100, "EUR") == MAX_UNITS
    with pytest.raises(InvalidAmount, match="maximum"):
        money.from_minor_units(MAX_MAJOR_AMOUNT * 100 + 1, "EUR")


@pytest.mark.parametrize(("units", "currency"), [(1, "JPY"), (9_999, "KRW"), (50, "EUR"), (5, "BHD")])
def test_to_minor_units_refuses_fractions_of_a_minor_unit(units: int, currency: str) -> None:
    with pytest.raises(ValueError, match="not a whole number"):
        money.to_minor_units(units, currency)


# --- formatting ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("units", "min_places", "text"),
    [
        (0, 2, "0.00"),
        (100, 2, "0.01"),
        (12_500_000, 2, "1250.00"),
        (1_005_000, 2, "100.50"),
        (12_345, 2, "1.2345"),  # more places only when needed
        (12_340, 2, "1.234"),
        (1, 2, "0.0001"),
        (UNIT, 0, "1"),
        (15_000, 0, "1.5"),
        (0, 0, "0"),
        (UNIT, 4, "1.0000"),
        (UNIT, 3, "1.000"),
        (MAX_UNITS, 2, "1000000000000.00"),
        (-1_005_000, 2, "-100.50"),
        (-1, 2, "-0.0001"),
        (-UNIT, 0, "-1"),
    ],
)
def test_to_decimal_string(units: int, min_places: int, text: str) -> None:
    assert money.to_decimal_string(units, min_places=min_places) == text


def test_to_decimal_string_defaults_to_two_places() -> None:
    assert money.to_decimal_string(7 * UNIT) == "7.00"


def test_to_decimal_is_exact() -> None:
    assert money.to_decimal(12_345) == Decimal("1.2345")
    assert money.to_decimal(MAX_UNITS) == Decimal(MAX_MAJOR_AMOUNT)
    assert money.to_decimal(-100) == Decimal("-0.01")


# --- currencies ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("currency", "places"),
    [("EUR", 2), ("USD", 2), ("JPY", 0), ("KRW", 0), ("VND", 0), ("BHD", 3), ("KWD", 3), ("CLF", 4), ("UYW", 4)],
)
def test_exponents(currency: str, places: int) -> None:
    assert money.exponent(currency) == places


def test_no_exponent_exceeds_the_scale() -> None:
    assert max(money.EXPONENTS.values()) == money.SCALE


@pytest.mark.parametrize("currency", ["", "XXX", "XAU", "eur", "EURO", "EU", " EUR", "BTC"])
def test_unknown_currencies_are_refused_everywhere(currency: str) -> None:
    with pytest.raises(UnknownCurrency):
        money.exponent(currency)
    with pytest.raises(UnknownCurrency):
        money.from_decimal(Decimal(1), currency)
    with pytest.raises(UnknownCurrency):
        money.from_minor_units(1, currency)
    with pytest.raises(UnknownCurrency):
        money.to_minor_units(UNIT, currency)


# --- properties ----------------------------------------------------------------------------------------------

amounts = st.integers(min_value=0, max_value=MAX_UNITS)


@given(units=amounts)
def test_decimal_string_round_trips_exactly(units: int) -> None:
    text = money.to_decimal_string(units)
    assert money.from_decimal_string(text, max_places=money.SCALE) == units


@given(cents=st.integers(min_value=0, max_value=MAX_MAJOR_AMOUNT * 100))
def test_two_place_strings_round_trip_at_two_places(cents: int) -> None:
    """What Ruby sends and what we answer: every whole-cent amount, written with exactly 2 places."""
    units = cents * 100
    text = money.to_decimal_string(units)
    assert text == f"{cents // 100}.{cents % 100:02d}"
    assert money.from_decimal_string(text, max_places=2) == units


@given(units=amounts, min_places=st.integers(min_value=0, max_value=money.SCALE))
def test_decimal_string_round_trips_for_any_min_places(units: int, min_places: int) -> None:
    text = money.to_decimal_string(units, min_places=min_places)
    assert money.from_decimal_string(text, max_places=money.SCALE) == units


@given(
    currency=st.sampled_from(["JPY", "EUR", "BHD", "CLF"]),
    data=st.data(),
)
def test_from_decimal_round_trips_representable_amounts(currency: str, data: st.DataObject) -> None:
    step = 10 ** (money.SCALE - money.exponent(currency))
    units = data.draw(st.integers(min_value=0, max_value=MAX_UNITS // step)) * step
    assert money.from_decimal(money.to_decimal(units), currency) == units
