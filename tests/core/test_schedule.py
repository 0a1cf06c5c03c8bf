"""Tests for ivr.core.schedule: opening hours, DST, Connecticut holidays and SLA arithmetic."""

import copy
import dataclasses
import re
import tomllib
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivr.core.schedule import Schedule, WeeklyHours, holidays_for_year
from ivr.settings import DEFAULT_CONFIG_DIR

HARTFORD = ZoneInfo("America/New_York")
EST = timedelta(hours=-5)
EDT = timedelta(hours=-4)

# The tests' own hours table (the shipped one, plus a configured closure on Christmas Eve to test those).
HOURS_TOML = """
timezone = "America/New_York"
[weekly]
mon = ["08:00", "17:00"]
tue = ["08:00", "17:00"]
wed = ["08:00", "17:00"]
thu = ["08:00", "17:00"]
fri = ["08:00", "17:00"]
# sat/sun absent = closed
[holidays]
country = "US"
subdiv = "CT"
day_after_thanksgiving = true
extra_closed = ["2026-12-24"]   # ISO dates; may be empty
"""
HOURS_CONFIG = tomllib.loads(HOURS_TOML)

# Every date holidays 0.109 lists for US/CT, checked by hand against the calendar; written out
# literally so that a package upgrade that changes Connecticut's list makes a test fail.
CT_HOLIDAYS = {
    2026: {
        date(2026, 1, 1): "New Year's Day",
        date(2026, 1, 19): "Martin Luther King Jr. Day",
        date(2026, 2, 12): "Lincoln's Birthday",
        date(2026, 2, 16): "Washington's Birthday",
        date(2026, 4, 3): "Good Friday",
        date(2026, 5, 25): "Memorial Day",
        date(2026, 6, 19): "Juneteenth National Independence Day",
        date(2026, 7, 3): "Independence Day (observed)",
        date(2026, 7, 4): "Independence Day",
        date(2026, 9, 7): "Labor Day",
        date(2026, 10, 12): "Columbus Day",
        date(2026, 11, 11): "Veterans Day",
        date(2026, 11, 26): "Thanksgiving Day",
        date(2026, 12, 25): "Christmas Day",
    },
    2027: {
        date(2027, 1, 1): "New Year's Day",
        date(2027, 1, 18): "Martin Luther King Jr. Day",
        date(2027, 2, 12): "Lincoln's Birthday",
        date(2027, 2, 15): "Washington's Birthday",
        date(2027, 3, 26): "Good Friday",
        date(2027, 5, 31): "Memorial Day",
        date(2027, 6, 18): "Juneteenth National Independence Day (observed)",
        date(2027, 6, 19): "Juneteenth National Independence Day",
        date(2027, 7, 4): "Independence Day",
        date(2027, 7, 5): "Independence Day (observed)",
        date(2027, 9, 6): "Labor Day",
        date(2027, 10, 11): "Columbus Day",
        date(2027, 11, 11): "Veterans Day",
        date(2027, 11, 25): "Thanksgiving Day",
        date(2027, 12, 24): "Christmas Day (observed)",
        date(2027, 12, 25): "Christmas Day",
        # New Year's Day 2028 is a Saturday, so Connecticut observes it in 2027.
        date(2027, 12, 31): "New Year's Day (observed)",
    },
}

