"""In chromium against the Procfile's server: a Spanish phone case found, updated with a Spanish note that the next
Spanish caller hears; departments kept to their own cases; the waiting caller's half-finished report."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from ivr.models import CallBackRequest, Case, CaseEvent
from ivr.simulator import HttpTransport, Simulator
from tests.conftest import AUTH_TOKEN, STAFF_PASSWORD
from tests.staff.test_desk import spanish_caller_in_queue

pytestmark = pytest.mark.browser
CALLER = "+18605550147"
NOTE_EN = "A crew will fill the pothole on Thursday."
NOTE_ES = "Una cuadrilla reparará el bache el jueves."


def dial(app, live_server, from_: str = CALLER):
    numbers = app.extensions["ivr"].settings.numbers
    sim = Simulator(HttpTransport(live_server), AUTH_TOKEN, public_base_url=live_server,
                    to=numbers.three_one_one, from_=from_)
    return sim.dial()


def spanish_pothole_report(app, live_server) -> None:
    """A caller reports a pothole in Spanish, start to finish, over HTTP."""
    call = dial(app, live_server)
    call.press("2")
    call.press("1")
    call.say("hay un bache en mi calle")
    call.say("calle Park Terrace número 45")
    call.press("1")
    call.say("un hoyo profundo en el carril derecho")
    call.press("1")
    assert any("Su número de caso es" in line for line in call.heard()), call.heard()
    call.hangup()


def sign_in(browser, live_server, staff_account, role: str, department: str | None = None):
    """A separate browser context (its own cookies) signed in through the form."""
    username, _ = staff_account(role, department)
    context = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    tab.goto("/staff/login")
    tab.get_by_label("Username").fill(username)
    tab.get_by_label("Password").fill(STAFF_PASSWORD)
    tab.get_by_role("button", name="Sign in").click()
    tab.wait_for_url("**/staff/")
    return tab


def nav(tab, label: str) -> None:
    """Follow a link of the console's navigation."""
    tab.get_by_role("navigation", name="Console").get_by_role("link", name=label).click()


def only_case(db) -> Case:
    db.expire_all()
    return db.scalars(select(Case)).one()


def test_a_spanish_phone_case_is_found_updated_in_spanish_and_the_caller_hears_it(
        app, db, live_server, browser, signed_in_page, staff_account, screenshot):
    spanish_pothole_report(app, live_server)
    case = only_case(db)
    grouped = f"{case.number[:4]} {case.number[4:]}"

    # The operator finds it by the caller's phone number at the desk.
    desk = signed_in_page("operator")
    nav(desk, "Operator's desk")
    desk.get_by_label("Find by").select_option("phone")
    desk.get_by_label("Number, phone or street").fill("(860) 555-0147")
    desk.get_by_role("button", name="Find").click()
    desk.get_by_role("link", name=grouped).click()
    assert desk.get_by_role("heading", level=1).inner_text() == f"Case {grouped}: pothole"
    assert "in Spanish" in desk.locator("table.facts").inner_text()
    assert desk.locator("#status-form").count() == 0  # operators read; the department works the case

    # Public Works opens it from its queue and changes its status with a note in English and Spanish.
    works = sign_in(browser, live_server, staff_account, "department", "dpw")
    nav(works, "Queues")
    assert works.get_by_role("heading", level=1).inner_text() == "Public Works"
    screenshot(works, "queue")
    works.get_by_role("link", name=grouped).click()
    works.get_by_label("New status").select_option("in_progress")
    works.get_by_label("Public: read to callers").check()
    works.get_by_label("Note in English").fill(NOTE_EN)
    works.get_by_label("Note in Spanish").fill(NOTE_ES)
    works.get_by_role("button", name="Save").click()
    works.wait_for_url(f"**/staff/cases/{case.number}")
    assert works.locator("#case-status").inner_text() == "In progress"
    trail = works.locator("#audit-trail").inner_text()
    assert NOTE_EN in trail and NOTE_ES in trail and "Received → In progress" in trail
    screenshot(works, "case")
    works.context.close()

    event = db.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id.desc())).first()
    assert (event.note_es, event.public, event.actor.startswith("staff:department")) == (NOTE_ES, True, True)

    # The next Spanish caller who checks the case hears the Spanish note.
    call = dial(app, live_server, from_="+18605550999")
    call.press("2")
    call.press("2")
    call.press(case.number + "#")
    assert any(f"Nota más reciente: {NOTE_ES}" in line for line in call.heard()), call.heard()
    assert not any(NOTE_EN in line for line in call.heard())


