"""Whole calls through the simulator: the 911 advisory for emergency situations (issue 7, part B).

Look-alikes ("the fire hydrant is leaking") go through without it, emergencies the old word list missed ("someone
is breaking into the house next door right now") get it, and it is never a trap: the same words said again at
the same prompt are an ordinary answer, and 1 (at a question) or the menu's own keys lead on.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ivr.models import Call, CallTurn
from ivr.simulator import WsgiTransport, format_transcript

BOTH = pytest.mark.parametrize("lang", ["en", "es"])
LANGUAGE_KEY = {"en": "1", "es": "2"}

# Ours, word for word (prompts/*.yaml: common.emergency_menu, common.emergency).
ADVISORY_MENU = {
    "en": "If this is a police, fire or medical emergency, hang up now and dial 9-1-1. "
          "If it is not an emergency, keep talking or choose from the menu.",
    "es": "Si es una emergencia de policía, bomberos o médica, cuelgue ahora y marque 9-1-1. "
          "Si no es una emergencia, siga hablando o elija una opción del menú.",
}
ADVISORY_QUESTION = {
    "en": "If this is a police, fire or medical emergency, hang up now and dial 9-1-1. "
          "If it is not an emergency, keep talking or press 1 to go on.",
    "es": "Si es una emergencia de policía, bomberos o médica, cuelgue ahora y marque 9-1-1. "
          "Si no es una emergencia, siga hablando u oprima 1 para continuar.",
}
# Other people's prompts, by their opening words only.
MAIN_MENU = {"en": "Say what you need, or press 1", "es": "Diga lo que necesita, u oprima 1"}
DESCRIPTION_ASK = {
    "en": "In a few words, please describe the problem. To leave a recorded message instead, press 1.",
    "es": "En pocas palabras, describa el problema. Para dejar un mensaje grabado, oprima 1.",
}
REPORT_TYPE_ASK = {"en": "What would you like to report?", "es": "¿Qué desea reportar?"}
POTHOLE = {"en": "there's a pothole", "es": "hay un bache en mi calle"}
ADDRESS = {"en": "45 Park Terrace", "es": "calle Park Terrace número 45"}

# What callers say.
HYDRANT = {"en": "the fire hydrant on my street is leaking", "es": "la boca de incendios está goteando"}
BREAK_IN = {"en": "someone is breaking into the house next door right now",
            "es": "están robando en la casa de al lado"}
SMOKE = {"en": "there's smoke coming out of the building next door", "es": "sale humo del edificio de al lado"}
FIRE = {"en": "my kitchen is on fire", "es": "mi cocina se está quemando"}


# ---- helpers -------------------------------------------------------------------------------------

class Ear:
    """What a call hears from now on."""

    def __init__(self, call):
        self.call = call
        self.start = len(call.heard())

    def new(self) -> list[str]:
        """Heard since the last look."""
        heard = self.call.heard()[self.start:]
        self.start = len(self.call.heard())
        return heard


def do(call, action: str, *args) -> list[str]:
    """Press/say/silence and return only what was heard in answer."""
    ear = Ear(call)
    getattr(call, action)(*args)
    return ear.new()


def main_menu(phone, lang: str):
    """Dial and choose a language (open hours)."""
    call = phone()
    assert do(call, "press", LANGUAGE_KEY[lang])[-1].startswith(MAIN_MENU[lang]), format_transcript(call)
    return call


def at_description(phone, lang: str):
    """A pothole report, up to the question that asks for a description."""
    call = main_menu(phone, lang)
    do(call, "press", "1")
    do(call, "say", POTHOLE[lang])
    do(call, "say", ADDRESS[lang])
    assert do(call, "press", "1") == [DESCRIPTION_ASK[lang]], format_transcript(call)
    return call


def emergency_turns(db, call) -> list[tuple[str, str]]:
    """(node, input) of the turns logged as emergencies on this call."""
    row = db.scalars(select(Call).where(Call.call_sid == call.call_sid)).one()
    turns = db.scalars(select(CallTurn).where(CallTurn.call_id == row.id, CallTurn.event == "emergency")
                       .order_by(CallTurn.id)).all()
    return [(turn.node, turn.input) for turn in turns]


def last_turn(db, call) -> tuple[str, str, str]:
    """(node, event, input) of the call's latest turn taken at a prompt."""
    row = db.scalars(select(Call).where(Call.call_sid == call.call_sid)).one()
    turn = db.scalars(select(CallTurn).where(CallTurn.call_id == row.id, CallTurn.input.like("speech:%"))
                      .order_by(CallTurn.id.desc())).first()
    return turn.node, turn.event, turn.input


