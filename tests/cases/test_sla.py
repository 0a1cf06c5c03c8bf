"""Accountability (ivr.cases.sla): overdue cases, and SLA compliance per department and type."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from ivr import cases
from ivr.cases import sla
from ivr.models import Case, Department

HARTFORD = ZoneInfo("America/New_York")


def local(*args) -> datetime:
    return datetime(*args, tzinfo=HARTFORD)


def close(db, case: Case, at: datetime) -> None:
    cases.update_status(db, case, "closed", None, public=False, actor="crew", now=at)
    db.commit()


@pytest.fixture
def history(make_case, db):
    """Public Works potholes (expected 5 business days later) and one no-heat case for L&I, in December."""
    met = make_case("pothole", local(2026, 12, 1, 10))  # expected Dec 7 17:00
    late = make_case("pothole", local(2026, 12, 1, 11))
    still_open_late = make_case("pothole", local(2026, 12, 2, 10))  # expected Dec 8 17:00
    not_due = make_case("pothole", local(2026, 12, 9, 10))  # expected Dec 15 17:00
    heat = make_case("no_heat", local(2026, 12, 1, 10), contact_phone="+18605554477")  # expected Dec 3 16:00
    outside = make_case("pothole", local(2026, 11, 20, 10))  # before the period
    close(db, met, local(2026, 12, 7, 16))
    close(db, late, local(2026, 12, 8, 9))
    close(db, heat, local(2026, 12, 3, 9))
    return {"met": met, "late": late, "open_late": still_open_late, "not_due": not_due, "heat": heat,
            "outside": outside}


NOW = local(2026, 12, 10, 12)


def test_overdue_means_past_the_expected_date_and_not_closed(history):
    assert sla.is_overdue(history["open_late"], NOW)
    assert not sla.is_overdue(history["late"], NOW)  # closed late: missed, but no longer overdue
    assert not sla.is_overdue(history["not_due"], NOW)
    assert sla.is_overdue(history["not_due"], local(2026, 12, 16))


def test_compliance_per_department_and_type(history, db):
    rows = sla.compliance_by_type(db, local(2026, 12, 1), local(2027, 1, 1), NOW)

    by_key = {(row.department_code, row.type_code): row for row in rows}
    assert set(by_key) == {("dpw", "pothole"), ("lni", "no_heat")}
    pothole = by_key["dpw", "pothole"]
    assert (pothole.cases, pothole.met, pothole.missed, pothole.pending) == (4, 1, 2, 1)
    assert pothole.rate == pytest.approx(1 / 3)
    heat = by_key["lni", "no_heat"]
    assert (heat.cases, heat.met, heat.missed, heat.rate) == (1, 1, 0, 1.0)
    totals = {row.department_code: row for row in sla.by_department(rows)}
    assert (totals["dpw"].cases, totals["dpw"].met, totals["dpw"].type_code) == (4, 1, None)


def test_a_reopened_case_counts_by_where_it_stands_now(history, db):
    cases.update_status(db, history["met"], "open", "Sinking again", public=True, actor="crew",
                        now=local(2026, 12, 9, 9))
    db.commit()
    [pothole] = [row for row in sla.compliance_by_type(db, local(2026, 12, 1), local(2027, 1, 1), NOW)
                 if row.type_code == "pothole"]
    assert (pothole.met, pothole.missed) == (0, 3)


def test_a_period_with_no_cases_has_no_rate(history, db):
    assert sla.compliance_by_type(db, local(2025, 1, 1), local(2025, 2, 1), NOW) == []
    empty = sla.Compliance("dpw", "Public Works", None, None, 0, 0, 0, 0, 0)
    assert empty.rate is None


def test_one_department_only(history, db):
    lni = db.scalars(select(Department).where(Department.code == "lni")).one()
    rows = sla.compliance_by_type(db, local(2026, 12, 1), local(2027, 1, 1), NOW, department_id=lni.id)
    assert [row.type_code for row in rows] == ["no_heat"]


def test_open_and_overdue_per_department(history, db):
    dpw = db.scalars(select(Department).where(Department.code == "dpw")).one()
    counts = sla.open_and_overdue(db, NOW)
    # Open: the late-open one, the not-yet-due one and the November one (expected Nov 30: overdue too).
    assert counts[dpw.id] == (3, 2)
    assert sla.open_and_overdue(db, NOW, department_id=dpw.id) == {dpw.id: (3, 2)}
