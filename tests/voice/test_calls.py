"""Whole calls through the simulator (DESIGN §1): what the caller hears, what Twilio is told, what is stored.

Every TwiML answer is validated by the `phone` fixture's transport. Case intake and status (menu options 1
and 2) are tested elsewhere; here they only have to exist.
"""

import json
import xml.etree.ElementTree as ET
from urllib.parse import parse_qsl, urlsplit

import pytest
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from ivr.closures import end_closure, start_closure
from ivr.models import Call, CallTurn
from ivr.simulator import format_transcript
from tests.conftest import AUTH_TOKEN
from tests.voice.test_greeting_languages import LANGUAGE_MENU, OFFERS

HOURS_EN = "Monday to Friday, 8 AM to 5 PM"
HOURS_ES = "de lunes a viernes, de 8 de la mañana a 5 de la tarde"

GREETING_EN = ("City of Hartford 311. For police, fire or medical emergencies, hang up and dial 9-1-1. "
               "For English, press 1.")
GREETING_ES = "Para español, oprima 2. Si es una emergencia de policía, bomberos o médica, cuelgue y marque 9-1-1."
GREETING_OTHER = "For help in another language, press 3."
GREETING_OFFERS = [text for text, _, _ in OFFERS]  # "For help in Portuguese, press 3." in Portuguese, ...
GREETING = [GREETING_EN, GREETING_ES, GREETING_OTHER, *GREETING_OFFERS]
GREETED = len(GREETING)  # utterances a caller has heard once greeted: what follows starts at heard()[GREETED]

MAIN_MENU_EN = ("Say what you need, or press 1 to report a problem, 2 to check on a case, 3 for city information, "
                "4 to reach a city department, or 0 to speak with a representative.")
MAIN_MENU_ES = ("Diga lo que necesita, u oprima 1 para reportar un problema, 2 para consultar un caso, "
                "3 para información de la ciudad, 4 para comunicarse con un departamento de la ciudad, "
                "o 0 para hablar con un representante.")
RETRY_EN = "Sorry, I didn't get that."
RETRY_ES = "Lo siento, no le entendí."
# The 911 advisory at a menu (the menu follows; tests/voice/test_emergency_calls.py covers inputs).
EMERGENCY_EN = ("If this is a police, fire or medical emergency, hang up now and dial 9-1-1. "
                "If it is not an emergency, keep talking or choose from the menu.")
EMERGENCY_ES = ("Si es una emergencia de policía, bomberos o médica, cuelgue ahora y marque 9-1-1. "
                "Si no es una emergencia, siga hablando o elija una opción del menú.")

# {opening}: when 311 opens again, as the caller hears it ("tomorrow at 8 AM").
CLOSED_INTRO_EN = ("311 is closed now, and opens again {opening}. Our hours are " + HOURS_EN + ". "
                   "If this is a police, fire or medical emergency, hang up and call 9-1-1.")
CLOSED_INTRO_ES = ("El 311 está cerrado en este momento y abre de nuevo {opening}. "
                   "Nuestro horario es " + HOURS_ES + ". "
                   "Si es una emergencia de policía, bomberos o médica, cuelgue y llame al 9-1-1.")
CLOSED_HOLIDAY_EN = ("311 is closed today for a city holiday, and opens again {opening}. "
                     "Our hours are " + HOURS_EN + ". "
                     "If this is a police, fire or medical emergency, hang up and call 9-1-1.")
CLOSED_HOLIDAY_ES = ("El 311 está cerrado hoy por ser día feriado de la ciudad y abre de nuevo {opening}. "
                     "Nuestro horario es " + HOURS_ES + ". "
                     "Si es una emergencia de policía, bomberos o médica, cuelgue y llame al 9-1-1.")
CLOSED_MENU_EN = ("You can still use these services. Say what you need, or press 1 to report a problem that is "
                  "not urgent, 2 to check on a case, 3 for city information, or 9 to hear this again.")
CLOSED_MENU_ES = ("Todavía puede usar estos servicios. Diga lo que necesita, u oprima 1 para reportar un problema "
                  "que no es urgente, 2 para consultar un caso, 3 para información de la ciudad, "
                  "o 9 para escuchar esto de nuevo.")
CLOSED_GOODBYE_EN = (f"Thank you for calling Hartford 311. Our hours are {HOURS_EN}. "
                     "If this is a police, fire or medical emergency, hang up and dial 9-1-1. Goodbye.")
CLOSED_GOODBYE_ES = (f"Gracias por llamar al 311 de Hartford. Nuestro horario es {HOURS_ES}. "
                     "Si es una emergencia de policía, bomberos o médica, cuelgue y marque 9-1-1. Adiós.")

