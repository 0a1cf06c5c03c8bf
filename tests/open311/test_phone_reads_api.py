"""One case store for every channel: the phone reads back what the API wrote, in English and Spanish, and the API
shows what a caller reported."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from ivr import cases
from ivr.models import Case
from tests.open311.support import API, POTHOLE, api_for, issue_key

LANGUAGE_KEY = {"en": "1", "es": "2"}
STATUS_ASK = {"en": "Please enter your case number, then press pound. You can also say it.",
              "es": "Por favor, marque su número de caso y luego oprima la tecla numeral. También puede decirlo."}
HEARD = {
    "en": "Case {spoken}: pothole. Status: in progress, with Public Works. Last updated Tuesday, December 1. "
          "Expected by Monday, December 7. Latest note: Crew scheduled for Monday.",
    "es": "Caso {spoken}: bache. Estado: en proceso, con Obras Públicas. Última actualización: martes 1 de "
          "diciembre. Fecha prevista: lunes 7 de diciembre. Nota más reciente: La cuadrilla viene el lunes.",
}


def spoken(number: str) -> str:
    """'10000012' -> '1 0 0 0, 0 0 1 2' (written out here, not taken from the code under test)."""
    return " ".join(number[:4]) + ", " + " ".join(number[4:])


def said(call, mark: int) -> list[str]:
    return [line.text for line in call.transcript[mark:] if line.kind == "say"]


def press(call, keys: str) -> list[str]:
    mark = len(call.transcript)
    call.press(keys)
    return said(call, mark)


@pytest.mark.parametrize("lang", ["en", "es"])
def test_the_phone_reads_back_a_case_the_api_opened(app, db, phone, clock, lang):
    answer = api_for(app).post(f"{API}/requests", "json", {"api_key": issue_key(app, "City app"), **POTHOLE})
    number = answer.value[0]["service_request_id"]
    case = db.scalars(select(Case).where(Case.number == number)).one()
    cases.update_status(db, case, "in_progress", "Crew scheduled for Monday.", public=True, actor="dpw",
                        now=clock.now, note_es="La cuadrilla viene el lunes.")
    db.commit()
    clock.now += timedelta(hours=1)
    call = phone()
    press(call, LANGUAGE_KEY[lang])
    assert press(call, "2") == [STATUS_ASK[lang]]

    heard = press(call, number + "#")

    assert heard[0] == HEARD[lang].format(spoken=spoken(number))
    assert "41.76" not in " ".join(heard)  # coordinates are not read out


@pytest.mark.parametrize("lang", ["en", "es"])
def test_a_case_reported_by_phone_is_visible_through_the_api(app, db, phone, lang):
    call = phone()
    press(call, LANGUAGE_KEY[lang])
    press(call, "1")       # report a problem
    press(call, "2")       # pothole
    call.say("12 Main Street")
    press(call, "1")       # the location is right
    call.say("a deep hole by the bus stop" if lang == "en" else "un hoyo profundo en la parada")
    press(call, "1")       # submit
    case = db.scalars(select(Case)).one()
    assert case.channel == "phone"

    [item] = api_for(app).both(f"{API}/requests/{case.number}", "requests", extensions="true").value

    assert item["service_code"] == "pothole" and item["status"] == "open"
    assert item["address"] == "12 Main Street"  # the phone's spoken location is the address
    assert (item["lat"], item["long"]) == (None, None)
    assert item["extended_attributes"]["channel"] == "phone"
    listed = api_for(app).get(f"{API}/requests", "json", "requests").value
    assert [entry["service_request_id"] for entry in listed] == [case.number]
