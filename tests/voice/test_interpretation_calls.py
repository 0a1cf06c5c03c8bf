"""Three-way interpretation, whole calls: the caller waits in a conference of their own while a 311 representative
and the interpretation service are dialled into it through Twilio's REST API (the local stand-in of it here).

The test plays Twilio's side: the legs' status callbacks, the room's events, the REST redirect of the caller.
"""

from __future__ import annotations

import re
import time
import xml.etree.ElementTree as ET
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from ivr.models import Call, CallBackRequest
from ivr.settings import TWILIO_WEBHOOK_SECONDS
from tests.conftest import dial_line
from tests.twilio_api import ACCOUNT, INVALID_TO, new_sid, twilio_time
from tests.voice.test_calls import GREETING, LANGUAGE_MENU

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
CALL_CENTRE = "+18605550100"  # config/routing.toml [representative] call_center_number
INTERPRETERS = "+18005550199"  # [interpretation] number
CITY_NUMBER = "+18607579311"  # config/numbers.toml ten_digit: the caller ID of the legs
CALLS = rf"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls\.json"

CONNECTING = [
    "Please stay on the line. We are bringing a 311 representative and an interpreter onto your call.",
    "Por favor, no cuelgue. Estamos uniendo a su llamada a un representante del 311 y a un intérprete.",
]
UNREACHABLE = [
    "Sorry, we could not bring an interpreter and a representative onto your call right now.",
    "Lo sentimos, en este momento no pudimos comunicarle con un intérprete y un representante.",
]
WAIT = [
    "Thank you for waiting. A representative and an interpreter will join you shortly.",
    "Gracias por esperar. Un representante y un intérprete estarán con usted en breve.",
]
WHISPER = ("311 interpretation call. The caller needs help in another language; an interpreter is joining you "
           "both.")
REP_EN = "Please hold for the next available representative."
ASKED = len(GREETING) + len(LANGUAGE_MENU)  # what a caller has heard before the interpretation's own words
# After the failure: a message for a call-back with an interpreter (in English or Spanish), or wait for a person.
CALL_BACK_OFFER = [
    "To leave a message in your language and have us call you back with an interpreter, press 1.",
    "Para dejar un mensaje en su idioma y que le llamemos con un intérprete, oprima 2.",
    "To wait for a representative, press 0.",
]


# ---- the stand-in's Calls resource ------------------------------------------------------------------------

class CallsResource:
    """Calls create and update on the stand-in; numbers in `refused` are answered with Twilio's 400."""

    def __init__(self, stand_in):
        self.refused: set[str] = set()
        stand_in.route("POST", rf"{ACCOUNT}/Calls\.json")(self.create)
        stand_in.route("POST", rf"{ACCOUNT}/Calls/(?P<sid>CA[0-9a-f]{{32}})\.json")(self.update)

    def create(self, stand_in, match, form):
        if form.get("To") in self.refused:
            return 400, INVALID_TO
        return 201, call_resource(match["account"], new_sid("CA"), form.get("To"), form.get("From"), "queued")

    def update(self, stand_in, match, form):
        return 200, call_resource(match["account"], match["sid"], CALL_CENTRE, CITY_NUMBER,
                                  form.get("Status", "in-progress"))


def call_resource(account_sid: str, sid: str, to: str | None, from_: str | None, status: str) -> dict:
    """A Call resource as Twilio returns it from create or update."""
    now = twilio_time()
    return {"sid": sid, "account_sid": account_sid, "to": to, "from": from_, "status": status,
            "direction": "outbound-api", "api_version": "2010-04-01", "date_created": now, "date_updated": now,
            "uri": f"/2010-04-01/Accounts/{account_sid}/Calls/{sid}.json"}


@pytest.fixture
def calls_api(twilio_stand_in):
    return CallsResource(twilio_stand_in)


@pytest.fixture
def line(make_app, twilio_stand_in, calls_api):
    """The line with Twilio credentials, its REST API at the stand-in, and a LanguageLine code for Portuguese."""
    settings = {"twilio": {"api_base": twilio_stand_in.url},
                "routing": {"interpretation": {"api_timeout": 1, "language_codes": {"pt": "206"}}}}
    return make_app(settings, TWILIO_ACCOUNT_SID=ACCOUNT_SID)


# ---- helpers ----------------------------------------------------------------------------------------------

