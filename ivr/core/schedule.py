"""Opening hours, Connecticut holidays and business-time arithmetic for Hartford 311."""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

CLOSED_DATE_NAME = "Closed"
DAY_AFTER_THANKSGIVING_NAME = "Day after Thanksgiving"

# Long enough to cross any real run of holidays; short enough that a schedule that never opens fails fast.
MAX_CONSECUTIVE_CLOSED_DAYS = 366

_TOP_LEVEL_KEYS = frozenset({"timezone", "weekly", "holidays"})
_HOLIDAY_KEYS = frozenset({"country", "subdiv", "day_after_thanksgiving", "extra_closed"})
# Strict patterns because time/date.fromisoformat also accept forms like "0800", "08:00Z" and "2026-W52-4".
_HH_MM = re.compile(r"(?:[01]\d|2[0-3]):[0-5]\d")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

OpenClose = tuple[time, time]


@functools.lru_cache(maxsize=128)
def holidays_for_year(country: str, subdiv: str | None, year: int) -> Mapping[date, str]:
    """Public holidays, observed days included, that the holidays package lists for one year."""
    # Read-only because every caller shares the cached mapping.
    return MappingProxyType(dict(holidays.country_holidays(country, subdiv=subdiv, years=year)))


def us_thanksgiving(year: int) -> date:
    """The fourth Thursday of November."""
    first_of_november = date(year, 11, 1)
    first_thursday = first_of_november + timedelta(days=(3 - first_of_november.weekday()) % 7)
    return first_thursday + timedelta(weeks=3)


@dataclass(frozen=True)
class WeeklyHours:
    """Opening hours per ISO weekday (index 0=Monday .. 6=Sunday); None means closed all day."""

    by_weekday: tuple[OpenClose | None, ...] = (None,) * 7

    def __post_init__(self) -> None:
        if len(self.by_weekday) != 7:
            raise ValueError(f"weekly: expected 7 weekdays, got {len(self.by_weekday)}")
        for weekday, hours in enumerate(self.by_weekday):
            if hours is None:
                continue
            key = f"weekly.{WEEKDAY_KEYS[weekday]}"
            opens, closes = hours
            if not isinstance(opens, time) or not isinstance(closes, time):
                raise ValueError(f"{key}: expected (open, close) times, got {hours!r}")
            # An aware time would be compared against local wall-clock time and silently drift.
            if opens.tzinfo is not None or closes.tzinfo is not None:
                raise ValueError(f"{key}: times must not carry a timezone, got {hours!r}")
            if closes <= opens:
                raise ValueError(
                    f"{key}: close {closes:%H:%M} must be after open {opens:%H:%M} "
                    "(overnight hours are not supported)"
                )

    @classmethod
    def from_mapping(cls, weekly: Mapping[int, OpenClose]) -> WeeklyHours:
        """Build from {weekday: (open, close)}; weekdays left out are closed."""
        by_weekday: list[OpenClose | None] = [None] * 7
        for weekday, hours in weekly.items():
            if isinstance(weekday, bool) or not isinstance(weekday, int) or not 0 <= weekday <= 6:
                raise ValueError(f"weekly: weekday must be an int 0 (Monday) to 6 (Sunday), got {weekday!r}")
            by_weekday[weekday] = tuple(hours)  # type: ignore[assignment]
        return cls(tuple(by_weekday))

    def as_dict(self) -> dict[int, OpenClose]:
        """The {weekday: (open, close)} form used by Schedule.weekly."""
        return {weekday: hours for weekday, hours in enumerate(self.by_weekday) if hours is not None}

    def summary(self) -> list[tuple[list[int], time, time]]:
        """Runs of consecutive weekdays sharing the same hours, for prompts like "Monday to Friday"."""
        groups: list[tuple[list[int], time, time]] = []
        for weekday, hours in enumerate(self.by_weekday):
            if hours is None:
                continue
            if groups and groups[-1][0][-1] == weekday - 1 and groups[-1][1:] == hours:
                groups[-1][0].append(weekday)
            else:
                groups.append(([weekday], *hours))
        return groups