INFO_MENU_EN = ("City information. Say a topic, or press 1 to hear what 311 does, 2 for our hours, "
                "3 for the number to call from a cell phone, 8 for more choices, or star for the main menu.")
INFO_MORE_EN = ("More city information. Say a topic, or press 4 to hear when we ask for your name and number, "
                "5 for trash, recycling and bulky items, 6 for current announcements, or star for the main menu.")
INFO_MENU_ES_START = "Información de la ciudad. Diga un tema, u oprima 1 para saber qué hace el 311,"
INFO_HOURS_EN = (f"People answer 311 calls {HOURS_EN}, except on city holidays. "
                 "You can check on a case and report problems that are not urgent at any hour.")
INFO_HOURS_ES = (f"Nuestro personal atiende llamadas {HOURS_ES}, excepto los días feriados de la ciudad. "
                 "Puede consultar un caso y reportar problemas que no son urgentes a cualquier hora.")

REP_EN = "Please hold for the next available representative."
REP_ES = "Por favor, espere al próximo representante de habla hispana disponible."
REP_UNAVAILABLE_EN = "Sorry, no representative can take your call right now. Please try again later."

DEPARTMENTS_EN = [
    "City departments. Say the name of the one you need, or choose from this list.",
    "For Public Works, press 1.",
    "For Licenses and Inspections, press 2.",
    "For Health and Human Services, press 3.",
    "For Parks and Recreation, press 4.",
    "For the Tax Collector, press 5.",
    "For the Town and City Clerk, press 6.",
    "For the Police non-emergency line, press 7.",
    "To hear this again, press 9. For the main menu, press star.",
]
CONNECTING_DPW_EN = "Connecting you to Public Works. Please hold."
CONNECTING_DPW_ES = "Le comunicamos con Obras Públicas. Por favor, espere."
NO_ANSWER_DPW_EN = ("Sorry, nobody at Public Works could take your call. To try again, press 1. "
                    "To speak with a 311 representative, press 0. For the main menu, press 9.")

INTERPRETER_UNREACHABLE_EN = "Sorry, we could not bring an interpreter and a representative onto your call right now."
INTERPRETER_UNREACHABLE_ES = "Lo sentimos, en este momento no pudimos comunicarle con un intérprete y un representante."

VOICE_EN = ("Polly.Joanna-Neural", "en-US")
VOICE_ES = ("Polly.Lupe-Neural", "es-US")


# ---- helpers -------------------------------------------------------------------------------------

@pytest.fixture
def app(make_app, request):
    """The shipped app, or one with the settings a test passes with indirect parametrisation."""
    return make_app(getattr(request, "param", None))


def documents(call) -> list[ET.Element]:
    """The TwiML documents the app answered to the call's voice webhooks (status callback excluded)."""
    return [ET.fromstring(x.body) for x in call.requests if urlsplit(x.url).path != "/voice/status"]


def last_document(call) -> ET.Element:
    """The most recent TwiML document of the call."""
    return documents(call)[-1]


def last_with(call, tag: str) -> ET.Element:
    """The most recent <tag> element (Dial, Enqueue, Gather, ...) the app sent on the call."""
    found = [element for document in documents(call) for element in document.iter(tag)]
    assert found, f"no <{tag}> in the call:\n{format_transcript(call)}"
    return found[-1]


def query(url: str) -> dict[str, str]:
    """The query string of a (possibly relative) URL as a dict."""
    return dict(parse_qsl(urlsplit(url).query))


def says(element: ET.Element) -> list[tuple[str, str, str]]:
    """(text, voice, language) of every <Say> under an element, in order."""
    return [(" ".join((s.text or "").split()), s.get("voice"), s.get("language")) for s in element.iter("Say")]


def lines(call, kind: str) -> list[str]:
    """The transcript lines of one kind ('dial', 'enqueue', 'event', ...)."""
    return [line.text for line in call.transcript if line.kind == kind]


def call_row(db, call) -> Call:
    """The Call row for a simulated call, read fresh."""
    db.expire_all()
    return db.scalars(select(Call).where(Call.call_sid == call.call_sid)).one()


def turns(db, call) -> list[CallTurn]:
    """The CallTurn rows of a simulated call, in order."""
    return list(call_row(db, call).turns)


def open_menu(phone, lang: str = "en", **options):
    """A call at the main menu (open hours) in the given language."""
    call = phone(**options)
    call.press("1" if lang == "en" else "2")
    assert call.heard()[-1] == (MAIN_MENU_EN if lang == "en" else MAIN_MENU_ES)
    return call


# ---- greeting and languages ----------------------------------------------------------------------

