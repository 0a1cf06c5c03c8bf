"""Twilio voice webhooks: /voice, /voice/turn, /voice/status, /voice/fallback (waiting in line and messages:
ivr/voice/waiting.py, on the same blueprint).

The only place that turns HTTP requests into engine turns and engine outcomes into TwiML.
Every route checks X-Twilio-Signature first; every error path answers valid TwiML, never a 500.
"""

from __future__ import annotations

import logging
from functools import wraps
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, request
from twilio.twiml.voice_response import VoiceResponse

from .. import calls, metrics
from ..core.engine import LANGUAGES, Speak, Turn
from ..core.flows import KINDS
from ..core.prompts import MissingPromptValue
from .inbound import Webhook
from .inbound import read as read_webhook
from .services import CallServices
from .signature import twilio_signed
from .twiml import Renderer, speak_only

log = logging.getLogger(__name__)
bp = Blueprint("voice", __name__, url_prefix="/voice")

EVENTS = ("gather", "silence", "dial", "queue", "record", "conference")
MAX_ATTEMPT = 20


def _state():
    """The app's loaded line (flows, prompts, config)."""
    return current_app.extensions["ivr"]


def _now():
    """The current instant (tests freeze it)."""
    return current_app.config["CLOCK"]()


def twiml_response(response: VoiceResponse) -> Response:
    """Serve a VoiceResponse as text/xml."""
    return Response(str(response), mimetype="text/xml")


def timed(kind: str):
    """Observe how long a webhook takes to answer, as ivr_turn_seconds{kind}."""

    def wrap(view):
        @wraps(view)
        def observed(*args, **kwargs):
            with metrics.TURN_SECONDS.labels(kind).time():
                return view(*args, **kwargs)

        return observed

    return wrap


def _turn_url(node: str, lang: str, attempt: int, event: str) -> str:
    """Root-relative URL for the next turn; Twilio resolves and signs it as the absolute URL."""
    # Spelled out rather than url_for'd: a turn writes two or three of these, and url_for costs more than the
    # rest of the rendering. tests/voice/test_twiml.py holds it to what url_for builds.
    query = urlencode({"node": node, "lang": lang, "attempt": attempt, "event": event})
    return f"{request.script_root}{bp.url_prefix}/turn?{query}"


def _wait_url(lang: str) -> str:
    """Root-relative URL of the hold music for a caller waiting in `lang`."""
    return f"{request.script_root}{bp.url_prefix}/wait?{urlencode({'lang': lang})}"


def _conference_url(what: str, **query) -> str:
    """Root-relative URL of an interpretation-conference webhook (ivr/voice/interpretation.py)."""
    return f"{request.script_root}{bp.url_prefix}/interpretation/{what}" + (f"?{urlencode(query)}" if query else "")


def _transcription_url() -> str:
    """Root-relative URL Twilio posts a recorded message's transcript to."""
    return f"{request.script_root}{bp.url_prefix}/transcription"


def _renderer() -> Renderer:
    """This app's renderer for this request's root (one per root, so its cache of rendered turns is kept)."""
    renderers = current_app.extensions.setdefault("ivr_renderers", {})
    root = request.script_root
    renderer = renderers.get(root)
    if renderer is None:
        state = _state()
        # Where Twilio reports each recorded conversation, when config/recording.toml records them.
        recording = f"{root}{bp.url_prefix}/recording" if state.settings.recording.enabled else None
        renderer = renderers[root] = Renderer(state.catalog.voices, _turn_url, _wait_url, _conference_url,
                                              _transcription_url(), recording)
    return renderer


def route_for(to_number: str | None) -> str:
    """Which of the city's numbers the caller dialled: '311' or 'ten-digit'."""
    numbers = _state().settings.numbers
    if to_number and to_number == numbers.three_one_one:
        return "311"
    if to_number and to_number == numbers.ten_digit:
        return "ten-digit"
    return "unknown"


