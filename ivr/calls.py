"""Calls and their turns: the only module that reads or writes the call tables."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Text, bindparam, cast, delete, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
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


# Built once: a turn's lookup is the line's most frequent statement.
_BY_SID = select(Call).where(Call.call_sid == bindparam("call_sid"))
_CALLS, _TURNS = Call.__table__, CallTurn.__table__
# What a turn needs of its call, as plain columns: no ORM object to track, flush and expire on every turn.
_TURN_STATE = select(_CALLS.c.id, _CALLS.c.call_sid, _CALLS.c.from_number, _CALLS.c.route, _CALLS.c.answers,
                     _CALLS.c.turn_count).where(_CALLS.c.call_sid == bindparam("call_sid"))


@dataclass(frozen=True)
class CallState:
    """What one turn reads of its call; record_turn writes back what the turn changed."""

    id: int
    call_sid: str
    from_number: str | None
    route: str
    answers: dict
    turn_count: int


def _existing(session: Session, call_sid: str) -> Call | None:
    """The call's row, if any."""
    return session.scalars(_BY_SID, {"call_sid": call_sid}).first()


# Built once per database kind: Twilio may send the first webhook again, even at once. Two workers may both
# try: the loser of the unique-index race inserts nothing and then reads the winner's row (it waits for the
# winner's commit), instead of failing with an IntegrityError.
_START = {name: insert_for(_CALLS).on_conflict_do_nothing(index_elements=[_CALLS.c.call_sid])
          for name, insert_for in _INSERTS.items()}
# Statements a turn runs, built once: building them is as dear as running them.
_WRITE_BACK = update(_CALLS).where(_CALLS.c.id == bindparam("call_id")).values(
    language=bindparam("new_language"), answers=bindparam("new_answers", type_=_CALLS.c.answers.type),
    outcome=func.coalesce(bindparam("new_outcome", type_=_CALLS.c.outcome.type), _CALLS.c.outcome),
    turn_count=_CALLS.c.turn_count + 1)
_LOG_TURN = insert(_TURNS)
# On PostgreSQL both in one statement (a data-modifying WITH): one round trip, and atomic without a transaction.
_UPDATED = _WRITE_BACK.returning(_CALLS.c.id).cte("updated")
_WRITE_BACK_AND_LOG = insert(_TURNS).from_select(
    ["call_id", "node", "event", "input", "next_node", "at"],
    select(_UPDATED.c.id, *(bindparam(name, type_=_TURNS.c[name].type)
                            for name in ("node", "event", "input", "next_node", "at")))).add_cte(_UPDATED)

# A Session or a Connection: a turn runs its statements on the connection itself, past the ORM's machinery.
Executor = Session | Connection


def _dialect_name(executor: Executor) -> str:
    """'postgresql' or 'sqlite'."""
    bind = executor.get_bind() if isinstance(executor, Session) else executor
    return bind.dialect.name


def _insert_if_new(session: Executor, call_sid: str, from_number: str | None, to_number: str | None,
                   route: str) -> None:
    """Start the call's row unless it exists."""
    session.execute(_START[_dialect_name(session)],
                    {"call_sid": call_sid, "from_number": from_number, "to_number": to_number, "route": route,
                     "language": "en", "started_at": utcnow(), "answers": {}, "turn_count": 0})


def find_or_start(session: Session, call_sid: str, from_number: str | None, to_number: str | None,
                  route: str, arriving: bool = False) -> Call:
    """The call's record as an ORM object, created on first sight (status callbacks and staff tools)."""
    call = None if arriving else _existing(session, call_sid)
    if call is not None:
        return call
    _insert_if_new(session, call_sid, from_number, to_number, route)
    return _existing(session, call_sid)


def open_turn(session: Executor, call_sid: str, from_number: str | None, to_number: str | None,
              route: str, arriving: bool = False) -> CallState:
    """The call's state for one turn, created on first sight.

    `arriving` (the first webhook) tries the insert first: it is almost always new, so that saves a lookup.
    """
    if not arriving:
        row = session.execute(_TURN_STATE, {"call_sid": call_sid}).first()
        if row is not None:
            return CallState(*row)
    _insert_if_new(session, call_sid, from_number, to_number, route)
    return CallState(*session.execute(_TURN_STATE, {"call_sid": call_sid}).one())