def test_open_hours_english_call(phone, db):
    call = phone()
    assert call.heard() == GREETING
    greeting = last_document(call)
    gather = greeting.find("Gather")
    assert gather is not None and gather.get("input") == "dtmf speech"
    assert says(gather) == [(GREETING_EN, *VOICE_EN), (GREETING_ES, *VOICE_ES), (GREETING_OTHER, *VOICE_EN), *OFFERS]

    call.press("1")
    assert call.heard()[GREETED:] == [MAIN_MENU_EN]
    menu = last_document(call).find("Gather")
    assert menu.get("language") == "en-US"
    assert query(menu.get("action"))["lang"] == "en"
    assert says(menu) == [(MAIN_MENU_EN, *VOICE_EN)]

    call.press("3")
    assert call.heard()[-1] == INFO_MENU_EN
    call.press("2")
    assert call.heard()[-2:] == [INFO_HOURS_EN, INFO_MENU_EN]
    call.hangup()
    assert call.ended and not call.application_error
    assert call_row(db, call).language == "en"


def test_open_hours_spanish_call(phone, db):
    call = phone()
    call.press("2")
    assert call.heard()[GREETED:] == [MAIN_MENU_ES]
    menu = last_document(call).find("Gather")
    assert menu.get("language") == "es-US"  # Spanish speech is recognised as Spanish
    assert query(menu.get("action"))["lang"] == "es"
    assert says(menu) == [(MAIN_MENU_ES, *VOICE_ES)]
    assert "representante" in menu.get("hints") and "representative" not in menu.get("hints")

    call.press("3")
    assert call.heard()[-1].startswith(INFO_MENU_ES_START)
    call.press("2")
    assert call.heard()[-2] == INFO_HOURS_ES
    # Every Say after the greeting is Spanish: the language holds for the whole call.
    for document in documents(call)[1:]:
        assert {(voice, language) for _, voice, language in says(document)} == {VOICE_ES}
    assert call_row(db, call).language == "es"


def test_silence_at_the_greeting_means_english(phone, db):
    call = phone()
    call.silence()
    assert call.heard() == [*GREETING, MAIN_MENU_EN]
    assert query(last_document(call).find("Gather").get("action"))["lang"] == "en"
    assert call_row(db, call).language == "en"


@pytest.mark.parametrize(("speech", "menu"), [("English", MAIN_MENU_EN), ("español", MAIN_MENU_ES),
                                              ("castellano", MAIN_MENU_ES)])
def test_language_can_be_chosen_by_speech(phone, speech, menu):
    call = phone()
    call.say(speech)
    assert call.heard()[-1] == menu


def test_main_menu_options_exist(app):
    """Options 1 (report) and 2 (status) exist in both menus; the after-hours menu offers no 0 or 4.

    After hours 0 is accepted without being offered: it answers with the hours (test_after_hours_calls.py).
    """
    flow = app.extensions["ivr"].flow
    assert {opt.digits for opt in flow.node("main_menu").options} == {"1", "2", "3", "4", "0", "9"}
    offered = {opt.digits for opt in flow.node("after_hours_menu").options if not opt.unlisted}
    assert offered == {"1", "2", "3", "9"}
    assert {opt.digits for opt in flow.node("after_hours_menu").options if opt.unlisted} == {"0"}


def test_menu_repeat_with_nine(phone):
    call = open_menu(phone)
    call.press("9")
    assert call.heard()[-2:] == [MAIN_MENU_EN, MAIN_MENU_EN]


# ---- hours ---------------------------------------------------------------------------------------

CLOSED_TIMES = {
    "christmas": ((2026, 12, 25, 10, 0), CLOSED_HOLIDAY_EN.format(opening="on Monday, December 28 at 8 AM")),
    "saturday": ((2026, 12, 5, 11, 0), CLOSED_INTRO_EN.format(opening="on Monday, December 7 at 8 AM")),
    "night": ((2026, 12, 1, 20, 0), CLOSED_INTRO_EN.format(opening="tomorrow at 8 AM")),
    "early morning": ((2026, 12, 1, 7, 59), CLOSED_INTRO_EN.format(opening="today at 8 AM")),
    "closing time": ((2026, 12, 1, 17, 0), CLOSED_INTRO_EN.format(opening="tomorrow at 8 AM")),
    "day after thanksgiving": ((2026, 11, 27, 10, 0),
                               CLOSED_HOLIDAY_EN.format(opening="on Monday, November 30 at 8 AM")),
    "lincoln's birthday": ((2026, 2, 12, 10, 0), CLOSED_HOLIDAY_EN.format(opening="tomorrow at 8 AM")),
}


@pytest.mark.parametrize(("when", "intro"), CLOSED_TIMES.values(), ids=CLOSED_TIMES.keys())
def test_after_hours_call_in_english(phone, clock, when, intro):
    clock.set(*when)
    call = phone()
    call.press("1")
    assert call.heard()[GREETED:] == [intro, CLOSED_MENU_EN]
    assert MAIN_MENU_EN not in call.heard()


