"""Staff accounts: argon2 passwords, sign-in with lockout and throttling, and the staff audit log."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import STAFF_ROLES, Department, StaffAccount, StaffAuditEvent
from ..settings import StaffSettings

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,59}$")
# argon2-cffi's defaults are RFC 9106's low-memory profile (argon2id); the hash records them, so raising
# them later rehashes each password at its next sign-in.
_HASHER = PasswordHasher()
# Checked when the username is unknown, so a wrong name takes as long as a wrong password.
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))
LOGIN_FAILED = "login_failed"


class AccountError(ValueError):
    """An account change that cannot be made; the message says why, for the person making it."""


@dataclass(frozen=True)
class StaffUser:
    """The signed-in person, as views and templates see them."""

    id: int
    username: str
    role: str
    department_code: str | None
    department_name: str | None
    epoch: int

    @property
    def actor(self) -> str:
        """What case events and the staff audit log record as 'who'."""
        return f"staff:{self.username}"

    def has_role(self, *roles: str) -> bool:
        """True when the role is one of `roles`; supervisors may do everything operators may."""
        return self.role in roles or (self.role == "supervisor" and "operator" in roles)


@dataclass(frozen=True)
class SignIn:
    """What a sign-in attempt came to: the user, or why not (wrong, locked or throttled)."""

    user: StaffUser | None
    refusal: str | None  # None | "wrong" | "locked" | "throttled"


def as_user(account: StaffAccount) -> StaffUser:
    """The plain view of an account (no database session needed afterwards)."""
    department = account.department
    return StaffUser(id=account.id, username=account.username, role=account.role,
                     department_code=department.code if department else None,
                     department_name=department.name_en if department else None, epoch=account.session_epoch)


def audit(session: Session, actor: str, action: str, now: datetime, target: str | None = None,
          detail: str | None = None, address: str | None = None) -> None:
    """Record one staff action with who and when."""
    session.add(StaffAuditEvent(at=now, actor=actor[:100], action=action[:40], target=target and target[:100],
                                detail=detail, address=address and address[:64]))


def hash_password(password: str, rules: StaffSettings) -> str:
    """The argon2id hash of an acceptable password (call it before opening a database session: it takes a while)."""
    if len(password) < rules.min_password_length:
        raise AccountError(f"the password must be at least {rules.min_password_length} characters long")
    return _HASHER.hash(password)


def new_password() -> str:
    """A random password to hand to someone (they can read it out: no look-alike characters matter here)."""
    return secrets.token_urlsafe(12)


def find(session: Session, username: str) -> StaffAccount | None:
    """An account by username (usernames are stored lower-case)."""
    return session.scalars(select(StaffAccount).where(StaffAccount.username == username.strip().lower())).first()


def _department(session: Session, role: str, department: str | None) -> Department | None:
    """The department row for department staff; none for the other roles."""
    if role not in STAFF_ROLES:
        raise AccountError(f"unknown role {role!r}; use one of {', '.join(STAFF_ROLES)}")
    if role != "department":
        if department:
            raise AccountError("only department staff belong to a department")
        return None
    if not department:
        raise AccountError("department staff need a department (its code, e.g. dpw)")
    row = session.scalars(select(Department).where(Department.code == department)).first()
    if row is None:
        raise AccountError(f"unknown department {department!r}")
    return row


def create(session: Session, username: str, role: str, department: str | None, password_hash: str,
           actor: str, now: datetime) -> StaffAccount:
    """Add an account with a password hashed by hash_password."""
    username = username.strip().lower()
    if not USERNAME.match(username):
        raise AccountError("a username is 2 to 60 lower-case letters, digits, dots, dashes or underscores")
    if find(session, username) is not None:
        raise AccountError(f"there is already an account {username!r}")
    dept = _department(session, role, department)
    account = StaffAccount(username=username, password_hash=password_hash, role=role,
                           department_id=dept.id if dept else None, active=True, failed_logins=0,
                           session_epoch=0, created_at=now)
    session.add(account)
    session.flush()
    audit(session, actor, "account_created", now, target=username,
          detail=f"role {role}" + (f", department {dept.code}" if dept else ""))
    return account


def set_active(session: Session, account: StaffAccount, active: bool, actor: str, now: datetime) -> None:
    """Disable (signing out every session at once) or enable an account."""
    if account.active == active:
        return
    account.active = active
    account.session_epoch += 1
    audit(session, actor, "account_enabled" if active else "account_disabled", now, target=account.username)


def reset_password(session: Session, account: StaffAccount, password_hash: str, actor: str,
                   now: datetime) -> None:
    """A new password (hashed by hash_password): unlocks the account and ends its sessions."""
    account.password_hash = password_hash
    account.failed_logins = 0
    account.locked_until = None
    account.session_epoch += 1
    audit(session, actor, "password_reset", now, target=account.username)


def unlock(session: Session, account: StaffAccount, actor: str, now: datetime) -> None:
    """Lift a lockout before it runs out."""
    account.failed_logins = 0
    account.locked_until = None
    audit(session, actor, "account_unlocked", now, target=account.username)


def listing(session: Session) -> list[StaffAccount]:
    """Every account, by username."""
    return list(session.scalars(select(StaffAccount).order_by(StaffAccount.username)))


def is_locked(account: StaffAccount, now: datetime) -> bool:
    """Locked now by too many wrong passwords."""
    return account.locked_until is not None and account.locked_until > now


def _address_throttled(session: Session, address: str | None, rules: StaffSettings, now: datetime) -> bool:
    """Too many wrong passwords from this address lately, whatever the usernames."""
    if not address:
        return False
    since = now - timedelta(minutes=rules.address_window_minutes)
    failures = session.scalar(select(func.count()).select_from(StaffAuditEvent).where(
        StaffAuditEvent.action == LOGIN_FAILED, StaffAuditEvent.at > since, StaffAuditEvent.address == address))
    return failures >= rules.address_failures_per_window


@dataclass(frozen=True)
class Attempt:
    """What a sign-in needs from the database before the (slow) password check: read, then let go."""

    username: str
    account_id: int | None
    password_hash: str | None
    refusal: str | None  # "locked" | "throttled" before any password is checked


def begin_sign_in(session: Session, username: str, address: str | None, rules: StaffSettings,
                  now: datetime) -> Attempt:
    """Look the account up; refuse at once a throttled address or a locked account (both audited)."""
    username = username.strip().lower()[:60]
    if _address_throttled(session, address, rules, now):
        audit(session, "anonymous", "login_throttled", now, target=username, address=address)
        return Attempt(username, None, None, "throttled")
    account = find(session, username)
    if account is not None and is_locked(account, now):
        audit(session, "anonymous", "login_while_locked", now, target=username, address=address)
        return Attempt(username, account.id, None, "locked")
    usable = account is not None and account.active
    return Attempt(username, account.id if usable else None, account.password_hash if usable else None, None)


def password_matches(attempt: Attempt, password: str) -> bool:
    """Check the password (no database session held: argon2 takes a good fraction of a second on purpose).

    An unknown or disabled account is checked against a dummy hash, so it takes as long as a wrong password.
    """
    try:
        return _HASHER.verify(attempt.password_hash or _DUMMY_HASH, password) and attempt.password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def new_hash_if_outdated(attempt: Attempt, password: str) -> str | None:
    """A fresh hash when the stored one was made with weaker parameters than today's."""
    if attempt.password_hash and _HASHER.check_needs_rehash(attempt.password_hash):
        return _HASHER.hash(password)
    return None


