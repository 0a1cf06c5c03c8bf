"""Privacy by default in the logs (ivr/privacy.py, ivr/db.py): no phone number and no bound parameter gets out."""

from __future__ import annotations

import io
import logging

import pytest
from sqlalchemy.exc import IntegrityError

from ivr.models import Call
from ivr.privacy import MaskPhoneNumbers, mask_phone_numbers

CALLER = "+18605550123"
DIGITS = "8605550123"


@pytest.mark.parametrize("text", [
    "from +18605550123", "from 18605550123", "from 8605550123", "from (860) 555-0123", "from 860-555-0123",
    "from 860.555.0123", "from 1-860-555-0123", "from +1 860 555 0123", "from 28605550123",
])
def test_phone_numbers_are_masked_to_their_last_four_digits(text):
    assert mask_phone_numbers(text) == "from ...0123"


def test_an_international_number_is_masked():
    assert mask_phone_numbers("from +442079460958.") == "from ...0958."


@pytest.mark.parametrize("text", [
    "case 10000012", "case 1000 0012", "CA0123456789abcdef0123456789abcdef", "CA1234567890123456789012345678901a",
    "at 2026-12-01 10:00:00", "took 12345678901234 ns", "from 127.0.0.1", "duration 95",
])
def test_case_numbers_call_sids_dates_and_other_numbers_are_kept(text):
    assert mask_phone_numbers(text) == text


@pytest.fixture
def written(make_app):
    """What a plain handler on the root logger writes once an app is built (as gunicorn's or journald's would)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield make_app(), stream
    finally:
        root.removeHandler(handler)


def test_a_phone_number_in_a_log_line_goes_out_masked(written):
    app, stream = written
    app.logger.warning("call from %s", CALLER)
    logging.getLogger("ivr.voice.routes").warning("caller said (860) 555-0123 in case %s", "10000012")
    output = stream.getvalue()
    assert DIGITS not in output and "555-0123" not in output
    assert "call from ...0123" in output and "caller said ...0123 in case 10000012" in output


def test_a_phone_number_in_a_traceback_goes_out_masked(written):
    app, stream = written
    try:
        raise ValueError(f"no route for {CALLER}")
    except ValueError:
        app.logger.exception("turn failed for CA%s", "0" * 32)
    output = stream.getvalue()
    assert "ValueError: no route for ...0123" in output and DIGITS not in output
    assert f"turn failed for CA{'0' * 32}" in output


def test_the_filter_is_installed_once_however_many_apps_are_built(written, make_app):
    make_app()
    handler = logging.getLogger().handlers[-1]
    assert sum(isinstance(f, MaskPhoneNumbers) for f in handler.filters) == 1


def test_a_database_error_carries_no_bound_parameters(app, db):
    db.add(Call(call_sid="CA-dup", from_number=CALLER, route="311", language="en", answers={}))
    db.commit()
    db.add(Call(call_sid="CA-dup", from_number=CALLER, route="311", language="en", answers={"name": "Maria"}))
    with pytest.raises(IntegrityError) as raised:
        db.commit()
    db.rollback()
    message = str(raised.value)
    assert "parameters hidden" in message
    assert DIGITS not in message and "Maria" not in message


def test_a_logged_database_error_shows_no_phone_number_even_from_the_driver(written):
    # PostgreSQL's own message repeats the failing row ("Failing row contains (..., +18605550123, ...)").
    app, stream = written
    session = app.extensions["ivr"].db.sessions()
    try:
        session.add(Call(call_sid=None, from_number=CALLER, route="311", language="en", answers={}))
        session.flush()
    except IntegrityError:
        app.logger.exception("could not record the call")
    finally:
        session.rollback()
        session.close()
    output = stream.getvalue()
    assert "IntegrityError" in output and DIGITS not in output
