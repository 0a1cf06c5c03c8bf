"""The greeting in the languages of Hartford (issue 11, parts 2 and 6): the offer of 3 said in each offered
language, in its own voice, under 30 seconds in all; and, when conversations are recorded, the notice first.
"""

import re
import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import select
from twilio.twiml.voice_response import VoiceResponse

from ivr.core.prompts import LANGUAGES, OFFER_PROMPT, PromptError, Voice, load_catalog
from ivr.models import Call, CallRecording
from ivr.settings import PROJECT_ROOT, ConfigError
from ivr.settings import load as load_settings
from ivr.twiml_check import check_twiml
from tests.conftest import AUTH_TOKEN
from tests.voice.test_after_hours_calls import WORDS_PER_SECOND, documents, seconds_until, spoken_words
from tests.voice.test_signature import post, sign

# What a caller hears after "For help in another language, press 3.", in order, with the voice saying it.
OFFERS = [
    ("Português, tecle 3.", "Polly.Camila", "pt-BR"),
    ("Polski, naciśnij 3.", "Polly.Ewa", "pl-PL"),
    ("Français, tapez 3.", "Polly.Lea", "fr-FR"),
    ("Tiếng Việt, bấm số 3.", "Google.vi-VN-Standard-A", "vi-VN"),
    ("للعربية، اضغط 3.", "Polly.Zeina", "arb"),
]
# After 3: the same languages again, each with a key of its own (the interpreter is told which).
LANGUAGE_MENU = ["Português, tecle 1.", "Polski, naciśnij 2.", "Français, tapez 3.", "Tiếng Việt, bấm số 4.",
                 "للعربية، اضغط 5."]
CHINESE = ("中文请按3。", "Polly.Zhiyu", "cmn-CN")  # ready in config and prompts/offers.yaml, not offered by default
OFFER_TEXTS = [text for text, _, _ in OFFERS]
# Without Twilio credentials (these tests' line) the three-way call cannot be set up: the caller is told so at
# once (tests/voice/test_interpretation_calls.py dials the interpreter with the language's code).
INTERPRETATION_REACHED = "Sorry, we could not bring an interpreter and a representative onto your call right now."
REPRESENTATIVE_DIALLED = "+18605550100"
RECORDED = [("Calls may be recorded.", "Polly.Joanna-Neural", "en-US"),
            ("Las llamadas pueden grabarse.", "Polly.Lupe-Neural", "es-US")]

# Twilio's text-to-speech voices for these languages, and the language each speaks (Twilio's voice list): a
# voice given another language's tag is refused by <Say>, or reads the words with the wrong sounds.
TWILIO_VOICES = {
    "Polly.Camila": "pt-BR", "Polly.Vitoria": "pt-BR", "Polly.Ricardo": "pt-BR", "Polly.Ines": "pt-PT",
    "Polly.Cristiano": "pt-PT", "Polly.Ewa": "pl-PL", "Polly.Maja": "pl-PL", "Polly.Jan": "pl-PL",
    "Polly.Jacek": "pl-PL", "Polly.Lea": "fr-FR", "Polly.Celine": "fr-FR", "Polly.Mathieu": "fr-FR",
    "Polly.Chantal": "fr-CA", "Polly.Zeina": "arb", "Polly.Zhiyu": "cmn-CN",
}
GOOGLE_VOICE = re.compile(r"Google\.(?P<locale>[a-z]{2,3}-[A-Z]{2})-(Standard|Wavenet|Neural2)-[A-Z]")

# How fast the offered languages' voices speak, for the greeting's timing, beside English's and Spanish's
# (tests/voice/test_after_hours_calls.py). Conservative: Polish words are long, Arabic is read slowly, and
# Vietnamese words are single syllables. Mandarin is timed by characters, having no spaces between words.
OFFER_WORDS_PER_SECOND = {"pt-BR": 2.5, "pl-PL": 2.2, "fr-FR": 2.7, "vi-VN": 3.0, "arb": 2.0}
HANZI_PER_SECOND = {"cmn-CN": 4.0}
HANZI = re.compile(r"[\u4e00-\u9fff\d]")