def record_turn(session: Executor, call: CallState | Call, *, language: str, answers: dict, outcome: str | None,
                node: str, event: str, caller_input: str | None, next_node: str | None,
                max_turns: int | None = None) -> None:
    """Write back what the turn changed on the call, and log the turn itself (the first `max_turns` of a call).

    Prebuilt statements, without the ORM's unit of work: one on PostgreSQL, two (in the caller's transaction) on
    SQLite, which has no data-modifying WITH.
    """
    written = {"call_id": call.id, "new_language": language, "new_answers": answers,
               "new_outcome": outcome[:64] if outcome else None}
    # A caller looping for an hour (or a forged retry storm) must not write thousands of rows: the count
    # goes on, the log stops.
    if max_turns is not None and (call.turn_count or 0) >= max_turns:
        session.execute(_WRITE_BACK, written)
        return
    logged = {"node": node, "event": event, "input": caller_input, "next_node": next_node, "at": utcnow()}
    if _dialect_name(session) == "postgresql":
        session.execute(_WRITE_BACK_AND_LOG, written | logged)
        return
    session.execute(_WRITE_BACK, written)
    session.execute(_LOG_TURN, {"call_id": call.id, **logged})


def for_update(session: Session, call_sid: str) -> Call | None:
    """The call's row, locked until commit (PostgreSQL), for webhooks that change a call between its turns."""
    return session.scalars(_BY_SID.with_for_update(), {"call_sid": call_sid}).first()


def answers_of(session: Session, call_sid: str) -> dict:
    """A call's answers; empty for a call never seen."""
    return session.scalars(select(Call.answers).where(Call.call_sid == call_sid)).first() or {}


def update_answers(call: Call, **changes) -> None:
    """Set some of a call's answers (a new dict, so the JSON column is seen to change)."""
    call.answers = {**(call.answers or {}), **changes}


def record_end(session: Session, call: Call, final_status: str | None, duration_seconds: int | None) -> None:
    """Twilio's final word on a call; a call that achieved nothing recorded is one the caller hung up."""
    call.final_status = final_status
    call.duration_seconds = duration_seconds
    call.ended_at = utcnow()
    if not call.outcome:
        call.outcome = HUNG_UP


# Twilio's final word in one statement: what record_end does to an ORM Call, returning what the route then needs.
# (Bind names differ from the columns': an UPDATE reserves those for its SET clause.)
_END = update(_CALLS).where(_CALLS.c.call_sid == bindparam("ended_sid")).values(
    final_status=bindparam("new_final_status", type_=_CALLS.c.final_status.type),
    duration_seconds=bindparam("new_duration", type_=_CALLS.c.duration_seconds.type),
    ended_at=bindparam("new_ended_at", type_=_CALLS.c.ended_at.type),
    outcome=func.coalesce(func.nullif(_CALLS.c.outcome, ""), HUNG_UP),
).returning(_CALLS.c.answers, _CALLS.c.outcome)


@dataclass(frozen=True)
class EndedCall:
    """A call as its status callback left it."""

    answers: dict
    outcome: str | None


def end(executor: Executor, call_sid: str, from_number: str | None, to_number: str | None, route: str,
        final_status: str | None, duration_seconds: int | None) -> EndedCall:
    """record_end without the ORM: one UPDATE (and the call's row first, for a call never seen)."""
    ended = {"ended_sid": call_sid, "new_final_status": final_status, "new_duration": duration_seconds,
             "new_ended_at": utcnow()}
    row = executor.execute(_END, ended).first()
    if row is None:
        _insert_if_new(executor, call_sid, from_number, to_number, route)
        row = executor.execute(_END, ended).one()
    return EndedCall(row[0] or {}, row[1])


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


# ---- the staff desk (issue 9): who is waiting, what they already did, call-backs ---------------------------

from datetime import timedelta  # noqa: E402, I001 - kept with the desk's functions, appended here

from .core.words import digits_from_speech  # noqa: E402
from .core.words import normalise as normalise_words  # noqa: E402
from .models import CallBack  # noqa: E402

REPRESENTATIVE_OUTCOME = "representative:"  # + the language: the caller was put in line for a person
STATUS_NODE = "status_start"  # where a caller keys or says a case number to check
QUEUE_NODE = "representative_queue"  # the flow node that puts a caller in line for a person


def call_by_id(session: Session, call_id: int) -> Call | None:
    """One call by its row id."""
    return session.get(Call, call_id)


def waiting_for_representative(session: Session, max_age: timedelta) -> list[Call]:
    """Calls in line for a person now: put in the queue, not yet left it, not ended; longest waiting first.

    Calls older than max_age are left out: a call whose end Twilio never reported must not wait for ever.
    """
    # Measured on the clock the call rows were written with (utcnow), not the app's.
    since = utcnow() - max_age
    query = (select(Call).where(Call.outcome.like(f"{REPRESENTATIVE_OUTCOME}%"), Call.ended_at.is_(None),
                                Call.started_at >= since)
             .order_by(Call.started_at, Call.id))
    return list(session.scalars(query))


