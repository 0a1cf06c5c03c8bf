"""Hostile webhooks (issue 8, items 2 and 3): repeated, odd, over-long, missing or huge input never gives a
5xx, invalid TwiML, a failed INSERT or a traceback in the log."""

import logging
import re
import threading
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, func, select
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

from ivr.core.flows import load_flow
from ivr.models import Call, CallTurn
from ivr.settings import PROJECT_ROOT, ConfigError
from ivr.settings import load as load_settings
from tests.conftest import AUTH_TOKEN
from tests.voice.test_fallback import BAD_POSITIONS, OPEN_EN, assert_open_fallback, twiml

CALL_SID = "CA" + "8" * 32
FORM = {"CallSid": CALL_SID, "AccountSid": "AC" + "6" * 32, "From": "+18605550123", "To": "+18605550311",
        "CallStatus": "in-progress", "Direction": "inbound"}
MAIN_MENU = "/voice/turn?node=main_menu&lang=en&attempt=1&event=gather"
GREETING = "City of Hartford 311"


def signed(app, path: str, pairs, signature: bool = True):
    """POST (name, value) pairs, repeats allowed, signed as Twilio's RequestValidator reads them."""
    form = MultiDict(pairs)
    headers = {}
    if signature:
        headers["X-Twilio-Signature"] = RequestValidator(AUTH_TOKEN).compute_signature("http://localhost" + path,
                                                                                        form)
    return app.test_client().post(path, data=urlencode(list(pairs)), headers=headers,
                                  content_type="application/x-www-form-urlencoded")


def tracebacks(caplog) -> list[str]:
    """Messages of ERROR (or worse) records that carry a traceback."""
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR and r.exc_info]


def count(db, model) -> int:
    """Rows in a table, read fresh."""
    db.expire_all()
    return db.scalar(select(func.count()).select_from(model))


def arrive(app):
    """The call's first webhook."""
    return signed(app, "/voice", list(FORM.items()))


# ---- 1. repeated form fields ---------------------------------------------------------------------

def test_an_unsigned_repeated_field_is_refused_without_a_traceback(app, caplog):
    pairs = [*FORM.items(), ("Digits", "1"), ("Digits", "2")]
    answer = signed(app, MAIN_MENU, pairs, signature=False)
    assert answer.status_code == 403
    answer = app.test_client().post(MAIN_MENU, data=urlencode(pairs), content_type="application/x-www-form-urlencoded",
                                    headers={"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"})
    assert answer.status_code == 403
    assert tracebacks(caplog) == []


def test_a_signed_repeated_field_is_handled_with_its_first_value(app, caplog):
    arrive(app)
    answer = signed(app, MAIN_MENU, [*FORM.items(), ("Digits", "3"), ("Digits", "1")])
    said = " ".join(s.text or "" for s in twiml(answer).iter("Say"))
    assert said.startswith("City information.")
    assert tracebacks(caplog) == []


# ---- 2. characters XML and PostgreSQL refuse -----------------------------------------------------

def test_control_characters_in_speech_are_stripped_before_read_back(phone, db):
    call = phone()
    for key in ("1", "1", "2"):
        call.press(key)
    call.say("12 Main\x01 Street\uffff\x00 by the Café\x1b\x7f\x85")
    assert any("I heard 12 Main Street by the Café." in line for line in call.heard())
    db.expire_all()
    assert db.scalars(select(CallTurn.input).where(CallTurn.input.like("speech:%"))).all() == [
        "speech:12 Main Street by the Café"]


# ---- 3. over-long fields, odd numbers, missing CallSid, impossible positions -------------------

def test_over_long_fields_are_cut_to_their_columns(app, db):
    long_sid = "CA" + "9" * 300
    form = FORM | {"CallSid": long_sid, "From": "+1" + "2" * 300, "To": "+1" + "3" * 300}
    assert GREETING in " ".join(s.text or "" for s in twiml(signed(app, "/voice", list(form.items()))).iter("Say"))
    for field, value in (("Digits", "3" * 5000), ("SpeechResult", "pothole " * 1000),
                         ("RecordingUrl", "https://api.twilio.com/" + "r" * 5000)):
        twiml(signed(app, MAIN_MENU, list((form | {field: value}).items())))
    db.expire_all()
    row = db.scalars(select(Call)).one()
    assert (len(row.call_sid), len(row.from_number), len(row.to_number)) == (64, 32, 32)
    assert row.call_sid == long_sid[:64]
    assert max(len(turn.input or "") for turn in row.turns) <= 500