def _input_text(turn: Turn) -> str | None:
    """What the caller did, for the turn log."""
    if turn.digits:
        return turn.digits
    if turn.speech:
        return f"speech:{turn.speech}"[:500]
    return turn.dial_status or turn.queue_result or turn.recording_url


def _play_turn(hook: Webhook, make_turn, arriving: bool = False) -> Response:
    """Run one turn inside a transaction; any failure answers the fallback TwiML instead."""
    state = _state()
    lang = request.args.get("lang")  # none on arrival: the fallback then speaks both languages
    if hook.call_sid is None:
        # Twilio always sends CallSid: without one there is no call to keep state for, and sharing a
        # row between such requests would mix strangers' answers. The caller (if any) still hears 911.
        log.warning("webhook without CallSid on %s; answering fallback TwiML", request.path)
        return _fallback(lang, "no_call_sid")
    try:
        # Arrival writes first (the call's row, tolerating a retry that arrives at once); other turns read, work
        # out what to say, then write (see TurnWork: on SQLite the write lock is held only for the write).
        with state.db.turn(writes_first=arriving) as work:
            reads = work.writing() if arriving else work.connection
            call = calls.open_turn(reads, hook.call_sid, hook.from_number, hook.to_number,
                                   route_for(hook.to_number), arriving=arriving)
            work.reads_done()
            turn = make_turn(call)
            services = CallServices(state.line, state.catalog, work.lazy_session(), _now(), route=call.route,
                                    action_handlers=state.action_handlers, closure_cache=state.closure_cache,
                                    announcement_cache=state.announcement_cache)
            outcome = state.engine.advance(turn, services)
            xml = _renderer().render_xml(outcome)
            # An emergency-word interrupt is logged as such, so supervisors can review those calls.
            calls.record_turn(work.write_back(), call,
                              language=outcome.lang, answers=outcome.answers,
                              outcome=outcome.end_reason, node=turn.node or "(arrival)",
                              event="emergency" if outcome.emergency else turn.event,
                              caller_input=_input_text(turn),
                              next_node=outcome.trail[-1] if outcome.trail else None,
                              max_turns=state.settings.database.max_turns_per_call)
        return Response(xml, mimetype="text/xml")
    except MissingPromptValue as exc:
        # A signed URL for a node this call never reached (a stale retry, or a forged position): no traceback,
        # which would only hide real failures; the caller still hears the fallback.
        log.warning("turn at a node the call has not reached (call %s): %s", hook.call_sid, exc)
        return _fallback(lang, "bad_position_for_call")
    except Exception:
        log.exception("turn failed; answering fallback TwiML (call %s)", hook.call_sid)
        return _fallback(lang, "turn_failed")


@bp.post("")
@timed("arrival")
@twilio_signed
def incoming():
    """A call arrives: greet, with the 911 advisory first."""
    return _play_turn(read_webhook(request.form),
                      lambda call: Turn(node=None, lang="en", caller=call.from_number,
                                        call_sid=call.call_sid, answers=dict(call.answers or {})),
                      arriving=True)


def _possible_position(node: str, lang: str, event: str, attempt: int) -> bool:
    """True if a turn URL names a node of the flow, a language, an event that node can take and a sane attempt."""
    nodes = _state().engine.flow.nodes
    if node not in nodes or lang not in LANGUAGES or event not in EVENTS or not 1 <= attempt <= MAX_ATTEMPT:
        return False
    # Keys, speech or silence can only arrive where the flow listens; a branch or a say never gathers.
    return event not in ("gather", "silence") or KINDS[nodes[node].kind].listens


