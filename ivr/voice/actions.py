"""Named side effects and questions that flows refer to: case intake, case lookup, text messages.

Each handler takes (services, ctx): `services` is the turn's CallServices (database session, config,
clock, catalog), `ctx` the engine context (language, answers, what the caller pressed or said).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from .. import calls, cases, sms
from ..cases import numbers as casenumbers
from ..core import phone, understanding
from ..core.engine import ActionResult, Context, DirectoryEntry
from ..core.speaking import spoken_date
from ..core.words import digits_from_speech, normalise

log = logging.getLogger(__name__)

# name -> handler(services, ctx) -> ActionResult; "condition:NAME" -> handler(services, ctx) -> bool;
# "directory:NAME" -> handler(services) -> list[DirectoryEntry]; "on_call_end" -> hook(session, call).
HANDLERS: dict[str, Callable] = {}
INTAKE_KEYS = ("service_types", "type_name", "type_spoken", "requires_contact", "location", "location_text",
               "contact_name", "contact_phone", "description", "description_text", "recording_url", "case_number",
               "case_number_spoken", "case_department", "sla_text", "type_guess", "type_guess_spoken",
               "type_words", "type_misses")
MAX_TEXT = 300
# After this many answers that name no type, a third guess helps nobody: the report is filed as another
# problem in the caller's own words, and 311 routes it.
MISSES_BEFORE_OTHER = 2


def names(prefix: str = "") -> set[str]:
    """Registered names of one sort: actions (no prefix), 'condition:' or 'directory:'."""
    if prefix:
        return {name[len(prefix):] for name in HANDLERS if name.startswith(prefix)}
    return {name for name in HANDLERS if ":" not in name and name != "on_call_end"}


def handler(name: str):
    """Register a handler under a name flows can use."""

    def register(func):
        HANDLERS[name] = func
        return func

    return register


def _said(ctx: Context) -> str:
    """The caller's speech, tidied and bounded."""
    return " ".join((ctx.speech or "").split())[:MAX_TEXT]


def _take_speech(ctx: Context, key: str, retry_prompt: str, shortest: int) -> ActionResult:
    """Keep what the caller said as answer `key` (and its read-back `key_text`), or ask again."""
    said = _said(ctx)
    if len(said) < shortest:
        return ActionResult("invalid", say=(retry_prompt,))
    ctx.answers[key] = said
    ctx.answers[f"{key}_text"] = said
    return ActionResult("ok")


# ---- report a problem ----------------------------------------------------------------------------

@handler("directory:service_types")
def service_type_directory(services) -> list[DirectoryEntry]:
    """Service types for the report menu: top types by key, every type by keyword."""
    return list(services.line.service_types)


@handler("begin_intake")
def begin_intake(services, ctx: Context) -> ActionResult:
    """Start a fresh intake: forget any earlier one, give this one its own key (one case per intake)."""
    for key in INTAKE_KEYS:
        ctx.answers.pop(key, None)
    count = int(ctx.answers.get("intake_count", 0)) + 1
    ctx.answers["intake_count"] = count
    ctx.answers["intake_key"] = f"{ctx.call_sid}:{count}"
    ctx.answers["intake_active"] = True
    # "I want to report a pothole" at the main menu: judged as an answer to "what would you like to report?".
    return ActionResult({understanding.CLEAR: "named", understanding.CLOSE: "close"}.get(_take_type(services, ctx),
                                                                                      "ok"))


def _take_type(services, ctx: Context) -> str:
    """Judge which service type the words name: a clear one is chosen, a close one kept to confirm; the verdict."""
    choices = [(entry.code, entry.words) for entry in services.line.service_types]
    # A question ('when is trash day?') is never clear.
    verdict = understanding.understand(ctx.speech or "", choices, questions_unsure=True)
    if verdict.kind == understanding.CLEAR:
        ctx.answers["service_types"] = verdict.choice
    elif verdict.kind == understanding.CLOSE:
        _guess(services, ctx, verdict.choice)
    return verdict.kind


