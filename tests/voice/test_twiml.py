"""The TwiML renderer (ivr/voice/twiml.py): engine outcomes become the documents Twilio executes."""

import json
import xml.etree.ElementTree as ET
from urllib.parse import parse_qsl, urlsplit

import pytest
from twilio.request_validator import RequestValidator

from ivr.core.engine import (
    Destination,
    Enqueue,
    Hangup,
    Listen,
    Outcome,
    QueueTarget,
    RecordMessage,
    Speak,
    Transfer,
)
from ivr.core.prompts import Voice
from ivr.twiml_check import assert_valid_twiml
from ivr.voice.twiml import Renderer, speak_only
from tests.conftest import AUTH_TOKEN

VOICES = {"en": Voice("Polly.Joanna-Neural", "en-US"), "es": Voice("Polly.Lupe-Neural", "es-US")}


def turn_url(node: str, lang: str, attempt: int, event: str) -> str:
    return f"/voice/turn?node={node}&lang={lang}&attempt={attempt}&event={event}"


def wait_url(lang: str) -> str:
    return f"/voice/wait?lang={lang}"


def render(*steps, lang: str = "en") -> ET.Element:
    """Render steps; the document must be valid TwiML."""
    response = Renderer(VOICES, turn_url, wait_url).render(
        Outcome(lang=lang, answers={}, steps=list(steps)))
    xml = str(response)
    assert_valid_twiml(xml)
    return ET.fromstring(xml)


