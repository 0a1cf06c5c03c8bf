"""Actions of the call-back flow (flows/callbacks.yaml): why the caller wants a call-back, their message, and
the request itself. The number is taken by the report's own actions (caller_id_available, use_caller_id,
take_phone), which leave it in answers["contact_phone"]."""

from __future__ import annotations

from .. import callbacks, recordings
from ..core import phone
from ..core.engine import ActionResult, Context
from .actions import caller_number, handler

REASON_KEY = "callback_reason"  # set by the flow (or another flow's action) before callback_offer
REQUEST_KEY = "callback_request_id"  # a message left before the number was confirmed already made the request


def _reason_setter(reason: str):
    def remember_reason(services, ctx: Context) -> ActionResult:
        ctx.answers[REASON_KEY] = reason
        return ActionResult("ok")

    remember_reason.__doc__ = f"The caller is to be called back because of {reason.replace('_', ' ')}."
    return remember_reason


for _reason in callbacks.REASONS:
    handler(f"call_back_for_{_reason}")(_reason_setter(_reason))


def _reason(services, ctx: Context) -> str:
    """Why: as the flow said, else a long wait while open and a message after hours."""
    reason = ctx.answers.get(REASON_KEY)
    if reason in callbacks.REASONS:
        return reason
    return "long_wait" if services.is_open() else "after_hours"


def _due(services):
    """When staff should call: now while open, else the next opening."""
    return callbacks.due_at(services.line.schedule, services.now, services.closure is not None)


@handler("take_call_back_message")
def take_call_back_message(services, ctx: Context) -> ActionResult:
    """A message was recorded: the request is made now, so a caller who hangs up before confirming is still
    called back (at the caller ID, marked unconfirmed) and the transcript has a request to land on."""
    if not ctx.recording_url:
        return ActionResult("invalid", say=("callback.message_retry",))
    new = callbacks.NewCallBack(call_sid=ctx.call_sid, phone=caller_number(ctx), number_confirmed=False,
                                language=ctx.lang, reason=_reason(services, ctx), recording_url=ctx.recording_url,
                                recording_sid=recordings.recording_sid(ctx.recording_url))
    made = callbacks.request(services.session, new, _due(services), now=services.now,
                             existing_id=ctx.answers.get(REQUEST_KEY))
    ctx.answers[REQUEST_KEY] = made.id
    return ActionResult("ok", call_outcome="call_back_requested")


@handler("request_call_back")
def request_call_back(services, ctx: Context) -> ActionResult:
    """Record the request with the number the caller confirmed; the result says when to expect the call."""
    number = ctx.answers.get("contact_phone")
    new = callbacks.NewCallBack(call_sid=ctx.call_sid, phone=number, number_confirmed=bool(number),
                                language=ctx.lang, reason=_reason(services, ctx))
    callbacks.request(services.session, new, _due(services), now=services.now,
                      existing_id=ctx.answers.pop(REQUEST_KEY, None))
    ctx.answers.pop(REASON_KEY, None)
    if number:
        ctx.answers["callback_number_ending"] = phone.spoken_ending(number)
    if services.is_open():
        return ActionResult("soon", call_outcome="call_back_requested")
    return ActionResult("reopening" if services.closure is not None else "next_opening",
                        call_outcome="call_back_requested")
