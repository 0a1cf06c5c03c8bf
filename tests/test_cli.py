"""The `ivr` console command: cases, config sync, emergency closures and simulated calls, on the suite's database."""

from __future__ import annotations

import shutil
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

import ivr
import ivr.app
from ivr import cases
from ivr.cases.numbers import case_number_for_serial
from ivr.db import make_engine
from ivr.models import Base, Call, Case, Closure, Department, ServiceType
from ivr.settings import PROJECT_ROOT

HARTFORD = ZoneInfo("America/New_York")


def wipe(url: str) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(table.delete())
    finally:
        engine.dispose()


@pytest.fixture
def run(ivr_command):
    """run('case', 'show', N) -> click Result. The CLI builds its own app from DATABASE_URL, at the test clock."""
    return ivr_command


@pytest.fixture
def pothole_case(app, db):
    """A pothole case with contact details and two events, made through the case service."""
    schedule = app.extensions["ivr"].line.schedule
    case, _ = cases.create_case(db, cases.NewCase(
        service_type="pothole", location="45 Park Terrace", description="deep hole",
        contact_name="Maria Lopez", contact_phone="+18605554477"),
        schedule, actor="phone", now=datetime(2026, 12, 1, 10, 0, tzinfo=HARTFORD))
    cases.update_status(db, case, "in_progress", "Crew assigned", public=True, actor="alice",
                        now=datetime(2026, 12, 2, 9, 30, tzinfo=HARTFORD))
    db.commit()
    return case


def fresh(db, case: Case) -> Case:
    db.expire_all()
    return db.get(Case, case.id)


# ---- case show -----------------------------------------------------------------------------------

def test_case_show_prints_the_case_and_its_audit_trail(run, pothole_case):
    number = pothole_case.number

    result = run("case", "show", f"{number[:4]} {number[4:]}")

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"Case {number[:4]} {number[4:]}  pothole  [in_progress]"
    assert "  department: Public Works   channel: phone   language: en" in lines
    assert "  location:   45 Park Terrace" in lines
    assert "  description: deep hole" in lines
    assert "  contact:    Maria Lopez +18605554477" in lines  # staff see contact details
    assert "  requested:  2026-12-01 15:00 UTC   expected: 2026-12-07 22:00 UTC" in lines
    events = [line.split() for line in lines if line.startswith("  2026-")]
    assert events == [
        ["2026-12-01", "15:00", "phone", "created", "public", "received", "by", "phone"],
        ["2026-12-02", "14:30", "alice", "open", "->", "in_progress", "public", "Crew", "assigned"],
    ]


def test_case_show_unknown_number(run, app):
    unknown = case_number_for_serial(8_999_998)

    result = run("case", "show", unknown)

    assert result.exit_code == 1
    assert f"no case {unknown[:4]} {unknown[4:]}" in result.output


def test_case_show_bad_check_digit(run, pothole_case):
    number = pothole_case.number
    typo = number[:-1] + str((int(number[-1]) + 1) % 10)

    result = run("case", "show", typo)

    assert result.exit_code == 1
    assert f"Error: {typo} is not a valid case number (check digit fails)" in result.output
    assert "Maria" not in result.output


# ---- case update ---------------------------------------------------------------------------------

def test_case_update_writes_an_event(run, db, pothole_case):
    result = run("case", "update", pothole_case.number, "--status", "closed", "--note", "Filled the hole",
                 "--by", "alice")

    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"case {pothole_case.number}: closed - Filled the hole"
    case = fresh(db, pothole_case)
    assert case.status == "closed" and case.closed_at is not None
    last = case.events[-1]
    assert (last.kind, last.actor, last.from_status, last.to_status, last.note, last.public) == (
        "status", "alice", "in_progress", "closed", "Filled the hole", True)
    assert len(case.events) == 3


def test_case_update_internal_note_only(run, db, pothole_case):
    result = run("case", "update", pothole_case.number, "--note", "Waiting for asphalt", "--internal", "--by", "bob")

    assert result.exit_code == 0, result.output
    case = fresh(db, pothole_case)
    last = case.events[-1]
    assert (last.kind, last.actor, last.to_status, last.note, last.public) == (
        "note", "bob", "in_progress", "Waiting for asphalt", False)
    assert case.status == "in_progress"


def test_case_update_defaults_the_actor_to_the_user(run, db, pothole_case):
    assert run("case", "update", pothole_case.number, "--status", "on_hold").exit_code == 0
    assert fresh(db, pothole_case).events[-1].actor == "cli-test"


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [(["--by", "alice"], 1, "give a new status, a note, or both"),
     (["--status", "finished"], 2, "Invalid value for '--status'")],
)
def test_case_update_refuses_bad_changes(run, db, pothole_case, args, code, message):
    result = run("case", "update", pothole_case.number, *args)

    assert result.exit_code == code
    assert message in result.output
    assert len(fresh(db, pothole_case).events) == 2