@pytest.mark.parametrize("duration", ["\u0663", "\u00b2", "1" * 5000, "99999999999"])
def test_durations_that_are_not_plain_ascii_numbers_are_ignored(app, db, duration, caplog):
    arrive(app)
    # str.isdigit() accepts these, and int() raises on some (superscript two, 5000 digits).
    menu = signed(app, MAIN_MENU, list((FORM | {"Digits": "3", "RecordingDuration": duration}).items()))
    assert " ".join(s.text or "" for s in twiml(menu).iter("Say")).startswith("City information.")
    status = signed(app, "/voice/status", list((FORM | {"CallStatus": "completed", "CallDuration": duration}).items()))
    assert status.status_code == 200
    db.expire_all()
    row = db.scalars(select(Call)).one()
    assert (row.final_status, row.duration_seconds) == ("completed", None)
    assert tracebacks(caplog) == []


def test_without_a_call_sid_no_row_is_shared(app, db):
    """Decision: no CallSid means no call to keep state for, so the fallback answers and nothing is written."""
    form = {k: v for k, v in FORM.items() if k != "CallSid"}
    for path in ("/voice", MAIN_MENU):
        assert_open_fallback(twiml(signed(app, path, list(form.items()))),
                             langs=("en", "es") if path == "/voice" else ("en",))
    assert_open_fallback(twiml(signed(app, "/voice", list((form | {"CallSid": "\x00\x01"}).items()))))
    assert signed(app, "/voice/status", list((form | {"CallStatus": "completed"}).items())).status_code == 200
    assert count(db, Call) == 0 and count(db, CallTurn) == 0


IMPOSSIBLE = BAD_POSITIONS | {"keys at a branch": ("node=opening&lang=en&attempt=1&event=gather", ("en",)),
                              "silence at a say": ("node=info_about&lang=es&attempt=1&event=silence", ("es",))}


@pytest.mark.parametrize(("position", "langs"), IMPOSSIBLE.values(), ids=IMPOSSIBLE.keys())
def test_impossible_positions_log_no_traceback(app, caplog, position, langs):
    assert_open_fallback(twiml(signed(app, "/voice/turn?" + position, list((FORM | {"Digits": "1"}).items()))),
                         langs=langs)
    assert tracebacks(caplog) == []


# ---- 4. request size, before the signature check ------------------------------------------------

@pytest.mark.parametrize("body", [b"Digits=" + b"1" * (1 << 20), b"a=&" * 200_000, b"a&" * 300],
                         ids=["1 MB body", "200,000 fields", "300 short fields"])
def test_oversized_unsigned_requests_are_refused_before_parsing(app, db, body):
    answer = app.test_client().post("/voice", data=body, content_type="application/x-www-form-urlencoded")
    assert answer.status_code == 413
    assert answer.is_json and answer.get_json()["message"]
    assert count(db, Call) == 0


def test_size_limits_come_from_web_settings(make_app):
    app = make_app({"web": {"max_content_length": 1000, "max_form_parts": 10}})
    assert (app.config["MAX_CONTENT_LENGTH"], app.config["MAX_FORM_PARTS"]) == (1000, 10)
    assert signed(app, "/voice", [*FORM.items(), *[("x", str(n)) for n in range(5)]]).status_code == 413
    assert signed(app, "/voice", list(FORM.items())).status_code == 200


def test_a_size_limit_below_one_is_a_config_error():
    with pytest.raises(ConfigError, match="max_form_parts"):
        load_settings(overrides={"web": {"max_form_parts": 0}})


# ---- 5. the same first webhook twice at once ----------------------------------------------------