# Weekday closures under the default config: (closed day, name, next business day).
WEEKDAY_CLOSURES = [
    (date(2026, 1, 1), "New Year's Day", date(2026, 1, 2)),
    (date(2026, 1, 19), "Martin Luther King Jr. Day", date(2026, 1, 20)),
    (date(2026, 2, 12), "Lincoln's Birthday", date(2026, 2, 13)),
    (date(2026, 2, 16), "Washington's Birthday", date(2026, 2, 17)),
    (date(2026, 4, 3), "Good Friday", date(2026, 4, 6)),
    (date(2026, 5, 25), "Memorial Day", date(2026, 5, 26)),
    (date(2026, 6, 19), "Juneteenth National Independence Day", date(2026, 6, 22)),
    (date(2026, 7, 3), "Independence Day (observed)", date(2026, 7, 6)),
    (date(2026, 9, 7), "Labor Day", date(2026, 9, 8)),
    (date(2026, 10, 12), "Columbus Day", date(2026, 10, 13)),
    (date(2026, 11, 11), "Veterans Day", date(2026, 11, 12)),
    (date(2026, 11, 26), "Thanksgiving Day", date(2026, 11, 30)),
    (date(2026, 11, 27), "Day after Thanksgiving", date(2026, 11, 30)),
    (date(2026, 12, 24), "Closed", date(2026, 12, 28)),
    (date(2026, 12, 25), "Christmas Day", date(2026, 12, 28)),
    (date(2027, 1, 1), "New Year's Day", date(2027, 1, 4)),
    (date(2027, 1, 18), "Martin Luther King Jr. Day", date(2027, 1, 19)),
    # Lincoln's Birthday (Fri) and Washington's Birthday (Mon) make a four-day closure.
    (date(2027, 2, 12), "Lincoln's Birthday", date(2027, 2, 16)),
    (date(2027, 2, 15), "Washington's Birthday", date(2027, 2, 16)),
    (date(2027, 3, 26), "Good Friday", date(2027, 3, 29)),
    (date(2027, 5, 31), "Memorial Day", date(2027, 6, 1)),
    (date(2027, 6, 18), "Juneteenth National Independence Day (observed)", date(2027, 6, 21)),
    (date(2027, 7, 5), "Independence Day (observed)", date(2027, 7, 6)),
    (date(2027, 9, 6), "Labor Day", date(2027, 9, 7)),
    (date(2027, 10, 11), "Columbus Day", date(2027, 10, 12)),
    (date(2027, 11, 11), "Veterans Day", date(2027, 11, 12)),
    (date(2027, 11, 25), "Thanksgiving Day", date(2027, 11, 29)),
    (date(2027, 11, 26), "Day after Thanksgiving", date(2027, 11, 29)),
    (date(2027, 12, 24), "Christmas Day (observed)", date(2027, 12, 27)),
    (date(2027, 12, 31), "New Year's Day (observed)", date(2028, 1, 3)),
]

WEEKEND_HOLIDAYS = [
    (date(2026, 7, 4), "Independence Day"),
    (date(2027, 6, 19), "Juneteenth National Independence Day"),
    (date(2027, 7, 4), "Independence Day"),
    (date(2027, 12, 25), "Christmas Day"),
]


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A Hartford wall-clock instant."""
    return datetime(year, month, day, hour, minute, tzinfo=HARTFORD)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A UTC instant."""
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def config_with(**changes: object) -> dict:
    """A deep copy of the default config with dotted keys ("weekly.sat") set or, for None, removed."""
    cfg = copy.deepcopy(HOURS_CONFIG)
    for dotted_key, value in changes.items():
        *parents, leaf = dotted_key.split(".")
        table = cfg
        for parent in parents:
            table = table[parent]
        if value is None:
            del table[leaf]
        else:
            table[leaf] = value
    return cfg


@pytest.fixture(scope="module")
def hartford() -> Schedule:
    return Schedule.from_config(HOURS_CONFIG)


# --- configuration -----------------------------------------------------------------------------


def test_shipped_hours_file_builds_the_documented_schedule():
    """config/hours.toml itself: Monday to Friday 8 to 5 in Hartford, Connecticut holidays and the day after."""
    with (DEFAULT_CONFIG_DIR / "hours.toml").open("rb") as handle:
        shipped = Schedule.from_config(tomllib.load(handle))
    assert shipped.timezone == HARTFORD
    assert shipped.weekly == {day: (time(8, 0), time(17, 0)) for day in range(5)}
    assert shipped.is_open(datetime(2026, 12, 1, 10, 0, tzinfo=HARTFORD))
    assert not shipped.is_open(datetime(2026, 12, 1, 17, 0, tzinfo=HARTFORD))
    assert not shipped.is_open(datetime(2026, 12, 5, 10, 0, tzinfo=HARTFORD))  # Saturday
    assert shipped.closed_reason(datetime(2026, 11, 27, 10, 0, tzinfo=HARTFORD)) == "holiday"
    assert shipped.closed_reason(datetime(2026, 12, 25, 10, 0, tzinfo=HARTFORD)) == "holiday"