def _guess(services, ctx: Context, code: str) -> None:
    """Remember a close call to confirm ('Is this about graffiti?'), apart from the type chosen."""
    ctx.answers["type_guess"] = code
    ctx.answers["type_guess_spoken"] = services.line.settings.service_type(code).spoken(ctx.lang)


@handler("understand_report")
def understand_report(services, ctx: Context) -> ActionResult:
    """Words at the type question that no choice clearly named: a close call to confirm, or a miss."""
    ctx.answers["type_words"] = [*ctx.answers.get("type_words", []), _said(ctx)]
    kind = _take_type(services, ctx)
    if kind in (understanding.CLEAR, understanding.CLOSE):
        return ActionResult("clear" if kind == understanding.CLEAR else "close")
    misses = int(ctx.answers.get("type_misses", 0)) + 1
    ctx.answers["type_misses"] = misses
    return ActionResult("other" if misses >= MISSES_BEFORE_OTHER else "none")


@handler("accept_type_guess")
def accept_type_guess(services, ctx: Context) -> ActionResult:
    """The caller said yes to 'Is this about …?': the guess becomes their choice."""
    ctx.answers["service_types"] = ctx.answers.get("type_guess", "")
    return ActionResult("ok")


@handler("choose_other_problem")
def choose_other_problem(services, ctx: Context) -> ActionResult:
    """File under the fallback type, with everything the caller said about the problem as its description."""
    fallback = next(st for st in services.line.settings.service_types if st.fallback)
    ctx.answers["service_types"] = fallback.code
    _remember_type(ctx, fallback)
    words = "; ".join(dict.fromkeys(said for said in ctx.answers.get("type_words", []) if said))
    ctx.answers["description"] = ctx.answers["description_text"] = words[:MAX_TEXT]
    return ActionResult("ok", say=("report.type_other",))


def _remember_type(ctx: Context, info) -> None:
    """The chosen type's names for later prompts, and whether its department needs contact details."""
    ctx.answers["type_name"] = info.name(ctx.lang)
    ctx.answers["type_spoken"] = info.spoken(ctx.lang)
    ctx.answers["requires_contact"] = info.requires_contact


@handler("cancel_intake")
def cancel_intake(services, ctx: Context) -> ActionResult:
    """The caller cancelled: nothing was submitted, and a later hang-up is not an abandoned intake."""
    ctx.answers["intake_active"] = False
    return ActionResult("ok")


@handler("choose_service_type")
def choose_service_type(services, ctx: Context) -> ActionResult:
    """Remember the chosen type's name and whether its department needs contact details."""
    info = services.line.settings.service_type(ctx.answers.get("service_types", ""))
    if info is None:
        return ActionResult("unknown")
    _remember_type(ctx, info)
    return ActionResult("ok", say=("report.type_chosen",))


@handler("condition:location_is_pickup")
def location_is_pickup(services, ctx: Context) -> bool:
    """True if the chosen type asks where to pick items up rather than where the problem is."""
    info = services.line.settings.service_type(ctx.answers.get("service_types", ""))
    return info is not None and info.location_kind == "pickup"


@handler("condition:description_given")
def description_given(services, ctx: Context) -> bool:
    """True if the caller's own words are already the description (a report filed as another problem)."""
    return bool(ctx.answers.get("description"))


@handler("condition:requires_contact")
def requires_contact(services, ctx: Context) -> bool:
    """True if the chosen type's department needs the caller's name and number."""
    return bool(ctx.answers.get("requires_contact"))


@handler("take_location")
def take_location(services, ctx: Context) -> ActionResult:
    """An address said aloud, or 0 for no fixed location."""
    if (ctx.digits or "").startswith("0"):
        ctx.answers["location"] = None
        ctx.answers["location_text"] = services.catalog.text(ctx.lang, "report.no_location")
        return ActionResult("none")
    return _take_speech(ctx, "location", "report.location_retry", shortest=3)


@handler("take_pickup_location")
def take_pickup_location(services, ctx: Context) -> ActionResult:
    """Where to pick the items up: an address said aloud (a pickup always has one)."""
    return _take_speech(ctx, "location", "report.location_retry", shortest=3)


