"""The department's queue: its cases with filters, sorting and paging, and its open, overdue and SLA figures."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flask import abort, current_app, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..cases import queries, sla
from ..models import Department, ServiceType
from .auth import current_staff, database, now, role_required
from .case_page import may_see_department
from .query_args import date_arg
from .security import staff_blueprint

bp = staff_blueprint("queue", __name__, "/queue")
PAGE_SIZE = 50
# The summary's compliance covers the cases requested in the last 30 days, unless the page asks for other dates.
SUMMARY_DAYS = 30
EVERY_DEPARTMENT = "all"


def _zone():
    return current_app.extensions["ivr"].line.schedule.timezone


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=_zone())


@bp.get("/")
@role_required("operator", "department", "supervisor")
def index():
    """Department staff go to their queue; operators and supervisors see every department's figures."""
    user = current_staff()
    if user.role == "department":
        return redirect(url_for("queue.department", code=user.department_code))
    today = now().astimezone(_zone()).date()
    start, end = _local_midnight(today - timedelta(days=SUMMARY_DAYS - 1)), _local_midnight(today + timedelta(days=1))
    with database().session() as session:
        departments = list(session.scalars(select(Department).where(Department.active.is_(True))
                                           .order_by(Department.name_en)))
        counts = sla.open_and_overdue(session, now())
        rates = {row.department_code: row for row in
                 sla.by_department(sla.compliance_by_type(session, start, end, now()))}
        return render_template("staff/queue/index.html", departments=departments, counts=counts, rates=rates,
                               days=SUMMARY_DAYS)


def _type_arg(session: Session) -> ServiceType | None:
    """The service type the list is narrowed to, or a 400 for an unknown one."""
    code = request.args.get("type", "").strip()
    if not code:
        return None
    found = session.scalars(select(ServiceType).where(ServiceType.code == code)).first()
    if found is None:
        abort(400, f"There is no service type {code!r}.")
    return found


def _filters(session: Session, department: Department | None) -> queries.QueueFilter:
    """The list's filter from the query string (dates are Hartford days, 'to' included)."""
    created_from, created_to = date_arg("from"), date_arg("to")
    service_type = _type_arg(session)
    return queries.QueueFilter(
        department_id=department.id if department else None,
        service_type_id=service_type.id if service_type else None,
        status=request.args.get("status", "active"),
        overdue=request.args.get("overdue") == "1",
        created_from=_local_midnight(created_from) if created_from else None,
        created_to=_local_midnight(created_to + timedelta(days=1)) if created_to else None,
        text=request.args.get("q", "").strip(),
        sort=request.args.get("sort", "newest"),
    )


def _department(session: Session, code: str) -> Department | None:
    """The department in the URL (None: every department), or 404/403."""
    user = current_staff()
    if code == EVERY_DEPARTMENT:
        if user.role == "department":
            abort(403, "Department staff see their own department's queue.")
        return None
    found = session.scalars(select(Department).where(Department.code == code)).first()
    if found is None:
        abort(404, f"There is no department {code!r}.")
    if not may_see_department(user, found.code):
        abort(403, "This is another department's queue.")
    return found


def _summary(session: Session, department: Department | None) -> dict:
    """Open and overdue right now, and SLA compliance over the last SUMMARY_DAYS days, by type."""
    today = now().astimezone(_zone()).date()
    start, end = _local_midnight(today - timedelta(days=SUMMARY_DAYS - 1)), _local_midnight(today + timedelta(days=1))
    dept_id = department.id if department else None
    counts = sla.open_and_overdue(session, now(), department_id=dept_id)
    rows = sla.compliance_by_type(session, start, end, now(), department_id=dept_id)
    totals = sla.by_department(rows)
    met, judged = sum(row.met for row in totals), sum(row.judged for row in totals)
    return {"open": sum(c[0] for c in counts.values()), "overdue": sum(c[1] for c in counts.values()),
            "rate": met / judged if judged else None, "judged": judged, "by_type": rows, "days": SUMMARY_DAYS}


@bp.get("/<code>")
@role_required("operator", "department", "supervisor")
def department(code: str):
    """One department's queue (or every department's, for operators): summary, filters, a page of cases."""
    with database().session() as session:
        dept = _department(session, code)
        filters = _filters(session, dept)
        try:
            page = queries.queue_page(session, filters, now(), PAGE_SIZE, request.args.get("after") or None)
        except queries.SearchError as exc:
            abort(400, str(exc))
        types = list(session.scalars(select(ServiceType).order_by(ServiceType.name_en)
                                     .where(*([ServiceType.department_id == dept.id] if dept else []))))
        args = {key: value for key, value in request.args.items() if key != "after" and value}
        next_url = url_for("queue.department", code=code, **args, after=page.next_cursor) if page.next_cursor else None
        first_url = url_for("queue.department", code=code, **args) if request.args.get("after") else None
        return render_template("staff/queue/department.html", department=dept, code=code, page=page,
                               summary=_summary(session, dept), types=types, args=request.args,
                               statuses=queries.STATUS_FILTERS, sorts=queries.SORTS, now=now(),
                               next_url=next_url, first_url=first_url)