def test_from_config_builds_default_schedule(hartford):
    weekday_hours = (time(8, 0), time(17, 0))
    assert hartford.timezone == HARTFORD
    assert hartford.weekly == {
        0: weekday_hours,
        1: weekday_hours,
        2: weekday_hours,
        3: weekday_hours,
        4: weekday_hours,
    }
    assert hartford.holiday_country == "US"
    assert hartford.holiday_subdiv == "CT"
    assert hartford.closed_dates == frozenset({date(2026, 12, 24)})
    assert hartford.close_day_after_thanksgiving is True


def test_from_config_accepts_toml_native_times_and_dates():
    parsed = tomllib.loads(
        'timezone = "America/New_York"\n'
        "[weekly]\nsat = [09:00:00, 12:30:00]\n"
        '[holidays]\ncountry = "US"\nsubdiv = "CT"\nday_after_thanksgiving = true\nextra_closed = [2026-03-10]\n'
    )
    schedule = Schedule.from_config(parsed)
    assert schedule.weekly == {5: (time(9, 0), time(12, 30))}
    assert schedule.closed_dates == frozenset({date(2026, 3, 10)})


def test_from_config_does_not_modify_its_input():
    cfg = copy.deepcopy(HOURS_CONFIG)
    Schedule.from_config(cfg)
    assert cfg == HOURS_CONFIG


@pytest.mark.parametrize(
    ("cfg", "expected_fragments"),
    [
        pytest.param(
            config_with(**{"weekly.funday": ["08:00", "17:00"]}), ["weekly.funday", "'funday'"], id="weekday"
        ),
        pytest.param(
            config_with(**{"weekly.mon": ["17:00", "08:00"]}), ["weekly.mon", "17:00", "08:00"], id="reversed"
        ),
        pytest.param(
            config_with(**{"weekly.tue": ["09:00", "09:00"]}), ["weekly.tue", "09:00"], id="empty-day"
        ),
        pytest.param(
            config_with(**{"weekly.wed": ["8am", "17:00"]}), ["weekly.wed", "'8am'"], id="time-format"
        ),
        pytest.param(
            config_with(**{"weekly.thu": ["08:00", "24:00"]}), ["weekly.thu", "'24:00'"], id="time-range"
        ),
        pytest.param(config_with(**{"weekly.fri": ["08:00"]}), ["weekly.fri", "['08:00']"], id="one-time"),
        pytest.param(
            config_with(**{"holidays.extra_closed": ["2026-13-01"]}),
            ["holidays.extra_closed[0]", "'2026-13-01'"],
            id="date-range",
        ),
        pytest.param(
            config_with(**{"holidays.extra_closed": ["2026-12-24", "12/31/2026"]}),
            ["holidays.extra_closed[1]", "'12/31/2026'"],
            id="date-format",
        ),
        pytest.param(
            config_with(timezone="Mars/Olympus_Mons"), ["timezone", "'Mars/Olympus_Mons'"], id="timezone"
        ),
        pytest.param(
            config_with(timezone="EST5EDT/../x"), ["timezone", "'EST5EDT/../x'"], id="timezone-path"
        ),
        pytest.param(config_with(**{"holidays.subdiv": "ZZ"}), ["holidays", "'ZZ'"], id="subdiv"),
        pytest.param(config_with(**{"holidays.country": "XX"}), ["holidays", "'XX'"], id="country"),
        pytest.param(
            config_with(**{"holidays.day_after_thanksgiving": "yes"}),
            ["holidays.day_after_thanksgiving", "'yes'"],
            id="flag-type",
        ),
        pytest.param(
            config_with(**{"holidays.day_after_thanksgivng": False}),
            ["holidays.day_after_thanksgivng", "unknown key"],
            id="typo-key",
        ),
        pytest.param(config_with(hours={}), ["hours", "unknown key"], id="top-level-key"),
        pytest.param(config_with(weekly=None), ["weekly", "missing"], id="missing-weekly"),
        pytest.param(config_with(weekly={}), ["weekly", "at least one weekday"], id="never-open"),
    ],
)
def test_bad_config_raises_value_error_naming_key_and_value(cfg, expected_fragments):
    with pytest.raises(ValueError) as raised:
        Schedule.from_config(cfg)
    for fragment in expected_fragments:
        assert fragment in str(raised.value)