@dataclass(frozen=True)
class Schedule:
    """When Hartford 311 takes calls: weekly hours minus holidays, configured closures and emergencies."""

    timezone: ZoneInfo
    # Left out of the hash because dicts are unhashable; equality still compares it.
    weekly: dict[int, OpenClose] = field(hash=False)
    holiday_country: str
    holiday_subdiv: str | None
    closed_dates: frozenset[date]
    close_day_after_thanksgiving: bool

    def __post_init__(self) -> None:
        if not isinstance(self.timezone, tzinfo):
            raise TypeError(f"timezone must be a ZoneInfo, got {self.timezone!r}")
        hours = WeeklyHours.from_mapping(self.weekly)
        if not hours.as_dict():
            raise ValueError("weekly: at least one weekday needs opening hours")
        # Copies, so later edits to the caller's dict or set cannot change a frozen schedule.
        object.__setattr__(self, "weekly", hours.as_dict())
        object.__setattr__(self, "closed_dates", frozenset(self.closed_dates))
        for closed in self.closed_dates:
            # A datetime never equals a date, so it would silently never match.
            if isinstance(closed, datetime) or not isinstance(closed, date):
                raise ValueError(f"closed_dates: expected dates, got {closed!r}")
        try:
            holidays.country_holidays(self.holiday_country, subdiv=self.holiday_subdiv)
        except NotImplementedError as error:
            raise ValueError(
                f"holidays: unknown country/subdiv {self.holiday_country!r}/{self.holiday_subdiv!r}: {error}"
            ) from error

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any]) -> Schedule:
        """Build from the parsed hours table (config/hours.toml); every key is required."""
        _reject_unknown_keys("", cfg, _TOP_LEVEL_KEYS)
        _require_keys("", cfg, _TOP_LEVEL_KEYS)
        holiday_cfg = cfg["holidays"]
        if not isinstance(holiday_cfg, Mapping):
            raise ValueError(f"holidays: expected a table, got {holiday_cfg!r}")
        _reject_unknown_keys("holidays.", holiday_cfg, _HOLIDAY_KEYS)
        _require_keys("holidays.", holiday_cfg, _HOLIDAY_KEYS)

        country = holiday_cfg["country"]
        if not isinstance(country, str) or not country:
            raise ValueError(f"holidays.country: expected a country code, got {country!r}")
        subdiv = holiday_cfg["subdiv"]
        if not isinstance(subdiv, str):
            raise ValueError(f"holidays.subdiv: expected a subdivision code, got {subdiv!r}")
        day_after_thanksgiving = holiday_cfg["day_after_thanksgiving"]
        if not isinstance(day_after_thanksgiving, bool):
            raise ValueError(
                f"holidays.day_after_thanksgiving: expected true or false, got {day_after_thanksgiving!r}"
            )
        extra_closed = holiday_cfg["extra_closed"]
        if not isinstance(extra_closed, list | tuple):
            raise ValueError(f"holidays.extra_closed: expected a list of dates, got {extra_closed!r}")

        return cls(
            timezone=_parse_timezone(cfg["timezone"]),
            weekly=_parse_weekly(cfg["weekly"]).as_dict(),
            holiday_country=country,
            # TOML has no null, so an empty string is how a config asks for country-level holidays only.
            holiday_subdiv=subdiv or None,
            closed_dates=frozenset(
                _parse_date(f"holidays.extra_closed[{index}]", value)
                for index, value in enumerate(extra_closed)
            ),
            close_day_after_thanksgiving=day_after_thanksgiving,
        )

    @property
    def weekly_hours(self) -> WeeklyHours:
        """The weekly hours as a WeeklyHours value."""
        return WeeklyHours.from_mapping(self.weekly)

    def is_open(self, at: datetime, emergency_closure: bool = False) -> bool:
        """Whether 311 is taking calls at the instant `at`."""
        return self.closed_reason(at, emergency_closure) is None

    def closed_reason(self, at: datetime, emergency_closure: bool = False) -> str | None:
        """None when open, else "emergency_closure", "holiday", "weekend" or "after_hours"."""
        local = self._to_local(at, "at")
        if emergency_closure:
            return "emergency_closure"
        if self.holiday_name(local.date()) is not None:
            return "holiday"
        hours = self.weekly.get(local.weekday())
        if hours is None:
            return "weekend"
        opens, closes = hours
        if not opens <= local.time() < closes:
            return "after_hours"
        return None

    def holiday_name(self, day: date) -> str | None:
        """The reason `day` is closed as a holiday or configured closure, else None."""
        if isinstance(day, datetime):
            raise TypeError("holiday_name takes a date; convert the datetime to the schedule timezone first")
        official = holidays_for_year(self.holiday_country, self.holiday_subdiv, day.year).get(day)
        if official is not None:
            return official
        if self.close_day_after_thanksgiving and day == us_thanksgiving(day.year) + timedelta(days=1):
            return DAY_AFTER_THANKSGIVING_NAME
        if day in self.closed_dates:
            return CLOSED_DATE_NAME
        return None

    def is_business_day(self, day: date) -> bool:
        """Whether `day` has opening hours and is not a holiday or configured closure."""
        return day.weekday() in self.weekly and self.holiday_name(day) is None

    def next_opening(self, at: datetime) -> datetime:
        """`at` itself if open, else the next instant 311 opens; aware, in the schedule timezone."""
        local = self._to_local(at, "at")
        if self.closed_reason(local) is None:
            return local
        at_utc = local.astimezone(UTC)
        for opens, _closes in self._business_windows_from(local.date()):
            if opens > at_utc:
                return opens.astimezone(self.timezone)
        raise AssertionError("unreachable: _business_windows_from never ends")  # pragma: no cover

    def add_business_days(self, start: datetime, days: int) -> datetime:
        """Close of the Nth business day, counting start's day as day 1 if start is before its close."""
        if isinstance(days, bool) or not isinstance(days, int):
            raise TypeError(f"days must be an int, got {days!r}")
        if days < 1:
            raise ValueError(f"days must be at least 1, got {days}")
        start_utc = self._to_local(start, "start").astimezone(UTC)
        remaining = days
        for _opens, closes in self._business_windows_from(start_utc.astimezone(self.timezone).date()):
            # A case logged before close still gets that day's work, so the day counts towards the SLA.
            if closes <= start_utc:
                continue
            remaining -= 1
            if remaining == 0:
                return closes.astimezone(self.timezone)
        raise AssertionError("unreachable: _business_windows_from never ends")  # pragma: no cover

    def add_business_hours(self, start: datetime, hours: float) -> datetime:
        """The instant `hours` of open time have elapsed since `start`; closed time does not count."""
        if isinstance(hours, bool) or not isinstance(hours, int | float) or not math.isfinite(hours):
            raise ValueError(f"hours must be a finite number, got {hours!r}")
        if hours < 0:
            raise ValueError(f"hours must not be negative, got {hours}")
        local = self._to_local(start, "start")
        remaining = timedelta(hours=hours)
        if not remaining:
            return local
        # Arithmetic in UTC: subtracting two datetimes that share a ZoneInfo ignores DST offsets.
        cursor = local.astimezone(UTC)
        for opens, closes in self._business_windows_from(local.date()):
            if closes <= cursor:
                continue
            cursor = max(cursor, opens)
            available = closes - cursor
            if remaining <= available:
                return (cursor + remaining).astimezone(self.timezone)
            remaining -= available
            cursor = closes
        raise AssertionError("unreachable: _business_windows_from never ends")  # pragma: no cover

    def weekly_summary(self) -> list[tuple[list[int], time, time]]:
        """Runs of consecutive weekdays with the same hours, e.g. [([0, 1, 2, 3, 4], 08:00, 17:00)]."""
        return self.weekly_hours.summary()

    def _to_local(self, moment: datetime, name: str) -> datetime:
        """`moment` converted to the schedule timezone, refusing naive datetimes."""
        if not isinstance(moment, datetime):
            raise TypeError(f"{name} must be a datetime, got {moment!r}")
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"{name} must be timezone-aware, got naive {moment.isoformat()}")
        return moment.astimezone(self.timezone)

    def _local_instant_utc(self, day: date, wall_time: time) -> datetime:
        """The UTC instant of a local wall-clock time on `day`."""
        # Going through UTC resolves a wall time that falls in a DST gap to a real instant.
        return datetime.combine(day, wall_time, tzinfo=self.timezone).astimezone(UTC)

    def _business_windows_from(self, first_day: date) -> Iterator[tuple[datetime, datetime]]:
        """(open, close) in UTC for each business day from `first_day` on, without end."""
        day = first_day
        closed_run = 0
        while True:
            hours = self.weekly.get(day.weekday())
            if hours is not None and self.holiday_name(day) is None:
                closed_run = 0
                yield self._local_instant_utc(day, hours[0]), self._local_instant_utc(day, hours[1])
            else:
                closed_run += 1
                if closed_run > MAX_CONSECUTIVE_CLOSED_DAYS:
                    raise ValueError(
                        f"no business day in the {MAX_CONSECUTIVE_CLOSED_DAYS} days before {day}; "
                        "check closed_dates"
                    )
            day += timedelta(days=1)