def test_after_hours_call_in_spanish(phone, clock):
    clock.set(2026, 12, 1, 20, 0)
    call = phone()
    call.press("2")
    assert call.heard()[GREETED:] == [CLOSED_INTRO_ES.format(opening="mañana a las 8 de la mañana"), CLOSED_MENU_ES]


def test_holiday_call_in_spanish(phone, clock):
    clock.set(2026, 12, 25, 10, 0)
    call = phone()
    call.press("2")
    assert call.heard()[GREETED:] == [CLOSED_HOLIDAY_ES.format(opening="el lunes 28 de diciembre a las 8 de la mañana"),
                                CLOSED_MENU_ES]
    assert {(v, lang) for _, v, lang in says(last_document(call))} == {VOICE_ES}


@pytest.mark.parametrize("when", [(2026, 12, 1, 8, 0), (2026, 12, 1, 16, 59), (2026, 12, 4, 12, 0)])
def test_open_hours_reach_the_main_menu(phone, clock, when):
    clock.set(*when)
    call = phone()
    call.press("1")
    assert call.heard()[-1] == MAIN_MENU_EN


# 0 and "representative" after hours answer with the hours: tests/voice/test_after_hours_calls.py.
@pytest.mark.parametrize("key", ["4"])
def test_after_hours_menu_never_offers_staff(phone, clock, key):
    clock.set(2026, 12, 1, 20, 0)
    call = phone()
    call.press("1")
    assert "representative" not in call.heard()[-1] and "department" not in call.heard()[-1]
    call.press(key)
    assert call.heard()[-2:] == [RETRY_EN, CLOSED_MENU_EN]
    assert not lines(call, "enqueue") and not lines(call, "dial")


def test_after_hours_information_and_back(phone, clock):
    clock.set(2026, 12, 5, 11, 0)
    call = phone()
    call.press("1")
    call.press("3")
    assert call.heard()[-1] == INFO_MENU_EN
    call.press("*")
    assert call.heard()[-1] == CLOSED_MENU_EN  # "main menu" after hours is the after-hours menu


def test_emergency_closure_is_announced_and_ended(phone, db):
    start_closure(db, "City offices are closed because of snow.", "Las oficinas están cerradas por la nieve.",
                  by="test")
    db.commit()
    call = phone()
    call.press("1")
    assert call.heard()[GREETED:] == [
        "311 is closed now because of an emergency closure. City offices are closed because of snow. "
        f"Our regular hours are {HOURS_EN}. If this is a police, fire or medical emergency, hang up and call 9-1-1.",
        CLOSED_MENU_EN,
    ]
    call.press("3")
    call.press("6")  # current announcements (unlisted in the first list, still its key): the closure message
    assert call.heard()[-2:] == ["City offices are closed because of snow.", INFO_MORE_EN]

    spanish = phone()
    spanish.press("2")
    assert spanish.heard()[GREETED].startswith(
        "El 311 está cerrado en este momento por un cierre de emergencia. Las oficinas están cerradas por la nieve.")

    assert end_closure(db, by="test") == 1
    db.commit()
    reopened = phone()
    reopened.press("1")
    assert reopened.heard()[-1] == MAIN_MENU_EN


def test_emergency_closure_without_a_message(phone, db):
    start_closure(db, None, None, by="test")
    db.commit()
    call = phone()
    call.press("1")
    assert call.heard()[GREETED] == ("311 is closed now because of an emergency closure. "
                               f"Our regular hours are {HOURS_EN}. "
                               "If this is a police, fire or medical emergency, hang up and call 9-1-1.")


# ---- silence and wrong keys ----------------------------------------------------------------------

def test_three_silences_at_the_main_menu_reach_a_representative_when_open(phone, db):
    call = open_menu(phone)
    for _ in range(3):
        call.silence()
    assert call.heard()[GREETED + 1:] == [RETRY_EN, MAIN_MENU_EN, RETRY_EN, MAIN_MENU_EN, RETRY_EN, REP_EN]
    assert lines(call, "enqueue") == ["hartford311-en"]
    assert call.ended
    assert call_row(db, call).outcome == "representative_answered"


def test_three_silences_after_hours_say_goodbye_with_the_911_reminder(phone, clock, db):
    clock.set(2026, 12, 25, 10, 0)
    call = phone()
    call.press("1")
    for _ in range(3):
        call.silence()
    assert call.heard()[GREETED + 2:] == [RETRY_EN, CLOSED_MENU_EN, RETRY_EN, CLOSED_MENU_EN, RETRY_EN,
                                             CLOSED_GOODBYE_EN]
    assert call.transcript[-1].kind == "hangup" and call.ended
    assert not lines(call, "enqueue")
    assert call_row(db, call).outcome == "too_many_tries"


