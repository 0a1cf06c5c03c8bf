"""Call-back requests: record one (a long wait, a message after hours, no interpreter), list them due first,
mark one done. Used by the phone flow's actions, `ivr callbacks` and the operator's desk."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from . import calls
from .core.schedule import Schedule
from .models import CALL_BACK_REASONS, CallBackRequest, utcnow

REASONS = CALL_BACK_REASONS  # long_wait | after_hours | interpretation
NEED_LONGEST = CallBackRequest.__table__.c.need.type.length
NOTE_LONGEST = CallBackRequest.__table__.c.note.type.length
# Turn inputs that are not the caller's doing (a queue's or a transfer's result) say nothing of what they need.
_NOT_CHOICES = ("leave", "bridged", "hangup", "queue-full", "error", "system-error", "completed", "no-answer",
                "busy", "failed", "canceled")


class CallBackError(ValueError):
    """A call-back request that cannot be recorded or changed; the message says why."""


class NoSuchCallBack(CallBackError):
    """No call-back request has that id."""


@dataclass(frozen=True)
class NewCallBack:
    """What the phone knows when a caller asks to be called back."""

    call_sid: str | None
    phone: str | None
    number_confirmed: bool
    language: str
    reason: str
    recording_url: str | None = None
    recording_sid: str | None = None


def due_at(schedule: Schedule, now: datetime, emergency_closure: bool = False) -> datetime:
    """When staff should call: now while 311 is open, else the next opening (first thing that morning)."""
    if schedule.is_open(now, emergency_closure=emergency_closure):
        return now
    return schedule.next_opening(now)


def what_they_need(call) -> str | None:
    """The caller's own words if they said any, else the menu path they took: what staff read before calling."""
    if call is None:
        return None
    answers = call.answers or {}
    words = [said for said in answers.get("type_words") or [] if said]
    words += [answers[key] for key in ("location", "description") if answers.get(key)]
    if words:
        return "; ".join(dict.fromkeys(words))[:NEED_LONGEST]
    path = [f"{turn.node.replace('_', ' ')}: {turn.input.removeprefix('speech:')}" for turn in call.turns
            if turn.input and turn.input not in _NOT_CHOICES and not turn.input.startswith("http")]
    return " → ".join(path)[-NEED_LONGEST:] or None


def request(session: Session, new: NewCallBack, due: datetime, now: datetime | None = None,
            existing_id: int | None = None) -> CallBackRequest:
    """Record a call-back request (or complete the one a message already started) and return it."""
    if new.reason not in CALL_BACK_REASONS:
        raise CallBackError(f"unknown call-back reason {new.reason!r} (one of {', '.join(CALL_BACK_REASONS)})")
    found = session.get(CallBackRequest, existing_id) if existing_id else None
    if found is None:
        call = calls.by_sid(session, new.call_sid)
        found = CallBackRequest(call_id=call.id if call else None, need=what_they_need(call),
                                requested_at=now or utcnow(), status="open")
        session.add(found)
    found.phone = new.phone or found.phone
    found.number_confirmed = new.number_confirmed
    found.language, found.reason, found.due_at = new.language, new.reason, due
    if new.recording_url:
        found.recording_url, found.recording_sid = new.recording_url, new.recording_sid
    session.flush()
    return found


def attach_transcript(session: Session, recording_sid: str, text: str) -> CallBackRequest | None:
    """Keep Twilio's transcription of a message with the request it belongs to; None if there is none."""
    found = session.scalars(select(CallBackRequest).where(CallBackRequest.recording_sid == recording_sid)).first()
    if found is not None:
        found.transcript = text
    return found


def open_requests(session: Session, limit: int, due_by: datetime | None = None) -> list[CallBackRequest]:
    """Requests nobody has handled, due first (with `due_by`, only those due by then)."""
    query = select(CallBackRequest).where(CallBackRequest.status == "open")
    if due_by is not None:
        query = query.where(CallBackRequest.due_at <= due_by)
    return list(session.scalars(query.order_by(CallBackRequest.due_at, CallBackRequest.id).limit(limit)))


def recently_done(session: Session, limit: int) -> list[CallBackRequest]:
    """Requests handled, latest first."""
    query = (select(CallBackRequest).where(CallBackRequest.status == "done")
             .order_by(CallBackRequest.handled_at.desc(), CallBackRequest.id.desc()).limit(limit))
    return list(session.scalars(query))


def mark_done(session: Session, request_id: int, actor: str, note: str | None,
              now: datetime | None = None) -> CallBackRequest:
    """Staff called back: who, when and what came of it (once: a second click keeps the first record)."""
    found = session.get(CallBackRequest, request_id)
    if found is None:
        raise NoSuchCallBack(f"there is no call-back request {request_id}")
    note = (note or "").strip()
    if len(note) > NOTE_LONGEST:
        raise CallBackError(f"keep the note under {NOTE_LONGEST} characters")
    if found.status != "done":
        found.status, found.handled_by, found.handled_at = "done", actor, now or utcnow()
        found.note = note or None
        session.flush()
    return found


def purge_details(session: Session, before: datetime, delete_recording: Callable[[str], bool],
                  dry_run: bool = False) -> int:
    """Forget the number, words, message and note of call-backs handled before `before`; returns how many.

    Open requests are kept whole: someone still has to call. The reason, language and times stay for the
    statistics. A message's recording goes only once `delete_recording` (at Twilio) lets its link go.
    """
    holding = or_(CallBackRequest.phone.is_not(None), CallBackRequest.need.is_not(None),
                  CallBackRequest.transcript.is_not(None), CallBackRequest.note.is_not(None),
                  CallBackRequest.recording_url.is_not(None))
    handled = list(session.scalars(select(CallBackRequest).where(CallBackRequest.status == "done",
                                                                 CallBackRequest.handled_at < before, holding)
                                   .order_by(CallBackRequest.id)))
    if dry_run:
        return len(handled)
    for done in handled:
        done.phone = done.need = done.transcript = done.note = None
        if done.recording_url and delete_recording(done.recording_url):
            done.recording_url = done.recording_sid = None
    session.flush()
    return len(handled)
