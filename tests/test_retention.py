"""Retention (config/privacy.toml): old calls lose the caller's details, long-closed cases their contacts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from ivr import calls, cases
from ivr.models import Call, CallTurn, Case, CaseEvent
from tests.conftest import hartford

NOW = hartford(2026, 12, 1, 10, 0)
CALL_CUTOFF = NOW - timedelta(days=90)
CONTACT_CUTOFF = NOW - timedelta(days=365)


def make_call(db, sid: str, started: datetime) -> Call:
    """A finished call with a caller's number, answers and two turns."""
    call = calls.find_or_start(db, sid, "+18605550123", "+18605550311", "ten-digit")
    call.started_at = started
    db.flush()
    answers = {"location": "12 Main St", "contact_phone": "8605550123"}
    calls.record_turn(db, call, language="es", answers=answers,
                      outcome="case_created", node="main_menu", event="gather", caller_input="1", next_node="x")
    calls.record_turn(db, call, language="es", answers=answers, outcome=None, node="x", event="speech",
                      caller_input="mi nombre es Maria", next_node=None)
    db.flush()
    db.expire(call)  # record_turn writes with plain statements, as a turn does: read the row again
    calls.record_end(db, call, "completed", 95)
    db.commit()
    return call


@pytest.fixture
def two_calls(app, db):
    """One call from before the cut-off, one from after."""
    old = make_call(db, "CAold", CALL_CUTOFF - timedelta(days=1))
    return old, make_call(db, "CAnew", CALL_CUTOFF + timedelta(days=1))


def reread(db, row):
    db.expire_all()
    return db.get(type(row), row.id)


def turns_of(db, call: Call) -> int:
    return db.scalar(select(func.count()).select_from(CallTurn).where(CallTurn.call_id == call.id))


def test_old_calls_lose_the_callers_details_and_keep_their_statistics(db, two_calls):
    old, new = two_calls
    assert calls.purge_details(db, CALL_CUTOFF) == {"calls": 1, "turns": 2}
    db.commit()
    old = reread(db, old)
    assert (old.from_number, old.answers, turns_of(db, old)) == (None, {}, 0)
    assert (old.call_sid, old.to_number, old.route, old.language, old.outcome, old.final_status,
            old.duration_seconds) == ("CAold", "+18605550311", "ten-digit", "es", "case_created", "completed", 95)
    assert old.started_at == CALL_CUTOFF - timedelta(days=1) and old.ended_at is not None
    new = reread(db, new)
    assert (new.from_number, new.answers["location"], turns_of(db, new)) == ("+18605550123", "12 Main St", 2)


def test_purging_calls_again_finds_nothing(db, two_calls):
    calls.purge_details(db, CALL_CUTOFF)
    db.commit()
    assert calls.purge_details(db, CALL_CUTOFF) == {"calls": 0, "turns": 0}


def test_a_dry_run_counts_calls_and_changes_nothing(db, two_calls):
    old, _ = two_calls
    assert calls.purge_details(db, CALL_CUTOFF, dry_run=True) == {"calls": 1, "turns": 2}
    db.commit()
    old = reread(db, old)
    assert (old.from_number, turns_of(db, old)) == ("+18605550123", 2) and old.answers


def file_case(app, db, filed: datetime, closed: datetime | None) -> Case:
    """A phone case with contact details and a recording, closed at `closed` (or still open)."""
    schedule = app.extensions["ivr"].line.schedule
    case, _ = cases.create_case(db, cases.NewCase(
        service_type="pothole", location="45 Park Terrace", description="deep hole", contact_name="Maria Lopez",
        contact_phone="+18605554477", contact_email="maria@example.org", call_sid="CAold",
        recording_url="https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1"), schedule, actor="phone",
        now=filed)
    if closed:
        cases.update_status(db, case, "closed", "Filled", public=True, actor="alice", now=closed)
    db.commit()
    return case


@pytest.fixture
def three_cases(app, db):
    """Closed before the contacts cut-off, closed after it, and filed long ago but still open."""
    long_ago = CONTACT_CUTOFF - timedelta(days=30)
    return (file_case(app, db, long_ago, CONTACT_CUTOFF - timedelta(days=1)),
            file_case(app, db, long_ago, CONTACT_CUTOFF + timedelta(days=1)),
            file_case(app, db, long_ago, None))


def contacts(case: Case) -> tuple:
    return case.contact_name, case.contact_phone, case.contact_email, case.recording_url


def test_long_closed_cases_lose_their_contacts_and_keep_their_history(db, three_cases):
    old, recent, still_open = three_cases
    updated = reread(db, old).updated_at
    assert cases.purge_closed_contacts(db, CONTACT_CUTOFF, now=NOW) == 1
    db.commit()
    old = reread(db, old)
    assert contacts(old) == (None, None, None, None)
    assert (old.status, old.location, old.description, old.call_sid, old.updated_at) == (
        "closed", "45 Park Terrace", "deep hole", "CAold", updated)
    assert [(e.kind, e.public, e.note) for e in cases.public_notes(old)] == [("status", True, "Filled")]
    last = old.events[-1]
    assert (last.actor, last.kind, last.public, last.note, last.at.astimezone(UTC)) == (
        "retention", "note", False, "contact details removed under the retention policy", NOW.astimezone(UTC))
    for kept in (reread(db, recent), reread(db, still_open)):
        assert contacts(kept)[:3] == ("Maria Lopez", "+18605554477", "maria@example.org") and kept.recording_url


def test_purging_contacts_again_finds_nothing_and_writes_no_second_event(db, three_cases):
    cases.purge_closed_contacts(db, CONTACT_CUTOFF, now=NOW)
    db.commit()
    assert cases.purge_closed_contacts(db, CONTACT_CUTOFF, now=NOW) == 0
    db.commit()
    assert db.scalar(select(func.count()).select_from(CaseEvent).where(CaseEvent.actor == "retention")) == 1


def test_a_dry_run_counts_cases_and_changes_nothing(db, three_cases):
    old = three_cases[0]
    assert cases.purge_closed_contacts(db, CONTACT_CUTOFF, dry_run=True, now=NOW) == 1
    db.commit()
    assert contacts(reread(db, old))[0] == "Maria Lopez"
    assert db.scalar(select(func.count()).select_from(CaseEvent).where(CaseEvent.actor == "retention")) == 0


def test_the_retention_periods_come_from_config_and_must_be_at_least_a_day():
    from ivr.settings import ConfigError, load

    assert load(environ={}).privacy.keep_call_details_days == 90
    with pytest.raises(ConfigError, match=r"config/privacy.toml: .*keep_call_details_days must be at least 1"):
        load(environ={}, overrides={"privacy": {"keep_call_details_days": 0}})