def test_three_silences_after_hours_in_spanish(phone, clock):
    clock.set(2026, 12, 1, 22, 0)
    call = phone()
    call.press("2")
    for _ in range(3):
        call.silence()
    assert call.heard()[-2:] == [RETRY_ES, CLOSED_GOODBYE_ES]
    assert call.ended


def test_wrong_keys_reprompt_at_most_three_times(phone):
    call = open_menu(phone)
    call.press("7")
    assert call.heard()[-2:] == [RETRY_EN, MAIN_MENU_EN]
    call.press("8")
    assert call.heard()[-2:] == [RETRY_EN, MAIN_MENU_EN]
    assert query(last_document(call).find("Gather").get("action"))["attempt"] == "3"
    call.press("5")
    assert call.heard()[-2:] == [RETRY_EN, REP_EN]
    assert call.heard().count(RETRY_EN) == 3 and call.heard().count(MAIN_MENU_EN) == 3
    assert call.ended


def test_wrong_keys_in_spanish(phone):
    call = open_menu(phone, "es")
    call.press("8")
    assert call.heard()[-2:] == [RETRY_ES, MAIN_MENU_ES]


def test_silence_and_wrong_keys_count_together(phone):
    call = open_menu(phone)
    call.press("7")
    call.silence()
    call.say("banana")
    assert call.heard()[-2:] == [RETRY_EN, REP_EN]


def test_a_good_choice_resets_the_count(phone):
    call = open_menu(phone)
    call.press("7")
    call.press("7")
    call.press("9")  # repeat: the menu starts over at attempt 1
    assert query(last_document(call).find("Gather").get("action"))["attempt"] == "1"
    call.press("7")
    assert call.heard()[-2:] == [RETRY_EN, MAIN_MENU_EN]
    assert not call.ended


def test_too_many_wrong_keys_at_the_greeting_go_on_in_english(phone):
    call = phone()
    for key in "789":
        call.press(key)
    assert call.heard()[-3:] == [RETRY_EN, RETRY_ES, MAIN_MENU_EN]  # no language chosen yet: apologise in both


@pytest.mark.parametrize(("lang", "closed"), [("en", False), ("es", False), ("en", True), ("es", True)])
def test_a_silent_caller_is_never_kept_forever(phone, clock, lang, closed):
    if closed:
        clock.set(2026, 12, 5, 11, 0)
    call = phone()
    for _ in range(10):
        if call.ended:
            break
        call.silence()
    assert call.ended, format_transcript(call)
    assert len(call.requests) <= 10
    if lang == "en" and closed:
        assert call.heard()[-1] == CLOSED_GOODBYE_EN


def test_a_silent_caller_with_no_representative_available_is_not_kept_forever(phone):
    call = phone(queue_result="queue-full")
    for _ in range(40):
        if call.ended:
            break
        call.silence()
    assert call.ended, format_transcript(call)
    assert call.heard()[-1] == CLOSED_GOODBYE_EN
    assert len(call.requests) < 30


# ---- emergency words -----------------------------------------------------------------------------

def test_emergency_words_in_english_interrupt_and_return_to_the_menu(phone, db):
    call = open_menu(phone)
    call.say("there is a fire")
    assert call.heard()[-2:] == [EMERGENCY_EN, MAIN_MENU_EN]
    logged = db.scalars(select(CallTurn).where(CallTurn.event == "emergency")).all()
    assert [(turn.node, turn.input) for turn in logged] == [("main_menu", "speech:there is a fire")]
    assert last_document(call).find("Gather") is not None and not call.ended
    call.press("3")
    assert call.heard()[-1] == INFO_MENU_EN  # the menu still works afterwards
    recorded = turns(db, call)[2]
    assert (recorded.node, recorded.input) == ("main_menu", "speech:there is a fire")


def test_emergency_words_in_spanish_interrupt_and_return_to_the_menu(phone):
    call = open_menu(phone, "es")
    call.say("hay un incendio")
    assert call.heard()[-2:] == [EMERGENCY_ES, MAIN_MENU_ES]
    assert says(last_document(call))[0] == (EMERGENCY_ES, *VOICE_ES)


@pytest.mark.parametrize("speech", ["¡EMERGÉNCIA!", "someone is bleeding", "my neighbour is not breathing",
                                    "I smell a gas leak", "no respira", "hay humo"])
def test_emergency_phrases_and_accents(phone, speech):
    call = open_menu(phone)
    call.say(speech)
    assert call.heard()[-2:] == [EMERGENCY_EN, MAIN_MENU_EN]


@pytest.mark.parametrize("speech", ["firefly", "fireworks permit", "information"])
def test_words_that_only_contain_an_emergency_word_do_not_interrupt(phone, speech):
    call = open_menu(phone)
    call.say(speech)
    assert EMERGENCY_EN not in call.heard()


