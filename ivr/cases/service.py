"""The case service: create cases, look them up by number, change their status; every change is an event."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, selectinload

from .. import metrics
from ..core.schedule import Schedule
from ..models import Case, CaseEvent, CaseSerial, Department, ServiceType, utcnow
from ..settings import DepartmentSettings, ServiceTypeSettings, Settings
from .numbers import case_number_for_serial, parse

STATUSES = ("open", "in_progress", "on_hold", "closed")
CHANNELS = ("phone", "web", "open311")
RETENTION_ACTOR = "retention"
RETENTION_NOTE = "contact details removed under the retention policy"


class CaseError(ValueError):
    """A case request is incomplete or not allowed; the message says what to fix."""


@dataclass(frozen=True)
class NewCase:
    """What a caller (or API client) told us about a problem."""

    service_type: str
    description: str = ""
    location: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    contact_name: str | None = None
    contact_phone: str | None = None
    contact_email: str | None = None
    language: str = "en"
    channel: str = "phone"
    call_sid: str | None = None
    intake_key: str | None = None
    recording_url: str | None = None


def allocate_serial(session: Session) -> int:
    """A new serial from the database, unique across processes and servers."""
    serial = CaseSerial(allocated_at=utcnow())
    session.add(serial)
    session.flush()
    return serial.id


def service_type_by_code(session: Session, code: str) -> ServiceType | None:
    """An active service type by its code."""
    return session.scalars(select(ServiceType).where(ServiceType.code == code, ServiceType.active.is_(True))).first()


def expected_by(schedule: Schedule, service_type: ServiceType, requested_at: datetime) -> datetime | None:
    """When the department should have responded, counting only business time."""
    if service_type.sla_hours:
        return schedule.add_business_hours(requested_at, service_type.sla_hours)
    if service_type.sla_days:
        return schedule.add_business_days(requested_at, service_type.sla_days)
    return None


def find_by_intake(session: Session, intake_key: str) -> Case | None:
    """The case an intake already produced, if any."""
    return session.scalars(select(Case).where(Case.intake_key == intake_key)).first()


def create_case(session: Session, request: NewCase, schedule: Schedule, actor: str,
                now: datetime | None = None) -> tuple[Case, bool]:
    """Create a case (or return the one this intake already made); returns (case, created)."""
    if request.intake_key:
        existing = find_by_intake(session, request.intake_key)
        if existing is not None:
            return existing, False
    service_type = service_type_by_code(session, request.service_type)
    if service_type is None:
        raise CaseError(f"unknown service type {request.service_type!r}")
    if request.channel not in CHANNELS:
        raise CaseError(f"unknown channel {request.channel!r}")
    if service_type.requires_contact and not (request.contact_phone or request.contact_email):
        raise CaseError(f"{service_type.name_en} needs a way to contact the resident")
    now = now or utcnow()
    try:
        # A savepoint: if a repeated request races us to the same intake, only this insert is undone.
        with session.begin_nested():
            case = Case(
                number=case_number_for_serial(allocate_serial(session)),
                service_type_id=service_type.id, department_id=service_type.department_id, status="open",
                description=request.description or "", location=request.location,
                latitude=request.latitude, longitude=request.longitude,
                contact_name=request.contact_name, contact_phone=request.contact_phone,
                contact_email=request.contact_email, language=request.language, channel=request.channel,
                call_sid=request.call_sid, intake_key=request.intake_key, recording_url=request.recording_url,
                requested_at=now, updated_at=now, expected_at=expected_by(schedule, service_type, now),
            )
            session.add(case)
            session.flush()
            session.add(CaseEvent(case_id=case.id, at=now, actor=actor, kind="created", to_status="open",
                                  note=f"received by {request.channel}", public=True))
            session.flush()
    except IntegrityError:
        existing = find_by_intake(session, request.intake_key) if request.intake_key else None
        if existing is None:
            raise
        return existing, False
    metrics.case_created(request.channel)
    return case, True


def find_case(session: Session, number: str) -> Case | None:
    """Look a case up by its number; a number failing its check digit is never looked up."""
    number = parse(number)
    if number is None:
        return None
    # A status read-back speaks the type, the department and the latest note: loaded with the case, in two
    # statements instead of four.
    return session.scalars(select(Case).where(Case.number == number)
                           .options(joinedload(Case.service_type), joinedload(Case.department),
                                    selectinload(Case.events))).first()


@dataclass(frozen=True)
class Named:
    """A service type's or department's names, as a status read-back speaks them."""

    name_en: str
    name_es: str

    def name(self, lang: str) -> str:
        """The name in a language (as ServiceType.name and Department.name)."""
        return self.name_es if lang == "es" else self.name_en


@dataclass(frozen=True)
class EventSeen:
    """What a status read-back needs of one case event (note_for_callers reads these)."""

    kind: str
    from_status: str | None
    to_status: str | None
    note: str | None
    note_es: str | None
    public: bool


@dataclass(frozen=True)
class CaseStatus:
    """A case as its status read-back speaks it: the fields a caller may hear, read without the ORM."""

    number: str
    status: str
    language: str
    updated_at: datetime
    expected_at: datetime | None
    closed_at: datetime | None
    service_type: Named
    department: Named
    events: tuple[EventSeen, ...]


_CASES, _EVENTS = Case.__table__, CaseEvent.__table__
_TYPES, _DEPARTMENTS = ServiceType.__table__, Department.__table__
# Built once: the case, its type and department and its events (oldest first) in one statement. No contact
# details are selected, so a read-back cannot speak them.
_STATUS_READ = (
    select(_CASES.c.number, _CASES.c.status, _CASES.c.language, _CASES.c.updated_at, _CASES.c.expected_at,
           _CASES.c.closed_at, _TYPES.c.name_en, _TYPES.c.name_es, _DEPARTMENTS.c.name_en, _DEPARTMENTS.c.name_es,
           _EVENTS.c.id, _EVENTS.c.kind, _EVENTS.c.from_status, _EVENTS.c.to_status, _EVENTS.c.note,
           _EVENTS.c.note_es, _EVENTS.c.public)
    .join(_TYPES, _TYPES.c.id == _CASES.c.service_type_id)
    .join(_DEPARTMENTS, _DEPARTMENTS.c.id == _CASES.c.department_id)
    .outerjoin(_EVENTS, _EVENTS.c.case_id == _CASES.c.id)
    .where(_CASES.c.number == bindparam("number"))
    .order_by(_EVENTS.c.id)
)


def case_status(executor: Session | Connection, number: str) -> CaseStatus | None:
    """What a caller hears about a case, by number, in one statement; None when unknown or the check digit fails.

    `executor` may be a turn's connection outside its write transaction: this only reads.
    """
    number = parse(number)
    if number is None:
        return None
    rows = executor.execute(_STATUS_READ, {"number": number}).all()
    if not rows:
        return None
    first = rows[0]
    return CaseStatus(
        number=first[0], status=first[1], language=first[2], updated_at=first[3], expected_at=first[4],
        closed_at=first[5], service_type=Named(first[6], first[7]), department=Named(first[8], first[9]),
        events=tuple(EventSeen(*row[11:17]) for row in rows if row[10] is not None),
    )


def update_status(session: Session, case: Case, status: str | None, note: str | None, public: bool,
                  actor: str, now: datetime | None = None, note_es: str | None = None) -> CaseEvent:
    """Change a case's status and/or add a note (public ones may also be in Spanish), writing an event either way."""
    if status is not None and status not in STATUSES:
        raise CaseError(f"unknown status {status!r}; use one of {', '.join(STATUSES)}")
    if status is None and not note:
        raise CaseError("give a new status, a note, or both")
    if not actor:
        raise CaseError("every change needs the name of who made it")
    if note_es and not (public and note):
        raise CaseError("a Spanish note goes with a public English note; internal notes are in one language")
    now = now or utcnow()
    previous = case.status
    event = CaseEvent(case_id=case.id, at=now, actor=actor, kind="status" if status else "note",
                      from_status=previous, to_status=status or previous, note=note or None, public=public,
                      note_es=note_es or None)
    if status:
        case.status = status
        case.closed_at = now if status == "closed" else None
    case.updated_at = now
    session.add(event)
    session.flush()
    return event


