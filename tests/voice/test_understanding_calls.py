"""Whole calls through the simulator: what callers say at "What would you like to report?" (issue 7, part A).

A type named clearly is named back, a close call is confirmed, words that name nothing get the list and then
"another problem" in the caller's own words; never a type the caller did not name or confirm. In English and
Spanish, with the case rows each call leaves behind.
"""

from __future__ import annotations

import pytest

from tests.voice.test_case_calls import WORDS, call_row, do, main_menu, no_cases, only_case

BOTH = pytest.mark.parametrize("lang", ["en", "es"])

SAY = {
    "en": {
        "location_ask": "Where is the problem? Say the street address or the nearest intersection. "
                        "If it has no fixed location, press 0.",
        "pickup_ask": "Where should we pick up the items? Say the street address.",
        "missed": "I didn't catch which problem that is.",
        "missed_open": "I didn't catch which problem that is. Choose from this list, or ask for a representative.",
        "confirm": "Is this about {spoken}? For yes, press 1. For no, press 2.",
        "chosen": "You're reporting {spoken}.",
        "other": "I'll take this as another problem, in your own words, and 311 will send it to the right "
                 "department.",
        "list": ["For missed trash or recycling, press 1.", "For a pothole, press 2.",
                 "For a streetlight that is out, press 3.", "For illegal dumping, press 4.",
                 "For no heat or hot water, press 5.", "For a fallen or dangerous tree, press 6.",
                 "For a bulky waste pickup, press 7.", "For noise or another problem, press 8.",
                 "To hear the list again, press 9. To go back, press star."],
        "bulky_name_ask": "For a bulky waste pickup, the department needs a name and a call-back number. "
                          "Please say your first and last name.",
        "summary_other": "Here is your request: noise or another problem. Location: {location}. "
                         "Description: {description}. To submit it, press 1. To start over, press 2. "
                         "To cancel, press 3.",
        "graffiti": "graffiti", "rodents": "rats or mice", "abandoned_vehicle": "an abandoned vehicle",
        "illegal_dumping": "illegal dumping", "missed_trash": "missed trash or recycling",
        "described": {
            "graffiti": "someone spray painted the side of my building",
            "rodents": "there's rats in the alley behind my house",
            "abandoned_vehicle": "a car has been parked on my street for weeks with no plates",
        },
        "slip": "grafitti on my garage",
        "no": "no",
        "misses": ["my landlord never fixes anything", "the water in the basement keeps coming back"],
        "question": "When is trash day on my street?",
        "main_menu_slip": "I want to report grafitti",
        "location": "45 Park Terrace",
        "description": "red letters on the brick",
    },
    "es": {
        "location_ask": "¿Dónde está el problema? Diga la dirección o la intersección más cercana. "
                        "Si no tiene un lugar fijo, oprima 0.",
        "pickup_ask": "¿Dónde debemos recoger los artículos? Diga la dirección.",
        "missed": "No entendí de qué problema se trata.",
        "missed_open": "No entendí de qué problema se trata. Elija de esta lista, o pida hablar con un representante.",
        "confirm": "¿Se trata de {spoken}? Para sí, oprima 1. Para no, oprima 2.",
        "chosen": "Usted está reportando {spoken}.",
        "other": "Lo registraré como otro problema, con sus propias palabras, y el 311 lo enviará al departamento "
                 "que corresponda.",
        "list": ["Para basura o reciclaje que no se recogió, oprima 1.", "Para un bache, oprima 2.",
                 "Para una luz de la calle apagada, oprima 3.", "Para basura tirada ilegalmente, oprima 4.",
                 "Para falta de calefacción o agua caliente, oprima 5.", "Para un árbol caído o peligroso, oprima 6.",
                 "Para la recogida de artículos voluminosos, oprima 7.", "Para ruido u otro problema, oprima 8.",
                 "Para escuchar la lista de nuevo, oprima 9. Para regresar, oprima asterisco."],
        "bulky_name_ask": "Para la recogida de artículos voluminosos necesitamos un nombre y un número de teléfono. "
                          "Por favor, diga su nombre y apellido.",
        "summary_other": "Esta es su solicitud: ruido u otro problema. Lugar: {location}. "
                         "Descripción: {description}. Para enviarla, oprima 1. Para empezar de nuevo, oprima 2. "
                         "Para cancelar, oprima 3.",
        "graffiti": "grafiti", "rodents": "ratas o ratones", "abandoned_vehicle": "un vehículo abandonado",
        "illegal_dumping": "basura tirada ilegalmente", "missed_trash": "basura o reciclaje que no se recogió",
        "described": {
            "graffiti": "pintaron grafiti en la pared de mi edificio",
            "rodents": "hay ratas en el callejón detrás de mi casa",
            "abandoned_vehicle": "hay un carro abandonado frente a mi casa sin tablillas",
        },
        "slip": "grafity en el buzón",
        "no": "no",
        "misses": ["mi casero nunca arregla nada", "el agua en el sótano sigue saliendo"],
        "question": "¿Cuándo pasa la basura por mi calle?",
        "main_menu_slip": "quiero reportar grafity",
        "location": "calle Park Terrace número 45",
        "description": "letras rojas en los ladrillos",
    },
}


def at_question(phone, lang: str):
    """Dial, choose the language, press 1: the caller hears 'What would you like to report?'."""
    call = main_menu(phone, lang)
    assert do(call, "press", "1") == [WORDS[lang]["type_intro"]]
    return call


def finish(call, lang: str, description: bool = True) -> list[str]:
    """Say where, confirm it, describe the problem (unless already described), submit: what was heard last."""
    say = SAY[lang]
    do(call, "say", say["location"])
    heard = do(call, "press", "1")
    if description:
        heard = do(call, "say", say["description"])
    assert heard[0].startswith(WORDS[lang]["summary"].split("{")[0]), heard
    return do(call, "press", "1")


# ---- a plain description gets its own type -------------------------------------------------------

@BOTH
@pytest.mark.parametrize("code", ["graffiti", "rodents", "abandoned_vehicle"])
def test_a_problem_described_in_words_is_named_back_and_filed_as_that_type(phone, db, lang, code):
    say = SAY[lang]
    call = at_question(phone, lang)

    heard = do(call, "say", say["described"][code])

    assert heard == [say["chosen"].format(spoken=say[code]), say["location_ask"]]
    finish(call, lang)
    case = only_case(db)
    assert case.service_type.code == code
    assert case.description == say["description"]


@pytest.mark.parametrize(("said", "code"), [("alguien tiró basura en el lote de al lado", "illegal_dumping"),
                                            ("tiraron bolsas de basura en la esquina", "illegal_dumping"),
                                            ("no pasaron por la basura", "missed_trash")])
def test_spanish_dumped_trash_is_dumping_and_a_missed_pickup_is_not(phone, db, said, code):
    say = SAY["es"]
    call = at_question(phone, "es")

    assert do(call, "say", said)[0] == say["chosen"].format(spoken=say[code])
    finish(call, "es")
    assert only_case(db).service_type.code == code


# ---- a close call is confirmed -------------------------------------------------------------------

@BOTH
def test_a_close_call_is_confirmed_and_yes_files_it(phone, db, lang):
    say = SAY[lang]
    call = at_question(phone, lang)

    assert do(call, "say", say["slip"]) == [say["confirm"].format(spoken=say["graffiti"])]
    assert no_cases(db) and "service_types" not in call_row(db, call).answers  # a guess is not a choice

    assert do(call, "press", "1") == [say["chosen"].format(spoken=say["graffiti"]), say["location_ask"]]
    finish(call, lang)
    assert only_case(db).service_type.code == "graffiti"


@BOTH
def test_no_at_the_confirmation_goes_back_to_the_question(phone, db, lang):
    say = SAY[lang]
    call = at_question(phone, lang)
    do(call, "say", say["slip"])

    assert do(call, "say", say["no"]) == [WORDS[lang]["type_intro"]]

    # The question is asked afresh: a clear answer now goes straight through.
    assert do(call, "say", say["described"]["rodents"])[0] == say["chosen"].format(spoken=say["rodents"])
    finish(call, lang)
    assert only_case(db).service_type.code == "rodents"


@BOTH
def test_a_question_about_a_problem_is_confirmed_not_filed(phone, db, lang):
    say = SAY[lang]
    call = at_question(phone, lang)

    assert do(call, "say", say["question"]) == [say["confirm"].format(spoken=say["missed_trash"])]
    call.hangup()
    assert no_cases(db)


@BOTH
def test_a_close_call_at_the_main_menu_is_confirmed_too(phone, db, lang):
    say = SAY[lang]
    call = main_menu(phone, lang)

    assert do(call, "say", say["main_menu_slip"]) == [say["confirm"].format(spoken=say["graffiti"])]
    assert do(call, "press", "2") == [WORDS[lang]["type_intro"]]


# ---- words that name nothing ---------------------------------------------------------------------

@BOTH
def test_two_misses_file_another_problem_in_the_callers_own_words(phone, db, lang):
    say = SAY[lang]
    first, second = say["misses"]
    call = at_question(phone, lang)

    assert do(call, "say", first) == [say["missed_open"], *say["list"]]
    assert do(call, "say", second) == [say["other"], say["location_ask"]]
    do(call, "say", say["location"])
    described = f"{first}; {second}"
    # The description is not asked for again: the caller's words are it.
    assert do(call, "press", "1") == [say["summary_other"].format(location=say["location"], description=described)]
    do(call, "press", "1")

    case = only_case(db)
    assert case.service_type.code == "noise_other"
    assert case.department.code == "311"
    assert case.description == described
    assert case.location == say["location"]
    assert (case.language, case.call_sid) == (lang, call.call_sid)


@BOTH
def test_the_list_is_read_on_request_with_articles_and_its_keys_work(phone, db, lang):
    say = SAY[lang]
    call = at_question(phone, lang)

    assert do(call, "press", "9") == say["list"]
    assert do(call, "press", "9") == say["list"]
    assert do(call, "press", "2")[0] == WORDS[lang]["chosen_pothole"]


def test_a_miss_then_a_clear_answer_at_the_list_goes_through(phone, db):
    say = SAY["en"]
    call = at_question(phone, "en")
    do(call, "say", say["misses"][0])

    assert do(call, "say", "there's a pothole on my street")[0] == WORDS["en"]["chosen_pothole"]
    finish(call, "en")
    assert only_case(db).service_type.code == "pothole"


# ---- bulky waste asks where to pick up -----------------------------------------------------------

@BOTH
def test_bulky_waste_asks_where_to_pick_the_items_up(phone, db, lang):
    say = SAY[lang]
    call = at_question(phone, lang)

    heard = do(call, "press", "7")

    assert heard[1] == say["pickup_ask"]  # not "where is the problem", and no "no fixed location" for a pickup
    assert call.pending_verb == "Gather"
    do(call, "say", say["location"])
    assert do(call, "press", "1") == [say["bulky_name_ask"]]


# ---- a person instead ----------------------------------------------------------------------------

@BOTH
def test_after_hours_a_miss_offers_only_the_list(phone, db, clock, lang):
    clock.set(2026, 12, 1, 22, 0)
    say = SAY[lang]
    call = phone()
    do(call, "press", {"en": "1", "es": "2"}[lang])
    assert do(call, "press", "1") == [WORDS[lang]["type_intro"]]

    assert do(call, "say", say["misses"][0]) == [say["missed"], *say["list"]]


def test_asking_for_a_person_at_the_question_ends_the_intake_and_queues(phone, db):
    call = at_question(phone, "en")

    heard = do(call, "say", "can I talk to a representative")

    assert heard == ["Please hold for the next available representative."]
    assert any(line.kind == "enqueue" for line in call.transcript)
    row = call_row(db, call)
    assert no_cases(db) and row.answers["intake_active"] is False and row.outcome != "abandoned_intake"


@pytest.mark.parametrize(("lang", "said"), [("en", "someone dumped a mattress in the alley"),
                                             ("es", "alguien tiró un colchón en el callejón")])
def test_a_report_that_mentions_someone_is_not_a_request_for_a_person(phone, db, lang, said):
    """'someone' / 'alguien' alone never sends a caller to the representatives' queue."""
    call = main_menu(phone, lang)
    do(call, "say", said)
    assert not any(line.kind == "enqueue" for line in call.transcript)
    assert call_row(db, call).outcome != "representative:" + lang


@pytest.mark.parametrize(("lang", "said", "code"), [
    ("en", "someone spray painted gang signs on the library wall", "graffiti"),
    ("es", "hay ratas en el callejón detrás de mi casa", "rodents"),
])
def test_a_problem_described_at_the_main_menu_is_a_report_of_that_type(phone, db, lang, said, code):
    """The main menu's 'report' choice also means every service type's words, so no 'didn't get that'."""
    call = main_menu(phone, lang)
    heard = do(call, "say", said)
    assert heard[0] == SAY[lang]["chosen"].format(spoken=SAY[lang][code])
    assert heard[1] == SAY[lang]["location_ask"]