def test_emergency_at_the_greeting_warns_in_both_languages(phone):
    call = phone()
    call.say("fire")
    assert call.heard()[GREETED:] == [EMERGENCY_EN, EMERGENCY_ES, *GREETING]
    # Said again at the same prompt, it is an ordinary answer: never a second advisory (a loop with no way out).
    call.say("hay un incendio")
    assert call.heard()[-GREETED:] == GREETING and EMERGENCY_EN not in call.heard()[GREETED + 2:]


def test_emergency_at_the_information_menu(phone):
    call = open_menu(phone)
    call.press("3")
    call.say("someone has a gun")
    assert call.heard()[-2:] == [EMERGENCY_EN, INFO_MENU_EN]


def test_emergency_at_the_after_hours_menu(phone, clock):
    clock.set(2026, 12, 25, 10, 0)
    call = phone()
    call.press("2")
    call.say("emergencia")
    assert call.heard()[-2:] == [EMERGENCY_ES, CLOSED_MENU_ES]


def test_emergency_at_the_department_no_answer_menu(phone):
    call = open_menu(phone)
    call.press("4")
    call.press("1")
    call.say("there is smoke")
    assert call.heard()[-2:] == [EMERGENCY_EN, NO_ANSWER_DPW_EN]


def test_emergency_interrupt_keeps_the_attempt(phone):
    call = open_menu(phone)
    call.press("7")
    call.press("7")
    call.say("fire")
    assert query(last_document(call).find("Gather").get("action"))["attempt"] == "3"
    call.press("7")
    assert call.heard()[-2:] == [RETRY_EN, REP_EN]


# ---- speech navigation ---------------------------------------------------------------------------

@pytest.mark.parametrize(("lang", "speech", "heard", "queue"), [
    ("en", "representative", REP_EN, "hartford311-en"),
    ("en", "I want to talk to a person", REP_EN, "hartford311-en"),
    ("es", "representante", REP_ES, "hartford311-es"),
    ("es", "quiero hablar con alguien", REP_ES, "hartford311-es"),
    ("en", "representante", REP_EN, "hartford311-en"),  # the other language's word still works
])
def test_asking_for_a_representative_by_speech(phone, lang, speech, heard, queue):
    call = open_menu(phone, lang)
    call.say(speech)
    assert call.heard()[-1] == heard
    assert lines(call, "enqueue") == [queue]


@pytest.mark.parametrize(("lang", "speech"), [("es", "información"), ("es", "Información, por favor"),
                                              ("en", "information"), ("en", "press three"), ("es", "oprima tres")])
def test_information_by_speech(phone, lang, speech):
    call = open_menu(phone, lang)
    call.say(speech)
    expected = INFO_MENU_EN if lang == "en" else None
    if expected:
        assert call.heard()[-1] == expected
    else:
        assert call.heard()[-1].startswith(INFO_MENU_ES_START)


def test_departments_by_speech(phone):
    call = open_menu(phone)
    call.say("department")
    assert call.heard()[-len(DEPARTMENTS_EN):] == DEPARTMENTS_EN
    call.say("public works")
    assert call.heard()[-2:] == [CONNECTING_DPW_EN, NO_ANSWER_DPW_EN]
    assert lines(call, "dial") == ["+18605550110"]


def test_menu_gathers_carry_hints_in_the_callers_language(phone):
    call = open_menu(phone)
    hints = last_document(call).find("Gather").get("hints").split(", ")
    assert {"representative", "status", "information"} <= set(hints)
    assert "representante" not in hints


# ---- departments ---------------------------------------------------------------------------------

def test_department_transfer_not_answered(phone, db):
    call = open_menu(phone)
    call.press("4")
    assert call.heard()[-len(DEPARTMENTS_EN):] == DEPARTMENTS_EN
    call.press("1")
    assert call.heard()[-2:] == [CONNECTING_DPW_EN, NO_ANSWER_DPW_EN]
    dial = last_with(call, "Dial")
    assert dial.get("timeout") == "25"
    assert query(dial.get("action")) == {"node": "department_transfer", "lang": "en", "attempt": "1",
                                         "event": "dial"}
    assert [n.text for n in dial.findall("Number")] == ["+18605550110"]
    assert call_row(db, call).answers.get("departments") == "dpw"

    call.next_dial_result = "completed"
    call.press("1")  # try again: answered this time
    assert call.heard()[-1] == CONNECTING_DPW_EN
    assert call.ended and lines(call, "event")[-1] == "dial result: completed"
    assert call_row(db, call).outcome == "transfer_completed:department"