def _holding_contacts(closed_before: datetime):
    """Cases closed before a cut-off that still hold a way to reach or recognise the resident."""
    held = or_(Case.contact_name.is_not(None), Case.contact_phone.is_not(None), Case.contact_email.is_not(None),
               Case.recording_url.is_not(None))
    return select(Case).where(Case.status == "closed", Case.closed_at < closed_before, held).order_by(Case.id)


def purge_closed_contacts(session: Session, closed_before: datetime, dry_run: bool = False,
                          now: datetime | None = None,
                          delete_recording: Callable[[str], bool] | None = None) -> int:
    """Clear contact details and recordings of cases closed before `closed_before`, noting it on each case.

    `delete_recording(url)` deletes a recording where it is kept (Twilio, ivr/recordings.py) first: False keeps
    the link for the next run, so a recording is never forgotten while it still exists.
    """
    found = list(session.scalars(_holding_contacts(closed_before)))
    if dry_run:
        return len(found)
    now = now or utcnow()
    for case in found:
        # Already noted: only a recording Twilio would not delete last time was left, and is tried again.
        noted = any(event.actor == RETENTION_ACTOR for event in case.events)
        # The recording is the resident's voice: kept while the case is worked on, removed with the contacts.
        case.contact_name = case.contact_phone = case.contact_email = None
        if case.recording_url and (delete_recording is None or delete_recording(case.recording_url)):
            case.recording_url = None
        if noted:
            continue
        # updated_at stays: nothing a resident asked about changed. The event says who removed what, and when.
        session.add(CaseEvent(case_id=case.id, at=now, actor=RETENTION_ACTOR, kind="note", from_status=case.status,
                              to_status=case.status, note=RETENTION_NOTE, public=False))
    session.flush()
    return len(found)


