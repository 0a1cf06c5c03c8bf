"""Retention (config/privacy.toml): old calls lose the caller's details, long-closed cases their contacts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from ivr import callbacks, calls, cases, recordings
from ivr.models import Call, CallBackRequest, CallRecording, CallTurn, Case, CaseEvent
from ivr.twilio_rest import TwilioAccount
from tests.conftest import hartford
from tests.test_cli import run  # noqa: F401 - the CLI fixture, for `ivr purge`
from tests.twilio_api import ACCOUNT, NOT_FOUND

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


# ---- recordings: deleted at Twilio before their links are forgotten (issue 11, part 6) ----------------------


ACCOUNT_SID = "AC" + "3" * 32
RECORDINGS = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings"
OLD_SIDS = ["RE" + "a" * 32, "RE" + "b" * 32]
NEW_SID = "RE" + "c" * 32
TWILIO_DOWN = {"code": 20500, "message": "Internal Server Error", "status": 500}
REFUSED = "HTTP 500, error 20500, Unable to delete record: Internal Server Error"  # as the purge reports it


@pytest.fixture
def twilio_recordings(twilio_stand_in):
    """The stand-in holding recordings: DELETE answers 204 for one it has, 404 for one it has not."""
    twilio_stand_in.recordings = set(OLD_SIDS + [NEW_SID])

    @twilio_stand_in.route("DELETE", rf"{ACCOUNT}/Recordings/(?P<sid>RE[0-9a-f]{{32}})\.json")
    def delete_recording(stand_in, match, form):
        if match["sid"] not in stand_in.recordings:
            return 404, NOT_FOUND
        stand_in.recordings.discard(match["sid"])
        return 204, {}

    return twilio_stand_in


@pytest.fixture
def deleter(twilio_recordings):
    """Deletes recordings at the stand-in, as `ivr purge` does at Twilio."""
    twilio = recordings.TwilioRecordings(TwilioAccount(ACCOUNT_SID, "token", twilio_recordings.url, 2.0))
    yield twilio
    twilio.close()


def url_of(sid: str) -> str:
    return f"https://api.twilio.com{RECORDINGS}/{sid}"


@pytest.fixture
def conversations(app, db):
    """Two conversations recorded before the calls' cut-off, one after."""
    for sid, at in ((OLD_SIDS[0], CALL_CUTOFF - timedelta(days=5)), (OLD_SIDS[1], CALL_CUTOFF - timedelta(days=1)),
                    (NEW_SID, CALL_CUTOFF + timedelta(days=1))):
        assert recordings.keep_recording(db, "CAold", sid, url_of(sid), 60, at)
    db.commit()


def kept_sids(db) -> list[str]:
    db.expire_all()
    return list(db.scalars(select(CallRecording.recording_sid).order_by(CallRecording.id)))


def deletes(stand_in) -> list[str]:
    return [req["path"] for req in stand_in.requests if req["method"] == "DELETE"]


def test_expired_recordings_are_deleted_at_twilio_then_forgotten(db, conversations, deleter, twilio_recordings):
    done = recordings.delete_expired(db, CALL_CUTOFF, deleter.delete)
    db.commit()
    assert (done.deleted, done.failures) == (2, [])
    assert deletes(twilio_recordings) == [f"{RECORDINGS}/{sid}.json" for sid in OLD_SIDS]
    assert twilio_recordings.recordings == {NEW_SID}
    assert kept_sids(db) == [NEW_SID]
    assert recordings.delete_expired(db, CALL_CUTOFF, deleter.delete).deleted == 0  # nothing left to do


def test_a_twilio_failure_keeps_the_recording_for_the_next_run(db, conversations, deleter, twilio_recordings):
    twilio_recordings.status, twilio_recordings.error_body = 500, TWILIO_DOWN
    done = recordings.delete_expired(db, CALL_CUTOFF, deleter.delete)
    db.commit()
    assert done.deleted == 0
    assert done.failures == [f"{sid}: {REFUSED}" for sid in OLD_SIDS]
    assert kept_sids(db) == [*OLD_SIDS, NEW_SID]

    twilio_recordings.status = 201  # Twilio is back: the next run finishes the job
    assert recordings.delete_expired(db, CALL_CUTOFF, deleter.delete).deleted == 2
    db.commit()
    assert kept_sids(db) == [NEW_SID]


