"""`ivr report sla --from --to [--csv]`: compliance per department and type, on the suite's database."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from ivr import cases

HARTFORD = ZoneInfo("America/New_York")


def local(*args) -> datetime:
    return datetime(*args, tzinfo=HARTFORD)


@pytest.fixture
def run(ivr_command):
    """run('report', 'sla', ...) -> click Result; the command builds its own app on the test database and clock."""
    return ivr_command


@pytest.fixture
def december(app, db, clock):
    """Three potholes (one met, one missed, one pending) and a no-heat case met, requested in December."""
    schedule = app.extensions["ivr"].line.schedule

    def make(code, at, **fields):
        return cases.create_case(db, cases.NewCase(service_type=code, **fields), schedule, "test", now=at)[0]

    met = make("pothole", local(2026, 12, 1, 10))  # expected Dec 7
    late = make("pothole", local(2026, 12, 1, 11))
    make("pothole", local(2026, 12, 9, 10))  # expected Dec 15: pending on Dec 10
    heat = make("no_heat", local(2026, 12, 1, 10), contact_phone="+18605554477")
    make("pothole", local(2026, 11, 30, 23, 59))  # the day before the period, Hartford time
    for case, at in ((met, local(2026, 12, 7, 16)), (late, local(2026, 12, 8, 9)), (heat, local(2026, 12, 2, 9))):
        cases.update_status(db, case, "closed", None, public=False, actor="crew", now=at)
    db.commit()
    clock.set(2026, 12, 10, 12, 0)


def test_the_table_shows_each_department_then_its_types(run, december):
    result = run("report", "sla", "--from", "2026-12-01", "--to", "2026-12-31")

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "SLA compliance for cases requested 2026-12-01 to 2026-12-31 (Hartford time)"
    rows = [line.split() for line in lines[2:-1]]
    # Licenses and Inspections sorts before Public Works.
    assert rows[0][-6:] == ["types)", "1", "1", "0", "0", "100.0%"]
    assert rows[0][:3] == ["Licenses", "and", "Inspections"]
    assert rows[2][:2] == ["Public", "Works"] and rows[2][-5:] == ["3", "1", "1", "1", "50.0%"]
    assert rows[3][-6:] == ["pothole", "3", "1", "1", "1", "50.0%"]


def test_csv_has_one_row_per_department_and_type(run, december):
    result = run("report", "sla", "--from", "2026-12-01", "--to", "2026-12-31", "--csv")

    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert [(r["department_code"], r["type_code"], r["cases"], r["met"], r["missed"], r["pending"], r["compliance"])
            for r in rows] == [("lni", "no_heat", "1", "1", "0", "0", "1.0000"),
                               ("dpw", "pothole", "3", "1", "1", "1", "0.5000")]


def test_the_last_day_is_included_in_hartford_time(run, december):
    result = run("report", "sla", "--from", "2026-11-30", "--to", "2026-11-30", "--csv")
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert [(r["type_code"], r["cases"]) for r in rows] == [("pothole", "1")]


def test_an_empty_period_says_so(run, december):
    result = run("report", "sla", "--from", "2025-01-01", "--to", "2025-01-31")
    assert result.exit_code == 0
    assert "No cases were requested in that period." in result.output


@pytest.mark.parametrize(("args", "message"), [
    (("--from", "2026-12-31", "--to", "2026-12-01"), "--to must not be before --from"),
    (("--from", "December", "--to", "2026-12-01"), "Invalid value for '--from'"),
    (("--to", "2026-12-01",), "Missing option '--from'"),
])
def test_bad_dates_are_refused_with_a_reason(run, args, message):
    result = run("report", "sla", *args)
    assert result.exit_code == 2
    assert message in result.output