def public_notes(case: Case) -> list[CaseEvent]:
    """Events whose notes residents may hear or read, newest first."""
    return [event for event in reversed(case.events) if event.public and event.note and event.kind != "created"]


def note_for_callers(case: Case | CaseStatus, lang: str) -> str | None:
    """The public note a caller hears: only one written since the last status change, in their language.

    A reopened case (or any new status) leaves the notes about the old status unread. A Spanish caller hears the
    English note when staff wrote no Spanish one: something about their case beats nothing.
    """
    for event in reversed(case.events):
        if event.public and event.note and event.kind != "created":
            return (event.note_es or event.note) if lang == "es" else event.note
        if event.from_status != event.to_status:
            return None  # the status changed here, without a public note; older notes are about the old status
    return None


def reassign(session: Session, case: Case, reason: str, actor: str, schedule: Schedule, *,
             service_type: ServiceType | None = None, department: Department | None = None,
             now: datetime | None = None) -> CaseEvent:
    """Hand a case to another service type (and its department) or another department, with the reason."""
    if not (reason or "").strip():
        raise CaseError("say why the case is reassigned")
    if not actor:
        raise CaseError("every change needs the name of who made it")
    if (service_type is None) == (department is None):
        raise CaseError("reassign to a service type or to a department, not both or neither")
    before = f"{case.department.name_en} ({case.service_type.name_en})"
    if service_type is not None:
        # The resident's wait still counts from when they asked: the new type's SLA runs from requested_at.
        case.service_type, case.department = service_type, service_type.department
        case.expected_at = expected_by(schedule, service_type, case.requested_at)
    else:
        case.department = department
    now = now or utcnow()
    case.updated_at = now
    after = f"{case.department.name_en} ({case.service_type.name_en})"
    event = CaseEvent(case_id=case.id, at=now, actor=actor, kind="reassigned", from_status=case.status,
                      to_status=case.status, note=f"{before} -> {after}: {reason.strip()}", public=False)
    session.add(event)
    session.flush()
    return event


