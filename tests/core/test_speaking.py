"""Spoken times, dates, hours and the next opening (ivr/core/speaking.py), in English and Spanish."""

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest

from ivr.core.speaking import hours_phrase, spoken_date, spoken_opening, spoken_time

HARTFORD = ZoneInfo("America/New_York")


def at(*args) -> datetime:
    """A Hartford wall-clock instant."""
    return datetime(*args, tzinfo=HARTFORD)


@pytest.mark.parametrize(("now", "opening", "lang", "said"), [
    (at(2026, 12, 1, 7, 0), at(2026, 12, 1, 8, 0), "en", "today at 8 AM"),
    (at(2026, 12, 1, 20, 0), at(2026, 12, 2, 8, 0), "en", "tomorrow at 8 AM"),
    (at(2026, 12, 4, 18, 0), at(2026, 12, 7, 8, 0), "en", "on Monday, December 7 at 8 AM"),
    (at(2026, 12, 1, 7, 0), at(2026, 12, 1, 8, 0), "es", "hoy a las 8 de la mañana"),
    (at(2026, 12, 1, 20, 0), at(2026, 12, 2, 8, 0), "es", "mañana a las 8 de la mañana"),
    (at(2026, 12, 25, 10, 0), at(2026, 12, 28, 8, 0), "es", "el lunes 28 de diciembre a las 8 de la mañana"),
    (at(2026, 12, 1, 12, 0), at(2026, 12, 1, 13, 30), "es", "hoy a la 1:30 de la tarde"),
    # New Year's Eve to an opening in the next year is still "tomorrow".
    (at(2026, 12, 31, 20, 0), at(2027, 1, 1, 8, 0), "en", "tomorrow at 8 AM"),
])
def test_the_next_opening_is_said_relative_to_now(now, opening, lang, said):
    assert spoken_opening(opening, now, lang) == said


def test_now_in_another_zone_is_compared_in_the_openings_zone():
    """A UTC 'now' of 02:00 is still the evening before in Hartford."""
    now_utc = datetime(2026, 12, 2, 2, 0, tzinfo=ZoneInfo("UTC"))
    assert spoken_opening(at(2026, 12, 2, 8, 0), now_utc, "en") == "tomorrow at 8 AM"


def test_times_dates_and_hours_in_both_languages():
    assert spoken_time(time(17, 0), "en") == "5 PM"
    assert spoken_time(time(8, 0), "es") == "8 de la mañana"
    assert spoken_date(at(2026, 11, 24), "en") == "Tuesday, November 24"
    assert spoken_date(at(2026, 11, 24), "es") == "martes 24 de noviembre"
    week = [([0, 1, 2, 3, 4], time(8, 0), time(17, 0))]
    assert hours_phrase(week, "en") == "Monday to Friday, 8 AM to 5 PM"
    assert hours_phrase(week, "es") == "de lunes a viernes, de 8 de la mañana a 5 de la tarde"
