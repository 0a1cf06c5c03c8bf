"""Whole calls (issue 7, parts 5 and 6): after hours every prompt tells the truth about the hour, and the line
says things as a person would: a greeting that reaches "Para español" quickly, short speech-led menus,
department names that read well inside a sentence, closed cases that are no longer "with" anyone.
"""

import re
import xml.etree.ElementTree as ET
from datetime import datetime
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

import pytest

from ivr import cases
from ivr.cases.numbers import spoken as spoken_case_number
from ivr.closures import start_closure
from ivr.simulator import format_transcript

HARTFORD = ZoneInfo("America/New_York")
LANGUAGE_KEY = {"en": "1", "es": "2"}
SATURDAY = (2026, 12, 5, 11, 0)  # closed; opens again on Monday, December 7 at 8 AM
CHRISTMAS = (2026, 12, 25, 10, 0)  # a holiday; opens again on Monday, December 28 at 8 AM
HOURS = {"en": "Monday to Friday, 8 AM to 5 PM", "es": "de lunes a viernes, de 8 de la mañana a 5 de la tarde"}
OPENS_MONDAY = {"en": "on Monday, December 7 at 8 AM", "es": "el lunes 7 de diciembre a las 8 de la mañana"}

GREETING_EN = ("City of Hartford 311. For police, fire or medical emergencies, hang up and dial 9-1-1. "
               "For English, press 1.")
GREETING_ES = "Para español, oprima 2. Si es una emergencia de policía, bomberos o médica, cuelgue y marque 9-1-1."
# Then "For help in Portuguese, press 3." in Portuguese, and so on (tests/voice/test_greeting_languages.py).
GREETING_OFFERS = ["Português, tecle 3.", "Polski, naciśnij 3.", "Français, tapez 3.", "Tiếng Việt, bấm số 3.",
                   "للعربية، اضغط 3."]
GREETING = [GREETING_EN, GREETING_ES, "For help in another language, press 3.", *GREETING_OFFERS]
RETRY = {"en": "Sorry, I didn't get that.", "es": "Lo siento, no le entendí."}

# Asking for a person after hours: when people answer again, the 911 reminder, then what still works.
PEOPLE = {
    "en": ("Sorry, there's no one here to take your call right now. People answer 311 again {opening}. "
           "Our hours are " + HOURS["en"] + ". "
           "If this is a police, fire or medical emergency, hang up and dial 9-1-1."),
    "es": ("Lo siento, en este momento no hay nadie para atender su llamada. Nuestro personal vuelve a atender "
           "{opening}. Nuestro horario es " + HOURS["es"] + ". "
           "Si es una emergencia de policía, bomberos o médica, cuelgue y marque 9-1-1."),
}
PEOPLE_IN_A_CLOSURE_EN = (
    "Sorry, there's no one here to take your call right now: city offices are closed because of an emergency. "
    f"Our regular hours are {HOURS['en']}. If this is a police, fire or medical emergency, hang up and dial 9-1-1.")
AFTER_HOURS_MENU = {
    "en": ("You can still use these services. Say what you need, or press 1 to report a problem that is not "
           "urgent, 2 to check on a case, 3 for city information, or 9 to hear this again."),
    "es": ("Todavía puede usar estos servicios. Diga lo que necesita, u oprima 1 para reportar un problema que no "
           "es urgente, 2 para consultar un caso, 3 para información de la ciudad, o 9 para escuchar esto de nuevo."),
}
# ... then a message for a call-back, or what still works (flows/callbacks.yaml).
OFFER = {
    "en": ("To leave a message and have us call you back when we open, press 1. "
           "For the services you can still use, press 2."),
    "es": ("Para dejar un mensaje y que le devolvamos la llamada cuando abramos, oprima 1. "
           "Para los servicios que todavía puede usar, oprima 2."),
}
MAIN_MENU_EN = ("Say what you need, or press 1 to report a problem, 2 to check on a case, 3 for city information, "
                "4 to reach a city department, or 0 to speak with a representative.")
