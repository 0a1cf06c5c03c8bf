"""What one turn costs the database: counted SQL statements, so a change that adds work per turn shows up here.

Timings belong to bench/; statement counts do not move with the machine, so they can be held to a number.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event

from ivr import calls, cases
from ivr.cases import NewCase


@pytest.fixture
def statements(app):
    """The SQL statements sent since the last reset (a list the test clears between turns)."""
    sent: list[str] = []

    def note(conn, cursor, statement, *args):
        verb = statement.split()[0]
        if verb == "BEGIN":  # SQLite's BEGIN IMMEDIATE: transaction control, as COMMIT (not seen here) is
            return
        if verb == "WITH":  # PostgreSQL's data-modifying WITH: one statement doing several things
            sent.append(" + ".join(f"{kind} {table}" for kind, table in
                                   re.findall(r"\b(UPDATE|INSERT) (?:INTO )?(\w+)", statement)))
            return
        table = re.search(r"\b(?:FROM|INTO|UPDATE)\s+(\w+)", statement)
        sent.append(f"{verb} {table.group(1) if table else '?'}")

    engine = app.extensions["ivr"].db.engine
    event.listen(engine, "before_cursor_execute", note)
    yield sent
    event.remove(engine, "before_cursor_execute", note)


def write_back(app) -> list[str]:
    """A turn's write: the call's update and the turn's row, in one statement on PostgreSQL (two on SQLite)."""
    if app.extensions["ivr"].db.engine.dialect.name == "postgresql":
        return ["UPDATE calls + INSERT call_turns"]
    return ["UPDATE calls", "INSERT call_turns"]


def test_a_menu_turn_reads_the_call_once_and_writes_it_once(app, phone, statements):
    call = phone()
    # Arrival: insert the call (a retry would find it), read it back, the closure switch once, the turn.
    assert statements == ["INSERT calls", "SELECT calls", "SELECT closures", *write_back(app)]
    statements.clear()
    call.press("1")  # English: a menu choice; the switch was read on arrival, within its interval
    assert statements == ["SELECT calls", *write_back(app)]


def test_a_status_read_back_loads_the_case_with_what_it_speaks(app, db, phone, statements):
    case, _ = cases.create_case(db, NewCase(service_type="pothole", location="1 Main St"),
                                app.extensions["ivr"].settings.schedule, actor="test")
    db.commit()
    call = phone().press("1").press("2")
    statements.clear()
    call.press(case.number + "#")
    assert ": pothole. Status: received, with Public Works." in call.heard()[-2]
    # The call, the case with its type, department and events (one statement), the call's update, the turn.
    assert statements == ["SELECT calls", "SELECT cases", *write_back(app)]


def test_a_status_callback_is_one_update(app, phone, statements):
    call = phone().press("1")
    statements.clear()
    call.hangup()
    # Not the ORM's load, flush and update: one UPDATE returning what the end-of-call hook needs to decide.
    assert statements == ["UPDATE calls"]
    with app.extensions["ivr"].db.session() as session:
        ended = calls.by_sid(session, call.call_sid)
        assert (ended.outcome, ended.final_status, ended.ended_at is not None) == ("caller_hung_up", "completed", True)


def test_a_status_callback_mid_report_also_marks_the_call_abandoned(app, phone, statements):
    call = phone().press("1").press("1")  # English, report a problem: the intake has begun
    statements.clear()
    call.hangup()
    assert statements[0] == "UPDATE calls" and "SELECT calls" in statements  # the hook loads the call it needs
    with app.extensions["ivr"].db.session() as session:
        assert calls.by_sid(session, call.call_sid).outcome == calls.ABANDONED_INTAKE
