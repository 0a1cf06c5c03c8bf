"""The case page: who sees and works which case, status changes with notes in English and Spanish, reassignment."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from ivr.cases.numbers import case_number_for_serial
from ivr.models import Case, CaseEvent
from tests.conftest import form_token, sign_in

HARTFORD = ZoneInfo("America/New_York")
RECORDING = "https://api.twilio.com/2010-04-01/Accounts/AC123/Recordings/RE123"


@pytest.fixture
def signed_in(app, staff_account):
    """signed_in(role, department=None) -> (client, actor)."""

    def make(role: str, department: str | None = None):
        username, password = staff_account(role, department)
        client = app.test_client()
        assert sign_in(client, username, password).status_code == 302
        return client, f"staff:{username}"

    return make


def post(client, url: str, data: dict, page: str | None = None):
    return client.post(url, data={**data, "csrf_token": form_token(client, page or url.rsplit("/", 1)[0])})


def events(db, case: Case) -> list[CaseEvent]:
    db.expire_all()
    return list(db.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)))


def fresh(db, case: Case) -> Case:
    db.expire_all()
    return db.get(Case, case.id)


# ---- who sees what -------------------------------------------------------------------------------------

def test_the_page_shows_the_case_its_trail_contact_and_recording(make_case, signed_in):
    case = make_case("no_heat", location="45 Park Terrace", contact_name="Maria Lopez",
                     contact_phone="+18605554477", recording_url=RECORDING)
    client, _ = signed_in("department", "lni")
    page = client.get(f"/staff/cases/{case.number}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f"Case {case.number[:4]} {case.number[4:]}: no heat or hot water" in html
    assert "45 Park Terrace" in html and "Maria Lopez" in html and "+18605554477" in html
    assert f'href="{RECORDING}"' in html
    assert "received by phone" in html  # the created event, in the audit trail
    assert 'id="status-form"' in html and 'id="reassign-form"' in html


def test_a_department_cannot_see_or_change_another_departments_case(make_case, signed_in, db):
    case = make_case("pothole")  # Public Works
    client, _ = signed_in("department", "lni")

    page = client.get(f"/staff/cases/{case.number}")
    assert page.status_code == 403
    assert "another department" in page.get_data(as_text=True)
    assert case.location is None or case.location not in page.get_data(as_text=True)
    token = form_token(client, "/staff/")
    changed = client.post(f"/staff/cases/{case.number}/status",
                          data={"status": "closed", "visibility": "internal", "note": "x", "csrf_token": token})
    moved = client.post(f"/staff/cases/{case.number}/reassign",
                        data={"target": "department:lni", "reason": "mine now", "csrf_token": token})
    assert (changed.status_code, moved.status_code) == (403, 403)
    assert [e.kind for e in events(db, case)] == ["created"]
    assert fresh(db, case).department.code == "dpw"


def test_operators_see_every_case_and_may_reassign_but_not_change_status(make_case, signed_in, db):
    case = make_case("pothole")
    client, _ = signed_in("operator")
    html = client.get(f"/staff/cases/{case.number}").get_data(as_text=True)
    assert 'id="status-form"' not in html and 'id="reassign-form"' in html
    answer = post(client, f"/staff/cases/{case.number}/status", {"status": "closed", "visibility": "internal"},
                  page=f"/staff/cases/{case.number}")
    assert answer.status_code == 403
    assert fresh(db, case).status == "open"


def test_supervisors_work_any_case(make_case, signed_in, db):
    case = make_case("pothole")
    client, actor = signed_in("supervisor")
    answer = post(client, f"/staff/cases/{case.number}/status", {"status": "on_hold", "visibility": "internal",
                                                                  "note": "Waiting for the gas company"},
                  page=f"/staff/cases/{case.number}")
    assert answer.status_code == 302
    assert [(e.actor, e.to_status, e.public) for e in events(db, case)][-1] == (actor, "on_hold", False)


@pytest.mark.parametrize(("number", "message"), [
    ("12345678", "check digit"), (case_number_for_serial(4242), "There is no case"),
])
def test_a_wrong_or_unknown_number_is_a_404_with_a_reason(signed_in, number, message):
    client, _ = signed_in("operator")
    page = client.get(f"/staff/cases/{number}")
    assert page.status_code == 404
    assert message in page.get_data(as_text=True)


# ---- status and notes ----------------------------------------------------------------------------------

def test_a_status_change_with_a_public_note_in_both_languages(make_case, signed_in, db, phone):
    case = make_case("pothole", language="es")
    client, actor = signed_in("department", "dpw")
    answer = post(client, f"/staff/cases/{case.number}/status",
                  {"status": "in_progress", "visibility": "public", "note": "Crew scheduled for Thursday",
                   "note_es": "Cuadrilla programada para el jueves"}, page=f"/staff/cases/{case.number}")
    assert answer.status_code == 302

    last = events(db, case)[-1]
    assert (last.actor, last.from_status, last.to_status, last.public, last.note, last.note_es) == (
        actor, "open", "in_progress", True, "Crew scheduled for Thursday", "Cuadrilla programada para el jueves")
    html = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Cuadrilla programada para el jueves" in html and "In progress" in html

    # The Spanish caller hears the Spanish note.
    call = phone()
    call.press("2")
    call.press("2")
    call.press(case.number + "#")
    assert any("Nota más reciente: Cuadrilla programada para el jueves" in line for line in call.heard())


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"status": "closed", "visibility": "public", "note": "Filled"}, "note_es", "in English and in Spanish"),
    ({"visibility": "public", "note_es": "Reparado"}, "note", "in English and in Spanish"),
    ({"visibility": "internal", "note": "Call the landlord", "note_es": "Llamar"}, "note_es", "no Spanish"),
    ({"visibility": "internal"}, "status", "Choose a new status, write a note"),
    ({"status": "lost", "visibility": "internal", "note": "x"}, "status", "listed statuses"),
    ({"status": "closed"}, "visibility", "public or internal"),
])
def test_an_incomplete_status_form_is_refused_beside_the_field_and_saves_nothing(make_case, signed_in, db, data,
                                                                                  field, message):
    case = make_case("pothole")
    client, _ = signed_in("department", "dpw")
    answer = post(client, f"/staff/cases/{case.number}/status", data, page=f"/staff/cases/{case.number}")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert f'id="{field}-error"' in html and message in html
    assert [e.kind for e in events(db, case)] == ["created"]


def test_an_internal_note_stays_internal(make_case, signed_in, db):
    case = make_case("pothole")
    client, _ = signed_in("department", "dpw")
    post(client, f"/staff/cases/{case.number}/status", {"visibility": "internal", "note": "Resident was rude"},
         page=f"/staff/cases/{case.number}")
    last = events(db, case)[-1]
    assert (last.kind, last.public, last.note, last.note_es, last.to_status) == (
        "note", False, "Resident was rude", None, "open")


def test_reopening_clears_the_closing_note_for_callers(make_case, signed_in, db, phone):
    case = make_case("pothole")
    client, _ = signed_in("department", "dpw")
    url = f"/staff/cases/{case.number}"
    post(client, f"{url}/status", {"status": "closed", "visibility": "public", "note": "Pothole filled",
                                   "note_es": "Bache reparado"}, page=url)
    post(client, f"{url}/status", {"status": "open", "visibility": "internal", "note": "Sinking again"}, page=url)

    call = phone()
    call.press("1")
    call.press("2")
    call.press(case.number + "#")
    assert not any("Pothole filled" in line or "Latest note" in line for line in call.heard())
    assert fresh(db, case).status == "open" and fresh(db, case).closed_at is None


# ---- reassignment --------------------------------------------------------------------------------------

def test_reassigning_to_another_type_moves_it_to_that_department_with_the_reason(make_case, signed_in, db):
    case = make_case("pothole")
    client, actor = signed_in("department", "dpw")
    answer = post(client, f"/staff/cases/{case.number}/reassign",
                  {"target": "type:no_heat", "reason": "The caller meant the boiler"},
                  page=f"/staff/cases/{case.number}")
    assert answer.status_code == 302 and answer.headers["Location"] == "/staff/queue/"  # no longer theirs
    moved = fresh(db, case)
    assert (moved.service_type.code, moved.department.code) == ("no_heat", "lni")
    last = events(db, case)[-1]
    assert (last.kind, last.actor, last.public) == ("reassigned", actor, False)
    assert last.note.endswith("The caller meant the boiler")
    assert client.get(f"/staff/cases/{case.number}").status_code == 403


def test_reassigning_to_a_department_keeps_the_type(make_case, signed_in, db):
    case = make_case("pothole")
    client, _ = signed_in("operator")
    answer = post(client, f"/staff/cases/{case.number}/reassign",
                  {"target": "department:parks", "reason": "It is inside Keney Park"},
                  page=f"/staff/cases/{case.number}")
    assert answer.status_code == 302
    assert (fresh(db, case).service_type.code, fresh(db, case).department.code) == ("pothole", "parks")


@pytest.mark.parametrize(("data", "field"), [
    ({"target": "type:no_heat", "reason": ""}, "reason"),
    ({"target": "type:nonsense", "reason": "x"}, "target"),
    ({"target": "department:", "reason": "x"}, "target"),
])
def test_reassignment_needs_a_known_target_and_a_reason(make_case, signed_in, db, data, field):
    case = make_case("pothole")
    client, _ = signed_in("department", "dpw")
    answer = post(client, f"/staff/cases/{case.number}/reassign", data, page=f"/staff/cases/{case.number}")
    assert answer.status_code == 400
    assert f'id="{field}-error"' in answer.get_data(as_text=True)
    assert fresh(db, case).department.code == "dpw"
