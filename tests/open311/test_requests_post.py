"""POST requests: an API key, the spec's checks and errors, one case through the phone's case service."""

from __future__ import annotations

from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from ivr import cases
from ivr.cases.numbers import is_valid
from ivr.models import Case, CaseEvent, Open311Request
from tests.conftest import hartford
from tests.open311.support import API, POTHOLE, api_for, issue_key

FORMATS = pytest.mark.parametrize("fmt", ["json", "xml"])
BULKY = {"service_code": "bulky_waste", "address_string": "12 Main Street", "attribute[items]": "3",
         "phone": "860-555-0143", "description": "a couch and a chair"}


def only(db, number: str) -> Case:
    db.expire_all()
    return db.scalars(select(Case).where(Case.number == number)).one()


@FORMATS
def test_a_pothole_with_coordinates_opens_a_case_like_the_phone_does(app, db, clock, fmt):
    api, key = api_for(app), issue_key(app, "City website")

    answer = api.post(f"{API}/requests", fmt, {"api_key": key, **POTHOLE, "account_id": "u-77"})

    assert answer.status == 201
    [created] = answer.value
    assert created == {"service_request_id": created["service_request_id"],
                       "service_notice": "Public Works usually responds within 5 business days.",
                       "account_id": "u-77"}
    case = only(db, created["service_request_id"])
    assert is_valid(case.number) and case.channel == "open311" and case.status == "open"
    assert (case.latitude, case.longitude, case.location) == (41.7637, -72.6851, None)
    assert case.description == "deep hole in the right lane" and case.service_type.code == "pothole"
    assert case.requested_at == clock.now
    # The same SLA rule as the phone: five business days from Tuesday 10:00 end with Monday's close.
    assert case.expected_at == cases.expected_by(app.extensions["ivr"].settings.schedule, case.service_type,
                                                 clock.now) == hartford(2026, 12, 7, 17, 0)
    [event] = case.events
    assert (event.actor, event.kind, event.to_status) == ("open311:City website", "created", "open")


def test_api_and_phone_cases_share_one_number_sequence(app, db, clock):
    schedule = app.extensions["ivr"].settings.schedule
    phone_case, _ = cases.create_case(db, cases.NewCase("pothole", location="1 Elm St"), schedule, "phone",
                                      now=clock.now)
    db.commit()

    answer = api_for(app).post(f"{API}/requests", "json", {"api_key": issue_key(app), **POTHOLE})

    assert int(answer.value[0]["service_request_id"][:-1]) == int(phone_case.number[:-1]) + 1


def test_an_address_goes_where_the_phone_keeps_its_spoken_location(app, db):
    answer = api_for(app).post(f"{API}/requests", "json", {
        "api_key": issue_key(app), "service_code": "streetlight", "address_string": "Main St and Pearl St",
        "address_id": "HFD-00042"})

    case = only(db, answer.value[0]["service_request_id"])
    assert case.location == "Main St and Pearl St" and case.latitude is None
    assert db.get(Open311Request, case.id).address_id == "HFD-00042"


def test_bulky_waste_keeps_its_attributes_and_the_contact_it_needs(app, db):
    answer = api_for(app).post(f"{API}/requests", "json", {
        "api_key": issue_key(app), **BULKY, "attribute[item_kinds][]": ["furniture", "mattress"],
        "first_name": "Ana", "last_name": "Ruiz", "email": "ana@example.org"})

    assert answer.status == 201
    case = only(db, answer.value[0]["service_request_id"])
    assert (case.contact_name, case.contact_phone, case.contact_email) == ("Ana Ruiz", "+18605550143",
                                                                           "ana@example.org")
    assert db.get(Open311Request, case.id).attributes == {"items": "3", "item_kinds": ["furniture", "mattress"]}


def test_contact_details_are_not_kept_for_a_type_that_does_not_need_them(app, db):
    answer = api_for(app).post(f"{API}/requests", "json", {
        "api_key": issue_key(app), **POTHOLE, "first_name": "Ana", "phone": "8605550143", "email": "a@example.org"})

    case = only(db, answer.value[0]["service_request_id"])
    assert (case.contact_name, case.contact_phone, case.contact_email) == (None, None, None)


def test_media_url_is_kept_and_shown(app):
    api = api_for(app)
    number = api.post(f"{API}/requests", "json", {"api_key": issue_key(app), **POTHOLE,
                                                    "media_url": "https://img.example.org/1.jpg"}).value[0]
    shown = api.get(f"{API}/requests/{number['service_request_id']}", "json", "requests").value[0]
    assert shown["media_url"] == "https://img.example.org/1.jpg"


