"""The interpretation conference's webhooks: dialling the representative and the interpreter in, the caller's
hold audio, the legs' status callbacks and the conference's events.

The flow's conference node redirects the caller here (/voice/interpretation/dial): the REST requests that bring
the others in are made outside any turn's transaction, then the caller joins the room, or, if Twilio refused a
leg, goes back to the flow at once. What the line knows of the three-way call is kept in the caller's answers
under "interpretation": {node, lang, state, legs {role: CallSid}, joined [role], missing}. A leg nobody takes
(its status callback says no-answer, busy, failed or canceled) brings the caller out of the room with a REST
redirect to the flow, once; the flow then says so in English and Spanish. Every route answers TwiML, never 500.
"""

from __future__ import annotations

import logging

from flask import current_app, request
from twilio.twiml.voice_response import VoiceResponse

from .. import calls
from ..core.engine import LANGUAGES, Speak
from ..interpreting import (
    INTERPRETER,
    NOT_REACHED,
    REPRESENTATIVE,
    ROLES,
    Leg,
    LegRefused,
    caller_of,
    cancel,
    conference_name,
    dial_legs,
    interpreter_digits,
    is_call_sid,
    redirect,
)
from .routes import _conference_url, _fallback, _state, _turn_url, bp, timed, twiml_response
from .signature import twilio_signed
from .twiml import conference_leg, hold, join_conference
from .waiting import hold_music_url

log = logging.getLogger(__name__)

KEY = "interpretation"  # the call's answers key for the three-way call
WAITING, CONNECTED, UNREACHABLE, ENDED = "waiting", "connected", "unreachable", "ended"
CALLBACK_REASON = {"callback_reason": "interpretation"}  # what a call-back offer after a failure is about


def _absolute(root_relative: str) -> str:
    """The public URL of a path of ours: REST-created calls and conference events need absolute URLs."""
    base = current_app.config.get("PUBLIC_BASE_URL") or request.url_root
    return base.rstrip("/") + root_relative[len(request.script_root):]


def _empty() -> object:
    """An empty TwiML answer: what Twilio expects from a status callback."""
    return twiml_response(VoiceResponse())


def _record(call) -> dict | None:
    """A copy of what the line knows of the call's three-way call."""
    record = (call.answers or {}).get(KEY)
    return dict(record) if isinstance(record, dict) else None


def _save(call, record: dict, **more) -> None:
    """Write the record back into the call's answers."""
    calls.update_answers(call, **{KEY: record}, **more)


# ---- the caller: dial the others in, then join the room ---------------------------------------------------

@bp.post("/interpretation/dial")
@timed("interpretation")
@twilio_signed
def dial_in():
    """Dial the representative and the interpreter into the caller's room, then put the caller in it."""
    state = _state()
    node, lang, call_sid = request.args.get("node", ""), request.args.get("lang", ""), request.form.get("CallSid")
    found = state.engine.flow.nodes.get(node)
    if lang not in LANGUAGES or found is None or found.kind != "conference" or not is_call_sid(call_sid):
        log.warning("interpretation dial with bad position node=%r lang=%r", node, lang)
        return _fallback(lang, "bad_position")
    back = _turn_url(node, lang, 1, "conference")  # where the caller returns to the flow, whatever happens
    room = conference_name(call_sid)
    record = {"node": node, "lang": lang, "state": WAITING, "legs": {}, "joined": []}
    # Written before dialling: a leg that fails at once (its status callback can beat our answer) finds the call
    # waiting with no legs yet, marks it unreachable, and leaves bringing the caller back to this request.
    _store(call_sid, record)
    more: dict = {}
    try:
        record["legs"] = dial_legs(state.line.twilio, state.settings.numbers.ten_digit,
                                   _legs(call_sid, room, _language_asked(call_sid)),
                                   state.settings.routing.interpretation.api_timeout)
    except LegRefused as refused:
        record.update(state=UNREACHABLE, missing=refused.role)
        more = CALLBACK_REASON
    failed_meanwhile = _store(call_sid, record, **more)
    if failed_meanwhile is not None and record["state"] == WAITING:
        record.update(state=UNREACHABLE, missing=failed_meanwhile.get("missing"))
        _store(call_sid, record, **CALLBACK_REASON)
        others = [sid for role, sid in record["legs"].items() if role != record["missing"]]
        cancel(state.line.twilio, others, state.settings.routing.interpretation.api_timeout)
    response = VoiceResponse()
    if record["state"] == UNREACHABLE:
        response.redirect(back, method="POST")  # at once: the flow tells the caller, in English and Spanish
    else:
        join_conference(response, room, back, _absolute(_conference_url("wait", lang=lang)),
                        _absolute(_conference_url("events")))
    return twiml_response(response)


def _store(call_sid: str, record: dict, **more) -> dict | None:
    """Write the record; if a leg's failure was noted since the last write, return that stored record instead."""
    try:
        with _state().db.session(writes=True) as session:
            call = calls.for_update(session, call_sid)
            if call is None:
                return None
            stored = _record(call)
            if stored is not None and stored.get("state") == UNREACHABLE and record.get("state") == WAITING:
                return stored
            _save(call, record, **more)
    except Exception as exc:  # the room works without the record; only a later failure goes unnoticed
        log.error("interpretation: the three-way call of %s was not recorded (%s)", call_sid, type(exc).__name__)
    return None


def _language_asked(call_sid: str) -> str | None:
    """The language the caller named, if any (answers.interpretation_language): a nicety, never a failure."""
    try:
        with _state().db.session() as session:
            answers = calls.answers_of(session, call_sid)
    except Exception as exc:
        log.warning("interpretation: the caller's language was not read (%s)", type(exc).__name__)
        return None
    language = answers.get("interpretation_language")
    return language if isinstance(language, str) else None