def test_department_transfer_answered_ends_the_call(phone):
    call = open_menu(phone)
    call.press("4")
    call.next_dial_result = "completed"
    call.press("3")
    assert call.heard()[-1] == "Connecting you to Health and Human Services. Please hold."
    assert lines(call, "dial") == ["+18605550130"]
    assert call.ended and call.transcript[-1].kind == "hangup"


@pytest.mark.parametrize("result", ["busy", "failed", "no-answer"])
def test_department_unanswered_then_representative(phone, result):
    call = open_menu(phone)
    call.press("4")
    call.next_dial_result = result
    call.press("1")
    assert call.heard()[-1] == NO_ANSWER_DPW_EN
    call.press("0")
    assert call.heard()[-1] == REP_EN
    assert lines(call, "enqueue") == ["hartford311-en"]


def test_department_no_answer_back_to_the_main_menu(phone):
    call = open_menu(phone)
    call.press("4")
    call.press("1")
    call.press("9")
    assert call.heard()[-1] == MAIN_MENU_EN


def test_department_transfer_in_spanish(phone):
    call = open_menu(phone, "es")
    call.press("4")
    assert "Para Obras Públicas, oprima 1." in call.heard()
    call.press("1")
    assert call.heard()[-2] == CONNECTING_DPW_ES
    assert call.heard()[-1].startswith("Lo siento, nadie en Obras Públicas pudo atender su llamada.")


def test_department_menu_star_goes_back(phone):
    call = open_menu(phone)
    call.press("4")
    call.press("*")
    assert call.heard()[-1] == MAIN_MENU_EN


# ---- representatives -----------------------------------------------------------------------------

@pytest.mark.parametrize(("lang", "prompt", "queue"), [("en", REP_EN, "hartford311-en"),
                                                       ("es", REP_ES, "hartford311-es")])
def test_representative_queue_by_language(phone, db, lang, prompt, queue):
    call = open_menu(phone, lang)
    call.press("0")
    assert call.heard()[-1] == prompt
    enqueue = last_with(call, "Enqueue")
    assert enqueue.text == queue
    assert enqueue.find("Task") is None and enqueue.get("workflowSid") is None
    assert query(enqueue.get("action")) == {"node": "representative_queue", "lang": lang, "attempt": "1",
                                            "event": "queue"}
    assert urlsplit(enqueue.get("waitUrl")).path == "/voice/wait" and query(enqueue.get("waitUrl")) == {"lang": lang}
    assert call.ended
    assert call_row(db, call).outcome == "representative_answered"


@pytest.mark.parametrize("result", ["queue-full", "error", "system-error"])
def test_representative_queue_failure_returns_to_the_menu(phone, result):
    call = open_menu(phone)
    call.next_queue_result = result
    call.press("0")
    assert call.heard()[-3:] == [REP_EN, REP_UNAVAILABLE_EN, MAIN_MENU_EN]
    assert not call.ended


@pytest.mark.parametrize("app", [{"routing": {"representative": {"workflow_sid": "WW" + "a" * 32}}}], indirect=True)
@pytest.mark.parametrize(("lang", "language", "skill"), [("es", "es", "spanish"), ("en", "en", "english")])
def test_taskrouter_task_carries_the_callers_language(phone, lang, language, skill):
    call = open_menu(phone, lang)
    call.press("0")
    enqueue = last_with(call, "Enqueue")
    assert enqueue.get("workflowSid") == "WW" + "a" * 32
    assert not (enqueue.text or "").strip()
    task = json.loads(enqueue.find("Task").text)
    assert task["selected_language"] == language and task["skill"] == skill and task["route"] == "311"


@pytest.mark.parametrize("app", [{"routing": {"representative": {"mode": "dial"}}}], indirect=True)
@pytest.mark.parametrize(("lang", "number"), [("en", "+18605550100"), ("es", "+18605550101")])
def test_representative_by_dial(phone, db, lang, number):
    call = open_menu(phone, lang)
    call.next_dial_result = "completed"
    call.press("0")
    dial = last_with(call, "Dial")
    assert [n.text for n in dial.findall("Number")] == [number]
    assert dial.get("timeout") == "30"
    assert query(dial.get("action"))["event"] == "dial"
    assert not lines(call, "enqueue")
    assert call.ended
    assert call_row(db, call).outcome == "representative_answered"


@pytest.mark.parametrize("app", [{"routing": {"representative": {"mode": "dial"}}}], indirect=True)
def test_representative_by_dial_not_answered(phone):
    call = open_menu(phone)
    call.press("0")
    assert call.heard()[-3:] == [REP_EN, REP_UNAVAILABLE_EN, MAIN_MENU_EN]


# ---- interpretation ------------------------------------------------------------------------------

ASKED = GREETED + len(LANGUAGE_MENU)  # after 3 the offered languages are read again, each with a key of its own


