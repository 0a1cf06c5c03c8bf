"""Tests for ivr.cases.numbers."""

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from ivr.cases.numbers import (
    MAX_SERIAL,
    SERIAL_BASE,
    case_number_for_serial,
    damm_check_digit,
    grouped,
    is_valid,
    normalise,
    parse,
    spoken,
)

serials = st.integers(min_value=1, max_value=MAX_SERIAL)
positions = st.integers(min_value=0, max_value=7)
digit_chars = st.sampled_from("0123456789")



# --- Damm check digit -------------------------------------------------------


def test_known_vector():
    assert damm_check_digit("572") == "4"
    assert is_valid("5724")
    assert not is_valid("5723")


def test_first_serial():
    assert case_number_for_serial(1) == "10000012"


@given(serials, positions, digit_chars)
def test_every_single_digit_substitution_is_detected(serial, position, replacement):
    number = case_number_for_serial(serial)
    assume(number[position] != replacement)
    corrupted = number[:position] + replacement + number[position + 1 :]
    assert not is_valid(corrupted)


@given(serials, st.integers(min_value=0, max_value=6))
def test_every_adjacent_transposition_is_detected(serial, position):
    number = case_number_for_serial(serial)
    # Swapping equal digits changes nothing, so there is no error to detect.
    assume(number[position] != number[position + 1])
    swapped = number[:position] + number[position + 1] + number[position] + number[position + 2 :]
    assert not is_valid(swapped)


def test_transpositions_that_defeat_luhn_are_detected():
    # Luhn misses 09 <-> 90; Damm must not, including swaps that move the check digit.
    for body in ("1090", "1900", "09", "90"):
        number = body + damm_check_digit(body)
        assert is_valid(number)
        for i in range(len(number) - 1):
            if number[i] != number[i + 1]:
                assert not is_valid(number[:i] + number[i + 1] + number[i] + number[i + 2 :])


@given(serials)
def test_case_number_for_serial_is_valid_eight_digits(serial):
    number = case_number_for_serial(serial)
    assert len(number) == 8
    assert number.isdigit()
    assert is_valid(number)
    assert number[:7] == str(SERIAL_BASE + serial)


@pytest.mark.parametrize("serial", [0, -1, MAX_SERIAL + 1])
def test_case_number_for_serial_rejects_out_of_range(serial):
    with pytest.raises(ValueError):
        case_number_for_serial(serial)


def test_case_number_for_serial_rejects_non_int():
    with pytest.raises(TypeError):
        case_number_for_serial(True)
    with pytest.raises(TypeError):
        case_number_for_serial("12")


@pytest.mark.parametrize(
    "number",
    ["", "0", "5", "5724 ", "57-24", "abcd", "\uff15\uff17\uff12\uff14", "572\u2074"],
)
def test_is_valid_rejects_non_digit_or_too_short(number):
    assert not is_valid(number)


def test_damm_check_digit_rejects_non_digits():
    with pytest.raises(ValueError):
        damm_check_digit("57a")


# --- normalise / grouped / spoken -------------------------------------------


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("1234 5678#", "12345678"),
        ("*1234-5678", "12345678"),
        ("1234.5678", "12345678"),
        ("  1234\u20135678 ", "12345678"),
        ("12345678", "12345678"),
    ],
)
def test_normalise(raw, expected):
    assert normalise(raw) == expected


@given(serials)
def test_normalise_then_validate_grouped_round_trip(serial):
    number = case_number_for_serial(serial)
    assert is_valid(normalise(grouped(number) + "#"))


@pytest.mark.parametrize(
    "raw, expected",
    [("10000012", "10000012"), ("1000 0012#", "10000012"), ("*1000-0012", "10000012"),
     ("10000013", None), ("1000 0013#", None), ("", None), ("#", None), ("1000OO12", None)],
)
def test_parse_normalises_then_checks_the_damm_digit(raw, expected):
    assert parse(raw) == expected


@given(serials)
def test_parse_reads_back_every_grouped_number(serial):
    number = case_number_for_serial(serial)
    assert parse(grouped(number) + "#") == number


@pytest.mark.parametrize(
    "number, expected",
    [("12345678", "1234 5678"), ("123456789", "1234 5678 9"), ("123", "123"), ("1234", "1234")],
)
def test_grouped(number, expected):
    assert grouped(number) == expected


@pytest.mark.parametrize(
    "number, expected",
    [("12345678", "1 2 3 4, 5 6 7 8"), ("123456", "1 2 3 4, 5 6"), ("12", "1 2")],
)
def test_spoken(number, expected):
    assert spoken(number) == expected


@pytest.mark.parametrize("bad", ["1234 5678", "12a4", ""])
def test_grouped_and_spoken_reject_non_digits(bad):
    with pytest.raises(ValueError):
        grouped(bad)
    with pytest.raises(ValueError):
        spoken(bad)