def test_a_recording_twilio_no_longer_has_counts_as_deleted(db, conversations, deleter, twilio_recordings):
    twilio_recordings.recordings.discard(OLD_SIDS[0])  # deleted in Twilio's console by hand
    done = recordings.delete_expired(db, CALL_CUTOFF, deleter.delete)
    db.commit()
    assert (done.deleted, done.failures) == (2, [])
    assert kept_sids(db) == [NEW_SID]


def test_without_credentials_nothing_is_deleted_or_forgotten(db, conversations, twilio_recordings):
    no_account = recordings.TwilioRecordings(TwilioAccount(None, None, twilio_recordings.url))
    done = recordings.delete_expired(db, CALL_CUTOFF, no_account.delete)
    assert done.deleted == 0 and len(done.failures) == 2 and "no Twilio credentials" in done.failures[0]
    assert twilio_recordings.requests == [] and kept_sids(db) == [*OLD_SIDS, NEW_SID]


def test_a_dry_run_counts_the_expired_recordings_and_asks_twilio_nothing(db, conversations, deleter,
                                                                          twilio_recordings):
    assert recordings.delete_expired(db, CALL_CUTOFF, deleter.delete, dry_run=True).deleted == 2
    assert twilio_recordings.requests == [] and len(kept_sids(db)) == 3


def test_a_recording_sid_is_read_from_twilios_url_only():
    assert recordings.recording_sid(url_of(NEW_SID)) == NEW_SID
    assert recordings.recording_sid(url_of(NEW_SID) + ".mp3") == NEW_SID
    assert recordings.recording_sid("https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1") is None
    assert recordings.recording_sid(None) is None


@pytest.fixture
def recorded_case(app, db):
    """A case closed before the contacts' cut-off whose description was recorded at Twilio."""
    case = file_case(app, db, CONTACT_CUTOFF - timedelta(days=30), CONTACT_CUTOFF - timedelta(days=1))
    case.recording_url = url_of(OLD_SIDS[0])
    db.commit()
    return case


def retention_events(db) -> int:
    return db.scalar(select(func.count()).select_from(CaseEvent).where(CaseEvent.actor == "retention"))


def purge_cases(db, deleter) -> recordings.Deletions:
    done = recordings.Deletions()
    cases.purge_closed_contacts(db, CONTACT_CUTOFF, now=NOW,
                                delete_recording=recordings.link_deleter(deleter.delete, done))
    db.commit()
    return done


def test_a_closed_cases_recording_is_deleted_at_twilio_with_its_contacts(db, recorded_case, deleter,
                                                                         twilio_recordings):
    done = purge_cases(db, deleter)
    assert (done.deleted, done.failures) == (1, [])
    assert deletes(twilio_recordings) == [f"{RECORDINGS}/{OLD_SIDS[0]}.json"]
    assert contacts(reread(db, recorded_case)) == (None, None, None, None)
    assert retention_events(db) == 1


def test_a_cases_recording_twilio_kept_is_tried_again_and_noted_once(db, recorded_case, deleter, twilio_recordings):
    twilio_recordings.status, twilio_recordings.error_body = 500, TWILIO_DOWN
    done = purge_cases(db, deleter)
    assert done.failures == [f"{OLD_SIDS[0]}: {REFUSED}"]
    assert contacts(reread(db, recorded_case)) == (None, None, None, url_of(OLD_SIDS[0]))  # the link stays
    assert retention_events(db) == 1

    twilio_recordings.status = 201
    assert purge_cases(db, deleter).deleted == 1
    assert reread(db, recorded_case).recording_url is None
    assert retention_events(db) == 1  # the removal was noted the first time


