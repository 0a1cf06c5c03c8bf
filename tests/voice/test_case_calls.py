"""Whole calls through the simulator: reporting a problem (DESIGN §1 step 5) and checking a case (step 4),
in English and Spanish, with the database rows each call leaves behind."""

from __future__ import annotations

import base64
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, select
from twilio.request_validator import RequestValidator

from ivr import cases
from ivr.cases.numbers import case_number_for_serial
from ivr.models import Call, CallTurn, Case

HARTFORD = ZoneInfo("America/New_York")
CALLER = "+18605550123"  # the phone fixture's default caller ID
CALLER_SPOKEN = "8 6 0, 5 5 5, 0 1 2 3"
LANGUAGE_KEY = {"en": "1", "es": "2"}
SMS_FROM = "+18605550999"
ACCOUNT_SID = "AC" + "fedcba9876543210" * 2

# What the caller must hear, word for word, in each language.
WORDS = {
    "en": {
        "type_intro": "What would you like to report? Say it in a few words, for example, a pothole or missed "
                      "trash, or press 9 for the list of problems, or star to go back.",
        "chosen_no_heat": "You're reporting no heat or hot water.",
        "chosen_pothole": "You're reporting a pothole.",
        "chosen_trash": "You're reporting missed trash or recycling.",
        "report_pothole_at_menu": "I want to report a pothole",
        "location_ask": "Where is the problem? Say the street address or the nearest intersection. "
                        "If it has no fixed location, press 0.",
        "location_confirm": "I heard {location}. If that is right, press 1. To say it again, press 2.",
        "name_ask": "For no heat or hot water, the department needs a name and a call-back number. "
                    "Please say your first and last name.",
        "phone_choice": f"To use the number you are calling from, {CALLER_SPOKEN}, press 1. "
                        "To enter a different number, press 2.",
        "phone_ask": "Please enter your ten-digit phone number, then press pound.",
        "phone_invalid": "That doesn't look like a ten-digit phone number.",
        "description_ask": "In a few words, please describe the problem. "
                           "To leave a recorded message instead, press 1.",
        "record_ask": "Please describe the problem after the tone. Press pound when you are done.",
        "summary": "Here is your request: {type_name}. Location: {location}. Description: {description}. "
                   "To submit it, press 1. To start over, press 2. To cancel, press 3.",
        "case_number": "Your request has been received. Your case number is {spoken}. "
                       "Again, your case number is {spoken}.",
        "after": "To hear your case number again, press 9. For the main menu, press star. Or you may hang up.",
        "after_sms": "To get your case number by text message, press 1. To hear it again, press 9. "
                     "For the main menu, press star. Or you may hang up.",
        "sms_sent": "We sent your case number by text message to {number}.",
        "sms_failed": "Sorry, we could not send a text message. Please write down your case number.",
        "sms_body": "Hartford 311: your case number for {type_name} is {grouped}. "
                    "Call 311 to check its status at any hour.",
        "cancelled": "Your request was cancelled. Nothing was submitted.",
        "main_menu": "Say what you need, or press 1 to report a problem,",
        "retry": "Sorry, I didn't get that.",
        "no_location": "no fixed location",
        "recorded": "your recorded message",
        "no_heat": "no heat or hot water",
        "pothole": "pothole",
        "missed_trash": "missed trash or recycling pickup",
        "sla_no_heat": "Licenses and Inspections usually responds within 24 business hours.",
        "sla_pothole": "Public Works usually responds within 5 business days.",
        "sla_missed_trash": "Public Works usually responds within 2 business days.",
        "pothole_said": "there's a pothole",
        "location_said": "45 Park Terrace",
        "name_said": "Maria Lopez",
        "no_heat_said": "no heat since Sunday",
        "pothole_described": "a deep hole in the right lane",
        "status_ask": "Please enter your case number, then press pound. You can also say it.",
        "status_invalid": "That number doesn't look right. Please check it and try again.",
        "status_not_found": "I couldn't find that case. Please check the number and try again.",
        "status_gave_up": "Sorry, I wasn't able to find your case.",
        "open_report": "Case {spoken}: pothole. Status: received, with Public Works. "
                       "Last updated Tuesday, December 1. Expected by Monday, December 7.",
        # Closed: no longer "with" a department; who closed it and when.
        "closed_report": "Case {spoken}: no heat or hot water. Status: closed. "
                         "Licenses and Inspections closed it on Thursday, December 3. "
                         "Latest note: Heat restored; the boiler was repaired.",
        "options_open": "To hear this again, press 1. To check another case, press 2. "
                        "To speak with a representative, press 0. For the main menu, press star.",
        "options_closed": "To hear this again, press 1. To check another case, press 2. "
                          "For the main menu, press star.",
        "digits": ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"],
    },
    "es": {
        "type_intro": "¿Qué desea reportar? Dígalo en pocas palabras, por ejemplo, un bache o basura que no se "
                      "recogió, u oprima 9 para la lista de problemas, o asterisco para regresar.",
        "chosen_no_heat": "Usted está reportando falta de calefacción o agua caliente.",
        "chosen_pothole": "Usted está reportando un bache.",
        "chosen_trash": "Usted está reportando basura o reciclaje que no se recogió.",
        "report_pothole_at_menu": "quiero reportar un bache",
        "location_ask": "¿Dónde está el problema? Diga la dirección o la intersección más cercana. "
                        "Si no tiene un lugar fijo, oprima 0.",
        "location_confirm": "Escuché {location}. Si es correcto, oprima 1. Para decirlo de nuevo, oprima 2.",
        "name_ask": "Para falta de calefacción o agua caliente necesitamos un nombre y un número de teléfono. "
                    "Por favor, diga su nombre y apellido.",
        "phone_choice": f"Para usar el número desde el que llama, {CALLER_SPOKEN}, oprima 1. "
                        "Para ingresar otro número, oprima 2.",
        "phone_ask": "Por favor, marque su número de teléfono de diez dígitos y luego oprima la tecla numeral.",
        "phone_invalid": "Ese no parece un número de teléfono de diez dígitos.",
        "description_ask": "En pocas palabras, describa el problema. Para dejar un mensaje grabado, oprima 1.",
        "record_ask": "Por favor, describa el problema después del tono. Oprima la tecla numeral al terminar.",
        "summary": "Esta es su solicitud: {type_name}. Lugar: {location}. Descripción: {description}. "
                   "Para enviarla, oprima 1. Para empezar de nuevo, oprima 2. Para cancelar, oprima 3.",
        "case_number": "Recibimos su solicitud. Su número de caso es {spoken}. "
                       "Repito, su número de caso es {spoken}.",
        "after": "Para escuchar su número de caso de nuevo, oprima 9. Para el menú principal, oprima asterisco. "
                 "O puede colgar.",
        "after_sms": "Para recibir su número de caso por mensaje de texto, oprima 1. "
                     "Para escucharlo de nuevo, oprima 9. Para el menú principal, oprima asterisco. "
                     "O puede colgar.",
        "sms_sent": "Le enviamos su número de caso por mensaje de texto al {number}.",
        "sms_failed": "Lo siento, no pudimos enviar el mensaje de texto. Por favor, anote su número de caso.",
        "sms_body": "311 de Hartford: su número de caso para {type_name} es {grouped}. "
                    "Llame al 311 para consultar su estado a cualquier hora.",
        "cancelled": "Su solicitud fue cancelada. No se envió nada.",
        "main_menu": "Diga lo que necesita, u oprima 1 para reportar un problema,",
        "retry": "Lo siento, no le entendí.",
        "no_location": "sin lugar fijo",
        "recorded": "su mensaje grabado",
        "no_heat": "falta de calefacción o agua caliente",
        "pothole": "bache",
        "missed_trash": "basura o reciclaje no recogido",
        "sla_no_heat": "Licencias e Inspecciones normalmente responde en 24 horas hábiles.",
        "sla_pothole": "Obras Públicas normalmente responde en 5 días hábiles.",
        "sla_missed_trash": "Obras Públicas normalmente responde en 2 días hábiles.",
        "pothole_said": "hay un bache en mi calle",
        "location_said": "calle Park Terrace número 45",
        "name_said": "María López",
        "no_heat_said": "no hay calefacción desde el domingo",
        "pothole_described": "un hoyo profundo en el carril derecho",
        "status_ask": "Por favor, marque su número de caso y luego oprima la tecla numeral. También puede decirlo.",
        "status_invalid": "Ese número no parece correcto. Por favor, revíselo e intente de nuevo.",
        "status_not_found": "No encontré ese caso. Por favor, revise el número e intente de nuevo.",
        "status_gave_up": "Lo siento, no pude encontrar su caso.",
        "open_report": "Caso {spoken}: bache. Estado: recibido, con Obras Públicas. "
                       "Última actualización: martes 1 de diciembre. Fecha prevista: lunes 7 de diciembre.",
        "closed_report": "Caso {spoken}: falta de calefacción o agua caliente. Estado: cerrado. "
                         "Licencias e Inspecciones lo cerró el jueves 3 de diciembre. "
                         "Nota más reciente: Heat restored; the boiler was repaired.",
        "options_open": "Para escuchar esto de nuevo, oprima 1. Para consultar otro caso, oprima 2. "
                        "Para hablar con un representante, oprima 0. Para el menú principal, oprima asterisco.",
        "options_closed": "Para escuchar esto de nuevo, oprima 1. Para consultar otro caso, oprima 2. "
                          "Para el menú principal, oprima asterisco.",
        "digits": ["cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve"],
    },
}
BOTH = pytest.mark.parametrize("lang", ["en", "es"])


# ---- helpers -------------------------------------------------------------------------------------

def spoken(number: str) -> str:
    """'10000012' -> '1 0 0 0, 0 0 1 2' (written out here, not taken from the code under test)."""
    return " ".join(number[:4]) + ", " + " ".join(number[4:])


def grouped(number: str) -> str:
    return f"{number[:4]} {number[4:]}"


class Ear:
    """What the caller heard since the last time we listened."""

    def __init__(self, call):
        self.call = call
        self.mark = len(call.transcript)

    def new(self) -> list[str]:
        lines = [line.text for line in self.call.transcript[self.mark:] if line.kind == "say"]
        self.mark = len(self.call.transcript)
        return lines


def do(call, action: str, *args) -> list[str]:
    """Press/say/silence/record/hangup and return only what was heard in answer."""
    ear = Ear(call)
    getattr(call, action)(*args)
    return ear.new()


def main_menu(phone, lang: str, **dial):
    """Dial and choose a language; the clock says 311 is open."""
    call = phone(**dial)
    heard = do(call, "press", LANGUAGE_KEY[lang])
    assert heard[-1].startswith(WORDS[lang]["main_menu"]), heard
    return call


def report(phone, lang: str, **dial):
    """Dial, choose the language, press 1 to report a problem: the caller is at the type menu."""
    call = main_menu(phone, lang, **dial)
    heard = do(call, "press", "1")
    assert heard[0] == WORDS[lang]["type_intro"]
    return call


def only_case(db) -> Case:
    """The one case in the database (fresh from it)."""
    db.expire_all()
    rows = db.scalars(select(Case)).all()
    assert len(rows) == 1, f"expected exactly one case, found {len(rows)}"
    return rows[0]


def no_cases(db) -> bool:
    db.expire_all()
    return db.scalars(select(Case)).all() == []


def call_row(db, call) -> Call:
    db.expire_all()
    return db.scalars(select(Call).where(Call.call_sid == call.call_sid)).one()


def nodes_asked(db, call) -> set[str]:
    """Every node at which the caller gave an answer during the call."""
    row = call_row(db, call)
    return set(db.scalars(select(CallTurn.node).where(CallTurn.call_id == row.id)))


def assert_created_event(case: Case) -> None:
    assert [(e.kind, e.actor, e.from_status, e.to_status, e.public) for e in case.events] == [
        ("created", "phone", None, "open", True)
    ]


def local(*args) -> datetime:
    return datetime(*args, tzinfo=HARTFORD)


@pytest.fixture
def seed(app, db):
    """seed(code, now, **fields) -> a committed case made through the case service, as a web form would."""
    schedule = app.extensions["ivr"].line.schedule

    def make(code: str, now: datetime, **fields) -> Case:
        case, created = cases.create_case(db, cases.NewCase(service_type=code, **fields), schedule, "test", now=now)
        assert created
        db.commit()
        return case

    return make


# ---- report a problem: a type that needs contact details -----------------------------------------

@BOTH
def test_no_heat_by_key_with_caller_id_as_call_back_number(phone, db, clock, lang):
    w = WORDS[lang]
    call = report(phone, lang)

    assert do(call, "press", "5") == [w["chosen_no_heat"], w["location_ask"]]
    assert do(call, "say", w["location_said"]) == [w["location_confirm"].format(location=w["location_said"])]
    assert do(call, "press", "1") == [w["name_ask"]]
    assert do(call, "say", w["name_said"]) == [w["phone_choice"]]
    assert do(call, "press", "1") == [w["description_ask"]]
    assert do(call, "say", w["no_heat_said"]) == [w["summary"].format(
        type_name=w["no_heat"], location=w["location_said"], description=w["no_heat_said"])]
    assert no_cases(db), "nothing is saved before the caller confirms"

    heard = do(call, "press", "1")

    case = only_case(db)
    assert heard[:2] == [w["case_number"].format(spoken=spoken(case.number)), w["sla_no_heat"]]
    assert heard[2] == w["after"]
    assert case.number == case_number_for_serial(int(case.number[:7]) - 1_000_000)
    assert case.service_type.code == "no_heat"
    assert case.department.code == "lni"
    assert case.location == w["location_said"]
    assert case.description == w["no_heat_said"]
    assert case.contact_name == w["name_said"]
    assert case.contact_phone == CALLER
    assert (case.language, case.channel, case.status) == (lang, "phone", "open")
    assert case.call_sid == call.call_sid
    assert case.recording_url is None
    assert case.requested_at == clock.now
    # Tuesday 10:00 + 24 business hours: 7 on Tuesday, 9 on Wednesday, 8 on Thursday.
    assert case.expected_at == local(2026, 12, 3, 16, 0)
    assert_created_event(case)
    row = call_row(db, call)
    assert row.language == lang
    assert row.outcome == "case_created"
    assert row.answers["case_number"] == case.number
    assert row.answers["intake_active"] is False


@BOTH
def test_no_heat_with_another_number_after_an_invalid_one(phone, db, lang):
    w = WORDS[lang]
    call = report(phone, lang)
    do(call, "press", "5")
    do(call, "say", w["location_said"])
    do(call, "press", "1")
    assert do(call, "say", w["name_said"]) == [w["phone_choice"]]

    assert do(call, "press", "2") == [w["phone_ask"]]
    # An area code cannot start with 1: not a North American number.
    assert do(call, "press", "1235550100#") == [w["phone_invalid"], w["phone_ask"]]
    assert do(call, "press", "8605554477#") == [w["description_ask"]]
    do(call, "say", w["no_heat_said"])
    heard = do(call, "press", "1")

    case = only_case(db)
    assert heard[:2] == [w["case_number"].format(spoken=spoken(case.number)), w["sla_no_heat"]]
    assert case.contact_phone == "+18605554477"
    assert case.contact_name == w["name_said"]
    assert case.language == lang
    assert_created_event(case)


def test_withheld_caller_id_goes_straight_to_entering_a_number(phone, db):
    w = WORDS["en"]
    call = report(phone, "en", from_="anonymous")
    do(call, "press", "5")
    do(call, "say", w["location_said"])
    do(call, "press", "1")

    assert do(call, "say", w["name_said"]) == [w["phone_ask"]]
    do(call, "press", "8605554477#")
    do(call, "say", w["no_heat_said"])
    do(call, "press", "1")

    assert only_case(db).contact_phone == "+18605554477"


# ---- report a problem: types that need no contact details ----------------------------------------

@BOTH
def test_a_type_named_at_the_main_menu_skips_the_list_of_types(phone, db, lang):
    w = WORDS[lang]
    call = main_menu(phone, lang)

    assert do(call, "say", w["report_pothole_at_menu"]) == [w["chosen_pothole"], w["location_ask"]]
    do(call, "say", w["location_said"])
    do(call, "press", "1")
    do(call, "say", w["pothole_described"])
    do(call, "press", "1")
    assert only_case(db).service_type.code == "pothole"


@BOTH
def test_pothole_by_speech_asks_no_contact_details(phone, db, clock, lang):
    w = WORDS[lang]
    call = report(phone, lang)

    assert do(call, "say", w["pothole_said"]) == [w["chosen_pothole"], w["location_ask"]]
    do(call, "say", w["location_said"])
    assert do(call, "press", "1") == [w["description_ask"]]
    assert do(call, "say", w["pothole_described"]) == [w["summary"].format(
        type_name=w["pothole"], location=w["location_said"], description=w["pothole_described"])]
    heard = do(call, "press", "1")

    case = only_case(db)
    assert heard[:2] == [w["case_number"].format(spoken=spoken(case.number)), w["sla_pothole"]]
    assert case.service_type.code == "pothole"
    assert case.department.code == "dpw"
    assert case.location == w["location_said"]
    assert case.description == w["pothole_described"]
    assert case.contact_name is None and case.contact_phone is None and case.contact_email is None
    assert (case.language, case.channel, case.status, case.call_sid) == (lang, "phone", "open", call.call_sid)
    assert case.requested_at == clock.now
    # Five business days counting Tuesday (logged before close): Tue, Wed, Thu, Fri, Mon.
    assert case.expected_at == local(2026, 12, 7, 17, 0)
    assert_created_event(case)
    everything = " ".join(call.heard())
    assert w["name_ask"] not in everything and w["phone_choice"] not in everything
    assert not {"report_name", "report_phone_choice", "report_phone_entry"} & nodes_asked(db, call)


@BOTH
def test_missed_trash_by_key_with_no_fixed_location_and_a_recording(phone, db, lang):
    w = WORDS[lang]
    call = report(phone, lang)

    assert do(call, "press", "1") == [w["chosen_trash"], w["location_ask"]]
    assert do(call, "press", "0") == [w["description_ask"]]
    assert do(call, "press", "1") == [w["record_ask"]]
    assert call.pending_verb == "Record"
    assert do(call, "record", 12) == [w["summary"].format(
        type_name=w["missed_trash"], location=w["no_location"], description=w["recorded"])]
    heard = do(call, "press", "1")

    case = only_case(db)
    recording_url = next(x.params["RecordingUrl"] for x in call.requests if "RecordingUrl" in x.params)
    assert heard[:2] == [w["case_number"].format(spoken=spoken(case.number)), w["sla_missed_trash"]]
    assert case.service_type.code == "missed_trash"
    assert case.location is None
    assert case.description == ""
    assert case.recording_url == recording_url
    assert case.contact_phone is None
    # Two business days counting Tuesday: Wednesday at close.
    assert case.expected_at == local(2026, 12, 2, 17, 0)
    assert_created_event(case)


def test_saying_no_at_the_location_confirmation_asks_again(phone, db):
    w = WORDS["en"]
    call = report(phone, "en")
    do(call, "press", "2")
    do(call, "say", "45 Bark Terrace")
    assert do(call, "press", "2") == [w["location_ask"]]
    do(call, "say", w["location_said"])
    do(call, "press", "1")
    do(call, "say", w["pothole_described"])
    do(call, "press", "1")

    assert only_case(db).location == w["location_said"]


# ---- intake robustness ---------------------------------------------------------------------------

def test_hang_up_mid_intake_leaves_no_case_and_marks_the_call(phone, db):
    w = WORDS["en"]
    call = report(phone, "en")
    do(call, "press", "2")
    do(call, "say", w["location_said"])
    assert do(call, "press", "1") == [w["description_ask"]]

    call.hangup()

    assert no_cases(db)
    row = call_row(db, call)
    assert row.outcome == "abandoned_intake"
    assert row.final_status == "completed"
    # The partial answers stay for staff to follow up.
    assert row.answers["service_types"] == "pothole"
    assert row.answers["location"] == w["location_said"]
    assert row.answers["intake_active"] is True


def test_the_confirm_step_posted_twice_makes_one_case_and_reads_the_same_number(app, phone, db):
    w = WORDS["en"]
    call = report(phone, "en")
    do(call, "press", "2")
    do(call, "say", w["location_said"])
    do(call, "press", "1")
    do(call, "say", w["pothole_described"])
    do(call, "press", "1")
    case = only_case(db)
    confirm = [x for x in call.requests if "node=report_summary" in x.url and x.params.get("Digits") == "1"]
    assert len(confirm) == 1

    # Twilio repeats the request exactly: same URL, same parameters, same signature.
    exchange = confirm[0]
    signature = RequestValidator(app.config["TWILIO_AUTH_TOKEN"]).compute_signature(exchange.url, exchange.params)
    again = app.test_client().post(exchange.url.removeprefix("http://localhost"), data=exchange.params,
                                   headers={"X-Twilio-Signature": signature}, base_url="http://localhost")

    assert again.status_code == 200
    body = again.get_data(as_text=True)
    assert exchange.body == body
    assert body.count(spoken(case.number)) == 2
    assert only_case(db).id == case.id


def test_cancel_at_the_summary_saves_nothing(phone, db):
    w = WORDS["en"]
    call = report(phone, "en")
    do(call, "press", "2")
    do(call, "say", w["location_said"])
    do(call, "press", "1")
    do(call, "say", w["pothole_described"])

    heard = do(call, "press", "3")

    assert heard[0] == w["cancelled"]
    assert heard[1].startswith(w["main_menu"])
    assert no_cases(db)
    call.hangup()
    # The caller chose to cancel: not an abandoned intake for staff to chase.
    assert call_row(db, call).outcome == "caller_hung_up"


def test_start_over_at_the_summary_makes_one_case_of_the_second_choice(phone, db):
    w = WORDS["en"]
    call = report(phone, "en")
    do(call, "press", "2")
    do(call, "press", "0")
    do(call, "say", w["pothole_described"])
    assert do(call, "press", "2")[0] == w["type_intro"]
    do(call, "press", "1")
    do(call, "press", "0")
    do(call, "say", "they skipped our street")
    do(call, "press", "1")

    case = only_case(db)
    assert case.service_type.code == "missed_trash"
    assert case.description == "they skipped our street"


# ---- the case number by text message --------------------------------------------------------------

@pytest.fixture
def sms_app(make_app, twilio_stand_in):
    settings = {"sms": {"enabled": True, "from_number": SMS_FROM, "timeout": 2},
                "twilio": {"api_base": twilio_stand_in.url}}
    return make_app(settings, TWILIO_ACCOUNT_SID=ACCOUNT_SID)


def test_press_1_texts_the_case_number_to_the_caller(sms_app, phone_on, twilio_stand_in):
    w = WORDS["en"]
    db = sms_app.extensions["ivr"].db.sessions()
    call = report(lambda **dial: phone_on(sms_app, **dial), "en")
    do(call, "press", "2")
    do(call, "say", w["location_said"])
    do(call, "press", "1")
    do(call, "say", w["pothole_described"])
    heard = do(call, "press", "1")
    case = only_case(db)
    assert heard == [w["case_number"].format(spoken=spoken(case.number)), w["sla_pothole"], w["after_sms"]]
    assert twilio_stand_in.requests == []

    heard = do(call, "press", "1")

    assert heard == [w["sms_sent"].format(number=CALLER_SPOKEN), w["after"]]
    [sent] = twilio_stand_in.requests
    assert sent["path"] == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert sent["form"] == {"To": CALLER, "From": SMS_FROM,
                            "Body": w["sms_body"].format(type_name="pothole", grouped=grouped(case.number))}
    credentials = base64.b64decode(sent["authorization"].split()[1]).decode()
    assert credentials == f"{ACCOUNT_SID}:{sms_app.config['TWILIO_AUTH_TOKEN']}"
    db.close()


def test_the_text_goes_to_the_call_back_number_in_spanish(sms_app, phone_on, twilio_stand_in):
    w = WORDS["es"]
    db = sms_app.extensions["ivr"].db.sessions()
    call = report(lambda **dial: phone_on(sms_app, **dial), "es")
    do(call, "press", "5")
    do(call, "say", w["location_said"])
    do(call, "press", "1")
    do(call, "say", w["name_said"])
    do(call, "press", "2")
    do(call, "press", "8605554477#")
    do(call, "say", w["no_heat_said"])
    assert do(call, "press", "1")[-1] == w["after_sms"]
    case = only_case(db)

    assert do(call, "press", "1") == [w["sms_sent"].format(number="8 6 0, 5 5 5, 4 4 7 7"), w["after"]]
    [sent] = twilio_stand_in.requests
    assert sent["form"]["To"] == "+18605554477"
    assert sent["form"]["Body"] == w["sms_body"].format(type_name=w["no_heat"], grouped=grouped(case.number))
    db.close()


def test_a_failed_text_is_apologised_for_and_the_call_goes_on(sms_app, phone_on, twilio_stand_in):
    w = WORDS["en"]
    twilio_stand_in.status = 500
    twilio_stand_in.error_body = {"code": 20500, "message": "Internal Server Error", "status": 500}
    db = sms_app.extensions["ivr"].db.sessions()
    call = report(lambda **dial: phone_on(sms_app, **dial), "en")
    do(call, "press", "1")
    do(call, "press", "0")
    do(call, "say", "they skipped our street")
    do(call, "press", "1")
    case = only_case(db)

    heard = do(call, "press", "1")

    assert heard == [w["sms_failed"], w["after"]]
    assert len(twilio_stand_in.requests) == 1
    assert not call.ended and call.pending_verb == "Gather"
    # The caller can still hear the number again, and the case stands.
    assert do(call, "press", "9")[0] == w["case_number"].format(spoken=spoken(case.number))
    assert only_case(db).id == case.id
    db.close()


# ---- check a case --------------------------------------------------------------------------------

PRIVATE = ("Maria", "María", "Lopez", "López", "Park", "Terrace", "45", "4 4 7 7", "4477", "0 1 2 3", "555")


def status_call(phone, lang: str, **dial):
    call = main_menu(phone, lang, **dial)
    assert do(call, "press", "2") == [WORDS[lang]["status_ask"]]
    return call


def assert_private(lines: list[str]) -> None:
    text = " ".join(lines)
    for secret in PRIVATE:
        assert secret not in text, f"the status line spoke {secret!r}: {text}"


@BOTH
def test_status_of_an_open_case_by_key(seed, phone, clock, lang):
    w = WORDS[lang]
    case = seed("pothole", clock.now, location="45 Park Terrace", description="deep hole",
                     contact_name="Maria Lopez", contact_phone="+18605554477")
    call = status_call(phone, lang)

    heard = do(call, "press", case.number + "#")

    assert heard == [w["open_report"].format(spoken=spoken(case.number)), w["options_open"]]
    assert_private(heard)
    assert do(call, "press", "1") == heard  # 1 repeats


@BOTH
def test_status_of_a_closed_case_reads_the_closing_date_and_public_note(seed, db, phone, clock, lang):
    w = WORDS[lang]
    case = seed("no_heat", local(2026, 12, 1, 10, 0), location="45 Park Terrace",
                     description="no heat since Sunday", contact_name="Maria Lopez", contact_phone="+18605554477")
    cases.update_status(db, case, "in_progress", "Landlord Lopez reached at 860 555 4477", public=False,
                        actor="inspector", now=local(2026, 12, 2, 9, 0))
    cases.update_status(db, case, "closed", "Heat restored; the boiler was repaired.", public=True,
                        actor="inspector", now=local(2026, 12, 3, 14, 30))
    db.commit()
    clock.set(2026, 12, 4, 10, 0)
    call = status_call(phone, lang)

    heard = do(call, "press", case.number + "#")

    assert heard[0] == w["closed_report"].format(spoken=spoken(case.number))
    assert "Landlord" not in " ".join(heard)  # internal notes stay internal
    assert_private(heard)


@BOTH
def test_status_by_speech(seed, phone, clock, lang):
    w = WORDS[lang]
    case = seed("pothole", clock.now, location="45 Park Terrace")
    call = status_call(phone, lang)
    said = " ".join(w["digits"][int(d)] for d in case.number)  # "one zero zero zero zero zero one two"

    heard = do(call, "say", said)

    assert heard[0] == w["open_report"].format(spoken=spoken(case.number))


def _case_queries(engine):
    """Collect the SQL statements that read the cases table while the context is active."""
    seen: list[str] = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        if re.search(r"\bfrom\s+cases\b", statement, re.IGNORECASE):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", listener)
    return seen, lambda: event.remove(engine, "before_cursor_execute", listener)


def test_a_typo_is_caught_by_the_check_digit_before_any_lookup(app, seed, phone, clock):
    w = WORDS["en"]
    case = seed("pothole", clock.now)
    typo = case.number[:3] + str((int(case.number[3]) + 1) % 10) + case.number[4:]
    call = status_call(phone, "en")
    seen, stop = _case_queries(app.extensions["ivr"].db.engine)
    try:
        heard_typo = do(call, "press", typo + "#")
        looked_up_typo = list(seen)
        heard_real = do(call, "press", case.number + "#")
    finally:
        stop()

    assert heard_typo == [w["status_invalid"], w["status_ask"]]
    assert looked_up_typo == [], "a number failing its check digit must never reach the database"
    assert seen, "the listener sees the lookup of a valid number (so the check above means something)"
    assert heard_real[0] == w["open_report"].format(spoken=spoken(case.number))


@BOTH
def test_an_unknown_valid_number(phone, lang):
    w = WORDS[lang]
    call = status_call(phone, lang)
    unknown = case_number_for_serial(8_999_998)

    assert do(call, "press", unknown + "#") == [w["status_not_found"], w["status_ask"]]


def test_three_bad_tries_give_up_to_a_representative_when_open(phone):
    w = WORDS["en"]
    call = status_call(phone, "en")
    do(call, "press", "12345678#")
    do(call, "press", case_number_for_serial(8_999_998) + "#")

    heard = do(call, "press", "87654321#")

    assert heard[:2] == [w["status_invalid"], w["status_gave_up"]]
    assert "Please hold for the next available representative." in heard
    assert any(line.kind == "enqueue" for line in call.transcript)


def test_three_bad_tries_after_hours_say_goodbye(phone, clock):
    clock.set(2026, 12, 1, 22, 0)
    w = WORDS["en"]
    call = phone()
    do(call, "press", "1")
    assert do(call, "press", "2") == [w["status_ask"]]
    do(call, "press", "12345678#")
    do(call, "silence")

    heard = do(call, "press", "87654321#")

    assert heard[:2] == [w["status_invalid"], w["status_gave_up"]]
    assert heard[2].startswith("Thank you for calling Hartford 311. Our hours are Monday to Friday, 8 AM to 5 PM.")
    assert call.ended
    assert not any(line.kind in ("enqueue", "dial") for line in call.transcript)


@BOTH
def test_status_after_hours_works_and_offers_no_representative(seed, phone, clock, lang):
    w = WORDS[lang]
    case = seed("pothole", clock.now)
    clock.set(2026, 12, 1, 22, 30)
    call = phone()
    opening = do(call, "press", LANGUAGE_KEY[lang])
    assert len(opening) == 2  # closed intro, after-hours menu
    assert do(call, "press", "2") == [w["status_ask"]]

    heard = do(call, "press", case.number + "#")

    assert heard == [w["open_report"].format(spoken=spoken(case.number)), w["options_closed"]]
    # 0 is not offered when nobody is there to answer; pressed anyway, it says when people are back.
    people = do(call, "press", "0")
    assert w["retry"] not in people and len(people) == 2
    assert people[0].startswith(("Sorry, there's no one here", "Lo siento, en este momento no hay nadie"))
    assert not any(line.kind in ("enqueue", "dial") for line in call.transcript)