def test_a_department_can_neither_see_nor_change_another_departments_case(
        app, db, live_server, signed_in_page):
    spanish_pothole_report(app, live_server)  # a Public Works case
    case = only_case(db)
    grouped = f"{case.number[:4]} {case.number[4:]}"

    tab = signed_in_page("department", "lni")
    nav(tab, "Queues")
    assert tab.get_by_role("heading", level=1).inner_text() == "Licenses and Inspections"
    assert grouped not in tab.content()
    token = tab.locator("input[name=csrf_token]").first.get_attribute("value")

    for url in (f"/staff/cases/{case.number}", "/staff/queue/dpw", "/staff/queue/all"):
        answer = tab.goto(url)
        assert answer.status == 403, url
        assert grouped not in tab.content() and "Park Terrace" not in tab.content()
    # Forms posted straight at the case (with a valid token) are refused too.
    changed = tab.request.post(f"/staff/cases/{case.number}/status",
                               form={"csrf_token": token, "status": "closed", "visibility": "internal", "note": "x"})
    moved = tab.request.post(f"/staff/cases/{case.number}/reassign",
                             form={"csrf_token": token, "target": "department:lni", "reason": "ours"})
    assert (changed.status, moved.status) == (403, 403)
    db.expire_all()
    after = only_case(db)
    assert (after.status, after.department.code, len(after.events)) == ("open", "dpw", 1)


def test_the_waiting_call_view_shows_a_caller_who_pressed_0_after_a_half_finished_report(
        app, live_server, signed_in_page, screenshot):
    numbers = app.extensions["ivr"].settings.numbers
    spanish_caller_in_queue(HttpTransport(live_server), numbers.three_one_one, None, from_="+18605550188",
                            base_url=live_server)

    tab = signed_in_page("operator")
    nav(tab, "Operator's desk")
    assert tab.locator("#queue-es").inner_text() == "Spanish queue: 1 waiting"
    assert tab.locator("#queue-en").inner_text() == "English queue: 0 waiting"
    screenshot(tab, "desk")
    tab.get_by_role("link", name="+18605550188").click()
    assert tab.locator("#call-language").inner_text() == "Spanish"
    report = tab.locator("#unfinished-report")
    assert report.locator("#report-type").inner_text() == "pothole"
    assert report.locator("#report-location").inner_text() == "calle Park Terrace número 45"
    assert report.locator("#report-description").inner_text() == "un hoyo profundo en el carril derecho"
    assert re.search(r"said “hay un bache en mi calle”", tab.locator("#menu-path").inner_text())
    screenshot(tab, "desk-waiting-call")


def test_a_caller_who_would_rather_be_called_back_is_on_the_desk_until_an_operator_calls(
        app, db, live_server, signed_in_page, screenshot, accessibility):
    call = dial(app, live_server, from_="+18605550166")
    call.press("2")
    call.wait_in_line(position=6, size=6)  # about 12 minutes: past the call-back limit
    call.press("0")
    call.press("1")  # keep my place and call me back
    call.press("1")  # at the number I'm calling from
    assert "Gracias. Alguien del 311 le devolverá la llamada" in call.heard()[-2], call.heard()

    tab = signed_in_page("operator")
    nav(tab, "Operator's desk")
    row = tab.locator("#callback-requests tbody tr").first
    assert re.search(r"\+18605550166\s+Spanish\s+long wait\s+start: 2 → main menu: 0", row.inner_text()), \
        row.inner_text()
    assert accessibility(tab) == []
    screenshot(tab, "desk-callbacks")

    row.get_by_label("Outcome").fill("llamé, caso abierto")
    row.get_by_role("button", name="Done").click()
    assert tab.locator("#callback-requests").inner_text().count("No call-back requests are open.") == 1
    db.expire_all()
    [made] = db.scalars(select(CallBackRequest)).all()
    assert (made.status, made.note, made.handled_by.startswith("staff:")) == ("done", "llamé, caso abierto", True)