def test_weekly_hours_rejects_close_before_open():
    with pytest.raises(ValueError, match=re.escape("weekly.sat: close 09:00 must be after open 12:00")):
        WeeklyHours.from_mapping({5: (time(12, 0), time(9, 0))})


def test_schedule_is_frozen_hashable_and_copies_its_weekly_dict():
    weekly = {0: (time(8, 0), time(17, 0))}
    rules = {"holiday_country": "US", "holiday_subdiv": "CT", "closed_dates": frozenset(),
             "close_day_after_thanksgiving": True}
    schedule = Schedule(timezone=HARTFORD, weekly=weekly, **rules)
    weekly[1] = (time(8, 0), time(17, 0))
    assert schedule.weekly == {0: (time(8, 0), time(17, 0))}
    assert hash(schedule) == hash(Schedule(timezone=HARTFORD, weekly={0: (time(8, 0), time(17, 0))}, **rules))
    with pytest.raises(dataclasses.FrozenInstanceError):
        schedule.holiday_subdiv = "NY"  # type: ignore[misc]


def test_holiday_lookups_are_cached_per_year(hartford):
    holidays_for_year.cache_clear()
    hartford.holiday_name(date(2026, 1, 1))
    hartford.is_open(local(2026, 7, 6, 10))
    hartford.holiday_name(date(2027, 1, 1))
    info = holidays_for_year.cache_info()
    assert (info.misses, info.hits) == (2, 1)
    with pytest.raises(TypeError):
        holidays_for_year("US", "CT", 2026)[date(2026, 3, 10)] = "Not a holiday"  # type: ignore[index]


