"""Case numbers: a serial followed by a Damm check digit; `parse` is the one way in from keys or typing."""

from __future__ import annotations

import re

from ..core.words import is_ascii_digits

# Serial 1 -> "1000001" + check digit: 8 digits, read back in two groups of four.
SERIAL_BASE = 1_000_000
# Beyond this the case number would grow to 9 digits and stop fitting two groups of four.
MAX_SERIAL = 8_999_998

# Damm's totally anti-symmetric quasigroup of order 10: unlike Luhn it catches every
# single-digit error and every adjacent transposition, including 09 <-> 90.
_DAMM_TABLE = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)

# Keypad "#"/"*" terminators and the separators people type or a recogniser inserts.
_NOISE = re.compile(r"[\s\-\u2010-\u2015.#*]")


def damm_check_digit(digits: str) -> str:
    """Return the Damm check digit for a string of ASCII digits."""
    if not (digits == "" or is_ascii_digits(digits)):
        raise ValueError(f"not a digit string: {digits!r}")
    interim = 0
    for ch in digits:
        interim = _DAMM_TABLE[interim][ord(ch) - 48]
    return str(interim)


def is_valid(number: str) -> bool:
    """Return True if number is already-normalised digits ending in a correct Damm check digit."""
    if len(number) < 2 or not is_ascii_digits(number):
        return False
    # Running Damm over the whole number including its check digit yields 0 when it is right.
    return damm_check_digit(number) == "0"


def normalise(raw: str) -> str:
    """Strip spaces, dashes, dots, '#' and '*' from keypad or typed input."""
    return _NOISE.sub("", raw)


def parse(raw: str) -> str | None:
    """The case number keyed or typed in `raw` ('1000 0012#'), or None if its check digit fails."""
    number = normalise(raw)
    return number if is_valid(number) else None


def case_number_for_serial(serial: int) -> str:
    """Return the 8-digit case number for a serial in 1..MAX_SERIAL."""
    if isinstance(serial, bool) or not isinstance(serial, int):
        raise TypeError(f"serial must be an int, not {type(serial).__name__}")
    if not 1 <= serial <= MAX_SERIAL:
        # Failing loudly beats silently issuing 9-digit numbers the IVR cannot read back.
        raise ValueError(f"serial {serial} outside 1..{MAX_SERIAL}")
    body = str(SERIAL_BASE + serial)
    return body + damm_check_digit(body)


def grouped(number: str) -> str:
    """Split digits into space-separated groups of four from the left."""
    if not is_ascii_digits(number):
        raise ValueError(f"not a digit string: {number!r}")
    return " ".join(number[i : i + 4] for i in range(0, len(number), 4))


def spoken(number: str) -> str:
    """Render digits for text-to-speech one digit at a time, pausing between groups of four."""
    # Spaces stop TTS reading "1234" as "one thousand two hundred..."; commas add a pause.
    return ", ".join(" ".join(group) for group in grouped(number).split(" "))
