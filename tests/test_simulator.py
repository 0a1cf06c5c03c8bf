"""The call simulator against a small stand-in IVR built here (the real app is not needed)."""

import ast
import re
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from flask import Flask, Response, abort, request
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import Redirect, Reject, Say, Sms, VoiceResponse
from werkzeug.serving import make_server

from ivr import simulator as simulator_module
from ivr import twiml_check
from ivr.simulator import (
    APPLICATION_ERROR,
    HttpTransport,
    Line,
    Simulator,
    SimulatorError,
    SimulatorLoopError,
    WsgiTransport,
    format_transcript,
    interactive,
    parse_script,
    run_script,
    spoken_text,
)

TOKEN = "test-auth-token"
PUBLIC = "https://ivr.example.org"  # not the test client's host: the simulator must sign the public URL
CALL_SID = "CA" + "1" * 32
ACCOUNT_SID = "AC" + "2" * 32
BASE = {
    "CallSid": CALL_SID,
    "AccountSid": ACCOUNT_SID,
    "From": "+18605550100",
    "To": "+18607579311",
    "Called": "+18607579311",
    "Caller": "+18605550100",
    "Direction": "inbound",
    "ApiVersion": "2010-04-01",
}
RINGING = BASE | {"CallStatus": "ringing"}
IN_PROGRESS = BASE | {"CallStatus": "in-progress"}
WELCOME = "Welcome to Hartford 311."
MENU = "Press 1 for hours, 2 for a pothole, 3 para espanol, 0 for an operator."


def twiml(response: VoiceResponse) -> Response:
    """Serve a twilio-built document as Twilio expects it."""
    return Response(str(response), mimetype="text/xml")


def saying(text: str, hangup: bool = False) -> Response:
    """A document that says one thing (and optionally hangs up)."""
    r = VoiceResponse()
    r.say(text)
    if hangup:
        r.hangup()
    return twiml(r)


def main_menu() -> VoiceResponse:
    """The stand-in IVR's greeting: one Gather, then a goodbye if the caller says nothing."""
    r = VoiceResponse()
    r.say(WELCOME, language="en-US")
    gather = r.gather(num_digits=1, action="/voice/menu?lang=en", timeout=5)
    gather.say(MENU, language="en-US")
    r.say("We did not receive a selection. Goodbye.", language="en-US")
    r.hangup()
    return r


def menu_choice(digits: str) -> VoiceResponse:
    """What each main-menu key leads to."""
    r = VoiceResponse()
    if digits == "1":
        r.redirect("hours")  # relative: must resolve against /voice/menu?lang=en
    elif digits == "2":
        r.gather(input="speech", action="pothole", speech_timeout="auto").say("Describe the location.")
    elif digits == "3":
        r.enqueue("spanish", action="/voice/queue-done").task('{"language": "es"}')
    elif digits == "4":
        r.enqueue("english", action="/voice/queue-done", wait_url="/voice/hold?lang=en")
    elif digits == "0":
        r.dial(action="/voice/dial-done?from=menu", timeout=20).number("+18605551234", send_digits="1234#")
    elif digits == "9":
        r.dial("+18605551234")
        r.say("The operator line is closed.")
    else:
        r.say("Sorry, that is not an option.")
        r.redirect("/voice")
    return r


