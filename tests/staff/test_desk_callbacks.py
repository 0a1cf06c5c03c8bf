"""The operator's desk lists call-back requests due first and closes them (a form with CSRF), beside the
abandoned reports it already listed."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ivr import callbacks
from ivr.models import CallBackRequest
from tests.conftest import form_token, hartford


@pytest.fixture
def two_requests(app, db, clock):
    """A Spanish message due Monday (with a transcript) and an English long wait due now."""
    monday = callbacks.request(db, callbacks.NewCallBack(
        None, "+18605550123", True, "es", "after_hours", recording_url="https://api.twilio.com/x/RE9",
        recording_sid="RE9"), hartford(2026, 12, 7, 8, 0), now=clock.now)
    callbacks.attach_transcript(db, "RE9", "Se apagó el alumbrado")
    now = callbacks.request(db, callbacks.NewCallBack(None, "+18605557788", False, "en", "long_wait"),
                            clock.now - timedelta(minutes=1), now=clock.now)
    db.commit()
    return now, monday


def test_the_desk_lists_requests_due_first(operator, two_requests):
    now, monday = two_requests
    page = operator.get("/staff/desk/").get_data(as_text=True)
    assert page.index(f'id="callback-request-{now.id}"') < page.index(f'id="callback-request-{monday.id}"')
    assert "+18605557788 (caller ID, not confirmed)" in page and "long wait" in page
    assert 'href="https://api.twilio.com/x/RE9">recording</a>: “Se apagó el alumbrado”' in page
    assert "Spanish" in page and "Reports to call back" in page  # the abandoned reports' list is still there


def test_marking_a_request_done_needs_the_form_token_and_records_who(operator, two_requests, db):
    now, _ = two_requests
    refused = operator.post(f"/staff/desk/callbacks/{now.id}/done", data={"note": "called"})
    assert refused.status_code == 400
    token = form_token(operator, "/staff/desk/")
    answer = operator.post(f"/staff/desk/callbacks/{now.id}/done", data={"note": "called, case filed",
                                                                         "csrf_token": token})
    assert answer.status_code == 302
    db.expire_all()
    row = db.get(CallBackRequest, now.id)
    assert (row.status, row.handled_by, row.note) == ("done", operator.actor, "called, case filed")
    page = operator.get("/staff/desk/").get_data(as_text=True)
    assert f'id="callback-request-{now.id}"' not in page and "called, case filed" in page
    missing = operator.post("/staff/desk/callbacks/999999/done", data={"csrf_token": token})
    assert missing.status_code == 404


def test_only_operators_close_requests(app, staff_client, two_requests):
    now, _ = two_requests
    department = staff_client("department", "dpw")
    token = form_token(department, "/staff/")
    assert department.post(f"/staff/desk/callbacks/{now.id}/done", data={"csrf_token": token}).status_code == 403
