"""Recordings and retention: conversations Twilio recorded, kept until `ivr purge` deletes them at Twilio.

A recording lives at Twilio, not here: clearing our link to it would leave the caller's voice on Twilio's servers
with nobody to delete it. So an expired recording is deleted through the REST API first, and its link cleared only
once Twilio has let it go (or no longer has it); a failure keeps the link for the next run and is reported.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from twilio.base.exceptions import TwilioException, TwilioRestException

from .models import CallRecording
from .twilio_rest import TwilioAccount, close_client, explain_error, rest_client

log = logging.getLogger(__name__)

# Twilio's recording URLs end in the recording's SID: .../Accounts/AC.../Recordings/RE<32 hex>[.wav|.mp3|.json]
RECORDING_SID = re.compile(r"/Recordings/(RE[0-9a-fA-F]{32})(?:\.\w+)?$")


def recording_sid(url: str | None) -> str | None:
    """The SID of a Twilio recording URL, or None if the URL names no Twilio recording."""
    match = RECORDING_SID.search((url or "").split("?")[0])
    return match.group(1) if match else None


def keep_recording(session: Session, call_sid: str, sid: str, url: str, duration: int | None,
                   now: datetime) -> bool:
    """Store a finished conversation recording once (Twilio may send its callback again); True if new."""
    if session.scalar(select(CallRecording.id).where(CallRecording.recording_sid == sid)) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(CallRecording(call_sid=call_sid, recording_sid=sid, url=url, duration_seconds=duration,
                                      recorded_at=now))
    except IntegrityError:
        return False  # the same callback, stored by another worker a moment ago
    return True


@dataclass
class Deletions:
    """What one purge did with the recordings: deleted at Twilio (or already gone), and the failures."""

    deleted: int = 0
    failures: list[str] = field(default_factory=list)  # "RE...: HTTP 500, error 20500, ..." per recording kept


class TwilioRecordings:
    """Deletes recordings at Twilio with the line's one REST client; a failure is reported, never raised."""

    def __init__(self, account: TwilioAccount):
        self.account = account
        self._client = None

    def delete(self, sid: str) -> str | None:
        """DELETE Recordings/{sid}.json: None once Twilio no longer has it (404 included), else why not."""
        if not self.account.usable:
            return "no Twilio credentials (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN)"
        try:
            if self._client is None:
                self._client = rest_client(self.account)
            self._client.recordings(sid).delete()
        except TwilioRestException as exc:
            return None if exc.status == 404 else explain_error(exc)
        except (TwilioException, OSError) as exc:
            return explain_error(exc)
        return None

    def close(self) -> None:
        """Release the REST client's connection."""
        close_client(self._client)
        self._client = None


def delete_expired(session: Session, before: datetime, delete: Callable[[str], str | None],
                   dry_run: bool = False) -> Deletions:
    """Delete at Twilio the conversations recorded before `before`, dropping each row Twilio let go."""
    done = Deletions()
    expired = list(session.scalars(select(CallRecording).where(CallRecording.recorded_at < before)
                                   .order_by(CallRecording.id)))
    if dry_run:
        done.deleted = len(expired)
        return done
    for recording in expired:
        problem = delete(recording.recording_sid)
        if problem is None:
            session.delete(recording)
            done.deleted += 1
        else:
            done.failures.append(f"{recording.recording_sid}: {problem}")
    session.flush()
    return done


def link_deleter(delete: Callable[[str], str | None], done: Deletions) -> Callable[[str], bool]:
    """For a purge of links to recordings (cases, call-backs): delete one at Twilio; True once its link may go."""

    def delete_linked_recording(url: str) -> bool:
        sid = recording_sid(url)
        if sid is None:
            return True  # not a Twilio recording: nothing there to delete, and nothing to keep the link for
        problem = delete(sid)
        if problem is None:
            done.deleted += 1
            return True
        done.failures.append(f"{sid}: {problem}")
        return False

    return delete_linked_recording
