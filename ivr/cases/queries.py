"""Finding cases for staff: by number, caller's phone or street, and a department's queue, paged by keyset."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from ..core.phone import normalise_us_number
from ..models import Case
from . import text_search
from .numbers import parse

# Status filters a queue offers: "active" (not closed) is what a department works from.
STATUS_FILTERS = ("active", "open", "in_progress", "on_hold", "closed", "all")
SORTS = ("newest", "oldest", "due")
TEXT_LONGEST = 100


class SearchError(ValueError):
    """A search the desk cannot run; the message says what to fix."""


@dataclass(frozen=True)
class QueueFilter:
    """What a queue shows: one department's cases (None: every department) narrowed by the other fields."""

    department_id: int | None
    service_type_id: int | None = None
    status: str = "active"
    overdue: bool = False
    created_from: datetime | None = None  # inclusive
    created_to: datetime | None = None  # exclusive
    text: str = ""
    sort: str = "newest"

    def check(self) -> None:
        """Refuse a filter that names no known status or sort, or dates the wrong way round."""
        if self.status not in STATUS_FILTERS:
            raise SearchError(f"unknown status filter {self.status!r}; use one of {', '.join(STATUS_FILTERS)}")
        if self.sort not in SORTS:
            raise SearchError(f"unknown sort {self.sort!r}; use one of {', '.join(SORTS)}")
        if self.created_from and self.created_to and self.created_from >= self.created_to:
            raise SearchError("the 'created from' date must come before the 'created to' date")
        _check_text(self.text, allow_number=True)


@dataclass(frozen=True)
class Page:
    """One page of a queue and the cursor of the next (None: this is the last page)."""

    cases: list[Case]
    next_cursor: str | None


# ---- the desk's searches ---------------------------------------------------------------------------------

def by_number(session: Session, raw: str) -> Case | None:
    """The case with this number; a number failing its check digit raises, as the phone refuses it."""
    number = parse(raw or "")
    if number is None:
        raise SearchError("that case number fails its check digit: please check it for a typo")
    return session.scalars(select(Case).where(Case.number == number)).first()


def caller_number(raw: str) -> str:
    """A phone number as the line stores it (+1 and ten digits), or a SearchError."""
    number = normalise_us_number(raw or "")
    if number is None:
        raise SearchError("that is not a ten-digit phone number")
    return number


def by_phone(session: Session, number: str, call_sids: list[str], limit: int) -> list[Case]:
    """Cases with this call-back number or made during one of these calls, newest first."""
    matches = [Case.contact_phone == number]
    if call_sids:
        matches.append(Case.call_sid.in_(call_sids))
    query = select(Case).where(or_(*matches)).order_by(Case.requested_at.desc(), Case.id.desc()).limit(limit)
    return list(session.scalars(query.options(joinedload(Case.service_type), joinedload(Case.department))))


def by_street(session: Session, street: str, limit: int) -> list[Case]:
    """Cases whose location has words starting with these (any case, any status), newest first."""
    if len("".join(text_search.words(street))) < 3:
        raise SearchError("give at least three letters of the street")
    _check_text(street)
    found = text_search.matching(_dialect(session), text_search.words(street), location_only=True)
    query = select(Case).where(found).order_by(Case.requested_at.desc(), Case.id.desc()).limit(limit)
    return list(session.scalars(query.options(joinedload(Case.service_type), joinedload(Case.department))))


def made_during(session: Session, call_sid: str) -> list[Case]:
    """Cases a call created."""
    return list(session.scalars(select(Case).where(Case.call_sid == call_sid).order_by(Case.id)))


def _check_text(text: str, allow_number: bool = False) -> None:
    """Refuse search text that is too long, has too many words, or no letters or digits at all."""
    if len(text) > TEXT_LONGEST:
        raise SearchError(f"search text is limited to {TEXT_LONGEST} characters")
    found = text_search.words(text)
    if len(found) > text_search.MOST_WORDS:
        raise SearchError(f"search for at most {text_search.MOST_WORDS} words")
    if text.strip() and not found and not (allow_number and parse(text)):
        raise SearchError("search for words or numbers: letters and digits (punctuation is ignored)")


def _dialect(session: Session) -> str:
    """The database's kind: each has its own text index."""
    return session.get_bind().dialect.name


# ---- the queue -------------------------------------------------------------------------------------------