def ask_for_interpreter(app, before=None, language_key: str | None = None):
    """Call, press 3 at the greeting, then a key in the offered languages' menu (or nothing: the interpreter
    all the same); `before(call)` runs first (e.g. to store an answer)."""
    call = dial_line(app)
    if before:
        before(call)
    call.press("3")
    if language_key:
        call.press(language_key)
    else:
        call.silence()
    return call


def created(stand_in) -> list[dict]:
    """The Calls create requests, each form with its repeated fields as lists."""
    return [{**req["form"], "StatusCallbackEvent": parse_qs(req["body"]).get("StatusCallbackEvent")}
            for req in stand_in.requests_to(CALLS)]


def updates(stand_in) -> list[tuple[str, dict]]:
    """The Calls update requests: (CallSid, form)."""
    found = stand_in.requests_to(rf"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls/CA[0-9a-f]{{32}}\.json")
    return [(re.search(r"Calls/(CA[0-9a-f]{32})", req["path"]).group(1), req["form"]) for req in found]


def _created_sids(stand_in) -> list[str]:
    return [answer["sid"] for answer in stand_in.created]


def answers(app, call) -> dict:
    with app.extensions["ivr"].db.sessions() as session:
        return session.scalars(select(Call.answers).where(Call.call_sid == call.call_sid)).one()


def outcome(app, call) -> str | None:
    with app.extensions["ivr"].db.sessions() as session:
        return session.scalars(select(Call.outcome).where(Call.call_sid == call.call_sid)).one()


def conference_twiml(call) -> ET.Element:
    """The <Dial> that put the caller in the room."""
    return call.room.dial


@pytest.fixture(autouse=True)
def remember_created(twilio_stand_in):
    """Keep the Call resources the stand-in created, in order, so tests know each leg's CallSid."""
    twilio_stand_in.created = []
    original = twilio_stand_in.answer

    def answer(method, path, form):
        status, payload = original(method, path, form)
        if status == 201 and path.split("?")[0].endswith("/Calls.json"):
            twilio_stand_in.created.append(payload)
        return status, payload

    twilio_stand_in.answer = answer


def status(call, leg: dict, sid: str, call_status: str):
    """Twilio posts a leg's status callback (signed) to the URL the line gave it."""
    answer = call.sim.outbound_status(leg["StatusCallback"], sid, leg["To"], leg["From"], call_status)
    assert answer.status == 200 and answer.content_type.startswith("text/xml")
    return answer


# ---- the three-way call -----------------------------------------------------------------------------------

def test_the_caller_waits_in_a_room_of_their_own_while_both_are_dialled_in(line, twilio_stand_in):
    call = ask_for_interpreter(line)

    assert call.heard()[ASKED:] == CONNECTING
    room = f"interpretation-{call.call_sid}"
    assert call.conference == room and not call.ended
    rep, interpreter = created(twilio_stand_in)
    base = "http://localhost/voice/interpretation/leg"
    assert {key: rep[key] for key in rep if key != "Twiml"} == {
        "To": CALL_CENTRE, "From": CITY_NUMBER, "Timeout": "30", "StatusCallbackMethod": "POST",
        "StatusCallback": f"{base}?call={call.call_sid}&leg=representative",
        "StatusCallbackEvent": ["answered", "completed"]}
    assert {key: interpreter[key] for key in interpreter if key != "Twiml"} == {
        "To": INTERPRETERS, "From": CITY_NUMBER, "Timeout": "30", "SendDigits": "wwww1234567#",
        "StatusCallbackMethod": "POST", "StatusCallback": f"{base}?call={call.call_sid}&leg=interpreter",
        "StatusCallbackEvent": ["answered", "completed"]}
    # Each leg's own TwiML joins the same room; the representative hears what the call is first, and ends it.
    rep_twiml, interpreter_twiml = ET.fromstring(rep["Twiml"]), ET.fromstring(interpreter["Twiml"])
    assert [child.tag for child in rep_twiml] == ["Say", "Dial"] and rep_twiml[0].text == WHISPER
    assert [child.tag for child in interpreter_twiml] == ["Dial"]
    for twiml, ends in ((rep_twiml, "true"), (interpreter_twiml, "false")):
        conference = twiml.find("Dial/Conference")
        assert conference.text == room
        assert conference.get("startConferenceOnEnter") == "true" and conference.get("endConferenceOnExit") == ends
    # The caller's own <Dial><Conference>: back to the flow when it ends, on hold until someone joins.
    dial = conference_twiml(call)
    assert dict(parse_qs(urlsplit(dial.get("action")).query)) == {
        "node": ["interpretation"], "lang": ["en"], "attempt": ["1"], "event": ["conference"]}
    conference = dial.find("Conference")
    assert conference.attrib == {
        "startConferenceOnEnter": "false", "endConferenceOnExit": "true",
        "waitUrl": "http://localhost/voice/interpretation/wait?lang=en", "waitMethod": "POST",
        "statusCallback": "http://localhost/voice/interpretation/events", "statusCallbackMethod": "POST",
        "statusCallbackEvent": "start end join leave"}
    assert answers(line, call)["interpretation"]["state"] == "waiting"


