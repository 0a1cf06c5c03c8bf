"""SQLAlchemy 2.0 models. Schema changes go through the Alembic migrations in ivr/migrations."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text, TypeDecorator
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    """Now, as an aware UTC datetime."""
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator):
    """Stores aware datetimes as UTC and always returns them aware (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base for every table."""


class Call(Base):
    """One phone call, from arrival to the final status callback."""

    __tablename__ = "calls"
    __table_args__ = (Index("ix_calls_outcome_started_at", "outcome", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    from_number: Mapped[str | None] = mapped_column(String(32))
    to_number: Mapped[str | None] = mapped_column(String(32))
    route: Mapped[str] = mapped_column(String(16), default="unknown")  # 311 | ten-digit | unknown
    language: Mapped[str] = mapped_column(String(8), default="en")
    started_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    outcome: Mapped[str | None] = mapped_column(String(64))
    final_status: Mapped[str | None] = mapped_column(String(32))
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    # Answers collected over several turns (intake), so any worker can take the next turn.
    answers: Mapped[dict] = mapped_column(JSON, default=dict)
    # Every turn counts; only the first few hundred are logged as call_turns (config/database.toml).
    turn_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    turns: Mapped[list[CallTurn]] = relationship(back_populates="call", order_by="CallTurn.id",
                                                 cascade="all, delete-orphan")


class CallTurn(Base):
    """One webhook request within a call: where the caller was and what they did."""

    __tablename__ = "call_turns"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    node: Mapped[str] = mapped_column(String(64))
    event: Mapped[str] = mapped_column(String(16))
    input: Mapped[str | None] = mapped_column(String(500))
    next_node: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    call: Mapped[Call] = relationship(back_populates="turns")


class Closure(Base):
    """An emergency closure (snow day) switched on and off by staff at run time."""

    __tablename__ = "closures"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), index=True)
    message_en: Mapped[str | None] = mapped_column(Text)
    message_es: Mapped[str | None] = mapped_column(Text)
    started_by: Mapped[str] = mapped_column(String(100), default="staff")
    ended_by: Mapped[str | None] = mapped_column(String(100))


class Department(Base):
    """A city department that owns cases (synced from config/departments.toml)."""

    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_en: Mapped[str] = mapped_column(String(120))
    name_es: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    def name(self, lang: str) -> str:
        """The department's name in a language."""
        return self.name_es if lang == "es" else self.name_en


class ServiceType(Base):
    """A kind of request callers can make (synced from config/service_types.toml)."""

    __tablename__ = "service_types"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_en: Mapped[str] = mapped_column(String(120))
    name_es: Mapped[str] = mapped_column(String(120))
    description_en: Mapped[str] = mapped_column(Text, default="")
    keywords_en: Mapped[list] = mapped_column(JSON, default=list)
    keywords_es: Mapped[list] = mapped_column(JSON, default=list)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    requires_contact: Mapped[bool] = mapped_column(Boolean, default=False)
    sla_hours: Mapped[int | None] = mapped_column(Integer)  # business hours
    sla_days: Mapped[int | None] = mapped_column(Integer)   # business days
    menu_key: Mapped[str | None] = mapped_column(String(2))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    department: Mapped[Department] = relationship()

    def name(self, lang: str) -> str:
        """The type's name in a language."""
        return self.name_es if lang == "es" else self.name_en


class CaseSerial(Base):
    """One row per allocated case serial: the database, not a process, hands out numbers."""

    __tablename__ = "case_serials"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    allocated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class Case(Base):
    """A service request with a Case ID that departments are accountable for."""

    __tablename__ = "cases"
    # Open311's list (migration 0005): newest first (id breaks ties) in a date window, by type or status.
    __table_args__ = (Index("ix_cases_requested_at", "requested_at", "id"),
                      Index("ix_cases_service_type_id_requested_at", "service_type_id", "requested_at", "id"),
                      Index("ix_cases_status_requested_at", "status", "requested_at", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(16), unique=True, index=True)
    service_type_id: Mapped[int] = mapped_column(ForeignKey("service_types.id"))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    recording_url: Mapped[str | None] = mapped_column(String(500))
    location: Mapped[str | None] = mapped_column(String(300))
    # Float spelled out, as in migration 0002: SQLAlchemy 2.1 maps a bare `float` to Double.
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    contact_name: Mapped[str | None] = mapped_column(String(120))   # never public
    contact_phone: Mapped[str | None] = mapped_column(String(32))   # never public
    contact_email: Mapped[str | None] = mapped_column(String(200))  # never public
    language: Mapped[str] = mapped_column(String(8), default="en")
    channel: Mapped[str] = mapped_column(String(16), default="phone")  # phone | web | open311
    call_sid: Mapped[str | None] = mapped_column(String(64), index=True)
    intake_key: Mapped[str | None] = mapped_column(String(100), unique=True)  # one case per intake
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    expected_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    service_type: Mapped[ServiceType] = relationship()
    department: Mapped[Department] = relationship()
    events: Mapped[list[CaseEvent]] = relationship(back_populates="case", order_by="CaseEvent.id",
                                                   cascade="all, delete-orphan")


class CaseEvent(Base):
    """One change to a case: the audit trail (who, when, status from -> to, note, public or internal)."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20), default="status")  # created | status | note
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)
    note_es: Mapped[str | None] = mapped_column(Text)  # the public note in Spanish, when staff wrote one
    public: Mapped[bool] = mapped_column(Boolean, default=False)

    case: Mapped[Case] = relationship(back_populates="events")


# ---- Staff console (issue 9): accounts, sign-in and the staff audit log (migration 0004) -------------------

STAFF_ROLES = ("operator", "department", "supervisor")


class StaffAccount(Base):
    """Someone who signs in to the staff console: a 311 operator, department staff or a supervisor."""

    __tablename__ = "staff_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))  # argon2id, with its parameters and salt
    role: Mapped[str] = mapped_column(String(20))  # operator | department | supervisor
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))  # department staff only
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)  # wrong passwords in a row
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # Bumped on disable and password reset: a session signed with an older value is no longer accepted.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    department: Mapped[Department | None] = relationship()


class StaffAuditEvent(Base):
    """One staff action: sign-in, sign-out, lockout, account change, closure or announcement (who and when)."""

    __tablename__ = "staff_audit"
    __table_args__ = (Index("ix_staff_audit_action_at", "action", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(100))  # staff:<username>, cli:<user>, or anonymous
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str | None] = mapped_column(String(100))  # the account or thing acted on
    detail: Mapped[str | None] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(String(64))  # the client address, for sign-in throttling



# ---- Open311 GeoReport v2 (issue 10): API keys and what the API needs (migration 0005) ---------------------

class ApiKey(Base):
    """An Open311 client's key: only its SHA-256 is stored; the name shows in the audit trail."""

    __tablename__ = "open311_api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    # A random 256-bit token, so a fast hash is enough: there is no small space of guesses to search.
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100))
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    revoked_by: Mapped[str | None] = mapped_column(String(100))


