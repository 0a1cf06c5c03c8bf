"""No answer of the API ever carries a resident's name, phone number or e-mail: every body of every endpoint, in
both formats and with extensions, is scanned for the contact values this test created (and their variants)."""

from __future__ import annotations

import logging

from sqlalchemy import select

from ivr import cases
from ivr.models import Case
from tests.open311.support import API, api_for, issue_key

NAME_FIRST, NAME_LAST = "Zebulon", "Quistgaard"
PHONE = "+18605559876"
EMAIL = "zq.private@example.org"
PHONE_CALLER, NAME_CALLER = "+18605554321", "Wilhelmina Okonkwo"
SECRETS = (NAME_FIRST, NAME_LAST, EMAIL, "zq.private", PHONE, "8605559876", "555-9876", "5559876", "860) 555",
           PHONE_CALLER, "8605554321", "5554321", "Wilhelmina", "Okonkwo")


def test_no_response_carries_contact_details(app, db, clock, caplog):
    caplog.set_level(logging.DEBUG)
    api = api_for(app)
    key = issue_key(app)
    # Through the API, for a type that keeps contact details; the resident also wrote them into the text.
    created = api.post(f"{API}/requests", "json", {
        "api_key": key, "service_code": "bulky_waste", "address_string": f"12 Main Street, ask for {NAME_FIRST}",
        "attribute[items]": "2", "first_name": NAME_FIRST, "last_name": NAME_LAST, "phone": "(860) 555-9876",
        "email": EMAIL, "account_id": "acct-1", "device_id": "dev-1",
        "description": f"Call {NAME_FIRST} {NAME_LAST} at 860-555-9876 or {EMAIL} before coming",
    })
    api.post(f"{API}/requests", "xml", {"api_key": key, "service_code": "no_heat", "address_string": "9 Elm St",
                                        "phone": PHONE, "first_name": NAME_FIRST, "email": EMAIL})
    # By phone, with contact, and a public note where staff slipped the caller's name and number in.
    schedule = app.extensions["ivr"].settings.schedule
    phone_case, _ = cases.create_case(db, cases.NewCase("no_heat", location="3 Oak St", contact_name=NAME_CALLER,
                                                        contact_phone=PHONE_CALLER, description="no heat"),
                                      schedule, "phone", now=clock.now)
    cases.update_status(db, phone_case, "in_progress", "Spoke with Wilhelmina Okonkwo on 860 555 4321.",
                        public=True, actor="lni", now=clock.now, note_es="Hablamos con Wilhelmina al 8605554321.")
    db.commit()
    numbers = [case.number for case in db.scalars(select(Case))]
    assert len(numbers) == 3 and created.status == 201

    for fmt in ("json", "xml"):
        for extensions in ("", "true"):
            api.get(f"{API}/requests", fmt, "requests", extensions=extensions)
            api.get(f"{API}/requests", fmt, "requests", service_request_id=",".join(numbers), extensions=extensions)
            api.get(f"{API}/requests", fmt, "requests", status="open", service_code="bulky_waste,no_heat")
            for number in numbers:
                api.get(f"{API}/requests/{number}", fmt, "requests", extensions=extensions)
        api.get(f"{API}/services", fmt, "services")
        api.get(f"{API}/services/bulky_waste", fmt, "definition")
        api.get("/open311/discovery", fmt, "discovery")
        # Errors too: a rejected POST must not echo what it was sent.
        api.post(f"{API}/requests", fmt, {"api_key": key, "service_code": "no_heat", "address_string": "9 Elm St",
                                          "phone": "555-9876x", "email": f"{NAME_FIRST}@", "first_name": NAME_FIRST})

    assert len(api.bodies) == 2 + 2 * (2 * (3 + 3) + 4)
    everything = "\n".join(api.bodies)
    assert "12 Main Street" in everything and "[removed]" in everything  # the scan sees the right bodies
    for secret in SECRETS:
        assert secret.lower() not in everything.lower(), f"{secret!r} appeared in an answer"
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for secret in SECRETS:
        assert secret not in logged, f"{secret!r} reached the log"
