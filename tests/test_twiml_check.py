"""The TwiML checker: grammar taken from twilio's own builder classes."""

import pytest
from twilio.twiml.voice_response import Dial, Enqueue, Gather, Say, VoiceResponse

from ivr.twiml_check import assert_valid_twiml, check_twiml, children_of, known_tags


def full_document() -> str:
    """A document using most verbs, nouns and SSML the IVR needs, built with twilio."""
    r = VoiceResponse()
    say = r.say("Your case number is", language="en-US", voice="Polly.Joanna")
    say.say_as("4821", interpret_as="digits")
    say.break_(time="500ms")
    say.prosody("Thank you.", rate="slow")
    say.lang("Gracias.", xml_lang="es-MX")
    gather = r.gather(
        input="dtmf speech", action="/voice/menu?lang=en", method="POST", num_digits=1, timeout=5,
        speech_timeout="auto", finish_on_key="", action_on_empty_result=True, language="es-MX",
        hints="pothole, trash", barge_in=True,
    )
    gather.say("Press 1.")
    gather.play("https://example.org/beep.mp3", loop=1)
    gather.pause(length=2)
    dial = r.dial(action="/voice/dial-done", timeout=20, caller_id="+18607579311", answer_on_bridge=True)
    dial.number("+18605551234", send_digits="1234#")
    r.enqueue("spanish", action="/voice/queue-done", wait_url="/voice/hold").task('{"language": "es"}', priority=5)
    r.record(action="/voice/recorded", max_length=120, finish_on_key="#*", play_beep=True, transcribe=False)
    r.pause(length=1)
    r.redirect("/voice", method="GET")
    r.hangup()
    return str(r)


def test_twilio_built_documents_are_valid():
    assert check_twiml(full_document()) == []
    assert check_twiml(str(VoiceResponse())) == []
    assert_valid_twiml(full_document())


def test_parts_built_separately_and_appended_are_valid():
    r = VoiceResponse()
    gather = Gather(num_digits=4, finish_on_key="#")
    gather.append(Say("Enter your case number."))
    r.append(gather)
    r.append(Dial(record="record-from-answer", hangup_on_star=True))
    r.append(Enqueue(workflow_sid="WW" + "0" * 32))
    assert check_twiml(str(r)) == []


def test_grammar_comes_from_the_builders():
    assert {"Say", "Gather", "Dial", "Number", "Task", "say-as", "break", "Response"} <= known_tags()
    assert set(children_of(Gather)) == {"Say", "Play", "Pause"}
    say_as = children_of(Say)["say-as"]
    assert say_as.cls.__name__ == "SsmlSayAs" and say_as.builder == "say_as"
    assert {"interpret-as", "format"} == say_as.attributes
    assert children_of(Say)["lang"].attributes == {"xml:lang"}
    gather = children_of(VoiceResponse)["Gather"]
    assert {"finishOnKey", "actionOnEmptyResult", "speechTimeout", "numDigits"} <= gather.attributes
    assert "sendDigits" in children_of(Dial)["Number"].attributes
    assert children_of(Enqueue)["Task"].takes_text and not gather.takes_text


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ("<Response><Sya>Hello</Sya></Response>", "Response/Sya: <Sya> is not a TwiML element (did you mean 'Say'?)"),
        (
            "<Response><Gather><Dial>+18605551234</Dial></Gather></Response>",
            "Response/Gather/Dial: <Dial> is not allowed inside <Gather> (allowed: Pause, Play, Say)",
        ),
        (
            '<Response><Gather finishonkey="#"/></Response>',
            "Response/Gather: <Gather> has no attribute 'finishonkey' (did you mean 'finishOnKey'?)",
        ),
        ("<Reponse><Say>Hi</Say></Reponse>", "root element is <Reponse>, expected <Response>"),
        ("<Response><Say>Hi</Response>", "not well-formed XML: mismatched tag: line 1, column 19"),
        (
            "<Response><Say>Hi<Number>1</Number></Say></Response>",
            "Response/Say/Number: <Number> is not allowed inside <Say> (allowed: break, emphasis, lang, p, "
            "phoneme, prosody, s, say-as, sub, w)",
        ),
        (
            "<Response><Hangup><Say>Bye</Say></Hangup></Response>",
            "Response/Hangup/Say: <Say> is not allowed inside <Hangup> (allowed: Parameter)",
        ),
        (
            "<Response><Pause><Say>Bye</Say></Pause></Response>",
            "Response/Pause/Say: <Say> is not allowed inside <Pause>, which takes no child elements",
        ),
        (
            "<Response><Gather>Press 1 <Say>or 2</Say></Gather></Response>",
            "Response/Gather: <Gather> takes no text; 'Press 1' would not be spoken (wrap it in <Say>)",
        ),
        ('<Response><Say voise="alice">Hi</Say></Response>',
         "Response/Say: <Say> has no attribute 'voise' (did you mean 'voice'?)"),
        ('<Response><Hangup reason="busy"/></Response>', "Response/Hangup: <Hangup> has no attribute 'reason'"),
    ],
)
def test_broken_documents(document, problem):
    assert check_twiml(document) == [problem]