INFO_MENU = {
    "en": ("City information. Say a topic, or press 1 to hear what 311 does, 2 for our hours, "
           "3 for the number to call from a cell phone, 8 for more choices, or star for the main menu."),
    "es": ("Información de la ciudad. Diga un tema, u oprima 1 para saber qué hace el 311, 2 para nuestro horario, "
           "3 para el número al que puede llamar desde un celular, 8 para más opciones, "
           "o asterisco para el menú principal."),
}
INFO_MORE_EN = ("More city information. Say a topic, or press 4 to hear when we ask for your name and number, "
                "5 for trash, recycling and bulky items, 6 for current announcements, or star for the main menu.")
REP_EN = "Please hold for the next available representative."

# How fast the voices speak, in words a second, for the greeting's timing.
WORDS_PER_SECOND = {"en-US": 2.5, "es-US": 2.7}


# ---- helpers -------------------------------------------------------------------------------------

def documents(call) -> list[ET.Element]:
    """The TwiML documents the app answered to the call's voice webhooks (status callback excluded)."""
    return [ET.fromstring(x.body) for x in call.requests if urlsplit(x.url).path != "/voice/status"]


def says(element: ET.Element) -> list[tuple[str, str]]:
    """(text, language) of every <Say> under an element, in order."""
    return [(" ".join((s.text or "").split()), s.get("language")) for s in element.iter("Say")]


def listening_at(call) -> dict[str, str]:
    """The position the call's last <Gather> comes back to (node, lang, attempt)."""
    gather = documents(call)[-1].find("Gather")
    assert gather is not None, format_transcript(call)
    return dict(parse_qsl(urlsplit(gather.get("action")).query))


def answer(call, said: str) -> list[str]:
    """Press keys ('0', '*') or say words; what the caller heard in answer."""
    before = len(call.heard())
    if re.fullmatch(r"[0-9*#]+", said):
        call.press(said)
    else:
        call.say(said)
    return call.heard()[before:]


def transferred(call) -> list[str]:
    """Every queue or number the call was put through to."""
    return [line.text for line in call.transcript if line.kind in ("enqueue", "dial")]


def closed_call(phone, clock, lang: str, when=SATURDAY):
    """A call at the after-hours menu in a language."""
    clock.set(*when)
    call = phone()
    call.press(LANGUAGE_KEY[lang])
    assert call.heard()[-1] == AFTER_HOURS_MENU[lang]
    return call


def spoken_words(text: str) -> int:
    """Words a voice says: '9-1-1' and '311' are said digit by digit."""
    return sum(len(token) if token.isdigit() else 1 for token in re.findall(r"\w+", text))


def seconds_until(utterances: list[tuple[str, str]], phrase: str) -> float:
    """Seconds of speech before `phrase` is reached, each utterance at its voice's rate."""
    seconds = 0.0
    for text, language in utterances:
        if phrase in text:
            return seconds + spoken_words(text[:text.index(phrase)]) / WORDS_PER_SECOND[language]
        seconds += spoken_words(text) / WORDS_PER_SECOND[language]
    raise AssertionError(f"{phrase!r} is never said")


# ---- the greeting --------------------------------------------------------------------------------

def test_the_greeting_reaches_para_espanol_within_ten_seconds_with_the_911_advisory_first(phone):
    call = phone()
    greeting = says(documents(call)[0])
    assert [text for text, _ in greeting] == GREETING
    spoken = " ".join(text for text, _ in greeting)
    assert spoken.index("9-1-1") < spoken.index("press")  # the advisory comes before any choice
    assert "police, fire or medical" in spoken
    assert seconds_until(greeting, "Para español") < 10
    assert ("Si es una emergencia" in greeting[1][0]) and greeting[1][1] == "es-US"  # and again in Spanish


def test_the_greeting_timing_counts_digits_as_they_are_said():
    assert spoken_words("Dial 9-1-1. City of Hartford 311.") == 1 + 3 + 3 + 3
    assert seconds_until([("One two three four five.", "en-US"), ("Para español, oprima 2.", "es-US")],
                         "Para español") == 2.0


@pytest.mark.parametrize("wrong", ["7", "banana"])
def test_a_wrong_answer_at_the_greeting_is_apologised_for_in_both_languages(phone, wrong):
    call = phone()
    assert answer(call, wrong) == [RETRY["en"], RETRY["es"], *GREETING]
    apology = says(documents(call)[-1])[:2]
    assert apology == [(RETRY["en"], "en-US"), (RETRY["es"], "es-US")]
    assert listening_at(call) == {"node": "start", "lang": "en", "attempt": "2", "event": "gather"}