@handler("take_name")
def take_name(services, ctx: Context) -> ActionResult:
    """The caller's name, said aloud."""
    said = _said(ctx)[:120]
    if len(said) < 2:
        return ActionResult("invalid", say=("report.name_retry",))
    ctx.answers["contact_name"] = said
    return ActionResult("ok")


def caller_number(ctx: Context) -> str | None:
    """The caller ID as a dialable North American number, or None if withheld or foreign."""
    if phone.is_withheld(ctx.caller):
        return None
    return phone.normalise_us_number(ctx.caller or "")


@handler("condition:caller_id_available")
def caller_id_available(services, ctx: Context) -> bool:
    """True if we can offer 'the number you are calling from'."""
    number = caller_number(ctx)
    if number:
        ctx.answers["caller_number_spoken"] = phone.spoken_number(number)
        ctx.answers["caller_number_ending"] = phone.spoken_ending(number)
    return number is not None


@handler("use_caller_id")
def use_caller_id(services, ctx: Context) -> ActionResult:
    """Take the caller ID as the call-back number."""
    number = caller_number(ctx)
    if number is None:
        return ActionResult("invalid")
    ctx.answers["contact_phone"] = number
    return ActionResult("ok")


@handler("take_phone")
def take_phone(services, ctx: Context) -> ActionResult:
    """Ten digits keyed in (or said), checked as a real North American number."""
    raw = ctx.digits or digits_from_speech(ctx.speech or "", ctx.lang) or ""
    number = phone.normalise_us_number(raw)
    if number is None:
        return ActionResult("invalid", say=("report.phone_invalid",))
    ctx.answers["contact_phone"] = number
    return ActionResult("ok")


@handler("take_description")
def take_description(services, ctx: Context) -> ActionResult:
    """A few words about the problem, or 1 to leave a recording instead."""
    if (ctx.digits or "").startswith("1"):
        return ActionResult("record")
    return _take_speech(ctx, "description", "report.description_retry", shortest=2)


@handler("take_recording")
def take_recording(services, ctx: Context) -> ActionResult:
    """A recorded description."""
    if not ctx.recording_url:
        return ActionResult("invalid", say=("report.description_retry",))
    ctx.answers["recording_url"] = ctx.recording_url
    ctx.answers["description"] = ""
    ctx.answers["description_text"] = services.catalog.text(ctx.lang, "report.recorded")
    return ActionResult("ok")


def _sla_text(service_type, lang: str, catalog) -> str:
    """'3 business days' / '24 horas hábiles', from the same row that set the case's expected date."""
    if service_type.sla_hours:
        count, unit = service_type.sla_hours, "hour"
    else:
        count, unit = service_type.sla_days or 0, "day"
    key = f"sla.{unit}" if count == 1 else f"sla.{unit}s"
    return catalog.text(lang, key, count=count)


def _capitalised(text: str) -> str:
    """First letter upper-case, so 'la Policía' can start a sentence."""
    return text[:1].upper() + text[1:]


@handler("submit_case")
def submit_case(services, ctx: Context) -> ActionResult:
    """Commit the case before its number is read; a repeated request returns the same case."""
    answers = ctx.answers
    request = cases.NewCase(
        service_type=answers.get("service_types", ""), description=answers.get("description") or "",
        location=answers.get("location"), contact_name=answers.get("contact_name"),
        contact_phone=answers.get("contact_phone"), language=ctx.lang, channel="phone", call_sid=ctx.call_sid,
        intake_key=answers.get("intake_key"), recording_url=answers.get("recording_url"),
    )
    try:
        case, _created = cases.create_case(services.session, request, services.line.schedule,
                                           actor="phone", now=services.now)
    except cases.CaseError:
        log.exception("case intake failed for call %s", ctx.call_sid)
        return ActionResult("failed")
    answers["case_number"] = case.number
    answers["case_number_spoken"] = casenumbers.spoken(case.number)
    answers["case_department"] = _capitalised(case.department.name(ctx.lang))
    answers["sla_text"] = _sla_text(case.service_type, ctx.lang, services.catalog)
    answers["intake_active"] = False
    return ActionResult("created", call_outcome="case_created")


@handler("condition:sms_enabled")
def sms_enabled(services, ctx: Context) -> bool:
    """True if text messages are configured."""
    return services.line.sms.usable