def _reject_unknown_keys(prefix: str, table: Mapping[str, Any], allowed: frozenset[str]) -> None:
    """Raise on keys we do not understand, so a typo cannot silently fall back to a default."""
    for key in table:
        if key not in allowed:
            raise ValueError(f"{prefix}{key}: unknown key (expected one of {', '.join(sorted(allowed))})")


def _require_keys(prefix: str, table: Mapping[str, Any], required: frozenset[str]) -> None:
    """Raise on a missing key: defaults live in config/hours.toml, not here."""
    for key in sorted(required - set(table)):
        raise ValueError(f"{prefix}{key}: missing required key")


def _parse_timezone(value: Any) -> ZoneInfo:
    """A ZoneInfo for an IANA name such as "America/New_York"."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"timezone: expected an IANA timezone name, got {value!r}")
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"timezone: unknown timezone {value!r}") from error


def _parse_weekly(table: Any) -> WeeklyHours:
    """WeeklyHours from a {"mon": ["08:00", "17:00"], ...} table."""
    if not isinstance(table, Mapping):
        raise ValueError(f"weekly: expected a table of weekday = [open, close], got {table!r}")
    by_weekday: list[OpenClose | None] = [None] * 7
    for key, value in table.items():
        if key not in WEEKDAY_KEYS:
            raise ValueError(
                f"weekly.{key}: unknown weekday key {key!r} (expected one of {', '.join(WEEKDAY_KEYS)})"
            )
        if not isinstance(value, list | tuple) or len(value) != 2:
            raise ValueError(f'weekly.{key}: expected [open, close] like ["08:00", "17:00"], got {value!r}')
        by_weekday[WEEKDAY_KEYS.index(key)] = (
            _parse_time(f"weekly.{key}", value[0]),
            _parse_time(f"weekly.{key}", value[1]),
        )
    # WeeklyHours checks close-after-open and names the weekday key in its error.
    return WeeklyHours(tuple(by_weekday))


def _parse_time(key: str, value: Any) -> time:
    """A naive time from "HH:MM" or a TOML local time."""
    if isinstance(value, time) and value.tzinfo is None:
        return value
    if isinstance(value, str) and _HH_MM.fullmatch(value):
        return time.fromisoformat(value)
    raise ValueError(f'{key}: expected a 24-hour time as "HH:MM", got {value!r}')


def _parse_date(key: str, value: Any) -> date:
    """A date from "YYYY-MM-DD" or a TOML local date."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError as error:
            raise ValueError(f"{key}: invalid date {value!r}: {error}") from error
    raise ValueError(f'{key}: expected a date as "YYYY-MM-DD", got {value!r}')
