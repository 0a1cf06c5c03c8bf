"""Calls and their turns: the only module that reads or writes the call tables."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text, cast, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from .models import Call, CallTurn, Case, utcnow

ABANDONED_INTAKE = "abandoned_intake"  # the outcome of a call that hung up in the middle of a report
HUNG_UP = "caller_hung_up"
# What staff see of a report the caller did not finish, in the order it was asked.
INTAKE_ANSWERS = ("service_types", "location", "contact_name", "contact_phone", "description")
_TURN_INPUT = CallTurn.__table__.c.input.type.length
# The longest value each webhook field may have: the size of the column it is stored in.
FIELD_LIMITS = {
    "CallSid": Call.__table__.c.call_sid.type.length,
    "From": Call.__table__.c.from_number.type.length,
    "To": Call.__table__.c.to_number.type.length,
    "CallStatus": Call.__table__.c.final_status.type.length,
    "Digits": _TURN_INPUT,
    "SpeechResult": _TURN_INPUT,
    "DialCallStatus": _TURN_INPUT,
    "QueueResult": _TURN_INPUT,
    "RecordingUrl": Case.__table__.c.recording_url.type.length,
}


# How an emptied `answers` reads as text on both databases (JSON has no equality operator on PostgreSQL).
_EMPTY_ANSWERS = ("{}", "null")

# INSERT ... ON CONFLICT DO NOTHING, spelled by each supported database's dialect.
_INSERTS = {"postgresql": postgresql_insert, "sqlite": sqlite_insert}


def _existing(session: Session, call_sid: str) -> Call | None:
    """The call's row, if any."""
    return session.scalars(select(Call).where(Call.call_sid == call_sid)).first()


def find_or_start(session: Session, call_sid: str, from_number: str | None, to_number: str | None,
                  route: str) -> Call:
    """The call's record, created on first sight (Twilio may send the first webhook again, even at once)."""
    call = _existing(session, call_sid)
    if call is not None:
        return call
    # Two workers may both have found no row: the loser of the unique-index race inserts nothing and reads
    # the winner's row (it waits for the winner's commit), instead of failing with an IntegrityError.
    insert = _INSERTS[session.get_bind().dialect.name]
    session.execute(insert(Call).values(call_sid=call_sid, from_number=from_number, to_number=to_number,
                                        route=route, language="en", started_at=utcnow(), answers={})
                    .on_conflict_do_nothing(index_elements=[Call.call_sid]))
    return _existing(session, call_sid)


def record_turn(session: Session, call: Call, *, language: str, answers: dict, outcome: str | None,
                node: str, event: str, caller_input: str | None, next_node: str | None) -> None:
    """Keep what the turn changed on the call, and log the turn itself."""
    call.language = language
    call.answers = answers
    if outcome:
        call.outcome = outcome[:64]
    session.add(CallTurn(call_id=call.id, node=node, event=event, input=caller_input, next_node=next_node,
                         at=utcnow()))


def record_end(session: Session, call: Call, final_status: str | None, duration_seconds: int | None) -> None:
    """Twilio's final word on a call; a call that achieved nothing recorded is one the caller hung up."""
    call.final_status = final_status
    call.duration_seconds = duration_seconds
    call.ended_at = utcnow()
    if not call.outcome:
        call.outcome = HUNG_UP


def mark_abandoned(call: Call) -> None:
    """The caller hung up mid-report: no case exists, and staff should call back."""
    call.outcome = ABANDONED_INTAKE


def recent(session: Session, limit: int, abandoned_only: bool = False) -> list[Call]:
    """The latest calls, newest first."""
    query = select(Call).order_by(Call.started_at.desc(), Call.id.desc()).limit(limit)
    if abandoned_only:
        query = query.where(Call.outcome == ABANDONED_INTAKE)
    return list(session.scalars(query))


def collected(call: Call) -> dict:
    """What an unfinished report had gathered, for a call-back."""
    answers = call.answers or {}
    return {key: answers[key] for key in INTAKE_ANSWERS if answers.get(key)}


def _old_call_ids(before: datetime):
    """The ids of calls started before a cut-off, as a subquery."""
    return select(Call.id).where(Call.started_at < before)


def _holding_details(before: datetime):
    """Calls started before a cut-off that still hold a caller's number, answers or turns."""
    has_turns = select(CallTurn.id).where(CallTurn.call_id == Call.id).exists()
    return (Call.started_at < before) & or_(Call.from_number.is_not(None),
                                            cast(Call.answers, Text).not_in(_EMPTY_ANSWERS), has_turns)


def purge_details(session: Session, before: datetime, dry_run: bool = False) -> dict[str, int]:
    """Remove callers' numbers, answers and turns of calls started before `before`; returns the counts."""
    counts = {
        "calls": session.scalar(select(func.count()).select_from(Call).where(_holding_details(before))),
        "turns": session.scalar(select(func.count()).select_from(CallTurn)
                                .where(CallTurn.call_id.in_(_old_call_ids(before)))),
    }
    if dry_run:
        return counts
    # Route, language, outcome, status and times stay: they are the line's statistics and identify no one.
    session.execute(update(Call).where(_holding_details(before)).values(from_number=None, answers={}),
                    execution_options={"synchronize_session": False})
    session.execute(delete(CallTurn).where(CallTurn.call_id.in_(_old_call_ids(before))),
                    execution_options={"synchronize_session": False})
    session.expire_all()  # rows already loaded must not write the old values back
    return counts