def test_representative_and_interpreter_join_and_the_call_ends_with_them(line, twilio_stand_in):
    call = ask_for_interpreter(line)
    rep, interpreter = created(twilio_stand_in)
    rep_sid, interpreter_sid = _created_sids(twilio_stand_in)

    call.conference_event("participant-join")  # the caller
    status(call, rep, rep_sid, "in-progress")
    call.conference_event("participant-join", rep_sid, EndConferenceOnExit="true")
    call.conference_event("conference-start")
    status(call, interpreter, interpreter_sid, "in-progress")
    call.conference_event("participant-join", interpreter_sid)
    assert answers(line, call)["interpretation"]["state"] == "connected"
    assert answers(line, call)["interpretation"]["joined"] == ["representative", "interpreter"]

    # The representative hangs up: the room ends, and so does the caller's <Dial>.
    call.conference_event("participant-leave", rep_sid, EndConferenceOnExit="true")
    call.conference_event("conference-end")
    call.leave_conference("answered")
    status(call, rep, rep_sid, "completed")
    status(call, interpreter, interpreter_sid, "completed")

    assert call.ended and call.heard()[ASKED:] == CONNECTING
    assert outcome(line, call) == "conference_completed:interpretation"
    assert updates(twilio_stand_in) == []  # nobody redirected, nothing cancelled
    assert all(exchange.status == 200 for exchange in call.requests)


def test_the_language_the_caller_named_is_sent_after_the_account_code(line, twilio_stand_in):
    call = ask_for_interpreter(line, language_key="1")  # "Português, tecle 1."

    assert answers(line, call)["interpretation_language"] == "pt"

    assert created(twilio_stand_in)[1]["SendDigits"] == "wwww1234567#ww206#"


def test_a_language_without_a_code_sends_the_account_code_alone(line, twilio_stand_in):
    def named_klingon(call):
        with line.extensions["ivr"].db.sessions() as session:
            row = session.scalars(select(Call).where(Call.call_sid == call.call_sid)).one()
            row.answers = {**row.answers, "interpretation_language": "tlh"}
            session.commit()

    ask_for_interpreter(line, before=named_klingon)

    assert created(twilio_stand_in)[1]["SendDigits"] == "wwww1234567#"


def test_the_caller_on_hold_hears_both_languages_then_the_hold_music(line, twilio_stand_in):
    call = ask_for_interpreter(line)
    wait_url = call.room.noun.get("waitUrl")

    url, _, answer = call.sim.deliver(wait_url, "POST", {
        "AccountSid": call.sim.account_sid, "CallSid": call.call_sid, "ConferenceSid": call.room.sid,
        "FriendlyName": call.room.name})

    root = ET.fromstring(answer.body)
    assert answer.status == 200
    assert [(el.tag, el.text) for el in root] == [("Say", WAIT[0]), ("Say", WAIT[1]),
                                                  ("Play", "/static/hold-music.wav")]
    assert root[1].get("language") == "es-US" and root[2].get("loop") == "4"  # config: hold_music_loops


def test_the_interpreter_is_asked_for_by_speech(line, twilio_stand_in):
    call = dial_line(line)
    call.say("interpreter")
    call.silence()  # no language chosen from the offered ones
    assert call.heard()[ASKED:] == CONNECTING
    assert call.conference == f"interpretation-{call.call_sid}"


# ---- failures ---------------------------------------------------------------------------------------------

def assert_told_and_sent_to_a_representative(app, call, missing: str):
    """Told in both languages and offered a call-back; silence then waits for a representative."""
    assert call.heard()[ASKED:] == CONNECTING + UNREACHABLE + CALL_BACK_OFFER
    call.silence()
    assert call.heard()[-1] == REP_EN
    assert [line.text for line in call.transcript if line.kind == "enqueue"] == ["hartford311-en"]
    record = answers(app, call)
    assert record["callback_reason"] == "interpretation"
    assert record["interpretation"]["state"] == "unreachable"
    assert record["interpretation"]["missing"] == missing