def test_interpretation_without_twilio_credentials_goes_to_a_representative(phone):
    # The three-way call itself is tested in tests/voice/test_interpretation_calls.py.
    call = phone()
    call.press("3")
    call.silence()  # no language chosen from the offered ones: the interpreter all the same
    assert call.heard()[ASKED:ASKED + 2] == [INTERPRETER_UNREACHABLE_EN, INTERPRETER_UNREACHABLE_ES]
    call.press("0")  # wait for a representative rather than leave a message
    assert call.heard()[-1] == REP_EN
    assert lines(call, "enqueue") == ["hartford311-en"]


def test_interpretation_after_hours(phone, clock):
    clock.set(2026, 12, 25, 10, 0)
    call = phone()
    call.press("3")
    call.silence()  # no language chosen from the offered ones: the interpreter all the same
    assert call.heard()[ASKED:] == [
        f"311 is closed now. Interpreters are available during our hours, {HOURS_EN}. "
        "If this is an emergency, hang up and dial 9-1-1.",
        f"El 311 está cerrado en este momento. Hay intérpretes disponibles durante nuestro horario, {HOURS_ES}. "
        "Si es una emergencia, cuelgue y marque 9-1-1.",
        "To leave a message in your language and have us call you back with an interpreter, press 1.",
        "Para dejar un mensaje en su idioma y que le llamemos con un intérprete, oprima 2.",
    ]
    assert not call.ended and not lines(call, "dial")
    call.silence()  # no message: goodbye in both languages (tests/voice/test_callbacks.py leaves one)
    assert call.heard()[-2:] == ["Thank you for calling Hartford 311. Goodbye.",
                                 "Gracias por llamar al 311 de Hartford. Adiós."]
    assert call.ended


# ---- what is stored ------------------------------------------------------------------------------

@pytest.mark.parametrize(("to", "route"), [("311", "311"), ("ten-digit", "ten-digit"), ("+18605559999", "unknown")])
def test_route_is_recorded(phone, db, to, route):
    call = phone(to=to, from_="+18605550177")
    row = call_row(db, call)
    assert row.route == route
    assert row.from_number == "+18605550177"
    assert row.to_number == call.sim.to


def test_turns_are_stored(phone, db):
    call = phone()
    call.press("2")
    call.say("información")
    call.silence()
    call.hangup()
    rows = [(t.node, t.event, t.input) for t in turns(db, call)]
    assert rows == [
        ("(arrival)", "start", None),
        ("start", "gather", "2"),
        ("main_menu", "gather", "speech:información"),
        ("info_menu", "silence", None),
    ]
    assert [t.next_node for t in turns(db, call)][:3] == ["start", "main_menu", "info_menu"]
    assert call_row(db, call).language == "es"


def test_dial_results_are_stored_as_turns(phone, db):
    call = open_menu(phone)
    call.press("4")
    call.next_dial_result = "busy"
    call.press("1")
    last = turns(db, call)[-1]
    assert (last.node, last.event, last.input) == ("department_transfer", "dial", "busy")


def test_status_callback_stores_final_status_and_duration(phone, db):
    call = phone()
    call.press("1")
    call.hangup()
    status = call.requests[-1]
    assert urlsplit(status.url).path == "/voice/status" and status.status == 200
    root = ET.fromstring(status.body)
    assert root.tag == "Response" and len(root) == 0 and not (root.text or "").strip()
    row = call_row(db, call)
    assert row.final_status == "completed"
    assert row.duration_seconds == 10  # the simulator's 5 seconds per request, two requests
    assert row.ended_at is not None
    assert row.outcome == "caller_hung_up"


def test_status_callback_keeps_the_outcome_of_the_call(phone, db):
    call = open_menu(phone)
    call.press("0")
    assert call_row(db, call).outcome == "representative_answered"


def test_one_call_row_per_call(phone, db):
    call = phone()
    call.press("1")
    call.press("3")
    call.silence()  # no language chosen from the offered ones: the interpreter all the same
    call.hangup()
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(Call)) == 1


def test_status_for_an_unknown_call_is_stored(app, db):
    answer = signed_post(app, "/voice/status", {"CallSid": "CA" + "9" * 32, "CallStatus": "busy",
                                                "CallDuration": "", "To": "+18607579311"})
    assert answer.status_code == 200
    row = db.scalars(select(Call).where(Call.call_sid == "CA" + "9" * 32)).one()
    assert (row.final_status, row.duration_seconds, row.route) == ("busy", None, "ten-digit")


# ---- plumbing for direct webhook requests --------------------------------------------------------

def signed_post(app, path: str, params: dict):
    """POST a webhook to the app signed as Twilio would sign it for http://localhost."""
    url = "http://localhost" + path
    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, params)
    return app.test_client().post(path, data=params, headers={"X-Twilio-Signature": signature})