@bp.post("/turn")
@timed("turn")
@twilio_signed
def turn():
    """The caller pressed, said, or did nothing; or a transfer, queue or recording ended."""
    args, hook = request.args, read_webhook(request.form)
    node, lang, event = args.get("node", ""), args.get("lang", "en"), args.get("event", "gather")
    try:
        attempt = int(args.get("attempt", "1"))
    except ValueError:
        attempt = 0
    if not _possible_position(node, lang, event, attempt):
        # Only a forged or stale URL gets here (ours are signed): a warning, as no code of ours failed.
        log.warning("turn with bad position node=%r lang=%r event=%r attempt=%r", node, lang, event, attempt)
        return _fallback(lang, "bad_position")
    if event == "gather" and not hook.digits and not hook.speech:
        event = "silence"

    def make_turn(call) -> Turn:
        return Turn(node=node, lang=lang, attempt=attempt, event=event, digits=hook.digits, speech=hook.speech,
                    dial_status=hook.dial_status, queue_result=hook.queue_result,
                    recording_url=hook.recording_url, recording_seconds=hook.recording_seconds,
                    caller=call.from_number, call_sid=call.call_sid, answers=dict(call.answers or {}))

    return _play_turn(hook, make_turn)


@bp.post("/status")
@timed("status")
@twilio_signed
def status():
    """Twilio's status callback: the call's final status and duration."""
    state = _state()
    hook = read_webhook(request.form)
    if hook.call_sid is None:
        log.warning("status callback without CallSid; nothing recorded")
        return twiml_response(VoiceResponse())
    try:
        with state.db.turn() as work:
            # One UPDATE (autocommit on PostgreSQL; SQLite's write lock), without the ORM; the end-of-call hook
            # loads the call only when it says it needs to (a hook that does not say, always).
            ended = calls.end(work.write_back(), hook.call_sid, hook.from_number, hook.to_number,
                              route_for(hook.to_number), hook.call_status, hook.call_duration)
            outcome = ended.outcome
            on_end = state.action_handlers.get("on_call_end")
            needed = getattr(on_end, "needed", None)
            if on_end is not None and (needed is None or needed(ended.answers)):
                call = calls.by_sid(work.session, hook.call_sid)
                on_end(work.session, call)
                outcome = call.outcome
        metrics.call_ended(outcome)
    except Exception as exc:
        # No traceback: it can carry the row's values (the caller's number). 200 all the same: the call is over,
        # Twilio retries status callbacks only when told to, and its call log keeps what was lost (operations.md).
        log.error("status callback NOT stored for call %r (%s); its final status is only in Twilio's call log",
                  hook.call_sid, type(exc).__name__)
    return twiml_response(VoiceResponse())


@bp.post("/fallback")
@timed("fallback")
@twilio_signed
def fallback():
    """Twilio's fallback URL: answers without the database, whatever went wrong."""
    lang = request.args.get("lang")
    # %r: these fields are the sender's text, and must not forge log lines with newlines.
    log.error("Twilio fell back: ErrorCode=%r ErrorUrl=%r CallSid=%r", request.form.get("ErrorCode"),
              request.form.get("ErrorUrl"), request.form.get("CallSid"))
    return _fallback(lang, "twilio_fallback")


def _fallback(lang: str | None, reason: str) -> Response:
    """The fallback TwiML for this request's language (both when unknown), counted by why it was needed."""
    metrics.fallback(reason)
    return twiml_response(fallback_response(lang if lang in LANGUAGES else None))


def fallback_response(lang: str | None) -> VoiceResponse:
    """The 911 advisory, then a representative (open) or the hours (closed); no database needed."""
    state = _state()
    try:
        is_open = state.line.schedule.is_open(_now())
    except Exception:  # even the clock failing must not cost the caller the 911 advisory
        is_open = False
    langs = [lang] if lang else list(LANGUAGES)
    key = "fallback.open" if is_open else "fallback.closed"
    speeches = [Speak(state.catalog.text(code, key, hours=state.line.hours_text[code]), code) for code in langs]
    rep = state.settings.routing.representative
    number = (rep.call_center_number_es if lang == "es" else "") or rep.call_center_number
    if is_open and number:
        return speak_only(state.catalog.voices, speeches, then_dial=number)
    return speak_only(state.catalog.voices, speeches, hangup=True)
