"""`ivr staff add|disable|enable|reset-password|list`, audited like the console's own changes."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ivr.models import StaffAccount, StaffAuditEvent
from tests.conftest import STAFF_PASSWORD, sign_in


@pytest.fixture
def run(ivr_command):
    """run('staff', 'list', input=...) -> click Result, on the test database (synced and emptied by `app`)."""
    return ivr_command


def account(db, username: str) -> StaffAccount | None:
    db.expire_all()
    return db.scalars(select(StaffAccount).where(StaffAccount.username == username)).first()


def test_add_prompts_twice_for_a_hidden_password_and_the_account_signs_in(run, app, db):
    result = run("staff", "add", "Maria", "--role", "operator", input=f"{STAFF_PASSWORD}\n{STAFF_PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "added maria (operator)" in result.output
    assert STAFF_PASSWORD not in result.output
    assert account(db, "maria").password_hash.startswith("$argon2id$")
    assert sign_in(app.test_client(), "maria").status_code == 302
    audit = db.scalars(select(StaffAuditEvent)).all()
    assert [(e.actor, e.action, e.target) for e in audit] == [("cli:cli-test", "account_created", "maria"),
                                                              ("staff:maria", "login", None)]


def test_department_staff_need_a_known_department(run, db):
    assert "need a department" in run("staff", "add", "pat", "--role", "department", "--generate").output
    assert "unknown department 'nope'" in run("staff", "add", "pat", "--role", "department",
                                              "--department", "nope", "--generate").output
    ok = run("staff", "add", "pat", "--role", "department", "--department", "dpw", "--generate")
    assert ok.exit_code == 0 and "password: " in ok.output
    assert account(db, "pat").department.code == "dpw"


def test_a_short_password_or_a_taken_name_is_refused_cleanly(run, db):
    short = run("staff", "add", "sam", "--role", "supervisor", "--password-stdin", input="short\n")
    assert short.exit_code == 1 and "at least 12 characters" in short.output and "Traceback" not in short.output
    assert account(db, "sam") is None
    run("staff", "add", "sam", "--role", "supervisor", "--generate")
    again = run("staff", "add", "sam", "--role", "operator", "--generate")
    assert again.exit_code == 1 and "already an account 'sam'" in again.output


def test_disable_stops_sign_in_and_enable_restores_it(run, app):
    run("staff", "add", "lee", "--role", "operator", "--password-stdin", input=STAFF_PASSWORD + "\n")
    assert run("staff", "disable", "lee").exit_code == 0
    assert sign_in(app.test_client(), "lee").status_code == 401
    assert "disabled" in run("staff", "list").output
    assert run("staff", "enable", "lee").exit_code == 0
    assert sign_in(app.test_client(), "lee").status_code == 302
    assert run("staff", "disable", "nobody").output.strip().endswith("no staff account 'nobody'")


def test_reset_password_unlocks_and_the_old_password_stops_working(run, app, db):
    run("staff", "add", "kim", "--role", "operator", "--password-stdin", input=STAFF_PASSWORD + "\n")
    client = app.test_client()
    for _ in range(app.extensions["ivr"].settings.staff.lockout_after_failures):
        sign_in(client, "kim", "wrong-password-123")
    assert "locked" in run("staff", "list").output
    result = run("staff", "reset-password", "kim", "--generate")
    assert result.exit_code == 0
    new = result.output.split("password: ")[1].strip()
    assert sign_in(app.test_client(), "kim", STAFF_PASSWORD).status_code == 401
    assert sign_in(app.test_client(), "kim", new).status_code == 302
    actions = [e.action for e in db.scalars(select(StaffAuditEvent).order_by(StaffAuditEvent.id))]
    assert "account_locked" in actions and "password_reset" in actions


def test_list_shows_role_department_state_and_last_sign_in(run, app):
    assert "no staff accounts yet" in run("staff", "list").output
    run("staff", "add", "zed", "--role", "department", "--department", "dpw", "--password-stdin",
        input=STAFF_PASSWORD + "\n")
    sign_in(app.test_client(), "zed")
    line = next(line for line in run("staff", "list").output.splitlines() if line.startswith("zed"))
    assert line.split()[:4] == ["zed", "department", "dpw", "active"]
    assert "last sign-in 2026-12-01 15:00 UTC" in line