def make_app() -> Flask:
    """A tiny IVR that checks signatures like the real one and records what it received."""
    app = Flask(__name__)
    received: list[dict] = []
    app.config["RECEIVED"] = received
    validator = RequestValidator(TOKEN)

    @app.before_request
    def verify_signature():
        received.append(
            {"method": request.method, "path": request.path, "args": request.args.to_dict(),
             "form": request.form.to_dict()}
        )
        signature = request.headers.get("X-Twilio-Signature", "")
        if not validator.validate(request.url, request.form.to_dict(), signature):
            abort(403)

    routes = {
        "/voice": lambda: twiml(main_menu()),
        "/voice/menu": lambda: twiml(menu_choice(request.values.get("Digits", ""))),
        "/voice/hours": lambda: saying("City Hall is open 8 to 5."),
        "/voice/pothole": lambda: saying(f"You said {request.values['SpeechResult']}."),
        "/voice/dial-done": dial_done,
        "/voice/recorded": lambda: saying("Thank you. Goodbye.", hangup=True),
        "/voice/queue-done": lambda: saying("All representatives are busy.", hangup=True),
        "/voice/hold": hold,
        "/voice/hold-key": hold_key,
        "/voice/status": lambda: ("", 204),
        "/case": case_number,
        "/case/lookup": lambda: saying(f"Case {request.values.get('Digits', 'none')}."),
        "/empty": empty_result,
        "/loop": lambda: twiml(VoiceResponse().append(Redirect("/loop"))),
        "/plain": lambda: Response("hello", mimetype="text/plain"),
        "/boom": lambda: ("oops", 500),
        "/ssml": ssml,
        "/sms": lambda: twiml(VoiceResponse().append(Sms("hi")).append(Say("After the text."))),
        "/reject": lambda: twiml(VoiceResponse().append(Reject(reason="busy"))),
        "/bad-twiml": lambda: Response("<Response><Sya>hi</Sya></Response>", mimetype="text/xml"),
    }
    for path, view in routes.items():
        app.add_url_rule(path, path, view, methods=["GET", "POST"])
    return app


def hold() -> Response:
    """A wait document: the place in line and a key to leave, inside a Gather, then music."""
    r = VoiceResponse()
    gather = r.gather(num_digits=1, action="/voice/hold-key", timeout=1)
    gather.say(f"You are number {request.values.get('QueuePosition')} of {request.values.get('CurrentQueueSize')}.")
    gather.play("/static/music.wav")
    return twiml(r)


def hold_key() -> Response:
    """1 leaves the line; any other key ends the document (Twilio asks the waitUrl again)."""
    r = VoiceResponse()
    if request.values.get("Digits") == "1":
        r.leave()
    return twiml(r)


def dial_done() -> Response:
    """After the operator Dial: report the outcome, then offer voicemail."""
    r = VoiceResponse()
    r.say(f"Dial status {request.values['DialCallStatus']}.")
    r.record(action="recorded", max_length=120)
    r.say("No message recorded. Goodbye.")
    return twiml(r)


def case_number() -> Response:
    """Collect a case number ended by #, sent with GET to exercise query-string signing."""
    r = VoiceResponse()
    r.gather(num_digits=6, finish_on_key="#", action="/case/lookup?step=2", method="GET").say("Case number?")
    return twiml(r)


def empty_result() -> Response:
    """A Gather that wants its action called even when the caller says nothing."""
    r = VoiceResponse()
    r.gather(action="/case/lookup", action_on_empty_result=True).say("Anything?")
    r.say("never reached")
    return twiml(r)


def ssml() -> Response:
    """A Say with SSML children."""
    r = VoiceResponse()
    say = r.say("Your case number is", language="en-US")
    say.say_as("4821", interpret_as="digits")
    say.break_(time="500ms")
    say.append("Goodbye.")
    return twiml(r)


@pytest.fixture
def app() -> Flask:
    return make_app()


def received(app: Flask, path: str | None = None) -> list[dict]:
    """Requests the stand-in app received, optionally only those to one path."""
    return [hit for hit in app.config["RECEIVED"] if path is None or hit["path"] == path]


def simulator(app: Flask, token: str = TOKEN, **kwargs) -> Simulator:
    """A simulator wired to the app's test client with fixed SIDs."""
    kwargs = {"call_sid": CALL_SID, "account_sid": ACCOUNT_SID} | kwargs
    return Simulator(WsgiTransport(app.test_client()), token, PUBLIC, **kwargs)


@pytest.fixture
def sim(app: Flask) -> Simulator:
    return simulator(app)