def test_after_the_greeting_the_apology_is_in_the_callers_language_only(phone, clock):
    call = closed_call(phone, clock, "es")
    assert answer(call, "7") == [RETRY["es"], AFTER_HOURS_MENU["es"]]


# ---- after hours, asking for a person ------------------------------------------------------------

@pytest.mark.parametrize(("lang", "said"), [
    ("en", "representative"), ("en", "operator"), ("en", "agent"), ("en", "person"),
    ("en", "I want to talk to a person"), ("en", "0"),
    ("es", "representante"), ("es", "operador"), ("es", "agente"), ("es", "persona"),
    ("es", "quiero hablar con una persona"), ("es", "0"),
])
def test_asking_for_a_person_after_hours_hears_when_people_answer_and_what_still_works(phone, clock, lang, said):
    call = closed_call(phone, clock, lang)
    heard = answer(call, said)
    assert heard == [PEOPLE[lang].format(opening=OPENS_MONDAY[lang]), OFFER[lang]]
    assert RETRY[lang] not in heard
    assert listening_at(call) == {"node": "callback_after_hours_offer", "lang": lang, "attempt": "1",
                                  "event": "gather"}
    assert not transferred(call) and not call.ended
    assert answer(call, "2") == [AFTER_HOURS_MENU[lang]]
    assert answer(call, "2")[0].startswith(("Please enter your case number", "Por favor, marque su número"))


def test_asking_again_and_again_never_ends_in_goodbye(phone, clock):
    call = closed_call(phone, clock, "en")
    for said in ("representative", "0", "operator", "0", "agent"):
        assert answer(call, said)[-1] == OFFER["en"]
        assert answer(call, "2") == [AFTER_HOURS_MENU["en"]]
    assert RETRY["en"] not in call.heard() and not call.ended


def test_silence_at_the_call_back_offer_is_what_still_works(phone, clock):
    call = closed_call(phone, clock, "es")
    answer(call, "0")
    call.silence()
    assert call.heard()[-1] == AFTER_HOURS_MENU["es"]


@pytest.mark.parametrize(("lang", "keys", "said"), [
    ("en", ["3"], "representative"), ("en", ["3"], "0"), ("es", ["3"], "representante"),
    ("en", ["3", "8"], "operator"), ("es", ["3", "8"], "0"),
])
def test_asking_for_a_person_in_the_information_menus_after_hours(phone, clock, lang, keys, said):
    call = closed_call(phone, clock, lang)
    for key in keys:
        call.press(key)
    assert answer(call, said) == [PEOPLE[lang].format(opening=OPENS_MONDAY[lang]), OFFER[lang]]
    assert not transferred(call)


def test_on_a_holiday_people_answer_again_after_it(phone, clock):
    call = closed_call(phone, clock, "en", when=CHRISTMAS)
    assert answer(call, "representative") == [PEOPLE["en"].format(opening="on Monday, December 28 at 8 AM"),
                                              OFFER["en"]]


def test_in_an_emergency_closure_no_reopening_time_is_promised(phone, db):
    start_closure(db, "City offices are closed because of snow.", None, by="test")
    db.commit()
    call = phone()  # a Tuesday morning: open but for the closure
    call.press("1")
    assert answer(call, "operator") == [PEOPLE_IN_A_CLOSURE_EN, OFFER["en"]]
    assert not transferred(call)


def test_when_open_0_at_the_information_menu_reaches_a_representative(phone):
    call = phone()
    call.press("1")
    call.press("3")
    assert answer(call, "0") == [REP_EN]
    assert transferred(call) == ["hartford311-en"]


# ---- menus of five choices at most ---------------------------------------------------------------

