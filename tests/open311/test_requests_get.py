"""GET requests and GET requests/{id}: the spec's filters, window and page limit; status notes in both languages."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ivr import cases
from ivr.cases.numbers import case_number_for_serial
from tests.conftest import hartford
from tests.open311.support import API, api_for

FORMATS = pytest.mark.parametrize("fmt", ["json", "xml"])


@pytest.fixture
def seed(app, db):
    """seed(code, when, **fields) -> a committed case made through the case service."""
    schedule = app.extensions["ivr"].settings.schedule

    def make(code: str, when, **fields):
        case, created = cases.create_case(db, cases.NewCase(service_type=code, **fields), schedule, "test", now=when)
        assert created
        db.commit()
        return case

    return make


def numbers(answer) -> list[str]:
    return [item["service_request_id"] for item in answer.value]


def test_the_default_window_is_the_last_90_days_newest_first(app, seed, clock):
    old = seed("pothole", clock.now - timedelta(days=91))
    edge = seed("pothole", clock.now - timedelta(days=89))
    new = seed("streetlight", clock.now - timedelta(days=1))

    answer = api_for(app).both(f"{API}/requests", "requests")

    assert numbers(answer) == [new.number, edge.number]
    assert old.number not in numbers(answer)


def test_start_and_end_date_bound_the_requested_time(app, seed):
    cases_by_day = {day: seed("pothole", hartford(2026, 11, day, 12, 0)) for day in (2, 10, 20)}

    answer = api_for(app).both(f"{API}/requests", "requests", start_date="2026-11-05T00:00:00-05:00",
                               end_date="2026-11-20T12:00:00-05:00")

    assert numbers(answer) == [cases_by_day[20].number, cases_by_day[10].number]


def test_one_date_alone_opens_a_90_day_window_from_it(app, seed):
    early = seed("pothole", hartford(2026, 6, 2, 12, 0))
    later = seed("pothole", hartford(2026, 9, 20, 12, 0))  # 110 days after June 2
    api = api_for(app)

    assert numbers(api.get(f"{API}/requests", "json", "requests", start_date="2026-06-01T00:00:00Z")) == [early.number]
    assert numbers(api.get(f"{API}/requests", "json", "requests", end_date="2026-09-30T00:00:00Z")) == [later.number]


def test_a_date_without_an_offset_is_read_in_hartford_time(app, seed):
    case = seed("pothole", hartford(2026, 11, 2, 0, 30))  # 05:30 UTC

    api = api_for(app)
    assert numbers(api.get(f"{API}/requests", "json", "requests", start_date="2026-11-02T00:00:00",
                           end_date="2026-11-02T01:00:00")) == [case.number]
    assert numbers(api.get(f"{API}/requests", "json", "requests", start_date="2026-11-02T00:00:00Z",
                           end_date="2026-11-02T01:00:00Z")) == []


@FORMATS
@pytest.mark.parametrize(("params", "description"), [
    ({"start_date": "yesterday"}, "start_date must be an ISO 8601 date and time, e.g. 2026-12-01T00:00:00-05:00; "
                                  "got 'yesterday'"),
    ({"end_date": "2026-13-01T00:00:00Z"}, "end_date must be an ISO 8601 date and time, e.g. "
                                           "2026-12-01T00:00:00-05:00; got '2026-13-01T00:00:00Z'"),
    ({"start_date": "2026-11-02T00:00:00Z", "end_date": "2026-11-01T00:00:00Z"},
     "start_date must not be after end_date"),
    ({"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"},
     "start_date and end_date may not span more than 90 days"),
    ({"status": "pending"}, "status must be open or closed (comma-separated), got 'pending'"),
    ({"page": "0"}, "page must be a whole number from 1 or more, got '0'"),
    ({"page_size": "1001"}, "page_size must be a whole number from 1 to 1000, got '1001'"),
])
def test_bad_arguments_are_400_with_the_reason(app, fmt, params, description):
    answer = api_for(app).get(f"{API}/requests", fmt, "requests", **params)

    assert (answer.status, answer.value) == (400, [{"code": 400, "description": description}])


@FORMATS
def test_an_unknown_service_code_filter_is_404(app, fmt):
    answer = api_for(app).get(f"{API}/requests", fmt, "requests", service_code="pothole,ufo")

    assert (answer.status, answer.value) == (404, [{"code": 404, "description": "service_code 'ufo' is not a service"}])


def test_service_code_filters_one_or_several_types(app, seed, clock):
    pothole = seed("pothole", clock.now - timedelta(hours=3))
    light = seed("streetlight", clock.now - timedelta(hours=2))
    seed("graffiti", clock.now - timedelta(hours=1))
    api = api_for(app)

    assert numbers(api.both(f"{API}/requests", "requests", service_code="pothole")) == [pothole.number]
    assert numbers(api.both(f"{API}/requests", "requests", service_code="pothole,streetlight")) == [
        light.number, pothole.number]


def test_status_open_covers_every_status_but_closed(app, seed, db, clock):
    made = {status: seed("pothole", clock.now - timedelta(hours=index + 1))
            for index, status in enumerate(("open", "in_progress", "on_hold", "closed"))}
    for status, case in made.items():
        if status != "open":
            cases.update_status(db, case, status, None, public=False, actor="crew", now=clock.now)
    db.commit()
    api = api_for(app)

    opened = api.both(f"{API}/requests", "requests", status="open")
    closed = api.both(f"{API}/requests", "requests", status="closed")

    assert numbers(opened) == [made[s].number for s in ("open", "in_progress", "on_hold")]
    assert {item["status"] for item in opened.value} == {"open"}
    assert numbers(closed) == [made["closed"].number] and closed.value[0]["status"] == "closed"
    assert len(api.get(f"{API}/requests", "json", "requests", status="open,closed").value) == 4


def test_service_request_id_overrides_every_other_filter(app, seed, db, clock):
    old = seed("pothole", clock.now - timedelta(days=200))
    cases.update_status(db, old, "closed", None, public=False, actor="crew", now=clock.now - timedelta(days=199))
    db.commit()
    recent = seed("streetlight", clock.now)
    typo = recent.number[:-1] + str((int(recent.number[-1]) + 1) % 10)

    answer = api_for(app).both(f"{API}/requests", "requests", status="open", service_code="graffiti",
                               service_request_id=f"{old.number}, {recent.number},{typo}")

    assert numbers(answer) == [recent.number, old.number]


def test_the_page_limit_and_paging(make_app, clock):
    app = make_app({"open311": {"page_limit": 3}})
    db = app.extensions["ivr"].db.sessions()
    schedule = app.extensions["ivr"].settings.schedule
    made = [cases.create_case(db, cases.NewCase("pothole"), schedule, "test", now=clock.now - timedelta(minutes=m))[0]
            for m in range(5)]
    db.commit()
    api = api_for(app)

    assert numbers(api.get(f"{API}/requests", "json", "requests")) == [case.number for case in made[:3]]
    assert numbers(api.get(f"{API}/requests", "json", "requests", page="2")) == [case.number for case in made[3:]]
    assert numbers(api.get(f"{API}/requests", "json", "requests", page_size="2", page="2")) == [
        made[2].number, made[3].number]
    assert api.get(f"{API}/requests", "json", "requests", page_size="4").status == 400
    db.close()


def test_same_time_cases_come_newest_number_first(app, seed, clock):
    first, second = seed("pothole", clock.now), seed("pothole", clock.now)

    assert numbers(api_for(app).get(f"{API}/requests", "json", "requests")) == [second.number, first.number]


# ---- what one request says -------------------------------------------------------------------------

def test_a_request_in_full_with_times_in_hartford_time(app, seed, clock):
    case = seed("pothole", clock.now, location="45 Park Terrace", latitude=41.75, longitude=-72.69,
                description="deep hole")

    [item] = api_for(app).both(f"{API}/requests/{case.number}", "requests").value

    assert item == {
        "service_request_id": case.number, "status": "open", "status_notes": "received",
        "service_name": "pothole", "service_code": "pothole", "description": "deep hole",
        "agency_responsible": "Public Works",
        "service_notice": "Public Works usually responds within 5 business days.",
        "requested_datetime": "2026-12-01T10:00:00-05:00", "updated_datetime": "2026-12-01T10:00:00-05:00",
        "expected_datetime": "2026-12-07T17:00:00-05:00", "address": "45 Park Terrace", "address_id": None,
        "zipcode": None, "lat": 41.75, "long": -72.69, "media_url": None,
    }


def test_status_notes_read_the_latest_public_note_in_english_and_spanish(app, seed, db, clock):
    case = seed("pothole", clock.now)
    cases.update_status(db, case, "in_progress", "Crew scheduled for Monday.", public=True, actor="dpw",
                        now=clock.now + timedelta(hours=1), note_es="La cuadrilla viene el lunes.")
    cases.update_status(db, case, None, "Landlord called back", public=False, actor="dpw",
                        now=clock.now + timedelta(hours=2))
    db.commit()

    [item] = api_for(app).both(f"{API}/requests/{case.number}", "requests").value

    assert item["status_notes"] == ("in progress: Crew scheduled for Monday. / "
                                    "en proceso: La cuadrilla viene el lunes.")
    assert item["updated_datetime"] == "2026-12-01T12:00:00-05:00"


def test_a_note_without_spanish_is_given_once_and_a_later_status_change_replaces_it(app, seed, db, clock):
    case = seed("pothole", clock.now)
    cases.update_status(db, case, "in_progress", "Crew scheduled for Monday.", public=True, actor="dpw",
                        now=clock.now + timedelta(hours=1))
    db.commit()
    api = api_for(app)
    assert api.get(f"{API}/requests/{case.number}", "json", "requests").value[0]["status_notes"] == (
        "in progress: Crew scheduled for Monday.")

    cases.update_status(db, case, "closed", None, public=False, actor="dpw", now=clock.now + timedelta(days=2))
    db.commit()

    [item] = api.get(f"{API}/requests/{case.number}", "json", "requests").value
    assert (item["status"], item["status_notes"]) == ("closed", "closed")
    assert item["updated_datetime"] == "2026-12-03T10:00:00-05:00"


def test_extensions_add_the_detailed_status_department_and_expected_date(app, seed, db, clock):
    case = seed("no_heat", clock.now, location="1 Main St", contact_phone="+18605550111")
    cases.update_status(db, case, "on_hold", None, public=False, actor="lni", now=clock.now)
    db.commit()
    api = api_for(app)

    plain = api.get(f"{API}/requests/{case.number}", "json", "requests").value[0]
    [item] = api.both(f"{API}/requests/{case.number}", "requests", extensions="true").value

    assert "extended_attributes" not in plain
    assert item["status"] == "open"
    assert item["extended_attributes"] == {
        "detailed_status": "on_hold", "detailed_status_name": "on hold", "department_code": "lni",
        "department": "Licenses and Inspections", "expected_datetime": "2026-12-03T16:00:00-05:00",
        "channel": "phone", "attributes": [],
    }


def test_extensions_show_the_attributes_an_api_client_gave(app):
    from tests.open311.support import issue_key

    api = api_for(app)
    number = api.post(f"{API}/requests", "json", {
        "api_key": issue_key(app), "service_code": "bulky_waste", "address_string": "12 Main Street",
        "attribute[items]": "2", "attribute[item_kinds][]": ["mattress", "other"], "email": "x@example.org",
    }).value[0]["service_request_id"]

    [item] = api.both(f"{API}/requests/{number}", "requests", extensions="true").value

    assert item["extended_attributes"]["attributes"] == [{"code": "items", "values": ["2"]},
                                                         {"code": "item_kinds", "values": ["mattress", "other"]}]
    assert item["extended_attributes"]["channel"] == "open311"


@FORMATS
@pytest.mark.parametrize("number", [case_number_for_serial(8_999_998), "10000013", "abc"])
def test_an_unknown_request_is_404(app, fmt, number):
    answer = api_for(app).get(f"{API}/requests/{number}", fmt, "requests")

    assert answer.status == 404 and answer.value[0]["code"] == 404


def test_the_xml_of_a_request_uses_the_spec_element_names(app, seed, clock):
    case = seed("pothole", clock.now, latitude=41.75, longitude=-72.69)

    text = app.test_client().get(f"{API}/requests/{case.number}.xml").get_data(as_text=True)

    assert text.startswith(f'<?xml version="1.0" encoding="UTF-8"?>\n<service_requests><request><service_request_id>'
                           f'{case.number}</service_request_id><status>open</status><status_notes>received'
                           f'</status_notes><service_name>pothole</service_name>')
    assert "<lat>41.75</lat><long>-72.69</long><media_url />" in text