def answers(db, call) -> dict:
    """The call's stored answers, fresh from the database."""
    db.expire_all()
    return db.scalars(select(Call).where(Call.call_sid == call.call_sid)).one().answers


def said_description(heard: list[str], text: str, lang: str) -> bool:
    """The summary read back the caller's words as the description."""
    label = "Description" if lang == "en" else "Descripción"
    return any(f"{label}: {text}." in line for line in heard)


# ---- look-alikes that used to trap the caller ----------------------------------------------------

@BOTH
def test_a_hydrant_report_at_the_description_is_taken_as_the_description(phone, db, lang):
    call = at_description(phone, lang)
    heard = do(call, "say", HYDRANT[lang])
    assert ADVISORY_QUESTION[lang] not in heard and ADVISORY_MENU[lang] not in heard
    assert said_description(heard, HYDRANT[lang], lang), format_transcript(call)
    assert emergency_turns(db, call) == []


@BOTH
def test_a_hydrant_report_at_the_main_menu_gets_no_advisory(phone, db, lang):
    call = main_menu(phone, lang)
    heard = do(call, "say", HYDRANT[lang])
    assert ADVISORY_MENU[lang] not in heard, format_transcript(call)
    assert emergency_turns(db, call) == [] and not call.ended


@pytest.mark.parametrize(("lang", "speech"), [
    ("en", "I need help with a hole in the road"),
    ("en", "can you help me report a broken streetlight"),
    ("en", "there was a fire last year in the house next door and now it's full of rats"),
    ("es", "necesito ayuda con un hoyo en la calle"),
    ("es", "la semana pasada me robaron el carro y lo dejaron en mi calle"),
])
def test_words_of_a_311_request_get_no_advisory(phone, db, lang, speech):
    call = main_menu(phone, lang)
    assert ADVISORY_MENU[lang] not in do(call, "say", speech)
    assert emergency_turns(db, call) == []


# ---- emergencies the word list missed -------------------------------------------------------------

@BOTH
def test_a_break_in_in_progress_at_the_main_menu_gets_the_advisory_then_the_menu(phone, db, lang):
    call = main_menu(phone, lang)
    heard = do(call, "say", BREAK_IN[lang])
    assert heard[0] == ADVISORY_MENU[lang] and heard[1].startswith(MAIN_MENU[lang]), format_transcript(call)
    assert emergency_turns(db, call) == [("main_menu", f"speech:{BREAK_IN[lang]}")]
    assert not call.ended


@BOTH
def test_a_break_in_in_progress_at_a_question_gets_the_advisory_alone(phone, db, lang):
    call = at_description(phone, lang)
    assert do(call, "say", BREAK_IN[lang]) == [ADVISORY_QUESTION[lang]]
    assert emergency_turns(db, call) == [("report_description", f"speech:{BREAK_IN[lang]}")]
    assert answers(db, call).get("description") is None  # not taken as the description


def test_the_greeting_warns_in_both_languages_then_the_choice_goes_on(phone, db):
    call = phone()
    greeting = call.heard()
    heard = do(call, "say", FIRE["es"])
    assert heard == [ADVISORY_MENU["en"], ADVISORY_MENU["es"], *greeting]
    assert do(call, "press", "2")[-1].startswith(MAIN_MENU["es"])


