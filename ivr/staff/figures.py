"""The dashboard's figures: calls by hour, day, route and language, outcomes, and each department's cases."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from .. import calls, closures
from ..cases import figures as case_figures
from ..cases import sla
from ..settings import Settings
from .charts import Chart, bar_chart

ROUTES = {"311": "311", "ten-digit": "Ten-digit number", "unknown": "Other number"}
LANGUAGES = {"en": "English", "es": "Spanish"}
# What a call came to, in the order the dashboard lists them.
OUTCOMES = ("Case created", "Status checked", "Transferred to a department", "Put through to a representative",
            "Abandoned mid-report", "Ended otherwise")
MAX_DAYS = 92  # a quarter: the figures are counted from the calls themselves


@dataclass(frozen=True)
class Period:
    """Whole local days, first to last, and the UTC instants they span."""

    first: date
    last: date
    start: datetime
    end: datetime

    @property
    def days(self) -> list[date]:
        """Every day of the period."""
        return [self.first + timedelta(days=offset) for offset in range((self.last - self.first).days + 1)]


def period(first: date, last: date, zone: ZoneInfo) -> Period:
    """The period from `first` to `last` inclusive, in local days; ValueError when it is backwards or too long."""
    if last < first:
        raise ValueError("the period must end on or after the day it starts")
    if (last - first).days + 1 > MAX_DAYS:
        raise ValueError(f"choose a period of at most {MAX_DAYS} days")
    start = datetime.combine(first, time(), zone).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(), zone).astimezone(UTC)
    return Period(first, last, start, end)


@dataclass(frozen=True)
class DepartmentRow:
    """One department's line in the accountability table."""

    name: str
    opened: int
    closed: int
    open_now: int
    overdue_now: int
    met: int
    missed: int
    pending: int
    rate: float | None


@dataclass(frozen=True)
class Dashboard:
    """Everything the dashboard shows, from one reading of the database."""

    period: Period
    total_calls: int
    after_hours: int
    reports_completed: int
    reports_abandoned: int
    outcomes: dict[str, int]
    departments: list[DepartmentRow]
    charts: list[Chart]

    @property
    def after_hours_share(self) -> float | None:
        """Share of calls that came when representatives were not answering."""
        return self.after_hours / self.total_calls if self.total_calls else None


def outcome_of(outcome: str | None, checked_status: bool) -> str:
    """Which of OUTCOMES a call came to (a report beats a status check, a transfer beats both)."""
    outcome = outcome or ""
    if outcome == "case_created":
        return OUTCOMES[0]
    if outcome == calls.ABANDONED_INTAKE:
        return OUTCOMES[4]
    if outcome.startswith("transfer"):
        return OUTCOMES[2]
    if outcome.startswith(("representative", "queue_", "hung_up_in_queue")):
        return OUTCOMES[3]
    return OUTCOMES[1] if checked_status else OUTCOMES[5]


def _closures(session: Session, span: Period) -> list[tuple[datetime, datetime]]:
    """Emergency closures that overlap the period, as (start, end) with an open one ending now or later."""
    return closures.closures_between(session, span.start, span.end)


def _label(table: dict[str, str], code: str) -> str:
    return table.get(code, code)


def _count_calls(rows, settings: Settings, closures: list[tuple[datetime, datetime]]) -> dict:
    """Counters of the calls: per (hour, route), (hour, language), (day, route), (day, language), outcomes."""
    zone = ZoneInfo(settings.hours.timezone)
    counts = {name: Counter() for name in ("hour_route", "hour_lang", "day_route", "day_lang", "outcome")}
    after_hours = 0
    for row in rows:
        local = row.started_at.astimezone(zone)
        route, lang = _label(ROUTES, row.route), _label(LANGUAGES, row.language)
        counts["hour_route"][local.hour, route] += 1
        counts["hour_lang"][local.hour, lang] += 1
        counts["day_route"][local.date(), route] += 1
        counts["day_lang"][local.date(), lang] += 1
        counts["outcome"][outcome_of(row.outcome, row.checked_status)] += 1
        closed = any(start <= row.started_at < end for start, end in closures)
        if not settings.schedule.is_open(row.started_at, emergency_closure=closed):
            after_hours += 1
    return {**counts, "after_hours": after_hours}


