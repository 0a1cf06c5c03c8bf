"""Bringing a 311 representative and an interpreter into a caller's conference through Twilio's REST API.

The interpretation service (LanguageLine) answers with its own menu, which takes the city's client ID, then a
language code, as DTMF. Twilio's Conference Participants API cannot send DTMF to a participant once it answers;
the Calls API can (SendDigits). So each of them is an outbound call, created with SendDigits and TwiML of its
own that joins the conference by name. The representative is dialled first (without one, an interpreter has
nobody to interpret for); a leg that cannot be created undoes the one before it.

No Flask here: ivr/voice/interpretation.py gives the URLs and TwiML, and answers Twilio's webhooks.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass

from .twilio_rest import TwilioAccount, close_client, explain_error, rest_client

log = logging.getLogger(__name__)

CONFERENCE_PREFIX = "interpretation-"
REPRESENTATIVE, INTERPRETER = "representative", "interpreter"
ROLES = (REPRESENTATIVE, INTERPRETER)
LEG_EVENTS = ("answered", "completed")  # a leg's status callbacks: it joined, and how it ended
NOT_REACHED = frozenset({"no-answer", "busy", "failed", "canceled"})  # final statuses of a call nobody took
_CALL_SID = re.compile(r"CA[0-9a-f]{32}")


class LegRefused(Exception):
    """Twilio did not create a leg's call (an error answer, or no answer in time)."""

    def __init__(self, role: str):
        super().__init__(f"the {role} could not be dialled")
        self.role = role


@dataclass(frozen=True)
class Leg:
    """One call into the conference: who, the TwiML it runs once answered, and where its status goes."""

    role: str
    to: str
    twiml: str
    status_callback: str
    timeout: int
    send_digits: str = ""


def is_call_sid(value: str | None) -> bool:
    """True for a Twilio Call SID ('CA' and 32 hex digits)."""
    return bool(value and _CALL_SID.fullmatch(value))


def conference_name(call_sid: str) -> str:
    """The caller's conference room: named by the call, never by anything personal (Twilio asks as much)."""
    return CONFERENCE_PREFIX + call_sid


def caller_of(name: str | None) -> str | None:
    """The CallSid of the caller whose room this is, or None for a name that is not one of ours."""
    if not name or not name.startswith(CONFERENCE_PREFIX):
        return None
    sid = name[len(CONFERENCE_PREFIX):]
    return sid if is_call_sid(sid) else None


def interpreter_digits(send_digits: str, codes: Mapping[str, str], language: str | None) -> str:
    """The client ID, then the language's code (when the caller named one the service has a code for)."""
    code = codes.get(language or "")
    return f"{send_digits}ww{code}#" if code else send_digits


def dial_legs(account: TwilioAccount, from_number: str, legs: list[Leg], timeout: float) -> dict[str, str]:
    """Create each leg's call in order; {role: CallSid}. Raises LegRefused, after hanging up the legs before it."""
    client = rest_client(account, timeout)
    dialled: dict[str, str] = {}
    try:
        for leg in legs:
            options = {"send_digits": leg.send_digits} if leg.send_digits else {}
            try:
                if not leg.to:
                    raise ValueError("no number is configured")
                call = client.api.account.calls.create(
                    to=leg.to, from_=from_number, twiml=leg.twiml, timeout=leg.timeout,
                    status_callback=leg.status_callback, status_callback_method="POST",
                    status_callback_event=list(LEG_EVENTS), **options)
            except Exception as exc:  # an error answer, a timeout, a garbled answer: the caller must hear so
                log.warning("interpretation: the %s could not be dialled: %s", leg.role, explain_error(exc))
                _cancel_all(client, dialled.values())
                raise LegRefused(leg.role) from exc
            dialled[leg.role] = call.sid
    finally:
        close_client(client)
    return dialled


def redirect(account: TwilioAccount, call_sid: str, url: str, timeout: float) -> bool:
    """Move a call on to the TwiML at `url` (Calls update Url); False if Twilio did not take it."""
    client = rest_client(account, timeout)
    try:
        client.api.account.calls(call_sid).update(url=url, method="POST")
        return True
    except Exception as exc:
        log.error("interpretation: call %s could not be redirected: %s", call_sid, explain_error(exc))
        return False
    finally:
        close_client(client)


def cancel(account: TwilioAccount, call_sids: list[str], timeout: float) -> None:
    """Stop legs still ringing (best effort: one already in the room leaves when the room ends)."""
    if not call_sids:
        return
    client = rest_client(account, timeout)
    try:
        _cancel_all(client, call_sids)
    finally:
        close_client(client)


def _cancel_all(client, call_sids) -> None:
    """Cancel each call, logging (not raising) what Twilio refuses."""
    for sid in list(call_sids):
        try:
            client.api.account.calls(sid).update(status="canceled")
        except Exception as exc:
            log.warning("interpretation: leg %s could not be cancelled: %s", sid, explain_error(exc))