def finish_sign_in(session: Session, attempt: Attempt, matched: bool, new_hash: str | None, address: str | None,
                   rules: StaffSettings, now: datetime) -> SignIn:
    """Record the outcome: a failure counted (and the account locked at the limit), or the sign-in."""
    account = session.get(StaffAccount, attempt.account_id) if attempt.account_id else None
    # The account may have been disabled, locked or given a new password while the password was checked.
    current = account is not None and account.active and account.password_hash == attempt.password_hash
    if not matched or not current or is_locked(account, now):
        _count_failure(session, account if current else None, attempt.username, address, rules, now)
        return SignIn(None, "wrong")
    if new_hash:
        account.password_hash = new_hash
    account.failed_logins = 0
    account.locked_until = None
    account.last_login_at = now
    audit(session, f"staff:{account.username}", "login", now, address=address)
    return SignIn(as_user(account), None)


def _count_failure(session: Session, account: StaffAccount | None, username: str, address: str | None,
                   rules: StaffSettings, now: datetime) -> None:
    """One more wrong password: logged, and the account locked when it is one too many."""
    audit(session, "anonymous", LOGIN_FAILED, now, target=username, address=address)
    if account is None or not account.active:
        return
    account.failed_logins += 1
    if account.failed_logins >= rules.lockout_after_failures:
        account.locked_until = now + timedelta(minutes=rules.lockout_minutes)
        account.failed_logins = 0
        audit(session, "system", "account_locked", now, target=account.username,
              detail=f"{rules.lockout_after_failures} wrong passwords in a row; locked {rules.lockout_minutes} min")


def signed_in(session: Session, account_id: int, epoch: int) -> StaffUser | None:
    """The account behind a session, if it is still active and the session still valid."""
    account = session.get(StaffAccount, account_id)
    if account is None or not account.active or account.session_epoch != epoch:
        return None
    return as_user(account)


def recent_audit(session: Session, limit: int, offset: int = 0) -> list[StaffAuditEvent]:
    """The staff audit log, newest first."""
    return list(session.scalars(select(StaffAuditEvent).order_by(StaffAuditEvent.at.desc(),
                                                                 StaffAuditEvent.id.desc())
                                .limit(limit).offset(offset)))
