"""The case service (ivr.cases): SLAs, contact rules, the audit trail, look-ups, config sync, and case numbers
that stay unique when many threads and processes allocate them at once."""

from __future__ import annotations

import multiprocessing
import re
import threading
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from ivr import cases
from ivr.cases import CaseError, NewCase
from ivr.cases.numbers import case_number_for_serial, is_valid
from ivr.models import Case, CaseEvent, CaseSerial, Department, ServiceType

HARTFORD = ZoneInfo("America/New_York")


def local(*args) -> datetime:
    return datetime(*args, tzinfo=HARTFORD)


@pytest.fixture
def schedule(app):
    return app.extensions["ivr"].line.schedule


def create(db, schedule, code: str = "pothole", now: datetime | None = None, **fields) -> Case:
    case, created = cases.create_case(db, NewCase(service_type=code, **fields), schedule, actor="test",
                                      now=now or local(2026, 12, 1, 10, 0))
    assert created
    return case


# ---- create --------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("code", "created_at", "expected"),
    [
        # sla_days 2 on the day before Thanksgiving: Wednesday counts (logged before close), Thursday
        # (Thanksgiving), Friday (the day after, closed by config) and the weekend don't: Monday at close.
        ("missed_trash", local(2026, 11, 25, 10, 0), local(2026, 11, 30, 17, 0)),
        # Logged after Wednesday's close: Monday and Tuesday are the two days.
        ("missed_trash", local(2026, 11, 25, 18, 0), local(2026, 12, 1, 17, 0)),
        # sla_hours 24 the same morning: 7 h Wednesday, 9 h Monday, 8 h Tuesday.
        ("no_heat", local(2026, 11, 25, 10, 0), local(2026, 12, 1, 16, 0)),
        # sla_hours 12: 7 h Wednesday, then 5 h from Monday's opening.
        ("snow_ice", local(2026, 11, 25, 10, 0), local(2026, 11, 30, 13, 0)),
        # sla_days 5 over a plain week: Tuesday to the next Monday.
        ("pothole", local(2026, 12, 1, 10, 0), local(2026, 12, 7, 17, 0)),
    ],
)
def test_expected_at_follows_the_sla_in_business_time(db, schedule, code, created_at, expected):
    case = create(db, schedule, code, now=created_at, contact_phone="+18605554477")

    assert case.requested_at == created_at
    assert case.updated_at == created_at
    assert case.expected_at == expected
    assert case.expected_at.tzinfo is not None


def test_a_created_case_has_its_fields_and_one_created_event(db, schedule):
    case = create(db, schedule, "pothole", location="45 Park Terrace", description="deep hole", language="es",
                  channel="web", call_sid="CA" + "1" * 32)
    db.commit()
    db.expire_all()

    stored = db.get(Case, case.id)
    assert is_valid(stored.number) and len(stored.number) == 8
    assert (stored.service_type.code, stored.department.code, stored.status) == ("pothole", "dpw", "open")
    assert (stored.location, stored.description, stored.language, stored.channel) == (
        "45 Park Terrace", "deep hole", "es", "web")
    assert stored.closed_at is None
    [created] = stored.events
    assert (created.kind, created.actor, created.from_status, created.to_status, created.public) == (
        "created", "test", None, "open", True)
    assert created.at == local(2026, 12, 1, 10, 0)
    assert cases.public_notes(stored) == []  # "received by web" is not a staff note


def test_requires_contact_is_enforced(db, schedule):
    with pytest.raises(CaseError, match="contact"):
        create(db, schedule, "no_heat", contact_name="Maria Lopez")
    assert create(db, schedule, "no_heat", contact_email="maria@example.org").contact_email == "maria@example.org"
    assert create(db, schedule, "no_heat", contact_phone="+18605554477").contact_phone == "+18605554477"
    # Types that don't need contact details take none.
    assert create(db, schedule, "pothole").contact_phone is None


@pytest.mark.parametrize(
    ("fields", "message"),
    [({"service_type": "unicorns"}, "unknown service type"),
     ({"service_type": "pothole", "channel": "fax"}, "unknown channel")],
)
def test_bad_requests_are_refused(db, schedule, fields, message):
    with pytest.raises(CaseError, match=message):
        cases.create_case(db, NewCase(**fields), schedule, actor="test")
    assert db.scalar(select(func.count()).select_from(Case)) == 0


def test_an_inactive_type_is_refused(db, schedule):
    db.scalars(select(ServiceType).where(ServiceType.code == "graffiti")).one().active = False
    with pytest.raises(CaseError, match="unknown service type"):
        create(db, schedule, "graffiti")


def test_one_case_per_intake_key(db, schedule):
    request = NewCase(service_type="pothole", intake_key="CA123:1", call_sid="CA123")
    first, created = cases.create_case(db, request, schedule, actor="phone")
    second, created_again = cases.create_case(db, request, schedule, actor="phone")

    assert created and not created_again
    assert second.id == first.id
    assert db.scalar(select(func.count()).select_from(Case)) == 1
    other, created_other = cases.create_case(db, NewCase(service_type="pothole", intake_key="CA123:2"),
                                             schedule, actor="phone")
    assert created_other and other.number != first.number


