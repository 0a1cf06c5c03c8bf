"""SQLAlchemy 2.0 models. Schema changes go through the Alembic migrations in ivr/migrations."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, TypeDecorator
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

    id: Mapped[int] = mapped_column(primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    from_number: Mapped[str | None] = mapped_column(String(32))
    to_number: Mapped[str | None] = mapped_column(String(32))
    route: Mapped[str] = mapped_column(String(16), default="unknown")  # 311 | ten-digit | unknown
    language: Mapped[str] = mapped_column(String(8), default="en")
    started_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    outcome: Mapped[str | None] = mapped_column(String(64))
    final_status: Mapped[str | None] = mapped_column(String(32))
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    # Answers collected over several turns (intake), so any worker can take the next turn.
    answers: Mapped[dict] = mapped_column(JSON, default=dict)

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