# --- DST ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("instant", "wall_time", "offset", "expected_open"),
    [
        # 2026-03-08 spring forward: 08:00 moves from 13:00Z to 12:00Z.
        pytest.param(utc(2026, 3, 6, 12, 59), time(7, 59), EST, False, id="2026-03-fri-before-0759"),
        pytest.param(utc(2026, 3, 6, 13, 0), time(8, 0), EST, True, id="2026-03-fri-before-0800"),
        pytest.param(utc(2026, 3, 8, 16, 0), time(12, 0), EDT, False, id="2026-03-change-sunday"),
        pytest.param(utc(2026, 3, 9, 11, 59), time(7, 59), EDT, False, id="2026-03-mon-after-0759"),
        pytest.param(utc(2026, 3, 9, 12, 0), time(8, 0), EDT, True, id="2026-03-mon-after-0800"),
        pytest.param(utc(2026, 3, 9, 20, 59), time(16, 59), EDT, True, id="2026-03-mon-after-1659"),
        pytest.param(utc(2026, 3, 9, 21, 0), time(17, 0), EDT, False, id="2026-03-mon-after-1700"),
        # 2026-11-01 fall back: 08:00 moves from 12:00Z to 13:00Z.
        pytest.param(utc(2026, 10, 30, 12, 59), time(8, 59), EDT, True, id="2026-10-fri-before-0859"),
        pytest.param(utc(2026, 11, 1, 16, 0), time(11, 0), EST, False, id="2026-11-change-sunday"),
        pytest.param(utc(2026, 11, 2, 12, 59), time(7, 59), EST, False, id="2026-11-mon-after-0759"),
        pytest.param(utc(2026, 11, 2, 13, 0), time(8, 0), EST, True, id="2026-11-mon-after-0800"),
        pytest.param(utc(2026, 11, 2, 21, 59), time(16, 59), EST, True, id="2026-11-mon-after-1659"),
        pytest.param(utc(2026, 11, 2, 22, 0), time(17, 0), EST, False, id="2026-11-mon-after-1700"),
        # 2027-03-14 spring forward.
        pytest.param(utc(2027, 3, 12, 12, 59), time(7, 59), EST, False, id="2027-03-fri-before-0759"),
        pytest.param(utc(2027, 3, 15, 11, 59), time(7, 59), EDT, False, id="2027-03-mon-after-0759"),
        pytest.param(utc(2027, 3, 15, 12, 0), time(8, 0), EDT, True, id="2027-03-mon-after-0800"),
        pytest.param(utc(2027, 3, 15, 21, 0), time(17, 0), EDT, False, id="2027-03-mon-after-1700"),
        # 2027-11-07 fall back.
        pytest.param(utc(2027, 11, 5, 12, 59), time(8, 59), EDT, True, id="2027-11-fri-before-0859"),
        pytest.param(utc(2027, 11, 8, 12, 59), time(7, 59), EST, False, id="2027-11-mon-after-0759"),
        pytest.param(utc(2027, 11, 8, 13, 0), time(8, 0), EST, True, id="2027-11-mon-after-0800"),
        pytest.param(utc(2027, 11, 8, 21, 59), time(16, 59), EST, True, id="2027-11-mon-after-1659"),
    ],
)
def test_open_around_dst_changes(hartford, instant, wall_time, offset, expected_open):
    in_hartford = instant.astimezone(HARTFORD)
    assert (in_hartford.time(), in_hartford.utcoffset()) == (wall_time, offset)
    assert hartford.is_open(instant) is expected_open


def test_1259_utc_is_0759_est_in_november_but_0859_edt_in_october(hartford):
    october = utc(2026, 10, 30, 12, 59)
    november = utc(2026, 11, 2, 12, 59)
    assert october.astimezone(HARTFORD).strftime("%H:%M %Z") == "08:59 EDT"
    assert november.astimezone(HARTFORD).strftime("%H:%M %Z") == "07:59 EST"
    assert hartford.is_open(october)
    assert hartford.closed_reason(november) == "after_hours"


def test_instants_in_other_timezones_are_converted(hartford):
    # 05:30 in Los Angeles is 08:30 in Hartford.
    assert hartford.is_open(datetime(2026, 3, 10, 5, 30, tzinfo=ZoneInfo("America/Los_Angeles")))
    assert not hartford.is_open(datetime(2026, 3, 10, 4, 59, tzinfo=ZoneInfo("America/Los_Angeles")))


# --- holidays ----------------------------------------------------------------------------------


@pytest.mark.parametrize("year", [2026, 2027])
def test_package_lists_exactly_these_connecticut_holidays(year):
    assert dict(holidays_for_year("US", "CT", year)) == CT_HOLIDAYS[year]


@pytest.mark.parametrize(
    ("closed_day", "name", "next_business_day"), WEEKDAY_CLOSURES, ids=[str(c[0]) for c in WEEKDAY_CLOSURES]
)
def test_weekday_holidays_closed_and_next_business_day_open(hartford, closed_day, name, next_business_day):
    assert closed_day.weekday() < 5
    at_ten = local(closed_day.year, closed_day.month, closed_day.day, 10)
    assert not hartford.is_open(at_ten)
    assert hartford.closed_reason(at_ten) == "holiday"
    assert hartford.holiday_name(closed_day) == name
    assert not hartford.is_business_day(closed_day)

    assert hartford.is_business_day(next_business_day)
    assert hartford.is_open(local(next_business_day.year, next_business_day.month, next_business_day.day, 10))
    assert hartford.next_opening(at_ten) == local(
        next_business_day.year, next_business_day.month, next_business_day.day, 8
    )