# ---- update --------------------------------------------------------------------------------------

def test_update_status_writes_events_with_who_what_and_visibility(db, schedule):
    case = create(db, schedule, "pothole")

    started = cases.update_status(db, case, "in_progress", "Crew assigned", public=True, actor="alice",
                                  now=local(2026, 12, 2, 9, 0))
    internal = cases.update_status(db, case, None, "Needs a second crew", public=False, actor="bob",
                                   now=local(2026, 12, 2, 11, 0))
    closed = cases.update_status(db, case, "closed", "Filled", public=True, actor="alice",
                                 now=local(2026, 12, 3, 14, 30))
    db.commit()
    db.expire_all()

    stored = db.get(Case, case.id)
    assert [(e.kind, e.actor, e.from_status, e.to_status, e.note, e.public) for e in stored.events] == [
        ("created", "test", None, "open", "received by phone", True),
        ("status", "alice", "open", "in_progress", "Crew assigned", True),
        ("note", "bob", "in_progress", "in_progress", "Needs a second crew", False),
        ("status", "alice", "in_progress", "closed", "Filled", True),
    ]
    assert [started.at, internal.at, closed.at] == [local(2026, 12, 2, 9, 0), local(2026, 12, 2, 11, 0),
                                                    local(2026, 12, 3, 14, 30)]
    assert stored.status == "closed"
    assert stored.closed_at == local(2026, 12, 3, 14, 30)
    assert stored.updated_at == local(2026, 12, 3, 14, 30)
    assert [e.note for e in cases.public_notes(stored)] == ["Filled", "Crew assigned"]  # newest first


def test_reopening_clears_closed_at(db, schedule):
    case = create(db, schedule, "pothole")
    cases.update_status(db, case, "closed", None, public=True, actor="alice", now=local(2026, 12, 2, 9, 0))
    assert case.closed_at == local(2026, 12, 2, 9, 0)

    event_ = cases.update_status(db, case, "open", "Came back", public=True, actor="alice",
                                 now=local(2026, 12, 4, 9, 0))

    assert case.status == "open" and case.closed_at is None
    assert (event_.from_status, event_.to_status) == ("closed", "open")


@pytest.mark.parametrize(
    ("status", "note", "actor", "message"),
    [("done", None, "alice", "unknown status 'done'"),
     ("CLOSED", None, "alice", "unknown status"),
     (None, None, "alice", "new status, a note, or both"),
     (None, "", "alice", "new status, a note, or both"),
     ("closed", None, "", "who made it")],
)
def test_bad_updates_are_refused_and_change_nothing(db, schedule, status, note, actor, message):
    case = create(db, schedule, "pothole")

    with pytest.raises(CaseError, match=message):
        cases.update_status(db, case, status, note, public=True, actor=actor)

    assert case.status == "open"
    assert len(case.events) == 1
    assert db.scalar(select(func.count()).select_from(CaseEvent)) == 1


# ---- find ----------------------------------------------------------------------------------------

def test_find_case_by_number_as_typed(db, schedule):
    case = create(db, schedule, "pothole")
    db.commit()
    n = case.number

    assert cases.find_case(db, n).id == case.id
    assert cases.find_case(db, f"{n[:4]} {n[4:]}").id == case.id
    assert cases.find_case(db, f"{n[:4]}-{n[4:]}#").id == case.id


def test_find_case_with_a_bad_check_digit_is_none_without_a_query(app, db, schedule):
    case = create(db, schedule, "pothole")
    db.commit()
    typo = case.number[:-1] + str((int(case.number[-1]) + 1) % 10)
    i = next(i for i in range(7) if case.number[i] != case.number[i + 1])  # an adjacent swap that changes it
    swapped = case.number[:i] + case.number[i + 1] + case.number[i] + case.number[i + 2:]
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    engine = app.extensions["ivr"].db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        results = [cases.find_case(db, bad) for bad in (typo, swapped, "", "abc", "1")]
        assert statements == []
        assert cases.find_case(db, case.number) is not None
        assert any(re.search(r"\bFROM cases\b", s) for s in statements)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert results == [None] * 5


def test_find_case_unknown_valid_number_is_none(db):
    assert cases.find_case(db, case_number_for_serial(8_999_998)) is None


# ---- sync_config ---------------------------------------------------------------------------------

NOTHING_CHANGED = {"departments_added": 0, "departments_updated": 0, "types_added": 0, "types_updated": 0,
                   "deactivated": 0}


def changed_settings(settings):
    """The shipped settings with a renamed pothole (new SLA), a renamed department and a new type."""
    types = [replace(st, name_en="pothole or sinkhole", sla_days=3) if st.code == "pothole" else st
             for st in settings.service_types]
    sidewalk = replace(types[0], code="sidewalk", key="", name_en="broken sidewalk", name_es="acera rota",
                       department="dpw", requires_contact=False, sla_days=10, sla_hours=None)
    departments = [replace(d, name_es="Departamento de Obras Públicas") if d.code == "dpw" else d
                   for d in settings.departments]
    return replace(settings, service_types=(*types, sidewalk), departments=tuple(departments))


