"""Staff work on a case through the case service: Spanish public notes, what callers hear, reassignment."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from ivr import cases
from ivr.cases import CaseError
from ivr.cases.service import note_for_callers, reassign
from ivr.models import Case, Department, ServiceType

HARTFORD = ZoneInfo("America/New_York")


def local(*args) -> datetime:
    return datetime(*args, tzinfo=HARTFORD)


@pytest.fixture
def schedule(app):
    return app.extensions["ivr"].line.schedule


@pytest.fixture
def pothole(db, schedule) -> Case:
    case, _ = cases.create_case(db, cases.NewCase(service_type="pothole"), schedule, "phone",
                                now=local(2026, 12, 1, 10))
    db.commit()
    return case


def fresh(db, case: Case) -> Case:
    db.expire_all()
    return db.get(Case, case.id)


def test_a_public_note_in_both_languages_is_kept_on_the_event(db, pothole):
    event = cases.update_status(db, pothole, "in_progress", "Crew scheduled", public=True, actor="staff:ana",
                                note_es="Cuadrilla programada", now=local(2026, 12, 2, 9))
    db.commit()
    stored = db.get(type(event), event.id)
    assert (stored.note, stored.note_es, stored.public, stored.actor) == (
        "Crew scheduled", "Cuadrilla programada", True, "staff:ana")


def test_a_spanish_note_needs_a_public_english_one(db, pothole):
    with pytest.raises(CaseError, match="Spanish"):
        cases.update_status(db, pothole, None, "internal only", public=False, actor="x", note_es="interna")
    with pytest.raises(CaseError, match="Spanish"):
        cases.update_status(db, pothole, "in_progress", None, public=True, actor="x", note_es="sola")


def test_callers_hear_the_note_in_their_language_and_english_when_there_is_no_spanish(db, pothole):
    cases.update_status(db, pothole, "in_progress", "Crew scheduled", public=True, actor="a",
                        note_es="Cuadrilla programada", now=local(2026, 12, 2, 9))
    case = fresh(db, pothole)
    assert note_for_callers(case, "en") == "Crew scheduled"
    assert note_for_callers(case, "es") == "Cuadrilla programada"
    cases.update_status(db, case, None, "Asphalt ordered", public=True, actor="a", now=local(2026, 12, 3, 9))
    case = fresh(db, pothole)
    assert note_for_callers(case, "es") == "Asphalt ordered"


def test_internal_notes_and_reassignments_are_never_read(db, pothole, schedule):
    cases.update_status(db, pothole, "in_progress", "Crew scheduled", public=True, actor="a",
                        now=local(2026, 12, 2, 9))
    cases.update_status(db, pothole, None, "Resident is the councilman's cousin", public=False, actor="a")
    case = fresh(db, pothole)
    assert note_for_callers(case, "en") == "Crew scheduled"


def test_a_reopened_case_no_longer_reads_the_closing_note(db, pothole):
    cases.update_status(db, pothole, "closed", "Pothole filled", public=True, actor="a", note_es="Bache reparado",
                        now=local(2026, 12, 2, 9))
    assert note_for_callers(fresh(db, pothole), "es") == "Bache reparado"
    cases.update_status(db, fresh(db, pothole), "open", None, public=False, actor="a", now=local(2026, 12, 5, 9))
    case = fresh(db, pothole)
    assert note_for_callers(case, "en") is None
    assert note_for_callers(case, "es") is None
    cases.update_status(db, case, None, "Crew coming back", public=True, actor="a", note_es="La cuadrilla vuelve")
    assert note_for_callers(fresh(db, pothole), "es") == "La cuadrilla vuelve"


def test_a_new_case_has_no_note_to_read(db, pothole):
    assert note_for_callers(fresh(db, pothole), "en") is None  # "received by phone" is not a staff note


def test_reassign_to_another_type_moves_department_and_sla_with_an_internal_event(db, pothole, schedule):
    no_heat = db.scalars(select(ServiceType).where(ServiceType.code == "no_heat")).one()

    reassign(db, pothole, "Caller meant the boiler, not the road", "staff:ana", schedule, service_type=no_heat,
             now=local(2026, 12, 1, 12))
    db.commit()

    case = fresh(db, pothole)
    assert (case.service_type.code, case.department.code) == ("no_heat", "lni")
    # 24 business hours from the request (7 h Tue, 9 h Wed, 8 h Thu), not from the reassignment.
    assert case.expected_at == local(2026, 12, 3, 16)
    event = case.events[-1]
    assert (event.kind, event.actor, event.public, event.from_status, event.to_status) == (
        "reassigned", "staff:ana", False, "open", "open")
    assert event.note == ("Public Works (pothole) -> Licenses and Inspections (no heat or hot water): "
                          "Caller meant the boiler, not the road")


def test_reassign_to_a_department_keeps_the_type(db, pothole, schedule):
    parks = db.scalars(select(Department).where(Department.code == "parks")).one()
    reassign(db, pothole, "Inside Bushnell Park", "staff:ana", schedule, department=parks)
    case = fresh(db, pothole)
    assert (case.service_type.code, case.department.code) == ("pothole", "parks")


@pytest.mark.parametrize(("reason", "kwargs", "message"), [
    ("  ", {"department": True}, "why"),
    ("ok", {}, "not both or neither"),
])
def test_reassign_needs_a_reason_and_one_target(db, pothole, schedule, reason, kwargs, message):
    if kwargs.get("department"):
        kwargs = {"department": db.scalars(select(Department)).first()}
    with pytest.raises(CaseError, match=message):
        reassign(db, pothole, reason, "staff:ana", schedule, **kwargs)
