"""Finding cases for staff (ivr.cases.queries): by number, phone and street, and a queue's filters, sorts and pages."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from ivr import cases
from ivr.cases import queries
from ivr.cases.numbers import case_number_for_serial
from ivr.cases.queries import QueueFilter, SearchError
from ivr.models import Case, Department, ServiceType

HARTFORD = ZoneInfo("America/New_York")
NOW = datetime(2026, 12, 15, 10, 0, tzinfo=HARTFORD)


def local(*args) -> datetime:
    return datetime(*args, tzinfo=HARTFORD)


@pytest.fixture
def make(app, db):
    """make(code, requested_at, **fields) -> a case made through the case service."""
    schedule = app.extensions["ivr"].line.schedule

    def create(code: str = "pothole", at: datetime | None = None, **fields) -> Case:
        at = at or local(2026, 12, 1, 10, 0)
        case, created = cases.create_case(db, cases.NewCase(service_type=code, **fields), schedule, "test", now=at)
        assert created
        db.commit()
        return case

    return create


def dept(db, code: str) -> Department:
    return db.scalars(select(Department).where(Department.code == code)).one()


def type_id(db, code: str) -> int:
    return db.scalars(select(ServiceType.id).where(ServiceType.code == code)).one()


def numbers(page) -> list[str]:
    return [case.number for case in page.cases]


# ---- the desk's searches ---------------------------------------------------------------------------

def test_by_number_accepts_spaces_and_refuses_a_typo_like_the_phone(make, db):
    case = make()
    assert queries.by_number(db, f"{case.number[:4]} {case.number[4:]}").id == case.id
    typo = case.number[:-1] + str((int(case.number[-1]) + 1) % 10)
    with pytest.raises(SearchError, match="check digit"):
        queries.by_number(db, typo)
    assert queries.by_number(db, case_number_for_serial(999)) is None  # valid, but no such case


def test_by_phone_finds_the_call_back_number_and_the_calls_from_that_phone(make, db):
    with_contact = make("no_heat", contact_phone="+18605554477", location="12 Main Street")
    from_a_call = make("pothole", call_sid="CA" + "1" * 32)
    make("pothole", call_sid="CA" + "2" * 32, contact_phone="+18605550000")

    found = queries.by_phone(db, queries.caller_number("(860) 555-4477"), ["CA" + "1" * 32], limit=10)

    assert {case.id for case in found} == {with_contact.id, from_a_call.id}
    with pytest.raises(SearchError):
        queries.caller_number("555-44")


def test_by_street_matches_words_of_the_location_case_blind(make, db):
    park = make(location="45 Park Terrace", description="near Main Street")
    main = make(location="12 Main Street")
    odd = make(location="100% Lane_1")
    assert [c.id for c in queries.by_street(db, "park terr", 10)] == [park.id]
    assert [c.id for c in queries.by_street(db, "100%", 10)] == [odd.id]  # the words, punctuation aside
    assert [c.id for c in queries.by_street(db, "MAIN str", 10)] == [main.id]  # the location's words only
    with pytest.raises(SearchError, match="three letters"):
        queries.by_street(db, "pa", 10)


# ---- the queue -----------------------------------------------------------------------------------------

@pytest.fixture
def queue(make, db):
    """Public Works cases over two weeks, one Parks case; some closed, some overdue."""
    made = {
        "old_pothole": make("pothole", local(2026, 12, 1, 9, 0), description="deep hole", location="1 Elm St"),
        "trash": make("missed_trash", local(2026, 12, 2, 9, 0), location="2 Oak St"),
        "closed": make("pothole", local(2026, 12, 3, 9, 0), location="3 Elm St"),
        "new_pothole": make("pothole", local(2026, 12, 14, 9, 0), description="Hole by the school"),
        "tree": make("tree", local(2026, 12, 2, 9, 0), location="4 Elm St"),
    }
    cases.update_status(db, made["closed"], "closed", "Filled", public=True, actor="crew", now=local(2026, 12, 4, 9))
    cases.update_status(db, made["trash"], "in_progress", None, public=False, actor="crew",
                        now=local(2026, 12, 3, 9))
    db.commit()
    return made


def page(db, size=10, after=None, **filters):
    filters.setdefault("department_id", dept(db, "dpw").id)
    return queries.queue_page(db, QueueFilter(**filters), NOW, size, after)


def test_a_department_sees_only_its_open_cases_newest_first_by_default(queue, db):
    assert numbers(page(db)) == [queue[k].number for k in ("new_pothole", "trash", "old_pothole")]


def test_every_department_for_operators(queue, db):
    found = numbers(page(db, department_id=None, status="all"))
    assert set(found) == {case.number for case in queue.values()}


@pytest.mark.parametrize(("status", "expected"), [
    ("closed", ["closed"]), ("in_progress", ["trash"]), ("open", ["new_pothole", "old_pothole"]),
    ("all", ["new_pothole", "closed", "trash", "old_pothole"]),
])
def test_status_filter(queue, db, status, expected):
    assert numbers(page(db, status=status)) == [queue[k].number for k in expected]


def test_overdue_is_past_the_expected_date_and_not_closed(queue, db):
    # Pothole of Dec 1 was expected Dec 7, trash of Dec 2 on Dec 3; the closed one is not overdue, nor the new one.
    assert numbers(page(db, overdue=True, sort="due")) == [queue[k].number for k in ("trash", "old_pothole")]


def test_type_created_between_and_text(queue, db):
    assert numbers(page(db, service_type_id=type_id(db, "missed_trash"))) == [queue["trash"].number]
    window = page(db, status="all", created_from=local(2026, 12, 2), created_to=local(2026, 12, 4))
    assert numbers(window) == [queue["closed"].number, queue["trash"].number]
    assert numbers(page(db, text="HOLE")) == [queue[k].number for k in ("new_pothole", "old_pothole")]
    assert numbers(page(db, text="elm st", status="all")) == [queue[k].number for k in ("closed", "old_pothole")]
    assert numbers(page(db, text=queue["trash"].number)) == [queue["trash"].number]


def test_sorts(queue, db):
    assert numbers(page(db, sort="oldest")) == [queue[k].number for k in ("old_pothole", "trash", "new_pothole")]
    # Due soonest: trash (Dec 3), old pothole (Dec 7), new pothole (Dec 21).
    assert numbers(page(db, sort="due")) == [queue[k].number for k in ("trash", "old_pothole", "new_pothole")]


@pytest.mark.parametrize("sort", ["newest", "oldest", "due"])
def test_pages_follow_each_other_without_gaps_or_repeats(make, db, sort):
    start = local(2026, 12, 1, 9, 0)
    made = [make("pothole", start + timedelta(hours=i // 2)) for i in range(11)]  # pairs share a request time
    undated = made[3]
    undated.expected_at = None  # a type without an SLA: listed after every dated case when sorted by due date
    db.commit()
    seen, after = [], None
    for _ in range(5):
        result = page(db, size=3, after=after, sort=sort, status="all")
        seen += numbers(result)
        after = result.next_cursor
        if after is None:
            break
    assert sorted(seen) == sorted(case.number for case in made)
    assert len(seen) == len(set(seen))
    if sort == "due":
        assert seen[-1] == undated.number
    if sort == "newest":
        assert seen == [case.number for case in sorted(made, key=lambda c: (c.requested_at, c.id), reverse=True)]


def test_the_last_page_has_no_next_cursor(queue, db):
    assert page(db, size=3).next_cursor is None
    assert page(db, size=2).next_cursor is not None


@pytest.mark.parametrize(("filters", "message"), [
    ({"status": "lost"}, "unknown status"),
    ({"sort": "random"}, "unknown sort"),
    ({"created_from": local(2026, 12, 5), "created_to": local(2026, 12, 1)}, "before"),
    ({"text": "x" * 101}, "limited"),
])
def test_bad_filters_are_refused_with_a_reason(db, filters, message):
    with pytest.raises(SearchError, match=message):
        page(db, department_id=None, **filters)


@pytest.mark.parametrize("cursor", ["nonsense", "2026-12-01T10:00:00_x", "2026-12-01T10:00:00_5", "-_"])
def test_a_damaged_page_link_is_refused(db, cursor):
    with pytest.raises(SearchError, match="damaged"):
        page(db, department_id=None, after=cursor)
