"""The operator's desk: find a case, make one for a caller, who is waiting and what they did, call-backs."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from sqlalchemy import select

from ivr.models import Call, CallBack, Case
from ivr.simulator import Response, Simulator, WsgiTransport
from tests.conftest import AUTH_TOKEN, form_token, sign_in

HARTFORD = ZoneInfo("America/New_York")
CALLER = "+18605550123"


class StaysInQueue:
    """Twilio keeps the caller in line: the <Enqueue> action, sent only when the caller leaves the queue, never
    comes, and neither does the end of the call. Everything else goes to the real transport."""

    def __init__(self, inner):
        self.inner = inner

    def request(self, method, url, params, headers):
        if "event=queue" in url:
            return Response(200, "<Response></Response>", "text/xml")
        return self.inner.request(method, url, params, headers)


def spanish_caller_in_queue(transport, to: str, checked: str | None, from_: str = CALLER,
                            base_url: str = "http://localhost"):
    """A Spanish caller who checked a case, began a pothole report, cancelled it at the summary and pressed 0."""
    sim = Simulator(StaysInQueue(transport), AUTH_TOKEN, public_base_url=base_url, to=to, from_=from_,
                    status_path=None)
    call = sim.dial()
    call.press("2")  # español
    if checked:
        call.press("2")  # consultar un caso
        call.press(checked + "#")
        call.press("*")  # menú principal
    call.press("1")  # reportar un problema
    call.say("hay un bache en mi calle")
    call.say("calle Park Terrace número 45")
    call.press("1")  # correcto
    call.say("un hoyo profundo en el carril derecho")
    call.press("3")  # cancelar
    call.press("0")  # un representante
    assert any(line.kind == "enqueue" for line in call.transcript), [line.text for line in call.transcript]
    return call


def all_cases(db) -> list[Case]:
    db.expire_all()
    return list(db.scalars(select(Case).order_by(Case.id)))


def test_only_operators_and_supervisors_use_the_desk(app, staff_account):
    for role, department, expected in (("department", "dpw", 403), ("supervisor", None, 200)):
        username, password = staff_account(role, department)
        client = app.test_client()
        sign_in(client, username, password)
        assert client.get("/staff/desk/").status_code == expected


# ---- find ----------------------------------------------------------------------------------------------

def test_find_by_number_opens_the_case_and_a_typo_is_caught_by_the_check_digit(make_case, operator):
    case = make_case()
    found = operator.get(f"/staff/desk/?by=number&q={case.number[:4]}+{case.number[4:]}")
    assert found.status_code == 302 and found.headers["Location"] == f"/staff/cases/{case.number}"
    typo = case.number[:-1] + str((int(case.number[-1]) + 1) % 10)  # one digit mistyped
    refused = operator.get(f"/staff/desk/?by=number&q={typo}")
    assert refused.status_code == 400
    assert "check digit" in refused.get_data(as_text=True)


def test_find_by_the_callers_phone_covers_call_back_numbers_and_calls_from_it(make_case, operator, phone):
    given = make_case("no_heat", contact_phone="+18605554477", location="9 Main Street")
    call = phone(from_="+18605554477")  # a pothole reported from that phone: no contact details asked
    for action in (("press", "1"), ("press", "1"), ("say", "there's a pothole"), ("say", "45 Park Terrace"),
                   ("press", "1"), ("say", "a deep hole"), ("press", "1")):
        getattr(call, action[0])(action[1])
    html = operator.get("/staff/desk/?by=phone&q=860-555-4477").get_data(as_text=True)
    table = html.split('id="found-cases"', 1)[1]
    assert given.number[:4] + " " + given.number[4:] in table
    assert len(re.findall(r'href="/staff/cases/\d{8}"', table)) == 2
    assert "not a ten-digit" in operator.get("/staff/desk/?by=phone&q=12").get_data(as_text=True)


def test_find_by_street(make_case, operator):
    park = make_case(location="45 Park Terrace")
    make_case(location="12 Main Street")
    html = operator.get("/staff/desk/?by=street&q=park+terrace").get_data(as_text=True)
    assert park.number[:4] + " " + park.number[4:] in html and "12 Main Street" not in html
    assert 'id="nothing-found"' in operator.get("/staff/desk/?by=street&q=Elm+Street").get_data(as_text=True)


# ---- a new case for a caller ---------------------------------------------------------------------------

def new_case(operator, data: dict):
    page = operator.get(f"/staff/desk/new?type={data['type']}")
    intake = re.search(r'name="intake" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    return operator.post("/staff/desk/new", data={"language": "en", "intake": intake, **data,
                                                  "csrf_token": form_token(operator, "/staff/desk/")}), intake


def test_contact_is_asked_only_where_the_type_requires_it(operator):
    pothole = operator.get("/staff/desk/new?type=pothole").get_data(as_text=True)
    no_heat = operator.get("/staff/desk/new?type=no_heat").get_data(as_text=True)
    assert 'id="contact_phone"' not in pothole and 'id="no-contact"' in pothole
    assert 'id="contact_phone"' in no_heat


def test_a_case_made_at_the_desk_goes_through_the_case_service(operator, db, clock):
    answer, _ = new_case(operator, {"type": "no_heat", "language": "es", "location": "45 Park Terrace",
                                    "description": "No heat since Sunday", "contact_name": "María López",
                                    "contact_phone": "(860) 555-4477"})
    assert answer.status_code == 302
    [case] = all_cases(db)
    assert answer.headers["Location"] == f"/staff/cases/{case.number}"
    assert (case.service_type.code, case.department.code, case.channel, case.language) == ("no_heat", "lni",
                                                                                          "phone", "es")
    assert (case.contact_name, case.contact_phone, case.location) == ("María López", "+18605554477",
                                                                      "45 Park Terrace")
    assert case.requested_at == clock.now and case.expected_at is not None
    assert [(e.kind, e.actor) for e in case.events] == [("created", operator.actor)]
    shown = operator.get(answer.headers["Location"]).get_data(as_text=True)
    assert f"Case {case.number[:4]} {case.number[4:]} created: read the number to the caller." in shown


def test_a_type_that_needs_contact_is_refused_without_it(operator, db):
    answer, _ = new_case(operator, {"type": "no_heat", "location": "45 Park Terrace"})
    assert answer.status_code == 400
    assert "needs a call-back number or an e-mail address" in answer.get_data(as_text=True)
    assert all_cases(db) == []


def test_contact_details_are_not_kept_for_a_type_that_does_not_need_them(operator, db):
    answer, _ = new_case(operator, {"type": "pothole", "location": "45 Park Terrace",
                                    "contact_name": "Someone", "contact_phone": "8605554477"})
    assert answer.status_code == 302
    [case] = all_cases(db)
    assert (case.contact_name, case.contact_phone) == (None, None)


def test_submitting_the_same_form_twice_makes_one_case(operator, db):
    first, intake = new_case(operator, {"type": "pothole", "location": "45 Park Terrace"})
    again = operator.post("/staff/desk/new", data={"type": "pothole", "language": "en", "intake": intake,
                                                   "location": "45 Park Terrace",
                                                   "csrf_token": form_token(operator, "/staff/desk/")})
    assert again.headers["Location"] == first.headers["Location"]
    assert len(all_cases(db)) == 1


# ---- who is waiting, and what they already did ----------------------------------------------------------

def test_a_spanish_caller_who_pressed_0_after_a_half_finished_report(app, make_case, operator, db):
    checked = make_case("pothole")
    numbers = app.extensions["ivr"].settings.numbers
    call = spanish_caller_in_queue(WsgiTransport(app.test_client()), numbers.three_one_one, checked.number)

    desk = operator.get("/staff/desk/").get_data(as_text=True)
    assert "Spanish queue: 1 waiting" in desk and "English queue: 0 waiting" in desk
    row = db.scalars(select(Call).where(Call.call_sid == call.call_sid)).one()
    assert f'href="/staff/desk/calls/{row.id}"' in desk

    handover = operator.get(f"/staff/desk/calls/{row.id}").get_data(as_text=True)
    assert 'id="call-language">Spanish<' in handover
    assert re.search(r'id="report-type">pothole<', handover)
    assert 'id="report-location">calle Park Terrace número 45<' in handover
    assert 'id="report-words">“hay un bache en mi calle”<' in handover  # their words, as said, not a list
    assert 'id="report-description">un hoyo profundo en el carril derecho<' in handover
    assert f"{checked.number[:4]} {checked.number[4:]}</a>: pothole" in handover  # the case they checked
    path = handover.split('id="menu-path"', 1)[1]
    assert "pressed 2" in path and "said “hay un bache en mi calle”" in path and "representative" in path
    assert all_cases(db) == [checked]  # nothing was filed by the phone

    # Finish the report for them: the form is filled with what they said, and the case is linked to the call.
    form = operator.get(f"/staff/desk/new?call={row.id}").get_data(as_text=True)
    assert 'id="chosen-type">pothole<' in form and 'value="calle Park Terrace número 45"' in form
    assert '<option value="es" selected>' in form
    intake = re.search(r'name="intake" value="([^"]+)"', form).group(1)
    made = operator.post("/staff/desk/new", data={
        "type": "pothole", "language": "es", "intake": intake, "call": str(row.id),
        "location": "calle Park Terrace número 45", "description": "un hoyo profundo en el carril derecho",
        "csrf_token": form_token(operator, "/staff/desk/")})
    assert made.status_code == 302
    filed = all_cases(db)[-1]
    assert (filed.call_sid, filed.language, filed.location) == (call.call_sid, "es", "calle Park Terrace número 45")


def test_a_call_that_was_answered_or_ended_is_not_waiting(app, operator, phone):
    call = phone()
    call.press("1")
    call.press("0")  # the simulator's representative answers at once, and the call ends
    assert call.ended
    assert "English queue: 0 waiting" in operator.get("/staff/desk/").get_data(as_text=True)


# ---- call-backs ----------------------------------------------------------------------------------------

def test_an_abandoned_report_is_listed_for_a_call_back_until_marked_done(operator, phone, db):
    call = phone(from_="+18605557788")
    for action in (("press", "1"), ("press", "1"), ("say", "there's a pothole"), ("say", "45 Park Terrace"),
                   ("press", "1")):
        getattr(call, action[0])(action[1])
    call.hangup()
    row = db.scalars(select(Call).where(Call.call_sid == call.call_sid)).one()

    desk = operator.get("/staff/desk/").get_data(as_text=True)
    listing = desk.split('id="call-backs"', 1)[1].split("</table>", 1)[0]
    assert "+18605557788" in listing and "45 Park Terrace" in listing
    answer = operator.post(f"/staff/desk/calls/{row.id}/called-back",
                           data={"note": "Case filed for her", "csrf_token": form_token(operator, "/staff/desk/")})
    assert answer.status_code == 302

    db.expire_all()
    done = db.scalars(select(CallBack)).one()
    assert (done.call_id, done.handled_by, done.note) == (row.id, operator.actor, "Case filed for her")
    listing = operator.get("/staff/desk/").get_data(as_text=True).split('id="call-backs"', 1)[1]
    assert "+18605557788" not in listing.split("</table>", 1)[0]
    assert "Called back by" in operator.get(f"/staff/desk/calls/{row.id}").get_data(as_text=True)


def test_only_abandoned_reports_can_be_marked_called_back(operator, phone, db):
    call = phone()
    call.press("1")
    call.hangup()
    row = db.scalars(select(Call).where(Call.call_sid == call.call_sid)).one()
    answer = operator.post(f"/staff/desk/calls/{row.id}/called-back",
                           data={"csrf_token": form_token(operator, "/staff/desk/")})
    assert answer.status_code == 400
    assert operator.get("/staff/desk/calls/999999").status_code == 404
