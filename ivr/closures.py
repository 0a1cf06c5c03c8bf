"""Emergency closures (snow days): stored in the database so every worker sees a switch at once."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Closure, utcnow


def active_closure(session: Session) -> Closure | None:
    """The closure in force now, if any."""
    return session.scalars(
        select(Closure).where(Closure.ended_at.is_(None)).order_by(Closure.started_at.desc()).limit(1)
    ).first()


def start_closure(session: Session, message_en: str | None, message_es: str | None, by: str) -> Closure:
    """Close the line now; replaces any closure already in force."""
    end_closure(session, by)
    closure = Closure(message_en=message_en or None, message_es=message_es or None, started_by=by,
                      started_at=utcnow())
    session.add(closure)
    session.flush()
    return closure


def end_closure(session: Session, by: str) -> int:
    """Reopen (regular hours apply again); returns how many closures ended."""
    ended = 0
    for closure in session.scalars(select(Closure).where(Closure.ended_at.is_(None))):
        closure.ended_at = utcnow()
        closure.ended_by = by
        ended += 1
    session.flush()
    return ended
