"""Calls and their turns (ivr/calls.py): found or started once per CallSid, ended, listed for staff."""

from sqlalchemy import func, select

from ivr import calls
from ivr.models import Call, CallTurn


def test_a_call_is_started_once_per_call_sid(app, db):
    first = calls.find_or_start(db, "CA1", "+18605550123", "+18605550311", "311")
    again = calls.find_or_start(db, "CA1", "+18605550999", "+18605550311", "ten-digit")
    assert again.id == first.id and again.from_number == "+18605550123" and again.route == "311"
    assert db.scalar(select(func.count()).select_from(Call)) == 1


def test_a_turn_updates_the_call_and_is_logged(app, db):
    call = calls.find_or_start(db, "CA2", "+18605550123", "+18605550311", "311")
    calls.record_turn(db, call, language="es", answers={"location": "Main St"}, outcome="x" * 80,
                      node="main_menu", event="gather", caller_input="1", next_node="report_start")
    db.flush()
    assert (call.language, call.answers, len(call.outcome)) == ("es", {"location": "Main St"}, 64)
    turn = db.scalars(select(CallTurn).where(CallTurn.call_id == call.id)).one()
    assert (turn.node, turn.event, turn.input, turn.next_node) == ("main_menu", "gather", "1", "report_start")


def test_the_end_of_a_call_keeps_what_it_achieved(app, db):
    achieved = calls.find_or_start(db, "CA3", None, None, "unknown")
    achieved.outcome = "case_created"
    calls.record_end(db, achieved, "completed", 95)
    silent = calls.find_or_start(db, "CA4", None, None, "unknown")
    calls.record_end(db, silent, "completed", None)
    assert (achieved.outcome, achieved.duration_seconds, achieved.ended_at is not None) == ("case_created", 95, True)
    assert silent.outcome == calls.HUNG_UP


def test_abandoned_reports_are_listed_with_what_they_collected(app, db):
    done = calls.find_or_start(db, "CA5", None, None, "311")
    calls.record_end(db, done, "completed", 30)
    left = calls.find_or_start(db, "CA6", None, None, "311")
    left.answers = {"service_types": "pothole", "location": "Main St", "intake_key": "CA6:1"}
    calls.mark_abandoned(left)
    db.flush()
    assert [c.call_sid for c in calls.recent(db, 10, abandoned_only=True)] == ["CA6"]
    assert {c.call_sid for c in calls.recent(db, 10)} == {"CA5", "CA6"}
    assert calls.collected(left) == {"service_types": "pothole", "location": "Main St"}