def departments_by_code(session: Session) -> dict[str, Department]:
    """All departments keyed by code."""
    return {dept.code: dept for dept in session.scalars(select(Department))}


def _department_fields(dept: DepartmentSettings) -> dict:
    """The columns a department row should have, from config."""
    return {"name_en": dept.name_en, "name_es": dept.name_es, "phone": dept.phone or None, "active": True}


def _service_type_fields(service_type: ServiceTypeSettings, department_id: int | None) -> dict:
    """The columns a service-type row should have, from config."""
    return {
        "name_en": service_type.name_en, "name_es": service_type.name_es,
        "description_en": service_type.description_en, "keywords_en": list(service_type.keywords_en),
        "keywords_es": list(service_type.keywords_es), "department_id": department_id,
        "requires_contact": service_type.requires_contact, "sla_hours": service_type.sla_hours,
        "sla_days": service_type.sla_days, "menu_key": service_type.key or None, "active": True,
    }


def sync_config(session: Session, settings: Settings) -> dict[str, int]:
    """Make departments and service types match config (idempotent); rows no longer in config are deactivated."""
    counts = dict.fromkeys(("departments_added", "departments_updated", "types_added", "types_updated",
                            "deactivated"), 0)
    departments = departments_by_code(session)
    for config in settings.departments:
        dept = departments.get(config.code)
        if dept is None:
            dept = departments[config.code] = Department(code=config.code, **_department_fields(config))
            session.add(dept)
            counts["departments_added"] += 1
        elif _assign(dept, _department_fields(config)):
            counts["departments_updated"] += 1
    session.flush()
    existing = {st.code: st for st in session.scalars(select(ServiceType))}
    for config in settings.service_types:
        fields = _service_type_fields(config, departments[config.department].id)
        row = existing.get(config.code)
        if row is None:
            session.add(ServiceType(code=config.code, **fields))
            counts["types_added"] += 1
        elif _assign(row, fields):
            counts["types_updated"] += 1
    wanted = {st.code for st in settings.service_types} | {dept.code for dept in settings.departments}
    for row in [*existing.values(), *departments.values()]:
        if row.active and row.code not in wanted:
            row.active = False  # kept for the cases that name it; no longer offered or assigned
            counts["deactivated"] += 1
    session.flush()
    return counts


def config_differences(session: Session, settings: Settings) -> list[str]:
    """How the departments and service types in the database differ from config (empty: in step)."""
    problems = []
    departments = departments_by_code(session)
    for config in settings.departments:
        problems += _row_differences("department", config.code, departments.get(config.code),
                                     _department_fields(config))
    types = {st.code: st for st in session.scalars(select(ServiceType))}
    for config in settings.service_types:
        dept = departments.get(config.department)
        problems += _row_differences("service type", config.code, types.get(config.code),
                                     _service_type_fields(config, dept.id if dept else None))
    wanted = {st.code for st in settings.service_types} | {dept.code for dept in settings.departments}
    problems += [f"{row.code!r} is active in the database but not in config/"
                 for row in [*departments.values(), *types.values()] if row.active and row.code not in wanted]
    return problems


def _row_differences(kind: str, code: str, row, fields: dict) -> list[str]:
    """'service type 'x': not in the database' / ': name_en differs'."""
    if row is None:
        return [f"{kind} {code!r} is in config/ but not in the database"]
    changed = sorted(name for name, value in fields.items() if getattr(row, name) != value)
    return [f"{kind} {code!r} differs from config/ ({', '.join(changed)})"] if changed else []


def _assign(row, fields: dict) -> bool:
    """Set fields on a row; True if anything changed."""
    changed = False
    for name, value in fields.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed
