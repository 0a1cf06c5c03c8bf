"""Whole calls (issue 11, items 3 and 4): waiting in line with an estimate and a call-back offer, and messages
after hours, each becoming a call-back request with the number the caller confirmed."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from ivr.models import Call, CallBackRequest
from ivr.simulator import format_transcript
from tests.conftest import hartford, signed_post

CALLER = "+18605550123"
SATURDAY = (2026, 12, 5, 11, 0)  # closed; opens again on Monday, December 7 at 8 AM
MONDAY_8AM = hartford(2026, 12, 7, 8, 0)

REP = {"en": "Please hold for the next available representative.",
       "es": "Por favor, espere al próximo representante de habla hispana disponible."}
OFFER_KEY = {"en": "To keep your place and have us call you back, press 1.",
             "es": "Para conservar su lugar y que le devolvamos la llamada, oprima 1."}
CONFIRM = {"en": ("We'll call you back at the number ending in 0 1 2 3. If that's right, press 1. "
                  "To enter another number, press 2."),
           "es": ("Le devolveremos la llamada al número que termina en 0 1 2 3. Si es correcto, oprima 1. "
                  "Para ingresar otro número, oprima 2.")}
GOODBYE = {"en": "Thank you for calling Hartford 311. Goodbye.", "es": "Gracias por llamar al 311 de Hartford. Adiós."}
MESSAGE_ASK = {"en": "After the tone, please tell us your name and what you need. Press pound when you're done.",
               "es": "Después del tono, díganos su nombre y lo que necesita. Oprima la tecla numeral al terminar."}
DONE_MONDAY = {
    "en": "Thank you. We'll call you back at the number ending in 0 1 2 3 after we open on Monday, December 7 at 8 AM.",
    "es": ("Gracias. Le devolveremos la llamada al número que termina en 0 1 2 3 cuando abramos, "
           "el lunes 7 de diciembre a las 8 de la mañana."),
}


@pytest.fixture
def app(make_app, request):
    """The shipped app, or one with the settings a test passes with indirect parametrisation."""
    return make_app(getattr(request, "param", None))


def documents(call) -> list[ET.Element]:
    """The TwiML answered to the call's voice webhooks, with their paths."""
    return [ET.fromstring(x.body) for x in call.requests if urlsplit(x.url).path != "/voice/status"]


def requests_made(db) -> list[CallBackRequest]:
    db.expire_all()
    return list(db.scalars(select(CallBackRequest).order_by(CallBackRequest.id)))


def call_row(db, call) -> Call:
    db.expire_all()
    return db.scalars(select(Call).where(Call.call_sid == call.call_sid)).one()


def in_line(phone, lang: str, **line):
    """A caller who asked for a representative in a language and is waiting in line as `line` says."""
    call = phone()
    call.press("1" if lang == "en" else "2")
    call.wait_in_line(**line)
    call.press("0")
    assert call.in_line, format_transcript(call)
    return call


# ---- waiting in line -----------------------------------------------------------------------------

@pytest.mark.parametrize(("lang", "line", "place", "offer"), [
    ("en", {"position": 3, "size": 3}, "You are number 3 in line. The wait is about 6 minutes.", True),
    ("es", {"position": 4, "size": 6, "waited": 200, "average": 300},
     "Usted es el número 4 en la fila. La espera es de unos 7 minutos.", True),
    ("en", {"position": 1, "size": 4, "waited": 90, "average": 60},
     "You are number 1 in line. The wait is less than a minute.", False),
    ("es", {"position": 2, "size": 2, "waited": 40, "average": 40},
     "Usted es el número 2 en la fila. La espera es de aproximadamente un minuto.", False),
])
def test_the_wait_url_says_the_place_and_the_wait_then_music(phone, lang, line, place, offer):
    call = in_line(phone, lang, **line)
    heard = call.heard()
    assert heard[-3:] == [REP[lang], place, OFFER_KEY[lang]] if offer else heard[-2:] == [REP[lang], place]
    assert call.transcript[-1].kind == "play" and call.transcript[-1].text == "/static/hold-music.wav"
    wait = documents(call)[-1]
    assert (wait.find("Gather") is not None) == offer
    play = next(wait.iter("Play"))
    assert play.get("loop") == "4"
    # A short wait: the document ends and the caller waits for the next one; a long one listens for 1.
    assert call.pending_verb == ("Gather" if offer else "Enqueue")


def test_the_built_in_hold_music_is_served_as_audio(app):
    answer = app.test_client().get("/static/hold-music.wav")
    try:
        assert answer.status_code == 200 and answer.data[:4] == b"RIFF" and answer.data[8:12] == b"WAVE"
        assert 10_000 < len(answer.data) < 150_000
    finally:
        answer.close()


@pytest.mark.parametrize("app", [{"routing": {"representative": {"hold_music_url": "https://city.example/hold.mp3"},
                                              "waiting": {"hold_music_loops": 2}}}], indirect=True)
def test_configured_hold_music_is_played_instead(phone):
    call = in_line(phone, "en", position=1, size=1)
    play = next(documents(call)[-1].iter("Play"))
    assert (play.text, play.get("loop")) == ("https://city.example/hold.mp3", "2")


@pytest.mark.parametrize("app", [{"routing": {"waiting": {"call_back_after_minutes": 10}}}], indirect=True)
def test_the_call_back_limit_is_configured(phone):
    call = in_line(phone, "en", position=3, size=3)  # about 6 minutes: under the limit of 10
    assert documents(call)[-1].find("Gather") is None and OFFER_KEY["en"] not in call.heard()


def test_a_long_wait_offers_a_call_back_and_taking_it_records_the_request(phone, db, clock):
    call = in_line(phone, "en", position=3, size=3)
    call.press("1")
    assert call.heard()[-2:] == [OFFER_KEY["en"], CONFIRM["en"]] and not call.in_line
    call.press("1")
    assert call.heard()[-2:] == [
        "Thank you. Someone from 311 will call you back at the number ending in 0 1 2 3 as soon as they are free.",
        GOODBYE["en"]]
    assert call.ended
    [made] = requests_made(db)
    row = call_row(db, call)
    assert (made.phone, made.number_confirmed, made.language, made.reason, made.status) == \
        (CALLER, True, "en", "long_wait", "open")
    assert made.call_id == row.id and made.due_at == clock.now and made.recording_url is None
    assert made.need == "start: 1 → main menu: 0"  # the menu path, for the representative who calls back
    assert row.outcome == "call_back_requested"


def test_spanish_caller_gives_another_number_for_the_call_back(phone, db):
    call = in_line(phone, "es", position=4, size=6, waited=200, average=300)
    call.press("1")
    assert call.heard()[-1] == CONFIRM["es"]
    call.press("2")
    assert call.heard()[-1] == ("Por favor, marque su número de teléfono de diez dígitos y luego oprima la tecla "
                                "numeral.")
    call.press("8605557788#")
    assert call.heard()[-2:] == [
        "Gracias. Alguien del 311 le devolverá la llamada al número que termina en 7 7 8 8 en cuanto pueda.",
        GOODBYE["es"]]
    [made] = requests_made(db)
    assert (made.phone, made.number_confirmed, made.language, made.reason) == ("+18605557788", True, "es", "long_wait")


def test_a_stray_key_or_silence_while_waiting_keeps_the_place(phone, db):
    call = in_line(phone, "en", position=3, size=3)
    call.press("5")
    assert call.in_line and call.pending_verb == "Enqueue" and not call.ended
    call.keep_waiting(position=2)  # the wait is shorter now: no offer
    assert call.heard()[-1] == "You are number 2 in line. The wait is about 4 minutes."
    assert call.pending_verb == "Enqueue"
    call.keep_waiting(position=3, size=4)  # longer again: the offer is back, and silence keeps the place too
    assert call.heard()[-2:] == ["You are number 3 in line. The wait is about 6 minutes.", OFFER_KEY["en"]]
    call.silence()
    assert call.in_line and call.pending_verb == "Enqueue"
    call.answered()
    assert requests_made(db) == []
    assert call_row(db, call).outcome == "representative_answered"


def test_hanging_up_while_waiting_records_no_request(phone, db):
    call = in_line(phone, "en", position=3, size=3)
    call.hangup()
    assert requests_made(db) == [] and call_row(db, call).outcome == "hung_up_in_queue"


def test_a_caller_without_caller_id_keys_the_number(phone, db):
    call = phone(from_="anonymous")
    call.press("1")
    call.wait_in_line(position=5, size=5)
    call.press("0")
    call.press("1")
    assert call.heard()[-1] == "Please enter your ten-digit phone number, then press pound."
    call.press("12#")
    assert call.heard()[-2:] == ["That doesn't look like a ten-digit phone number.",
                                 "Please enter your ten-digit phone number, then press pound."]
    call.press("8605554477#")
    [made] = requests_made(db)
    assert made.phone == "+18605554477" and made.number_confirmed


def test_the_wait_key_answers_leave_only_for_1(app):
    base = {"CallSid": "CA" + "7" * 32}
    assert "<Leave" in signed_post(app, "/voice/wait/key?lang=en", {**base, "Digits": "1"}).get_data(as_text=True)
    kept = signed_post(app, "/voice/wait/key?lang=en", {**base, "Digits": "5"}).get_data(as_text=True)
    assert "<Leave" not in kept and ET.fromstring(kept).tag == "Response" and not list(ET.fromstring(kept))


def test_the_wait_routes_check_the_signature(app):
    client = app.test_client()
    for path in ("/voice/wait?lang=en", "/voice/wait/key?lang=en", "/voice/transcription"):
        assert client.post(path, data={"QueuePosition": "1", "Digits": "1"}).status_code == 403


def test_a_wait_without_a_place_in_line_thanks_the_caller(app):
    answer = signed_post(app, "/voice/wait?lang=xx", {"CallSid": "CA" + "8" * 32, "QueuePosition": "٣"})
    document = ET.fromstring(answer.get_data(as_text=True))
    assert [say.text for say in document.iter("Say")] == [
        "Thank you for waiting; a representative will be with you soon."]


# ---- after hours: a message for a call-back ------------------------------------------------------

def message_after_hours(phone, clock, lang: str, seconds: int = 20):
    clock.set(*SATURDAY)
    call = phone()
    call.press("1" if lang == "en" else "2")
    call.press("0")
    call.press("1")
    assert call.heard()[-1] == MESSAGE_ASK[lang] and call.pending_verb == "Record"
    call.record(seconds)
    return call


def test_an_english_message_after_hours_is_transcribed_and_due_at_the_next_opening(app, phone, clock, db):
    call = message_after_hours(phone, clock, "en")
    record = next(documents(call)[-2].iter("Record"))
    assert record.get("transcribe") == "true"
    assert urlsplit(record.get("transcribeCallback")).path == "/voice/transcription"
    assert call.heard()[-1] == CONFIRM["en"]
    call.press("1")
    assert call.heard()[-2:] == [DONE_MONDAY["en"], GOODBYE["en"]] and call.ended
    [made] = requests_made(db)
    recording = call.requests[-3].params  # the <Record> action's post, before the confirmation and status
    assert made.recording_url == recording["RecordingUrl"] and made.recording_sid == recording["RecordingSid"]
    assert (made.phone, made.number_confirmed, made.language, made.reason) == (CALLER, True, "en", "after_hours")
    assert made.due_at == MONDAY_8AM and made.transcript is None
    answer = signed_post(app, "/voice/transcription", {
        "CallSid": call.call_sid, "RecordingSid": made.recording_sid, "TranscriptionStatus": "completed",
        "TranscriptionText": "This is Ana, the streetlight on Park Terrace is out.",
        "RecordingUrl": made.recording_url})
    assert answer.status_code == 200
    assert requests_made(db)[0].transcript == "This is Ana, the streetlight on Park Terrace is out."


