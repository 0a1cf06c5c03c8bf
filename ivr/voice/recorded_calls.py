"""Recorded conversations (config/recording.toml): the greeting's condition, and Twilio's recording callback.

When recording is on, <Dial> to a department, the interpreter or the call centre records from the answer
(ivr/voice/twiml.py), and Twilio reports each finished recording to /voice/recording, which keeps its SID so
`ivr purge` can delete it at Twilio when the retention period ends (ivr/recordings.py).
"""

from __future__ import annotations

import logging

from flask import current_app, request
from twilio.twiml.voice_response import VoiceResponse

from .. import recordings
from .actions import handler
from .inbound import read as read_webhook
from .routes import bp, timed, twiml_response
from .signature import twilio_signed

log = logging.getLogger(__name__)


@handler("condition:recording_enabled")
def recording_enabled(services, ctx) -> bool:
    """Whether conversations are recorded: the greeting then says so, in both languages."""
    return services.line.settings.recording.enabled


@bp.post("/recording")
@timed("recording")
@twilio_signed
def recording_status():
    """Twilio's recording status callback: keep each finished recording's SID for the retention purge."""
    state = current_app.extensions["ivr"]
    hook = read_webhook(request.form)
    sid = recordings.recording_sid(f"/Recordings/{request.form.get('RecordingSid', '')}")
    if request.form.get("RecordingStatus", "completed") != "completed" or sid is None or hook.call_sid is None:
        # Failed or absent recordings leave nothing at Twilio to delete; %r keeps a forger's text on one line.
        log.warning("recording callback not kept: status=%r sid=%r", request.form.get("RecordingStatus"),
                    request.form.get("RecordingSid"))
        return twiml_response(VoiceResponse())
    try:
        with state.db.session(writes=True) as session:
            recordings.keep_recording(session, hook.call_sid, sid, hook.recording_url or "", hook.recording_seconds,
                                      current_app.config["CLOCK"]())
    except Exception as exc:
        # 200 all the same: Twilio keeps the recording, and its list shows what we missed (docs/operations.md).
        log.error("recording %s of call %s NOT stored (%s); delete it in Twilio's console when it expires",
                  sid, hook.call_sid, type(exc).__name__)
    return twiml_response(VoiceResponse())
