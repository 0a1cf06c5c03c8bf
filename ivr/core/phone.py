"""North American (NANP) phone number helpers for call-back numbers."""

from __future__ import annotations

import re

# Formatting people and carriers wrap around a number; anything else means it is not one.
_FORMATTING = re.compile(r"[\s\-\u2010-\u2015.()]")

# Twilio reports a withheld caller ID either as a word or as that word spelled on a keypad
# (+266696687 is ANONYMOUS, +7378742833 RESTRICTED, +2562533 BLOCKED, +86282452253 UNAVAILABLE).
_WITHHELD = frozenset(
    {
        "anonymous",
        "restricted",
        "blocked",
        "unavailable",
        "unknown",
        "private",
        "+266696687",
        "+7378742833",
        "+2562533",
        "+86282452253",
    }
)


def _valid_nxx(code: str) -> bool:
    # NANP area codes and exchanges start with 2-9; 0 and 1 were reserved for operator/trunk use.
    return code[0] not in "01"


def normalise_us_number(raw: str) -> str | None:
    """Return raw as E.164 "+1XXXXXXXXXX", or None if it is not a valid NANP number."""
    compact = _FORMATTING.sub("", raw)
    if compact.startswith("+"):
        # With a "+" the country code is explicit, so only +1 can be North American.
        if not compact.startswith("+1"):
            return None
        digits = compact[2:]
    else:
        digits = compact
        if len(digits) == 11 and digits.startswith("1"):
            digits = digits[1:]
    if len(digits) != 10 or not (digits.isascii() and digits.isdigit()):
        return None
    area, exchange = digits[:3], digits[3:6]
    if not (_valid_nxx(area) and _valid_nxx(exchange)):
        return None
    # N11 codes (211, 311, 911...) are service codes, never area codes.
    if area[1:] == "11":
        return None
    return "+1" + digits


def spoken_number(e164: str) -> str:
    """Render a NANP number for text-to-speech as "8 6 0, 5 5 5, 1 2 3 4"."""
    normalised = normalise_us_number(e164)
    if normalised is None:
        raise ValueError(f"not a NANP number: {e164!r}")
    digits = normalised[2:]
    groups = (digits[:3], digits[3:6], digits[6:])
    # Digit-by-digit so TTS never says "five hundred fifty-five"; commas add a pause.
    return ", ".join(" ".join(group) for group in groups)


def spoken_ending(e164: str) -> str:
    """The last four digits for text-to-speech, "1 2 3 4": enough for a caller to know their number."""
    normalised = normalise_us_number(e164)
    if normalised is None:
        raise ValueError(f"not a NANP number: {e164!r}")
    return " ".join(normalised[-4:])


def is_withheld(caller: str | None) -> bool:
    """Return True if Twilio's From value means the caller ID was withheld."""
    if caller is None:
        return True
    value = caller.strip().lower()
    return value == "" or value in _WITHHELD