@pytest.mark.parametrize(("closed_day", "name"), WEEKEND_HOLIDAYS, ids=[str(h[0]) for h in WEEKEND_HOLIDAYS])
def test_weekend_holidays_report_holiday_rather_than_weekend(hartford, closed_day, name):
    assert closed_day.weekday() >= 5
    assert hartford.holiday_name(closed_day) == name
    assert hartford.closed_reason(local(closed_day.year, closed_day.month, closed_day.day, 10)) == "holiday"


def test_ordinary_weekdays_are_not_holidays(hartford):
    assert hartford.holiday_name(date(2026, 3, 10)) is None
    # Election Day is not a Connecticut legal holiday.
    assert hartford.holiday_name(date(2026, 11, 3)) is None
    assert hartford.is_open(local(2026, 11, 3, 10))


def test_day_after_thanksgiving_can_be_kept_open():
    schedule = Schedule.from_config(config_with(**{"holidays.day_after_thanksgiving": False}))
    assert schedule.holiday_name(date(2026, 11, 27)) is None
    assert schedule.is_open(local(2026, 11, 27, 10))
    assert not schedule.is_open(local(2026, 11, 26, 10))


def test_holiday_name_refuses_datetimes(hartford):
    with pytest.raises(TypeError):
        hartford.holiday_name(local(2026, 12, 25, 10))


# --- hours and closed reasons ------------------------------------------------------------------


def test_weekends_closed(hartford):
    for day in (local(2026, 3, 7, 10), local(2026, 3, 8, 10), local(2027, 1, 9, 12), local(2027, 1, 10, 12)):
        assert not hartford.is_open(day)
        assert hartford.closed_reason(day) == "weekend"


def test_weekday_boundaries(hartford):
    assert not hartford.is_open(local(2026, 3, 10, 7, 59))
    assert hartford.is_open(local(2026, 3, 10, 8, 0))
    assert hartford.is_open(local(2026, 3, 10, 16, 59))
    assert not hartford.is_open(local(2026, 3, 10, 17, 0))
    assert hartford.is_open(local(2026, 3, 10, 17, 0) - timedelta(microseconds=1))


def test_extra_closed_dates_are_closed():
    schedule = Schedule.from_config(config_with(**{"holidays.extra_closed": ["2026-03-10", "2027-08-20"]}))
    assert schedule.closed_reason(local(2026, 3, 10, 10)) == "holiday"
    assert schedule.holiday_name(date(2027, 8, 20)) == "Closed"
    assert schedule.is_open(local(2026, 3, 11, 10))
    # Replacing the list drops the default 2026-12-24 closure.
    assert schedule.is_open(local(2026, 12, 24, 10))


def test_emergency_closure_overrides_everything(hartford):
    tuesday_ten = local(2026, 3, 10, 10)
    assert hartford.is_open(tuesday_ten)
    assert not hartford.is_open(tuesday_ten, emergency_closure=True)
    assert hartford.closed_reason(tuesday_ten, emergency_closure=True) == "emergency_closure"
    assert hartford.closed_reason(local(2026, 12, 25, 10), emergency_closure=True) == "emergency_closure"
    assert hartford.closed_reason(local(2026, 3, 7, 10), emergency_closure=True) == "emergency_closure"


@pytest.mark.parametrize(
    ("instant", "reason"),
    [
        (local(2026, 3, 10, 10), None),
        (local(2026, 3, 10, 7, 59), "after_hours"),
        (local(2026, 3, 10, 17), "after_hours"),
        (local(2026, 3, 10, 23, 30), "after_hours"),
        (local(2026, 3, 14, 10), "weekend"),
        (local(2026, 12, 25, 10), "holiday"),
        (local(2026, 12, 25, 3), "holiday"),
        (local(2026, 12, 24, 10), "holiday"),
    ],
)
def test_closed_reason_values(hartford, instant, reason):
    assert hartford.closed_reason(instant) == reason
    assert hartford.is_open(instant) is (reason is None)


