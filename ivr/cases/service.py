"""The case service: create cases, look them up by number, change their status; every change is an event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..core.schedule import Schedule
from ..models import Case, CaseEvent, CaseSerial, Department, ServiceType, utcnow
from .numbers import case_number_for_serial, is_valid, normalise

STATUSES = ("open", "in_progress", "on_hold", "closed")
OPEN311_STATUS = {"open": "open", "in_progress": "open", "on_hold": "open", "closed": "closed"}
CHANNELS = ("phone", "web", "open311")


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
    return case, True


def find_case(session: Session, number: str) -> Case | None:
    """Look a case up by its number; a number failing its check digit is never looked up."""
    number = normalise(number)
    if not is_valid(number):
        return None
    return session.scalars(select(Case).where(Case.number == number)).first()


def update_status(session: Session, case: Case, status: str | None, note: str | None, public: bool,
                  actor: str, now: datetime | None = None) -> CaseEvent:
    """Change a case's status and/or add a note, writing an event either way."""
    if status is not None and status not in STATUSES:
        raise CaseError(f"unknown status {status!r}; use one of {', '.join(STATUSES)}")
    if status is None and not note:
        raise CaseError("give a new status, a note, or both")
    if not actor:
        raise CaseError("every change needs the name of who made it")
    now = now or utcnow()
    previous = case.status
    event = CaseEvent(case_id=case.id, at=now, actor=actor, kind="status" if status else "note",
                      from_status=previous, to_status=status or previous, note=note or None, public=public)
    if status:
        case.status = status
        case.closed_at = now if status == "closed" else None
    case.updated_at = now
    session.add(event)
    session.flush()
    return event


def public_notes(case: Case) -> list[CaseEvent]:
    """Events whose notes residents may hear or read, newest first."""
    return [event for event in reversed(case.events) if event.public and event.note and event.kind != "created"]


def departments_by_code(session: Session) -> dict[str, Department]:
    """All departments keyed by code."""
    return {dept.code: dept for dept in session.scalars(select(Department))}


def sync_config(session: Session, settings: dict) -> dict[str, int]:
    """Upsert departments and service types from config (idempotent); returns counts of changes."""
    counts = {"departments_added": 0, "departments_updated": 0, "types_added": 0, "types_updated": 0}
    departments = departments_by_code(session)
    for raw in settings.get("departments", {}).get("department", []):
        fields = {"name_en": raw["name_en"], "name_es": raw["name_es"], "phone": raw.get("phone") or None,
                  "active": True}
        dept = departments.get(raw["code"])
        if dept is None:
            dept = Department(code=raw["code"], **fields)
            session.add(dept)
            departments[raw["code"]] = dept
            counts["departments_added"] += 1
        elif _assign(dept, fields):
            counts["departments_updated"] += 1
    session.flush()
    existing = {st.code: st for st in session.scalars(select(ServiceType))}
    for raw in settings.get("service_types", {}).get("service_type", []):
        if raw["department"] not in departments:
            raise CaseError(f"config/service_types.toml: {raw['code']}: unknown department {raw['department']!r}")
        fields = {
            "name_en": raw["name_en"], "name_es": raw["name_es"], "description_en": raw.get("description_en", ""),
            "keywords_en": list(raw.get("keywords_en", [])), "keywords_es": list(raw.get("keywords_es", [])),
            "department_id": departments[raw["department"]].id, "requires_contact": bool(raw.get("requires_contact")),
            "sla_hours": raw.get("sla_hours"), "sla_days": raw.get("sla_days"), "menu_key": raw.get("key") or None,
            "active": True,
        }
        service_type = existing.get(raw["code"])
        if service_type is None:
            session.add(ServiceType(code=raw["code"], **fields))
            counts["types_added"] += 1
        elif _assign(service_type, fields):
            counts["types_updated"] += 1
    session.flush()
    return counts


def _assign(row, fields: dict) -> bool:
    """Set fields on a row; True if anything changed."""
    changed = False
    for name, value in fields.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed
