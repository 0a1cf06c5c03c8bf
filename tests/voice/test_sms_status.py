"""Status by text message (POST /sms): signed requests, replies in the sender's language, the phone's own words."""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET

import pytest
from twilio.twiml.messaging_response import MessagingResponse

from ivr import cases
from ivr.cases.numbers import MAX_SERIAL, case_number_for_serial, grouped, is_valid, spoken
from ivr.voice.sms_status import Query, read_query
from tests.conftest import AUTH_TOKEN
from tests.voice.test_signature import sign

SENDER = "+18605554477"
CITY = "+18605550311"
PRIVATE = ("Maria", "Lopez", "Park", "Terrace", "4477", SENDER)

INVALID = {"en": "That number doesn't look right. Please check it and try again.",
           "es": "Ese número no parece correcto. Por favor, revíselo e intente de nuevo."}
NOT_FOUND = {"en": "I couldn't find that case. Please check the number and try again.",
             "es": "No encontré ese caso. Por favor, revise el número e intente de nuevo."}
NO_SUCH_CASE = case_number_for_serial(MAX_SERIAL)  # valid, never issued in a test run
HELP = ("Hartford 311: to check on a case, text its case number, for example STATUS 1000 0012.\n"
        "311 de Hartford: para consultar un caso, envíe su número de caso, por ejemplo ESTADO 1000 0012.")


def text_in(app, body: str, signature: str | None = "sign"):
    """Twilio delivering a text to /sms; the answer."""
    form = {"MessageSid": "SM" + "1" * 32, "AccountSid": "AC" + "6" * 32, "From": SENDER, "To": CITY,
            "Body": body, "NumMedia": "0"}
    headers = {}
    if signature == "sign":
        headers["X-Twilio-Signature"] = sign("http://localhost/sms", form)
    elif signature is not None:
        headers["X-Twilio-Signature"] = signature
    return app.test_client().post("/sms", data=form, headers=headers)


def reply(app, body: str) -> str:
    """The text sent back for a message, checked to be exactly one <Message> as twilio's MessagingResponse builds."""
    answer = text_in(app, body)
    assert answer.status_code == 200 and answer.mimetype == "text/xml"
    document = answer.get_data(as_text=True)
    root = ET.fromstring(document)
    assert root.tag == "Response" and [child.tag for child in root] == ["Message"] and not root[0].attrib
    expected = MessagingResponse()
    expected.message(root[0].text)
    assert document == str(expected)
    return root[0].text


@pytest.fixture
def pothole(app, db, clock):
    """A committed pothole case with a caller's name, phone and address on it."""
    schedule = app.extensions["ivr"].line.schedule
    case, _ = cases.create_case(db, cases.NewCase(service_type="pothole", location="45 Park Terrace",
                                                  description="deep hole", contact_name="Maria Lopez",
                                                  contact_phone="+18605554477", language="es"),
                                schedule, "test", now=clock.now)
    db.commit()
    return case


def phone_status(phone, lang: str, number: str) -> str:
    """What a caller hears when checking the same case by phone."""
    call = phone()
    call.press({"en": "1", "es": "2"}[lang])
    call.press("2")
    before = len(call.heard())
    call.press(number + "#")
    return call.heard()[before]


# ---- reading what was texted ---------------------------------------------------------------------

@pytest.mark.parametrize(("body", "query"), [
    ("10000012", Query("10000012", None)),
    ("STATUS 1000 0012", Query("10000012", "en")),
    ("status: 1000-0012", Query("10000012", "en")),
    ("ESTADO 1000-0012", Query("10000012", "es")),
    ("Hola, mi caso es 1000 0012 por favor", Query("10000012", "es")),
    ("  1000.0012 ", Query("10000012", None)),
    ("hello", Query(None, "en")),
    ("STOP", Query(None, None)),
    ("call 911", Query(None, None)),
    ("", Query(None, None)),
])
def test_reading_the_message(body, query):
    assert read_query(body) == query


# ---- replies -------------------------------------------------------------------------------------

def typo(number: str) -> str:
    """The number with its first two different neighbouring digits swapped: a mistake the check digit catches."""
    i = next(i for i in range(len(number) - 1) if number[i] != number[i + 1])
    return number[:i] + number[i + 1] + number[i] + number[i + 2:]


def dropped(number: str) -> str:
    """The number with one digit left out (the first such slip whose check digit fails, as nearly all do)."""
    return next(short for i in range(len(number)) if not is_valid(short := number[:i] + number[i + 1:]))


@pytest.mark.parametrize(("template", "lang"), [("STATUS {}", "en"), ("ESTADO {}", "es")])
def test_status_reply_is_what_the_phone_says(app, phone, pothole, template, lang):
    texted = reply(app, template.format(grouped(pothole.number).replace(" ", "-" if lang == "es" else " ")))
    said = phone_status(phone, lang, pothole.number)
    assert texted == said.replace(spoken(pothole.number), grouped(pothole.number))
    first = {"en": "Case {}: pothole. Status: received, with Public Works.",
             "es": "Caso {}: bache. Estado: recibido, con Obras Públicas."}[lang]
    assert texted.startswith(first.format(grouped(pothole.number)))
    for secret in PRIVATE:
        assert secret not in texted


def test_a_bare_number_is_answered_in_the_cases_language(app, phone, pothole):
    texted = reply(app, grouped(pothole.number))
    assert texted == phone_status(phone, "es", pothole.number).replace(spoken(pothole.number),
                                                                        grouped(pothole.number))


def test_a_closed_case_with_a_public_note(app, db, phone, pothole, clock):
    cases.update_status(db, pothole, "closed", "Filled with hot asphalt.", public=True, actor="test", now=clock.now)
    db.commit()
    texted = reply(app, f"status {pothole.number}")
    assert texted.startswith(f"Case {grouped(pothole.number)}: pothole. Status: closed. Public Works closed it on ")
    assert texted.endswith("Latest note: Filled with hot asphalt.")
    assert texted == phone_status(phone, "en", pothole.number).replace(spoken(pothole.number),
                                                                        grouped(pothole.number))


@pytest.mark.parametrize(("template", "expected"), [
    ("STATUS {}", INVALID["en"]),
    ("estado {}", INVALID["es"]),
    ("{}", INVALID["en"] + "\n" + INVALID["es"]),
])
def test_a_mistyped_number_is_caught_by_its_check_digit(app, pothole, template, expected):
    assert reply(app, template.format(typo(pothole.number))) == expected
    assert reply(app, template.format(dropped(pothole.number))) == expected


@pytest.mark.parametrize(("body", "expected"), [
    ("STATUS " + grouped(NO_SUCH_CASE), NOT_FOUND["en"]),
    ("ESTADO " + NO_SUCH_CASE, NOT_FOUND["es"]),
    (NO_SUCH_CASE, NOT_FOUND["en"] + "\n" + NOT_FOUND["es"]),
])
def test_a_valid_number_with_no_case(app, pothole, body, expected):
    assert reply(app, body) == expected


@pytest.mark.parametrize("body", ["hello", "STOP", "where is my pothole?", "", "12", "🙂" * 400])
def test_anything_else_gets_short_help_in_both_languages(app, body):
    assert reply(app, body) == HELP


def test_nothing_personal_is_logged(app, pothole, caplog):
    with caplog.at_level(logging.DEBUG):
        reply(app, f"STATUS {pothole.number}")
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "status text answered: found" in logged
    for secret in (*PRIVATE, pothole.number, grouped(pothole.number), SENDER[-4:]):
        assert secret not in logged


# ---- the signature ---------------------------------------------------------------------------------

@pytest.mark.parametrize("signature", [None, "", "bm90IGEgc2lnbmF0dXJl"])
def test_unsigned_or_forged_texts_are_refused(app, pothole, signature):
    answer = text_in(app, f"STATUS {pothole.number}", signature)
    assert answer.status_code == 403
    assert "pothole" not in answer.get_data(as_text=True)


def test_a_text_signed_with_another_token_is_refused(app, pothole):
    form = {"From": SENDER, "To": CITY, "Body": f"STATUS {pothole.number}"}
    forged = sign("http://localhost/sms", form, token="someone-elses-token")
    answer = app.test_client().post("/sms", data=form, headers={"X-Twilio-Signature": forged})
    assert answer.status_code == 403
    assert AUTH_TOKEN not in answer.get_data(as_text=True)