@pytest.mark.parametrize(
    "call",
    [
        lambda s, naive: s.is_open(naive),
        lambda s, naive: s.closed_reason(naive),
        lambda s, naive: s.next_opening(naive),
        lambda s, naive: s.add_business_days(naive, 1),
        lambda s, naive: s.add_business_hours(naive, 1),
    ],
    ids=["is_open", "closed_reason", "next_opening", "add_business_days", "add_business_hours"],
)
def test_naive_datetimes_rejected(hartford, call):
    with pytest.raises(ValueError, match="must be timezone-aware"):
        call(hartford, datetime(2026, 3, 10, 10, 0))


# --- next opening ------------------------------------------------------------------------------


def test_next_opening_across_thanksgiving_weekend(hartford):
    opening = hartford.next_opening(local(2026, 11, 25, 18))
    assert opening == local(2026, 11, 30, 8)
    assert opening.tzinfo == HARTFORD
    assert opening.astimezone(UTC) == utc(2026, 11, 30, 13)


def test_next_opening_when_open_is_now(hartford):
    now = utc(2026, 3, 10, 15)
    opening = hartford.next_opening(now)
    assert opening == now
    assert opening.tzinfo == HARTFORD


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (local(2026, 3, 10, 6, 0), local(2026, 3, 10, 8)),
        (local(2026, 3, 10, 17, 0), local(2026, 3, 11, 8)),
        (local(2026, 3, 13, 17, 30), local(2026, 3, 16, 8)),
        # Across the spring-forward weekend the opening is 12:00Z, no longer 13:00Z.
        (utc(2026, 3, 7, 12), utc(2026, 3, 9, 12)),
        # Christmas Eve (configured), Christmas and the weekend.
        (local(2026, 12, 23, 17), local(2026, 12, 28, 8)),
        # Observed New Year's Day 2028 falls on Friday 2027-12-31.
        (local(2027, 12, 30, 20), local(2028, 1, 3, 8)),
    ],
)
def test_next_opening(hartford, at, expected):
    assert hartford.next_opening(at) == expected


# --- SLA arithmetic ----------------------------------------------------------------------------


def test_add_three_business_days_across_thanksgiving(hartford):
    # Wed 25th counts as day 1, then Mon 30th and Tue 1st.
    due = hartford.add_business_days(local(2026, 11, 25, 10), 3)
    assert due == local(2026, 12, 1, 17)
    assert due.tzinfo == HARTFORD


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (local(2026, 3, 10, 10), 1, local(2026, 3, 10, 17)),
        (local(2026, 3, 10, 7), 1, local(2026, 3, 10, 17)),
        # Logged at close, so the day has no work left and Wednesday is day 1.
        (local(2026, 3, 10, 17), 1, local(2026, 3, 11, 17)),
        (local(2026, 11, 25, 18), 1, local(2026, 11, 30, 17)),
        (local(2026, 3, 14, 10), 2, local(2026, 3, 17, 17)),
        (local(2026, 12, 25, 10), 5, local(2027, 1, 4, 17)),
    ],
)
def test_add_business_days(hartford, start, days, expected):
    assert hartford.add_business_days(start, days) == expected


