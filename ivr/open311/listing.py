"""GET requests: the spec's filters, its 90-day window and a page limit, newest first, over indexed columns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from dateutil.parser import isoparse
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ..cases.numbers import parse
from ..models import Case, Department, Open311Request, ServiceType
from ..settings import Open311Settings
from .errors import bad_request, not_found

# The spec's two statuses, as the case service's detailed ones.
STATUS_GROUPS = {"open": ("open", "in_progress", "on_hold"), "closed": ("closed",)}


@dataclass(frozen=True)
class Query:
    """A checked GET requests: either some case numbers, or a window with optional type and status filters."""

    numbers: tuple[str, ...] | None
    service_codes: tuple[str, ...]
    start: datetime
    end: datetime
    statuses: tuple[str, ...]
    page: int
    page_size: int


@dataclass(frozen=True)
class Found:
    """One page of cases with what the documents need beside them."""

    cases: list[Case]
    types: dict[int, ServiceType]
    departments: dict[int, Department]
    extras: dict[int, Open311Request]


def _listed(raw: str | None) -> tuple[str, ...]:
    """A comma-separated argument as its non-empty items."""
    return tuple(dict.fromkeys(item.strip() for item in (raw or "").split(",") if item.strip()))


def _moment(raw: str | None, name: str, zone: tzinfo) -> datetime | None:
    """An ISO 8601 date-time argument; one without an offset is read in the city's time."""
    if not raw:
        return None
    try:
        moment = isoparse(raw.strip())
    except (ValueError, OverflowError):
        raise bad_request(f"{name} must be an ISO 8601 date and time, e.g. 2026-12-01T00:00:00-05:00; "
                          f"got {raw[:40]!r}") from None
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment


def _window(args: Mapping[str, str], settings: Open311Settings, zone: tzinfo, now: datetime) -> tuple:
    """(start, end): the spec's default is the most recent window_days; a wider span is refused."""
    span = timedelta(days=settings.window_days)
    start = _moment(args.get("start_date"), "start_date", zone)
    end = _moment(args.get("end_date"), "end_date", zone)
    if start is None and end is None:
        end = now
    if start is None:
        start = end - span
    if end is None:
        end = start + span
    if start > end:
        raise bad_request("start_date must not be after end_date")
    if end - start > span:
        raise bad_request(f"start_date and end_date may not span more than {settings.window_days} days")
    return start, end


def _whole(raw: str | None, name: str, default: int, highest: int | None = None) -> int:
    """page and page_size (the common paging extension): whole numbers from 1."""
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1 or (highest is not None and int(raw) > highest):
        limit = f" to {highest}" if highest is not None else " or more"
        raise bad_request(f"{name} must be a whole number from 1{limit}, got {raw[:20]!r}")
    return int(raw)


def parse_query(args: Mapping[str, str], settings: Open311Settings, zone: tzinfo, now: datetime) -> Query:
    """Check the arguments of GET requests; raises Open311Error (400) naming what is wrong."""
    ids = _listed(args.get("service_request_id"))
    statuses = _listed(args.get("status"))
    unknown = [status for status in statuses if status not in STATUS_GROUPS]
    if unknown:
        raise bad_request(f"status must be open or closed (comma-separated), got {unknown[0][:20]!r}")
    if len(ids) > settings.page_limit:
        raise bad_request(f"at most {settings.page_limit} service_request_id values at once")
    start, end = _window(args, settings, zone, now)
    page_size = _whole(args.get("page_size"), "page_size", settings.page_limit, settings.page_limit)
    return Query(
        numbers=tuple(number for number in map(parse, ids) if number) if ids else None,
        service_codes=_listed(args.get("service_code")), start=start, end=end,
        statuses=tuple(detailed for status in statuses for detailed in STATUS_GROUPS[status]),
        page=_whole(args.get("page"), "page", 1), page_size=page_size,
    )


def lookups(session: Session) -> tuple[dict[int, ServiceType], dict[int, Department]]:
    """Every service type and department by id (a few dozen rows), so no case row needs a join."""
    return ({row.id: row for row in session.scalars(select(ServiceType))},
            {row.id: row for row in session.scalars(select(Department))})


def _statement(query: Query, types: dict[int, ServiceType]):
    """The SELECT for a query: ids override every other argument, as the spec says."""
    # Events come in one extra query for the whole page: the latest public note is read from them.
    statement = select(Case).options(selectinload(Case.events))
    if query.numbers is not None:
        return statement.where(Case.number.in_(query.numbers)).order_by(Case.requested_at.desc(), Case.id.desc())
    statement = statement.where(Case.requested_at >= query.start, Case.requested_at <= query.end)
    if query.service_codes:
        by_code = {row.code: row.id for row in types.values()}
        missing = [code for code in query.service_codes if code not in by_code]
        if missing:
            raise not_found(f"service_code {missing[0][:40]!r} is not a service")
        statement = statement.where(Case.service_type_id.in_([by_code[code] for code in query.service_codes]))
    if query.statuses:
        statement = statement.where(Case.status.in_(query.statuses))
    return (statement.order_by(Case.requested_at.desc(), Case.id.desc())
            .limit(query.page_size).offset((query.page - 1) * query.page_size))


def _extras(session: Session, case_ids: list[int]) -> dict[int, Open311Request]:
    """What Open311 clients sent beside each case (address_id, media_url, attributes)."""
    if not case_ids:
        return {}
    rows = session.scalars(select(Open311Request).where(Open311Request.case_id.in_(case_ids)))
    return {row.case_id: row for row in rows}


def find_requests(session: Session, query: Query) -> Found:
    """One page of cases for a query, newest first."""
    types, departments = lookups(session)
    found = list(session.scalars(_statement(query, types)))
    return Found(found, types, departments, _extras(session, [case.id for case in found]))


def find_request(session: Session, raw_number: str) -> Found:
    """One case by its number, or 404 (a number failing its check digit is never looked up)."""
    number = parse(raw_number)
    if number is None:
        raise not_found(f"service_request_id {raw_number[:40]!r} is not a case number (its check digit fails)")
    types, departments = lookups(session)
    found = list(session.scalars(select(Case).options(selectinload(Case.events)).where(Case.number == number)))
    if not found:
        raise not_found(f"no service request {number}")
    return Found(found, types, departments, _extras(session, [found[0].id]))