# --- signing and the first request -----------------------------------------------------------


def test_first_request_is_signed_and_ringing(app, sim):
    call = sim.dial()
    assert received(app) == [{"method": "POST", "path": "/voice", "args": {}, "form": RINGING}]
    assert call.heard() == [WELCOME, MENU]
    assert call.transcript[0] == Line("say", WELCOME, "en-US")
    assert call.waiting_for_input and call.pending_verb == "Gather" and not call.ended
    assert call.last_gather == {
        "input": "dtmf", "numDigits": "1", "finishOnKey": "#", "timeout": "5", "language": "en-US",
        "action": f"{PUBLIC}/voice/menu?lang=en", "method": "POST", "actionOnEmptyResult": "false",
    }


def test_wrong_token_gets_403_and_an_application_error(app):
    call = simulator(app, token="not-the-token").dial()
    assert call.application_error and call.ended
    assert call.transcript[0] == Line("http", f"403 from POST {PUBLIC}/voice: HTTP error")
    assert call.heard() == [APPLICATION_ERROR]
    # The status callback is rejected too; Twilio only logs that.
    assert call.transcript[-1] == Line("http", f"403 from status callback POST {PUBLIC}/voice/status")
    assert [r.status for r in call.requests] == [403, 403]


def test_signature_matches_what_twilio_would_compute(app, sim):
    call = sim.dial()
    expected = RequestValidator(TOKEN).compute_signature(f"{PUBLIC}/voice", RINGING)
    assert sim.sign(f"{PUBLIC}/voice", RINGING) == expected
    assert call.requests[0].url == f"{PUBLIC}/voice" and call.requests[0].params == RINGING