@pytest.fixture
def app(make_app, request):
    """The shipped app, or one with the settings a test passes with indirect parametrisation."""
    return make_app(getattr(request, "param", None))


def speaking_seconds(text: str, language: str) -> float:
    """Seconds a voice takes to say `text`, at the project's rates."""
    if language in HANZI_PER_SECOND:
        return len(HANZI.findall(text)) / HANZI_PER_SECOND[language]
    return spoken_words(text) / {**WORDS_PER_SECOND, **OFFER_WORDS_PER_SECOND}[language]


def greeting_says(call) -> list[tuple[str, str, str]]:
    """(text, voice, language) of every <Say> of the greeting's <Gather>."""
    gather = documents(call)[0].find("Gather")
    assert gather is not None
    return [(" ".join(say.text.split()), say.get("voice"), say.get("language")) for say in gather.iter("Say")]


def greeting_seconds(says: list[tuple[str, str, str]]) -> float:
    """The whole greeting's length in seconds of speech."""
    return sum(speaking_seconds(text, language) for text, _, language in says)


# ---- each offered language: a voice, an offer, a pair Twilio accepts ---------------------------------

@pytest.fixture(scope="module")
def shipped():
    """The shipped settings and the catalog the app builds from them."""
    settings = load_settings(environ={})
    offered = {code: Voice(settings.languages.voices[code].voice, settings.languages.voices[code].language)
               for code in settings.languages.offered}
    return settings, load_catalog(PROJECT_ROOT / "prompts", offered=offered)


def test_the_offered_languages_are_hartfords_after_english_and_spanish(shipped):
    settings, catalog = shipped
    assert settings.languages.offered == ("pt", "pl", "fr", "vi", "ar")
    assert catalog.offers == settings.languages.offered
    assert not set(catalog.offers) & set(LANGUAGES)


def test_each_configured_language_has_a_voice_and_an_offer_twilio_can_say(shipped):
    settings, _ = shipped
    configured = {code: Voice(voice.voice, voice.language) for code, voice in settings.languages.voices.items()}
    catalog = load_catalog(PROJECT_ROOT / "prompts", offered=configured)
    assert set(configured) >= set(settings.languages.offered) | {"zh"}
    for code in configured:
        voice = catalog.voice(code)
        offer = catalog.text(code, OFFER_PROMPT, key="3")
        assert offer and "3" in offer and "{" not in offer, code
        google = GOOGLE_VOICE.fullmatch(voice.voice)
        speaks = google["locale"] if google else TWILIO_VOICES.get(voice.voice)
        assert speaks == voice.language, f"{code}: {voice.voice} does not speak {voice.language}"
        response = VoiceResponse()
        response.say(offer, voice=voice.voice, language=voice.language)
        assert check_twiml(str(response)) == [], code


def test_the_offers_keep_the_catalog_of_english_and_spanish_whole(shipped):
    _, catalog = shipped
    assert set(catalog.texts["en"]) == set(catalog.texts["es"])
    assert catalog.text("en", OFFER_PROMPT, key="1") == "English, press 1."  # every language has its offer
    assert all(set(catalog.texts[code]) == {OFFER_PROMPT} for code in catalog.offers)  # and an offered one no more


def test_an_offered_language_without_a_voice_stops_start_up():
    with pytest.raises(ConfigError, match=r"offered: 'ht' has no voice"):
        load_settings(environ={}, overrides={"languages": {"offered": ["pt", "ht"]}})


def test_an_offered_language_without_an_offer_stops_start_up(tmp_path):
    for name in ("en.yaml", "es.yaml"):
        (tmp_path / name).write_text((PROJECT_ROOT / "prompts" / name).read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "offers.yaml").write_text("pt: Português, tecle {key}.\n", encoding="utf-8")
    with pytest.raises(PromptError, match=r"no offer for 'bs'"):
        load_catalog(tmp_path, offered={"pt": Voice("Polly.Camila", "pt-BR"), "bs": Voice("Polly.Ewa", "pl-PL")})
    (tmp_path / "offers.yaml").write_text("pt: Português, tecle 3.\n", encoding="utf-8")
    with pytest.raises(PromptError, match=r"must say \{key\}"):
        load_catalog(tmp_path, offered={"pt": Voice("Polly.Camila", "pt-BR")})