class Open311Request(Base):
    """What an Open311 POST brought beyond the case itself: the key that sent it, address_id, attributes."""

    __tablename__ = "open311_requests"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    api_key_id: Mapped[int] = mapped_column(ForeignKey("open311_api_keys.id"), index=True)
    address_id: Mapped[str | None] = mapped_column(String(100))
    attributes: Mapped[dict] = mapped_column(JSON, default=dict)  # attribute code -> value or list of values
    media_url: Mapped[str | None] = mapped_column(String(500))  # a photo the client hosts



# ---- Case work (issue 9): the desk's call-backs and the queues' needs (migration 0006) ----------------------

# The staff queues' lists: each filter and sort a department or an operator uses reads one index range in order.
# "Not closed" is closed_at IS NULL: partial indexes of the open cases, which PostgreSQL reads in order (it does
# not treat IS NULL on a leading column as an equality, so a plain (department, closed_at, ...) index needs a sort).
OPEN_CASES = Case.closed_at.is_(None)
Index("ix_cases_dept_open_requested", Case.department_id, Case.requested_at, Case.id,
      sqlite_where=OPEN_CASES, postgresql_where=OPEN_CASES)
Index("ix_cases_dept_open_expected", Case.department_id, Case.expected_at, Case.id,
      sqlite_where=OPEN_CASES, postgresql_where=OPEN_CASES)
Index("ix_cases_open_requested", Case.requested_at, Case.id, sqlite_where=OPEN_CASES, postgresql_where=OPEN_CASES)
Index("ix_cases_open_expected", Case.expected_at, Case.id, sqlite_where=OPEN_CASES, postgresql_where=OPEN_CASES)
Index("ix_cases_dept_status_requested", Case.department_id, Case.status, Case.requested_at, Case.id)
Index("ix_cases_dept_requested", Case.department_id, Case.requested_at, Case.id)
Index("ix_cases_contact_phone", Case.contact_phone)  # the desk finds a caller's cases by their number


class CallBack(Base):
    """Staff called back a caller who hung up in the middle of a report: who, when, and what came of it."""

    __tablename__ = "call_backs"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), unique=True)
    handled_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    handled_by: Mapped[str] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(String(500))



# ---- Announcements set at run time (issue 9, migration 0007) -----------------------------------------------

class Announcement(Base):
    """The information menu's announcement in English and Spanish, set by a supervisor; cleared ends it."""

    __tablename__ = "announcements"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_en: Mapped[str] = mapped_column(Text)
    message_es: Mapped[str] = mapped_column(Text)
    set_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    set_by: Mapped[str] = mapped_column(String(100))
    cleared_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), index=True)
    cleared_by: Mapped[str | None] = mapped_column(String(100))


# ---- Call-back requests (issue 11): a long wait, after hours, or no interpreter (migration 0008) ------------

CALL_BACK_REASONS = ("long_wait", "after_hours", "interpretation")
CALL_BACK_STATUSES = ("open", "done")


class CallBackRequest(Base):
    """A caller asked to be called back: the number they confirmed, their language, why, and any message left."""

    __tablename__ = "callback_requests"
    # The desk and `ivr callbacks` read the open requests due first.
    __table_args__ = (Index("ix_callback_requests_status_due_at", "status", "due_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id", ondelete="SET NULL"), index=True)
    phone: Mapped[str | None] = mapped_column(String(32))  # E.164; None when withheld and never keyed
    number_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    language: Mapped[str] = mapped_column(String(8), default="en")
    reason: Mapped[str] = mapped_column(String(20))  # long_wait | after_hours | interpretation
    need: Mapped[str | None] = mapped_column(String(500))  # what the caller wanted: their words or menu path
    recording_url: Mapped[str | None] = mapped_column(String(500))
    recording_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    transcript: Mapped[str | None] = mapped_column(Text)
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime())  # now while open, else the next opening
    status: Mapped[str] = mapped_column(String(10), default="open")  # open | done
    handled_by: Mapped[str | None] = mapped_column(String(100))
    handled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    note: Mapped[str | None] = mapped_column(String(500))


class CallRecording(Base):
    """A conversation Twilio recorded (<Dial record>, config/recording.toml): kept until `ivr purge` deletes it."""

    __tablename__ = "call_recordings"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(64), index=True)
    recording_sid: Mapped[str] = mapped_column(String(64), unique=True)  # what Twilio deletes it by
    url: Mapped[str] = mapped_column(String(500))
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