def test_case_update_unknown_or_mistyped_number(run, db, pothole_case):
    typo = pothole_case.number[:-1] + str((int(pothole_case.number[-1]) + 1) % 10)
    for number in (typo, case_number_for_serial(8_999_998)):
        result = run("case", "update", number, "--status", "closed", "--by", "alice")
        assert result.exit_code == 1
        assert f"no case {number}" in result.output
    assert fresh(db, pothole_case).status == "in_progress"


# ---- sync-config ---------------------------------------------------------------------------------

def test_sync_config_twice(run, database_url):
    wipe(database_url)

    first = run("sync-config")
    second = run("sync-config")

    assert first.exit_code == 0, first.output
    assert first.output.strip() == ("departments added: 8, departments updated: 0, types added: 12, "
                                    "types updated: 0, deactivated: 0")
    assert second.output.strip() == ("departments added: 0, departments updated: 0, types added: 0, "
                                     "types updated: 0, deactivated: 0")
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            assert conn.scalar(select(ServiceType.name_es).where(ServiceType.code == "pothole")) == "bache"
            assert len(conn.execute(select(Department.code)).all()) == 8
    finally:
        engine.dispose()


# ---- closures ------------------------------------------------------------------------------------

def test_closure_start_status_end(run, app, db, phone):
    assert run("closure", "status").output.strip() == "no emergency closure; regular hours apply."

    started = run("closure", "start", "--message", "City offices are closed for snow.", "--message-es",
                  "Las oficinas están cerradas por la nieve.", "--by", "alice")
    assert started.exit_code == 0, started.output
    assert started.output.strip() == ("311 is now closed for an emergency; callers hear the after-hours menu "
                                      "and: City offices are closed for snow.")
    status = run("closure", "status").output.strip()
    assert status.startswith("closed since ") and status.endswith("UTC by alice: City offices are closed for snow.")

    # Callers hear it at once, although the clock says 311 is open.
    call = phone()
    call.press("1")
    assert call.heard()[-2].startswith("311 is closed now because of an emergency closure. "
                                       "City offices are closed for snow.")

    ended = run("closure", "end", "--by", "bob")
    assert ended.output.strip() == "emergency closure ended; regular hours apply."
    assert run("closure", "end").output.strip() == "no emergency closure was in force."
    assert run("closure", "status").output.strip() == "no emergency closure; regular hours apply."
    db.expire_all()
    [closure] = db.scalars(select(Closure)).all()
    assert (closure.started_by, closure.ended_by, closure.message_es) == (
        "alice", "bob", "Las oficinas están cerradas por la nieve.")
    assert closure.ended_at is not None


# ---- call ----------------------------------------------------------------------------------------

def test_call_script_prints_a_transcript(run):
    result = run("call", "--script", "1,<silence>")

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    menu = ("CALLER HEARS (en-US): Say what you need, or press 1 to report a problem, 2 to check on a case, "
            "3 for city information, 4 to reach a city department, or 0 to speak with a representative.")
    assert lines[0].startswith("CALLER HEARS (en-US): City of Hartford 311. For police, fire or medical")
    assert lines[1].startswith("CALLER HEARS (es-US): Para español, oprima 2.")
    # Then the offer of 3 in English and in each offered language, in its voice (test_greeting_languages.py).
    assert lines[3].startswith("CALLER HEARS (pt-BR): Português, tecle 3.")
    assert lines[8:] == ["CALLER PRESSES: 1", menu, "CALLER IS SILENT",
                         "CALLER HEARS (en-US): Sorry, I didn't get that.", menu]


def test_call_records_the_route_dialled(run, database_url):
    result = run("call", "--to", "ten-digit", "--from", "+18605557777", "--script", "1,<hangup>")

    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-2:] == ["CALLER HANGS UP", "-- call ended --"]
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(Call.route, Call.from_number, Call.final_status)).all()
    finally:
        engine.dispose()
    assert [tuple(row) for row in rows] == [("ten-digit", "+18605557777", "completed")]


def test_calls_lists_abandoned_reports_with_what_they_collected(run, phone):
    finished = phone(from_="+18605550111")
    finished.press("1").press("3").hangup()
    abandoned = phone(from_="+18605550122")
    abandoned.press("1").press("1").press("2").say("12 Elm Street").press("1").hangup()

    result = run("calls", "--abandoned")

    assert result.exit_code == 0, result.output
    assert abandoned.call_sid in result.output and "+18605550122" in result.output
    assert "'service_types': 'pothole', 'location': '12 Elm Street'" in result.output
    assert finished.call_sid not in result.output
    everything = run("calls")
    assert finished.call_sid in everything.output and abandoned.call_sid in everything.output


def test_call_script_with_a_step_after_the_call_ended_says_so_without_a_traceback(run):
    result = run("call", "--script", "1,0,<silence>,<silence>,<silence>,<silence>,<silence>,<silence>,<silence>,1")

    assert result.exit_code == 1
    assert "the call has ended" in result.output
    assert "Traceback" not in result.output


# ---- ivr check: what start-up refuses, reported before a deployment ---------------------------------

