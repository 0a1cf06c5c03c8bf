"""Waiting in line and leaving messages: /voice/wait, /voice/wait/key and /voice/transcription.

Twilio fetches the wait URL again each time its document ends, posting QueuePosition, CurrentQueueSize,
QueueTime and AvgQueueTime: the caller hears their place and the estimated wait, then hold music. On a long
wait the announcement and the music sit in a <Gather>: 1 answers <Leave/>, and the <Enqueue>'s action then
takes the flow to the queue node's `on_leave` (a call-back); any other key just keeps the caller waiting.
"""

from __future__ import annotations

import logging

from flask import request, url_for
from twilio.twiml.voice_response import VoiceResponse

from .. import callbacks
from ..core.prompts import LANGUAGES
from ..core.waiting import QueueState, estimated_seconds, spoken_minutes
from .inbound import clean, count
from .routes import _state, bp, timed, twiml_response
from .signature import twilio_signed

log = logging.getLogger(__name__)
CALL_BACK_KEY = "1"  # on a long wait: keep your place, we call you back
GATHER_SECONDS = 1  # after the music: the document ends, and Twilio asks the wait URL again
TRANSCRIPT_LONGEST = 5000
SID_LONGEST = 64


def _lang() -> str:
    """The caller's language from the wait URL; English for anything else."""
    lang = request.args.get("lang", "en")
    return lang if lang in LANGUAGES else "en"


def _queue_state() -> QueueState:
    """What Twilio says of the line, each field a plain count or None."""
    form = request.form
    return QueueState(position=count(form.get("QueuePosition")), size=count(form.get("CurrentQueueSize")),
                      waited=count(form.get("QueueTime")), average_wait=count(form.get("AvgQueueTime")))


def _announcement(lang: str, seconds: int | None, position: int | None) -> str:
    """'You are number 3 in line. The wait is about 4 minutes.' (thanks alone without a place in line)."""
    catalog = _state().catalog
    if position is None or seconds is None:
        return catalog.text(lang, "wait.thanks")
    minutes = spoken_minutes(seconds)
    estimate = {0: "wait.under_a_minute", 1: "wait.one_minute"}.get(minutes, "wait.minutes")
    return f"{catalog.text(lang, 'wait.place', position=position)} {catalog.text(lang, estimate, minutes=minutes)}"


def _offers_call_back(seconds: int | None) -> bool:
    """A call-back is offered on a wait longer than the limit, where the flow has somewhere to take the caller."""
    state = _state()
    waiting = state.settings.routing.waiting
    leaves = any(node.kind == "queue" and node.on_leave for node in state.flow.nodes.values())
    return (waiting.offer_call_back and leaves and seconds is not None
            and seconds > waiting.call_back_after_minutes * 60)


def hold_music_url() -> str:
    """The configured hold music, or the line's own (ivr/static/hold-music.wav), which needs no outside service."""
    return _state().settings.routing.representative.hold_music_url or url_for("static", filename="hold-music.wav")


@bp.post("/wait")
@timed("wait")
@twilio_signed
def wait():
    """The caller's place and the estimated wait, in their language, then hold music (and, if long, the offer)."""
    state, lang = _state(), _lang()
    queue = _queue_state()
    seconds = estimated_seconds(queue, state.settings.routing.waiting.seconds_per_caller)
    voice = state.catalog.voice(lang)
    music = hold_music_url()
    response = VoiceResponse()
    holder = response
    if _offers_call_back(seconds):
        holder = response.gather(input="dtmf", num_digits=1, timeout=GATHER_SECONDS, method="POST",
                                 action=f"{request.script_root}{bp.url_prefix}/wait/key?lang={lang}",
                                 action_on_empty_result=False)
    holder.say(_announcement(lang, seconds, queue.position), voice=voice.voice, language=voice.language)
    if holder is not response:
        holder.say(state.catalog.text(lang, "wait.call_back", key=CALL_BACK_KEY), voice=voice.voice,
                   language=voice.language)
    holder.play(music, loop=state.settings.routing.waiting.hold_music_loops)
    return twiml_response(response)


@bp.post("/wait/key")
@timed("wait")
@twilio_signed
def wait_key():
    """A key pressed while waiting: 1 leaves the line for a call-back; anything else keeps the caller's place."""
    response = VoiceResponse()
    if (request.form.get("Digits") or "").startswith(CALL_BACK_KEY):
        response.leave()
    # Otherwise an empty document: it ends at once, and Twilio asks the wait URL again (place, estimate, music).
    return twiml_response(response)


@bp.post("/transcription")
@timed("transcription")
@twilio_signed
def transcription():
    """Twilio's transcript of a recorded message, kept with the call-back request it belongs to."""
    recording_sid = clean(request.form.get("RecordingSid"), SID_LONGEST)
    text = clean(request.form.get("TranscriptionText"), TRANSCRIPT_LONGEST)
    if request.form.get("TranscriptionStatus") != "completed" or not recording_sid or not text:
        log.info("transcription not kept (status %r)", request.form.get("TranscriptionStatus"))
        return twiml_response(VoiceResponse())
    try:
        with _state().db.session(writes=True) as session:
            found = callbacks.attach_transcript(session, recording_sid, text)
        if found is None:
            log.warning("transcription for a recording no call-back request holds")
    except Exception as exc:
        # No traceback: it may carry what the caller said. Twilio does not retry; the recording still has it all.
        log.error("transcription NOT stored (%s); the recording is still with the request", type(exc).__name__)
    return twiml_response(VoiceResponse())