# ---- the greeting a caller hears ---------------------------------------------------------------------

def test_the_greeting_offers_help_in_each_language_in_its_own_voice(phone):
    call = phone()
    says = greeting_says(call)
    assert says[2:] == [("For help in another language, press 3.", "Polly.Joanna-Neural", "en-US"), *OFFERS]
    assert call.heard()[3:] == OFFER_TEXTS
    assert not any("recorded" in text or "grabada" in text for text, _, _ in says)  # recording is off


def test_the_greeting_is_under_thirty_seconds_and_reaches_para_espanol_within_ten(phone):
    says = greeting_says(phone())
    assert greeting_seconds(says) < 30
    assert seconds_until([(text, language) for text, _, language in says], "Para español") < 10
    assert says[0][0].index("9-1-1") < says[0][0].index("press")  # the 911 advisory still comes first


def test_the_greeting_timing_counts_chinese_by_its_characters():
    assert speaking_seconds("中文请按3。", "cmn-CN") == 5 / 4.0
    assert speaking_seconds("Português, tecle 3.", "pt-BR") == 3 / 2.5


@pytest.mark.parametrize("app", [{"languages": {"offered": ["zh", "fr"]}}], indirect=True)
def test_the_offered_languages_come_from_config(phone):
    assert greeting_says(phone())[3:] == [CHINESE, OFFERS[2]]


def ask_for_an_interpreter(call, how: str = "3") -> list[str]:
    """Press 3 (or say 'interpreter') at the greeting; what the caller hears in answer."""
    before = len(call.heard())
    call.press(how) if how.isdigit() else call.say(how)
    return call.heard()[before:]


@pytest.mark.parametrize("how", ["3", "interpreter"])
def test_after_3_each_offered_language_is_read_again_with_a_key_of_its_own(phone, how):
    call = phone()
    assert ask_for_an_interpreter(call, how) == LANGUAGE_MENU
    gather = documents(call)[-1].find("Gather")
    assert [(say.text, say.get("voice"), say.get("language")) for say in gather.iter("Say")] == [
        (text, voice, language) for text, (_, voice, language) in zip(LANGUAGE_MENU, OFFERS, strict=True)]
    assert (gather.get("input"), gather.get("numDigits"), gather.get("timeout")) == ("dtmf", "1", "4")


@pytest.mark.parametrize(("key", "code"), [("1", "pt"), ("2", "pl"), ("5", "ar")])
def test_the_language_chosen_is_kept_for_the_interpreter(phone, db, key, code):
    call = phone()
    ask_for_an_interpreter(call)
    call.press(key)
    assert INTERPRETATION_REACHED in call.heard()[len(greeting_says(call)) + len(LANGUAGE_MENU):]
    assert call_row(db, call).answers["interpretation_language"] == code


@pytest.mark.parametrize("answer", ["silence", "9"])
def test_no_language_or_another_one_still_reaches_the_interpreter(phone, db, answer):
    call = phone()
    ask_for_an_interpreter(call)
    call.silence() if answer == "silence" else call.press(answer)
    heard = call.heard()[len(greeting_says(call)) + len(LANGUAGE_MENU):]
    assert heard[0] == ("Sorry, I didn't get that." if answer == "9" else INTERPRETATION_REACHED)
    assert INTERPRETATION_REACHED in heard
    assert "interpretation_language" not in call_row(db, call).answers


# ---- recorded conversations: the notice first ---------------------------------------------------------

# Conversations with a representative dialled at the call centre are what the line records.
RECORDING_ON = {"recording": {"enabled": True}, "routing": {"representative": {"mode": "dial"}}}
CALL_SID = "CA" + "7" * 32
RECORDING_SID = "RE" + "8" * 32


