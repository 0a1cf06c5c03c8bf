"""Call-back requests (ivr/callbacks.py) and `ivr callbacks`: recorded, listed due first, marked done once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ivr import callbacks
from ivr.models import CallBackRequest
from tests.conftest import hartford


@pytest.fixture
def made(app, db, clock):
    """made(reason, due, phone=..., **more) -> a committed request (no call behind it)."""

    def make(reason: str, due, phone: str | None = "+18605550123", confirmed: bool = True, lang: str = "en",
             **more) -> CallBackRequest:
        row = callbacks.request(db, callbacks.NewCallBack(call_sid=None, phone=phone, number_confirmed=confirmed,
                                                          language=lang, reason=reason, **more), due, now=clock.now)
        db.commit()
        return row

    return make


def test_due_now_while_open_and_at_the_next_opening_after_hours(app, clock):
    schedule = app.extensions["ivr"].line.schedule
    assert callbacks.due_at(schedule, clock.now) == clock.now
    assert callbacks.due_at(schedule, hartford(2026, 12, 4, 18, 30)) == hartford(2026, 12, 7, 8, 0)


def test_an_unknown_reason_is_refused(app, db, clock):
    with pytest.raises(callbacks.CallBackError, match="unknown call-back reason"):
        callbacks.request(db, callbacks.NewCallBack(None, None, False, "en", "boredom"), clock.now)


def test_open_requests_come_due_first_and_done_ones_leave_the_list(app, db, clock, made):
    later = made("after_hours", clock.now + timedelta(days=1), lang="es")
    sooner = made("long_wait", clock.now - timedelta(minutes=5))
    assert [row.id for row in callbacks.open_requests(db, 10)] == [sooner.id, later.id]
    assert [row.id for row in callbacks.open_requests(db, 10, due_by=clock.now)] == [sooner.id]
    callbacks.mark_done(db, sooner.id, "staff:ana", "  called, case filed ", now=clock.now)
    again = callbacks.mark_done(db, sooner.id, "staff:bob", "second click", now=clock.now + timedelta(hours=1))
    db.commit()
    assert (again.handled_by, again.note, again.handled_at) == ("staff:ana", "called, case filed", clock.now)
    assert [row.id for row in callbacks.open_requests(db, 10)] == [later.id]
    assert [row.id for row in callbacks.recently_done(db, 10)] == [sooner.id]
    with pytest.raises(callbacks.NoSuchCallBack):
        callbacks.mark_done(db, 999_999, "staff:ana", None)
    with pytest.raises(callbacks.CallBackError, match="under 500"):
        callbacks.mark_done(db, later.id, "staff:ana", "x" * 501)


def test_ivr_callbacks_lists_due_first_with_messages(ivr_command, made, clock):
    made("after_hours", hartford(2026, 12, 7, 8, 0), lang="es", recording_url="https://api.twilio.com/RE1",
         recording_sid="RE1")
    first = made("long_wait", clock.now, phone="+18605557788", confirmed=False)
    result = ivr_command("callbacks")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == (f"#{first.id}  due Tue 2026-12-01 10:00  open  English  long wait  "
                        "+18605557788 (caller ID, not confirmed)")
    assert lines[1].endswith("open  Spanish  after hours  +18605550123")
    assert lines[1].startswith(f"#{first.id - 1}  due Mon 2026-12-07 08:00")
    assert lines[2] == "    message: https://api.twilio.com/RE1"
    due = ivr_command("callbacks", "--due")
    assert due.exit_code == 0 and len(due.output.splitlines()) == 1 and due.output.startswith(f"#{first.id} ")


def test_ivr_callbacks_done_marks_a_request_handled(ivr_command, made, db):
    row = made("long_wait", hartford(2026, 12, 1, 9, 0))
    result = ivr_command("callbacks", "--done", str(row.id), "--note", "no answer, left voicemail")
    assert result.exit_code == 0, result.output
    assert "done by cli:cli-test at 2026-12-01 10:00: no answer, left voicemail" in result.output
    db.expire_all()
    assert db.get(CallBackRequest, row.id).status == "done"
    assert ivr_command("callbacks").output == "No call-back requests are open.\n"
    missing = ivr_command("callbacks", "--done", "999999")
    assert missing.exit_code != 0 and "there is no call-back request 999999" in missing.output
    assert ivr_command("callbacks", "--note", "x").exit_code == 2


def test_ivr_help_lists_callbacks_without_importing_it(ivr_command):
    assert "callbacks" in ivr_command("--help").output