def query(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


def listen(**fields) -> Listen:
    defaults = dict(node="main_menu", lang="en", attempt=2, prompts=(Speak("Press 1.", "en"),),
                    input=("dtmf", "speech"), timeout=8, num_digits=1, hints=("status", "report"))
    return Listen(**(defaults | fields))


# ---- Gather --------------------------------------------------------------------------------------

def test_gather_posts_the_position_back_and_a_redirect_catches_silence():
    root = render(listen())
    assert [child.tag for child in root] == ["Gather", "Redirect"]
    gather, redirect = root
    assert query(gather.get("action")) == {"node": "main_menu", "lang": "en", "attempt": "2", "event": "gather"}
    assert urlsplit(gather.get("action")).path == "/voice/turn"
    assert gather.get("method") == "POST"
    assert gather.get("numDigits") == "1"
    assert gather.get("timeout") == "8"
    assert gather.get("input") == "dtmf speech"
    assert gather.get("actionOnEmptyResult") == "false"
    assert gather.get("language") == "en-US" and gather.get("speechTimeout") == "auto"
    assert gather.get("hints") == "status, report"
    assert query(redirect.text) == {"node": "main_menu", "lang": "en", "attempt": "2", "event": "silence"}
    assert redirect.get("method") == "POST"


def test_prompts_are_said_inside_the_gather_so_keys_barge_in():
    root = render(listen(prompts=(Speak("Hello.", "en"), Speak("Hola.", "es"))))
    gather = root.find("Gather")
    assert [(s.text, s.get("voice"), s.get("language")) for s in gather.findall("Say")] == [
        ("Hello.", "Polly.Joanna-Neural", "en-US"), ("Hola.", "Polly.Lupe-Neural", "es-US")]
    assert root.find("Say") is None


def test_spanish_gather_listens_in_spanish():
    gather = render(listen(lang="es", prompts=(Speak("Oprima 1.", "es"),)), lang="es").find("Gather")
    assert gather.get("language") == "es-US"
    assert query(gather.get("action"))["lang"] == "es"


def test_keys_only_gather_has_no_speech_settings():
    gather = render(listen(input=("dtmf",), num_digits=None, finish_on_key="#", hints=())).find("Gather")
    assert gather.get("input") == "dtmf"
    assert gather.get("numDigits") is None and gather.get("finishOnKey") == "#"
    assert gather.get("language") is None and gather.get("speechTimeout") is None and gather.get("hints") is None


def test_empty_finish_on_key_is_kept():
    assert render(listen(finish_on_key="")).find("Gather").get("finishOnKey") == ""


def test_speech_timeout_is_passed_through():
    assert render(listen(speech_timeout="3")).find("Gather").get("speechTimeout") == "3"


def test_things_said_before_a_gather_come_first():
    root = render(Speak("Sorry, I didn't get that.", "en"), listen())
    assert [child.tag for child in root] == ["Say", "Gather", "Redirect"]
    assert root[0].text == "Sorry, I didn't get that."


# ---- Dial, Enqueue, Record, Hangup ---------------------------------------------------------------

def test_transfer_dials_with_an_action_and_a_timeout():
    root = render(Speak("Connecting.", "en"),
                  Transfer("department_transfer", "en", Destination("+18605550110", label="dpw", timeout=25)))
    dial = root.find("Dial")
    assert query(dial.get("action")) == {"node": "department_transfer", "lang": "en", "attempt": "1", "event": "dial"}
    assert dial.get("timeout") == "25" and dial.get("method") == "POST"
    assert [(n.text, n.get("sendDigits")) for n in dial.findall("Number")] == [("+18605550110", None)]


def test_interpretation_sends_the_account_digits():
    dial = render(Transfer("interpretation", "en", Destination("+18005550199", send_digits="wwww1234567#",
                                                              timeout=30))).find("Dial")
    assert dial.find("Number").get("sendDigits") == "wwww1234567#"
    assert dial.get("timeout") == "30"


def test_enqueue_to_a_named_queue():
    root = render(Enqueue("representative_queue", "es", QueueTarget(mode="enqueue", name="hartford311-es")),
                  lang="es")
    enqueue = root.find("Enqueue")
    assert enqueue.text == "hartford311-es"
    assert query(enqueue.get("action"))["event"] == "queue"
    assert enqueue.get("waitUrl") == "/voice/wait?lang=es" and enqueue.get("waitUrlMethod") == "POST"
    assert enqueue.find("Task") is None


def test_enqueue_to_a_taskrouter_workflow_carries_a_task():
    attributes = {"selected_language": "es", "skill": "spanish", "route": "ten-digit"}
    target = QueueTarget(mode="enqueue", name="ignored", attributes=attributes, workflow_sid="WW" + "b" * 32)
    enqueue = render(Enqueue("representative_queue", "es", target), lang="es").find("Enqueue")
    assert enqueue.get("workflowSid") == "WW" + "b" * 32
    assert json.loads(enqueue.find("Task").text) == attributes


def test_representative_by_dial_has_an_action_and_the_configured_timeout():
    target = QueueTarget(mode="dial", number="+18605550100", timeout=45)
    dial = render(Enqueue("representative_queue", "en", target)).find("Dial")
    assert dial.find("Number").text == "+18605550100"
    assert dial.get("timeout") == "45"
    assert query(dial.get("action")) == {"node": "representative_queue", "lang": "en", "attempt": "1",
                                         "event": "dial"}


def test_record_then_a_redirect_for_no_recording():
    root = render(RecordMessage("report_record", "en", 1, (Speak("After the tone.", "en"),), 45))
    assert [child.tag for child in root] == ["Say", "Record", "Redirect"]
    record = root.find("Record")
    assert record.get("maxLength") == "45" and record.get("finishOnKey") == "#" and record.get("playBeep") == "true"
    assert query(record.get("action"))["event"] == "record"
    assert query(root.find("Redirect").text)["event"] == "record"


def test_hangup():
    root = render(Speak("Goodbye.", "en"), Hangup())
    assert [child.tag for child in root] == ["Say", "Hangup"]


def test_text_is_escaped():
    root = render(Speak('Fish & chips <"quoted">', "en"))
    assert root.find("Say").text == 'Fish & chips <"quoted">'


def test_speak_only():
    speeches = [Speak("Trouble.", "en"), Speak("Problemas.", "es")]
    dialled = ET.fromstring(str(speak_only(VOICES, speeches, then_dial="+18605550100")))
    assert [child.tag for child in dialled] == ["Say", "Say", "Dial"]
    assert dialled.find("Dial").text == "+18605550100"
    assert [s.get("language") for s in dialled.findall("Say")] == ["en-US", "es-US"]
    hung_up = ET.fromstring(str(speak_only(VOICES, speeches, hangup=True)))
    assert [child.tag for child in hung_up] == ["Say", "Say", "Hangup"]


# ---- through the app: the real URLs and menus ----------------------------------------------------

def post_signed(app, path, params):
    signature = RequestValidator(AUTH_TOKEN).compute_signature("http://localhost" + path, params)
    return app.test_client().post(path, data=params, headers={"X-Twilio-Signature": signature})


FORM = {"CallSid": "CA" + "3" * 32, "From": "+18605550123", "To": "+18605550311"}


@pytest.mark.parametrize(("path", "form", "node"), [
    ("/voice", FORM, "start"),
    ("/voice/turn?node=start&lang=en&attempt=1&event=gather", FORM | {"Digits": "1"}, "main_menu"),
    ("/voice/turn?node=main_menu&lang=en&attempt=1&event=gather", FORM | {"Digits": "3"}, "info_menu"),
    ("/voice/turn?node=main_menu&lang=en&attempt=1&event=gather", FORM | {"Digits": "4"}, "departments"),
])
def test_every_menu_of_the_app_takes_one_key(app, path, form, node):
    """A menu answers as soon as the key is pressed instead of waiting out the timeout for more."""
    root = ET.fromstring(post_signed(app, path, form).get_data(as_text=True))
    gather = root.find("Gather")
    assert query(gather.get("action"))["node"] == node
    assert gather.get("numDigits") == "1"


def test_app_turn_urls_carry_exactly_the_position(app):
    root = ET.fromstring(post_signed(app, "/voice", FORM).get_data(as_text=True))
    action, redirect = root.find("Gather").get("action"), root.find("Redirect").text
    assert urlsplit(action).path == "/voice/turn" and not urlsplit(action).netloc
    assert query(action) == {"node": "start", "lang": "en", "attempt": "1", "event": "gather"}
    assert query(redirect) == {"node": "start", "lang": "en", "attempt": "1", "event": "silence"}
    assert root.find("Gather").get("timeout") == "5"  # the greeting's own timeout


@pytest.mark.parametrize("script_root", ["", "/city/311"])
def test_turn_and_wait_urls_are_what_url_for_builds(app, script_root):
    """The routes spell their URLs out for speed; they must stay the URLs Flask's router would build."""
    from flask import url_for

    from ivr.voice.routes import _turn_url, _wait_url

    with app.test_request_context("/voice", environ_base={"SCRIPT_NAME": script_root}):
        assert _turn_url("main menu&x", "es", 2, "gather") == url_for(
            "voice.turn", node="main menu&x", lang="es", attempt=2, event="gather")
        assert _wait_url("es") == url_for("voice.wait", lang="es")