def call_row(db, call) -> Call:
    """The call's stored row, read fresh."""
    db.expire_all()
    return db.scalars(select(Call).where(Call.call_sid == call.call_sid)).one()


def dials(call) -> list[ET.Element]:
    """Every <Dial> the call was given, in order."""
    return [dial for document in documents(call) for dial in document.iter("Dial")]


@pytest.mark.parametrize("app", [RECORDING_ON], indirect=True)
def test_when_calls_are_recorded_the_greeting_says_so_in_both_languages_before_anything_is_recorded(phone):
    call = phone()
    says = greeting_says(call)
    assert says[-2:] == RECORDED and says[3:-2] == OFFERS
    assert greeting_seconds(says) < 30
    call.next_dial_result = "completed"
    call.press("1")
    call.press("0")  # a representative is dialled, and the conversation recorded
    [dial] = dials(call)
    assert dial.get("record") == "record-from-answer-dual"
    assert dial.get("recordingStatusCallback").endswith("/voice/recording")
    assert (dial.get("recordingStatusCallbackEvent"), dial.get("recordingStatusCallbackMethod")) == (
        "completed", "POST")
    # Nothing is recorded before the notice: no <Record>, no recording <Dial>, in any answer up to it.
    answers = documents(call)
    notice = [index for index, doc in enumerate(answers)
              if {text for text, _, _ in RECORDED} <= {" ".join(say.text.split()) for say in doc.iter("Say")}]
    recording = [index for index, doc in enumerate(answers)
                 if list(doc.iter("Record")) or any(dial.get("record") for dial in doc.iter("Dial"))]
    assert notice == [0] and recording and min(recording) > 0


@pytest.mark.parametrize("app", [{"routing": {"representative": {"mode": "dial"}}}], indirect=True)
def test_without_recording_nothing_is_recorded_and_nothing_is_said(phone):
    call = phone()
    call.next_dial_result = "completed"
    call.press("1")
    call.press("0")
    assert [(dial.findtext("Number"), dial.get("record")) for dial in dials(call)] == [(REPRESENTATIVE_DIALLED, None)]
    assert "Calls may be recorded." not in call.heard()


def recording_callback(app, **fields):
    """Twilio's recording status callback for a finished conversation recording, signed."""
    form = {"AccountSid": "AC" + "6" * 32, "CallSid": CALL_SID, "RecordingSid": RECORDING_SID,
            "RecordingUrl": f"https://api.twilio.com/2010-04-01/Accounts/AC{'6' * 32}/Recordings/{RECORDING_SID}",
            "RecordingStatus": "completed", "RecordingDuration": "42", "RecordingChannels": "2",
            "RecordingSource": "DialVerb", **fields}
    return post(app, "/voice/recording", form, sign("http://localhost/voice/recording", form, AUTH_TOKEN))


@pytest.mark.parametrize("app", [RECORDING_ON], indirect=True)
def test_each_finished_recording_is_kept_once_for_the_retention_purge(app, db):
    assert recording_callback(app).status_code == 200
    assert recording_callback(app).status_code == 200  # Twilio retries: stored once
    rows = db.scalars(select(CallRecording)).all()
    assert [(row.call_sid, row.recording_sid, row.duration_seconds) for row in rows] == [(CALL_SID, RECORDING_SID, 42)]
    assert rows[0].url.endswith(f"/Recordings/{RECORDING_SID}")


@pytest.mark.parametrize("fields", [{"RecordingStatus": "failed"}, {"RecordingSid": "not-a-sid"}])
def test_a_failed_or_malformed_recording_callback_stores_nothing(app, db, fields):
    answer = recording_callback(app, **fields)
    assert answer.status_code == 200 and check_twiml(answer.data) == []
    assert db.scalars(select(CallRecording)).all() == []


def test_an_unsigned_recording_callback_is_refused(app, db):
    assert post(app, "/voice/recording", {"CallSid": CALL_SID, "RecordingSid": RECORDING_SID}, None).status_code == 403
    assert db.scalars(select(CallRecording)).all() == []