def _series(counter: Counter, keys: list, names: list[str]) -> dict[str, list[int]]:
    """One series per name over the keys, from a Counter of (key, name)."""
    return {name: [counter[key, name] for key in keys] for name in names}


def _names(counter: Counter, order: dict[str, str]) -> list[str]:
    """The series names present, in the table's order first."""
    present = {name for _, name in counter}
    known = [label for label in order.values() if label in present]
    return known + sorted(present - set(known))


def _call_charts(counts: dict, span: Period) -> list[Chart]:
    hours = list(range(24))
    hour_labels = [f"{hour:02d}" for hour in hours]
    day_labels = [f"{day:%a %b} {day.day}" for day in span.days]
    routes, langs = _names(counts["hour_route"], ROUTES), _names(counts["hour_lang"], LANGUAGES)
    return [
        bar_chart("hour_route", "Calls by hour of day, by route", "calls", hour_labels,
                  _series(counts["hour_route"], hours, routes)),
        bar_chart("hour_language", "Calls by hour of day, by language", "calls", hour_labels,
                  _series(counts["hour_lang"], hours, langs)),
        bar_chart("day_route", "Calls per day, by route", "calls", day_labels,
                  _series(counts["day_route"], span.days, routes)),
        bar_chart("day_language", "Calls per day, by language", "calls", day_labels,
                  _series(counts["day_lang"], span.days, langs)),
        bar_chart("outcomes", "What calls came to", "calls", list(OUTCOMES),
                  {"Calls": [counts["outcome"][name] for name in OUTCOMES]}),
    ]


def _department_rows(session: Session, span: Period, now: datetime) -> list[DepartmentRow]:
    flows = case_figures.opened_and_closed(session, span.start, span.end)
    backlog = sla.open_and_overdue(session, now)
    compliance = {row.department_code: row
                  for row in sla.by_department(sla.compliance_by_type(session, span.start, span.end, now))}
    rows = []
    for flow in flows:
        judged = compliance.get(flow.code)
        open_now, overdue_now = backlog.get(flow.department_id, (0, 0))
        rows.append(DepartmentRow(_written(flow.name), flow.opened, flow.closed, open_now, overdue_now,
                                  judged.met if judged else 0, judged.missed if judged else 0,
                                  judged.pending if judged else 0, judged.rate if judged else None))
    return rows


def _written(name: str) -> str:
    """A department's name as a heading writes it: 'the Police Department' -> 'Police Department'."""
    return name[4:] if name.startswith("the ") else name


def _department_charts(rows: list[DepartmentRow]) -> list[Chart]:
    names = [row.name for row in rows]
    return [
        bar_chart("cases_flow", "Cases opened and closed per department", "cases", names,
                  {"Opened": [row.opened for row in rows], "Closed": [row.closed for row in rows]}, stacked=False),
        bar_chart("sla", "SLA compliance per department (cases requested in the period)", "% met", names,
                  {"Met the SLA (%)": [round(100 * row.rate) if row.rate is not None else None for row in rows]},
                  percent=True),
        bar_chart("overdue", "Open and overdue cases per department, now", "cases", names,
                  {"Open": [row.open_now for row in rows], "Overdue": [row.overdue_now for row in rows]},
                  stacked=False),
    ]


def build(session: Session, settings: Settings, span: Period, now: datetime) -> Dashboard:
    """Read the period's calls and cases once and draw every chart from those numbers."""
    counts = _count_calls(calls.call_facts(session, span.start, span.end), settings, _closures(session, span))
    outcomes = {name: counts["outcome"][name] for name in OUTCOMES}
    departments = _department_rows(session, span, now)
    reports = [outcomes[OUTCOMES[0]], outcomes[OUTCOMES[4]]]
    charts = _call_charts(counts, span)
    charts.insert(5, bar_chart("reports", "Reports by phone: completed and abandoned", "reports",
                               ["Completed (case created)", "Abandoned mid-report"], {"Reports": reports}))
    charts += _department_charts(departments)
    return Dashboard(period=span, total_calls=sum(outcomes.values()), after_hours=counts["after_hours"],
                     reports_completed=reports[0], reports_abandoned=reports[1], outcomes=outcomes,
                     departments=departments, charts=charts)