def test_sync_config_is_idempotent_and_updates_what_changed(app, db):
    settings = app.extensions["ivr"].settings  # the app fixture already synced these once

    assert cases.sync_config(db, settings) == NOTHING_CHANGED
    assert db.scalar(select(func.count()).select_from(ServiceType)) == len(settings.service_types)
    assert db.scalar(select(func.count()).select_from(Department)) == len(settings.departments)

    changed = changed_settings(settings)
    assert cases.sync_config(db, changed) == {**NOTHING_CHANGED, "departments_updated": 1, "types_added": 1,
                                              "types_updated": 1}
    assert cases.sync_config(db, changed) == NOTHING_CHANGED
    db.commit()
    db.expire_all()
    stored = db.scalars(select(ServiceType).where(ServiceType.code == "pothole")).one()
    assert (stored.name_en, stored.sla_days, stored.name_es) == ("pothole or sinkhole", 3, "bache")
    assert stored.department.name_es == "Departamento de Obras Públicas"
    sidewalk = db.scalars(select(ServiceType).where(ServiceType.code == "sidewalk")).one()
    assert (sidewalk.menu_key, sidewalk.requires_contact, sidewalk.department.code) == (None, False, "dpw")


def test_a_type_removed_from_config_is_deactivated_not_deleted(app, db):
    settings = app.extensions["ivr"].settings
    without_graffiti = replace(settings, service_types=tuple(st for st in settings.service_types
                                                             if st.code != "graffiti"))

    assert cases.sync_config(db, without_graffiti) == {**NOTHING_CHANGED, "deactivated": 1}
    graffiti = db.scalars(select(ServiceType).where(ServiceType.code == "graffiti")).one()
    assert graffiti.active is False
    assert cases.service_type_by_code(db, "graffiti") is None  # no new case can be filed under it


def test_config_differences_name_what_is_out_of_step(app, db):
    settings = app.extensions["ivr"].settings
    assert cases.config_differences(db, settings) == []

    problems = cases.config_differences(db, changed_settings(settings))

    assert "service type 'sidewalk' is in config/ but not in the database" in problems
    assert "service type 'pothole' differs from config/ (name_en, sla_days)" in problems
    assert "department 'dpw' differs from config/ (name_es)" in problems
    cases.sync_config(db, changed_settings(settings))
    assert cases.config_differences(db, changed_settings(settings)) == []
    assert cases.config_differences(db, settings) == [
        "department 'dpw' differs from config/ (name_es)",
        "service type 'pothole' differs from config/ (name_en, sla_days)",
        "'sidewalk' is active in the database but not in config/",
    ]


# ---- allocation under contention -----------------------------------------------------------------

THREADS = 8
CASES_PER_THREAD = 5


def test_concurrent_threads_get_unique_valid_numbers(app, schedule):
    database = app.extensions["ivr"].db
    barrier = threading.Barrier(THREADS)
    numbers: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            for n in range(CASES_PER_THREAD):
                with database.session() as session:  # each thread its own session and connection
                    case, created = cases.create_case(
                        session, NewCase(service_type="pothole", description=f"thread {index} case {n}",
                                         intake_key=f"thread-{index}-{n}"),
                        schedule, actor="test")
                    assert created
                    number = case.number
                with lock:
                    numbers.append(number)
        except BaseException as exc:  # noqa: BLE001 - reported below with the thread's failure
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert len(numbers) == THREADS * CASES_PER_THREAD
    assert len(set(numbers)) == len(numbers)
    assert all(is_valid(number) for number in numbers)
    with database.session() as session:
        stored = set(session.scalars(select(Case.number)))
    assert stored == set(numbers)


SERIALS_PER_PROCESS = 25


def _allocate_in_own_process(url: str, count: int, barrier, results) -> None:
    """Runs in a spawned process: its own engine from the URL, `count` serials, each in its own transaction."""
    from ivr.db import make_engine

    engine = make_engine(url)
    got = []
    try:
        barrier.wait(timeout=60)
        for _ in range(count):
            with Session(engine) as session, session.begin():
                got.append(cases.service.allocate_serial(session))
    finally:
        engine.dispose()
        results.put(got)


def test_two_processes_allocate_unique_serials(app, database_url):
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    results = context.Queue()
    processes = [context.Process(target=_allocate_in_own_process,
                                 args=(database_url, SERIALS_PER_PROCESS, barrier, results)) for _ in range(2)]
    for process in processes:
        process.start()
    batches = [results.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=30)

    assert [process.exitcode for process in processes] == [0, 0]
    serials = [serial for batch in batches for serial in batch]
    assert [len(batch) for batch in batches] == [SERIALS_PER_PROCESS] * 2
    assert len(set(serials)) == len(serials)
    numbers = [case_number_for_serial(serial) for serial in serials]
    assert len(set(numbers)) == len(numbers) and all(is_valid(number) for number in numbers)
    with app.extensions["ivr"].db.session() as session:
        assert set(session.scalars(select(CaseSerial.id))) >= set(serials)