# ---- errors ----------------------------------------------------------------------------------------

@FORMATS
@pytest.mark.parametrize(("fields", "status", "description"), [
    ({"api_key": ""}, 403, "api_key is missing: POST requests needs the key Hartford 311 issued you"),
    ({"api_key": "h311_not-a-key"}, 403, "api_key is not valid (unknown or revoked)"),
    ({"service_code": ""}, 400, "service_code is missing"),
    ({"service_code": "ufo"}, 404, "service_code 'ufo' is not a service: see services.xml or services.json"),
    ({"jurisdiction_id": "boston.gov"}, 404,
     "jurisdiction_id 'boston.gov' is not served here; this endpoint serves 'hartford.gov'"),
    ({"lat": "", "long": ""}, 400, "a location is required: lat and long, address_string or address_id"),
    ({"long": ""}, 400, "lat and long must be sent together"),
    ({"lat": "91"}, 400, "lat must be a number from -90 to 90, got '91'"),
    ({"long": "nan"}, 400, "long must be a number from -180 to 180, got 'nan'"),
    ({"lat": "north"}, 400, "lat must be a number from -90 to 90, got 'north'"),
    ({"description": "x" * 4001}, 400, "description is longer than 4000 characters"),
    ({"media_url": "javascript:alert(1)"}, 400, "media_url must be an http(s) URL of at most 500 characters"),
    ({"attribute[items]": "2"}, 400, "attribute[items] is not an attribute of pothole"),
])
def test_each_error_has_its_code_and_says_what_is_wrong(app, db, fmt, fields, status, description):
    form = {"api_key": issue_key(app), **POTHOLE, **fields}

    answer = api_for(app).post(f"{API}/requests", fmt, form)

    assert (answer.status, answer.value) == (status, [{"code": status, "description": description}])
    assert db.scalars(select(Case)).all() == []


@FORMATS
@pytest.mark.parametrize(("fields", "description"), [
    ({"attribute[items]": ""}, "attribute[items] is required: How many large items should be picked up?"),
    ({"attribute[items]": "11"}, "attribute[items] must be from 1 to 10, got '11'"),
    ({"attribute[items]": "lots"}, "attribute[items] must be a number, got 'lots'"),
    ({"attribute[items][]": ["1", "2"], "attribute[items]": ""}, "attribute[items] takes one value"),
    ({"attribute[item_kinds][]": ["sofa"]},
     "attribute[item_kinds]: 'sofa' is not one of furniture, mattress, appliance, appliance_freon, other"),
    ({"phone": "", "email": ""}, "this service needs a way to reach you: give phone or email"),
    ({"phone": "911"}, "phone must be a ten-digit US phone number"),
    ({"phone": "", "email": "not-an-address"}, "email is not an e-mail address"),
])
def test_attributes_and_contact_are_checked_where_the_type_needs_them(app, db, fmt, fields, description):
    answer = api_for(app).post(f"{API}/requests", fmt, {"api_key": issue_key(app), **BULKY, **fields})

    assert answer.status == 400 and {"code": 400, "description": description} in answer.value
    assert db.scalars(select(Case)).all() == []


def test_every_problem_is_listed_at_once(app):
    answer = api_for(app).post(f"{API}/requests", "json", {"api_key": issue_key(app), "service_code": "bulky_waste"})

    assert [error["description"] for error in answer.value] == [
        "a location is required: lat and long, address_string or address_id",
        "attribute[items] is required: How many large items should be picked up?",
        "this service needs a way to reach you: give phone or email",
    ]


def test_a_key_revoked_mid_test_stops_working_at_once(app, db, database_url, monkeypatch):
    from ivr.cli import main

    monkeypatch.setenv("DATABASE_URL", database_url)
    runner = CliRunner()
    added = runner.invoke(main, ["open311", "key", "add", "FixMyStreet", "--by", "alice"])
    assert added.exit_code == 0, added.output
    key = added.output.splitlines()[-1]
    api = api_for(app)
    assert api.post(f"{API}/requests", "json", {"api_key": key, **POTHOLE}).status == 201

    revoked = runner.invoke(main, ["open311", "key", "revoke", "FixMyStreet", "--by", "bob"])

    assert revoked.exit_code == 0, revoked.output
    again = api.post(f"{API}/requests", "xml", {"api_key": key, **POTHOLE, "description": "another hole"})
    assert (again.status, again.value) == (403, [{"code": 403,
                                                  "description": "api_key is not valid (unknown or revoked)"}])
    assert len(db.scalars(select(Case)).all()) == 1


