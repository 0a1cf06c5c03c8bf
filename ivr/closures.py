"""Emergency closures (snow days): stored in the database so every worker sees a switch at once."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from .models import Closure, utcnow
from .read_cache import ReadThroughCache, forget_everywhere


@dataclass(frozen=True)
class ClosureNotice:
    """What callers are told of a closure in force: a copy, so no database row outlives its session."""

    message_en: str | None
    message_es: str | None


class ClosureCache(ReadThroughCache[ClosureNotice | None]):
    """The closure switch as last read, trusted for a few seconds: one query per worker and interval, not per turn."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic):
        super().__init__(_notice, seconds, clock)


def _notice(session: Session) -> ClosureNotice | None:
    """The closure in force, copied."""
    closure = active_closure(session)
    return ClosureNotice(closure.message_en, closure.message_es) if closure is not None else None


def active_closure(session: Session) -> Closure | None:
    """The closure in force now, if any."""
    return session.scalars(
        select(Closure).where(Closure.ended_at.is_(None)).order_by(Closure.started_at.desc()).limit(1)
    ).first()


def closures_between(session: Session, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """Closures in force at some point between start and end, as (began, ended); one still in force ends at end."""
    rows = session.execute(select(Closure.started_at, Closure.ended_at).where(
        Closure.started_at < end, or_(Closure.ended_at.is_(None), Closure.ended_at > start)))
    return [(began, ended or end) for began, ended in rows]


def start_closure(session: Session, message_en: str | None, message_es: str | None, by: str) -> Closure:
    """Close the line now; replaces any closure already in force."""
    end_closure(session, by)
    closure = Closure(message_en=message_en or None, message_es=message_es or None, started_by=by,
                      started_at=utcnow())
    session.add(closure)
    session.flush()
    forget_everywhere()
    return closure


def end_closure(session: Session, by: str) -> int:
    """Reopen (regular hours apply again); returns how many closures ended."""
    ended = 0
    for closure in session.scalars(select(Closure).where(Closure.ended_at.is_(None))):
        closure.ended_at = utcnow()
        closure.ended_by = by
        ended += 1
    session.flush()
    forget_everywhere()
    return ended