def _meet_before_racing(engine, barrier: threading.Barrier):
    """Hold each worker's request where it would race the other, until the other has got there too.

    PostgreSQL: before the first statement on the call rows, so both look for the row, or insert it, at once.
    SQLite takes its one write lock at BEGIN IMMEDIATE, so there the two turns run one after the other: they
    are only started together.
    """
    waited = threading.local()

    def meet() -> None:
        if not getattr(waited, "done", False):
            waited.done = True
            barrier.wait(timeout=10)

    def before_statement(conn, cursor, statement, parameters, context, executemany):
        if re.search(r"\b(FROM|INTO) calls\b", statement):
            meet()

    if engine.dialect.name == "sqlite":
        return lambda: None
    event.listen(engine, "before_cursor_execute", before_statement)
    return lambda: event.remove(engine, "before_cursor_execute", before_statement)


def test_the_same_arrival_twice_at_once_greets_both(make_app, db, caplog):
    workers = [make_app(), make_app()]  # two workers: two engines and pools on one database
    barrier = threading.Barrier(2)
    stops = [_meet_before_racing(worker.extensions["ivr"].db.engine, barrier) for worker in workers]
    answers = [None, None]

    def post(index: int):
        answers[index] = arrive(workers[index])

    threads = [threading.Thread(target=post, args=(index,)) for index in range(2)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        for stop in stops:
            stop()
    bodies = [answer.get_data(as_text=True) for answer in answers]
    assert GREETING in bodies[0] and bodies[0] == bodies[1]
    assert OPEN_EN not in bodies[1]
    assert count(db, Call) == 1 and count(db, CallTurn) == 2
    assert tracebacks(caplog) == []


# ---- 6. anything at all, validly signed ---------------------------------------------------------

NAMES = ["CallSid", "From", "To", "Digits", "SpeechResult", "RecordingUrl", "RecordingDuration", "CallDuration",
         "CallStatus", "DialCallStatus", "QueueResult", "QueuePosition", "ErrorCode", "ErrorUrl", "Confidence"]
SHIPPED_NODES = sorted(load_flow(PROJECT_ROOT / "flows").nodes)
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)
VALUES = st.one_of(
    TEXT,
    st.sampled_from(["1", "12345678#", "\u0663", "\u00b2", "99999999999", "", "\x00", "\uffff", "CA" + "1" * 32]),
    st.builds(lambda text, times: text * times, TEXT.filter(bool), st.integers(1, 3000)),
)
PAIRS = st.lists(st.tuples(st.one_of(st.sampled_from(NAMES), TEXT), VALUES), max_size=12)
POSITIONS = st.fixed_dictionaries({}, optional={
    "node": st.one_of(st.sampled_from(SHIPPED_NODES), TEXT),
    "lang": st.sampled_from(["en", "es", "fr", ""]),
    "attempt": st.one_of(st.integers(-2, 25).map(str), TEXT),
    "event": st.one_of(st.sampled_from(["gather", "silence", "dial", "queue", "record"]), TEXT),
})
ROUTES = ["/voice", "/voice/turn", "/voice/wait", "/voice/status", "/voice/fallback"]


@pytest.mark.parametrize("node", ["report_location_confirm", "report_summary"])
def test_a_signed_turn_at_a_node_the_call_never_reached_answers_without_a_traceback(app, caplog, node):
    """A stale or forged position lacks the answers its prompts read: the fallback, and a warning only."""
    answer = signed(app, f"/voice/turn?node={node}&lang=en&attempt=1&event=silence", [("CallSid", CALL_SID)])
    assert answer.status_code == 200 and "9-1-1" in answer.get_data(as_text=True)
    assert any("has not reached" in r.getMessage() for r in caplog.records)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


@settings(max_examples=150, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(route=st.sampled_from(ROUTES), query=POSITIONS, pairs=PAIRS, with_sid=st.booleans())
def test_hostile_signed_posts_never_break_the_line(app, caplog, route, query, pairs, with_sid):
    caplog.clear()
    path = route + ("?" + urlencode(query) if query else "")
    pairs = ([("CallSid", CALL_SID)] if with_sid else []) + pairs
    answer = signed(app, path, pairs)
    assert answer.status_code < 500, answer.get_data(as_text=True)
    assert answer.status_code in (200, 413) or (answer.status_code == 403 and query), answer.status_code
    # XML answers are checked by conftest's autouse fixture (assert_valid_twiml).
    assert tracebacks(caplog) == []
