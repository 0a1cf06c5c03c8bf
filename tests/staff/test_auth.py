"""Signing in and out: argon2 hashes, lockout, throttling, sessions that end when the account changes."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from ivr.models import StaffAccount, StaffAuditEvent
from ivr.staff import accounts
from tests.conftest import STAFF_PASSWORD, form_token, sign_in


def audit_actions(db) -> list[tuple[str, str, str | None]]:
    db.expire_all()
    return [(e.actor, e.action, e.target) for e in db.scalars(select(StaffAuditEvent).order_by(StaffAuditEvent.id))]


def test_the_password_is_stored_only_as_an_argon2id_hash(app, db, staff_account):
    username, password = staff_account("operator")
    row = db.scalars(select(StaffAccount).where(StaffAccount.username == username)).one()
    assert row.password_hash.startswith("$argon2id$")
    assert password not in row.password_hash


def test_signing_in_opens_the_console_and_is_audited(app, db, staff_account):
    username, _ = staff_account("operator")
    client = app.test_client()
    answer = sign_in(client, username)
    assert answer.status_code == 302 and answer.headers["Location"] == "/staff/"
    home = client.get("/staff/")
    assert home.status_code == 200
    assert f"Signed in as <strong>{username}</strong>" in home.get_data(as_text=True)
    assert (f"staff:{username}", "login", None) in audit_actions(db)


def test_a_wrong_password_is_refused_with_one_message_for_every_cause(app, staff_account):
    username, _ = staff_account("operator")
    client = app.test_client()
    wrong_password = sign_in(client, username, "not-the-password")
    unknown_name = sign_in(client, "nobody-at-all", STAFF_PASSWORD)
    assert wrong_password.status_code == unknown_name.status_code == 401
    assert "Wrong username or password" in wrong_password.get_data(as_text=True)
    assert client.get("/staff/").status_code == 302


def test_repeated_failures_lock_the_account_until_the_lockout_ends(app, db, staff_account, clock):
    username, password = staff_account("operator")
    rules = app.extensions["ivr"].settings.staff
    client = app.test_client()
    for _ in range(rules.lockout_after_failures):
        assert sign_in(client, username, "wrong-password-123").status_code == 401
    # The right password no longer opens it ...
    assert sign_in(client, username, password).status_code == 401
    actions = audit_actions(db)
    assert ("system", "account_locked", username) in actions
    assert ("anonymous", "login_while_locked", username) in actions
    # ... until the lockout has run out.
    clock.now += timedelta(minutes=rules.lockout_minutes, seconds=1)
    assert sign_in(client, username, password).status_code == 302


def test_the_lockout_follows_config(make_app, clock):
    app = make_app({"staff": {"lockout_after_failures": 2, "lockout_minutes": 60}})
    state = app.extensions["ivr"]
    with state.db.session() as session:
        accounts.create(session, "ana", "operator", None, accounts.hash_password(STAFF_PASSWORD, state.settings.staff),
                        "test", clock())
    client = app.test_client()
    sign_in(client, "ana", "wrong-password-123")
    sign_in(client, "ana", "wrong-password-123")
    assert sign_in(client, "ana", STAFF_PASSWORD).status_code == 401
    clock.now += timedelta(minutes=59)
    assert sign_in(client, "ana", STAFF_PASSWORD).status_code == 401
    clock.now += timedelta(minutes=2)
    assert sign_in(client, "ana", STAFF_PASSWORD).status_code == 302


def test_many_failures_from_one_address_are_throttled(make_app, clock):
    app = make_app({"staff": {"address_failures_per_window": 3, "address_window_minutes": 10}})
    client = app.test_client()
    for index in range(3):
        assert sign_in(client, f"guess{index}", "wrong-password-123").status_code == 401
    throttled = sign_in(client, "guess9", "wrong-password-123")
    assert throttled.status_code == 429
    assert "Too many failed sign-ins" in throttled.get_data(as_text=True)
    clock.now += timedelta(minutes=11)
    assert sign_in(client, "guess9", "wrong-password-123").status_code == 401


def test_signing_out_ends_the_session_and_is_audited(app, db, staff_account):
    username, _ = staff_account("supervisor")
    client = app.test_client()
    sign_in(client, username)
    token = form_token(client, "/staff/")
    assert client.post("/staff/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/staff/").status_code == 302
    assert (f"staff:{username}", "logout", None) in audit_actions(db)


def test_disabling_an_account_ends_its_open_sessions(app, db, staff_account, clock):
    username, _ = staff_account("operator")
    client = app.test_client()
    sign_in(client, username)
    assert client.get("/staff/").status_code == 200
    account = accounts.find(db, username)
    accounts.set_active(db, account, False, "staff:boss", clock())
    db.commit()
    assert client.get("/staff/").status_code == 302
    assert sign_in(client, username).status_code == 401


def test_a_session_ends_after_the_configured_hours(app, staff_account, clock):
    username, _ = staff_account("operator")
    client = app.test_client()
    sign_in(client, username)
    clock.now += timedelta(hours=app.extensions["ivr"].settings.staff.session_hours, minutes=1)
    answer = client.get("/staff/")
    assert answer.status_code == 302 and "/staff/login" in answer.headers["Location"]


def test_after_sign_in_only_console_addresses_are_followed(app, staff_account):
    username, _ = staff_account("operator")
    client = app.test_client()
    answer = client.post("/staff/login", data={"username": username, "password": STAFF_PASSWORD,
                                               "next": "https://evil.example/", "csrf_token": form_token(client)})
    assert answer.headers["Location"] == "/staff/"


def test_the_wrong_role_gets_403_and_a_stranger_is_sent_to_sign_in(app, staff_client):
    assert app.test_client().get("/staff/supervisor/").headers["Location"].startswith("/staff/login?next=")
    operator = staff_client("operator")
    refused = operator.get("/staff/supervisor/")
    assert refused.status_code == 403
    assert "role does not include this page" in refused.get_data(as_text=True)
    assert staff_client("supervisor").get("/staff/supervisor/").status_code == 200


def test_a_hash_made_with_weaker_parameters_is_renewed_at_sign_in(app, db, staff_account):
    from argon2 import PasswordHasher

    username, password = staff_account("operator")
    account = accounts.find(db, username)
    account.password_hash = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(password)
    db.commit()
    assert sign_in(app.test_client(), username, password).status_code == 302
    db.expire_all()
    renewed = accounts.find(db, username).password_hash
    assert renewed.startswith("$argon2id$") and "m=8192" not in renewed and "t=1," not in renewed


def test_a_disabled_account_is_refused_like_a_wrong_password_and_counts_nothing(app, db, staff_account, clock):
    username, password = staff_account("operator")
    accounts.set_active(db, accounts.find(db, username), False, "test", clock())
    db.commit()
    answer = sign_in(app.test_client(), username, password)
    assert answer.status_code == 401 and "Wrong username or password" in answer.get_data(as_text=True)
    db.expire_all()
    assert accounts.find(db, username).failed_logins == 0
