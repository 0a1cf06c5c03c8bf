"""Words for times, dates and hours in the caller's language (babel), for prompts."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from babel.dates import format_date, format_time, get_day_names

LOCALES = {"en": "en_US", "es": "es_US"}
RANGE_WORDS = {"en": ("{first} to {last}", "{start} to {end}", " and "),
               "es": ("de {first} a {last}", "de {start} a {end}", " y ")}


def _plain_spaces(text: str) -> str:
    """CLDR uses narrow no-break spaces; speech engines and logs want plain ones."""
    return text.replace("\u202f", " ").replace("\xa0", " ")


SPANISH_DAY_PARTS = ((12, "de la mañana"), (13, "del mediodía"), (20, "de la tarde"), (24, "de la noche"))


def spoken_time(value: time, lang: str) -> str:
    """'8 AM', '5:30 PM' / '8 de la mañana', '5:30 de la tarde'."""
    pattern = "h" if value.minute == 0 else "h:mm"
    clock = format_time(value, pattern, locale=LOCALES[lang])
    if lang == "es":
        # Spoken Spanish names the part of the day; "p.m." also ends sentences with a double period.
        part = next(words for limit, words in SPANISH_DAY_PARTS if value.hour < limit)
        return f"{clock} {part}"
    return _plain_spaces(format_time(value, pattern + " a", locale=LOCALES[lang]))


def spoken_date(value: date | datetime, lang: str) -> str:
    """'Tuesday, November 24' / 'martes 24 de noviembre'."""
    pattern = "EEEE, MMMM d" if lang == "en" else "EEEE d 'de' MMMM"
    return _plain_spaces(format_date(value, pattern, locale=LOCALES[lang]))


def day_name(weekday: int, lang: str) -> str:
    """Monday=0 -> 'Monday' / 'lunes'."""
    return get_day_names("wide", locale=LOCALES[lang])[weekday]


def hours_phrase(summary: list[tuple[list[int], time, time]], lang: str) -> str:
    """[([0..4], 8:00, 17:00)] -> 'Monday to Friday, 8 AM to 5 PM'."""
    day_range, time_range, joiner = RANGE_WORDS[lang]
    parts = []
    for days, opens, closes in summary:
        if len(days) > 1:
            days_text = day_range.format(first=day_name(days[0], lang), last=day_name(days[-1], lang))
        else:
            days_text = day_name(days[0], lang)
        hours_text = time_range.format(start=spoken_time(opens, lang), end=spoken_time(closes, lang))
        parts.append(f"{days_text}, {hours_text}")
    return joiner.join(parts)


OPENING_WORDS = {
    "en": {"today": "today at {time}", "tomorrow": "tomorrow at {time}", "later": "on {day} at {time}"},
    "es": {"today": "hoy a {time}", "tomorrow": "mañana a {time}", "later": "el {day} a {time}"},
}


def _at_time(value: time, lang: str) -> str:
    """'8 AM' / 'las 8 de la mañana' ('la 1' for one o'clock)."""
    spoken = spoken_time(value, lang)
    if lang == "es":
        return ("la " if value.hour % 12 == 1 else "las ") + spoken
    return spoken


def spoken_opening(opening: datetime, now: datetime, lang: str) -> str:
    """When 311 opens again, relative to now: 'today at 8 AM', 'tomorrow at 8 AM', 'on Monday, November 30 at 8 AM'."""
    local_now = now.astimezone(opening.tzinfo)
    days_ahead = (opening.date() - local_now.date()).days
    words = OPENING_WORDS[lang]
    at = _at_time(opening.timetz().replace(tzinfo=None), lang)
    if days_ahead == 0:
        return words["today"].format(time=at)
    if opening.date() == local_now.date() + timedelta(days=1):
        return words["tomorrow"].format(time=at)
    return words["later"].format(day=spoken_date(opening, lang), time=at)
