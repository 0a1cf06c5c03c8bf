"""Accountability: which cases are overdue, and how often each department and type met its SLA."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from ..models import Case, Department, ServiceType


@dataclass(frozen=True)
class Compliance:
    """Cases requested in a period and how they fared against the expected date (type None: the department)."""

    department_code: str
    department_name: str
    type_code: str | None
    type_name: str | None
    cases: int  # requested in the period
    met: int  # closed by the expected date
    missed: int  # closed after it, or still open past it
    pending: int  # still open, not yet due
    no_sla: int  # of a type with no expected date

    @property
    def judged(self) -> int:
        """Cases whose outcome against the SLA is known."""
        return self.met + self.missed

    @property
    def rate(self) -> float | None:
        """Share of judged cases that met the SLA (None when none can be judged yet)."""
        return self.met / self.judged if self.judged else None


def is_overdue(case_row: Case, now: datetime) -> bool:
    """Past the expected date and not closed."""
    return case_row.status != "closed" and case_row.expected_at is not None and case_row.expected_at < now


def overdue_clause(now: datetime):
    """The SQL form of is_overdue: closed_at IS NULL is how the open-case indexes know an open case."""
    return and_(Case.closed_at.is_(None), Case.expected_at < now)


def _outcomes(now: datetime) -> dict:
    """Per-row SLA outcome as 0/1 expressions, summed by the callers."""
    closed = Case.status == "closed"
    closed_on = func.coalesce(Case.closed_at, Case.updated_at)
    dated = Case.expected_at.is_not(None)
    met = and_(dated, closed, closed_on <= Case.expected_at)
    missed = and_(dated, closed, closed_on > Case.expected_at) | and_(dated, ~closed, Case.expected_at < now)
    pending = and_(dated, ~closed, Case.expected_at >= now)
    return {name: func.sum(case((condition, 1), else_=0))
            for name, condition in (("met", met), ("missed", missed), ("pending", pending),
                                    ("no_sla", ~dated))}


def compliance_by_type(session: Session, start: datetime, end: datetime, now: datetime,
                       department_id: int | None = None) -> list[Compliance]:
    """Compliance per department and service type for cases requested in [start, end), by department then type."""
    outcomes = _outcomes(now)
    query = (select(Department.code, Department.name_en, ServiceType.code, ServiceType.name_en, func.count(Case.id),
                    *outcomes.values())
             .join(Department, Department.id == Case.department_id)
             .join(ServiceType, ServiceType.id == Case.service_type_id)
             .where(Case.requested_at >= start, Case.requested_at < end)
             .group_by(Department.code, Department.name_en, ServiceType.code, ServiceType.name_en)
             .order_by(Department.name_en, ServiceType.name_en))
    if department_id is not None:
        query = query.where(Case.department_id == department_id)
    return [Compliance(*row[:5], *(int(value or 0) for value in row[5:])) for row in session.execute(query)]


def by_department(rows: list[Compliance]) -> list[Compliance]:
    """Each department's totals over its types' rows, in the rows' order."""
    totals: dict[str, Compliance] = {}
    for row in rows:
        seen = totals.get(row.department_code)
        totals[row.department_code] = Compliance(
            row.department_code, row.department_name, None, None,
            *(getattr(row, field) + (getattr(seen, field) if seen else 0)
              for field in ("cases", "met", "missed", "pending", "no_sla")))
    return list(totals.values())


def open_and_overdue(session: Session, now: datetime, department_id: int | None = None) -> dict[int, tuple[int, int]]:
    """Department id -> (open cases, overdue cases) right now."""
    overdue = func.sum(case((Case.expected_at < now, 1), else_=0))
    # closed_at alone (the case service sets it exactly when a case is closed): the count then reads only the
    # open cases' (department_id, expected_at) index, never the table rows.
    query = (select(Case.department_id, func.count(), overdue)
             .where(Case.closed_at.is_(None)).group_by(Case.department_id))
    if department_id is not None:
        query = query.where(Case.department_id == department_id)
    return {dept: (int(count), int(late or 0)) for dept, count, late in session.execute(query)}
