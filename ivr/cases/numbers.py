"""Case numbers: a serial followed by a Damm check digit, plus keypad and speech parsing."""

from __future__ import annotations

import re
import unicodedata

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

_DIGIT_WORDS = {
    "zero": "0",
    "oh": "0",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "cero": "0",
    "uno": "1",
    "dos": "2",
    "tres": "3",
    "cuatro": "4",
    "cinco": "5",
    "seis": "6",
    "siete": "7",
    "ocho": "8",
    "nueve": "9",
}
# A bare "o" is how English recognisers often write a spoken zero, but in Spanish it
# means "or" ("cinco o seis"), where guessing a digit would be worse than re-asking.
_DIGIT_WORDS_BY_LANG = {"en": {"o": "0"}, "es": {}}

_MULTIPLIERS = {"double": 2, "triple": 3}

# Accent-stripped, apostrophe-free forms, since that is how tokens look when compared.
_FILLER = frozenset(
    {
        "my",
        "case",
        "number",
        "is",
        "its",
        "it",
        "the",
        "um",
        "uh",
        "er",
        "mi",
        "numero",
        "caso",
        "es",
        "el",
        "de",
        "del",
        "eh",
    }
)


def _is_ascii_digits(text: str) -> bool:
    # str.isdigit() alone accepts superscripts and other scripts' digits, which int() and the
    # Damm table would then mishandle.
    return text.isascii() and text.isdigit()


def damm_check_digit(digits: str) -> str:
    """Return the Damm check digit for a string of ASCII digits."""
    if not (digits == "" or _is_ascii_digits(digits)):
        raise ValueError(f"not a digit string: {digits!r}")
    interim = 0
    for ch in digits:
        interim = _DAMM_TABLE[interim][ord(ch) - 48]
    return str(interim)


def is_valid(number: str) -> bool:
    """Return True if number is already-normalised digits ending in a correct Damm check digit."""
    if len(number) < 2 or not _is_ascii_digits(number):
        return False
    # Running Damm over the whole number including its check digit yields 0 when it is right.
    return damm_check_digit(number) == "0"


def normalise(raw: str) -> str:
    """Strip spaces, dashes, dots, '#' and '*' from keypad or typed input."""
    return _NOISE.sub("", raw)


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
    if not _is_ascii_digits(number):
        raise ValueError(f"not a digit string: {number!r}")
    return " ".join(number[i : i + 4] for i in range(0, len(number), 4))


def spoken(number: str) -> str:
    """Render digits for text-to-speech one digit at a time, pausing between groups of four."""
    # Spaces stop TTS reading "1234" as "one thousand two hundred..."; commas add a pause.
    return ", ".join(" ".join(group) for group in grouped(number).split(" "))


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def digits_from_speech(text: str, lang: str) -> str | None:
    """Return the digits spoken in a recogniser transcript, or None if it holds anything else."""
    base_lang = lang.replace("_", "-").split("-", 1)[0].lower()
    if base_lang not in _DIGIT_WORDS_BY_LANG:
        raise ValueError(f"unsupported language: {lang!r}")
    # Callers switch languages mid-sentence, so both vocabularies are always accepted.
    words = {**_DIGIT_WORDS, **_DIGIT_WORDS_BY_LANG[base_lang]}

    cleaned = _strip_accents(text).lower()
    # Drop apostrophes before splitting so "it's" stays one filler word instead of "it" + "s".
    cleaned = re.sub(r"['\u2019`]", "", cleaned)
    # Split on anything that is not a letter or digit in any script, so a foreign word
    # becomes an unknown token (and a rejection) rather than a silently ignored separator.
    tokens = re.split(r"[\W_]+", cleaned)

    out: list[str] = []
    repeat = 1
    for token in tokens:
        if not token:
            continue
        if token in _MULTIPLIERS:
            if repeat != 1:
                return None  # "double triple five" has no sensible reading
            repeat = _MULTIPLIERS[token]
            continue
        if token in words:
            digit = words[token]
        elif _is_ascii_digits(token):
            digit = token
        elif token in _FILLER and repeat == 1:
            continue
        else:
            return None
        if repeat != 1:
            # "double 55" is ambiguous; only a single digit may follow a multiplier.
            if len(digit) != 1:
                return None
            digit *= repeat
            repeat = 1
        out.append(digit)

    if repeat != 1 or not out:
        return None
    return "".join(out)