@pytest.fixture
def live_url(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


def test_http_transport_against_a_live_server(app, live_url):
    sim = Simulator(HttpTransport(live_url), TOKEN, live_url, voice_path="/case", call_sid=CALL_SID,
                    account_sid=ACCOUNT_SID)
    call = sim.dial().press("123456#")
    assert call.heard() == ["Case number?", "Case 123456."]
    assert received(app, "/case/lookup")[0]["args"] == IN_PROGRESS | {"step": "2", "Digits": "123456"}
    bad = Simulator(HttpTransport(live_url), "wrong", live_url).dial()
    assert bad.application_error and bad.requests[0].status == 403


# --- Gather ----------------------------------------------------------------------------------


def test_press_posts_digits_to_the_action_keeping_its_query_string(app, sim):
    sim.dial().press("2")
    assert received(app)[1] == {
        "method": "POST", "path": "/voice/menu", "args": {"lang": "en"}, "form": IN_PROGRESS | {"Digits": "2"},
    }


def test_silence_falls_through_to_the_verb_after_the_gather(app, sim):
    call = sim.dial().silence()
    assert call.heard() == [WELCOME, MENU, "We did not receive a selection. Goodbye."]
    assert call.transcript[-1] == Line("hangup", "")
    assert call.ended and received(app, "/voice/menu") == []


def test_action_on_empty_result_posts_the_action_without_digits(app):
    call = simulator(app, voice_path="/empty").dial().silence()
    assert received(app, "/case/lookup")[0]["form"] == IN_PROGRESS
    assert call.heard() == ["Anything?", "Case none."]


def test_finish_on_key_is_not_sent_and_get_puts_params_in_the_signed_query(app):
    call = simulator(app, voice_path="/case").dial().press("4821#")
    hit = received(app, "/case/lookup")[0]
    assert hit["method"] == "GET" and hit["form"] == {}
    assert hit["args"] == IN_PROGRESS | {"step": "2", "Digits": "4821"}
    assert call.heard()[-1] == "Case 4821." and not call.application_error


def test_num_digits_limits_what_is_sent(app, sim):
    sim.dial().press("19")
    assert received(app, "/voice/menu")[0]["form"]["Digits"] == "1"


def test_speech_posts_speech_result_and_confidence_to_a_relative_action(app, sim):
    call = sim.dial().press("2")
    assert call.last_gather["input"] == "speech"
    call.say("pothole on Main Street", confidence=0.87)
    assert received(app, "/voice/pothole")[0]["form"] == IN_PROGRESS | {
        "SpeechResult": "pothole on Main Street", "Confidence": "0.87",
    }
    assert call.heard()[-1] == "You said pothole on Main Street."


def test_keys_at_a_speech_only_gather_count_as_silence(app, sim):
    call = sim.dial().press("2").press("5")
    assert received(app, "/voice/pothole") == []
    assert call.ended  # nothing follows that Gather, so Twilio hangs up


def test_acting_when_the_call_is_not_waiting_raises(app, sim):
    call = sim.dial().press("1")
    assert call.ended
    with pytest.raises(SimulatorError, match="has ended"):
        call.press("1")
    with pytest.raises(SimulatorError, match="waiting for <Gather>"):
        sim.dial().record()


# --- Redirect, Dial, Enqueue, Record ---------------------------------------------------------


def test_relative_redirect_is_followed_and_the_call_ends_when_the_document_does(app, sim):
    call = sim.dial().press("1")
    assert received(app)[2]["path"] == "/voice/hours"
    assert call.heard()[-1] == "City Hall is open 8 to 5."
    assert call.ended and call.transcript[-1].kind == "say"  # no <Hangup>: Twilio hangs up itself


def test_dial_with_action_posts_dial_call_status_and_follows_the_answer(app, sim):
    call = sim.dial().press("0")
    assert Line("dial", "+18605551234 (sendDigits 1234#)") in call.transcript
    assert Line("event", "dial result: no-answer") in call.transcript
    hit = received(app, "/voice/dial-done")[0]
    assert hit["args"] == {"from": "menu"}
    assert hit["form"] == IN_PROGRESS | {"DialCallStatus": "no-answer", "DialCallDuration": "0"}
    assert call.heard()[-1] == "Dial status no-answer."
    assert call.pending_verb == "Record"

    call.record(duration=7)
    form = received(app, "/voice/recorded")[0]["form"]
    assert form["RecordingDuration"] == "7"
    assert re.fullmatch(r"RE[0-9a-f]{32}", form["RecordingSid"])
    recordings = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/"
    assert form["RecordingUrl"] == recordings + form["RecordingSid"]
    assert call.heard()[-1] == "Thank you. Goodbye." and call.ended


def test_next_dial_result_applies_to_one_dial_only(app, sim):
    call = sim.dial()
    call.next_dial_result = "completed"
    call.press("0")
    assert received(app, "/voice/dial-done")[0]["form"]["DialCallDuration"] == "42"
    assert call.heard()[-1] == "Dial status completed."
    assert call.next_dial_result == "no-answer"


def test_dial_without_action_continues_with_the_next_verb(app, sim):
    call = sim.dial().press("9")
    assert call.transcript[-3:] == [
        Line("dial", "+18605551234"),
        Line("event", "dial result: no-answer"),
        Line("say", "The operator line is closed."),
    ]
    assert call.ended


def test_enqueue_bridged_connects_to_an_agent_and_ends(app, sim):
    call = sim.dial().press("3")
    assert Line("enqueue", 'spanish {"language": "es"}') in call.transcript
    assert call.transcript[-1] == Line("event", "connected to agent")
    form = received(app, "/voice/queue-done")[0]["form"]
    assert form["QueueResult"] == "bridged" and form["QueueTime"] == "15"
    assert "All representatives are busy." not in call.heard() and call.ended


def test_enqueue_not_bridged_follows_the_action(app, sim):
    call = sim.dial()
    call.next_queue_result = "queue-full"
    call.press("3")
    assert received(app, "/voice/queue-done")[0]["form"]["QueueResult"] == "queue-full"
    assert call.heard()[-1] == "All representatives are busy."
    assert call.transcript[-1] == Line("hangup", "")


# --- waiting in line: the waitUrl ------------------------------------------------------------

def test_waiting_in_line_runs_the_wait_url_with_the_queue_figures(app, sim):
    call = sim.dial()
    call.wait_in_line(position=3, size=5, waited=40, average=90)
    call.press("4")
    wait = received(app, "/voice/hold")[0]
    assert wait["args"] == {"lang": "en"} and wait["method"] == "POST"
    assert {key: wait["form"][key] for key in ("QueuePosition", "CurrentQueueSize", "QueueTime", "AvgQueueTime")} \
        == {"QueuePosition": "3", "CurrentQueueSize": "5", "QueueTime": "40", "AvgQueueTime": "90"}
    assert wait["form"]["QueueSid"].startswith("QU") and wait["form"]["CallSid"] == CALL_SID
    assert call.heard()[-1] == "You are number 3 of 5." and call.transcript[-1] == Line("play", "/static/music.wav")
    assert call.in_line and call.pending_verb == "Gather" and received(app, "/voice/queue-done") == []


def test_leave_in_a_wait_document_posts_the_enqueue_action(app, sim):
    call = sim.dial()
    call.wait_in_line(position=2)
    call.press("4").press("1")
    assert Line("event", "left the line") in call.transcript
    form = received(app, "/voice/queue-done")[0]["form"]
    assert form["QueueResult"] == "leave" and form["QueueSid"] == received(app, "/voice/hold")[0]["form"]["QueueSid"]
    assert call.heard()[-1] == "All representatives are busy." and call.ended and not call.in_line


def test_between_wait_documents_the_caller_stays_in_line_until_the_test_says(app, sim):
    call = sim.dial()
    call.wait_in_line(position=4)
    call.press("4").silence()
    assert call.pending_verb == "Enqueue" and call.in_line and not call.ended
    call.keep_waiting(position=2, size=3)
    assert call.heard()[-1] == "You are number 2 of 3."
    call.press("7")  # a stray key: the document ends, still in line
    assert call.pending_verb == "Enqueue" and received(app, "/voice/queue-done") == []
    call.answered()
    assert received(app, "/voice/queue-done")[0]["form"]["QueueResult"] == "bridged"
    assert call.transcript[-1] == Line("event", "connected to agent") and call.ended


def test_hanging_up_while_waiting_tells_the_enqueue_action(app, sim):
    call = sim.dial()
    call.wait_in_line(position=1)
    call.press("4").hangup()
    assert received(app, "/voice/queue-done")[0]["form"]["QueueResult"] == "hangup"
    assert call.ended and received(app, "/voice/status")


def test_keep_waiting_needs_a_caller_in_line(app, sim):
    call = sim.dial()
    with pytest.raises(SimulatorError, match="waiting for <Gather>"):
        call.keep_waiting()
    with pytest.raises(SimulatorError, match="not waiting in line"):
        call.answered()
    with pytest.raises(ValueError, match="unknown queue figure"):
        call.wait_in_line(position=1).press("4").silence().keep_waiting(place=2)


def test_silence_at_a_record_continues_without_posting(app, sim):
    call = sim.dial().press("0").silence()
    assert received(app, "/voice/recorded") == []
    assert call.heard()[-1] == "No message recorded. Goodbye." and call.ended


def test_hanging_up_during_a_record_still_delivers_the_recording(app, sim):
    call = sim.dial().press("0").hangup()
    assert received(app, "/voice/recorded")[0]["form"]["Digits"] == "hangup"
    assert call.ended and "Thank you. Goodbye." not in call.heard()


# --- how calls end ---------------------------------------------------------------------------


def test_status_callback_is_posted_once_when_the_caller_hangs_up(app, sim):
    call = sim.dial().press("5")  # "not an option" -> redirect back to the menu
    call.hangup()
    statuses = received(app, "/voice/status")
    assert statuses == [{
        "method": "POST", "path": "/voice/status", "args": {},
        "form": BASE | {"CallStatus": "completed", "CallDuration": "15"},
    }]
    assert received(app)[-1]["path"] == "/voice/status"
    with pytest.raises(SimulatorError):
        call.hangup()
    assert len(received(app, "/voice/status")) == 1


@pytest.mark.parametrize("script", ["<silence>", "1", "3", "9", "0,<record>"])
def test_every_ending_posts_exactly_one_completed_status(app, sim, script):
    call = run_script(sim, script)
    assert call.ended
    statuses = received(app, "/voice/status")
    assert len(statuses) == 1 and statuses[0]["form"]["CallStatus"] == "completed"


def test_a_redirect_loop_is_stopped(app):
    with pytest.raises(SimulatorLoopError):
        simulator(app, voice_path="/loop").dial()
    assert len(received(app, "/loop")) == 200


@pytest.mark.parametrize(
    ("path", "reason"),
    [("/plain", "200 from POST {}/plain: Content-Type text/plain is not TwiML"),
     ("/boom", "500 from POST {}/boom: HTTP error")],
)
def test_a_non_twiml_answer_is_an_application_error(app, path, reason):
    call = simulator(app, voice_path=path).dial()
    assert call.application_error and call.ended
    assert call.transcript[0] == Line("http", reason.format(PUBLIC))
    assert call.heard() == [APPLICATION_ERROR]
    assert len(received(app, "/voice/status")) == 1


# --- TwiML details ---------------------------------------------------------------------------


def test_say_text_includes_ssml_children(app):
    call = simulator(app, voice_path="/ssml").dial()
    assert call.transcript[0] == Line("say", "Your case number is 4821 Goodbye.", "en-US")


def test_spoken_text_keeps_punctuation_tight_and_breaks_apart():
    say = ET.fromstring('<Say>Call <say-as interpret-as="telephone">311</say-as>, or<break/>press 0.</Say>')
    assert spoken_text(say) == "Call 311, or press 0."


def test_unsupported_verbs_are_noted_and_skipped(app):
    call = simulator(app, voice_path="/sms").dial()
    assert call.transcript[:2] == [Line("unknown", "unsupported verb <Sms>"), Line("say", "After the text.")]


def test_reject_ends_the_call(app):
    call = simulator(app, voice_path="/reject").dial()
    assert call.transcript == [Line("hangup", "rejected (busy)")] and call.ended
    assert format_transcript(call) == "-> HANGUP rejected (busy)\n-- call ended --"


def test_bad_caller_input_is_refused(app, sim):
    call = sim.dial()
    with pytest.raises(ValueError, match="only press"):
        call.press("1a")
    call.next_dial_result = "answered"
    with pytest.raises(ValueError, match="dial result 'answered'"):
        call.press("0")


def test_transports_post_a_path_with_its_query(app, live_url):
    params = RINGING | {"Digits": "1"}
    signature = RequestValidator(TOKEN).compute_signature(f"{live_url}/voice/menu?lang=en", params)
    answer = HttpTransport(live_url).post("/voice/menu?lang=en", params, {"X-Twilio-Signature": signature})
    assert answer.status == 200 and answer.content_type.startswith("text/xml") and "Redirect" in answer.body
    answer = WsgiTransport(app.test_client()).post("/voice/menu?lang=en", params, {})
    assert answer.status == 403  # signed for the live URL, received at http://localhost
    assert [hit["args"] for hit in received(app)] == [{"lang": "en"}, {"lang": "en"}]


@pytest.mark.serves_invalid_twiml
def test_twiml_problems_are_collected_per_document(app, sim):
    assert sim.dial().twiml_problems == []
    call = simulator(app, voice_path="/bad-twiml").dial()
    assert call.twiml_problems == [f"{PUBLIC}/bad-twiml: Response/Sya: <Sya> is not a TwiML element "
                                   "(did you mean 'Say'?)"]


def test_random_sids_look_like_twilio_sids(app):
    Simulator(WsgiTransport(app.test_client()), TOKEN, PUBLIC).dial()
    form = received(app)[0]["form"]
    assert re.fullmatch(r"CA[0-9a-f]{32}", form["CallSid"])
    assert re.fullmatch(r"AC[0-9a-f]{32}", form["AccountSid"])


@pytest.mark.parametrize("module", [simulator_module, twiml_check])
def test_simulator_modules_do_not_import_flask(module):
    # Checked in the source: importing the ivr package itself loads the Flask app factory.
    tree = ast.parse(Path(module.__file__).read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not {name for name in imported if name.split(".")[0] in {"flask", "werkzeug"}}


# --- scripts, transcripts, terminal ----------------------------------------------------------


def test_parse_script_splits_on_commas():
    assert parse_script("2, 1,<silence>,say:hola,,1234#") == ["2", "1", "<silence>", "say:hola", "1234#"]


def test_run_script_plays_the_steps(app, sim):
    call = run_script(sim, ["2", "say:pothole on Main Street"])
    assert call.heard()[-1] == "You said pothole on Main Street."
    call = run_script(sim, "<answer>,0,<record>")
    assert call.heard()[-2:] == ["Dial status completed.", "Thank you. Goodbye."]


def test_run_script_reports_the_step_that_does_not_fit(app, sim):
    with pytest.raises(SimulatorError, match=r"step 2 '1': the call has ended\n") as err:
        run_script(sim, "1,1")
    assert "City Hall is open 8 to 5." in str(err.value)
    with pytest.raises(ValueError, match="unknown script step"):
        run_script(sim, "<dance>")


def test_format_transcript(app, sim):
    call = run_script(sim, "2,say:pothole")
    assert format_transcript(call) == "\n".join([
        f"CALLER HEARS (en-US): {WELCOME}",
        f"CALLER HEARS (en-US): {MENU}",
        "CALLER PRESSES: 2",
        "CALLER HEARS: Describe the location.",
        'CALLER SAYS: "pothole"',
        "CALLER HEARS: You said pothole.",
        "-- call ended --",
    ])
    call = run_script(sim, "3")
    assert format_transcript(call).splitlines()[-4:] == [
        "CALLER PRESSES: 3", '-> ENQUEUE spanish {"language": "es"}', "-- connected to agent --", "-- call ended --",
    ]
    call = run_script(sim, "0,<silence>")
    assert format_transcript(call).splitlines()[3:7] == [
        "-> DIAL +18605551234 (sendDigits 1234#)", "-- dial result: no-answer --",
        "CALLER HEARS: Dial status no-answer.", "-> RECORD (beep, max 120s)",
    ]


def test_interactive_reads_keys_and_prints_as_it_goes(app, sim):
    typed = iter(["2", "say the lights are out"])
    printed: list[str] = []
    call = interactive(sim.dial(), input_fn=lambda prompt: next(typed), print_fn=printed.append)
    assert call.ended
    assert printed[1:] == [
        f"CALLER HEARS (en-US): {WELCOME}",
        f"CALLER HEARS (en-US): {MENU}",
        "CALLER PRESSES: 2",
        "CALLER HEARS: Describe the location.",
        'CALLER SAYS: "the lights are out"',
        "CALLER HEARS: You said the lights are out.",
        "-- call ended --",
    ]


def test_interactive_bad_input_then_hangup(app, sim):
    typed = iter(["x", "5", "q"])
    printed: list[str] = []
    call = interactive(sim.dial(), input_fn=lambda prompt: next(typed), print_fn=printed.append)
    assert any(line.startswith("don't know how to do 'x'") for line in printed)
    assert printed[-3:] == [f"CALLER HEARS (en-US): {MENU}", "CALLER HANGS UP", "-- call ended --"]
    assert call.ended
    assert [hit["path"] for hit in received(app)][-1] == "/voice/status"


# --- <Dial><Conference>: the call waits in the room while the test plays Twilio's side ------------------

def conference_app(app: Flask) -> Flask:
    """Routes for a caller put in a conference that reports its events, and where it goes afterwards."""

    def room():
        r = VoiceResponse()
        r.say("Joining.")
        r.dial(action="/voice/room-done", method="POST").conference(
            "room-1", start_conference_on_enter=False, end_conference_on_exit=True, wait_url="/voice/hold",
            status_callback="/voice/room-events", status_callback_event="join end")
        r.say("never reached while in the room")
        return twiml(r)

    views = {"/voice/room": room, "/voice/room-events": lambda: twiml(VoiceResponse()),
             "/voice/room-done": lambda: saying(f"Room over: {request.values.get('DialCallStatus')}.", hangup=True),
             "/voice/elsewhere": lambda: saying("Moved by the API.", hangup=True)}
    for path, view in views.items():
        app.add_url_rule(path, path, view, methods=["POST"])
    return app


def in_room(app: Flask):
    conference_app(app)
    return simulator(app, voice_path="/voice/room").dial()


def test_a_conference_keeps_the_call_in_the_room_with_what_it_heard(app):
    call = in_room(app)
    assert call.conference == "room-1" and not call.ended and not call.waiting_for_input
    assert call.heard() == ["Joining."]
    assert [line.text for line in call.transcript if line.kind in ("dial", "event")] == [
        "conference:room-1", "in conference room-1"]
    with pytest.raises(SimulatorError):
        call.press("1")


def test_conference_events_are_signed_and_carry_twilios_fields(app):
    call = in_room(app)
    answer = call.conference_event("participant-join", "CA" + "3" * 32, EndConferenceOnExit="true")
    assert answer.status == 200  # the stand-in app checked the signature
    [hit] = received(app, "/voice/room-events")
    assert hit["form"] == {"AccountSid": ACCOUNT_SID, "ConferenceSid": call.room.sid, "FriendlyName": "room-1",
                           "StatusCallbackEvent": "participant-join", "Timestamp": hit["form"]["Timestamp"],
                           "SequenceNumber": "1", "CallSid": "CA" + "3" * 32, "Muted": "false", "Hold": "false",
                           "Coaching": "false", "EndConferenceOnExit": "true", "StartConferenceOnEnter": "true"}
    assert re.fullmatch(r"[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d \+0000", hit["form"]["Timestamp"])
    with pytest.raises(SimulatorError, match="does not report"):
        call.conference_event("participant-leave")  # not subscribed: Twilio would not send it


def test_leaving_the_conference_calls_the_dial_action(app):
    call = in_room(app)
    call.leave_conference("answered")
    assert call.heard()[-1] == "Room over: answered." and call.ended
    assert received(app, "/voice/room-done")[0]["form"]["DialCallStatus"] == "answered"


def test_a_rest_redirect_takes_the_call_out_of_the_room_without_the_dial_action(app):
    call = in_room(app)
    call.follow_redirect(PUBLIC + "/voice/elsewhere")
    assert call.conference is None and call.heard()[-1] == "Moved by the API." and call.ended
    assert received(app, "/voice/room-done") == []
    assert received(app, "/voice/elsewhere")[0]["form"] == IN_PROGRESS


def test_a_rest_created_calls_status_callback_is_signed(app, sim):
    conference_app(app)
    answer = sim.outbound_status(PUBLIC + "/voice/room-events", "CA" + "4" * 32, "+18005550199", "+18607579311",
                                 "no-answer")
    assert answer.status == 200
    form = received(app, "/voice/room-events")[0]["form"]
    assert {key: form[key] for key in ("CallSid", "To", "From", "CallStatus", "Direction", "CallDuration")} == {
        "CallSid": "CA" + "4" * 32, "To": "+18005550199", "From": "+18607579311", "CallStatus": "no-answer",
        "Direction": "outbound-api", "CallDuration": "0"}
