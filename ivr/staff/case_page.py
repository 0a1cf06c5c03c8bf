"""The case page: everything about one case, its audit trail, status changes with notes, and reassignment."""

from __future__ import annotations

from datetime import datetime

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..cases import STATUSES, CaseError, sla
from ..cases.numbers import grouped, parse
from ..cases.service import reassign, update_status
from ..models import Case, Department, ServiceType
from .auth import current_staff, database, now, role_required
from .security import staff_blueprint

bp = staff_blueprint("cases", __name__, "/cases")
NOTE_LONGEST = 2000
REASON_LONGEST = 500
STATUS_NAMES = {"open": "Received", "in_progress": "In progress", "on_hold": "On hold", "closed": "Closed"}


# ---- who may do what ------------------------------------------------------------------------------------

def may_see_department(user, department_code: str) -> bool:
    """Operators and supervisors see every department; department staff only their own."""
    return user.role != "department" or user.department_code == department_code


def may_work(user, case: Case) -> bool:
    """Department staff change their own department's cases; supervisors any case."""
    return user.role == "supervisor" or (user.role == "department" and user.department_code == case.department.code)


def may_reassign(user, case: Case) -> bool:
    """Routing is 311's job as well as the department's: operators may also hand a case on."""
    return may_work(user, case) or user.role == "operator"


def load_case(session: Session, number: str) -> Case:
    """The case behind a URL, or a 404 (bad number, no case) or 403 (another department's)."""
    parsed = parse(number)
    if parsed is None:
        abort(404, "That case number fails its check digit: check it for a typo.")
    case = session.scalars(select(Case).where(Case.number == parsed)).first()
    if case is None:
        abort(404, f"There is no case {grouped(parsed)}.")
    if not may_see_department(current_staff(), case.department.code):
        abort(403, "This case belongs to another department.")
    return case


# ---- the page -------------------------------------------------------------------------------------------

@bp.app_template_filter("case_time")
def case_time(moment: datetime | None) -> str:
    """'Tue Dec 1, 2026 10:00' in Hartford's time."""
    if moment is None:
        return "—"
    local = moment.astimezone(current_app.extensions["ivr"].line.schedule.timezone)
    return f"{local:%a %b} {local.day}, {local:%Y %H:%M}"


@bp.app_template_filter("case_number")
def case_number(number: str) -> str:
    """'1000 0012'."""
    return grouped(number)


@bp.app_template_filter("status_name")
def status_name(status: str) -> str:
    """What a status is called on the page."""
    return STATUS_NAMES.get(status, status)


def _choices(session: Session) -> tuple[list[ServiceType], list[Department]]:
    """Active service types and departments, by name, for reassignment."""
    types = list(session.scalars(select(ServiceType).where(ServiceType.active.is_(True))
                                 .order_by(ServiceType.name_en)))
    departments = list(session.scalars(select(Department).where(Department.active.is_(True))
                                       .order_by(Department.name_en)))
    return types, departments


def _render(session: Session, case: Case, errors: dict | None = None, form: dict | None = None, status: int = 200):
    """The case page, with any form errors beside their fields."""
    user = current_staff()
    types, departments = _choices(session)
    return render_template("staff/cases/show.html", case=case, statuses=STATUSES, types=types,
                           departments=departments, overdue=sla.is_overdue(case, now()),
                           may_work=may_work(user, case), may_reassign=may_reassign(user, case),
                           errors=errors or {}, form=form or {}), status


@bp.get("/<number>")
@role_required("operator", "department", "supervisor")
def show(number: str):
    """A case: what, where, who to contact, its dates, the audit trail and the forms to work it."""
    with database().session() as session:
        return _render(session, load_case(session, number))


# ---- status and notes -----------------------------------------------------------------------------------

def _status_form() -> tuple[dict, dict]:
    """The status form's values, and what is wrong with them (field -> message)."""
    form = {key: (request.form.get(key) or "").strip() for key in ("status", "visibility", "note", "note_es")}
    errors = {}
    if form["status"] and form["status"] not in STATUSES:
        errors["status"] = "Choose one of the listed statuses."
    if form["visibility"] not in ("public", "internal"):
        errors["visibility"] = "Say whether the note is public or internal."
    for key in ("note", "note_es"):
        if len(form[key]) > NOTE_LONGEST:
            errors[key] = f"Keep the note under {NOTE_LONGEST} characters."
    if form["visibility"] == "public" and bool(form["note"]) != bool(form["note_es"]):
        # Spanish callers hear the Spanish note: a public note is written in both languages.
        missing = "note_es" if form["note"] else "note"
        errors[missing] = "A public note is read to callers: write it in English and in Spanish."
    if form["visibility"] == "internal" and form["note_es"]:
        errors["note_es"] = "Internal notes are for staff only and have no Spanish version; leave this empty."
    if not form["status"] and not form["note"] and "note" not in errors:
        errors["status"] = "Choose a new status, write a note, or both."
    return form, errors


@bp.post("/<number>/status")
@role_required("department", "supervisor")
def change_status(number: str):
    """A new status and/or a note (public in English and Spanish, or internal), recorded as an event."""
    user = current_staff()
    with database().session() as session:
        case = load_case(session, number)
        if not may_work(user, case):
            abort(403, "Only the case's department or a supervisor can change it.")
        form, errors = _status_form()
        if errors:
            return _render(session, case, errors, form, 400)
        public = form["visibility"] == "public"
        try:
            update_status(session, case, form["status"] or None, form["note"] or None, public, user.actor,
                          now=now(), note_es=form["note_es"] or None)
        except CaseError as exc:
            return _render(session, case, {"status": str(exc)}, form, 400)
        flash(f"Case {grouped(case.number)} updated.")
        return redirect(url_for("cases.show", number=case.number))


# ---- reassignment ---------------------------------------------------------------------------------------

def _target(session: Session, value: str) -> dict | None:
    """'type:pothole' or 'department:dpw' -> the keyword argument for reassign(), or None."""
    kind, _, code = value.partition(":")
    model = {"type": ServiceType, "department": Department}.get(kind)
    if model is None:
        return None
    row = session.scalars(select(model).where(model.code == code, model.active.is_(True))).first()
    if row is None:
        return None
    return {"service_type": row} if kind == "type" else {"department": row}


@bp.post("/<number>/reassign")
@role_required("operator", "department", "supervisor")
def change_assignment(number: str):
    """Hand the case to another service type (and its department) or department, with the reason."""
    user = current_staff()
    with database().session() as session:
        case = load_case(session, number)
        if not may_reassign(user, case):
            abort(403, "Only the case's department, 311 operators or a supervisor can reassign it.")
        form = {key: (request.form.get(key) or "").strip() for key in ("target", "reason")}
        target = _target(session, form["target"])
        errors = {}
        if target is None:
            errors["target"] = "Choose the service type or department to hand the case to."
        if not form["reason"]:
            errors["reason"] = "Say why the case is reassigned: the department that receives it reads this."
        elif len(form["reason"]) > REASON_LONGEST:
            errors["reason"] = f"Keep the reason under {REASON_LONGEST} characters."
        if errors:
            return _render(session, case, errors, form, 400)
        reassign(session, case, form["reason"], user.actor, current_app.extensions["ivr"].line.schedule,
                 now=now(), **target)
        flash(f"Case {grouped(case.number)} is now with {case.department.name_en} ({case.service_type.name_en}).")
        if not may_see_department(user, case.department.code):
            return redirect(url_for("queue.index"))  # it has left this person's department
        return redirect(url_for("cases.show", number=case.number))