@FORMATS
def test_get_on_requests_needs_no_key_but_other_methods_are_refused(app, fmt):
    response = app.test_client().put(f"{API}/requests.{fmt}", data={"api_key": issue_key(app), **POTHOLE})

    assert response.status_code == 405 and response.headers["Allow"] == "GET, POST"


@FORMATS
def test_a_body_with_too_many_fields_is_refused_in_the_spec_format(app, fmt):
    response = app.test_client().post(f"{API}/requests.{fmt}", data={f"f{i}": "x" for i in range(300)})

    assert response.status_code == 413
    assert response.content_type.startswith("application/json" if fmt == "json" else "text/xml")


def test_hostile_input_never_breaks_the_api(app):
    api, key = api_for(app), issue_key(app)
    for fields, status in (({"service_code": "pothole\x00"}, 400), ({"description": "a\x00b"}, 400),
                           ({"lat": "1e309", "long": "0"}, 400),
                           ({"address_string": "\u202e\ufeff"}, 201), ({"attribute[": "x"}, 201),
                           ({"address_string": "💥" * 301}, 400), ({"service_code": "' OR 1=1 --"}, 404)):
        answer = api.post(f"{API}/requests", "json", {"api_key": key, **POTHOLE, **fields})
        assert answer.status == status, (fields, answer.value)


# ---- the same POST twice ---------------------------------------------------------------------------

def test_the_same_post_again_within_the_window_answers_the_same_case(app, db, clock):
    api, key = api_for(app), issue_key(app)
    form = {"api_key": key, **POTHOLE, "device_id": "phone-1"}

    first = api.post(f"{API}/requests", "json", form)
    clock.now += timedelta(seconds=30)
    second = api.post(f"{API}/requests", "xml", form)

    assert (first.status, second.status) == (201, 200)
    assert first.value[0]["service_request_id"] == second.value[0]["service_request_id"]
    assert len(db.scalars(select(Case)).all()) == 1
    assert len(db.scalars(select(CaseEvent)).all()) == 1


def test_a_repeat_that_straddles_a_bucket_edge_is_still_one_case(app, db, clock):
    window = app.extensions["ivr"].settings.open311.repeat_window_seconds
    edge = (int(clock.now.timestamp()) // window + 1) * window
    clock.now = clock.now.replace(microsecond=0) + timedelta(seconds=edge - int(clock.now.timestamp()) - 1)
    api, form = api_for(app), {"api_key": issue_key(app), **POTHOLE, "account_id": "a-1"}

    first = api.post(f"{API}/requests", "json", form)
    clock.now += timedelta(seconds=2)  # 1 second before the edge, then 1 second after it
    second = api.post(f"{API}/requests", "json", form)

    assert second.status == 200 and second.value[0]["service_request_id"] == first.value[0]["service_request_id"]
    assert len(db.scalars(select(Case)).all()) == 1


@pytest.mark.parametrize("change", [
    {"device_id": "phone-2"}, {"account_id": "someone-else"}, {"description": "a different hole"},
    {"lat": "41.7700"}, {"service_code": "streetlight"},
])
def test_another_device_account_or_content_is_another_case(app, db, change):
    api, key = api_for(app), issue_key(app)
    form = {"api_key": key, **POTHOLE, "device_id": "phone-1"}

    first = api.post(f"{API}/requests", "json", form)
    second = api.post(f"{API}/requests", "json", {**form, **change})

    assert (first.status, second.status) == (201, 201)
    assert first.value[0]["service_request_id"] != second.value[0]["service_request_id"]
    assert len(db.scalars(select(Case)).all()) == 2


def test_the_same_post_after_the_window_is_a_new_case(app, db, clock):
    api, form = api_for(app), {"api_key": issue_key(app), **POTHOLE, "device_id": "phone-1"}
    window = app.extensions["ivr"].settings.open311.repeat_window_seconds

    first = api.post(f"{API}/requests", "json", form)
    clock.now += timedelta(seconds=window + 1)
    second = api.post(f"{API}/requests", "json", form)

    assert second.status == 201 and first.value[0]["service_request_id"] != second.value[0]["service_request_id"]


def test_another_key_sending_the_same_content_is_another_case(app, db):
    api = api_for(app)
    first = api.post(f"{API}/requests", "json", {"api_key": issue_key(app, "app one"), **POTHOLE})
    second = api.post(f"{API}/requests", "json", {"api_key": issue_key(app, "app two"), **POTHOLE})

    assert first.value[0]["service_request_id"] != second.value[0]["service_request_id"]