# ---- never a trap -------------------------------------------------------------------------------

@BOTH
def test_the_same_emergency_said_twice_at_a_question_is_taken_as_the_answer(phone, db, lang):
    call = at_description(phone, lang)
    assert do(call, "say", SMOKE[lang]) == [ADVISORY_QUESTION[lang]]
    heard = do(call, "say", SMOKE[lang])
    assert ADVISORY_QUESTION[lang] not in heard
    assert said_description(heard, SMOKE[lang], lang), format_transcript(call)
    assert len(emergency_turns(db, call)) == 1


@BOTH
def test_the_same_emergency_said_twice_at_a_menu_leads_on(phone, db, lang):
    call = main_menu(phone, lang)
    assert do(call, "say", BREAK_IN[lang])[0] == ADVISORY_MENU[lang]
    heard = do(call, "say", BREAK_IN[lang])
    assert ADVISORY_MENU[lang] not in heard and heard, format_transcript(call)
    # Taken as the menu's answer (today "someone" names a person to talk to), logged as an ordinary turn.
    assert len(emergency_turns(db, call)) == 1
    assert last_turn(db, call) == ("main_menu", "gather", f"speech:{BREAK_IN[lang]}")


@BOTH
def test_pressing_1_after_the_advisory_at_a_question_asks_it_again(phone, db, lang):
    call = at_description(phone, lang)
    do(call, "say", SMOKE[lang])
    assert do(call, "press", "1") == [DESCRIPTION_ASK[lang]]
    # From here 1 is the question's own key again: a recorded message instead of words.
    do(call, "press", "1")
    assert call.pending_verb == "Record"


def test_silence_after_the_advisory_asks_the_question_again_without_an_apology(phone):
    call = at_description(phone, "en")
    do(call, "say", FIRE["en"])
    assert do(call, "silence") == [DESCRIPTION_ASK["en"]]


def test_saying_one_after_the_advisory_goes_on_like_pressing_it(phone):
    call = at_description(phone, "es")
    do(call, "say", FIRE["es"])
    assert do(call, "say", "uno") == [DESCRIPTION_ASK["es"]]


@BOTH
def test_pressing_1_after_the_advisory_at_a_menu_is_the_menus_own_1(phone, lang):
    call = main_menu(phone, lang)
    do(call, "say", BREAK_IN[lang])
    assert do(call, "press", "1")[0].startswith(REPORT_TYPE_ASK[lang])


def test_the_advisory_keeps_the_attempt_at_a_question(phone):
    call = at_description(phone, "en")
    do(call, "say", SMOKE["en"])
    gather = call.last_gather
    assert "attempt=1" in gather["action"] and gather["numDigits"] == "1"


def test_the_advisory_given_is_stored_with_the_call_so_any_worker_takes_the_next_turn(phone, make_app, db):
    call = at_description(phone, "en")
    do(call, "say", SMOKE["en"])
    assert answers(db, call)["emergency_advised"] == {"node": "report_description", "awaiting": True}
    # The next turn reaches another worker: a second app on the same database, nothing shared in memory.
    call.sim.transport = WsgiTransport(make_app().test_client())
    heard = do(call, "say", SMOKE["en"])
    assert said_description(heard, SMOKE["en"], "en"), format_transcript(call)
    assert answers(db, call)["emergency_advised"] == {"node": "report_description", "awaiting": False}


def test_an_emergency_after_leaving_the_prompt_and_coming_back_is_advised_again(phone, db):
    call = main_menu(phone, "en")
    do(call, "say", BREAK_IN["en"])
    do(call, "press", "3")  # city information ...
    assert do(call, "press", "*")[-1].startswith(MAIN_MENU["en"])  # ... and back to the main menu
    assert do(call, "say", FIRE["en"])[0] == ADVISORY_MENU["en"]
    assert [node for node, _ in emergency_turns(db, call)] == ["main_menu", "main_menu"]