def _legs(call_sid: str, room: str, language: str | None) -> list[Leg]:
    """The representative's call (told what the call is first), then the interpreter's, with its DTMF."""
    state = _state()
    routing = state.settings.routing
    interp, rep = routing.interpretation, routing.representative
    voices = state.catalog.voices
    whisper = Speak(state.catalog.text("en", "interpretation.representative_whisper"), "en")

    def status_callback(role: str) -> str:
        return _absolute(_conference_url("leg", call=call_sid, leg=role))

    return [
        # The representative's leaving ends the room: the call is theirs to close.
        Leg(REPRESENTATIVE, interp.representative_number or rep.call_center_number,
            conference_leg(voices, room, ends_room=True, whisper=whisper), status_callback(REPRESENTATIVE),
            rep.dial_timeout),
        Leg(INTERPRETER, interp.number, conference_leg(voices, room, ends_room=False),
            status_callback(INTERPRETER), interp.dial_timeout,
            interpreter_digits(interp.send_digits, interp.language_codes, language)),
    ]


@bp.post("/interpretation/wait")
@timed("interpretation")
@twilio_signed
def hold_audio():
    """The caller's waitUrl until someone joins: a word in English and Spanish, then the hold music."""
    state = _state()
    speeches = [Speak(state.catalog.text(code, "interpretation.wait"), code) for code in LANGUAGES]
    return twiml_response(hold(state.catalog.voices, speeches, hold_music_url(),
                                     state.settings.routing.waiting.hold_music_loops))


# ---- the legs' status callbacks ---------------------------------------------------------------------------

@bp.post("/interpretation/leg")
@timed("interpretation")
@twilio_signed
def leg_status():
    """A leg answered or ended; one nobody took brings the caller out of the room to hear so."""
    caller, role, status = request.args.get("call"), request.args.get("leg"), request.form.get("CallStatus")
    if role not in ROLES or not is_call_sid(caller):
        log.warning("interpretation leg status for an unknown leg %r", role)
        return _empty()
    log.info("interpretation: the %s's call for %s is %s", role, caller, status)
    if status not in NOT_REACHED:
        return _empty()
    state = _state()
    try:
        with state.db.session(writes=True) as session:
            plan = _give_up(calls.for_update(session, caller), role)
    except Exception as exc:
        log.error("interpretation: the %s's %s for %s was not handled (%s)", role, status, caller,
                  type(exc).__name__)
        return _empty()
    if plan is not None:
        back, others = plan
        timeout = state.settings.routing.interpretation.api_timeout
        redirect(state.line.twilio, caller, back, timeout)
        cancel(state.line.twilio, others, timeout)
    return _empty()


def _give_up(call, role: str) -> tuple[str, list[str]] | None:
    """Mark the three-way call unreachable: (where the caller goes, the other legs to stop); None to do nothing."""
    record = _record(call) if call is not None else None
    if record is None or record.get("state") != WAITING:
        return None  # already handled (both legs failed), or the conversation is under way or over
    if role == INTERPRETER and REPRESENTATIVE in record.get("joined", []):
        # The representative is with the caller: pulling the caller away would end that conversation.
        log.info("interpretation: no interpreter for %s; the representative stays with the caller", call.call_sid)
        return None
    record.update(state=UNREACHABLE, missing=role)
    _save(call, record, **CALLBACK_REASON)
    if not record.get("legs"):
        return None  # the dial request is still under way: it brings the caller back itself (dial_in)
    others = [sid for other, sid in record.get("legs", {}).items() if other != role]
    return _absolute(_turn_url(record["node"], record["lang"], 1, "conference")), others


# ---- the conference's events ------------------------------------------------------------------------------

@bp.post("/interpretation/events")
@timed("interpretation")
@twilio_signed
def conference_event():
    """Who joined the room; when the caller left or the room ended, the legs still ringing are stopped."""
    event, participant = request.form.get("StatusCallbackEvent"), request.form.get("CallSid")
    caller = caller_of(request.form.get("FriendlyName"))
    log.info("interpretation conference %r: %r", request.form.get("ConferenceSid"), event)
    if caller is None:
        return _empty()
    state = _state()
    try:
        with state.db.session(writes=True) as session:
            call = calls.for_update(session, caller)
            record = _record(call) if call is not None else None
            if record is None:
                return _empty()
            if event == "participant-join":
                _joined(call, record, participant)
                return _empty()
            ending = event == "conference-end" or (event == "participant-leave" and participant == caller)
            stale = _ended(call, record) if ending else []
    except Exception as exc:
        log.error("interpretation conference event %r for %s not handled (%s)", event, caller, type(exc).__name__)
        return _empty()
    cancel(state.line.twilio, stale, state.settings.routing.interpretation.api_timeout)
    return _empty()


def _joined(call, record: dict, participant: str | None) -> None:
    """Note which leg joined; with both in the room the three-way call is connected."""
    role = next((role for role, sid in record.get("legs", {}).items() if sid == participant), None)
    if role is None or role in record.get("joined", []):
        return
    record["joined"] = [*record.get("joined", []), role]
    if record.get("state") == WAITING and set(record["joined"]) >= set(ROLES):
        record["state"] = CONNECTED
    _save(call, record)


def _ended(call, record: dict) -> list[str]:
    """The room is over for the caller: the legs that never joined, to stop (they would ring into an empty room)."""
    if record.get("state") not in (WAITING, CONNECTED):
        return []
    record["state"] = ENDED
    _save(call, record)
    return [sid for role, sid in record.get("legs", {}).items() if role not in record.get("joined", [])]