def test_a_failed_or_stray_transcription_changes_nothing(app, phone, clock, db):
    call = message_after_hours(phone, clock, "en")
    call.press("1")
    [made] = requests_made(db)
    for params in ({"RecordingSid": made.recording_sid, "TranscriptionStatus": "failed", "TranscriptionText": "x"},
                   {"RecordingSid": "RE" + "0" * 32, "TranscriptionStatus": "completed", "TranscriptionText": "y"}):
        answer = signed_post(app, "/voice/transcription", {"CallSid": call.call_sid, **params})
        assert answer.status_code == 200
    assert requests_made(db)[0].transcript is None


def test_a_spanish_message_after_hours_is_not_transcribed_and_due_at_the_next_opening(phone, clock, db):
    call = message_after_hours(phone, clock, "es")
    record = next(documents(call)[-2].iter("Record"))
    assert record.get("transcribe") is None  # Twilio transcribes English only
    assert call.heard()[-1] == CONFIRM["es"]
    call.press("1")
    assert call.heard()[-2:] == [DONE_MONDAY["es"], GOODBYE["es"]]
    [made] = requests_made(db)
    assert (made.language, made.reason, made.due_at, made.number_confirmed) == ("es", "after_hours", MONDAY_8AM, True)
    assert made.recording_url


def test_hanging_up_after_the_message_still_leaves_a_request_at_the_caller_id(phone, clock, db):
    call = message_after_hours(phone, clock, "en")
    call.hangup()
    [made] = requests_made(db)
    assert (made.phone, made.number_confirmed, made.recording_url is not None) == (CALLER, False, True)


def test_silence_at_the_message_asks_again(phone, clock, db):
    clock.set(*SATURDAY)
    call = phone()
    call.press("1")
    call.press("0")
    call.press("1")
    call.silence()
    assert call.heard()[-2:] == ["Sorry, I didn't hear a message.", MESSAGE_ASK["en"]]
    assert requests_made(db) == []


@pytest.mark.parametrize(("key", "lang"), [("1", "en"), ("2", "es")])
def test_another_language_after_hours_leaves_a_message_for_an_interpreter_call_back(phone, clock, db, key, lang):
    clock.set(*SATURDAY)
    call = phone()
    call.press("3")
    call.silence()  # no language chosen from the offered ones
    call.press(key)
    assert call.heard()[-1] == {
        "en": ("After the tone, say your name and the language you speak, and tell us what you need. "
               "Press pound when you're done."),
        "es": ("Después del tono, diga su nombre y el idioma que habla, y díganos lo que necesita. "
               "Oprima la tecla numeral al terminar.")}[lang]
    record = next(documents(call)[-1].iter("Record"))
    assert record.get("transcribe") is None  # the message is in the caller's own language
    call.record(30)
    call.press("1")
    assert call.heard()[-2:] == [DONE_MONDAY[lang], GOODBYE[lang]]
    [made] = requests_made(db)
    assert (made.language, made.reason, made.due_at, made.phone) == (lang, "interpretation", MONDAY_8AM, CALLER)


def test_callback_offer_takes_its_reason_from_the_answers(app, phone, db):
    """Another flow (the interpreter's failure path) sets callback_reason and sends the caller to callback_offer."""
    call = phone()
    call.press("1")
    row = call_row(db, call)
    row.answers = {**row.answers, "callback_reason": "interpretation", "caller_number_ending": "0 1 2 3"}
    db.commit()
    answer = signed_post(app, "/voice/turn?node=callback_confirm_number&lang=en&attempt=1&event=gather",
                         {"CallSid": call.call_sid, "From": CALLER, "To": "+18607579311", "Digits": "1"})
    assert "as soon as they are free" in answer.get_data(as_text=True)
    [made] = requests_made(db)
    assert (made.reason, made.phone, made.due_at is not None) == ("interpretation", CALLER, True)
    assert "callback_reason" not in call_row(db, call).answers