def _turn_case_number(turn: CallTurn, lang: str) -> str | None:
    """The digits a caller keyed or said at the case-status question."""
    raw = turn.input or ""
    if raw.startswith("speech:"):
        return digits_from_speech(normalise_words(raw[len("speech:"):]), lang) or None
    return raw or None


def handover(call: Call) -> dict:
    """What the caller already did before reaching a person, so they need not repeat it."""
    answers = call.answers or {}
    turns = list(call.turns)
    checked = [number for turn in turns if turn.node == STATUS_NODE
               if (number := _turn_case_number(turn, call.language))]
    unfinished = not answers.get("case_number") and bool(collected(call) or answers.get("type_words"))
    return {
        "language": call.language,
        "route": call.route,
        "started_at": call.started_at,
        "path": [(turn.node, turn.input, turn.next_node, turn.at) for turn in turns],
        "checked_numbers": checked,
        "report": collected(call) if unfinished else {},
        "report_words": answers.get("type_words") if unfinished else None,
        "reported_case": answers.get("case_number"),
        "queued_at": next((turn.at for turn in reversed(turns) if turn.next_node == QUEUE_NODE), None),
    }


def awaiting_call_back(session: Session, limit: int) -> list[Call]:
    """Calls that hung up mid-report and nobody has called back yet, newest first."""
    handled = select(CallBack.id).where(CallBack.call_id == Call.id).exists()
    query = (select(Call).where(Call.outcome == ABANDONED_INTAKE, ~handled)
             .order_by(Call.started_at.desc(), Call.id.desc()).limit(limit))
    return list(session.scalars(query))


def recent_call_backs(session: Session, limit: int) -> list[tuple[CallBack, Call]]:
    """Call-backs already made, latest first, with their calls."""
    query = (select(CallBack, Call).join(Call, Call.id == CallBack.call_id)
             .order_by(CallBack.handled_at.desc(), CallBack.id.desc()).limit(limit))
    return [(row[0], row[1]) for row in session.execute(query)]


def mark_called_back(session: Session, call: Call, actor: str, note: str | None,
                     now: datetime | None = None) -> CallBack:
    """Record that staff called back an abandoned report (once: a second click keeps the first record)."""
    if call.outcome != ABANDONED_INTAKE:
        raise ValueError("only a call that hung up in the middle of a report waits for a call-back")
    existing = session.scalars(select(CallBack).where(CallBack.call_id == call.id)).first()
    if existing is not None:
        return existing
    done = CallBack(call_id=call.id, handled_at=now or utcnow(), handled_by=actor,
                    note=(note or "").strip()[:500] or None)
    session.add(done)
    session.flush()
    return done


# ---- read-only figures for the supervisor's dashboard (issue 9) ------------------------------------------

STATUS_FOUND_NODE = "status_read"  # where a case number keyed or said at STATUS_NODE was found and read


def call_facts(session: Session, start: datetime, end: datetime) -> list:
    """Each call started in [start, end) as a row: started_at, route, language, outcome, checked_status.

    Only these columns are read (no caller details). checked_status is true when a case was found and read to
    the caller; it relies on the turns, so calls whose turns were purged (config/privacy.toml) count as not.
    """
    checked = (select(CallTurn.id)
               .where(CallTurn.call_id == Call.id, CallTurn.node == STATUS_NODE,
                      CallTurn.next_node == STATUS_FOUND_NODE)
               .exists())
    query = (select(Call.started_at, Call.route, Call.language, Call.outcome, checked.label("checked_status"))
             .where(Call.started_at >= start, Call.started_at < end)
             .order_by(Call.started_at))
    return list(session.execute(query))


def call_sids_from(session: Session, number: str, limit: int) -> list[str]:
    """The CallSids of the latest calls from a phone number (the desk finds the cases they made)."""
    query = (select(Call.call_sid).where(Call.from_number == number)
             .order_by(Call.started_at.desc(), Call.id.desc()).limit(limit))
    return list(session.scalars(query))


def call_back_for(session: Session, call: Call) -> CallBack | None:
    """The record of the call-back made for an abandoned report, if any."""
    return session.scalars(select(CallBack).where(CallBack.call_id == call.id)).first()


def by_sid(session: Session, call_sid: str | None) -> Call | None:
    """A call's row by its CallSid (a call-back request points at the call it came from)."""
    return _existing(session, call_sid) if call_sid else None
