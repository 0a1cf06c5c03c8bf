"""The information menu's announcement, set at run time by a supervisor (console or `ivr announcement`).

Stored in the database (table `announcements`, migration 0007) so every worker reads the same one; each change is
in the staff audit log with who and when. Callers hear it in their language; it is given in English and Spanish
together or not at all, so no Spanish caller hears an English text or nothing. With none set, callers hear the
deployment's default from config/routing.toml ([announcement]).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Announcement
from .read_cache import ReadThroughCache, forget_everywhere

LONGEST = 1000  # characters in each language: read aloud, it should be far shorter


class AnnouncementError(ValueError):
    """An announcement that cannot be set; the message says why."""


@dataclass(frozen=True)
class AnnouncementText:
    """The announcement in force, copied out of its session."""

    message_en: str
    message_es: str
    set_at: datetime
    set_by: str

    def text(self, lang: str) -> str:
        """What a caller in this language hears."""
        return self.message_es if lang == "es" else self.message_en


class AnnouncementCache(ReadThroughCache[AnnouncementText | None]):
    """The announcement as last read, trusted for a few seconds like the closure switch (ivr.closures)."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic):
        super().__init__(current, seconds, clock)


def current(session: Session) -> AnnouncementText | None:
    """The announcement in force (the latest set and not cleared), if any."""
    row = session.scalars(select(Announcement).where(Announcement.cleared_at.is_(None))
                          .order_by(Announcement.set_at.desc(), Announcement.id.desc()).limit(1)).first()
    return None if row is None else AnnouncementText(row.message_en, row.message_es, row.set_at, row.set_by)


def heard(announcement: AnnouncementText | None, configured: Mapping[str, str], lang: str) -> str:
    """What the information menu reads in a language: the one set at run time, else config's default ('' if none)."""
    return announcement.text(lang) if announcement is not None else configured.get(lang, "")


def checked(message_en: str, message_es: str) -> tuple[str, str]:
    """Both texts trimmed, or an AnnouncementError: both languages are needed, each at most LONGEST characters."""
    english, spanish = (message_en or "").strip(), (message_es or "").strip()
    if not english or not spanish:
        raise AnnouncementError("give the announcement in both English and Spanish")
    if len(english) > LONGEST or len(spanish) > LONGEST:
        raise AnnouncementError(f"an announcement may be at most {LONGEST} characters in each language")
    return english, spanish


def set_announcement(session: Session, message_en: str, message_es: str, by: str, now: datetime) -> Announcement:
    """Replace the announcement in force with this one (audited); every worker reads it within its cache time."""
    from .staff.accounts import audit

    english, spanish = checked(message_en, message_es)
    _clear(session, by, now)
    row = Announcement(message_en=english, message_es=spanish, set_at=now, set_by=by)
    session.add(row)
    audit(session, by, "announcement_set", now, target="announcement", detail=f"en: {english} | es: {spanish}")
    session.flush()
    forget_everywhere()
    return row


def clear_announcement(session: Session, by: str, now: datetime) -> bool:
    """End the announcement in force (audited): callers hear config's default again. False if none was set."""
    from .staff.accounts import audit

    cleared = _clear(session, by, now)
    if cleared:
        audit(session, by, "announcement_cleared", now, target="announcement")
    session.flush()
    forget_everywhere()
    return cleared


def _clear(session: Session, by: str, now: datetime) -> bool:
    """Mark every announcement in force as cleared; whether there was one."""
    rows = session.scalars(select(Announcement).where(Announcement.cleared_at.is_(None))).all()
    for row in rows:
        row.cleared_at, row.cleared_by = now, by
    return bool(rows)