def test_interpreter_refused_by_the_api_is_said_at_once_and_the_representative_stopped(line, twilio_stand_in,
                                                                                       calls_api):
    calls_api.refused.add(INTERPRETERS)

    call = ask_for_interpreter(line)

    assert call.room is None  # never put in the room
    assert_told_and_sent_to_a_representative(line, call, "interpreter")
    [rep_sid] = _created_sids(twilio_stand_in)
    assert [leg["To"] for leg in created(twilio_stand_in)] == [CALL_CENTRE, INTERPRETERS]
    assert updates(twilio_stand_in) == [(rep_sid, {"Status": "canceled"})]


@pytest.mark.parametrize(("key", "lang", "ask"), [
    ("1", "en", "After the tone, say your name and the language you speak, and tell us what you need. "
                "Press pound when you're done."),
    ("2", "es", "Después del tono, diga su nombre y el idioma que habla, y díganos lo que necesita. "
                "Oprima la tecla numeral al terminar."),
])
def test_after_the_failure_the_caller_leaves_a_message_for_a_call_back_with_an_interpreter(
        line, twilio_stand_in, calls_api, key, lang, ask):
    calls_api.refused.add(INTERPRETERS)
    call = ask_for_interpreter(line)

    call.press(key)
    assert call.heard()[-1] == ask
    call.record(25)
    call.press("1")  # the number it called from is right

    with line.extensions["ivr"].db.sessions() as session:
        [made] = session.scalars(select(CallBackRequest)).all()
        assert (made.reason, made.language, made.phone, made.number_confirmed) == (
            "interpretation", lang, "+18605550123", True)
        assert made.recording_url and made.due_at is not None
    assert call.ended


def test_a_leg_failing_before_the_line_has_answered_still_brings_the_caller_back(line, twilio_stand_in, calls_api):
    """The representative's call fails at once: its status callback arrives while the line is still dialling the
    interpreter, before the caller was put in the room."""
    call = dial_line(line)
    made: list[tuple[dict, dict]] = []

    @twilio_stand_in.route("POST", rf"{ACCOUNT}/Calls\.json")
    def create_then_fail_the_first(stand_in, match, form):
        answer = calls_api.create(stand_in, match, form)
        made.append((form, answer[1]))
        if form["To"] == INTERPRETERS:
            rep_form, rep_call = made[0]
            status(call, rep_form, rep_call["sid"], "failed")
        return answer

    call.press("3")
    call.silence()

    assert call.room is None  # never put in the room: told at once
    interpreter_sid = made[1][1]["sid"]
    assert updates(twilio_stand_in) == [(interpreter_sid, {"Status": "canceled"})]  # no REST redirect needed
    assert_told_and_sent_to_a_representative(line, call, "representative")


def test_representative_refused_by_the_api_dials_no_interpreter(line, twilio_stand_in, calls_api):
    calls_api.refused.add(CALL_CENTRE)

    call = ask_for_interpreter(line)

    assert_told_and_sent_to_a_representative(line, call, "representative")
    assert [leg["To"] for leg in created(twilio_stand_in)] == [CALL_CENTRE]
    assert updates(twilio_stand_in) == []


def test_interpreter_not_answering_brings_the_caller_out_to_hear_so(line, twilio_stand_in):
    call = ask_for_interpreter(line)
    rep, interpreter = created(twilio_stand_in)
    rep_sid, interpreter_sid = _created_sids(twilio_stand_in)
    call.conference_event("participant-join")

    status(call, interpreter, interpreter_sid, "no-answer")

    assert call.conference is not None  # Twilio has not moved the call yet: the line asked it to
    [(redirected, form), (cancelled, cancel_form)] = updates(twilio_stand_in)
    assert redirected == call.call_sid
    assert form == {"Url": "http://localhost/voice/turn?node=interpretation&lang=en&attempt=1&event=conference",
                    "Method": "POST"}
    assert (cancelled, cancel_form) == (rep_sid, {"Status": "canceled"})

    call.follow_redirect(form["Url"], form["Method"])

    assert call.conference is None
    assert_told_and_sent_to_a_representative(line, call, "interpreter")