def test_ivr_purge_deletes_at_twilio_and_reports_what_it_could_not(run, monkeypatch, app, db, twilio_recordings):  # noqa: F811
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", ACCOUNT_SID)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "token")
    monkeypatch.setenv("TWILIO_API_BASE", twilio_recordings.url)
    # The CLI's clock is the suite's (December 1, 2026): these are over 90 days old.
    for sid in OLD_SIDS:
        recordings.keep_recording(db, "CAold", sid, url_of(sid), 60, hartford(2026, 6, 1, 9, 0))
    db.commit()
    twilio_recordings.status, twilio_recordings.error_body = 500, TWILIO_DOWN

    failed = run("purge")
    assert failed.exit_code == 1
    assert "deleted 0 recordings at Twilio" in failed.output
    assert f"recording NOT deleted at Twilio, kept for the next run: {OLD_SIDS[0]}: HTTP 500" in failed.output
    assert kept_sids(db) == OLD_SIDS

    twilio_recordings.status = 201
    done = run("purge")
    assert done.exit_code == 0, done.output
    assert "deleted 2 recordings at Twilio" in done.output and kept_sids(db) == []


# ---- call-back requests --------------------------------------------------------------------------------------

def call_back(db, handled: datetime | None, sid: str | None = None) -> CallBackRequest:
    """A call-back request for a message left at Twilio; `handled` None keeps it open."""
    made = CallBackRequest(phone="+18605550123", number_confirmed=True, language="es", reason="after_hours",
                           need="hay un bache", recording_url=url_of(sid) if sid else None, recording_sid=sid,
                           transcript="pothole on Main Street", requested_at=CALL_CUTOFF - timedelta(days=30),
                           due_at=CALL_CUTOFF - timedelta(days=29), status="done" if handled else "open",
                           handled_by="operator" if handled else None, handled_at=handled,
                           note="called, case opened" if handled else None)
    db.add(made)
    db.commit()
    return made


def personal(made: CallBackRequest) -> tuple:
    return made.phone, made.need, made.transcript, made.note, made.recording_url


def test_handled_call_backs_lose_their_details_and_message_at_twilio(db, deleter, twilio_recordings):
    old = call_back(db, CALL_CUTOFF - timedelta(days=1), OLD_SIDS[0])
    recent = call_back(db, CALL_CUTOFF + timedelta(days=1), OLD_SIDS[1])
    still_open = call_back(db, None, NEW_SID)
    done = recordings.Deletions()

    assert callbacks.purge_details(db, CALL_CUTOFF, recordings.link_deleter(deleter.delete, done)) == 1
    db.commit()

    assert personal(reread(db, old)) == (None, None, None, None, None) and old.recording_sid is None
    assert (old.reason, old.language, old.status) == ("after_hours", "es", "done")  # the statistics stay
    assert personal(reread(db, recent))[0] == "+18605550123"
    assert personal(reread(db, still_open))[0] == "+18605550123"  # someone still has to call
    assert deletes(twilio_recordings) == [f"{RECORDINGS}/{OLD_SIDS[0]}.json"] and done.deleted == 1
    assert callbacks.purge_details(db, CALL_CUTOFF, recordings.link_deleter(deleter.delete, done)) == 0


def test_a_call_back_message_twilio_kept_keeps_its_link_for_the_next_run(db, deleter, twilio_recordings):
    old = call_back(db, CALL_CUTOFF - timedelta(days=1), OLD_SIDS[0])
    twilio_recordings.status, twilio_recordings.error_body = 500, TWILIO_DOWN
    done = recordings.Deletions()

    callbacks.purge_details(db, CALL_CUTOFF, recordings.link_deleter(deleter.delete, done))
    db.commit()

    assert personal(reread(db, old)) == (None, None, None, None, url_of(OLD_SIDS[0]))
    assert done.failures == [f"{OLD_SIDS[0]}: {REFUSED}"]
    twilio_recordings.status = 201
    assert callbacks.purge_details(db, CALL_CUTOFF, recordings.link_deleter(deleter.delete, done)) == 1
    db.commit()
    assert reread(db, old).recording_url is None


def test_a_dry_run_counts_handled_call_backs_and_changes_nothing(db, deleter, twilio_recordings):
    old = call_back(db, CALL_CUTOFF - timedelta(days=1), OLD_SIDS[0])
    assert callbacks.purge_details(db, CALL_CUTOFF, lambda url: True, dry_run=True) == 1
    assert personal(reread(db, old))[0] == "+18605550123" and twilio_recordings.requests == []