@pytest.mark.parametrize(
    ("attributes", "problem"),
    [
        ('method="PUT"', "method='PUT' must be GET or POST"),
        ('input="dtmf voice"', "input='dtmf voice' must be 'dtmf', 'speech' or both"),
        ('input=""', "input='' must be 'dtmf', 'speech' or both"),
        ('numDigits="one"', "numDigits='one' must be a whole number"),
        ('numDigits="0"', "numDigits='0' must be at least 1"),
        ('timeout="auto"', "timeout='auto' must be a whole number ('auto' is only valid for speechTimeout)"),
        ('timeout="-1"', "timeout='-1' must be a whole number"),
        ('speechTimeout="soon"', "speechTimeout='soon' must be a whole number of seconds or 'auto'"),
        ('finishOnKey="##"', "finishOnKey='##' must be a single key (or empty) on <Gather>"),
        ('finishOnKey="x"', "finishOnKey='x' may only contain 0-9, # and * (or be empty)"),
        ('actionOnEmptyResult="yes"', "actionOnEmptyResult='yes' must be 'true' or 'false'"),
    ],
)
def test_bad_gather_values(attributes, problem):
    assert check_twiml(f"<Response><Gather {attributes}/></Response>") == [f"Response/Gather: {problem}"]


@pytest.mark.parametrize(
    "attributes",
    ['method="GET"', 'input="speech dtmf"', 'speechTimeout="auto"', 'speechTimeout="3"', 'finishOnKey=""',
     'finishOnKey="*"', 'timeout="0"', 'actionOnEmptyResult="false"'],
)
def test_good_gather_values(attributes):
    assert check_twiml(f"<Response><Gather {attributes}/></Response>") == []


def test_values_of_other_verbs():
    document = (
        '<Response><Record finishOnKey="1234567890#*" maxLength="ten"/>'
        '<Dial><Number sendDigits="12x4">+18605551234</Number></Dial>'
        '<Redirect method="DELETE">/voice</Redirect></Response>'
    )
    assert check_twiml(document) == [
        "Response/Record: maxLength='ten' must be a whole number",
        "Response/Dial/Number: sendDigits='12x4' may only contain 0-9, #, * and w",
        "Response/Redirect: method='DELETE' must be GET or POST",
    ]


def test_repeated_tags_are_numbered_in_paths():
    document = "<Response><Say>Hi</Say><Say><Sya/></Say></Response>"
    assert check_twiml(document) == ["Response/Say[2]/Sya: <Sya> is not a TwiML element (did you mean 'Say'?)"]


def test_every_problem_is_reported():
    document = '<Response><Sya/><Gather finishonkey="#" numDigits="x"><Dial/></Gather></Response>'
    assert len(check_twiml(document)) == 4


def test_assert_valid_twiml_lists_the_problems():
    with pytest.raises(AssertionError) as err:
        assert_valid_twiml('<Response><Sya>Hi</Sya><Gather finishonkey="#"/></Response>')
    message = str(err.value)
    assert message.startswith("invalid TwiML:\n  - Response/Sya: <Sya> is not a TwiML element")
    assert "  - Response/Gather: <Gather> has no attribute 'finishonkey'" in message
    assert message.endswith('<Response><Sya>Hi</Sya><Gather finishonkey="#"/></Response>')


def test_bytes_are_accepted():
    assert check_twiml(full_document().encode()) == []