@handler("send_case_sms")
def send_case_sms(services, ctx: Context) -> ActionResult:
    """Text the case number to the call-back number or the caller ID; a failure never breaks the call."""
    to = ctx.answers.get("contact_phone") or caller_number(ctx)
    if not to or not ctx.answers.get("case_number"):
        return ActionResult("no_number")
    number = casenumbers.grouped(ctx.answers["case_number"])
    body = services.catalog.text(ctx.lang, "sms.case_number", case_number=number,
                                 type_name=ctx.answers.get("type_name", ""))
    sid = sms.send_sms(services.line.sms, to, body)
    if sid is None:
        return ActionResult("failed")
    ctx.answers["sms_number_spoken"] = phone.spoken_number(to)
    return ActionResult("sent")


def _in_intake(answers: dict | None) -> bool:
    """True if the call ended in the middle of a report."""
    return bool((answers or {}).get("intake_active"))


@handler("on_call_end")
def on_call_end(session, call) -> None:
    """A caller who hung up mid-intake leaves no case; the call is marked for staff to follow up."""
    if _in_intake(call.answers):
        calls.mark_abandoned(call)


# The status callback runs the hook (and loads the call for it) only for calls whose answers need it.
on_call_end.needed = _in_intake


# ---- check a case --------------------------------------------------------------------------------

def _case_digits(ctx: Context) -> str:
    """What the caller keyed, or the digits they said; checked by casenumbers.parse."""
    if ctx.digits:
        return ctx.digits
    if ctx.speech:
        return digits_from_speech(normalise(ctx.speech), ctx.lang) or ""
    return ""


@handler("lookup_case")
def lookup_case(services, ctx: Context) -> ActionResult:
    """Read a case's status by number: the check digit rejects a typo before any lookup."""
    number = casenumbers.parse(_case_digits(ctx))
    if number is None:
        return ActionResult("invalid", say=("status.invalid",))
    # A turn's session (ivr.db.LazySession) reads outside its write transaction; a plain Session reads in its own.
    reads = getattr(type(services.session), "reads", None)
    case = cases.case_status(reads(services.session) if reads else services.session, number)
    if case is None:
        return ActionResult("unknown", say=("status.not_found",))
    ctx.answers["status_report"] = status_report(services, case, ctx.lang)
    return ActionResult("found")


def status_report(services, case, lang: str) -> str:
    """What a caller hears about a case: never a name, address or phone number."""
    catalog = services.catalog
    values = {
        "case_number_spoken": casenumbers.spoken(case.number),
        "type_name": case.service_type.name(lang),
        "status_words": catalog.text(lang, f"status.word.{case.status}"),
    }
    if case.status == "closed":
        parts = [_closed_report(services, case, lang, values)]
    else:
        parts = _open_report(services, case, lang, values)
    note = cases.service.note_for_callers(case, lang)
    if note:
        parts.append(catalog.text(lang, "status.note", note=note))
    return " ".join(parts)


def _spoken_day(services, moment, lang: str) -> str:
    """'Thursday, December 3' in Hartford's time."""
    return spoken_date(moment.astimezone(services.line.schedule.timezone), lang)


def _open_report(services, case, lang: str, values: dict) -> list[str]:
    """'Status: received, with Public Works. Last updated …', then when it is expected."""
    parts = [services.catalog.text(lang, "status.report", **values, case_department=case.department.name(lang),
                                   updated_date=_spoken_day(services, case.updated_at, lang))]
    if case.expected_at:
        expected = _spoken_day(services, case.expected_at, lang)
        parts.append(services.catalog.text(lang, "status.expected", expected_date=expected))
    return parts


def _closed_report(services, case, lang: str, values: dict) -> str:
    """'Status: closed. Public Works closed it on Friday, November 27.': no longer 'with' anyone."""
    # A case closed before closed_at was recorded still has its last update as the best date we know.
    closed = _spoken_day(services, case.closed_at or case.updated_at, lang)
    return services.catalog.text(lang, "status.report_closed", **values, closed_date=closed,
                                 case_department=_capitalised(case.department.name(lang)))
