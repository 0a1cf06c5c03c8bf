"""What Twilio posted, made safe once: XML-valid text, each field cut to the column that stores it.

The routes read webhook fields only through `read`, so nothing a caller (or a forger with our token) sends
can break the TwiML we speak back or an INSERT on PostgreSQL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from werkzeug.datastructures import MultiDict

from ..calls import FIELD_LIMITS

# XML 1.0 forbids most C0 controls, surrogates and U+FFFE/U+FFFF (Twilio rejects the TwiML), and
# PostgreSQL text cannot hold NUL; C1 controls are legal XML but never speech, so they go too.
_NOT_SPEAKABLE = re.compile("[^\t\n\r\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# More digits than any real duration; also keeps int() and a 32-bit Integer column safe.
_MAX_COUNT_DIGITS = 9


@dataclass(frozen=True)
class Webhook:
    """The fields the line uses from one webhook, cleaned and bounded; empty fields are None."""

    call_sid: str | None
    from_number: str | None
    to_number: str | None
    call_status: str | None
    digits: str | None
    speech: str | None
    dial_status: str | None
    queue_result: str | None
    recording_url: str | None
    recording_seconds: int | None
    call_duration: int | None
    queue_position: int | None


def clean(value: str | None, limit: int) -> str | None:
    """Text without characters XML or PostgreSQL refuse, at most `limit` long; None when nothing is left."""
    if not value:
        return None
    return _NOT_SPEAKABLE.sub("", value)[:limit] or None


def count(value: str | None) -> int | None:
    """A non-negative whole number in ASCII digits, or None ('٣'.isdigit() is True, int() of it is 3)."""
    if not value or len(value) > _MAX_COUNT_DIGITS or not (value.isascii() and value.isdigit()):
        return None
    return int(value)


def read(form: MultiDict) -> Webhook:
    """The webhook's fields; a repeated field counts with its first value, as Twilio never repeats one."""
    fields = {name: clean(form.get(name), limit) for name, limit in FIELD_LIMITS.items()}
    return Webhook(
        call_sid=fields["CallSid"], from_number=fields["From"], to_number=fields["To"],
        call_status=fields["CallStatus"], digits=fields["Digits"], speech=fields["SpeechResult"],
        dial_status=fields["DialCallStatus"], queue_result=fields["QueueResult"],
        recording_url=fields["RecordingUrl"], recording_seconds=count(form.get("RecordingDuration")),
        call_duration=count(form.get("CallDuration")), queue_position=count(form.get("QueuePosition")),
    )