def test_representative_busy_brings_the_caller_out_and_stops_the_interpreter(line, twilio_stand_in):
    call = ask_for_interpreter(line)
    rep, interpreter = created(twilio_stand_in)
    rep_sid, interpreter_sid = _created_sids(twilio_stand_in)

    status(call, rep, rep_sid, "busy")

    [(redirected, form), (cancelled, cancel_form)] = updates(twilio_stand_in)
    assert redirected == call.call_sid and cancelled == interpreter_sid and cancel_form == {"Status": "canceled"}
    call.follow_redirect(form["Url"], form["Method"])
    assert_told_and_sent_to_a_representative(line, call, "representative")


def test_both_legs_failing_move_the_caller_once(line, twilio_stand_in):
    call = ask_for_interpreter(line)
    rep, interpreter = created(twilio_stand_in)
    rep_sid, interpreter_sid = _created_sids(twilio_stand_in)

    status(call, rep, rep_sid, "failed")
    status(call, interpreter, interpreter_sid, "canceled")  # the line's own cancel, reported back

    assert [sid for sid, _ in updates(twilio_stand_in)] == [call.call_sid, interpreter_sid]


def test_no_interpreter_after_the_representative_joined_leaves_them_talking(line, twilio_stand_in):
    call = ask_for_interpreter(line)
    rep, interpreter = created(twilio_stand_in)
    rep_sid, interpreter_sid = _created_sids(twilio_stand_in)
    call.conference_event("participant-join", rep_sid, EndConferenceOnExit="true")

    status(call, interpreter, interpreter_sid, "no-answer")

    assert updates(twilio_stand_in) == []
    assert call.conference is not None


def test_a_caller_who_hangs_up_on_hold_stops_the_legs_still_ringing(line, twilio_stand_in):
    call = ask_for_interpreter(line)
    rep_sid, interpreter_sid = _created_sids(twilio_stand_in)
    call.conference_event("participant-join")
    call.conference_event("participant-join", rep_sid, EndConferenceOnExit="true")

    call.hangup()
    call.conference_event("participant-leave", EndConferenceOnExit="true")

    assert updates(twilio_stand_in) == [(interpreter_sid, {"Status": "canceled"})]
    assert answers(line, call)["interpretation"]["state"] == "ended"


def test_a_slow_api_is_given_up_on_within_the_turn(line, twilio_stand_in):
    twilio_stand_in.delay = 5  # each request would stall 5 s; the line waits [interpretation] api_timeout = 1 s

    started = time.monotonic()
    call = ask_for_interpreter(line)
    took = time.monotonic() - started

    assert_told_and_sent_to_a_representative(line, call, "representative")
    assert took < 3 < TWILIO_WEBHOOK_SECONDS
    assert [leg["To"] for leg in created(twilio_stand_in)] == [CALL_CENTRE]


def test_without_twilio_credentials_the_caller_hears_so_at_once(phone, twilio_stand_in):
    call = phone()
    call.press("3")
    call.silence()  # no language chosen from the offered ones
    assert call.heard()[ASKED:] == UNREACHABLE + CALL_BACK_OFFER
    assert twilio_stand_in.requests == []


# ---- the webhooks themselves ------------------------------------------------------------------------------

def test_a_leg_status_for_a_call_never_seen_answers_empty_twiml(line, twilio_stand_in):
    call = dial_line(line)
    unknown = "CA" + "9" * 32
    url = f"http://localhost/voice/interpretation/leg?call={unknown}&leg=interpreter"
    answer = call.sim.outbound_status(url, new_sid("CA"), INTERPRETERS, CITY_NUMBER, "no-answer")
    assert (answer.status, ET.fromstring(answer.body).tag, len(ET.fromstring(answer.body))) == (200, "Response", 0)
    assert updates(twilio_stand_in) == []


@pytest.mark.parametrize("path", ["/voice/interpretation/leg?call=CA" + "1" * 32 + "&leg=interpreter",
                                  "/voice/interpretation/events", "/voice/interpretation/wait?lang=en",
                                  "/voice/interpretation/dial?node=interpretation&lang=en"])
def test_unsigned_requests_are_refused(line, path):
    answer = line.test_client().post(path, data={"CallSid": "CA" + "1" * 32, "CallStatus": "no-answer"})
    assert answer.status_code == 403


def test_a_forged_position_answers_the_fallback(line):
    call = dial_line(line)
    url = "http://localhost/voice/interpretation/dial?node=main_menu&lang=en"
    _, _, answer = call.sim.deliver(url, "POST", {"CallSid": call.call_sid})
    assert answer.status == 200 and "9-1-1" in answer.body
