"""Tests for ivr.core.phone."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivr.core.phone import is_withheld, normalise_us_number, spoken_number


def nxx():
    # Area codes and exchanges: first digit 2-9, then any two digits.
    return st.tuples(st.sampled_from("23456789"), st.text("0123456789", min_size=2, max_size=2)).map("".join)


area_codes = nxx().filter(lambda code: code[1:] != "11")
subscribers = st.text("0123456789", min_size=4, max_size=4)


@pytest.mark.parametrize(
    "raw",
    [
        "+18605551234",
        "18605551234",
        "8605551234",
        "860-555-1234",
        "(860) 555 1234",
        "(860) 555-1234",
        "860.555.1234",
        "+1 (860) 555-1234",
        "1 860 555 1234",
        " 860 555 1234 ",
    ],
)
def test_normalise_us_number_accepts_common_forms(raw):
    assert normalise_us_number(raw) == "+18605551234"


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "911",
        "5551234",
        "860555123",
        "86055512345",
        "28605551234",
        "+8605551234",
        "+448605551234",
        "+118605551234",
        "0605551234",
        "1605551234",
        "8600551234",
        "8601551234",
        "9115551234",
        "4115551234",
        "+13115551234",
        "860-555-1234 x12",
        "860555123a",
        "anonymous",
        "\u0668\u0666\u0660\u0665\u0665\u0665\u0661\u0662\u0663\u0664",
        "+1+8605551234",
    ],
)
def test_normalise_us_number_rejects_invalid(raw):
    assert normalise_us_number(raw) is None


@given(area_codes, nxx(), subscribers)
def test_normalise_us_number_formats_agree(area, exchange, line):
    expected = f"+1{area}{exchange}{line}"
    forms = [
        expected,
        f"1{area}{exchange}{line}",
        f"{area}{exchange}{line}",
        f"{area}-{exchange}-{line}",
        f"({area}) {exchange} {line}",
        f"+1 ({area}) {exchange}-{line}",
    ]
    for raw in forms:
        assert normalise_us_number(raw) == expected
    assert normalise_us_number(expected) == expected


@given(st.sampled_from("01"), st.text("0123456789", min_size=9, max_size=9))
def test_area_code_starting_with_0_or_1_rejected(first, rest):
    assert normalise_us_number(first + rest) is None
    assert normalise_us_number("+1" + first + rest) is None


@given(area_codes, st.sampled_from("01"), st.text("0123456789", min_size=6, max_size=6))
def test_exchange_starting_with_0_or_1_rejected(area, first, rest):
    assert normalise_us_number(area + first + rest) is None


@given(st.sampled_from("23456789"), nxx(), subscribers)
def test_n11_area_code_rejected(first, exchange, line):
    assert normalise_us_number(f"{first}11{exchange}{line}") is None


def test_spoken_number():
    assert spoken_number("+18605551234") == "8 6 0, 5 5 5, 1 2 3 4"


@given(area_codes, nxx(), subscribers)
def test_spoken_number_reads_every_digit(area, exchange, line):
    text = spoken_number(f"+1{area}{exchange}{line}")
    assert text.replace(", ", " ").split(" ") == list(area + exchange + line)


@pytest.mark.parametrize("bad", ["", "anonymous", "+448605551234", "911"])
def test_spoken_number_rejects_invalid(bad):
    with pytest.raises(ValueError):
        spoken_number(bad)


@pytest.mark.parametrize(
    "caller",
    [
        None,
        "",
        "   ",
        "anonymous",
        "Anonymous",
        "ANONYMOUS",
        "restricted",
        "RESTRICTED",
        "unknown",
        "blocked",
        "unavailable",
        "+266696687",
        "+7378742833",
        "+2562533",
        "+86282452253",
    ],
)
def test_is_withheld(caller):
    assert is_withheld(caller)


@pytest.mark.parametrize("caller", ["+18605551234", "8605551234", "+442071234567", "client:alice"])
def test_is_not_withheld(caller):
    assert not is_withheld(caller)


@given(area_codes, nxx(), subscribers)
def test_real_numbers_are_not_withheld(area, exchange, line):
    assert not is_withheld(f"+1{area}{exchange}{line}")