def test_add_business_days_rejects_non_positive_and_fractional_days(hartford):
    with pytest.raises(ValueError):
        hartford.add_business_days(local(2026, 3, 10, 10), 0)
    with pytest.raises(TypeError):
        hartford.add_business_days(local(2026, 3, 10, 10), 1.5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("start", "hours", "expected"),
    [
        pytest.param(local(2026, 3, 10, 10), 2, local(2026, 3, 10, 12), id="same-day"),
        pytest.param(local(2026, 3, 10, 8), 9, local(2026, 3, 10, 17), id="exactly-to-close"),
        pytest.param(local(2026, 3, 10, 15), 4, local(2026, 3, 11, 10), id="over-closed-night"),
        pytest.param(local(2026, 3, 10, 20), 1.5, local(2026, 3, 11, 9, 30), id="start-at-night"),
        pytest.param(local(2026, 11, 25, 15), 4, local(2026, 11, 30, 10), id="over-thanksgiving"),
        pytest.param(local(2026, 12, 23, 16), 2, local(2026, 12, 28, 9), id="over-christmas"),
        pytest.param(local(2026, 10, 30, 16), 2, utc(2026, 11, 2, 14), id="over-fall-back"),
        pytest.param(local(2026, 3, 10, 10), 0, local(2026, 3, 10, 10), id="zero"),
        pytest.param(local(2026, 3, 14, 10), 0, local(2026, 3, 14, 10), id="zero-while-closed"),
    ],
)
def test_add_business_hours(hartford, start, hours, expected):
    due = hartford.add_business_hours(start, hours)
    assert due == expected
    assert due.tzinfo == HARTFORD


@pytest.mark.parametrize("hours", [-1, float("nan"), float("inf")])
def test_add_business_hours_rejects_bad_hours(hartford, hours):
    with pytest.raises(ValueError):
        hartford.add_business_hours(local(2026, 3, 10, 10), hours)


# --- summary -----------------------------------------------------------------------------------


def test_weekly_summary_of_default_config(hartford):
    assert hartford.weekly_summary() == [([0, 1, 2, 3, 4], time(8, 0), time(17, 0))]


def test_weekly_summary_splits_on_different_hours_and_gaps():
    schedule = Schedule.from_config(
        config_with(
            weekly={
                "mon": ["08:00", "17:00"],
                "tue": ["08:00", "17:00"],
                "thu": ["08:00", "17:00"],
                "fri": ["08:00", "16:00"],
                "sat": ["09:00", "12:00"],
                "sun": ["09:00", "12:00"],
            }
        )
    )
    assert schedule.weekly_summary() == [
        ([0, 1], time(8, 0), time(17, 0)),
        ([3], time(8, 0), time(17, 0)),
        ([4], time(8, 0), time(16, 0)),
        ([5, 6], time(9, 0), time(12, 0)),
    ]


# --- properties --------------------------------------------------------------------------------

_CLOSED_WEEKDAYS_2026_2027 = {closed_day for closed_day, _name, _next in WEEKDAY_CLOSURES}
instants_2026_2027 = st.datetimes(
    min_value=datetime(2026, 1, 1, 5), max_value=datetime(2027, 12, 31, 12), timezones=st.just(UTC)
)
quarter_hours = st.integers(min_value=0, max_value=120).map(lambda quarters: quarters / 4)


@given(instants_2026_2027)
def test_is_open_matches_independent_rule(hartford, instant):
    wall = instant.astimezone(HARTFORD)
    expected = (
        wall.weekday() < 5
        and time(8) <= wall.time() < time(17)
        and wall.date() not in _CLOSED_WEEKDAYS_2026_2027
    )
    assert hartford.is_open(instant) is expected


@given(instants_2026_2027)
def test_next_opening_is_open_and_not_earlier(hartford, instant):
    opening = hartford.next_opening(instant)
    assert opening >= instant
    assert hartford.is_open(opening)
    if not hartford.is_open(instant):
        assert opening.time() == time(8)
        # Nothing in between is open: one minute before the opening is still closed.
        assert not hartford.is_open(opening - timedelta(minutes=1))


@given(instants_2026_2027, quarter_hours, quarter_hours)
def test_add_business_hours_is_additive(hartford, instant, first, second):
    stepwise = hartford.add_business_hours(hartford.add_business_hours(instant, first), second)
    assert stepwise == hartford.add_business_hours(instant, first + second)
    assert stepwise >= instant