def test_the_information_menu_in_two_lists_keeps_every_old_key(phone, clock):
    call = closed_call(phone, clock, "en")
    assert answer(call, "3") == [INFO_MENU["en"]]
    assert answer(call, "5")[-1] == INFO_MORE_EN  # trash, by its old key, then the list it belongs to
    assert answer(call, "2")[-1] == INFO_MENU["en"]  # hours, by its old key from the second list
    assert answer(call, "8") == [INFO_MORE_EN]
    assert answer(call, "9") == [INFO_MORE_EN]
    assert answer(call, "recycling")[0].startswith("Trash and recycling are collected once a week.")
    assert answer(call, "*") == [AFTER_HOURS_MENU["en"]]


def test_the_spanish_information_menu(phone, clock):
    call = closed_call(phone, clock, "es")
    assert answer(call, "3") == [INFO_MENU["es"]]


def test_no_menu_reads_more_than_five_choices(app):
    flow = app.extensions["ivr"].flow
    for name in ("main_menu", "after_hours_menu", "info_menu", "info_more"):
        listed = [option.digits for option in flow.node(name).options if not option.unlisted]
        assert len(listed) <= 5, (name, listed)


def test_the_main_menu_still_repeats_with_9(phone):
    call = phone()
    call.press("1")
    assert answer(call, "9") == [MAIN_MENU_EN]


# ---- names said inside sentences -----------------------------------------------------------------

def test_the_police_line_is_named_as_a_person_would_say_it(phone):
    call = phone()
    call.press("1")
    assert "For the Police non-emergency line, press 7." in answer(call, "4")
    heard = answer(call, "police")
    assert heard[0] == "Connecting you to the Police non-emergency line. Please hold."
    assert heard[1].startswith("Sorry, nobody at the Police non-emergency line could take your call.")
    assert transferred(call) == ["+18605550170"]


def test_the_police_line_in_spanish(phone):
    call = phone()
    call.press("2")
    assert "Para la línea de no emergencias de la Policía, oprima 7." in answer(call, "4")
    assert answer(call, "7")[0] == "Le comunicamos con la línea de no emergencias de la Policía. Por favor, espere."


# ---- a closed case is no longer "with" anyone ----------------------------------------------------

def hartford(*args) -> datetime:
    return datetime(*args, tzinfo=HARTFORD)


@pytest.fixture
def closed_case(app, db):
    """close(service type code) -> a case opened on Monday, November 23 and closed on Wednesday, November 25."""
    schedule = app.extensions["ivr"].line.schedule

    def close(code: str):
        request = cases.NewCase(service_type=code, location="45 Park Terrace", contact_phone="+18605554477")
        case, _ = cases.create_case(db, request, schedule, "test", now=hartford(2026, 11, 23, 9, 0))
        cases.update_status(db, case, "closed", None, public=True, actor="crew", now=hartford(2026, 11, 25, 15, 0))
        db.commit()
        return case

    return close


@pytest.mark.parametrize(("lang", "code", "closed_by"), [
    ("en", "pothole", "Status: closed. Public Works closed it on Wednesday, November 25."),
    ("es", "pothole", "Estado: cerrado. Obras Públicas lo cerró el miércoles 25 de noviembre."),
    ("en", "abandoned_vehicle", "Status: closed. The Police Department closed it on Wednesday, November 25."),
    ("es", "noise_other", "Estado: cerrado. El Centro de Llamadas 311 lo cerró el miércoles 25 de noviembre."),
])
def test_a_closed_case_says_who_closed_it_not_who_has_it(phone, clock, closed_case, lang, code, closed_by):
    case = closed_case(code)
    call = closed_call(phone, clock, lang)
    call.press("2")
    report, options = answer(call, case.number + "#")
    assert report.startswith(("Caso " if lang == "es" else "Case ") + spoken_case_number(case.number) + ": ")
    assert report.endswith(closed_by)
    assert not re.search(r"\b(with|con) ", report), report
    assert not re.search("representative|representante", options)  # after hours: no person offered


@pytest.mark.parametrize(("lang", "said"), [("en", "0"), ("en", "representative"), ("es", "representante")])
def test_asking_for_a_person_after_a_status_read_back_after_hours(phone, clock, closed_case, lang, said):
    case = closed_case("pothole")
    call = closed_call(phone, clock, lang)
    call.press("2")
    answer(call, case.number + "#")
    assert answer(call, said) == [PEOPLE[lang].format(opening=OPENS_MONDAY[lang]), OFFER[lang]]
    assert not transferred(call) and not call.ended