def _conditions(filters: QueueFilter, now: datetime, dialect: str) -> list:
    """The WHERE clauses of a filter; each leads with the columns of an index (see migration 0006)."""
    where = []
    if filters.department_id is not None:
        where.append(Case.department_id == filters.department_id)
    if filters.status == "active" or filters.overdue:
        # Not closed: the case service sets closed_at exactly when it closes a case, and the open-case indexes
        # (migration 0006) are partial on this very condition.
        where.append(Case.closed_at.is_(None))
    if filters.status not in ("active", "all"):
        where.append(Case.status == filters.status)
    if filters.overdue:
        where.append(Case.expected_at < now)
    if filters.service_type_id is not None:
        where.append(Case.service_type_id == filters.service_type_id)
    if filters.created_from is not None:
        where.append(Case.requested_at >= filters.created_from)
    if filters.created_to is not None:
        where.append(Case.requested_at < filters.created_to)
    if filters.text.strip():
        where.append(_text_condition(filters.text, dialect))
    return where


def _text_condition(text: str, dialect: str):
    """Words of the description or location, or the case's number (its digits are words no description has)."""
    found = []
    if search_words := text_search.words(text):
        found.append(text_search.matching(dialect, search_words))
    if number := parse(text):
        found.append(Case.number == number)
    return or_(*found)


def encode_cursor(moment: datetime | None, case_id: int) -> str:
    """The position after a row: its sort value and id, safe in a URL."""
    return f"{moment.astimezone(UTC).isoformat() if moment else '-'}_{case_id}"


def decode_cursor(cursor: str) -> tuple[datetime | None, int]:
    """The (sort value, id) in a cursor, or a SearchError for one we did not make."""
    try:
        moment, _, case_id = cursor.rpartition("_")
        value = None if moment == "-" else datetime.fromisoformat(moment)
        if value is not None and value.tzinfo is None:
            raise ValueError("naive")
        return value, int(case_id)
    except ValueError as exc:
        raise SearchError("that page link is damaged; start again from the first page") from exc


def queue_page(session: Session, filters: QueueFilter, now: datetime, size: int, after: str | None = None) -> Page:
    """One page of a queue, sorted and filtered, starting after a cursor: fast at any depth (keyset paging)."""
    filters.check()
    cursor = decode_cursor(after) if after else None
    where = _conditions(filters, now, _dialect(session))
    if filters.sort == "due":
        rows = _due_page(session, where, size, cursor)
    else:
        rows = _requested_page(session, where, size, cursor, newest=filters.sort == "newest")
    more = len(rows) > size
    rows = rows[:size]
    last = rows[-1] if rows else None
    key = (last.expected_at if filters.sort == "due" else last.requested_at) if last else None
    return Page(rows, encode_cursor(key, last.id) if more and last else None)


def _load(session: Session, query) -> list[Case]:
    """Run a page query with the names a list shows loaded alongside."""
    return list(session.scalars(query.options(joinedload(Case.service_type), joinedload(Case.department))))


def _after(column, cursor: tuple[datetime, int], descending: bool) -> list:
    """Rows past the cursor's (value, id) in sort order.

    Spelled as a bound on the column plus a tie-break, not a row-value comparison: both databases then read the
    index from the cursor onwards instead of walking it from the start (SQLite does not range-scan row values).
    """
    value, case_id = cursor
    if descending:
        return [column <= value, or_(column < value, Case.id < case_id)]
    return [column >= value, or_(column > value, Case.id > case_id)]


def _requested_page(session: Session, where: list, size: int, cursor, newest: bool) -> list[Case]:
    """Ordered by request time (then id), after the cursor's row."""
    if cursor is not None:
        if cursor[0] is None:
            raise SearchError("that page link is damaged; start again from the first page")
        where = [*where, *_after(Case.requested_at, cursor, descending=newest)]
    order = (Case.requested_at.desc(), Case.id.desc()) if newest else (Case.requested_at, Case.id)
    return _load(session, select(Case).where(*where).order_by(*order).limit(size + 1))


def _due_page(session: Session, where: list, size: int, cursor) -> list[Case]:
    """Soonest expected first, then cases with no expected date; two index ranges read one after the other."""
    rows: list[Case] = []
    if cursor is None or cursor[0] is not None:
        dated = [*where, Case.expected_at.is_not(None)]
        if cursor is not None:
            dated += _after(Case.expected_at, cursor, descending=False)
        rows = _load(session, select(Case).where(*dated).order_by(Case.expected_at, Case.id).limit(size + 1))
    if len(rows) <= size:
        undated = [*where, Case.expected_at.is_(None)]
        if cursor is not None and cursor[0] is None:
            undated.append(Case.id > cursor[1])
        rows += _load(session, select(Case).where(*undated).order_by(Case.id).limit(size + 1 - len(rows)))
    return rows