@pytest.fixture
def project_copy(tmp_path, monkeypatch):
    """A copy of flows/, prompts/ and config/ that `ivr` reads instead of the project's own."""
    for folder in ("flows", "prompts", "config"):
        shutil.copytree(PROJECT_ROOT / folder, tmp_path / folder)
    monkeypatch.setattr(ivr.app, "PROJECT_ROOT", tmp_path)
    monkeypatch.setenv("IVR_CONFIG_DIR", str(tmp_path / "config"))
    return tmp_path


def replace_in(path, old: str, new: str) -> None:
    """Change one piece of a copied file (it must be there)."""
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_check_passes_on_the_shipped_line_once_synced(run, project_copy):
    assert run("sync-config").exit_code == 0
    result = run("check")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("ok: ") and "12 service types" in result.output


@pytest.mark.parametrize(("file", "old", "new", "said"), [
    ("en.yaml", "departments.intro: City departments.",
     "departments.intro: City departments. For the police, press 7.", "says the key itself ('press 7')"),
    ("es.yaml", "departments.intro: Departamentos de la ciudad.",
     "departments.intro: Departamentos de la ciudad. Para la policía, oprima 7.", "says the key itself ('oprima 7')"),
])
def test_check_catches_a_key_written_into_a_menu_prompt(run, project_copy, file, old, new, said):
    run("sync-config")
    replace_in(project_copy / "prompts" / file, old, new)
    result = run("check")
    assert result.exit_code == 1
    assert "node 'departments'" in result.output and said in result.output


def test_check_catches_a_config_key_colliding_with_a_menu_key(run, project_copy):
    replace_in(project_copy / "config" / "service_types.toml", 'code = "graffiti"\nkey = ""',
               'code = "graffiti"\nkey = "9"')
    run("sync-config")
    result = run("check")
    assert result.exit_code == 1
    assert "directory 'service_types' key '9' collides with flows/cases.yaml: node 'report_type' option '9'" \
        in result.output


def test_check_catches_a_service_type_not_synced_to_the_database(run, project_copy):
    assert run("sync-config").exit_code == 0
    with (project_copy / "config" / "service_types.toml").open("a") as handle:
        handle.write('\n[[service_type]]\ncode = "sidewalk"\nkey = ""\nname_en = "broken sidewalk"\n'
                     'name_es = "acera rota"\nspoken_en = "a broken sidewalk"\nspoken_es = "una acera rota"\n'
                     'description_en = ""\nkeywords_en = ["sidewalk"]\nkeywords_es = ["acera"]\nphrases_en = []\n'
                     'phrases_es = []\ndepartment = "dpw"\nrequires_contact = false\nsla_days = 10\n'
                     'location_kind = "problem"\nfallback = false\n')
    result = run("check")
    assert result.exit_code == 1
    assert "service type 'sidewalk' is in config/ but not in the database" in result.output
    assert "ivr sync-config" in result.output

    assert run("sync-config").exit_code == 0
    assert run("check").exit_code == 0


# ---- purge ---------------------------------------------------------------------------------------

def test_purge_dry_run_then_purge_then_nothing_left(run, app, db):
    from ivr import calls as call_records

    call = call_records.find_or_start(db, "CAold", "+18605550123", "+18605550311", "311")
    call.started_at = datetime(2026, 6, 1, tzinfo=HARTFORD)  # six months before the test clock
    call_records.record_turn(db, call, language="en", answers={"location": "1 Elm St"}, outcome=None, node="a",
                             event="gather", caller_input="1", next_node=None)
    case, _ = cases.create_case(db, cases.NewCase(service_type="pothole", contact_name="Maria Lopez",
                                                  contact_phone="+18605554477"),
                                app.extensions["ivr"].line.schedule, actor="phone",
                                now=datetime(2025, 5, 1, tzinfo=HARTFORD))
    cases.update_status(db, case, "closed", None, public=True, actor="alice", now=datetime(2025, 6, 1, tzinfo=HARTFORD))
    db.commit()

    dry = run("purge", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert dry.output.startswith("would remove: caller details of 1 calls and 1 turns (calls over 90 days old)")
    assert "contact details of 1 cases (closed over 365 days ago)" in dry.output
    assert fresh(db, case).contact_name == "Maria Lopez" and db.get(Call, call.id).from_number == "+18605550123"

    done = run("purge")
    assert done.exit_code == 0, done.output
    assert done.output.startswith("removed: caller details of 1 calls and 1 turns")
    assert fresh(db, case).contact_name is None and db.get(Call, call.id).from_number is None
    assert "of 0 calls and 0 turns" in run("purge").output


def test_commands_are_not_held_to_a_callers_time_limits(monkeypatch, database_url):
    """A purge over a million calls or a year's report may take longer than a caller's turn ever should."""
    from sqlalchemy import text

    from ivr.cli import _app
    from ivr.db import MIGRATION_BUSY_TIMEOUT

    monkeypatch.setenv("DATABASE_URL", database_url)
    database = _app().extensions["ivr"].db
    try:
        assert database.watchdog is None
        with database.engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                assert connection.scalar(text("SHOW statement_timeout")) == "0"
            else:
                assert connection.scalar(text("PRAGMA busy_timeout")) == MIGRATION_BUSY_TIMEOUT * 1000
    finally:
        database.dispose()
