"""Read-only case counts for the supervisor's dashboard: cases opened and closed per department."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import Case, Department


@dataclass(frozen=True)
class DepartmentFlow:
    """One department's cases opened (requested) and closed within a period."""

    department_id: int
    code: str
    name: str
    opened: int
    closed: int


def opened_and_closed(session: Session, start: datetime, end: datetime) -> list[DepartmentFlow]:
    """Every active department (and any inactive one with cases in the period), by name."""
    opened = dict(session.execute(select(Case.department_id, func.count(Case.id))
                                  .where(Case.requested_at >= start, Case.requested_at < end)
                                  .group_by(Case.department_id)).all())
    closed = dict(session.execute(select(Case.department_id, func.count(Case.id))
                                  .where(Case.closed_at >= start, Case.closed_at < end)
                                  .group_by(Case.department_id)).all())
    departments = session.scalars(select(Department).order_by(Department.name_en))
    return [DepartmentFlow(dept.id, dept.code, dept.name_en, opened.get(dept.id, 0), closed.get(dept.id, 0))
            for dept in departments if dept.active or dept.id in opened or dept.id in closed]
