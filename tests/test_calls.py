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
    call = calls.open_turn(db, "CA2", "+18605550123", "+18605550311", "311", arriving=True)
    assert (call.from_number, call.route, call.answers, call.turn_count) == ("+18605550123", "311", {}, 0)
    calls.record_turn(db, call, language="es", answers={"location": "Main St"}, outcome="x" * 80,
                      node="main_menu", event="gather", caller_input="1", next_node="report_start")
    calls.record_turn(db, calls.open_turn(db, "CA2", None, None, "311"), language="es", answers={"location": "Main St"},
                      outcome=None, node="report_start", event="gather", caller_input="2", next_node=None)
    row = db.scalars(select(Call).where(Call.call_sid == "CA2")).one()
    # A turn without an outcome keeps the one an earlier turn reached.
    assert (row.language, row.answers, row.outcome, row.turn_count) == ("es", {"location": "Main St"}, "x" * 64, 2)
    turn = db.scalars(select(CallTurn).where(CallTurn.call_id == call.id).order_by(CallTurn.id)).first()
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


def test_a_call_that_loops_keeps_counting_but_logs_only_its_first_turns(app, db):
    calls.open_turn(db, "CA7", None, None, "311", arriving=True)
    for number in range(5):
        call = calls.open_turn(db, "CA7", None, None, "311")
        calls.record_turn(db, call, language="en", answers={}, outcome=None, node=f"n{number}", event="silence",
                          caller_input=None, next_node=None, max_turns=3)
    logged = db.scalars(select(CallTurn.node).where(CallTurn.call_id == call.id).order_by(CallTurn.id)).all()
    count = db.scalar(select(Call.turn_count).where(Call.id == call.id))
    assert (count, logged) == (5, ["n0", "n1", "n2"])


def test_an_arrival_inserts_first_and_a_retried_arrival_finds_the_same_call(app, db):
    first = calls.find_or_start(db, "CA8", "+18605550123", "+18605550311", "311", arriving=True)
    again = calls.find_or_start(db, "CA8", "+18605550999", None, "ten-digit", arriving=True)
    assert again.id == first.id and again.from_number == "+18605550123" and again.turn_count == 0
    assert db.scalar(select(func.count()).select_from(Call)) == 1
